"""Study materials written in the browser: list, write (Markdown with a preview), versions, attachments,
retire. Organisers and admins only; each edits the materials their organisations own, admins the built-in
ones too (services/study/material_access.py). Another committee's material does not exist for them (404).
"""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField

from ..auth.decorators import current_scope, organiser_required
from ..extensions import db
from ..inputs import db_int
from ..models import Material, MaterialAttachment, Subject
from ..services import FieldError
from ..services.bank import subjects
from ..services.study import attachments, material_access, material_editor, materials
from ..study.files import attachment_refs, attachments_dir
from . import bp

# The upload request may carry the largest attachment allowed, plus the form around it.
_FORM_SLACK = 256 * 1024


@bp.record_once
def _attachment_upload_limit(state) -> None:
    """Let the attachment upload (only) exceed MAX_CONTENT_LENGTH, up to the largest attachment allowed.
    First of all before-request functions: the NUL check and CSRF read the form, with the limit of then."""
    app = state.app

    def raise_limit():
        if request.endpoint == "admin.material_attachment_add":
            request.max_content_length = attachments.Limits.from_config(app.config).largest + _FORM_SLACK

    app.before_request_funcs.setdefault(None, []).insert(0, raise_limit)


class MaterialForm(FlaskForm):
    owner = SelectField("发布给（资料归该组织所有，其下属组织的党员都能看到）", coerce=str, validate_choice=False)
    title = StringField("标题")
    body = TextAreaField("正文（Markdown）")
    points = SelectMultipleField("对应的知识点", coerce=db_int, validate_choice=False)


def _editable(material_id: int) -> Material:
    """A material the viewer may change: 404 if it does not exist for them, 403 if only admins change it."""
    material = db.get_or_404(Material, material_id)
    scope = current_scope()
    if not material_access.can_see(scope, material):
        abort(404)
    if not material_access.can_edit(scope, material):
        abort(403)
    return material


def _subject_or_404(subject_id: int | None) -> Subject:
    subject = db.session.get(Subject, subject_id) if subject_id is not None else None
    if subject is None or subject.retired_at is not None or not _visible_subject(subject):
        abort(404)
    return subject


def _visible_subject(subject: Subject) -> bool:
    return any(s.id == subject.id for s in subjects.visible_subjects(current_scope()))


def _valid(form: MaterialForm) -> bool:
    """The form as posted is readable (the rules of its content are the service's)."""
    if form.validate_on_submit():
        return True
    if form.points.errors:  # an id that is not a number: WTForms' own English message otherwise
        form.points.errors = ["所选知识点不属于这个主题，请重新选择"]
    return False


def _draft(form: MaterialForm) -> material_editor.Draft:
    return material_editor.Draft(title=form.title.data or "", body=form.body.data or "", point_ids=form.points.data or [])


def _render_form(form: MaterialForm, subject: Subject, material: Material | None, preview=None, owners=None):
    posted = form.points.data if not form.points.errors else []
    chosen = set(posted or ([p.id for p in material.points] if material is not None else []))
    context = dict(form=form, subject=subject, material=material, preview=preview, owners=owners or [],
                   groups=material_editor.subject_points(subject), chosen=chosen,
                   limits=attachments.Limits.from_config(current_app.config), accepted=attachments.ACCEPTED)
    if material is not None:
        context.update(files=attachments.of_material(material), versions=material_editor.versions(material))
    return render_template("admin/material_form.html", **context)


@bp.get("/materials")
@organiser_required
def materials_list():
    """The materials the viewer manages or may read, by subject; retired ones on request."""
    scope = current_scope()
    show_retired = request.args.get("retired") == "1"
    return render_template(
        "admin/materials_list.html", groups=material_editor.manage_list(scope, show_retired),
        can_edit=lambda m: material_access.can_edit(scope, m), show_retired=show_retired,
        writable=[s for s in subjects.visible_subjects(scope) if material_access.owners_for(scope, s)],
    )


@bp.route("/materials/new", methods=["GET", "POST"])
@organiser_required
def material_new():
    """Write a new material for a subject (chosen first): title, points, Markdown text with a preview."""
    scope = current_scope()
    subject_id = request.args.get("subject", type=int)
    if subject_id is None:
        writable = [s for s in subjects.visible_subjects(scope) if material_access.owners_for(scope, s)]
        return render_template("admin/material_subject.html", subjects=writable)
    subject = _subject_or_404(subject_id)
    owners = material_access.owners_for(scope, subject)
    if not owners:
        abort(403)
    form = MaterialForm()
    form.owner.choices = [SelectChoice("" if o is None else str(o.id), material_access.owner_label(o)) for o in owners]
    if request.method == "GET":
        return _render_form(form, subject, None, owners=owners)
    if not _valid(form):
        return _render_form(form, subject, None, owners=owners)
    if request.form.get("action") == "preview":
        return _render_form(form, subject, None, preview=materials.render_markdown(form.body.data), owners=owners)
    owner = next((o for o in owners if ("" if o is None else str(o.id)) == (form.owner.data or "")), owners[0])
    try:
        material = material_editor.create(subject, owner, _draft(form), current_user)
    except FieldError as exc:
        getattr(form, exc.field).errors = [str(exc)]
        return _render_form(form, subject, None, owners=owners)
    flash(f"已保存《{material.title}》（第 1 版）。现在可以添加图片和 PDF。", "success")
    return redirect(url_for("admin.material_edit", material_id=material.id))


