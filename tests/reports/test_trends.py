"""Month-by-month first-try correctness per branch and per knowledge point."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Attempt, AttemptState, Organisation, PracticeAnswer, PracticeMode, Question, Response, User
from learnhub.services.reports import trends
from learnhub.services.orgs import scope_for

from ..factories import practise
from ..quiz.helpers import shown_answer

NOW = datetime(2026, 11, 15, 8, 0, tzinfo=timezone.utc)
TZ = "Asia/Shanghai"


def answer(member: User, key: str, right: bool, when: datetime) -> None:
    q = db.session.scalar(select(Question).filter_by(key=key, is_current=True))
    practise(member, q, shown_answer(q, list(range(len(q.options))), right), PracticeMode.DAILY, now=when)


def test_practice_first_tries_show_month_by_month(app, world, ctx):
    m_a1, m_a2 = db.session.get(User, world.user["m_a1"]), db.session.get(User, world.user["m_a2"])
    october, november = NOW - timedelta(days=31), NOW
    answer(m_a1, "t01-001", False, october)
    answer(m_a1, "t01-002", False, october)
    answer(m_a1, "t01-003", True, november)
    answer(m_a1, "t01-001", True, november)  # a second try: not counted
    answer(m_a2, "t01-001", True, november)
    organiser = db.session.get(User, world.user["org_a"])
    trend = trends.branch_trend(scope_for(organiser), NOW, TZ, months=3)
    assert trend.months == ["2026-09", "2026-10", "2026-11"]
    rows = {r.label: r for r in trend.rows}
    assert rows["第一支部"].cells["2026-10"].rate == 0.0 and rows["第一支部"].cells["2026-11"].rate == 100.0
    assert rows["第二支部"].cells["2026-11"].answered == 1 and "2026-10" not in rows["第二支部"].cells
    a1 = db.session.get(Organisation, world.org["a1"])
    by_point = {r.label: r for r in trends.point_trend(scope_for(organiser), a1, NOW, TZ, months=3).rows}
    assert by_point["入党条件"].cells["2026-10"].answered == 2 and by_point["预备期"].cells["2026-11"].rate == 100.0
    assert trends.branch_trend(scope_for(db.session.get(User, world.user["org_b"])), NOW, TZ).rows == []


def test_trends_page_is_scoped(world, login):
    assert login(world.login["org_a"]).get("/reports/trends").status_code == 200
    assert login(world.login["sec_a1"]).get(f"/reports/trends?unit={world.org['a2']}").status_code == 404
    assert login(world.login["m_a1"]).get("/reports/trends").status_code == 403


def _exam_finished_at(member: User, question: Question, assignment_id: int, when: datetime, right: bool) -> None:
    attempt = Attempt(assignment_id=assignment_id, user_id=member.id, number=1, state=AttemptState.FINISHED,
                      started_at=when - timedelta(minutes=20), finished_at=when, paper=[{"q": question.id, "perm": []}],
                      total=1, correct_count=int(right), score=100.0 * right, passed=right)
    db.session.add(attempt)
    db.session.flush()
    db.session.add(Response(attempt_id=attempt.id, question_id=question.id, answer=[], is_correct=right, seq=1,
                            saved_at=when))


def test_months_are_the_configured_zones_calendar_months(app, world, ctx):
    """An exam finished at 01:30 on 1 November in Shanghai (17:30 on 31 October, UTC) is November's;
    practice at 23:30 on 31 October in Shanghai is October's. Both databases agree."""
    m_a1, m_a1b = db.session.get(User, world.user["m_a1"]), db.session.get(User, world.user["m_a1b"])
    q = db.session.scalar(select(Question).filter_by(key="t01-001", is_current=True))
    early_november = datetime(2026, 10, 31, 17, 30, tzinfo=timezone.utc)  # 2026-11-01 01:30 in Shanghai
    late_october = datetime(2026, 10, 31, 15, 30, tzinfo=timezone.utc)  # 2026-10-31 23:30 in Shanghai
    _exam_finished_at(m_a1, q, world.assignment_a, early_november, right=True)
    db.session.add(PracticeAnswer(user_id=m_a1b.id, question_id=q.id, mode=PracticeMode.DAILY, answer=[],
                                  is_correct=False, first_try=True, answered_at=late_october))
    db.session.commit()
    scope = scope_for(db.session.get(User, world.user["org_a"]))
    cells = {r.label: r for r in trends.branch_trend(scope, NOW, TZ, months=3).rows}["第一支部"].cells
    assert cells["2026-11"].answered == 1 and cells["2026-11"].rate == 100.0
    assert cells["2026-10"].answered == 1 and cells["2026-10"].rate == 0.0
    # Counted by UTC month instead, the exam would have been October's.
    utc_cells = {r.label: r for r in trends.branch_trend(scope, NOW, "UTC", months=3).rows}["第一支部"].cells
    assert utc_cells["2026-10"].answered == 2 and "2026-11" not in utc_cells


def test_the_window_starts_at_the_first_local_month(app, world, ctx):
    """Nothing from before the first month shown is counted, not even a day of it."""
    m_a1 = db.session.get(User, world.user["m_a1"])
    q = db.session.scalar(select(Question).filter_by(key="t01-001", is_current=True))
    august_last_hour = datetime(2026, 8, 31, 15, 59, tzinfo=timezone.utc)  # 2026-08-31 23:59 in Shanghai
    db.session.add(PracticeAnswer(user_id=m_a1.id, question_id=q.id, mode=PracticeMode.DAILY, answer=[],
                                  is_correct=True, first_try=True, answered_at=august_last_hour))
    db.session.commit()
    trend = trends.branch_trend(scope_for(db.session.get(User, world.user["org_a"])), NOW, TZ, months=3)
    assert trend.months == ["2026-09", "2026-10", "2026-11"] and trend.rows == []
