"""The organisers' question-bank pages: browse, edit (a new revision), retire, import with a preview."""

from datetime import timedelta
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectChoice

from ..auth.decorators import current_scope
from ..extensions import db
from ..models import KnowledgePoint, PointLevel, Question, QuestionKind
from ..services import bank_formats, previews, question_bank
from ..services.bank_files import format_answer
from . import bp
from .forms import BankImportForm, QuestionForm

PAGE_SIZE = 30
UPLOAD_KEY = "bank_upload"


@bp.before_request
def organisers_only_for_bank():
    """The bank is shared by every organisation: only organisers and admins change it."""
    if request.endpoint and request.endpoint.startswith("admin.bank_") and not current_scope().is_organiser:
        abort(403)


def _parts() -> list[KnowledgePoint]:
    return list(db.session.scalars(
        select(KnowledgePoint).where(KnowledgePoint.level == PointLevel.PART).order_by(KnowledgePoint.position)
    ))


def _point_choices() -> list[SelectChoice]:
    return [SelectChoice(name, name) for name in sorted(question_bank.db_points())]


@bp.get("/questions")
def bank_list():
    """Browse the bank by part, knowledge point, type and words in the stem."""
    args = request.args
    part_id, point_id = args.get("part", type=int), args.get("point", type=int)
    retired = {"": False, "retired": True, "all": None}.get(args.get("state", ""), False)
    stmt = question_bank.search_stmt(part_id, point_id, args.get("kind"), args.get("q", "").strip()[:50], retired)
    page = db.paginate(stmt, per_page=PAGE_SIZE, error_out=False)
    points = []
    if part_id:
        articles = select(KnowledgePoint.id).where(KnowledgePoint.parent_id == part_id)
        points = list(db.session.scalars(
            select(KnowledgePoint).where(KnowledgePoint.parent_id.in_(articles)).order_by(KnowledgePoint.position)
        ))
    return render_template(
        "admin/bank_list.html", page=page, parts=_parts(), points=points, kinds=list(QuestionKind), args=args,
    )


@bp.route("/questions/<int:question_id>", methods=["GET", "POST"])
def bank_edit(question_id: int):
    """Edit a question. If members have answered it, the edit becomes a new revision."""
    question = db.get_or_404(Question, question_id)
    form = QuestionForm()
    form.point.choices = _point_choices()
    if request.method == "GET":
        _fill(form, question)
    elif form.validate_on_submit():
        try:
            result = question_bank.edit_question(question, _raw(form))
        except question_bank.BankError as exc:
            for problem in exc.problems:
                flash(problem.message, "error")
        else:
            flash("已保存为新版本（已作答的试卷保留原题）" if result.revised else "已保存", "success")
            current = db.session.scalar(select(Question).filter_by(key=question.key, is_current=True))
            return redirect(url_for("admin.bank_edit", question_id=current.id))
    revisions = list(db.session.scalars(select(Question).filter_by(key=question.key).order_by(Question.revision)))
    return render_template("admin/bank_edit.html", question=question, form=form, revisions=revisions, action_form=FlaskForm())


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
    """Retire a question (no new papers or practice use it), or bring it back."""
    question = db.get_or_404(Question, question_id)
    if FlaskForm().validate_on_submit():
        question_bank.set_retired(question, not question.retired)
        flash("已停用这道题" if question.retired else "已恢复这道题", "success")
    return redirect(url_for("admin.bank_edit", question_id=question.id))


def _preview_dir() -> Path:
    return previews.folder_in(current_app.instance_path)


def _preview_ttl() -> timedelta:
    return timedelta(minutes=current_app.config["IMPORT_PREVIEW_MINUTES"])


@bp.route("/questions/import", methods=["GET", "POST"])
def bank_import():
    """Upload a bank file and see what it would change; nothing is written until confirmed."""
    form = BankImportForm()
    form.point.choices = [SelectChoice("", "（不是 Aiken 文件）"), *_point_choices()]
    if form.validate_on_submit():
        previews.sweep(_preview_dir(), _preview_ttl())  # every upload clears out expired previews
        upload = form.file.data
        data = upload.read()
        bank = bank_formats.parse_file(upload.filename or "", data, question_bank.db_points(), form.point.data or None)
        if bank.problems:
            return render_template("admin/bank_import.html", form=form, problems=bank.problems)
        token = previews.keep(_preview_dir(), data)
        session[UPLOAD_KEY] = {"token": token, "name": upload.filename, "point": form.point.data or None}
        return render_template("admin/bank_preview.html", changes=question_bank.preview(bank), name=upload.filename,
                               form=FlaskForm())
    return render_template("admin/bank_import.html", form=form, problems=[])


@bp.post("/questions/import/confirm")
def bank_import_confirm():
    """Import the file previewed a moment ago, all or nothing."""
    pending = session.pop(UPLOAD_KEY, None)
    if not FlaskForm().validate_on_submit() or not pending:
        flash("没有待导入的文件，请重新上传", "error")
        return redirect(url_for("admin.bank_import"))
    try:
        data = previews.take(_preview_dir(), pending["token"], _preview_ttl())
    except previews.PreviewExpired as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.bank_import"))
    bank = bank_formats.parse_file(pending["name"], data, question_bank.db_points(), pending["point"])
    try:
        result = question_bank.import_bank(bank)
    except question_bank.BankError as exc:
        return render_template("admin/bank_import.html", form=BankImportForm(), problems=exc.problems)
    flash(f"导入完成：新增 {result.created} 题，修订 {result.revised + result.updated} 题，未变 {result.unchanged} 题", "success")
    return redirect(url_for("admin.bank_list"))
