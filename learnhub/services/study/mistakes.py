"""The mistake book (错题本): questions a member got wrong come back on an FSRS spaced schedule
until answered right on a few spaced reviews.

Days are local days in the configured zone (LEARNHUB_TIMEZONE): a card due "in one day" is due from
00:00 of the next local day, so a question missed at 20:00 is there for review next morning; a card
is due all day on its day (`due_before`). Only a
review answered while its card is due counts toward clearing it; a wrong answer always counts.

Every change to a card locks it first (created, if need be, with INSERT .. ON CONFLICT DO NOTHING),
so two answers at once, an exam hand-in beside a practice page, or a key correction give the same
book as the same events one after the other, never a duplicate card.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from fsrs import Card, Rating, Scheduler
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from ...extensions import db
from ...models import Attempt, AttemptState, MistakeCard, PracticeAnswer, PracticeMode, Question, Response

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


def due_before(now: datetime, tz: str | None = None) -> datetime:
    """A card is due today if its due time is before this: the start of the next local day. (Cards
    scheduled before due dates were whole days have a time of day; they are due all of that day.)"""
    return _tomorrow(now, _zone(tz))


def _tomorrow(now: datetime, zone: ZoneInfo) -> datetime:
    return day_start(now.astimezone(zone).date() + timedelta(days=1), zone)


def record_mistakes(user_id: int, questions: list[Question], now: datetime, tz: str | None = None) -> None:
    """Put questions answered wrong in an exam into the member's mistake book (does not commit)."""
    if not questions:
        return
    _insert_placeholders([(user_id, q) for q in questions], now)
    cards = {c.question_key: c for c in _locked_cards(MistakeCard.user_id == user_id,
                                                       MistakeCard.question_key.in_({q.key for q in questions}))}
    zone = _zone(tz)
    for question in questions:
        _step(cards[question.key], question.id, False, False, now, zone)


def schedule(user_id: int, question: Question, correct: bool, now: datetime, review: bool, tz: str | None = None) -> bool:
    """Schedule the question in the member's book after an answer; return True if this answer cleared it.

    A wrong answer (any mode) puts the question in the book or back into it, due the next local day.
    A right answer counts only in review, while the card is due; otherwise the card is left alone.
    Does not commit; the card stays locked until the caller's transaction ends.
    """
    if not correct:
        _insert_placeholders([(user_id, question)], now)
    card = next(iter(_locked_cards(MistakeCard.user_id == user_id, MistakeCard.question_key == question.key)), None)
    if card is None:
        return False  # right, and not in the book: nothing to schedule
    return _step(card, question.id, correct, review, now, _zone(tz))


def _step(card, question_id: int, correct: bool, review: bool, now: datetime, zone: ZoneInfo) -> bool:
    """Apply one answer to a card (a MistakeCard, or a _Replay while rebuilding); True if it cleared it."""
    if correct and (card.cleared_at is not None or not review or card.due >= _tomorrow(now, zone)):
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


