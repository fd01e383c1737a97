"""The meeting quiz and the 复测 default to a branch's weakest points when those points are in an
organisation's subject (tree PART -> POINT, no article)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Assignment, MeetingKind, Organisation, Question, User, utcnow
from learnhub.services import meetings
from learnhub.services.exam import quizzes, rechecks
from learnhub.services.meetings import setup, wall
from learnhub.services.orgs import scope_for
from learnhub.services.reports import mastery

from ..subject_world import WORK, build_subject, keys_on, subject_assignment, take_paper


@pytest.fixture
def weak(app, world, monkeypatch):
    """第一支部 answered 党委A's subject: 三会一课 all right, 主题党日 all wrong, 党费收缴 half right."""
    monkeypatch.setattr(mastery, "MIN_ANSWERS", 1)
    with app.app_context():
        ids = build_subject(db.session.get(Organisation, world.org["a"]), "支部工作", WORK, "zb", per_point=4)
        exam = subject_assignment(db.session.get(Organisation, world.org["a"]), ids.subject, 12)
        db.session.commit()
        for key in ("m_a1", "sec_a1"):
            right = keys_on({"三会一课"}, ids) | ({"zb-009", "zb-010"} if key == "m_a1" else set())
            take_paper(exam, db.session.get(User, world.user[key]), right=right)
        return world, ids, exam.id


def test_meeting_quiz_defaults_to_the_weakest_points_of_the_subject(app, weak, login):
    world, ids, exam_id = weak
    with app.app_context():
        scope = scope_for(db.session.get(User, world.user["sec_a1"]))
        a1 = db.session.get(Organisation, world.org["a1"])
        for source in (None, db.session.get(Assignment, exam_id)):
            points, offered, default = setup.candidates(scope, a1, source)
            assert [p.point.name for p in points] == ["主题党日", "党费收缴", "三会一课"]
            picked = [db.session.get(Question, i) for i in default]
            assert {q.point.name for q in picked} == {"主题党日", "党费收缴", "三会一课"}
            assert all(q.point.subject_id == ids.subject and q.kind.value != "fill" for q in picked)
        meeting = meetings.create_meeting(scope, a1, "组织生活会测验", MeetingKind.GENERAL, picked,
                                          db.session.get(User, world.user["sec_a1"]))
        assert [mq.question.point.subject_id for mq in meeting.questions] == [ids.subject] * len(picked)
    page = login(world.login["sec_a1"]).get(f"/meetings/new/{world.org['a1']}?assignment={exam_id}").get_data(as_text=True)
    assert "本支部最薄弱的知识点" in page and "主题党日" in page and "支部工作 · 组织生活" in page


def test_the_recheck_offers_and_draws_the_subjects_weakest_points(app, weak, login):
    world, ids, exam_id = weak
    with app.app_context():
        scope = scope_for(db.session.get(User, world.user["sec_a1"]))
        a1 = db.session.get(Organisation, world.org["a1"])
        offer = rechecks.recheck_offer(scope, db.session.get(Assignment, exam_id), a1)
        assert [c.point.name for c in offer.weak] == ["主题党日", "党费收缴", "三会一课"]
        assert [c.available for c in offer.choices] == [4, 4, 4]
        request = rechecks.RecheckRequest(title="支部工作复测", point_ids=[ids.points["主题党日"], ids.points["党费收缴"]],
                                          count=4, closes_at=utcnow() + timedelta(days=2))
        recheck = rechecks.create_recheck(scope, db.session.get(Assignment, exam_id), a1, request,
                                          db.session.get(User, world.user["sec_a1"]))
        attempt = quizzes.start_attempt(recheck, db.session.get(User, world.user["m_a1b"]))
        drawn = {db.session.get(Question, e["q"]).point.name for e in attempt.paper}
        assert drawn == {"主题党日", "党费收缴"} and len(attempt.paper) == 4
    page = login(world.login["sec_a1"]).get(
        f"/reports/assignments/{exam_id}/units/{world.org['a1']}/recheck").get_data(as_text=True)
    assert "主题党日" in page and "支部工作 · 组织生活" in page and "支部工作 · 党员管理" in page


def test_the_meeting_wall_names_the_subject_and_part_of_an_organisations_question(app, weak):
    world, ids, exam_id = weak
    with app.app_context():
        secretary = db.session.get(User, world.user["sec_a1"])
        questions = list(db.session.scalars(select(Question).where(Question.key.in_(["zb-001", "zb-005", "zb-009"]))
                                            .order_by(Question.key)))
        meeting = meetings.create_meeting(scope_for(secretary), db.session.get(Organisation, world.org["a1"]), "测验",
                                          MeetingKind.GENERAL, questions, secretary)
        mq = meetings.open_next(meeting)
        assert "source" not in wall.question_view(mq.question, frozenset())  # nothing about it while it is asked
        meetings.close_current(meeting)
        shown = wall.results(meeting, mq, frozenset())
        assert (shown["source"], shown["point"]) == ("支部工作 · 组织生活", "三会一课")
        assert "source" not in wall.results(meeting, mq, frozenset({"zb-001"}))  # withheld from one who sits it


def test_the_meeting_page_chooses_a_subject(app, weak, login):
    world, ids, exam_id = weak
    with app.app_context():
        scope = scope_for(db.session.get(User, world.user["sec_a1"]))
        a1 = db.session.get(Organisation, world.org["a1"])
        assert setup.candidates(scope, a1, None, 1)[0] == []  # nobody in 第一支部 answered a 党章 question
        assert len(setup.candidates(scope, a1, None, ids.subject)[0]) == 3
    c = login(world.login["sec_a1"])
    page = c.get(f"/meetings/new/{world.org['a1']}").get_data(as_text=True)
    assert f"/meetings/new/{world.org['a1']}?subject={ids.subject}" in page
    constitution = c.get(f"/meetings/new/{world.org['a1']}?subject=1").get_data(as_text=True)
    assert "本支部还没有答题数据" in constitution and 'aria-current="page">党章<' in constitution
    assert login(world.login["org_b"]).get(f"/meetings/new/{world.org['b1']}?subject={ids.subject}").status_code == 404
