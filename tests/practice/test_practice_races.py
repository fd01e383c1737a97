"""One row per fact in practice: two submits at the same moment (a double tap, two phones, two tabs)
give what the same submits one after the other give: one answer per served page, one first try per
question, one mistake card per question, and never a 500.

Each test forces the interleaving: the first request has written its answer and its card, not yet
committed, when the second comes; on SQLite the second then waits for the write lock, on PostgreSQL
for the rows the first holds.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import MistakeCard, PracticeAnswer, PracticeMode, PracticeServed, Question, User
from learnhub.services.study import mistakes, practice

from .test_practice import as_form, right, wrong

KEY = "t01-001"


def _while_first_is_writing(monkeypatch, second) -> dict:
    """Patch the mistake book so that the first answer, written and not committed, lets `second()` run."""
    real, seen = mistakes.schedule, {}

    def schedule(*args, **kwargs):
        cleared = real(*args, **kwargs)
        if "response" not in seen:
            seen["response"] = None
            db.session.flush()  # this answer and its card are written, not committed

            def run():
                seen["response"] = second()

            other = threading.Thread(target=run)
            other.start()
            other.join(timeout=1.5)  # with no lock it finishes here; with one it waits for our commit
            seen["thread"] = other
        return cleared

    monkeypatch.setattr(mistakes, "schedule", schedule)
    return seen


def _finish(seen: dict):
    seen["thread"].join(timeout=30)
    return seen["response"]


def _serve(app, user_id: int, mode: PracticeMode) -> tuple[int, Question]:
    with app.app_context():
        q = db.session.scalar(select(Question).where(Question.key == KEY))
        served = practice.serve(db.session.get(User, user_id), q, mode)
        return served.id, served.question


def _facts(app, user_id: int) -> tuple[int, int, list[tuple[int, int]]]:
    """(practice answers, first tries, [(lapses, right_streak)] of the member's cards) for the key."""
    with app.app_context():
        answers = db.session.scalar(select(func.count(PracticeAnswer.id)).where(PracticeAnswer.user_id == user_id))
        first = db.session.scalar(select(func.count(PracticeAnswer.id)).where(
            PracticeAnswer.user_id == user_id, PracticeAnswer.first_try.is_(True)))
        cards = [(c.lapses, c.right_streak) for c in db.session.scalars(
            select(MistakeCard).where(MistakeCard.user_id == user_id, MistakeCard.question_key == KEY))]
        return answers, first, cards


@pytest.mark.parametrize("second", [right, wrong])
def test_one_page_submitted_twice_at_once_keeps_the_first_answer(app, world, login, monkeypatch, second):
    """Phone and tablet post the same practice page: the second shows the first answer's feedback and
    stores nothing (before: a 500 when both were wrong, or the second's answer kept on PostgreSQL)."""
    phone, tablet = login(world.login["m_a1"]), login(world.login["m_a1"])
    served, q = _serve(app, world.user["m_a1"], PracticeMode.DAILY)
    seen = _while_first_is_writing(
        monkeypatch, lambda: tablet.post("/practice/answer", data={"served": served, "a": as_form(second(q))}))
    first = phone.post("/practice/answer", data={"served": served, "a": as_form(wrong(q))})
    again = _finish(seen)
    assert first.status_code == 302 and again.status_code == 302
    assert again.location == first.location
    assert "答错了" in tablet.get(again.location).get_data(as_text=True)
    assert _facts(app, world.user["m_a1"]) == (1, 1, [(1, 0)])  # one answer, one first try, one lapse
    with app.app_context():
        assert db.session.get(PracticeServed, served).answer.is_correct is False


def test_two_pages_of_one_question_answered_at_once_give_one_first_try_and_one_card(app, world, login, monkeypatch):
    """Today's question and the same question in chapter practice, both answered wrong at the same moment:
    two answers, the first of them the first try, and one card with two lapses, as one after the other."""
    phone, tablet = login(world.login["m_a1"]), login(world.login["m_a1"])
    daily, q = _serve(app, world.user["m_a1"], PracticeMode.DAILY)
    chapter, _ = _serve(app, world.user["m_a1"], PracticeMode.CHAPTER)
    seen = _while_first_is_writing(
        monkeypatch, lambda: tablet.post("/practice/answer", data={"served": chapter, "a": as_form(wrong(q))}))
    first = phone.post("/practice/answer", data={"served": daily, "a": as_form(wrong(q))})
    second = _finish(seen)
    assert first.status_code == 302 and second.status_code == 302 and second.location != first.location
    assert _facts(app, world.user["m_a1"]) == (2, 1, [(2, 0)])
    with app.app_context():
        stats = practice.stats(db.session.get(User, world.user["m_a1"]))
        assert (stats.answered, stats.first_try, stats.in_book) == (2, 1, 1)

