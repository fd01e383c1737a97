from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from ..auth.decorators import current_scope
from ..extensions import db
from ..models import Material, MaterialAttachment, utcnow
from ..services.reports import landing
from ..services.study import attachments, material_access, materials
from ..services.exam import quizzes
from . import bp
from .files import attachment_refs, attachments_dir


@bp.get("/")
@login_required
def index():
    """Land where the viewer's work starts: a secretary on their branch's open tasks, an organiser on
    their committee's, a member on their own tasks."""
    config = current_app.config
    home = landing.landing(current_scope(), utcnow(), config["BABEL_DEFAULT_TIMEZONE"], config["ATTEMPT_GRACE_SECONDS"])
    if isinstance(home, landing.BranchHome):
        return render_template("study/home_branch.html", home=home)
    if isinstance(home, landing.CommitteeHome):
        return render_template("study/home_committee.html", home=home)
    return tasks()


@bp.get("/tasks")
@login_required
def tasks():
    """Show the member's assignments: due date, done or not, score, a retry when one is allowed."""
    rows = quizzes.standings(current_user, current_app.config["ATTEMPT_GRACE_SECONDS"])
    return render_template("study/index.html", rows=rows, now=utcnow())


@bp.get("/study/")
@login_required
def materials_list():
    """The study materials the member may read, by subject, with their reading progress."""
    return render_template(
        "study/materials_list.html", groups=materials.by_subject(current_scope()),
        readings=materials.readings_of(current_user),
    )


def _readable(slug: str) -> Material:
    """A material that exists for the viewer (its owner's subtree, or built-in); anything else is 404."""
    item = db.one_or_404(select(Material).filter_by(slug=slug))
    if not material_access.can_see(current_scope(), item):
        abort(404)
    return item


@bp.get("/study/<slug>")
@login_required
def material(slug: str):
    """Read the current version of a material; the opening (and the version on the page) is recorded."""
    item = _readable(slug)
    reading = materials.record_opened(current_user, item)
    files = [a for a in attachments.of_material(item) if a.kind != "image"]
    return render_template(
        "study/material.html", material=item, html=materials.render_markdown(item.body_md, attachment_refs(item)),
        reading=reading, files=files, form=FlaskForm(),
    )


@bp.post("/study/<slug>/done")
@login_required
def material_done(slug: str):
    """Record that the member finished reading this material (the version their page showed)."""
    item = _readable(slug)
    if FlaskForm().validate_on_submit():
        materials.mark_completed(current_user, item, quizzes.assignments_for(current_user),
                                 request.form.get("version", type=int))
        flash(f"已学完《{item.title}》", "success")
    return redirect(url_for("study.material", slug=slug))


# Attachments are shown, never run: no script, no plugin, no form, no frame, in a sandbox of their own.
ATTACHMENT_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; " \
                 "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox"
ATTACHMENT_MAX_AGE = 365 * 24 * 3600  # an attachment's address always serves the same bytes


@bp.get("/study/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """An image, PDF or audio file of a material the viewer may read (else 404), with its own type, a safe
    Content-Disposition, nosniff, a sandbox and a long private cache (ETag: its SHA-256)."""
    item = db.session.get(MaterialAttachment, attachment_id)
    if item is None or item.removed_at is not None or not material_access.can_see(current_scope(), item.material):
        abort(404)
    path = attachments.path_of(item, attachments_dir())
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=item.mimetype, conditional=True, etag=item.sha256,
                         last_modified=item.created_at, max_age=ATTACHMENT_MAX_AGE)
    response.headers["Content-Disposition"] = attachments.disposition(item)
    response.headers["Content-Security-Policy"] = ATTACHMENT_CSP
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.immutable = True
    return response
