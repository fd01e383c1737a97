"""Correcting a wrong answer key: preview what the regrade changes, confirm with a reason, revert later."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from ..auth.decorators import current_scope, editable_question_or_403, staff_required, unsealed
from ..extensions import db
from ..models import Assignment, KeyCorrection, Question
from ..services import ServiceError, key_corrections, reports
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


@bp.get("/questions/<int:question_id>/fix-key")
@staff_required
def fix_key(question_id: int):
    """Show what correcting the key to `answer` would change: papers, members, organisations, passes."""
    _organisers_only()
    question = editable_question_or_403(question_id)
    unsealed(question.key)  # not on a question of a paper the organiser sits
    answer, plan, error = request.args.get("answer", "").strip()[:300], None, None
    if answer:
        try:
            plan = key_corrections.plan_correction(question, answer)
        except ServiceError as exc:
            error = str(exc)
    return render_template(
        "reports/fix_key.html", question=question, answer=answer, plan=plan, error=error, form=FlaskForm(),
        back=request.args.get("back", type=int), shown=key_corrections.shown, revert=None,
    )


@bp.post("/questions/<int:question_id>/fix-key")
@staff_required
def fix_key_confirm(question_id: int):
    """Correct the key, regrade every paper and practice answer on this revision, and log who did it and why."""
    _organisers_only()
    question = editable_question_or_403(question_id)
    unsealed(question.key)
    answer, back = request.form.get("answer", "").strip()[:300], request.form.get("back", type=int)
    if FlaskForm().validate_on_submit():
        try:
            fixed = key_corrections.correct_key(question, answer, request.form.get("reason", ""), current_user)
        except ServiceError as exc:
            flash(str(exc), "error")
        else:
            flash(f"已改正答案，重新评分 {fixed.attempts_regraded} 份试卷，{fixed.scores_changed} 份分数改变", "success")
            return redirect(_back(question, back))
    return redirect(url_for("reports.fix_key", question_id=question.id, answer=answer, back=back))


def _correction(correction_id: int) -> KeyCorrection:
    """A correction of a question the viewer may change (404 / 403 as for the question)."""
    _organisers_only()
    correction = db.get_or_404(KeyCorrection, correction_id)
    unsealed(editable_question_or_403(correction.question_id).key)
    return correction


@bp.get("/key-corrections/<int:correction_id>/revert")
@staff_required
def key_revert(correction_id: int):
    """Show what reverting a key correction would change, and ask why."""
    correction = _correction(correction_id)
    plan, error = None, None
    try:
        plan = key_corrections.revert_plan(correction)
    except ServiceError as exc:
        error = str(exc)
    return render_template(
        "reports/fix_key.html", question=correction.question, answer="", plan=plan, error=error, form=FlaskForm(),
        back=None, shown=key_corrections.shown, revert=correction,
    )


@bp.post("/key-corrections/<int:correction_id>/revert")
@staff_required
def key_revert_confirm(correction_id: int):
    """Put the old key back, regrade again, and log the revert."""
    correction = _correction(correction_id)
    if FlaskForm().validate_on_submit():
        try:
            undone = key_corrections.revert(correction, request.form.get("reason", ""), current_user)
        except ServiceError as exc:
            flash(str(exc), "error")
            return redirect(url_for("reports.key_revert", correction_id=correction.id))
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