def _insert_placeholders(pairs: list[tuple[int, Question]], now: datetime) -> None:
    """Make sure each (member, question) has a card row for the question's key, so that it can be locked;
    cards already there are left as they are. One lock order (member, key), so writers never deadlock."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = {(u, q.key): {"user_id": u, "question_key": q.key, "question_id": q.id, **_fresh(now)} for u, q in pairs}
    rows = [rows[k] for k in sorted(rows)]
    for start in range(0, len(rows), _CHUNK):
        db.session.execute(insert(MistakeCard).values(rows[start:start + _CHUNK])
                           .on_conflict_do_nothing(index_elements=["user_id", "question_key"]))


def _locked_cards(*where) -> list[MistakeCard]:
    """The cards that match, locked in (member, key) order and read afresh (FOR UPDATE: SQLite's write lock)."""
    return list(db.session.scalars(
        select(MistakeCard).where(*where).order_by(MistakeCard.user_id, MistakeCard.question_key)
        .with_for_update().execution_options(populate_existing=True)
    ))


def next_due(user_id: int) -> datetime | None:
    return db.session.scalar(select(func.min(MistakeCard.due)).where(
        MistakeCard.user_id == user_id, MistakeCard.cleared_at.is_(None)
    ))


# ---- after a key correction


@dataclass
class Rescheduled:
    """What a key correction did to mistake books, in cards: put in, rebuilt (already there), taken out."""

    added: int = 0
    rebuilt: int = 0
    removed: int = 0


class _Replay:
    """A card being rebuilt from a member's answers (the attributes _step uses)."""

    def __init__(self, question_id: int, when: datetime):
        self.question_id = question_id
        for name, value in _fresh(when).items():
            setattr(self, name, value)


def reschedule_after_key_change(question_key: str, user_ids: Iterable[int], now: datetime, tz: str | None = None) -> Rescheduled:
    """Rebuild these members' cards for a question whose key was corrected, from their answers as now graded.

    Call it after the regrade has set Response.is_correct and PracticeAnswer.is_correct with the new key
    (flushed, same transaction), with the members whose answers to the key flipped. Each member's card
    becomes what it would be had the key always been right: their exam answers that are wrong (finished
    attempts, at the time they were handed in) and their practice answers (in the order given, a review
    counting only while due) are applied again from an empty book. So an answer now wrong puts the
    question in the book (due at once if its day has passed); a card whose only reasons were answers now
    right is taken out (deleted: it was never a mistake); a card with other wrong answers keeps them, and
    reviews now graded wrong count as lapses. Locks the cards first, so a practice answer or a hand-in at
    the same moment lands before or after it, never lost. Does not commit.
    """
    zone, done = _zone(tz), Rescheduled()
    question = db.session.scalar(
        select(Question).where(Question.key == question_key).order_by(Question.is_current.desc(), Question.id.desc()).limit(1))
    users = sorted(set(user_ids))
    for start in range(0, len(users), _CHUNK):
        _rebuild(question, users[start:start + _CHUNK], now, zone, done)
    db.session.flush()
    return done


def _rebuild(question: Question, users: list[int], now: datetime, zone: ZoneInfo, done: Rescheduled) -> None:
    before = set(db.session.scalars(select(MistakeCard.user_id).where(
        MistakeCard.question_key == question.key, MistakeCard.user_id.in_(users))))
    _insert_placeholders([(u, question) for u in users], now)  # every card can be locked before the answers are read
    cards = {c.user_id: c for c in _locked_cards(MistakeCard.question_key == question.key, MistakeCard.user_id.in_(users))}
    replays = _replay(question.key, users, zone)
    for user_id in users:
        card, replay = cards[user_id], replays.get(user_id)
        if replay is None:
            db.session.delete(card)
            done.removed += user_id in before
            continue
        for name in ("question_id", "card", "due", "created_at", "right_streak", "lapses", "cleared_at"):
            setattr(card, name, getattr(replay, name))
        if user_id in before:
            done.rebuilt += 1
        else:
            done.added += 1


def _replay(question_key: str, users: list[int], zone: ZoneInfo) -> dict[int, _Replay]:
    """Each member's card rebuilt from their graded answers to the key; no entry if none was wrong."""
    exam = db.session.execute(
        select(Attempt.user_id, Attempt.finished_at, Response.question_id, Response.is_correct, Response.id)
        .join(Attempt, Attempt.id == Response.attempt_id).join(Question, Question.id == Response.question_id)
        .where(Question.key == question_key, Attempt.user_id.in_(users), Attempt.state == AttemptState.FINISHED,
               Response.is_correct.is_(False))
    )
    practice = db.session.execute(
        select(PracticeAnswer.user_id, PracticeAnswer.answered_at, PracticeAnswer.question_id, PracticeAnswer.is_correct,
               PracticeAnswer.id, PracticeAnswer.mode)
        .where(PracticeAnswer.question_key == question_key, PracticeAnswer.user_id.in_(users))
    )
    events = [(u, when, 0, row_id, qid, ok, False) for u, when, qid, ok, row_id in exam]
    events += [(u, when, 1, row_id, qid, ok, mode is PracticeMode.REVIEW) for u, when, qid, ok, row_id, mode in practice]
    cards: dict[int, _Replay] = {}
    for user_id, when, _kind, _id, question_id, correct, review in sorted(events):
        card = cards.get(user_id)
        if card is None:
            if correct:
                continue
            card = cards[user_id] = _Replay(question_id, when)
        _step(card, question_id, correct, review, when, zone)
    return cards
