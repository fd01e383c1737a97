"""Daily practice with instant feedback, and a mistake book that brings errors back on a spaced schedule."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Assignment, MistakeCard, PracticeAnswer, PracticeMode, PracticeServed, Question, QuestionReport, User, utcnow
from learnhub.services.study import practice
from learnhub.services.exam import quizzes
from learnhub.services.study.mistakes import CLEAR_AFTER

from ..factories import practise
from ..quiz.helpers import shown_answer

TZ = "Asia/Shanghai"


def right(q: Question):
    return shown_answer(q, list(range(len(q.options))), True)


def wrong(q: Question):
    return shown_answer(q, list(range(len(q.options))), False)


def as_form(value) -> list:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def served_id(page: str) -> int:
    """The id of the served question a practice page's form answers."""
    return int(re.search(r'name="served" value="(\d+)"', page).group(1))


def test_daily_five_are_stable_for_the_day_and_give_instant_feedback(app, world, login):
    c = login(world.login["m_a1"])
    assert "每日一练" in c.get("/practice/").get_data(as_text=True)
    seen = []
    for _ in range(5):
        page = c.get("/practice/daily").get_data(as_text=True)
        served = served_id(page)
        with app.app_context():
            q = db.session.get(PracticeServed, served).question
            seen.append(q.id)
            answer = right(q) if len(seen) % 2 else wrong(q)
        r = c.post("/practice/answer", data={"served": served, "a": as_form(answer)})
        feedback = c.get(r.location).get_data(as_text=True)
        assert ("答对了" if len(seen) % 2 else "答错了") in feedback and "正确答案" in feedback and "出处" in feedback
    assert len(set(seen)) == 5
    done = c.get("/practice/daily").get_data(as_text=True)
    assert "今天的 5 道题已完成" in done and "答对 3 / 5 题" in done


def test_wrong_answer_enters_the_book_and_returns_on_a_spaced_schedule(app, world, ctx):
    member = db.session.get(User, world.user["m_a1"])
    q = db.session.scalar(select(Question).where(Question.key == "t01-001"))
    day0 = utcnow()
    practise(member, q, wrong(q), PracticeMode.DAILY, now=day0)
    card = db.session.scalar(select(MistakeCard))
    assert card.cleared_at is None and card.due > day0
    assert practice.due_cards(member, day0, TZ) == []  # not due the same day
    when = card.due
    cleared_at = None
    for i in range(CLEAR_AFTER):
        assert practice.due_cards(member, when, TZ)[0].question_key == "t01-001"
        feedback = practise(member, q, right(q), PracticeMode.REVIEW, now=when)
        card = db.session.scalar(select(MistakeCard))
        gaps = card.due - when
        if i < CLEAR_AFTER - 1:
            assert not feedback.cleared and gaps >= timedelta(days=1)
        else:
            assert feedback.cleared
            cleared_at = card.cleared_at
        when = card.due
    assert cleared_at is not None and practice.due_cards(member, when + timedelta(days=365), TZ) == []


def test_a_wrong_review_resets_the_streak(app, world, ctx):
    member = db.session.get(User, world.user["m_a1"])
    q = db.session.scalar(select(Question).where(Question.key == "t01-001"))
    now = utcnow()
    practise(member, q, wrong(q), PracticeMode.DAILY, now=now)
    card = db.session.scalar(select(MistakeCard))
    practise(member, q, right(q), PracticeMode.REVIEW, now=card.due)
    assert card.right_streak == 1
    practise(member, q, wrong(q), PracticeMode.REVIEW, now=card.due)
    assert card.right_streak == 0 and card.lapses == 2


def test_daily_review_cap_keeps_a_missed_week_from_piling_up(app, world, ctx, monkeypatch):
    member = db.session.get(User, world.user["m_a1"])
    monkeypatch.setattr(practice, "REVIEW_CAP", 3)
    now = utcnow()
    for q in db.session.scalars(select(Question)):
        practise(member, q, wrong(q), PracticeMode.DAILY, now=now)
    later = now + timedelta(days=7)
    due = practice.due_cards(member, later, TZ)
    assert len(due) == 3
    for card in due:
        practise(member, card.question, right(card.question), PracticeMode.REVIEW, now=later)
    assert practice.due_cards(member, later, TZ) == []


def test_exam_mistakes_go_into_the_book(app, world, ctx):
    member = db.session.get(User, world.user["m_a1"])
    attempt = quizzes.start_attempt(db.session.get(Assignment, world.assignment_a), member)
    quizzes.submit_attempt(attempt, None, 60)  # nothing answered: all five wrong
    assert db.session.scalar(select(func.count()).select_from(MistakeCard).where(MistakeCard.user_id == member.id)) == 5


