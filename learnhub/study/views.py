from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from ..auth.decorators import current_scope
from ..extensions import db
from ..models import Material, utcnow
from ..services.reports import landing
from ..services.study import materials
from ..services.exam import quizzes
from . import bp


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
    """List the study materials with the member's reading progress."""
    return render_template(
        "study/materials_list.html", materials=materials.list_materials(), readings=materials.readings_of(current_user)
    )


@bp.get("/study/<slug>")
@login_required
def material(slug: str):
    """Read one material; the first opening is recorded."""
    item = db.one_or_404(select(Material).filter_by(slug=slug))
    reading = materials.record_opened(current_user, item)
    return render_template(
        "study/material.html", material=item, html=materials.render_markdown(item.body_md), reading=reading,
        form=FlaskForm(),
    )


@bp.post("/study/<slug>/done")
@login_required
def material_done(slug: str):
    """Record that the member finished reading this material."""
    item = db.one_or_404(select(Material).filter_by(slug=slug))
    if FlaskForm().validate_on_submit():
        materials.mark_completed(current_user, item, quizzes.assignments_for(current_user))
        flash(f"已学完《{item.title}》", "success")
    return redirect(url_for("study.material", slug=slug))
