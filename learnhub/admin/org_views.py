"""The organisation tree pages: see it, rename, move or disable an organisation, grant and revoke roles,
and import the tree from a spreadsheet with a preview.

Organisers manage their own subtrees and admins the whole tree (services/orgs/edit.py re-checks);
secretaries get 403, and an organisation outside the viewer's scope does not exist for them (404).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, send_file, session, url_for
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from ..auth.decorators import current_scope, scoped_org_or_404
from ..extensions import db
from ..models import Grant, OrgKind, Role
from ..services import ServiceError
from ..services.orgs import import_templates
from ..services.sheets import previews
from ..services.sheets.import_errors import ImportRejected
from ..services.orgs import edit, importing, storing, tree
from . import bp
from .forms import GrantForm, OrgActiveForm, OrgEditForm, OrgImportForm, OrgMoveForm

UPLOAD_KEY = "org_upload"
TOP = 0  # the move form's value for "no parent" (admins only)


@bp.before_request
def organisers_only_for_orgs():
    """Only organisers and admins manage the tree."""
    if request.endpoint and request.endpoint.startswith("admin.org_") and not current_scope().is_organiser:
        abort(403)


@bp.get("/orgs")
def org_tree():
    """The viewer's organisations as a collapsible tree, with member counts and who holds which role."""
    return render_template("admin/org_tree.html", roots=tree.build_tree(current_scope()),
                           open_all=request.args.get("open") == "all")


def _move_form(org) -> OrgMoveForm:
    form = OrgMoveForm()
    scope = current_scope()
    choices = [SelectChoice(TOP, "（顶层组织）")] if scope.is_admin else []
    choices += [SelectChoice(o.id, "　" * max(o.depth, 0) + o.name) for o in tree.move_targets(scope, org)]
    form.parent_id.choices = choices
    return form


@bp.get("/orgs/<int:org_id>")
def org_detail(org_id: int):
    """One organisation: rename it, move it, disable it, and its secretaries and organisers."""
    org, scope = scoped_org_or_404(org_id), current_scope()
    edit_form = OrgEditForm(obj=org)
    edit_form.kind.data = org.kind.value  # obj= would give the enum, which matches no choice
    move_form = _move_form(org)
    move_form.parent_id.data = org.parent_id if org.parent_id and scope.covers(org.parent) else TOP
    below, members = tree.subtree_size(org)
    return render_template(
        "admin/org_detail.html", org=org, edit_form=edit_form, move_form=move_form, grant_form=GrantForm(),
        active_form=OrgActiveForm(), action_form=FlaskForm(), grants=edit.grants_of(org), below=below,
        members=members, trail=tree.breadcrumb(scope, org), children=tree.children_of(org),
    )


def _done(org_id: int, message: str, service, *args):
    """Call a service; flash its refusal or `message`; back to the organisation's page."""
    try:
        service(current_scope(), *args)
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(message, "success")
    return redirect(url_for("admin.org_detail", org_id=org_id))


def _invalid(form: FlaskForm, org_id: int):
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")
    return redirect(url_for("admin.org_detail", org_id=org_id))


@bp.post("/orgs/<int:org_id>/edit")
def org_edit(org_id: int):
    """Rename an organisation, or change its code or kind."""
    org, form = scoped_org_or_404(org_id), OrgEditForm()
    if not form.validate_on_submit():
        return _invalid(form, org_id)
    return _done(org_id, "已保存", edit.edit_org, org, form.name.data, form.code.data, OrgKind(form.kind.data))


@bp.post("/orgs/<int:org_id>/move")
def org_move(org_id: int):
    """Put an organisation, with everything and everyone beneath it, under another one."""
    org = scoped_org_or_404(org_id)
    form = _move_form(org)
    if not form.validate_on_submit():
        return _invalid(form, org_id)
    parent = None if form.parent_id.data == TOP else scoped_org_or_404(form.parent_id.data)
    return _done(org_id, "已移动（下级组织和党员随之移动）", edit.move_org, org, parent)


