import tempfile
from urllib.parse import quote

from flask import (
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_file,
    stream_with_context,
)
from flask_login import current_user

from ..auth.decorators import current_scope, not_sitting, scoped_org_or_404, sealed_keys, staff_required
from ..extensions import db
from ..models import Assignment, Attempt, Organisation, Subject, utcnow
from ..services.exam import assignments, quizzes, secrecy
from ..services.bank import access as bank_access, subjects
from ..services.bank.places import subject_label
from ..services.reports import exports, items, landing, mastery, completion as reports, trends
from ..services.study import materials
from . import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WEAK_LIST = 30  # weak branches named on the report page; the workbook has them all


def _visible_assignment(assignment_id: int) -> Assignment:
    assignment = db.get_or_404(Assignment, assignment_id)
    if not reports.visible_roots(current_scope(), assignment):
        abort(404)
    return assignment


def _unit(assignment: Assignment, org_id: int) -> Organisation:
    org = db.get_or_404(Organisation, org_id)
    if not reports.unit_in_scope(current_scope(), assignment, org):
        abort(404)
    return org


def _xlsx(write, filename: str) -> Response:
    """Write a workbook into a temporary file and stream it back: memory stays flat for any size."""
    out = tempfile.TemporaryFile()
    write(out)
    out.seek(0)
    response = send_file(out, mimetype=XLSX, as_attachment=True, download_name=filename)
    response.headers["Content-Disposition"] = f"attachment; filename=export.xlsx; filename*=UTF-8''{quote(filename, safe='')}"
    return response


