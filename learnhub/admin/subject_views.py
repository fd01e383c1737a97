"""The subject pages (学习科目): list, create, rename, parts and knowledge points, reorder, retire; and
questions written in the browser under a point.

Organisers and admins only (secretaries and members get 403). A subject or node that does not exist for
the viewer is 404; one they see but may not change (the built-in 党章 for an organiser, a subject of an
organisation above them) is read-only, and a change to it is 403 (services/bank/subject_tree.py,
subjects.can_edit). The services check again and say what is wrong beside each field.
"""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from ..auth.decorators import current_scope
from ..extensions import db
from ..models import KnowledgePoint, PointLevel, Subject
from ..services import FieldError, ServiceError
from ..services.bank import question_write, subject_edit, subject_tree
from ..services.bank.access import owner_label
from ..services.bank.files import KINDS, LETTERS
from ..services.bank.formats.common import point_article
from ..services.bank.question_bank import point_nodes
from ..services.bank.subjects import can_edit
from . import bp
from .subject_forms import NameForm, NewQuestionForm, NewSubjectForm, SubjectForm


@bp.before_request
def organisers_only_for_subjects():
    """Only organisers and admins manage subjects."""
    if request.endpoint and request.endpoint.startswith("admin.subject") and not current_scope().is_organiser:
        abort(403)


def _subject(subject_id: int, edit: bool = False) -> Subject:
    """The subject if it exists for the viewer (else 404); with `edit`, 403 unless they may change it."""
    subject = subject_tree.find_subject(current_scope(), subject_id)
    if subject is None:
        abort(404)
    if edit and not can_edit(current_scope(), subject):
        abort(403)
    return subject


def _node(node_id: int, edit: bool = False) -> KnowledgePoint:
    node = subject_tree.find_node(current_scope(), node_id)
    if node is None:
        abort(404)
    if edit and not can_edit(current_scope(), node.subject):
        abort(403)
    return node


def _place(form: FlaskForm, exc: ServiceError) -> None:
    """A refusal beside its field, or at the top of the page."""
    field = getattr(form, exc.field, None) if isinstance(exc, FieldError) else None
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        flash(str(exc), "error")


def _changed(form: FlaskForm | None, change, done) -> bool:
    """Make a change through a service: on a refusal roll back and say why (beside the form's field, or at
    the top of the page without a form); else flash `done` (a text, or made from the change's result).
    True if it was made."""
    try:
        result = change()
    except ServiceError as exc:
        db.session.rollback()
        if form is None:
            flash(str(exc), "error")
        else:
            _place(form, exc)
        return False
    flash(done(result) if callable(done) else done, "success")
    return True


def _back(node: KnowledgePoint):
    """Where a change to a node returns: the subject for a part, the parent's page for a point."""
    if node.parent_id is None:
        return redirect(url_for("admin.subject_detail", subject_id=node.subject_id))
    return redirect(url_for("admin.subject_node", node_id=node.parent_id))


@bp.get("/subjects")
def subject_list():
    """The subjects that exist for the viewer, with their parts, points and questions."""
    live, retired = subject_tree.summaries(current_scope())
    return render_template("admin/subjects.html", live=live, retired=retired,
                           may_create=bool(subject_edit.subject_owners(current_scope())))


@bp.route("/subjects/new", methods=["GET", "POST"])
def subject_new():
    """Create a subject owned by one of the viewer's organisations."""
    owners = subject_edit.subject_owners(current_scope())
    form = NewSubjectForm()
    form.owner.choices = [SelectChoice(str(o.id), o.name) for o in owners]
    if form.validate_on_submit():
        # The first organisation is the default; a value naming any other is refused beside the field.
        owner = next((o for o in owners if str(o.id) == form.owner.data), None) if form.owner.data else owners[0] if owners else None
        try:
            if owner is None:
                raise FieldError("owner", "请选择所属组织")
            subject = subject_edit.create_subject(current_scope(), owner, form.name.data, form.description.data,
                                                  current_user)
        except ServiceError as exc:
            db.session.rollback()
            _place(form, exc)
        else:
            flash(f"已创建科目「{subject.name}」：下面添加章节和知识点", "success")
            return redirect(url_for("admin.subject_detail", subject_id=subject.id))
    return render_template("admin/subject_new.html", form=form, owners=owners)


