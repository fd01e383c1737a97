"""A branch's re-check exam, asked for on a form that says what will happen; withdrawing an assignment
nobody has started."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from ..auth.decorators import current_scope, staff_required
from ..models import Organisation
from ..services import ServiceError
from ..services.exam import assignments, rechecks
from . import bp
from .forms import RecheckForm
from .member_views import _refused
from .views import _unit, _visible_assignment

RECHECK_DAYS = 7
DEADLINE_HOUR = 22  # the default deadline: a week from today, in the evening, when members have time


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _prefill(form: RecheckForm, offer: rechecks.RecheckOffer, org: Organisation) -> None:
    local = datetime.now(_zone()) + timedelta(days=RECHECK_DAYS)
    form.points.data = [c.point.id for c in offer.weak]
    form.count.data = offer.default_count
    form.closes_at.data = local.replace(hour=DEADLINE_HOUR, minute=0, second=0, microsecond=0, tzinfo=None)
    form.title.data = offer.default_title(org)[:200]


def _request(form: RecheckForm) -> rechecks.RecheckRequest:
    return rechecks.RecheckRequest(
        title=form.title.data, point_ids=list(form.points.data or []), count=form.count.data,
        closes_at=form.closes_at.data.replace(tzinfo=_zone()).astimezone(timezone.utc),
        time_limit_minutes=form.time_limit_minutes.data,
    )


@bp.route("/assignments/<int:assignment_id>/units/<int:org_id>/recheck", methods=["GET", "POST"])
@staff_required
def recheck(assignment_id: int, org_id: int):
    """Offer a re-check exam for the branch on its weakest points; publish it once the form is confirmed."""
    item = _visible_assignment(assignment_id)
    org = _unit(item, org_id)
    if not current_scope().covers(org):
        abort(404)
    offer = rechecks.recheck_offer(current_scope(), item, org)
    form = RecheckForm()
    form.points.choices = [(c.point.id, c.point.name) for c in offer.choices]
    if request.method == "GET":
        _prefill(form, offer, org)
    elif form.validate_on_submit():
        try:
            new = rechecks.create_recheck(current_scope(), item, org, _request(form), current_user)
        except ServiceError as exc:
            _refused(form, exc)
        else:
            flash(f"已向{org.name}的 {offer.members} 名党员发布「{new.title}」。在有人开始作答之前，可以在本页撤回。", "success")
            return redirect(url_for("reports.assignment", assignment_id=new.id))
    return render_template("reports/recheck.html", assignment=item, org=org, offer=offer, form=form,
                           attempts=rechecks.ATTEMPTS)


@bp.route("/assignments/<int:assignment_id>/withdraw", methods=["GET", "POST"])
@staff_required
def withdraw(assignment_id: int):
    """Ask, then withdraw an assignment nobody has started; its creator (or an admin) only."""
    item = _visible_assignment(assignment_id)
    scope = current_scope()
    form = FlaskForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            assignments.withdraw_assignment(scope, item, current_user)
        except ServiceError as exc:
            flash(str(exc), "error")
            return redirect(url_for("reports.withdraw", assignment_id=item.id))
        flash(f"已撤回「{item.title}」：党员的任务列表中不再有它", "success")
        return redirect(url_for("reports.index"))
    return render_template(
        "reports/withdraw.html", assignment=item, form=form, members=rechecks.members_in(item.org),
        allowed=assignments.may_withdraw(scope, item, current_user), started=assignments.started_count(item),
    )
