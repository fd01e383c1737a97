"""Importing a question file: upload, preview (with the organiser's choices of part, point mapping and
whether to leave out bad rows), confirm; and the template to download. Nothing is written before 确认导入,
and what is written is what the last preview showed: a confirmation whose choices differ from the
previewed ones shows the new preview instead."""

from __future__ import annotations

import hashlib
import json
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from flask import Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from ..auth.decorators import current_scope, unsealed
from ..extensions import db
from ..models import Organisation, Subject
from ..services.bank import access as bank_access, question_bank
from ..services.sheets import previews
from ..services.bank import importing
from ..services.bank.files import LETTERS
from ..services.bank.importing.template import question_template
from ..services.bank.subjects import can_edit, visible_subjects
from . import bp
from .forms import BankImportForm

UPLOAD_KEY = "bank_upload"
# An import would show (new or unchanged) and change the key of a question on the organiser's own paper.
SEALED_IMPORT = "文件中有题目在你参加的考试中，答案公布后才能导入"


def _preview_dir() -> Path:
    return previews.folder_in(current_app.instance_path)


def _preview_ttl() -> timedelta:
    return timedelta(minutes=current_app.config["IMPORT_PREVIEW_MINUTES"])


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


def _subjects() -> list[Subject]:
    """The live subjects the viewer may import into (their organisations' and, for admins, every one)."""
    scope = current_scope()
    return [s for s in visible_subjects(scope) if can_edit(scope, s)]


def _subject(value) -> Subject | None:
    """The chosen subject if the viewer may import into it; None: the owner's own subject (the default)."""
    return next((s for s in _subjects() if str(s.id) == str(value or "")), None)


def _import_form() -> BankImportForm:
    form = BankImportForm()
    form.subject.choices = [SelectChoice("", "（默认）所选题库组织自己的科目"),
                            *(SelectChoice(str(s.id), f"{s.name}（{bank_access.owner_label(s.owner)}）") for s in _subjects())]
    choices = bank_access.owner_choices(current_scope())
    usable: set[int | None] = set()
    for owner in choices:
        usable |= bank_access.point_owners(owner)
    form.point.choices = [SelectChoice("", "（新建知识点，以文件名命名）"),
                          *(SelectChoice(n, n) for n in sorted(question_bank.db_points(usable)))]
    form.owner.choices = [SelectChoice(_owner_value(o), bank_access.owner_label(o)) for o in choices]
    return form


def _options(form, point: str) -> importing.Options:
    """The choices a preview form posts; none posted (a bare confirmation) are the defaults."""
    part = form.get("part", "new")
    return importing.Options(
        part_id=int(part) if part.isdigit() else None, part_name=form.get("part_name", "").strip()[:100], point=point,
        mapping={k[4:]: v.strip() for k, v in form.items() if k.startswith("map:") and v.strip()},
        skip_invalid=form.get("skip_invalid") == "1",
    )


def _digest(plan: importing.Plan) -> str:
    """What the plan's choices come to (part, mapping, leaving out bad rows): equal digests, equal imports."""
    state = [plan.part.part_id, plan.part.name, sorted(plan.catalog.mapping.items()), bool(plan.left_out),
             plan.catalog.default]
    return hashlib.sha256(json.dumps(state, ensure_ascii=False).encode()).hexdigest()[:24]


def _plan(pending: dict, data: bytes, options: importing.Options) -> importing.Plan:
    owner = db.session.get(Organisation, pending["owner"]) if pending["owner"] else None
    options.subject_id = pending.get("subject")
    plan = importing.plan_import(pending["name"], data, owner, options)
    unsealed(*plan.keys, message=SEALED_IMPORT)
    return plan


# Question cards a preview shows before "show all": a 5,000-question file made a 3.7 MB page, too much
# for a phone; the counts above the cards and the import itself still cover every question.
PREVIEW_CARDS = 100


def _show(plan: importing.Plan, pending: dict, note: str = ""):
    """The preview page; remember what it showed, so only a confirmation of exactly that imports.

    Changed questions come first (they alter what members already answer), then new ones; only the
    first PREVIEW_CARDS unless the organiser asks for all.
    """
    pending["digest"] = _digest(plan)
    session[UPLOAD_KEY] = pending
    cards = sorted((m for m in plan.matches if m.status != "unchanged"), key=lambda m: m.status != "changed")
    limit = None if request.form.get("all") == "1" else PREVIEW_CARDS
    return render_template(
        "admin/bank_preview.html", plan=plan, name=pending["name"], form=FlaskForm(), note=note,
        cards=cards[:limit], hidden_cards=len(cards[limit:]) if limit else 0,
        owner=bank_access.owner_label(plan.owner), parts=importing.usable_parts(plan.owner, plan.subject),
        subject=_subject_label(plan),
        points=sorted(plan.catalog.usable), letters=LETTERS,
    )


