"""Month-by-month first-try correctness per branch and per knowledge point."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Organisation, PracticeMode, Question, User
from learnhub.services import trends
from learnhub.services.orgs import scope_for

from ..factories import practise
from ..quiz.helpers import shown_answer

NOW = datetime(2026, 11, 15, 8, 0, tzinfo=timezone.utc)


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
    trend = trends.branch_trend(scope_for(organiser), NOW, months=3)
    assert trend.months == ["2026-09", "2026-10", "2026-11"]
    rows = {r.label: r for r in trend.rows}
    assert rows["第一支部"].cells["2026-10"].rate == 0.0 and rows["第一支部"].cells["2026-11"].rate == 100.0
    assert rows["第二支部"].cells["2026-11"].answered == 1 and "2026-10" not in rows["第二支部"].cells
    a1 = db.session.get(Organisation, world.org["a1"])
    by_point = {r.label: r for r in trends.point_trend(scope_for(organiser), a1, NOW, months=3).rows}
    assert by_point["入党条件"].cells["2026-10"].answered == 2 and by_point["预备期"].cells["2026-11"].rate == 100.0
    assert trends.branch_trend(scope_for(db.session.get(User, world.user["org_b"])), NOW).rows == []


def test_trends_page_is_scoped(world, login):
    assert login(world.login["org_a"]).get("/reports/trends").status_code == 200
    assert login(world.login["sec_a1"]).get(f"/reports/trends?unit={world.org['a2']}").status_code == 404
    assert login(world.login["m_a1"]).get("/reports/trends").status_code == 403
