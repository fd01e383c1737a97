"""The mistake book (错题本): questions a member got wrong come back on an FSRS spaced schedule
until answered right on a few spaced reviews."""

from __future__ import annotations

from datetime import datetime

from fsrs import Card, Rating, Scheduler
from sqlalchemy import func, select

from ..extensions import db
from ..models import MistakeCard, Question

CLEAR_AFTER = 3  # right answers on spaced reviews that take a question out of the book
# Day-scale steps only: a member reviews on a later day, not ten minutes later.
_scheduler = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


def record_mistakes(user_id: int, questions: list[Question], now: datetime) -> None:
    """Put questions answered wrong in an exam into the member's mistake book (does not commit)."""
    for question in questions:
        schedule(user_id, question, False, now, review=False)


def schedule(user_id: int, question: Question, correct: bool, now: datetime, review: bool) -> bool:
    """Schedule the question in the book; return True if this answer cleared it."""
    card = db.session.scalar(select(MistakeCard).where(
        MistakeCard.user_id == user_id, MistakeCard.question_key == question.key
    ))
    if correct and (card is None or card.cleared_at is not None or not review):
        return False  # right outside a review: nothing to schedule
    if card is None:
        card = MistakeCard(user_id=user_id, question_key=question.key, question_id=question.id,
                           card=Card(due=now).to_dict(), due=now, created_at=now, right_streak=0, lapses=0)
        db.session.add(card)
    fsrs_card, _ = _scheduler.review_card(Card.from_dict(card.card), Rating.Good if correct else Rating.Again, review_datetime=now)
    card.card, card.due, card.question_id = fsrs_card.to_dict(), fsrs_card.due, question.id
    if correct:
        card.right_streak += 1
        if card.right_streak >= CLEAR_AFTER:
            card.cleared_at = now
            return True
    else:
        card.right_streak = 0
        card.lapses += 1
        card.cleared_at = None
    return False


def next_due(user_id: int) -> datetime | None:
    return db.session.scalar(select(func.min(MistakeCard.due)).where(
        MistakeCard.user_id == user_id, MistakeCard.cleared_at.is_(None)
    ))
