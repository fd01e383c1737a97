"""The organisers' question-bank pages: browse, edit (a new revision), retire, import with a preview.

Each organiser sees the built-in bank, their own organisations' banks and those above them; they change
only their own (services/bank/access.py). A question of another committee does not exist for them (404);
a built-in one they may read but only admins change (403).
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from ..auth.decorators import current_scope, editable_question_or_403, question_or_404, unsealed
from ..extensions import db
from ..models import KnowledgePoint, PointLevel, Question, QuestionKind
from ..services.bank import access as bank_access, question_bank
from ..services.bank.subjects import visible_subjects
from ..services.exam import key_corrections
from ..services.bank.files import format_answer
from . import bp
from .forms import QuestionForm

PAGE_SIZE = 30


@bp.before_request
def organisers_only_for_bank():
    """Only organisers and admins manage the bank."""
    if request.endpoint and request.endpoint.startswith("admin.bank_") and not current_scope().is_organiser:
        abort(403)


def _parts(subject_id: int | None) -> list[KnowledgePoint]:
    """The live parts the viewer sees, of one subject or of every subject that exists for them."""
    stmt = select(KnowledgePoint).where(KnowledgePoint.level == PointLevel.PART, bank_access.node_visible(current_scope()))
    if subject_id:
        stmt = stmt.where(KnowledgePoint.subject_id == subject_id)
    return list(db.session.scalars(stmt.order_by(KnowledgePoint.subject_id, KnowledgePoint.position, KnowledgePoint.id)))


def _point_choices(question: Question) -> list[SelectChoice]:
    """The points the question may hang on: the live points of its subject that every member who may get it sees."""
    return [SelectChoice(name, name) for name in sorted(question_bank.edit_points(question))]


@bp.get("/questions")
def bank_list():
    """Browse the bank by subject, part, knowledge point, type and words in the stem."""
    args, scope = request.args, current_scope()
    subjects = visible_subjects(scope)
    subject_id = args.get("subject", type=int)
    subject_id = subject_id if subject_id in {s.id for s in subjects} else None
    part_id, point_id = args.get("part", type=int), args.get("point", type=int)
    retired = {"": False, "retired": True, "all": None}.get(args.get("state", ""), False)
    stmt = question_bank.search_stmt(part_id, point_id, args.get("kind"), args.get("q", "").strip()[:50], retired,
                                     visible=bank_access.visible_clause(scope), subject_id=subject_id)
    stmt = stmt.options(joinedload(Question.point).joinedload(KnowledgePoint.subject))
    page = db.paginate(stmt, per_page=PAGE_SIZE, error_out=False)
    points = []
    if part_id:
        points = list(db.session.scalars(
            select(KnowledgePoint).where(KnowledgePoint.id.in_(question_bank.points_under(part_id)),
                                         bank_access.node_visible(scope))
            .order_by(KnowledgePoint.position, KnowledgePoint.id)
        ))
    return render_template(
        "admin/bank_list.html", page=page, parts=_parts(subject_id), points=points, kinds=list(QuestionKind), args=args,
        subjects=subjects, subject_names={s.id: s.name for s in subjects},
    )


@bp.route("/questions/<int:question_id>", methods=["GET", "POST"])
def bank_edit(question_id: int):
    """Show a question; its owners edit it. If it is on any paper, the edit becomes a new revision.

    Not a question on a paper the organiser sits: its key is neither shown to them nor changed by them.
    """
    question = question_or_404(question_id) if request.method == "GET" else editable_question_or_403(question_id)
    unsealed(question.key)
    form = QuestionForm()
    form.point.choices = _point_choices(question)
    if request.method == "GET":
        _fill(form, question)
    elif form.validate_on_submit():
        try:
            result = question_bank.edit_question(question, _raw(form))
        except question_bank.BankError as exc:
            for problem in exc.problems:
                flash(problem.message, "error")
        else:
            flash("已保存为新版本（已出现在试卷上的保留原题）" if result.revised else "已保存", "success")
            current = db.session.scalar(select(Question).filter_by(key=question.key, is_current=True))
            return redirect(url_for("admin.bank_edit", question_id=current.id))
    revisions = list(db.session.scalars(select(Question).filter_by(key=question.key).order_by(Question.revision)))
    corrections = key_corrections.corrections_of(question.key)
    return render_template(
        "admin/bank_edit.html", question=question, form=form, revisions=revisions, action_form=FlaskForm(),
        can_edit=bank_access.can_edit(current_scope(), question), corrections=corrections,
        reverted=key_corrections.reverted_ids(corrections), shown=key_corrections.shown,
    )


def _fill(form: QuestionForm, q: Question) -> None:
    form.kind.data, form.stem.data, form.explanation.data = q.kind.value, q.stem, q.explanation
    for name, text in zip(QuestionForm.OPTION_FIELDS, q.options, strict=False):
        getattr(form, name).data = text
    form.answer.data = format_answer(question_bank.to_bank_question(q))
    form.article.data, form.point.data, form.difficulty.data = q.article, q.point.name, str(q.difficulty)


def _raw(form: QuestionForm) -> dict:
    options = [getattr(form, n).data.strip() for n in QuestionForm.OPTION_FIELDS if (getattr(form, n).data or "").strip()]
    answer: object = form.answer.data.strip()
    if form.kind.data == "fill":
        answer = [part.strip() for part in answer.replace(";", "；").split("；")]
    return {
        "type": form.kind.data, "stem": form.stem.data, "options": options, "answer": answer,
        "explanation": form.explanation.data, "article": form.article.data.strip(), "point": form.point.data,
        "difficulty": int(form.difficulty.data) if form.difficulty.data in ("1", "2", "3") else None,
    }


@bp.post("/questions/<int:question_id>/retire")
def bank_retire(question_id: int):
    """Retire a question (no new papers or practice use it), or bring it back (not one the organiser sits)."""
    question = editable_question_or_403(question_id)
    unsealed(question.key)
    if FlaskForm().validate_on_submit():
        question_bank.set_retired(question, not question.retired)
        flash("已停用这道题" if question.retired else "已恢复这道题", "success")
    return redirect(url_for("admin.bank_edit", question_id=question.id))
