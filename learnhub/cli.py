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

from .cli_orgs import members_cli, orgs_cli, users_cli
from .extensions import db, enable_wal
from .models import Assignment, ExportLog, Organisation, utcnow
from .services import ServiceError, demo, demo_subject
from .services.bank import formats as bank_formats, importing as bank_import, question_bank
from .services.reports import exports, items, mastery, completion as reports, tallies
from .services.study import materials
from .services.sheets import previews
from .services.exam import quizzes
from .services.auth.accounts import HashSettings
from .services.bank.files import bank_stats, load_bank
from .services.orgs import Scope
from .services.study.attachments import Limits
from .study.files import attachments_dir as attachments_folder

questions_cli = AppGroup("questions", help="Check, count and load the question bank.")
report_cli = AppGroup("report", help="Reports for scheduled runs.")
attempts_cli = AppGroup("attempts", help="Maintain quiz attempts.")
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
@click.option("--point", help="Knowledge point of the questions that name none (default: one named after the file).")
@click.option("--part", help="The part new knowledge points go under (default: a part named after the file).")
@click.option("--org", "org_code", help="Code of the organisation whose bank the file fills (default: built-in).")
@click.option("--skip-invalid", is_flag=True, help="Import the valid questions and list the bad rows left out.")
def questions_import(path: Path | None, point: str | None, part: str | None, org_code: str | None,
                     skip_invalid: bool) -> None:
    """Load questions: the bank's YAML files (and then the study notes), or a question file: a spreadsheet
    (.xlsx .xls .ods .csv), Moodle .gift or Aiken .txt.

    Idempotent: questions already in the bank (same id, GIFT title, or stem and options) are revised or
    left alone; knowledge points the file names that do not exist are created. All or nothing, unless
    --skip-invalid.
    """
    path = _bank_path(path)
    if path.is_dir() or path.suffix in (".yaml", ".yml"):
        _import_bank_files(path)
        return
    owner = _org(org_code) if org_code else None
    part_id = next((p.id for p in bank_import.usable_parts(owner) if p.name == part), None) if part else None
    options = bank_import.Options(part_id=part_id, part_name=part or "", point=point or "", skip_invalid=skip_invalid)
    plan = bank_import.plan_import(path.name, path.read_bytes(), owner, options)
    for problem in plan.skipped + plan.left_out:
        click.echo(f"skipped: {problem.source}: {problem.message}", err=True)
    try:
        result = bank_import.apply_plan(plan)
    except question_bank.BankError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{result.created} created, {result.revised} revised, {result.updated} updated, {result.unchanged} unchanged"
    )
    if plan.new_points:
        click.echo(f"{len(plan.new_points)} knowledge point(s) created under {plan.part.name}: "
                   + "、".join(new.name for new, _ in plan.new_points))


def _import_bank_files(path: Path) -> None:
    """Import the built-in bank's YAML files, then the study notes when `path` is the bank's folder."""
    try:
        result = question_bank.import_bank(load_bank(path))
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


def _org(code: str) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise click.ClickException(f"no organisation with code {code}")
    return org


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


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Build the demo organisation (idempotent) and print its logins."""
    try:
        built = demo.seed_demo(_settings())
        _seed_demo_subject()
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("demo organisation built" if built else "demo organisation already present")
    _print_logins()


def _seed_demo_subject() -> None:
    """The demo's own subject, material and read-then-quiz task (added to a demo built before subjects)."""
    if demo_subject.seed_demo_subject(attachments_folder(), Limits.from_config(current_app.config)):
        click.echo("demo subject added: 学习平台使用指南（示例科目）")


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
            _seed_demo_subject()
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
