"""The mistake book (错题本): questions a member got wrong come back on an FSRS spaced schedule
until answered right on a few spaced reviews.

Days are local days in the configured zone (LEARNHUB_TIMEZONE): a card due "in one day" is due from
00:00 of the next local day, so a question missed at 20:00 is there for review next morning. Only a
review answered while its card is due counts toward clearing it; a wrong answer always counts.

Every change to a card locks it first (created, if need be, with INSERT .. ON CONFLICT DO NOTHING),
so two answers at once, an exam hand-in beside a practice page, give the same
book as the same events one after the other, never a duplicate card.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from fsrs import Card, Rating, Scheduler
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import MistakeCard, Question

CLEAR_AFTER = 3  # right answers on spaced reviews that take a question out of the book
# Day-scale steps only: a member reviews on a later day, not ten minutes later.
_scheduler = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
_CHUNK = 500  # rows per INSERT


def _zone(tz: str | None) -> ZoneInfo:
    return ZoneInfo(tz or current_app.config["BABEL_DEFAULT_TIMEZONE"])


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """00:00 of a local day, as an aware UTC time."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def due_day(fsrs_due: datetime, now: datetime, zone: ZoneInfo) -> datetime:
    """The start of the local day FSRS's due time falls on, and never earlier than the next local day."""
    day = max(fsrs_due.astimezone(zone).date(), now.astimezone(zone).date() + timedelta(days=1))
    return day_start(day, zone)


def record_mistakes(user_id: int, questions: list[Question], now: datetime, tz: str | None = None) -> None:
    """Put questions answered wrong in an exam into the member's mistake book (does not commit)."""
    for question in sorted(questions, key=lambda q: q.key):  # one lock order: no deadlocks between hand-ins
        schedule(user_id, question, False, now, review=False, tz=tz)


def schedule(user_id: int, question: Question, correct: bool, now: datetime, review: bool, tz: str | None = None) -> bool:
    """Schedule the question in the member's book after an answer; return True if this answer cleared it.

    A wrong answer (any mode) puts the question in the book or back into it, due the next local day.
    A right answer counts only in review, while the card is due; otherwise the card is left alone.
    Does not commit; the card stays locked until the caller's transaction ends.
    """
    if not correct:
        _insert_placeholders([user_id], question, now)
    card = _locked_cards(question.key, [user_id]).get(user_id)
    if card is None:
        return False  # right, and not in the book: nothing to schedule
    return _step(card, question.id, correct, review, now, _zone(tz))


def _step(card, question_id: int, correct: bool, review: bool, now: datetime, zone: ZoneInfo) -> bool:
    """Apply one answer to a card; True if it cleared it."""
    if correct and (card.cleared_at is not None or not review or card.due > now):
        return False  # right outside a due review: the schedule stays as it is
    fsrs_card, _ = _scheduler.review_card(Card.from_dict(card.card), Rating.Good if correct else Rating.Again,
                                          review_datetime=now)
    fsrs_card.due = due_day(fsrs_card.due, now, zone)
    card.card, card.due, card.question_id = fsrs_card.to_dict(), fsrs_card.due, question_id
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


def _fresh(when: datetime) -> dict:
    """The columns of a card not yet reviewed (its first answer, wrong, schedules it)."""
    return {"card": Card(due=when).to_dict(), "due": when, "created_at": when, "right_streak": 0, "lapses": 0, "cleared_at": None}


def _insert_placeholders(user_ids: Iterable[int], question: Question, now: datetime) -> None:
    """Make sure each member has a card row for the question's key, so it can be locked; existing ones stay."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [dict(user_id=u, question_key=question.key, question_id=question.id, **_fresh(now)) for u in sorted(user_ids)]
    for start in range(0, len(rows), _CHUNK):
        db.session.execute(insert(MistakeCard).values(rows[start:start + _CHUNK])
                           .on_conflict_do_nothing(index_elements=["user_id", "question_key"]))


def _locked_cards(question_key: str, user_ids: list[int]) -> dict[int, MistakeCard]:
    """These members' cards for the key, locked and read afresh (FOR UPDATE: SQLite's write lock)."""
    cards = db.session.scalars(
        select(MistakeCard).where(MistakeCard.question_key == question_key, MistakeCard.user_id.in_(user_ids))
        .order_by(MistakeCard.user_id).with_for_update().execution_options(populate_existing=True)
    )
    return {card.user_id: card for card in cards}


def next_due(user_id: int) -> datetime | None:
    return db.session.scalar(select(func.min(MistakeCard.due)).where(
        MistakeCard.user_id == user_id, MistakeCard.cleared_at.is_(None)
    ))

