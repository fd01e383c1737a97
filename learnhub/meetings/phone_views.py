"""The phones' side: type the code (or scan it), join, answer with large buttons."""

from __future__ import annotations

from flask import Response, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..auth.decorators import sealed_keys
from ..extensions import csrf, db, login_manager
from ..inputs import DB_INT_MAX, SEQ_MAX, accepts_json, bounded_int
from ..models import Meeting, User, utcnow
from ..services import meetings
from ..services.auth import sessions
from ..services.meetings import polling, setup, wall
from . import access, bp, paced, tagged
from .forms import CodeForm


def _joinable(meeting_id: int, user: User | None = None) -> Meeting:
    """A meeting the member may join (their branch, or invited); anything else is 404."""
    meeting = db.get_or_404(Meeting, meeting_id)
    if not meetings.may_join(meeting, user or current_user):
        abort(404)
    return meeting


def _signed_in(claim) -> User | Response:
    """The member a request comes from: the login its meeting token names (checked against the database),
    else the session's. These endpoints check the login themselves (security._SELF_CHECKED), so the
    first-password gate is here too."""
    user = sessions.user_of_device(*claim) if claim is not None else None
    if user is None:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        user = current_user._get_current_object()
    if user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return user


@bp.route("/m", methods=["GET", "POST"])
@login_required
def enter():
    """Type the code shown on the projector (lower case and full-width characters are fine)."""
    form = CodeForm()
    if form.validate_on_submit():
        meeting = meetings.find_open(meetings.normalise_code(form.code.data))
        if meeting is not None and meetings.may_join(meeting, current_user):
            meetings.join(meeting, current_user)
            return redirect(url_for("meetings.phone", meeting_id=meeting.id))
        form.code.errors = ["没有找到这个会议码，或你不在这次会议的范围内。请核对屏幕上的会议码"]
    return render_template("meetings/enter.html", form=form)


@bp.route("/m/<code>", methods=["GET", "POST"])
@login_required
def join(code: str):
    """The QR code's address: join the meeting (once) and go to its answer page."""
    meeting = meetings.find_open(meetings.normalise_code(code))
    if meeting is None or not meetings.may_join(meeting, current_user):
        abort(404)
    if request.method == "POST":  # CSRFProtect has checked the form's token
        meetings.join(meeting, current_user)
    if request.method == "POST" or setup.attending(meeting, current_user):
        return redirect(url_for("meetings.phone", meeting_id=meeting.id))
    return render_template("meetings/join.html", meeting=meeting)


@bp.get("/meetings/<int:meeting_id>/phone")
@login_required
def phone(meeting_id: int):
    """The answer page: the question being asked, large buttons, the countdown; answers kept until sent."""
    meeting = _joinable(meeting_id)
    if not setup.attending(meeting, current_user):
        if not meeting.is_open:
            abort(404)
        return redirect(url_for("meetings.join", code=meeting.code))
    return render_template("meetings/phone.html", meeting=meeting, token=access.issue(meeting.id))


@bp.get("/meetings/<int:meeting_id>/phone/state")
def phone_state(meeting_id: int):
    """A phone's poll (JSON); 304 while the meeting has not moved on (ETag). With the page's token an
    unchanged meeting is answered before Flask, without a query (unchanged.py); here a changed one costs
    one query (polling.tag_parts) and at most three more once per process and meeting phase
    (wall.quick_phone_state)."""
    now, claim = utcnow(), access.token_claim(meeting_id)
    parts = polling.tag_parts(meeting_id, claim, now) if claim is not None else None
    if parts is not None:  # the token's login is good and the member is in the meeting
        tag = polling.tag_of(meeting_id, parts.version, parts.phase)
        if request.if_none_match.contains_weak(tag):
            return paced(tagged(Response(status=304), tag))
        tag, state = wall.quick_phone_state(meeting_id, claim, parts, now)
        return paced(tagged(jsonify(state), tag))
    user = _signed_in(claim)
    if not isinstance(user, User):
        return user
    meeting = _joinable(meeting_id, user)
    tag = wall.phone_tag(meeting, now)
    if request.if_none_match.contains_weak(tag):
        return paced(tagged(Response(status=304), tag))
    return paced(tagged(jsonify(wall.phone_state(meeting, user.id, now, sealed_keys(user))), tag))


@bp.post("/meetings/<int:meeting_id>/answer")
@csrf.exempt  # access.check_csrf_unless_token: the answer page's token, or the session with its CSRF token
@accepts_json
def answer(meeting_id: int):
    """Save one answer (JSON: position, answer, seq); a resend is harmless, a later answer replaces it.
    With the page's token, one guarded statement (services/meetings/answering.py); when it stores
    nothing, the full path below finds out why."""
    claim = access.check_csrf_unless_token(meeting_id)
    data = request.get_json(silent=True)
    if claim is not None and isinstance(data, dict):
        try:
            position, seq = bounded_int(data.get("position"), 1, DB_INT_MAX), bounded_int(data.get("seq"), 0, SEQ_MAX)
            if meetings.quick_answer(meeting_id, claim, position, data.get("answer"), seq, utcnow()):
                return jsonify(ok=True, saved=True, seq=seq)
        except meetings.QuestionClosed as exc:
            return jsonify(ok=False, closed=True, error=str(exc)), 409
        except (TypeError, ValueError, meetings.MeetingError):
            pass  # the full path checks who is asking first, then gives the same refusal
    user = _signed_in(claim)
    if not isinstance(user, User):
        return user
    meeting = _joinable(meeting_id, user)
    if not isinstance(data, dict):
        return jsonify(ok=False, error="请求格式不正确"), 400
    try:
        position, seq = bounded_int(data.get("position"), 1, DB_INT_MAX), bounded_int(data.get("seq"), 0, SEQ_MAX)
        saved = meetings.record_answer(meeting, user, position, data.get("answer"), seq)
    except (TypeError, ValueError):
        return jsonify(ok=False, error="请求格式不正确"), 400
    except meetings.QuestionClosed as exc:
        return jsonify(ok=False, closed=True, error=str(exc)), 409
    except meetings.MeetingError as exc:
        return jsonify(ok=False, error=str(exc)), 400
    return jsonify(ok=True, saved=saved, seq=seq)
