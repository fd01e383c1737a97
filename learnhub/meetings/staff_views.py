"""The secretary's side: start a meeting quiz, run it from the projector, invite guests, export attendance."""

from __future__ import annotations

import functools

import segno
from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from ..auth.decorators import current_scope, scoped_org_or_404, sealed_keys, staff_required
from ..extensions import db
from ..models import Assignment, Meeting, MeetingKind, utcnow
from ..reports.views import _xlsx
from ..services.reports import exports
from ..services import meetings
from ..services.meetings import records, setup, wall
from . import bp, paced, tagged
from .forms import GuestForm, MeetingForm, SelectChoice


def _managed(meeting_id: int) -> Meeting:
    """A meeting of a branch in the viewer's scope; anything else is 404."""
    meeting = db.get_or_404(Meeting, meeting_id)
    if not current_scope().covers(meeting.org):
        abort(404)
    return meeting


def _source() -> Assignment | None:
    """The quiz whose weak points the branch page came from (?assignment=), if the viewer may see it."""
    assignment_id = request.args.get("assignment", type=int)
    return db.session.get(Assignment, assignment_id) if assignment_id else None


@bp.route("/meetings/new/<int:org_id>", methods=["GET", "POST"])
@staff_required
def create(org_id: int):
    """Start a meeting quiz for a branch: title, kind, questions (its weakest points by default)."""
    org, source = scoped_org_or_404(org_id), _source()
    usable = setup.branch_subjects(org)
    subject_id = request.args.get("subject", type=int)
    subject = next((s for s in usable if s.id == subject_id), None)
    if subject_id is not None and subject is None:
        abort(404)
    points, offered, default = setup.candidates(current_scope(), org, source, subject_id)
    form = MeetingForm()
    form.questions.choices = [SelectChoice(q.id, f"{q.point.name}｜{q.stem[:60]}") for q in offered]
    if request.method == "GET":
        form.questions.data, form.title.data = default, f"{org.name}会议测验"
    elif form.validate_on_submit():
        try:
            chosen = setup.pick_questions(org, offered, form.questions.data or [], form.keys.data)
            meeting = meetings.create_meeting(current_scope(), org, form.title.data, MeetingKind(form.kind.data), chosen,
                                              current_user, form.seconds.data)
        except meetings.MeetingError as exc:
            form.questions.errors = [*form.questions.errors, str(exc)]
        else:
            return redirect(url_for("meetings.screen", meeting_id=meeting.id))
    return render_template("meetings/new.html", form=form, org=org, points=points, subjects=usable, subject=subject,
                           source=source)


@bp.get("/meetings/<int:meeting_id>")
@staff_required
def detail(meeting_id: int):
    """The meeting's record: attendance, questions, guests; the link to the projector and the export."""
    meeting = _managed(meeting_id)
    return render_template("meetings/detail.html", meeting=meeting, rows=records.attendance(meeting),
                           questions=records.question_rows(meeting), guest_form=GuestForm(), form=FlaskForm())


def _join_url(meeting: Meeting) -> str:
    return url_for("meetings.join", code=meeting.code, _external=True) if meeting.code else ""


@functools.lru_cache(maxsize=1024)
def _qr_svg(url: str) -> str:
    """The join address as an inline SVG QR code: 5 ms to draw, and the projector page is drawn again
    after every press of the secretary's buttons, so each process keeps the ones it drew."""
    return segno.make(url, error="m").svg_inline(scale=12, border=2, omitsize=True)


@bp.get("/meetings/<int:meeting_id>/screen")
@staff_required
def screen(meeting_id: int):
    """The projector page (1920×1080): QR code and code, then each question, its countdown and the wall."""
    meeting = _managed(meeting_id)
    url = _join_url(meeting)
    qr = _qr_svg(url) if url else ""
    return render_template("meetings/screen.html", meeting=meeting, qr=qr, join_url=url, form=FlaskForm(),
                           state=wall.screen_state(meeting, utcnow(), sealed_keys()))


@bp.get("/meetings/<int:meeting_id>/screen/state")
@staff_required
def screen_state(meeting_id: int):
    """The projector's poll (JSON); 304 while nothing it shows has changed (ETag)."""
    meeting, now = _managed(meeting_id), utcnow()
    counts = wall.screen_counts(meeting)
    tag = wall.screen_tag(meeting, now, counts)
    if request.if_none_match.contains_weak(tag):
        return paced(tagged(Response(status=304), tag), screen=True)
    return paced(tagged(jsonify(wall.screen_state(meeting, now, sealed_keys(), counts)), tag), screen=True)


def _control(meeting_id: int, action) -> object:
    meeting = _managed(meeting_id)
    if FlaskForm().validate_on_submit():
        try:
            action(meeting)
        except meetings.MeetingError as exc:
            flash(str(exc), "error")
    return redirect(url_for("meetings.screen", meeting_id=meeting.id))


@bp.post("/meetings/<int:meeting_id>/next")
@staff_required
def next_question(meeting_id: int):
    """Show the next question and start its countdown."""
    return _control(meeting_id, meetings.open_next)


@bp.post("/meetings/<int:meeting_id>/close")
@staff_required
def close_question(meeting_id: int):
    """Stop answers to the current question now and show its results."""
    return _control(meeting_id, meetings.close_current)


@bp.post("/meetings/<int:meeting_id>/end")
@staff_required
def end(meeting_id: int):
    """End the meeting quiz: the code stops working, the wall shows the rates per point."""
    return _control(meeting_id, meetings.end_meeting)


@bp.post("/meetings/<int:meeting_id>/guests")
@staff_required
def guest_add(meeting_id: int):
    """Invite a member from outside the branch by member number."""
    meeting, form = _managed(meeting_id), GuestForm()
    if form.validate_on_submit():
        try:
            user = meetings.add_guest(meeting, form.member_no.data)
        except meetings.MeetingError as exc:
            flash(str(exc), "error")
        else:
            flash(f"已邀请{user.name}", "success")
    else:
        flash("请输入党员编号", "error")
    return redirect(url_for("meetings.detail", meeting_id=meeting.id))


@bp.get("/meetings/<int:meeting_id>/attendance.xlsx")
@staff_required
def export(meeting_id: int):
    """Download the attendance, the questions and the rates per point as Excel."""
    meeting = _managed(meeting_id)
    tz = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    exports.log_export(current_user, "meeting.xlsx", f"{meeting.title} / {meeting.org.name}")
    stamp = exports.stamp(current_user, utcnow(), tz)
    return _xlsx(lambda out: records.write_workbook(out, meeting, stamp, tz, sealed_keys()), f"{meeting.title}-出勤.xlsx")
