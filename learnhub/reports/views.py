from urllib.parse import quote

from flask import Response, abort, current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_login import current_user

from ..auth.decorators import current_scope, scoped_org_or_404, staff_required
from ..extensions import db
from ..models import Assignment, Attempt, ExemptionReason, Organisation, User, utcnow
from ..services import ServiceError, exemptions, exports, quizzes, reports
from . import bp
from .forms import ExemptForm, ProxyForm

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
        unfinished=[r for r in rows if r.expected and r.finished_at is None],
        exempt=[r for r in rows if not r.expected],
        finished=sum(1 for r in rows if r.expected and r.finished_at),
        passed=sum(1 for r in rows if r.expected and r.passed),
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


def _member(assignment: Assignment, user_id: int) -> User:
    member = db.get_or_404(User, user_id)
    if not current_scope().covers(member.org) or not reports.unit_in_scope(current_scope(), assignment, member.org):
        abort(404)
    return member


@bp.get("/assignments/<int:assignment_id>/members/<int:user_id>")
@staff_required
def member(assignment_id: int, user_id: int):
    """One member on one assignment: attempts, exemption record, and the 免学 / 代录 forms."""
    item = _visible_assignment(assignment_id)
    person = _member(item, user_id)
    return render_template(
        "reports/member.html", assignment=item, member=person, attempts=quizzes.attempts_of(item, person),
        exemption=exemptions.active_exemption(item, person), history=exemptions.history(item, person),
        exempt_form=ExemptForm(), proxy_form=ProxyForm(), form=FlaskForm(),
    )


@bp.post("/assignments/<int:assignment_id>/members/<int:user_id>/exempt")
@staff_required
def member_exempt(assignment_id: int, user_id: int):
    """Excuse a member (免学) with a reason; the branch's rates leave them out."""
    item = _visible_assignment(assignment_id)
    person = _member(item, user_id)
    form = ExemptForm()
    if form.validate_on_submit():
        _run(lambda: exemptions.exempt(item, person, ExemptionReason(form.reason.data), form.note.data or "", current_user),
             f"已将 {person.name} 设为免学")
    return redirect(url_for("reports.member", assignment_id=item.id, user_id=person.id))


@bp.post("/assignments/<int:assignment_id>/members/<int:user_id>/revoke")
@staff_required
def member_revoke(assignment_id: int, user_id: int):
    """Withdraw a member's exemption (the record is kept)."""
    item = _visible_assignment(assignment_id)
    person = _member(item, user_id)
    if FlaskForm().validate_on_submit():
        _run(lambda: exemptions.revoke(item, person, current_user), f"已撤销 {person.name} 的免学")
    return redirect(url_for("reports.member", assignment_id=item.id, user_id=person.id))


@bp.post("/assignments/<int:assignment_id>/members/<int:user_id>/proxy")
@staff_required
def member_proxy(assignment_id: int, user_id: int):
    """代录: record a paper exam's score for a member without a phone."""
    item = _visible_assignment(assignment_id)
    person = _member(item, user_id)
    form = ProxyForm()
    if form.validate_on_submit():
        _run(lambda: exemptions.record_paper_result(item, person, float(form.score.data), form.note.data, current_user),
             f"已为 {person.name} 代录成绩")
    else:
        for errors in form.errors.values():
            flash("；".join(errors), "error")
    return redirect(url_for("reports.member", assignment_id=item.id, user_id=person.id))


def _run(action, done: str) -> None:
    try:
        action()
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash(done, "success")


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