def _subject_label(plan: importing.Plan) -> str:
    target = importing.target_subject(plan.owner, plan.subject)
    return target.name if target is not None else f"{plan.owner.name}题库（导入时新建）"


@bp.route("/questions/import", methods=["GET", "POST"])
def bank_import():
    """Upload a bank file and see what it would store; nothing is written until confirmed."""
    form = _import_form()
    if not form.validate_on_submit():
        return render_template("admin/bank_import.html", form=form, problems=[])
    previews.sweep(_preview_dir(), _preview_ttl())  # every upload clears out expired previews
    upload = form.file.data
    data = upload.read()
    subject = _subject(form.subject.data)
    pending = {"name": upload.filename or "", "point": form.point.data or "",
               "owner": subject.owner_org_id if subject is not None else _owner_id(form.owner.data),
               "subject": subject.id if subject is not None else None}
    plan = _plan(pending, data, importing.Options(point=pending["point"]))
    if plan.problems and not plan.skippable:  # the file itself is refused: nothing is kept
        return render_template("admin/bank_import.html", form=form, problems=plan.problems)
    pending["token"] = previews.keep(_preview_dir(), data)
    return _show(plan, pending)


def _pending_file() -> tuple[dict, bytes] | None:
    pending = session.get(UPLOAD_KEY)
    if not FlaskForm().validate_on_submit() or not pending or "token" not in pending:
        flash("没有待导入的文件，请重新上传", "error")
        return None
    subject = _subject(pending.get("subject")) if pending.get("subject") else None
    if pending.get("subject") and (subject is None or subject.owner_org_id != pending.get("owner")):
        abort(403)  # the subject was retired, or the viewer lost the grant on its owner, since the preview
    if subject is None and pending.get("owner") not in _owners().values():
        abort(403)  # the viewer lost the grant on that organisation since the preview
    try:
        return pending, previews.peek(_preview_dir(), pending["token"], _preview_ttl())
    except previews.PreviewExpired as exc:
        session.pop(UPLOAD_KEY, None)
        flash(str(exc), "error")
        return None


@bp.post("/questions/import/preview")
def bank_import_preview():
    """Preview the uploaded file again with the organiser's choices."""
    found = _pending_file()
    if found is None:
        return redirect(url_for("admin.bank_import"))
    pending, data = found
    return _show(_plan(pending, data, _options(request.form, pending["point"])), pending)


@bp.post("/questions/import/confirm")
def bank_import_confirm():
    """Import the previewed file with the previewed choices, all or nothing, into the bank chosen for it."""
    found = _pending_file()
    if found is None:
        return redirect(url_for("admin.bank_import"))
    pending, data = found
    plan = _plan(pending, data, _options(request.form, pending["point"]))
    if _digest(plan) != pending.get("digest"):
        return _show(plan, pending, note="选择有改动：下面是按新的选择生成的预览，请核对后再确认导入")
    if not plan.importable:  # the bank changed since the preview: say what stops it now
        return _show(plan, pending)
    try:
        result = importing.apply_plan(plan)
    except question_bank.BankError as exc:
        return render_template("admin/bank_import.html", form=_import_form(), problems=exc.problems)
    with suppress(previews.PreviewExpired):
        previews.take(_preview_dir(), pending["token"], _preview_ttl())
    session.pop(UPLOAD_KEY, None)
    points = f"，新建知识点 {len(plan.new_points)} 个" if plan.new_points else ""
    flash(f"导入完成：新增 {result.created} 题，修订 {result.revised + result.updated} 题，未变 {result.unchanged} 题{points}",
          "success")
    return redirect(url_for("admin.bank_list"))


@bp.get("/questions/import/template.xlsx")
def bank_import_template():
    """The question template: header, two examples, and the knowledge points the viewer's banks may use."""
    data = question_template(bank_access.owner_choices(current_scope()))
    response = Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f"attachment; filename=template.xlsx; filename*=UTF-8''{quote('题库导入模板.xlsx')}"
    return response
