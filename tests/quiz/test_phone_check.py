"""The phone check's echo: acknowledged like a save (signed in, CSRF checked), nothing stored."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Assignment, Attempt, Response, utcnow


def count_rows(app) -> tuple[int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Attempt, Response))


def test_the_echo_acknowledges_and_stores_nothing(app, world, login):
    c = login("ma1")
    before = count_rows(app)
    r = c.post("/quiz/check/echo", json={"n": 1733480000000})
    assert r.status_code == 200 and r.get_json()["ok"] is True and r.get_json()["n"] == 1733480000000
    assert isinstance(r.get_json()["server_ms"], int)
    assert count_rows(app) == before


def test_a_bad_test_answer_gets_a_chinese_error(app, world, login):
    c = login("ma1")
    for body in ({"n": "x"}, {"n": -1}, [], {"n": 2**60}):
        r = c.post("/quiz/check/echo", json=body)
        assert r.status_code == 400 and r.get_json()["error"] == "测试数据无效"


def test_the_check_is_linked_from_an_upcoming_exam_only(app, world, login):
    c = login("ma1")
    assert 'href="/quiz/check"' in c.get(f"/quiz/{world.assignment_a}").get_data(as_text=True)
    assert c.get("/quiz/check").status_code == 200
    with app.app_context():  # the exam is over: nothing ahead to check the phone for
        db.session.get(Assignment, world.assignment_a).closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert 'href="/quiz/check"' not in c.get(f"/quiz/{world.assignment_a}").get_data(as_text=True)