def _csv(lines, filename: str) -> Response:
    response = Response(stream_with_context(lines), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f"attachment; filename=export.csv; filename*=UTF-8''{quote(filename, safe='')}"
    return response


def _tz() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def _named(item: Assignment) -> str:
    """The assignment's title with the subjects it covers, for the first line of an export."""
    covered = mastery.assignment_subjects(item)
    return f"{item.title}（科目：{'、'.join(subject_label(s) for s in covered)}）" if covered else item.title


def _subject_arg() -> Subject | None:
    """The subject chosen with ?subject= (one the viewer sees; any other is 404), or None: every subject."""
    subject_id = request.args.get("subject", type=int)
    if subject_id is None:
        return None
    subject = db.session.get(Subject, subject_id)
    if subject is None or subject not in subjects.visible_subjects(current_scope(), include_retired=True):
        abort(404)
    return subject


def _settled(assignments: list[Assignment], unit: Organisation | None = None) -> None:
    """Close the time-up papers among the members about to be counted (reports.settle)."""
    reports.settle(current_scope(), assignments, current_app.config["ATTEMPT_GRACE_SECONDS"], unit)


@bp.get("/")
@staff_required
def index():
    """List the assignments that reach the viewer's organisations, with overall completion."""
    scope, subject = current_scope(), _subject_arg()
    listed = reports.assignments_in_scope(scope)
    covers = {a.id: mastery.assignment_subjects(a) for a in listed}
    if subject is not None:
        listed = [a for a in listed if subject in covers[a.id]]
    _settled(listed)
    rows = [reports.assignment_report(scope, a) for a in listed]
    # A secretary's task opens on their branch's page, not on the committee-style report.
    return render_template("reports/index.html", reports=rows, scope=scope, units=landing.branch_units(scope, listed),
                           covers=covers, subjects=subjects.visible_subjects(scope), subject=subject)


def _threshold(name: str, default: float) -> float:
    value = request.args.get(name, type=float)
    return default if value is None or not 0 <= value <= 100 else value


@bp.get("/assignments/<int:assignment_id>")
@staff_required
def assignment(assignment_id: int):
    """The weak-branch report: the tree of organisations with completion and mastery, weak branches named."""
    item = _visible_assignment(assignment_id)
    _settled([item])
    scope = current_scope()
    weak = mastery.mastery_report(
        scope, item, _threshold("finished", mastery.FINISHED_THRESHOLD),
        _threshold("mastery", mastery.MASTERY_THRESHOLD), subject_id=request.args.get("subject", type=int),
    )
    focus_id = request.args.get("org", type=int)
    focus = next((r for r in weak.rows if r.org.id == focus_id), weak.rows[0] if weak.rows else None)
    # One level at a time: the focused organisation, its own members ("党委直属") and its children.
    rows = [r for r in weak.rows if focus and (r is focus or r.org.parent_id == focus.org.id
                                               or (r.direct and r.org.id == focus.org.id))]
    flagged = [r for r in weak.weak_units if focus and r.org.path.startswith(focus.org.path)]
    return render_template(
        "reports/assignment.html", mastery=weak, focus=focus, rows=rows, flagged=flagged[:WEAK_LIST],
        more_flagged=max(0, len(flagged) - WEAK_LIST), assignment=item,
        withdrawable=assignments.may_withdraw(scope, item, current_user) and not assignments.started_count(item),
    )


@bp.get("/assignments/<int:assignment_id>/units/<int:org_id>")
@staff_required
def unit(assignment_id: int, org_id: int):
    """A branch's page: counts, who has not finished, every member's score."""
    item = _visible_assignment(assignment_id)
    org = _unit(item, org_id)
    _settled([item], org)
    scope = current_scope()
    rows = reports.member_rows(scope, item, org)
    points = mastery.unit_point_scores(scope, item, org)
    covered = mastery.assignment_subjects(item)
    weakest = [p for p in points if p.rate is not None][:3]
    return render_template(
        "reports/unit.html", assignment=item, org=org, rows=rows, points=points, weakest=weakest, subjects=covered,
        notes=materials.materials_for_points([p.point for p in weakest], org),
        member_weak=reports.missed_points(item.id, [r.user.id for r in rows]),
        reminder=reports.reminder_text(item, org, rows, current_app.config["BABEL_DEFAULT_TIMEZONE"]),
        retry=reports.may_retry(item, rows, utcnow()), may_recheck=scope.covers(org),
        unfinished=[r for r in rows if r.expected and r.finished_at is None],
        exempt=[r for r in rows if not r.expected],
        finished=sum(1 for r in rows if r.expected and r.finished_at),
        passed=sum(1 for r in rows if r.expected and r.passed),
    )


@bp.get("/assignments/<int:assignment_id>/units/<int:org_id>/export.xlsx")
@staff_required
def unit_export(assignment_id: int, org_id: int):
    """Download a branch's scores as Excel."""
    item, org, rows, stamp = _branch_export(assignment_id, org_id, "branch.xlsx")
    return _xlsx(
        lambda out: exports.write_members_workbook(out, f"{_named(item)} — {org.name} 成绩", stamp, rows, _tz()),
        f"{item.title}-{org.name}-成绩.xlsx",
    )


@bp.get("/assignments/<int:assignment_id>/units/<int:org_id>/export.csv")
@staff_required
def unit_csv(assignment_id: int, org_id: int):
    """Download a branch's scores as CSV (UTF-8 with BOM, opens in Excel)."""
    item, org, rows, stamp = _branch_export(assignment_id, org_id, "branch.csv")
    return _csv(exports.csv_lines(f"{_named(item)} — {org.name} 成绩", stamp, rows, _tz()),
                f"{item.title}-{org.name}-成绩.csv")


def _branch_export(assignment_id: int, org_id: int, kind: str):
    """Load and check a branch for export, log the export, and return what the writers need."""
    item = _visible_assignment(assignment_id)
    org = _unit(item, org_id)
    _settled([item], org)
    scope = current_scope()
    exports.log_export(current_user, kind, f"{item.title} / {org.name}")
    stamp = exports.stamp(current_user, utcnow(), _tz())
    return item, org, reports.export_rows(scope, item, org), stamp


@bp.get("/assignments/<int:assignment_id>/export.xlsx")
@staff_required
def assignment_export(assignment_id: int):
    """Download the summary tree, the non-finishers, one sheet per branch and the item analysis.

    The item analysis leaves out every question whose key the viewer may not see yet (on their paper).
    """
    item = _visible_assignment(assignment_id)
    _settled([item])
    scope, now = current_scope(), utcnow()
    weak_report = mastery.mastery_report(scope, item, subject_id=request.args.get("subject", type=int))
    sealed = sealed_keys()
    stats = [s for s in items.item_analysis(scope, item) if s.question.key not in sealed] if item.has_quiz else []
    exports.log_export(current_user, "rollup.xlsx", item.title)
    return _xlsx(
        lambda out: exports.write_rollup_workbook(
            out, weak_report, reports.export_rows(scope, item), mastery.unit_namer(weak_report), stats,
            exports.stamp(current_user, now, _tz()), _tz(),
        ),
        f"{item.title}-各支部成绩.xlsx",
    )


@bp.get("/assignments/<int:assignment_id>/export.csv")
@staff_required
def assignment_csv(assignment_id: int):
    """Download every member the viewer may see as CSV (UTF-8 with BOM)."""
    item = _visible_assignment(assignment_id)
    _settled([item])
    scope, now = current_scope(), utcnow()
    exports.log_export(current_user, "members.csv", item.title)
    lines = exports.csv_lines(f"{_named(item)} — 成绩", exports.stamp(current_user, now, _tz()),
                              reports.export_rows(scope, item), _tz())
    return _csv(lines, f"{item.title}-成绩.csv")


@bp.get("/attempts/<int:attempt_id>")
@staff_required
def attempt(attempt_id: int):
    """A member's finished attempt, question by question, for their secretary.

    Withheld from staff who sit the same exam until their own answers are out; questions of another
    exam that also sit on their paper are withheld one by one.
    """
    item = db.get_or_404(Attempt, attempt_id)
    scoped_org_or_404(item.user.org_id)
    if not item.is_finished:
        abort(404)
    not_sitting(item.assignment)
    return render_template(
        "quiz/review.html", attempt=item, items=quizzes.paper_items(item), show_answers=True,
        assignment=item.assignment, staff_view=True, sealed=sealed_keys(), withheld_note=secrecy.WITHHELD,
    )


@bp.get("/assignments/<int:assignment_id>/items")
@staff_required
def items_page(assignment_id: int):
    """Item analysis: facility, discrimination and option choices per question; suspect keys first.

    Withheld from staff who sit this exam until their own answers are out; a question of this
    assignment that sits on their paper of another exam is withheld on its own.
    """
    item = not_sitting(_visible_assignment(assignment_id))
    return render_template(
        "reports/items.html", assignment=item, stats=items.item_analysis(current_scope(), item),
        subjects=mastery.assignment_subjects(item),
        can_fix=lambda q: bank_access.can_edit(current_scope(), q), shown_key=items.shown_key,
        sealed=sealed_keys(), withheld_note=secrecy.WITHHELD,
    )


@bp.get("/trends")
@staff_required
def trends_page():
    """First-try correctness month by month: per branch, or per knowledge point for one branch; over every
    subject, or one chosen."""
    scope, now = current_scope(), utcnow()
    unit_id = request.args.get("unit", type=int)
    unit = scoped_org_or_404(unit_id) if unit_id is not None else None
    subject = _subject_arg()
    sid = subject.id if subject is not None else None
    tz = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    trend = trends.point_trend(scope, unit, now, tz, subject_id=sid) if unit else trends.branch_trend(scope, now, tz, subject_id=sid)
    return render_template("reports/trends.html", trend=trend, unit=unit, subjects=subjects.visible_subjects(scope),
                           subject=subject)
