from urllib.parse import quote

from flask import Response, abort, current_app, render_template
from flask_login import current_user

from ..auth.decorators import current_scope, scoped_org_or_404, staff_required
from ..extensions import db
from ..models import Assignment, Attempt, Organisation, utcnow
from ..services import exports, quizzes, reports
from . import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def _download(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype=XLSX)
    response.headers["Content-Disposition"] = f"attachment; filename=export.xlsx; filename*=UTF-8''{quote(filename, safe='')}"
    return response


@bp.get("/")
@staff_required
def index():
    """List the assignments that reach the viewer's organisations, with overall completion."""
    scope = current_scope()
    rows = [reports.assignment_report(scope, a) for a in reports.assignments_in_scope(scope)]
    return render_template("reports/index.html", reports=rows, scope=scope)


@bp.get("/assignments/<int:assignment_id>")
@staff_required
def assignment(assignment_id: int):
    """One row per branch the viewer may see: assigned, finished, passed, average."""
    item = _visible_assignment(assignment_id)
    report = reports.assignment_report(current_scope(), item)
    return render_template("reports/assignment.html", report=report, assignment=item)


@bp.get("/assignments/<int:assignment_id>/units/<int:org_id>")
@staff_required
def unit(assignment_id: int, org_id: int):
    """A branch's page: counts, who has not finished, every member's score."""
    item = _visible_assignment(assignment_id)
    org = _unit(item, org_id)
    rows = reports.member_rows(current_scope(), item, org)
    return render_template(
        "reports/unit.html", assignment=item, org=org, rows=rows,
        unfinished=[r for r in rows if r.finished_at is None],
        finished=sum(1 for r in rows if r.finished_at), passed=sum(1 for r in rows if r.passed),
    )


@bp.get("/assignments/<int:assignment_id>/units/<int:org_id>/export.xlsx")
@staff_required
def unit_export(assignment_id: int, org_id: int):
    """Download a branch's scores as Excel."""
    item = _visible_assignment(assignment_id)
    org = _unit(item, org_id)
    rows = reports.member_rows(current_scope(), item, org)
    data = exports.branch_workbook(item, org.name, rows, current_user, utcnow(), current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return _download(data, f"{item.title}-{org.name}-成绩.xlsx")


@bp.get("/assignments/<int:assignment_id>/export.xlsx")
@staff_required
def assignment_export(assignment_id: int):
    """Download a summary sheet plus one sheet per branch the viewer may see."""
    item = _visible_assignment(assignment_id)
    scope = current_scope()
    report = reports.assignment_report(scope, item)
    members = {u.org.id: reports.member_rows(scope, item, u.org) for u in report.units}
    data = exports.rollup_workbook(report, members, current_user, utcnow(), current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return _download(data, f"{item.title}-各支部成绩.xlsx")


@bp.get("/attempts/<int:attempt_id>")
@staff_required
def attempt(attempt_id: int):
    """A member's finished attempt, question by question, for their secretary."""
    item = db.get_or_404(Attempt, attempt_id)
    scoped_org_or_404(item.user.org_id)
    if not item.is_finished:
        abort(404)
    return render_template(
        "quiz/review.html", attempt=item, items=quizzes.paper_items(item), show_answers=True,
        assignment=item.assignment, staff_view=True,
    )
