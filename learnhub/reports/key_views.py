"""Correcting a wrong answer key: preview what the regrade changes, confirm with a reason, revert later."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from ..auth.decorators import current_scope, editable_question_or_403, staff_required, unsealed
from ..extensions import db
from ..models import Assignment, KeyCorrection, Question
from ..services import FieldError, ServiceError
from ..services.exam import key_corrections
from ..services.reports import completion as reports
from . import bp


def _organisers_only() -> None:
    if not current_scope().is_organiser:
        abort(403)


def _back(question: Question, assignment_id: int | None):
    """Where to go after a correction: the item analysis it came from (if the viewer sees it), else the question."""
    assignment = db.session.get(Assignment, assignment_id) if assignment_id else None
    if assignment is not None and reports.visible_roots(current_scope(), assignment):
        return url_for("reports.items_page", assignment_id=assignment.id)
    return url_for("admin.bank_edit", question_id=question.id)


def _errors(exc: ServiceError) -> dict[str, str]:
    """A refusal by the field it stands beside: "answer", "reason", or "" (above the form's button)."""
    return {exc.field if isinstance(exc, FieldError) else "": str(exc)}


def _page(question: Question, answer: str, back: int | None, reason: str = "", errors: dict | None = None,
          plan=None, revert: KeyCorrection | None = None):
    return render_template(
        "reports/fix_key.html", question=question, answer=answer, plan=plan, errors=errors or {}, form=FlaskForm(),
        back=back, shown=key_corrections.shown, revert=revert, reason=reason,
    )


def _planned(question: Question, answer: str) -> tuple[object, dict]:
    """The preview of correcting to `answer`, or the reason there is none."""
    try:
        return key_corrections.plan_correction(question, answer), {}
    except ServiceError as exc:
        return None, _errors(exc)


@bp.get("/questions/<int:question_id>/fix-key")
@staff_required
def fix_key(question_id: int):
    """Show what correcting the key to `answer` would change: papers, members, organisations, passes.

    An answer sent empty (the form of this page or of the item analysis) is said beside the field."""
    _organisers_only()
    question = editable_question_or_403(question_id)
    unsealed(question.key)  # not on a question of a paper the organiser sits
    answer, plan, errors = request.args.get("answer", "").strip()[:300], None, {}
    if "answer" in request.args:
        plan, errors = _planned(question, answer)
    return _page(question, answer, request.args.get("back", type=int), plan=plan, errors=errors)


@bp.post("/questions/<int:question_id>/fix-key")
@staff_required
def fix_key_confirm(question_id: int):
    """Correct the key, regrade every paper and practice answer on this revision, and log who did it and why.

    Refused (no reason, or the key changed meanwhile), the preview is shown again with what was typed
    and the reason for the refusal beside its field."""
    _organisers_only()
    question = editable_question_or_403(question_id)
    unsealed(question.key)
    answer, back = request.form.get("answer", "").strip()[:300], request.form.get("back", type=int)
    reason = request.form.get("reason", "")[:key_corrections.REASON_MAX]
    if not FlaskForm().validate_on_submit():
        return redirect(url_for("reports.fix_key", question_id=question.id, answer=answer, back=back))
    try:
        fixed = key_corrections.correct_key(question, answer, reason, current_user)
    except ServiceError as exc:
        plan, errors = _planned(question, answer)
        return _page(question, answer, back, reason, errors or _errors(exc), plan=plan)
    flash(f"已改正答案，重新评分 {fixed.attempts_regraded} 份试卷，{fixed.scores_changed} 份分数改变", "success")
    return redirect(_back(question, back))


def _correction(correction_id: int) -> KeyCorrection:
    """A correction of a question the viewer may change (404 / 403 as for the question)."""
    _organisers_only()
    correction = db.get_or_404(KeyCorrection, correction_id)
    unsealed(editable_question_or_403(correction.question_id).key)
    return correction


def _revert_plan(correction: KeyCorrection) -> tuple[object, dict]:
    try:
        return key_corrections.revert_plan(correction), {}
    except ServiceError as exc:
        return None, _errors(exc)


@bp.get("/key-corrections/<int:correction_id>/revert")
@staff_required
def key_revert(correction_id: int):
    """Show what reverting a key correction would change, and ask why."""
    correction = _correction(correction_id)
    plan, errors = _revert_plan(correction)
    return _page(correction.question, "", None, errors=errors, plan=plan, revert=correction)


@bp.post("/key-corrections/<int:correction_id>/revert")
@staff_required
def key_revert_confirm(correction_id: int):
    """Put the old key back, regrade again, and log the revert."""
    correction = _correction(correction_id)
    if FlaskForm().validate_on_submit():
        reason = request.form.get("reason", "")[:key_corrections.REASON_MAX]
        try:
            undone = key_corrections.revert(correction, reason, current_user)
        except ServiceError as exc:
            plan, errors = _revert_plan(correction)
            return _page(correction.question, "", None, reason, errors or _errors(exc), plan=plan, revert=correction)
        flash(f"已撤销改正，恢复原答案，重新评分 {undone.attempts_regraded} 份试卷", "success")
    return redirect(url_for("admin.bank_edit", question_id=correction.question_id))


@bp.post("/key-corrections/<int:correction_id>/resume")
@staff_required
def key_resume(correction_id: int):
    """Finish a regrade cut short (a crash or a restart during a correction) from where it got to."""
    correction = _correction(correction_id)
    if FlaskForm().validate_on_submit():
        done = key_corrections.resume(correction)
        flash(f"已完成重新评分：共 {done.attempts_regraded} 份试卷，{done.scores_changed} 份分数改变", "success")
    return redirect(url_for("admin.bank_edit", question_id=correction.question_id))
