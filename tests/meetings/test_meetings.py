"""Meeting quizzes: who may start, see and join a meeting; the code; answers only while a question is open;
no key before its question closes; the wall's figures; attendance and its export."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Assignment, Meeting, MeetingAnswer, Organisation, User, utcnow
from learnhub.services import meetings
from learnhub.services.exam import quizzes
from learnhub.services.meetings import codes, wall

from .helpers import askable, make_meeting, right_answer, wrong_answer


@pytest.fixture
def meeting(app, world):
    """A meeting of branch A1 started by its secretary, not yet showing a question: (id, code)."""
    with app.app_context():
        m = make_meeting(world.org["a1"], world.user["sec_a1"])
        return m.id, m.code


def _get(app, meeting_id):
    return db.session.get(Meeting, meeting_id)


def test_code_is_six_unambiguous_characters_and_typed_any_way_finds_it(app, meeting, world, login):
    meeting_id, code = meeting
    assert len(code) == 6 and set(code) <= set(codes.ALPHABET) and not set(code) & set("0O1IL25S8B")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code.lower())
    assert codes.normalise_code(f" {full_width[:3]} - {full_width[3:]} ") == code
    c = login(world.login["m_a1"])
    response = c.post("/m", data={"code": full_width})
    assert response.status_code == 302 and response.location.endswith(f"/meetings/{meeting_id}/phone")
    wrong = c.post("/m", data={"code": "ZZZZZZ"})
    assert wrong.status_code == 200 and "没有找到这个会议码" in wrong.get_data(as_text=True)


def test_open_meetings_never_share_a_code_and_an_ended_meeting_frees_it(app, world, monkeypatch):
    with app.app_context():
        first = make_meeting(world.org["a1"], world.user["sec_a1"])
        drawn = iter([first.code, first.code, "AAAAAA"])
        monkeypatch.setattr("learnhub.services.meetings.setup.new_code", lambda: next(drawn))
        second = make_meeting(world.org["a1"], world.user["sec_a1"])
        assert second.code == "AAAAAA"
        meetings.end_meeting(first)
        assert first.code is None and meetings.find_open("AAAAAA").id == second.id


def test_secretary_of_another_branch_cannot_start_see_or_join(app, meeting, world, login):
    meeting_id, code = meeting
    other = login(world.login["sec_a2"])
    assert other.get(f"/meetings/new/{world.org['a1']}").status_code == 404
    assert other.post(f"/meetings/new/{world.org['a1']}", data={"title": "越权", "kind": "general"}).status_code == 404
    for url in (f"/meetings/{meeting_id}", f"/meetings/{meeting_id}/screen", f"/meetings/{meeting_id}/screen/state",
                f"/meetings/{meeting_id}/attendance.xlsx", f"/meetings/{meeting_id}/phone", f"/m/{code}"):
        assert other.get(url).status_code == 404, url
    for url in ("next", "close", "end", "guests"):
        assert other.post(f"/meetings/{meeting_id}/{url}").status_code == 404
    assert other.post(f"/m/{code}").status_code == 404
    assert "没有找到这个会议码" in other.post("/m", data={"code": code}).get_data(as_text=True)
    with app.app_context():
        assert _get(app, meeting_id).current == 0 and not wall.joined_count(meeting_id)
    # The controls: the branch's own secretary sees it, a member of the branch joins it.
    assert login(world.login["sec_a1"]).get(f"/meetings/{meeting_id}/screen").status_code == 200
    assert login(world.login["m_a1"]).post(f"/m/{code}").status_code == 302


def test_start_from_the_branch_page_defaults_to_its_weakest_points(app, world, login):
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        quizzes.submit_attempt(quizzes.start_attempt(assignment, db.session.get(User, world.user["m_a1"])), None, 60)
    c = login(world.login["sec_a1"])
    unit = c.get(f"/reports/assignments/{world.assignment_a}/units/{world.org['a1']}").get_data(as_text=True)
    assert "会议测验" in unit and f"/meetings/new/{world.org['a1']}" in unit.replace("&amp;", "&")
    page = c.get(f"/meetings/new/{world.org['a1']}?assignment={world.assignment_a}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "本支部最薄弱的知识点" in html and html.count("checked") >= 3
    too_few = c.post(f"/meetings/new/{world.org['a1']}", data={"title": "两道题", "kind": "lecture", "seconds": 60,
                                                                   "keys": ""})
    assert too_few.status_code == 200 and "请选择 3 到 10 道题" in too_few.get_data(as_text=True)
    with app.app_context():
        keys = " ".join(q.key.lower() for q in askable(3))
    made = c.post(f"/meetings/new/{world.org['a1']}", data={"title": "党课测验", "kind": "lecture", "seconds": 45,
                                                                "keys": keys})
    assert made.status_code == 302 and "/screen" in made.location
    with app.app_context():
        m = db.session.scalars(select(Meeting).filter_by(title="党课测验")).one()
        assert m.kind.label == "党课" and len(m.questions) == 3 and m.seconds == 45


def _join(app, meeting_id, member):
    with app.app_context():
        meetings.join(db.session.get(Meeting, meeting_id), db.session.get(User, member))


def test_a_member_of_another_branch_joins_only_once_invited_by_member_number(app, meeting, world, login):
    meeting_id, code = meeting
    guest = login(world.login["m_a2"])
    assert guest.post(f"/m/{code}").status_code == 404
    sec = login(world.login["sec_a1"])
    sec.post(f"/meetings/{meeting_id}/guests", data={"member_no": world.login["m_a2"].upper()})
    assert guest.post(f"/m/{code}").status_code == 302
    page = sec.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "党员甲二" in page and "受邀" in page


def test_answers_only_while_the_question_is_open_and_the_later_one_wins(app, meeting, world, login):
    meeting_id, _ = meeting
    _join(app, meeting_id, world.user["m_a1"])
    phone = login(world.login["m_a1"])
    url = f"/meetings/{meeting_id}/answer"
    assert phone.post(url, json={"position": 1, "answer": 0, "seq": 1}).status_code == 409  # not opened yet
    with app.app_context():
        m = db.session.get(Meeting, meeting_id)
        meetings.open_next(m)
        q = m.questions[0].question
        first, second = wrong_answer(q), right_answer(q)
    assert phone.post(url, json={"position": 1, "answer": first, "seq": 10}).get_json()["saved"] is True
    assert phone.post(url, json={"position": 1, "answer": second, "seq": 20}).get_json()["saved"] is True
    assert phone.post(url, json={"position": 1, "answer": first, "seq": 15}).get_json()["saved"] is False  # stale
    assert phone.post(url, json={"position": 1, "answer": "x", "seq": 30}).status_code == 400
    with app.app_context():
        stored = db.session.scalars(select(MeetingAnswer).filter_by(meeting_id=meeting_id)).one()
        assert stored.is_correct and stored.seq == 20
        meetings.close_current(db.session.get(Meeting, meeting_id))
    closed = phone.post(url, json={"position": 1, "answer": first, "seq": 40})
    assert closed.status_code == 409 and closed.get_json()["closed"]
    with app.app_context():
        assert db.session.scalars(select(MeetingAnswer).filter_by(meeting_id=meeting_id)).one().is_correct


def test_deadline_closes_a_question_after_a_small_grace(app, meeting, world):
    meeting_id, _ = meeting
    _join(app, meeting_id, world.user["m_a1"])
    with app.app_context():
        m, user = db.session.get(Meeting, meeting_id), db.session.get(User, world.user["m_a1"])
        mq = meetings.open_next(m)
        late = mq.closes_at + timedelta(seconds=meetings.GRACE_SECONDS - 1)
        assert meetings.record_answer(m, user, 1, right_answer(mq.question), 5, now=late)
        with pytest.raises(meetings.QuestionClosed):
            meetings.record_answer(m, user, 1, right_answer(mq.question), 6, now=mq.closes_at + timedelta(seconds=meetings.GRACE_SECONDS + 1))


def test_no_key_reaches_a_phone_or_the_projector_before_the_question_closes(app, meeting, world, login):
    meeting_id, code = meeting
    _join(app, meeting_id, world.user["m_a1"])
    with app.app_context():
        m = db.session.get(Meeting, meeting_id)
        meetings.open_next(m)
        q = m.questions[0].question
        secrets = [q.explanation, q.article]
    sec, phone = login(world.login["sec_a1"]), login(world.login["m_a1"])
    open_screen = sec.get(f"/meetings/{meeting_id}/screen/state").get_json()
    open_phone = phone.get(f"/meetings/{meeting_id}/phone/state").get_json()
    for body in (open_screen, open_phone):
        assert body["phase"] == "open" and "results" not in body and "right" not in str(body)
        assert not any(s and s in str(body) for s in secrets)
    page = sec.get(f"/meetings/{meeting_id}/screen").get_data(as_text=True)
    assert not any(s and s in page for s in secrets)
    phone.post(f"/meetings/{meeting_id}/answer", json={"position": 1, "answer": right_answer(q), "seq": 1})
    sec.post(f"/meetings/{meeting_id}/close")
    closed = sec.get(f"/meetings/{meeting_id}/screen/state").get_json()
    assert closed["phase"] == "closed" and closed["results"]["explanation"] == q.explanation
    assert closed["results"]["answered"] == 1 and closed["results"]["share"] == 100 and sum(closed["results"]["counts"]) == 1
    assert "党员甲一" not in str(closed)  # never names
    after = phone.get(f"/meetings/{meeting_id}/phone/state").get_json()
    assert after["phase"] == "closed" and "results" not in after and q.explanation not in str(after)


def test_a_poll_that_finds_nothing_new_is_a_304(app, meeting, world, login):
    meeting_id, _ = meeting
    sec = login(world.login["sec_a1"])
    first = sec.get(f"/meetings/{meeting_id}/screen/state")
    again = sec.get(f"/meetings/{meeting_id}/screen/state", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    sec.post(f"/meetings/{meeting_id}/next")
    moved = sec.get(f"/meetings/{meeting_id}/screen/state", headers={"If-None-Match": first.headers["ETag"]})
    assert moved.status_code == 200 and moved.get_json()["phase"] == "open"


def test_attendance_export_names_date_kind_and_questions_and_is_formula_safe(app, world, login):
    with app.app_context():
        member = db.session.get(User, world.user["m_a1"])
        member.name = "=HYPERLINK(\"http://x\")"
        db.session.commit()
        m = make_meeting(world.org["a1"], world.user["sec_a1"], title="+主题党日测验")
        meetings.join(m, member)
        mq = meetings.open_next(m)
        meetings.record_answer(m, member, 1, right_answer(mq.question), 1)
        meeting_id = m.id
    response = login(world.login["sec_a1"]).get(f"/meetings/{meeting_id}/attendance.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book["出勤"]
    assert sheet["A1"].value.startswith("'+主题党日测验") and "支部党员大会" in sheet["A1"].value and "会议日期" in sheet["A1"].value
    assert sheet["B5"].value.startswith("'=") and sheet["A5"].value == "ma1" and sheet["F5"].value == 1
    assert book["题目"].max_row == 4 + 3


def test_the_end_shows_the_class_rate_per_point_beside_the_branch_rate_before(app, world):
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        quizzes.submit_attempt(quizzes.start_attempt(assignment, db.session.get(User, world.user["m_a1b"])), None, 60)
        paper_points = {q.question.point_id for q in assignment.questions}
        qs = [q for q in askable(20) if q.point_id in paper_points][:3] or askable(3)
        m = make_meeting(world.org["a1"], world.user["sec_a1"], qs)
        member = db.session.get(User, world.user["m_a1"])
        meetings.join(m, member)
        for _ in qs:
            mq = meetings.open_next(m)
            meetings.record_answer(m, member, mq.position, right_answer(mq.question), 1)
        meetings.end_meeting(m)
        rows = wall.summary(m)
        assert all(r.now.rate == 100.0 for r in rows)
        judged = [r for r in rows if r.before.answered]
        assert judged and all(r.before.rate == 0.0 for r in judged)  # the blank paper earlier: all wrong
        state = wall.screen_state(m, utcnow(), frozenset())
        assert state["phase"] == "ended" and state["code"] is None and state["summary"][0]["now"] == 100.0


def test_meeting_answers_count_in_the_branch_trend_per_point(app, world):
    from learnhub.services.reports import trends
    from learnhub.services.orgs import scope_for

    with app.app_context():
        m = make_meeting(world.org["a1"], world.user["sec_a1"])
        member = db.session.get(User, world.user["m_a1"])
        meetings.join(m, member)
        mq = meetings.open_next(m)
        meetings.record_answer(m, member, 1, wrong_answer(mq.question), 1)
        scope = scope_for(db.session.get(User, world.user["sec_a1"]))
        unit = db.session.get(Organisation, world.org["a1"])
        trend = trends.point_trend(scope, unit, utcnow(), "Asia/Shanghai")
        row = next(r for r in trend.rows if r.key == mq.question.point_id)
        cell = row.cells[trend.months[-1]]
        assert (cell.answered, cell.right) == (1, 0)
        branch = next(r for r in trends.branch_trend(scope, utcnow(), "Asia/Shanghai").rows if r.key == unit.id)
        assert branch.cells[trend.months[-1]].answered == 1


def test_a_member_who_sits_an_exam_with_the_question_gets_it_withheld_on_the_phone(app, world, login):
    from tests.factories import make_assignment

    with app.app_context():
        questions = askable(3)
        exam = make_assignment(db.session.get(Organisation, world.org["a"]), questions, title="正在考的试卷")
        db.session.commit()
        member = db.session.get(User, world.user["m_a1"])
        quizzes.start_attempt(exam, member)
        m = make_meeting(world.org["a1"], world.user["sec_a1"], questions)
        meetings.join(m, member)
        meetings.join(m, db.session.get(User, world.user["m_a1b"]))
        mq = meetings.open_next(m)
        meeting_id, options = m.id, mq.question.options
    sitting = login(world.login["m_a1"]).get(f"/meetings/{meeting_id}/phone/state").get_json()
    assert sitting["question"]["withheld"] and not any(o and o in str(sitting) for o in options)
    other = login(world.login["m_a1b"]).get(f"/meetings/{meeting_id}/phone/state").get_json()
    assert not other["question"].get("withheld") and other["question"]["options"] == options
