"""The phones' poll at scale: the answer page's token (one query for an unchanged meeting, no CSRF token
for an answer), checked exactly as a session would be; and the server pacing the polls so that many
meetings at once stay within what one server carries (services/meetings/polling.py)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from learnhub.extensions import db
from learnhub.models import DeviceSession, Meeting, MeetingAnswer, MeetingAttendance, User, utcnow
from learnhub.services import meetings
from learnhub.services.meetings import clocks, polling

from ..conftest import DATA
from ..security.conftest import login_with_token
from .helpers import make_meeting, right_answer, wrong_answer


@pytest.fixture
def csrf_app(app, world, make_app):
    """The world's database served with CSRF protection on, as in production."""
    return make_app(WTF_CSRF_ENABLED=True, QUESTIONS_DIR=str(DATA / "bank"), NOTES_DIR=str(DATA / "notes"))


@pytest.fixture
def room(csrf_app, world):
    """Branch A1's meeting with its first question open, member m_a1 joined on a phone: (app, client, id, token)."""
    with csrf_app.app_context():
        meeting = make_meeting(world.org["a1"], world.user["sec_a1"])
        meetings.open_next(meeting)
        meeting_id, code = meeting.id, meeting.code
    phone = login_with_token(csrf_app.test_client(), world.login["m_a1"])
    join_page = phone.get(f"/m/{code}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', join_page).group(1)
    assert phone.post(f"/m/{code}", data={"csrf_token": csrf}).status_code == 302
    page = phone.get(f"/meetings/{meeting_id}/phone").get_data(as_text=True)
    token = re.search(r'data-token="([^"]+)"', page).group(1)
    return csrf_app, phone, meeting_id, token


def _poll(client, meeting_id, token=None, tag=None):
    headers = {"Accept": "application/json"}
    if token:
        headers["X-Meeting-Token"] = token
    if tag:
        headers["If-None-Match"] = tag
    return client.get(f"/meetings/{meeting_id}/phone/state", headers=headers)


def _question(app, meeting_id):
    with app.app_context():
        return db.session.get(Meeting, meeting_id).questions[0].question


def test_an_unchanged_meeting_is_a_304_without_the_session_and_a_change_shows(room):
    app, phone, meeting_id, token = room
    first = _poll(phone, meeting_id, token)
    assert first.status_code == 200 and first.json["phase"] == "open" and first.json["position"] == 1
    assert int(first.headers["X-Poll-After"]) >= 1500
    tag = first.headers["ETag"]
    again = _poll(phone, meeting_id, token, tag)
    assert again.status_code == 304 and again.headers["ETag"] == tag
    assert "Set-Cookie" not in again.headers  # the session was neither decoded nor sent back
    # The page's token works after the browser dropped its session cookie (a meeting outlasting it).
    # (Through the session, the remember-me cookie would sign the device back in and set cookies.)
    phone.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    tokened = _poll(phone, meeting_id, token, tag)
    assert tokened.status_code == 304 and "Set-Cookie" not in tokened.headers
    with app.app_context():
        meetings.close_current(db.session.get(Meeting, meeting_id))
    moved = _poll(phone, meeting_id, token, tag)
    assert moved.status_code == 200 and moved.json["phase"] == "closed" and moved.headers["ETag"] != tag


def _statements(app):
    """SQL statements the app runs from now on (both its engines), as a list that fills in."""
    seen = []
    with app.app_context():
        engines = {db.engine, app.extensions["learnhub.autocommit_engine"]}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_an_unchanged_meeting_costs_no_query_and_a_change_elsewhere_shows_within_a_second(room, monkeypatch):
    app, phone, meeting_id, token = room
    tag = _poll(phone, meeting_id, token).headers["ETag"]
    assert _poll(phone, meeting_id, token, tag).status_code == 304  # this process now holds the meeting's clock
    statements = _statements(app)
    for _ in range(5):
        assert _poll(phone, meeting_id, token, tag).status_code == 304
    assert statements == []
    # Another server process moves the meeting on (here: the row changed behind this process's back).
    with app.app_context():
        db.session.execute(update(Meeting).where(Meeting.id == meeting_id).values(version=Meeting.version + 1))
        db.session.commit()
    later = time.monotonic() + clocks.CLOCK_TTL_S + 0.01
    monkeypatch.setattr(clocks.time, "monotonic", lambda: later)
    moved = _poll(phone, meeting_id, token, tag)
    assert moved.status_code == 200 and moved.json["position"] == 1 and moved.headers["ETag"] != tag
    assert _poll(phone, meeting_id, token, moved.headers["ETag"]).status_code == 304


def test_an_unchanged_poll_answered_before_flask_carries_the_apps_own_headers(room, monkeypatch):
    app, phone, meeting_id, token = room
    tag = _poll(phone, meeting_id, token).headers["ETag"]
    early = _poll(phone, meeting_id, token, tag)  # the token: answered before Flask (meetings/unchanged.py)
    through_app = _poll(phone, meeting_id, None, tag)  # the session: the view's own 304
    assert early.status_code == through_app.status_code == 304 and not early.data
    for name in ("ETag", "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options",
                 "Cache-Control"):
        assert early.headers[name] == through_app.headers[name], name
    assert int(early.headers["X-Poll-After"]) >= 1500
    # Anything going wrong there (here: the clocks unreadable) leaves the poll to the app: still a 304.
    monkeypatch.setattr(polling, "seen_tag", lambda *a: 1 / 0)
    fallback = _poll(phone, meeting_id, token, tag)
    assert fallback.status_code == 304 and fallback.headers["ETag"] == tag


def test_an_answer_with_the_pages_token_needs_no_csrf_token_and_one_without_either_is_refused(room):
    app, phone, meeting_id, token = room
    q = _question(app, meeting_id)
    url = f"/meetings/{meeting_id}/answer"
    refused = phone.post(url, json={"position": 1, "answer": right_answer(q), "seq": 1})
    assert refused.status_code == 400  # no token, no CSRF token
    with app.app_context():
        assert not db.session.scalars(select(MeetingAnswer)).all()
    saved = phone.post(url, headers={"X-Meeting-Token": token}, json={"position": 1, "answer": right_answer(q), "seq": 2})
    assert saved.status_code == 200 and saved.json["saved"] is True
    with app.app_context():
        stored = db.session.scalars(select(MeetingAnswer)).one()
        assert stored.is_correct and stored.seq == 2


@pytest.mark.parametrize("what", ["forged", "another meeting", "device signed out", "password changed",
                                  "account disabled", "first password pending", "moved to another branch"])
def test_a_token_is_only_as_good_as_the_login_and_the_meeting_it_was_issued_for(room, world, what):
    app, phone, meeting_id, token = room
    tag = _poll(phone, meeting_id, token).headers["ETag"]
    q = _question(app, meeting_id)
    target = meeting_id
    with app.app_context():
        member = db.session.get(User, world.user["m_a1"])
        if what == "forged":
            token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        elif what == "another meeting":
            target = make_meeting(world.org["a1"], world.user["sec_a1"], title="另一次测验").id
        elif what == "device signed out":
            db.session.execute(DeviceSession.__table__.delete().where(DeviceSession.user_id == member.id))
        elif what == "password changed":
            member.session_version += 1
        elif what == "account disabled":
            member.active = False
        elif what == "first password pending":
            member.must_change_password = True
        else:  # joined while in A1, then moved: no longer one of the branch's members (nor a guest)
            member.org_id = world.org["a2"]
        db.session.commit()
    phone.delete_cookie(app.config["SESSION_COOKIE_NAME"])  # only the token speaks for the phone
    # While the meeting stands still, the page that already shows it may hear so (a 304 without a body:
    # nothing it does not hold); anything with a body, and any change, needs the login.
    unchanged = _poll(phone, target, token, tag)
    allowed = (302, 400, 401, 404) if what in ("forged", "another meeting") else (302, 304, 400, 401, 404)
    assert unchanged.status_code in allowed and b'"phase"' not in unchanged.data, (what, unchanged.status_code)
    fresh = _poll(phone, target, token)
    answer = phone.post(f"/meetings/{target}/answer", headers={"X-Meeting-Token": token},
                        json={"position": 1, "answer": right_answer(q), "seq": 5})
    with app.app_context():
        meetings.close_current(db.session.get(Meeting, meeting_id))
    moved = _poll(phone, target, token, tag)
    for response in (fresh, answer, moved):
        assert response.status_code in (302, 400, 401, 404), (what, response.status_code)
        assert b'"phase"' not in response.data
    with app.app_context():
        assert not db.session.scalars(select(MeetingAnswer)).all()


def test_with_the_session_still_there_a_bad_token_falls_back_to_the_session(room):
    app, phone, meeting_id, token = room
    r = _poll(phone, meeting_id, token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    assert r.status_code == 200 and r.json["position"] == 1  # the session's own login, checked as ever


def test_the_polls_slow_down_as_more_phones_sit_in_meetings(app, world, login, monkeypatch):
    """Phones poll every 1.5 s (the projector every 1 s) while few are in meetings; beyond the budget
    MEETING_POLLS_PER_SECOND every one waits longer, up to 10 s (5 s for a projector)."""
    app.config["MEETING_POLLS_PER_SECOND"] = 3  # a (very small) server said to carry 3 polls a second
    with app.app_context():
        meeting = make_meeting(world.org["a1"], world.user["sec_a1"])
        meeting_id = meeting.id
        meetings.join(meeting, db.session.get(User, world.user["m_a1"]))
    monkeypatch.setattr("learnhub.services.meetings.polling._COUNT_TTL_S", 0)
    phone, screen = login(world.login["m_a1"]), login(world.login["sec_a1"])
    assert int(phone.get(f"/meetings/{meeting_id}/phone/state").headers["X-Poll-After"]) == 1500
    assert int(screen.get(f"/meetings/{meeting_id}/screen/state").headers["X-Poll-After"]) == 1000
    with app.app_context():  # every other account of the world joins too
        meeting = db.session.get(Meeting, meeting_id)
        others = db.session.scalars(select(User).where(User.id != world.user["m_a1"])).all()
        for user in others:
            db.session.add(MeetingAttendance(meeting_id=meeting_id, user_id=user.id, org_id=user.org_id))
        db.session.commit()
        phones = 1 + len(others)
    expected = 1000 * phones * (1 + 1 / 30) / 3
    waited = int(phone.get(f"/meetings/{meeting_id}/phone/state").headers["X-Poll-After"])
    assert waited == int(min(10_000, max(1500, expected))) and waited > 1500
    assert int(screen.get(f"/meetings/{meeting_id}/screen/state").headers["X-Poll-After"]) == int(min(5000, max(1000, expected)))
    with app.app_context():  # an ended meeting's phones no longer count
        meetings.end_meeting(db.session.get(Meeting, meeting_id))
    assert int(phone.get(f"/meetings/{meeting_id}/phone/state").headers["X-Poll-After"]) == 1500


def test_with_the_pages_token_answers_follow_the_same_rules_in_one_statement(room, world, monkeypatch):
    """Open question: stored, the later answer wins, a stale one changes nothing, a malformed one is 400;
    closed by the secretary or past its deadline and grace: 409, nothing stored. The answers that were
    stored went through the one guarded statement (services/meetings/answering.py), not the full path."""
    app, phone, meeting_id, token = room
    full_path = []
    original = meetings.record_answer
    monkeypatch.setattr(meetings, "record_answer", lambda *a, **k: (full_path.append(a), original(*a, **k))[1])
    q = _question(app, meeting_id)
    url, headers = f"/meetings/{meeting_id}/answer", {"X-Meeting-Token": token}
    first, second = wrong_answer(q), right_answer(q)
    assert phone.post(url, headers=headers, json={"position": 1, "answer": first, "seq": 10}).json["saved"] is True
    assert phone.post(url, headers=headers, json={"position": 1, "answer": second, "seq": 20}).json["saved"] is True
    assert not full_path  # both in one statement each
    assert phone.post(url, headers=headers, json={"position": 1, "answer": first, "seq": 15}).json["saved"] is False
    assert phone.post(url, headers=headers, json={"position": 1, "answer": "x", "seq": 30}).status_code == 400
    assert phone.post(url, headers=headers, json={"position": 2, "answer": 0, "seq": 31}).status_code == 409
    with app.app_context():
        stored = db.session.scalars(select(MeetingAnswer)).one()
        assert stored.is_correct and stored.seq == 20 and stored.answer == meetings.running.decode(q, second)
        meetings.close_current(db.session.get(Meeting, meeting_id))
    closed = phone.post(url, headers=headers, json={"position": 1, "answer": first, "seq": 40})
    assert closed.status_code == 409 and closed.json["closed"]
    with app.app_context():
        assert db.session.scalars(select(MeetingAnswer)).one().seq == 20


def test_with_the_pages_token_an_answer_after_the_deadline_and_grace_is_refused_at_once(room, monkeypatch):
    """A late answer is refused with the full path's 409 and message, without the full path's work (late
    answers pile up just when a server is busiest)."""
    app, phone, meeting_id, token = room
    full_path = []
    monkeypatch.setattr(meetings, "record_answer", lambda *a, **k: full_path.append(a))
    q = _question(app, meeting_id)
    with app.app_context():
        mq = db.session.get(Meeting, meeting_id).questions[0]
        mq.closes_at = utcnow() - timedelta(seconds=meetings.GRACE_SECONDS + 1)
        db.session.commit()
    late = phone.post(f"/meetings/{meeting_id}/answer", headers={"X-Meeting-Token": token},
                      json={"position": 1, "answer": right_answer(q), "seq": 5})
    assert late.status_code == 409 and late.json["closed"] is True and late.json["error"] == "这道题已经结束，答案没有保存"
    assert not full_path
    with app.app_context():
        assert not db.session.scalars(select(MeetingAnswer)).all()


def test_a_polled_state_with_the_token_is_what_the_session_path_shows_withheld_question_and_own_answer(csrf_app, world):
    """The token's full poll builds the shared part once per meeting version and phase (wall.quick_phone_state):
    each member still gets their own — the question withheld from one who sits an exam with it, their own answer."""
    from tests.factories import make_assignment

    from learnhub.models import Organisation
    from learnhub.services.exam import quizzes

    from .helpers import askable

    with csrf_app.app_context():
        questions = askable(3)
        exam = make_assignment(db.session.get(Organisation, world.org["a"]), questions, title="正在考的试卷")
        db.session.commit()
        quizzes.start_attempt(exam, db.session.get(User, world.user["m_a1"]))
        meeting = make_meeting(world.org["a1"], world.user["sec_a1"], questions)
        for who in ("m_a1", "m_a1b"):
            meetings.join(meeting, db.session.get(User, world.user[who]))
        meetings.open_next(meeting)
        meeting_id, options = meeting.id, meeting.questions[0].question.options
    phones = {}
    for who in ("m_a1", "m_a1b"):
        client = login_with_token(csrf_app.test_client(), world.login[who])
        page = client.get(f"/meetings/{meeting_id}/phone").get_data(as_text=True)
        phones[who] = (client, re.search(r'data-token="([^"]+)"', page).group(1))
    q = _question(csrf_app, meeting_id)
    client, token = phones["m_a1b"]
    assert client.post(f"/meetings/{meeting_id}/answer", headers={"X-Meeting-Token": token},
                       json={"position": 1, "answer": right_answer(q), "seq": 7}).json["saved"] is True
    for who, (client, token) in phones.items():
        quick, full = _poll(client, meeting_id, token), _poll(client, meeting_id)
        assert quick.status_code == full.status_code == 200 and quick.headers["ETag"] == full.headers["ETag"]
        quick_state, full_state = quick.json, full.json
        assert abs(quick_state.pop("seconds_left") - full_state.pop("seconds_left")) < 2
        assert quick_state == full_state, who
    sitting = _poll(phones["m_a1"][0], meeting_id, phones["m_a1"][1]).json
    other = _poll(phones["m_a1b"][0], meeting_id, phones["m_a1b"][1]).json
    assert sitting["question"]["withheld"] and not any(o and o in str(sitting) for o in options) and "mine" not in sitting
    assert other["question"]["options"] == options and other["mine"]["seq"] == 7


def test_an_invited_guest_from_another_branch_polls_and_answers_with_the_token(csrf_app, world):
    with csrf_app.app_context():
        meeting = make_meeting(world.org["a1"], world.user["sec_a1"])
        meetings.add_guest(meeting, db.session.get(User, world.user["m_a2"]).member_no)
        meetings.join(meeting, db.session.get(User, world.user["m_a2"]))
        meetings.open_next(meeting)
        meeting_id = meeting.id
    guest = login_with_token(csrf_app.test_client(), world.login["m_a2"])
    token = re.search(r'data-token="([^"]+)"', guest.get(f"/meetings/{meeting_id}/phone").get_data(as_text=True)).group(1)
    guest.delete_cookie(csrf_app.config["SESSION_COOKIE_NAME"])
    first = _poll(guest, meeting_id, token)
    assert first.status_code == 200 and first.json["position"] == 1 and "Set-Cookie" not in first.headers
    assert _poll(guest, meeting_id, token, first.headers["ETag"]).status_code == 304
    q = _question(csrf_app, meeting_id)
    saved = guest.post(f"/meetings/{meeting_id}/answer", headers={"X-Meeting-Token": token},
                       json={"position": 1, "answer": right_answer(q), "seq": 3})
    assert saved.status_code == 200 and saved.json["saved"] is True and "Set-Cookie" not in saved.headers
