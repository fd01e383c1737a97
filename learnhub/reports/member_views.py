"""One member on one assignment, for their secretary: attempts, 免学 (exemption) and 代录 (a paper result).

A form refused keeps what was typed and shows why beside the field it is about (services.FieldError);
the page is shown again rather than redirected, so nothing typed is lost.
"""

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from ..auth.decorators import current_scope, staff_required
from ..extensions import db
from ..models import Assignment, ExemptionReason, User
from ..services import FieldError, ServiceError
from ..services.exam import exemptions, quizzes
from ..services.reports import completion as reports
from . import bp
from .forms import ExemptForm, ProxyForm
from .views import _visible_assignment


def _member(assignment: Assignment, user_id: int) -> User:
    member = db.get_or_404(User, user_id)
    if not current_scope().covers(member.org) or not reports.unit_in_scope(current_scope(), assignment, member.org):
        abort(404)
    return member


def _page(item: Assignment, person: User, exempt_form: ExemptForm | None = None, proxy_form: ProxyForm | None = None):
    """The member's page; a form given is shown as it was posted, with its errors; the other one empty."""
    quizzes.close_if_overdue_for(item, person, current_app.config["ATTEMPT_GRACE_SECONDS"])
    return render_template(
        "reports/member.html", assignment=item, member=person, attempts=quizzes.attempts_of(item, person),
        exemption=exemptions.active_exemption(item, person), history=exemptions.history(item, person),
        exempt_form=exempt_form or ExemptForm(formdata=None), proxy_form=proxy_form or ProxyForm(formdata=None),
        form=FlaskForm(),
    )


def _refused(form: FlaskForm, exc: ServiceError) -> None:
    """Put a service's refusal beside the field it names, or above the form's button."""
    field = getattr(form, exc.field, None) if isinstance(exc, FieldError) else None
    if field is not None:
        field.errors.append(str(exc))
    else:
        form.form_errors.append(str(exc))


@bp.get("/assignments/<int:assignment_id>/members/<int:user_id>")
@staff_required
def member(assignment_id: int, user_id: int):
    """One member on one assignment: attempts, exemption record, and the 免学 / 代录 forms."""
    item = _visible_assignment(assignment_id)
    return _page(item, _member(item, user_id))


@bp.post("/assignments/<int:assignment_id>/members/<int:user_id>/exempt")
@staff_required
def member_exempt(assignment_id: int, user_id: int):
    """Excuse a member (免学) with a reason; the branch's rates leave them out."""
    item = _visible_assignment(assignment_id)
    person = _member(item, user_id)
    form = ExemptForm()
    if form.validate_on_submit():
        try:
            exemptions.exempt(item, person, ExemptionReason(form.reason.data), form.note.data or "", current_user)
        except ServiceError as exc:
            _refused(form, exc)
        else:
            flash(f"已将 {person.name} 设为免学", "success")
            return redirect(url_for("reports.member", assignment_id=item.id, user_id=person.id))
    return _page(item, person, exempt_form=form)


@bp.post("/assignments/<int:assignment_id>/members/<int:user_id>/revoke")
@staff_required
def member_revoke(assignment_id: int, user_id: int):
    """Withdraw a member's exemption (the record is kept)."""
    item = _visible_assignment(assignment_id)
    person = _member(item, user_id)
    if FlaskForm().validate_on_submit():
        try:
            exemptions.revoke(item, person, current_user)
        except ServiceError as exc:
            flash(str(exc), "error")
        else:
            flash(f"已撤销 {person.name} 的免学", "success")
    return redirect(url_for("reports.member", assignment_id=item.id, user_id=person.id))


@bp.post("/assignments/<int:assignment_id>/members/<int:user_id>/proxy")
@staff_required
def member_proxy(assignment_id: int, user_id: int):
    """代录: record a paper exam's score for a member without a phone."""
    item = _visible_assignment(assignment_id)
    person = _member(item, user_id)
    form = ProxyForm()
    if form.validate_on_submit():
        try:
            exemptions.record_paper_result(item, person, form.score.data, form.note.data, current_user)
        except ServiceError as exc:
            _refused(form, exc)
        else:
            flash(f"已为 {person.name} 代录成绩", "success")
            return redirect(url_for("reports.member", assignment_id=item.id, user_id=person.id))
    return _page(item, person, proxy_form=form)
