"""Flask commands: `flask --app learnhub <group> <command>`; each wraps a service."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from .extensions import db, enable_wal
from .models import Assignment, ExportLog, MemberCategory, Organisation, OrgKind, Role, User, utcnow
from .services import (
    ServiceError,
    accounts,
    bank_formats,
    demo,
    exports,
    items,
    mastery,
    materials,
    members,
    previews,
    question_bank,
    quizzes,
    reports,
    tallies,
    uploads,
)
from .services.accounts import HashSettings, MemberData
from .services.bank_files import bank_stats, load_bank
from .services.orgs import Scope, create_org, grant

questions_cli = AppGroup("questions", help="Check, count and load the question bank.")
report_cli = AppGroup("report", help="Reports for scheduled runs.")
members_cli = AppGroup("members", help="Manage members.")
attempts_cli = AppGroup("attempts", help="Maintain quiz attempts.")
orgs_cli = AppGroup("orgs", help="Manage the organisation tree.")
users_cli = AppGroup("users", help="Manage accounts and grants.")
uploads_cli = AppGroup("uploads", help="Maintain uploaded files.")


def _settings() -> HashSettings:
    return HashSettings.from_config(current_app.config)


def _bank_path(path: Path | None) -> Path:
    return path or Path(current_app.config["QUESTIONS_DIR"])


@questions_cli.command("check")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
def questions_check(path: Path | None) -> None:
    """Validate the bank files; exit non-zero naming file, question id and problem."""
    bank = load_bank(_bank_path(path))
    for problem in bank.problems:
        click.echo(str(problem), err=True)
    if bank.problems:
        raise click.ClickException(f"{len(bank.problems)} problem(s) in the question bank")
    click.echo(f"OK: {len(bank.questions)} questions, {len(bank.points)} knowledge points")


@questions_cli.command("stats")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def questions_stats(path: Path | None, as_json: bool) -> None:
    """Count questions by type, article, difficulty and knowledge point."""
    stats = bank_stats(load_bank(_bank_path(path)))
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False, indent=2))
        return
    click.echo(f"total: {stats['total']}  knowledge points: {stats['points']}")
    for key in ("by_type", "by_difficulty"):
        click.echo(f"{key}: " + ", ".join(f"{k}={v}" for k, v in stats[key].items()))


@questions_cli.command("import")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--point", help="Knowledge point for every question of an Aiken (.txt) file.")
def questions_import(path: Path | None, point: str | None) -> None:
    """Load questions: the bank's YAML files (and then the study notes), or an .xlsx / .gift / Aiken .txt file.

    Idempotent by id: new questions are added, changed ones revised; all or nothing.
    """
    path = _bank_path(path)
    if path.is_dir() or path.suffix in (".yaml", ".yml"):
        bank = load_bank(path)
    else:
        bank = bank_formats.parse_file(path.name, path.read_bytes(), question_bank.db_points(), point)
    try:
        result = question_bank.import_bank(bank)
    except question_bank.BankError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{result.created} created, {result.revised} revised, {result.updated} updated, {result.unchanged} unchanged"
    )
    if path.is_dir():
        count = materials.import_notes(Path(current_app.config["NOTES_DIR"]))
        click.echo(f"{count} study notes loaded")


@questions_cli.command("owner")
@click.argument("keys", nargs=-1)
@click.option("--org", "org_code", help="Code of the organisation whose bank they join.")
@click.option("--builtin", is_flag=True, help="Make them built-in again (only admins edit them).")
@click.option("--source", help="Also every question first imported from a file of this name.")
def questions_owner(keys: tuple[str, ...], org_code: str | None, builtin: bool, source: str | None) -> None:
    """Hand questions (all their revisions) to an organisation's bank, or back to the built-in bank.

    After upgrading, every question is built-in: nothing recorded who imported which file. Give an
    organiser's questions to their committee: `flask questions owner --org CODE --source 题库.xlsx`.
    """
    if builtin == bool(org_code):
        raise click.UsageError("give either --org CODE or --builtin")
    org = db.session.scalar(select(Organisation).where(Organisation.code == org_code)) if org_code else None
    if org_code and org is None:
        raise click.ClickException(f"no organisation with code {org_code}")
    wanted = [*keys, *(question_bank.keys_from(source) if source else [])]
    if not wanted:
        raise click.UsageError("name question ids, or --source FILE")
    found = question_bank.set_owner(wanted, org.id if org else None)
    click.echo(f"{found} question(s) now belong to {org.name if org else 'the built-in bank'}"
               + (f"; {len(set(wanted)) - found} id(s) not found" if found < len(set(wanted)) else ""))


@questions_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "gift", "aiken"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--include-retired", is_flag=True, help="Also export retired questions.")
def questions_export(fmt: str, output: Path, include_retired: bool) -> None:
    """Export the current questions as the Excel template, Moodle GIFT or Aiken."""
    questions = [question_bank.to_bank_question(q) for q in question_bank.current_questions(include_retired)]
    if fmt == "xlsx":
        output.write_bytes(bank_formats.export_excel(questions))
        skipped = 0
    elif fmt == "gift":
        text = bank_formats.export_gift(questions)
        output.write_text(text, encoding="utf-8")
        skipped = sum(1 for q in questions if q.kind == "fill" and len(q.answer) > 1)
    else:
        text, skipped = bank_formats.export_aiken(questions)
        output.write_text(text, encoding="utf-8")
    click.echo(f"{len(questions) - skipped} questions written to {output}" + (f" ({skipped} the format cannot carry)" if skipped else ""))


@members_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_code", required=True, help="Code of the organisation the members belong under.")
@click.option("--password", prompt=True, hide_input=True, help="First password; members must change it.")
def members_import(file: Path, org_code: str, password: str) -> None:
    """Import members (姓名, 党员编号, 手机号, 所在支部, 党员类别) into an organisation's subtree, all or none."""
    org = db.session.scalar(select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise click.ClickException(f"no organisation with code {org_code}")
    scope = Scope(user=None, roots=[org])
    try:
        rows = uploads.read_table(file.name, file.read_bytes())
        created = members.import_members(scope, rows, password, _settings())
    except members.ImportRejected as exc:
        for error in exc.errors:
            click.echo(error, err=True)
        raise click.ClickException(str(exc)) from None
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(created)} members imported")