@bp.route("/subjects/<int:subject_id>", methods=["GET", "POST"])
def subject_detail(subject_id: int):
    """One subject: its parts and points with their questions; its editors rename it and add parts."""
    subject = _subject(subject_id, edit=request.method == "POST")
    form = SubjectForm(obj=subject) if request.method == "GET" else SubjectForm()
    if form.validate_on_submit() and _changed(
            form, lambda: subject_edit.update_subject(current_scope(), subject, form.name.data, form.description.data),
            "已保存"):
        return redirect(url_for("admin.subject_detail", subject_id=subject.id))
    return _subject_page(subject, form, NameForm(formdata=None, prefix="part"))


def _subject_page(subject: Subject, form: FlaskForm, part_form: NameForm):
    parts, retired = subject_tree.subject_tree(current_scope(), subject)
    return render_template("admin/subject.html", subject=subject, form=form, part_form=part_form, parts=parts,
                           retired=retired, editable=can_edit(current_scope(), subject), action_form=FlaskForm(),
                           owner=owner_label(subject.owner), kinds=_kinds())


@bp.post("/subjects/<int:subject_id>/parts")
def subject_part_new(subject_id: int):
    """Add a part at the end of the subject."""
    subject = _subject(subject_id, edit=True)
    part_form = NameForm(prefix="part")
    if part_form.validate_on_submit() and _changed(
            part_form, lambda: subject_edit.add_part(current_scope(), subject, part_form.name.data),
            lambda part: f"已添加章节「{part.name}」"):
        return redirect(url_for("admin.subject_detail", subject_id=subject.id))
    return _subject_page(subject, SubjectForm(obj=subject, formdata=None), part_form)


@bp.post("/subjects/<int:subject_id>/retire")
def subject_retire(subject_id: int):
    """Retire the subject with its questions, or bring it back."""
    subject = _subject(subject_id, edit=True)
    if FlaskForm().validate_on_submit():
        retiring = subject.retired_at is None
        _changed(None, lambda: subject_edit.set_subject_retired(current_scope(), subject, retiring),
                 lambda count: f"已停用科目「{subject.name}」，其中 {count} 道题同时停用；已在试卷上的题保持不变"
                 if retiring else f"已恢复科目「{subject.name}」；其中的题目仍为停用，请到题库逐题恢复")
    return redirect(url_for("admin.subject_detail", subject_id=subject.id))


@bp.route("/subjects/nodes/<int:node_id>", methods=["GET", "POST"])
def subject_node(node_id: int):
    """A part (its points) or a point (its questions); its editors rename it."""
    node = _node(node_id, edit=request.method == "POST")
    form = NameForm(obj=node) if request.method == "GET" else NameForm()
    if form.validate_on_submit() and _changed(
            form, lambda: subject_edit.rename_node(current_scope(), node, form.name.data), "已改名"):
        return redirect(url_for("admin.subject_node", node_id=node.id))
    return _node_page(node, form, NameForm(formdata=None, prefix="point"))


def _node_page(node: KnowledgePoint, form: NameForm, point_form: NameForm):
    scope = current_scope()
    children = []
    if node.level is not PointLevel.POINT:
        parts, _ = subject_tree.subject_tree(scope, node.subject)
        found = _find(parts, node.id)
        children = found.children if found is not None else []
    questions = subject_tree.point_questions(scope, node) if node.level is PointLevel.POINT else []
    return render_template(
        "admin/subject_node.html", node=node, subject=node.subject, form=form, point_form=point_form,
        children=children, questions=questions, trail=subject_tree.trail(node), editable=can_edit(scope, node.subject),
        action_form=FlaskForm(), kinds=_kinds(),
    )


def _find(nodes, node_id: int):
    for tree_node in nodes:
        if tree_node.node.id == node_id:
            return tree_node
        found = _find(tree_node.children, node_id)
        if found is not None:
            return found
    return None


@bp.post("/subjects/nodes/<int:node_id>/points")
def subject_point_new(node_id: int):
    """Add a knowledge point at the end of a part."""
    holder = _node(node_id, edit=True)
    point_form = NameForm(prefix="point")
    if point_form.validate_on_submit() and _changed(
            point_form, lambda: subject_edit.add_point(current_scope(), holder, point_form.name.data),
            lambda point: f"已添加知识点「{point.name}」"):
        return redirect(url_for("admin.subject_node", node_id=holder.id))
    return _node_page(holder, NameForm(obj=holder, formdata=None), point_form)


