"""The organisers' question-bank pages: browse, edit (a new revision), retire, import with a preview.

Each organiser sees the built-in bank, their own organisations' banks and those above them; they change
only their own (services/bank_access.py). A question of another committee does not exist for them (404);
a built-in one they may read but only admins change (403).
"""

from datetime import timedelta
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectChoice

from ..auth.decorators import current_scope, editable_question_or_403, question_or_404, unsealed
from ..extensions import db
from ..models import KnowledgePoint, Organisation, PointLevel, Question, QuestionKind
from ..services import bank_access, bank_formats, key_corrections, previews, question_bank
from ..services.bank_files import format_answer
from . import bp
from .forms import BankImportForm, QuestionForm

PAGE_SIZE = 30
UPLOAD_KEY = "bank_upload"
# An import would show (new or unchanged) and change the key of a question on the organiser's own paper.
SEALED_IMPORT = "文件中有题目在你参加的考试中，答案公布后才能导入"


@bp.before_request
def organisers_only_for_bank():
    """Only organisers and admins manage the bank."""
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
    stmt = question_bank.search_stmt(part_id, point_id, args.get("kind"), args.get("q", "").strip()[:50], retired,
                                     visible=bank_access.visible_clause(current_scope()))
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
    """Show a question; its owners edit it. If it is on any paper, the edit becomes a new revision.

    Not a question on a paper the organiser sits: its key is neither shown to them nor changed by them.
    """
    question = question_or_404(question_id) if request.method == "GET" else editable_question_or_403(question_id)
    unsealed(question.key)
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


def _preview_dir() -> Path:
    return previews.folder_in(current_app.instance_path)


def _preview_ttl() -> timedelta:
    return timedelta(minutes=current_app.config["IMPORT_PREVIEW_MINUTES"])


def _import_form() -> BankImportForm:
    form = BankImportForm()
    form.point.choices = [SelectChoice("", "（不是 Aiken 文件）"), *_point_choices()]
    form.owner.choices = [SelectChoice(_owner_value(o), bank_access.owner_label(o))
                          for o in bank_access.owner_choices(current_scope())]
    return form


def _owner_value(org) -> str:
    return str(org.id) if org is not None else ""


def _owners() -> dict[str, int | None]:
    """The banks the viewer may import into (organisation id, None: built-in) by form value, the default first."""
    return {_owner_value(o): (o.id if o is not None else None) for o in bank_access.owner_choices(current_scope())}


def _owner_id(value: str | None) -> int | None:
    """The bank an import fills: the one chosen if the viewer may fill it, else their first (the default)."""
    owners = _owners()
    if not owners:
        abort(403)
    return owners.get(value or "", next(iter(owners.values())))


@bp.route("/questions/import", methods=["GET", "POST"])
def bank_import():
    """Upload a bank file and see what it would change; nothing is written until confirmed."""
    form = _import_form()
    if form.validate_on_submit():
        previews.sweep(_preview_dir(), _preview_ttl())  # every upload clears out expired previews
        upload, owner_id = form.file.data, _owner_id(form.owner.data)
        data = upload.read()
        bank = bank_formats.parse_file(upload.filename or "", data, question_bank.db_points(), form.point.data or None)
        unsealed(*(q.key for q in bank.questions), message=SEALED_IMPORT)
        try:
            changes = question_bank.preview(bank, owner_id)
        except question_bank.BankError as exc:
            return render_template("admin/bank_import.html", form=form, problems=exc.problems,
                                   skipped=bank.skipped)
        token = previews.keep(_preview_dir(), data)
        session[UPLOAD_KEY] = {"token": token, "name": upload.filename, "point": form.point.data or None, "owner": owner_id}
        owner = db.session.get(Organisation, owner_id) if owner_id else None
        return render_template("admin/bank_preview.html", changes=changes, name=upload.filename, form=FlaskForm(),
                               owner=bank_access.owner_label(owner), skipped=bank.skipped)
    return render_template("admin/bank_import.html", form=form, problems=[])


@bp.post("/questions/import/confirm")
def bank_import_confirm():
    """Import the file previewed a moment ago, all or nothing, into the bank chosen for it."""
    pending = session.pop(UPLOAD_KEY, None)
    if not FlaskForm().validate_on_submit() or not pending:
        flash("没有待导入的文件，请重新上传", "error")
        return redirect(url_for("admin.bank_import"))
    try:
        data = previews.take(_preview_dir(), pending["token"], _preview_ttl())
    except previews.PreviewExpired as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.bank_import"))
    owner_id = pending.get("owner")
    if owner_id not in _owners().values():
        abort(403)  # the viewer lost the grant on that organisation since the preview
    bank = bank_formats.parse_file(pending["name"], data, question_bank.db_points(), pending["point"])
    unsealed(*(q.key for q in bank.questions), message=SEALED_IMPORT)
    try:
        result = question_bank.import_bank(bank, owner_id)
    except question_bank.BankError as exc:
        return render_template("admin/bank_import.html", form=_import_form(), problems=exc.problems)
    flash(f"导入完成：新增 {result.created} 题，修订 {result.revised + result.updated} 题，未变 {result.unchanged} 题", "success")
    return redirect(url_for("admin.bank_list"))