def test_stats_count_first_try_correctness_not_activity(app, world, ctx):
    member = db.session.get(User, world.user["m_a1"])
    q1, q2 = db.session.scalars(select(Question).order_by(Question.key).limit(2))
    practise(member, q1, right(q1), PracticeMode.CHAPTER)
    practise(member, q2, wrong(q2), PracticeMode.CHAPTER)
    practise(member, q2, right(q2), PracticeMode.CHAPTER)  # a second try does not raise the first-try rate
    stats = practice.stats(member)
    assert (stats.answered, stats.first_try, stats.first_try_right, stats.first_try_rate) == (3, 2, 1, 50.0)
    assert stats.in_book == 1


def test_chapter_practice_works_without_javascript(app, world, login):
    c = login(world.login["m_a1"])
    with app.app_context():
        part = db.session.scalar(select(Question).where(Question.key == "t11-001")).point.parent.parent
        part_id = part.id
    page = c.get(f"/practice/chapter/{part_id}").get_data(as_text=True)
    assert "党徽由五角星和麦穗组成" in page and 'action="/practice/answer"' in page
    r = c.post("/practice/answer", data={"served": served_id(page), "part_id": part_id, "a": "false"})
    assert "答对了" in c.get(r.location).get_data(as_text=True)


def test_empty_or_foreign_practice_answers_are_handled(app, world, login):
    c = login(world.login["m_a1"])
    served = served_id(c.get("/practice/daily").get_data(as_text=True))
    r = c.post("/practice/answer", data={"served": served}, follow_redirects=True)
    assert "请先作答" in r.get_data(as_text=True)
    assert c.post("/practice/answer", data={"served": 99999, "a": "0"}).status_code == 404
    assert c.post("/practice/answer", data={"served": "x" * 30, "a": "0"}).status_code == 404
    other = login(world.login["m_a2"])
    assert other.post("/practice/answer", data={"served": served, "a": "0"}).status_code == 404
    r = c.post("/practice/answer", data={"served": served, "a": "0"})
    assert other.get(r.location).status_code == 404 and c.get(r.location).status_code == 200


def test_practice_refuses_a_question_it_did_not_serve(app, world, login):
    """The old form (a question id and a mode from the request) grades nothing and stores nothing."""
    c = login(world.login["m_a1"])
    with app.app_context():
        question_id = db.session.scalar(select(Question.id).where(Question.key == "t01-001"))
    r = c.post("/practice/answer", data={"question_id": question_id, "mode": "chapter", "a": "1"})
    assert r.status_code == 404 and "不是系统为你出的练习题" in r.get_data(as_text=True)
    assert "正确答案" not in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PracticeAnswer)) == 0


def test_practice_grades_a_served_question_once(app, world, login):
    """A served question is graded; submitting the same page again shows the same feedback, stores nothing new."""
    c = login(world.login["m_a1"])
    served = served_id(c.get("/practice/daily").get_data(as_text=True))
    first = c.post("/practice/answer", data={"served": served, "a": "0"})
    again = c.post("/practice/answer", data={"served": served, "a": "1"})
    assert first.status_code == 302 and again.location == first.location
    assert "正确答案" in c.get(first.location).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PracticeAnswer)) == 1


def test_member_reports_a_faulty_question_and_an_organiser_resolves_it(app, world, login):
    m = login(world.login["m_a1"])
    assert m.get("/quiz/questions/1/report").status_code == 200
    r = m.post("/quiz/questions/1/report", data={"note": "选项B也对"}, follow_redirects=True)
    assert "感谢指正" in r.get_data(as_text=True)
    assert "选项B也对" not in login(world.login["org_b"]).get("/admin/question-reports").get_data(as_text=True)
    # A built-in question: the member's organiser sees the report, the admins (its owners) resolve it.
    organiser = login(world.login["org_a"])
    assert "选项B也对" in organiser.get("/admin/question-reports").get_data(as_text=True)
    with app.app_context():
        report_id = db.session.scalar(select(QuestionReport.id))
    assert organiser.post(f"/admin/question-reports/{report_id}/resolve", data={"resolution": "无误"}).status_code == 403
    admin = login(world.login["admin"])
    admin.post(f"/admin/question-reports/{report_id}/resolve", data={"resolution": "已核实，答案无误"})
    assert "选项B也对" not in organiser.get("/admin/question-reports").get_data(as_text=True)
    assert "选项B也对" not in admin.get("/admin/question-reports").get_data(as_text=True)
    assert login(world.login["sec_a1"]).get("/admin/question-reports").status_code == 403