@bp.post("/subjects/nodes/<int:node_id>/move")
def subject_node_move(node_id: int):
    """Move a part or point one place up (dir=up) or down."""
    node = _node(node_id, edit=True)
    if FlaskForm().validate_on_submit():
        try:
            subject_edit.move_node(current_scope(), node, request.form.get("dir") == "up")
        except ServiceError as exc:
            db.session.rollback()
            flash(str(exc), "error")
    return _back(node)


@bp.post("/subjects/nodes/<int:node_id>/retire")
def subject_node_retire(node_id: int):
    """Retire a point with its questions, or bring it back."""
    node = _node(node_id, edit=True)
    if FlaskForm().validate_on_submit():
        retiring = node.retired_at is None
        _changed(None, lambda: subject_edit.set_point_retired(current_scope(), node, retiring),
                 lambda count: f"已停用知识点「{node.name}」，其中 {count} 道题同时停用；已在试卷上的题保持不变"
                 if retiring else f"已恢复知识点「{node.name}」；其中的题目仍为停用，可在下面逐题恢复")
    return redirect(url_for("admin.subject_node", node_id=node.id))


# --- questions written in the browser -----------------------------------------------------------------


def _kinds() -> list[tuple[str, str]]:
    return [(kind, question_write.kind_label(kind)) for kind in KINDS]


def _draft(form: NewQuestionForm, kind: str, point: KnowledgePoint) -> question_write.QuestionDraft:
    options = [(getattr(form, name).data or "").strip() for name in NewQuestionForm.OPTION_FIELDS]
    while options and not options[-1]:
        options.pop()
    correct = "".join(sorted({x for x in (form.correct.data or []) if x in LETTERS}))
    blanks = tuple(x.strip() for x in re.split(r"[\r\n；;]+", form.blanks.data or "") if x.strip())
    difficulty = form.difficulty.data
    return question_write.QuestionDraft(
        kind=kind, stem=form.stem.data or "", explanation=form.explanation.data or "",
        difficulty=int(difficulty) if difficulty in ("1", "2", "3") else difficulty,
        article=(form.article.data or "").strip() if point.subject.is_builtin else "",
        options=tuple(options), correct=correct, truth=form.truth.data if form.truth.data in ("对", "错") else "",
        blanks=blanks,
    )


def _show_problems(form: NewQuestionForm, kind: str, problems: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Put each problem beside its field; return those the page shows elsewhere (options, the whole question)."""
    answer = {"single": "correct", "multiple": "correct", "truefalse": "truth", "fill": "blanks"}[kind]
    rest: dict[str, list[str]] = {}
    for field, message in problems:
        name = answer if field == "answer" else field
        target = getattr(form, name, None) if name in ("stem", "explanation", "difficulty", "article", answer) else None
        if target is not None:
            target.errors = [*target.errors, message]
        else:
            rest.setdefault(field or "general", []).append(message)
    return rest


@bp.route("/subjects/nodes/<int:node_id>/questions/new", methods=["GET", "POST"])
def subject_question_new(node_id: int):
    """Write a question of one of the four types under a knowledge point (?kind=single|multiple|truefalse|fill)."""
    point = _node(node_id, edit=True)
    try:
        question_write.check_point(current_scope(), point)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.subject_node", node_id=point.id))
    kind = request.args.get("kind", "single")
    kind = kind if kind in KINDS else "single"
    form = NewQuestionForm()
    bank_point = point_nodes(subject_id=point.subject_id)[point.name][0]
    if request.method == "GET":
        form.article.data = point_article(bank_point) if point.subject.is_builtin else ""
    other: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            question = question_write.add_question(current_scope(), point, _draft(form, kind, point))
        except question_write.QuestionProblems as exc:
            db.session.rollback()
            other = _show_problems(form, kind, exc.problems)
        except ServiceError as exc:
            db.session.rollback()
            other = {"general": [str(exc)]}
        else:
            flash(f"已保存{question_write.kind_label(kind)}（编号 {question.key}）", "success")
            if request.form.get("next") == "more":
                return redirect(url_for("admin.subject_question_new", node_id=point.id, kind=kind))
            return redirect(url_for("admin.subject_node", node_id=point.id))
    return render_template(
        "admin/question_new.html", point=point, subject=point.subject, form=form, kind=kind, kinds=_kinds(),
        letters=LETTERS, other=other, trail=subject_tree.trail(point),
        min_options={"single": 3, "multiple": 4}.get(kind, 0), kind_label=question_write.kind_label(kind),
    )