@bp.post("/orgs/<int:org_id>/active")
def org_active(org_id: int):
    """Disable an organisation with its subtree (its members stop counting), or enable it again."""
    org, form = scoped_org_or_404(org_id), OrgActiveForm()
    if not form.validate_on_submit():
        return _invalid(form, org_id)
    active = form.active.data == "1"
    message = "已启用" if active else "已停用：其下党员不再计入统计，历史记录保留"
    return _done(org_id, message, edit.set_active, org, active)


@bp.post("/orgs/<int:org_id>/grants")
def org_grant(org_id: int):
    """Make a member secretary or organiser of this organisation."""
    org, form = scoped_org_or_404(org_id), GrantForm()
    if not form.validate_on_submit():
        return _invalid(form, org_id)
    role = Role(form.role.data)
    return _done(org_id, f"已授予{role.label}权限", edit.add_grant, org, form.member_no.data, role)


@bp.post("/orgs/<int:org_id>/grants/<int:grant_id>/revoke")
def org_revoke(org_id: int, grant_id: int):
    """Take a role away."""
    org = scoped_org_or_404(org_id)
    row = db.get_or_404(Grant, grant_id)
    if row.org_id != org.id:
        abort(404)
    if not FlaskForm().validate_on_submit():
        return redirect(url_for("admin.org_detail", org_id=org_id))
    return _done(org_id, "已撤销授权", edit.revoke_grant, row)


# --- import ----------------------------------------------------------------------------------------------


def _preview_dir() -> Path:
    return previews.folder_in(current_app.instance_path)


def _preview_ttl() -> timedelta:
    return timedelta(minutes=current_app.config["IMPORT_PREVIEW_MINUTES"])


@bp.route("/orgs/import", methods=["GET", "POST"])
def org_import():
    """Upload an organisation list and see the tree it would build; nothing is stored until confirmed."""
    form = OrgImportForm()
    if not form.validate_on_submit():
        return render_template("admin/org_import.html", form=form, errors=[])
    previews.sweep(_preview_dir(), _preview_ttl())
    upload = form.file.data
    data = upload.read()
    try:
        plan = importing.plan(current_scope(), importing.read_file(upload.filename or "", data))
    except ImportRejected as exc:
        flash(str(exc), "error")
        return render_template("admin/org_import.html", form=form, errors=exc.errors)
    except ServiceError as exc:
        flash(str(exc), "error")
        return render_template("admin/org_import.html", form=form, errors=[])
    session[UPLOAD_KEY] = {"token": previews.keep(_preview_dir(), data), "name": upload.filename}
    return render_template("admin/org_preview.html", plan=plan, name=upload.filename, form=FlaskForm())


@bp.post("/orgs/import/confirm")
def org_import_confirm():
    """Store the tree previewed a moment ago, all or nothing (checked again first)."""
    pending = session.pop(UPLOAD_KEY, None)
    if not FlaskForm().validate_on_submit() or not pending:
        flash("没有待导入的文件，请重新上传", "error")
        return redirect(url_for("admin.org_import"))
    try:
        data = previews.take(_preview_dir(), pending["token"], _preview_ttl())
        result = storing.apply(current_scope(), importing.read_file(pending["name"], data))
    except ImportRejected as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return render_template("admin/org_import.html", form=OrgImportForm(), errors=exc.errors)
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.org_import"))
    flash(f"导入完成：新建 {result.created} 个组织，更新 {result.updated} 个，未变 {result.unchanged} 个，"
          f"新增授权 {result.grants} 项", "success")
    return redirect(url_for("admin.org_tree"))


@bp.get("/orgs/import/template")
def org_import_template():
    """The organisation list template (.xlsx), with the viewer's organisations already in it."""
    data = import_templates.org_template(current_scope())
    return send_file(data, as_attachment=True, download_name="组织导入模板.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
