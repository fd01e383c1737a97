"""Importing members from a spreadsheet: upload, preview (who goes where, which branches are created),
then confirm with the first password. Nothing is stored before the confirmation."""

from datetime import timedelta
from pathlib import Path

from flask import current_app, flash, redirect, render_template, send_file, session, url_for
from wtforms import SelectChoice

from ..auth.decorators import current_scope, scoped_org_or_404
from ..extensions import db
from ..inputs import db_int
from ..models import Organisation, OrgKind
from ..services import ServiceError
from ..services.auth import accounts
from ..services.orgs import import_templates, members
from ..services.sheets import previews
from ..services.auth.accounts import HashSettings
from ..services.orgs import usable_orgs
from . import bp
from .forms import ImportConfirmForm, ImportForm

MEMBER_UPLOAD_KEY = "member_upload"


def _settings() -> HashSettings:
    return HashSettings.from_config(current_app.config)


def _import_form() -> ImportForm:
    form = ImportForm()
    scope = current_scope()
    parents = [o for o in usable_orgs(scope) if not o.kind.is_branch and o.kind is not OrgKind.GROUP] if scope.is_organiser else []
    form.parent.choices = [SelectChoice("", "（不新建支部）")] + [SelectChoice(str(o.id), "　" * max(o.depth, 0) + o.name) for o in parents]
    return form


def _chosen_parent(value: str | None) -> Organisation | None:
    return scoped_org_or_404(db_int(value)) if value else None


@bp.route("/members/import", methods=["GET", "POST"])
def members_import():
    """Upload a member list and see who would be added where; nothing is stored until confirmed."""
    form = _import_form()
    if not form.validate_on_submit():
        return render_template("admin/members_import.html", form=form, errors=[])
    upload, parent = form.file.data, _chosen_parent(form.parent.data)
    data = upload.read()
    try:
        plan = members.plan(current_scope(), members.read_file(upload.filename or "", data), parent)
    except ServiceError as exc:
        flash(str(exc), "error")
        errors = exc.errors if isinstance(exc, members.ImportRejected) else []
        return render_template("admin/members_import.html", form=form, errors=errors)
    previews.sweep(_preview_dir(), _preview_ttl())
    session[MEMBER_UPLOAD_KEY] = {"token": previews.keep(_preview_dir(), data), "name": upload.filename,
                                  "parent": parent.id if parent else None}
    return render_template("admin/members_preview.html", plan=plan, name=upload.filename, form=ImportConfirmForm())


def _password_ok(form: ImportConfirmForm) -> bool:
    """The form is valid and the password strong enough (else the reason is on the field)."""
    if not form.validate_on_submit():
        return False
    try:
        accounts.check_password_strength(form.password.data)
    except ServiceError as exc:
        form.password.errors = [str(exc)]
        return False
    return True


@bp.post("/members/import/confirm")
def members_import_confirm():
    """Import the list previewed a moment ago, all or nothing, with the first password given here."""
    form, pending = ImportConfirmForm(), session.get(MEMBER_UPLOAD_KEY)
    if not pending:
        flash("没有待导入的文件，请重新上传", "error")
        return redirect(url_for("admin.members_import"))
    parent = _chosen_parent(str(pending["parent"]) if pending.get("parent") else None)
    try:
        if not _password_ok(form):  # the same preview again, saying what is wrong with the password
            data = previews.peek(_preview_dir(), pending["token"], _preview_ttl())
            plan = members.plan(current_scope(), members.read_file(pending["name"], data), parent)
            return render_template("admin/members_preview.html", plan=plan, name=pending["name"], form=form), 400
        session.pop(MEMBER_UPLOAD_KEY, None)
        data = previews.take(_preview_dir(), pending["token"], _preview_ttl())
        result = members.apply(current_scope(), members.read_file(pending["name"], data), form.password.data,
                               _settings(), parent)
    except ServiceError as exc:
        db.session.rollback()
        session.pop(MEMBER_UPLOAD_KEY, None)
        flash(str(exc), "error")
        errors = exc.errors if isinstance(exc, members.ImportRejected) else []
        return render_template("admin/members_import.html", form=_import_form(), errors=errors)
    made = f"，新建支部 {result.branches} 个" if result.branches else ""
    flash(f"已导入 {result.members} 名党员{made}，他们首次登录时须修改初始密码", "success")
    return redirect(url_for("admin.members_list"))


@bp.get("/members/import/template")
def members_import_template():
    """The member list template (.xlsx), with the branches the viewer may import into on a second sheet."""
    return send_file(import_templates.member_template(current_scope()), as_attachment=True,
                     download_name="党员导入模板.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _preview_dir() -> Path:
    return previews.folder_in(current_app.instance_path)


def _preview_ttl() -> timedelta:
    return timedelta(minutes=current_app.config["IMPORT_PREVIEW_MINUTES"])