@bp.route("/materials/<int:material_id>", methods=["GET", "POST"])
@organiser_required
def material_edit(material_id: int):
    """Edit a material: a save that changes the title or text makes a new version; members read the newest."""
    material = _editable(material_id)
    form = MaterialForm()
    if request.method == "GET":
        form.title.data, form.body.data = material.title, material.body_md
        form.points.data = [p.id for p in material.points]
        return _render_form(form, material.subject, material)
    if not _valid(form):
        return _render_form(form, material.subject, material)
    if request.form.get("action") == "preview":
        preview = materials.render_markdown(form.body.data, attachment_refs(material))
        return _render_form(form, material.subject, material, preview=preview)
    try:
        version = material_editor.save(material, _draft(form), current_user)
    except FieldError as exc:
        getattr(form, exc.field).errors = [str(exc)]
        return _render_form(form, material.subject, material)
    if version is None:
        flash("已保存（正文和标题没有变化，版本不变）", "success")
    else:
        flash(f"已保存为第 {version.number} 版，党员打开时看到的是这一版", "success")
    return redirect(url_for("admin.material_edit", material_id=material.id))


@bp.post("/materials/preview")
@organiser_required
def material_preview():
    """The editor's live preview: the Markdown rendered as members will see it (the same sanitiser), with
    this material's images. Nothing is saved."""
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    material_id = request.form.get("material_id", type=int)
    material = _editable(material_id) if material_id is not None else None
    body = request.form.get("body", "")[: material_editor.BODY_MAX]
    html = materials.render_markdown(body, attachment_refs(material))
    if request.accept_mimetypes.best == "application/json":
        return jsonify(ok=True, html=str(html))
    return render_template("admin/material_preview.html", html=html)


@bp.post("/materials/<int:material_id>/retire")
@organiser_required
def material_retire(material_id: int):
    """Retire a material (or bring it back): gone from lists and new assignments; readings stay."""
    material = _editable(material_id)
    if FlaskForm().validate_on_submit():
        retire = material.retired_at is None
        material_editor.set_retired(material, retire)
        flash(f"已停用《{material.title}》：学习列表和新任务中不再出现，已有的学习记录保留" if retire
              else f"已恢复《{material.title}》", "success")
    return redirect(url_for("admin.material_edit", material_id=material.id))


@bp.get("/materials/<int:material_id>/versions/<int:number>")
@organiser_required
def material_version(material_id: int, number: int):
    """An earlier version of a material, as members saw it then."""
    material = _editable(material_id)
    version = material_editor.version(material, number)
    if version is None:
        abort(404)
    html = materials.render_markdown(version.body_md, attachment_refs(material))
    return render_template("admin/material_version.html", material=material, version=version, html=html)


@bp.post("/materials/<int:material_id>/attachments")
@organiser_required
def material_attachment_add(material_id: int):
    """Attach an image, a PDF file or audio to the material (checked by content; nothing kept if refused)."""
    material = _editable(material_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    upload = request.files.get("file")
    try:
        item = attachments.add(material, upload.filename if upload else None, upload.stream if upload else None,
                               attachments.Limits.from_config(current_app.config), attachments_dir(), current_user)
    except FieldError as exc:
        form = MaterialForm(formdata=None, title=material.title, body=material.body_md,
                            points=[p.id for p in material.points])
        flash(str(exc), "error")
        return _render_form(form, material.subject, material)
    if item.kind == "image":
        flash(f"已添加图片“{item.name}”。在正文中写 ![说明](attachment:{item.id}) 即可显示，或点“插入正文”。", "success")
    else:
        flash(f"已添加“{item.name}”。党员在资料末尾的“附件”中打开。", "success")
    return redirect(url_for("admin.material_edit", material_id=material.id) + "#files")


@bp.post("/materials/<int:material_id>/attachments/<int:attachment_id>/remove")
@organiser_required
def material_attachment_remove(material_id: int, attachment_id: int):
    """Take an attachment off the material: its file is deleted; the text's references to it show its
    description only."""
    material = _editable(material_id)
    item = db.session.get(MaterialAttachment, attachment_id)
    if item is None or item.material_id != material.id or item.removed_at is not None:
        abort(404)
    if FlaskForm().validate_on_submit():
        attachments.remove(item, attachments_dir())
        flash(f"已移除“{item.name}”", "success")
    return redirect(url_for("admin.material_edit", material_id=material.id) + "#files")
