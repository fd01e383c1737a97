"""Flask commands for organisations, members and grants: `flask --app learnhub orgs|members|users ...`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from .extensions import db
from .models import MemberCategory, Organisation, OrgKind, Role, User
from .services import ServiceError
from .services.auth import accounts
from .services.orgs import members
from .services.auth.accounts import HashSettings, MemberData
from .services.sheets.import_errors import ImportRejected
from .services.orgs import Scope, create_org, grant
from .services.orgs import importing as org_import
from .services.orgs import storing as org_storing

members_cli = AppGroup("members", help="Manage members.")
orgs_cli = AppGroup("orgs", help="Manage the organisation tree.")
users_cli = AppGroup("users", help="Manage accounts and grants.")


def _settings() -> HashSettings:
    return HashSettings.from_config(current_app.config)


@members_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_code", required=True, help="Code of the organisation the members belong under.")
@click.option("--new-branches", "branches_code", help="Create branches the file names but the tree lacks under this organisation (code).")
@click.option("--password", prompt=True, hide_input=True, help="First password; members must change it.")
def members_import(file: Path, org_code: str, branches_code: str | None, password: str) -> None:
    """Import members (姓名, 党员编号, 所在支部; 手机号, 党员类别) into an organisation's subtree, all or none.

    .xlsx, .xls, .ods or .csv; up to 200,000 rows.
    """
    org = _org(org_code)
    parent = _org(branches_code) if branches_code else None
    scope = Scope(user=None, roots=[org], acts_as_organiser=True)
    try:
        rows = members.read_file(file.name, file.read_bytes(), max_rows=members.CLI_MAX_ROWS, budget=members.CLI_BUDGET)
        result = members.apply(scope, rows, password, _settings(), parent)
    except ImportRejected as exc:
        for error in exc.errors:
            click.echo(error, err=True)
        raise click.ClickException(str(exc)) from None
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{result.members} members imported" + (f", {result.branches} branches created" if result.branches else ""))


def _org(code: str) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise click.ClickException(f"no organisation with code {code}")
    return org


@orgs_cli.command("add")
@click.argument("name")
@click.option("--code", required=True, help="Short unique code, used by other commands.")
@click.option("--kind", type=click.Choice([k.value for k in OrgKind]), required=True)
@click.option("--parent", "parent_code", help="Code of the parent organisation (none for a top 党委).")
def orgs_add(name: str, code: str, kind: str, parent_code: str | None) -> None:
    """Add an organisation to the tree."""
    parent = None
    if parent_code:
        parent = db.session.scalar(select(Organisation).where(Organisation.code == parent_code))
        if parent is None:
            raise click.ClickException(f"no organisation with code {parent_code}")
    if db.session.scalar(select(Organisation).where(Organisation.code == code)) is not None:
        raise click.ClickException(f"code {code} is taken")
    create_org(name, OrgKind(kind), parent, code)
    db.session.commit()
    click.echo(f"added {name} ({code})")


@orgs_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and say what would change; store nothing.")
def orgs_import(file: Path, dry_run: bool) -> None:
    """Build or update the organisation tree from a spreadsheet (组织名称, 组织编码, 组织类型, 上级组织, 书记, 组织员).

    All or nothing: every bad row is named and nothing is stored. Importing the same file again changes nothing.
    """
    scope = Scope(user=None, is_admin=True)
    try:
        records = org_import.read_file(file.name, file.read_bytes())
        if dry_run:
            plan = org_import.plan(scope, records)
            click.echo(f"would create {plan.count('new')}, update {plan.count('changed')}, leave "
                       f"{plan.count('unchanged')} unchanged, add {plan.grant_count} grants")
            for row in plan.rows:
                if row.status != "unchanged":
                    click.echo(f"  {'  ' * row.depth}{row.name} ({row.status})" + "".join(f"; {c}" for c in row.changes))
            return
        result = org_storing.apply(scope, records)
    except ImportRejected as exc:
        for error in exc.errors:
            click.echo(error, err=True)
        raise click.ClickException(str(exc)) from None
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged, {result.grants} grants added")


@users_cli.command("create-admin")
@click.argument("member_no")
@click.option("--name", required=True)
@click.option("--org", "org_code", required=True, help="Code of the organisation the admin belongs to.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_create_admin(member_no: str, name: str, org_code: str, password: str) -> None:
    """Create a system administrator (the first account of a new installation)."""
    org = db.session.scalar(select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise click.ClickException(f"no organisation with code {org_code}")
    try:
        user = accounts.create_member(  # checks the password as for every member
            _settings(), MemberData(name, member_no, None, org, MemberCategory.FULL), password, commit=False
        )
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    user.is_admin, user.must_change_password = True, False
    db.session.commit()
    click.echo(f"admin {member_no} created")


@users_cli.command("grant")
@click.argument("member_no")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.argument("org_code")
def users_grant(member_no: str, role: str, org_code: str) -> None:
    """Make a member secretary or organiser of an organisation's subtree."""
    user = db.session.scalar(select(User).where(func.upper(User.member_no) == member_no.upper()))
    org = db.session.scalar(select(Organisation).where(Organisation.code == org_code))
    if user is None or org is None:
        raise click.ClickException("unknown member number or organisation code")
    grant(user, org, Role(role))
    db.session.commit()
    click.echo(f"{member_no} is now {role} of {org.name}")