@attempts_cli.command("close-overdue")
def attempts_close_overdue() -> None:
    """Grade every attempt whose time ran out, with the answers it has (run from cron)."""
    closed = quizzes.close_overdue(current_app.config["ATTEMPT_GRACE_SECONDS"])
    click.echo(f"{closed} overdue attempts closed")


@uploads_cli.command("sweep")
def uploads_sweep() -> None:
    """Delete bank-import previews nobody confirmed within IMPORT_PREVIEW_MINUTES (run from cron)."""
    click.echo(f"{_sweep_previews()} expired import previews deleted")


def _sweep_previews() -> int:
    ttl = timedelta(minutes=current_app.config["IMPORT_PREVIEW_MINUTES"])
    return previews.sweep(previews.folder_in(current_app.instance_path), ttl)


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
    user = db.session.scalar(select(User).where(User.member_no == member_no))
    org = db.session.scalar(select(Organisation).where(Organisation.code == org_code))
    if user is None or org is None:
        raise click.ClickException("unknown member number or organisation code")
    grant(user, org, Role(role))
    db.session.commit()
    click.echo(f"{member_no} is now {role} of {org.name}")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Build the demo organisation (idempotent) and print its logins."""
    try:
        built = demo.seed_demo(_settings())
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("demo organisation built" if built else "demo organisation already present")
    _print_logins()


def _print_logins() -> None:
    logins = demo.demo_logins()
    if logins:
        click.echo(f"Demo logins (password: {demo.DEMO_PASSWORD}):")
        for login in logins:
            click.echo(f"  {login.login:<8} {login.role}（{login.name}）")


@click.command("bootstrap")
@click.option("--demo/--no-demo", "with_demo", default=True, help="Also build the demo organisation.")
@with_appcontext
def bootstrap(with_demo: bool) -> None:
    """After `flask db upgrade`: WAL for SQLite, load the bank and notes if empty, build the demo."""
    enable_wal(db.engine)
    _sweep_previews()
    try:
        if question_bank.bank_is_empty():
            result = question_bank.import_dir(Path(current_app.config["QUESTIONS_DIR"]))
            click.echo(f"question bank loaded: {result.created} questions")
            click.echo(f"{materials.import_notes(Path(current_app.config['NOTES_DIR']))} study notes loaded")
        if with_demo:
            demo.seed_demo(_settings())
            _print_logins()
    except question_bank.BankError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(str(exc)) from None
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None


@report_cli.command("tallies")
@click.option("--assignment", "assignment_id", type=int, help="Only this assignment (default: every assignment).")
@click.option("--rebuild", is_flag=True, help="Recount them from the responses (after editing the database by hand).")
def report_tallies(assignment_id: int | None, rebuild: bool) -> None:
    """Check the first-try tallies behind the weak-branch report against a recount, or rebuild them."""
    ids = [assignment_id] if assignment_id else list(db.session.scalars(select(Assignment.id).order_by(Assignment.id)))
    if rebuild:
        for aid in ids:
            tallies.rebuild(aid)
        db.session.commit()
        click.echo(f"tallies rebuilt for {len(ids)} assignment(s)")
        return
    drifted = tallies.drift_report(ids)
    for aid, keys in drifted.items():
        click.echo(f"assignment {aid}: {len(keys)} tally row(s) differ from a recount", err=True)
    if drifted:
        raise click.ClickException("tallies drifted: run `flask report tallies --rebuild`")
    click.echo(f"tallies match a recount for {len(ids)} assignment(s)")


@report_cli.command("weak")
@click.option("--org", "org_code", required=True, help="Code of the organisation whose subtree to report on.")
@click.option("--assignment", "assignment_id", type=int, help="Assignment id (default: the latest reaching the organisation).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def report_weak(org_code: str, assignment_id: int | None, output: Path) -> None:
    """Write the weak-branch workbook (summary tree, non-finishers, a sheet per branch, item analysis)."""
    org = db.session.scalar(select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise click.ClickException(f"no organisation with code {org_code}")
    scope = Scope(user=None, roots=[org])
    candidates = reports.assignments_in_scope(scope)
    assignment = next((a for a in candidates if a.id == assignment_id), None) if assignment_id else (candidates or [None])[0]
    if assignment is None:
        raise click.ClickException("no such assignment reaches this organisation")
    tz = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    weak_report = mastery.mastery_report(scope, assignment)
    stats = items.item_analysis(scope, assignment) if assignment.has_quiz else []
    stamp = f"导出：flask report weak --org {org_code}  导出时间：{utcnow().astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}"
    with output.open("wb") as out:
        count = exports.write_rollup_workbook(
            out, weak_report, reports.export_rows(scope, assignment), mastery.unit_namer(weak_report), stats, stamp, tz,
        )
    db.session.add(ExportLog(user_id=None, kind="cli.report-weak", detail=f"{assignment.title} / {org.name}", rows=count))
    db.session.commit()
    flagged = weak_report.weak_units
    click.echo(f"{output}: {count} members, {len(flagged)} branches flagged")
    for row in flagged:
        points = "、".join(f"{p.point.name} {p.rate:g}%" for p in row.weak_points)
        click.echo(f"  {row.org.name}: 完成率 {row.counts.finished_rate}% {points}")


def init_app(app: Flask) -> None:
    for command in (questions_cli, members_cli, attempts_cli, orgs_cli, users_cli, uploads_cli, report_cli, seed_demo,
                    bootstrap):
        app.cli.add_command(command)
