"""Practice with instant feedback, and the mistake book (错题本) on an FSRS spaced schedule.

What counts is what a member knows: first-try correctness and mistakes cleared by spaced reviews,
never time spent or logins.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..extensions import db
from ..models import MistakeCard, PracticeAnswer, PracticeMode, Question, User, utcnow
from . import ServiceError, mistakes
from .bank_access import usable_in
from .grading import is_correct
from .quizzes import decode_answer, rule_pool

DAILY_SIZE = 5
REVIEW_CAP = 20  # reviews a day at most, so a missed week does not pile up


class PracticeError(ServiceError):
    pass


@dataclass
class Feedback:
    answer: PracticeAnswer
    right: list  # the right answer, as shown
    cleared: bool  # this review took the question out of the mistake book


@dataclass
class PracticeStats:
    answered: int
    first_try: int
    first_try_right: int
    in_book: int
    due_now: int
    cleared: int

    @property
    def first_try_rate(self) -> float | None:
        return round(100.0 * self.first_try_right / self.first_try, 1) if self.first_try else None


def local_day(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


def _day_start(day: date, tz: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz))


def _current_questions(user: User) -> list[Question]:
    """What the member may practise: current, unretired, built-in or owned by their organisation or one above it."""
    return list(db.session.scalars(
        select(Question).where(Question.is_current.is_(True), Question.retired.is_(False), usable_in(user.org))
        .order_by(Question.key)
    ))


def daily_questions(user: User, now: datetime, tz: str) -> list[Question]:
    """Today's five: the same all day, favouring questions the member has never practised."""
    day = local_day(now, tz)
    before_today = set(db.session.scalars(
        select(Question.key).join(PracticeAnswer, PracticeAnswer.question_id == Question.id).where(
            PracticeAnswer.user_id == user.id, PracticeAnswer.answered_at < _day_start(day, tz)
        )
    ))
    pool = _current_questions(user)
    fresh = [q for q in pool if q.key not in before_today]
    rng = random.Random(f"{user.id}:{day.isoformat()}")
    picked = rng.sample(fresh, min(DAILY_SIZE, len(fresh)))
    if len(picked) < DAILY_SIZE:
        rest = [q for q in pool if q.key in before_today]
        picked += rng.sample(rest, min(DAILY_SIZE - len(picked), len(rest)))
    return picked


def answered_today(user: User, question_ids: list[int], now: datetime, tz: str, mode: PracticeMode) -> dict[int, PracticeAnswer]:
    """The member's answers given today in this mode to these questions, by question id."""
    rows = db.session.scalars(select(PracticeAnswer).where(
        PracticeAnswer.user_id == user.id, PracticeAnswer.mode == mode, PracticeAnswer.question_id.in_(question_ids),
        PracticeAnswer.answered_at >= _day_start(local_day(now, tz), tz),
    ))
    return {r.question_id: r for r in rows}


def next_chapter_question(user: User, part_id: int, rng: random.Random) -> Question | None:
    """A question from a part (总纲 or a chapter), preferring ones the member has not yet got right."""
    pool = rule_pool({"part_id": part_id}, user.org)
    if not pool:
        return None
    right = set(db.session.scalars(
        select(Question.key).join(PracticeAnswer, PracticeAnswer.question_id == Question.id).where(
            PracticeAnswer.user_id == user.id, PracticeAnswer.is_correct.is_(True)
        )
    ))
    unknown = [q for q in pool if q.key not in right]
    return rng.choice(unknown or pool)


def due_cards(user: User, now: datetime, tz: str) -> list[MistakeCard]:
    """Mistakes due for review now, oldest first, within what is left of today's cap."""
    done_today = db.session.scalar(select(func.count()).select_from(PracticeAnswer).where(
        PracticeAnswer.user_id == user.id, PracticeAnswer.mode == PracticeMode.REVIEW,
        PracticeAnswer.answered_at >= _day_start(local_day(now, tz), tz),
    ))
    left = max(0, REVIEW_CAP - done_today)
    if not left:
        return []
    return list(db.session.scalars(
        select(MistakeCard).where(MistakeCard.user_id == user.id, MistakeCard.cleared_at.is_(None), MistakeCard.due <= now)
        .order_by(MistakeCard.due).limit(left)
    ))


def answer(user: User, question: Question, raw, mode: PracticeMode, now: datetime | None = None) -> Feedback:
    """Grade a practice answer at once, record it, and update the mistake book. Commits."""
    now = now or utcnow()
    if question.retired or not question.is_current:
        question = _current_revision(question)
    given = decode_answer(question, list(range(len(question.options))), raw)
    if not given:
        raise PracticeError("请先作答")
    correct = is_correct(question, given)
    seen = db.session.scalar(select(func.count()).select_from(PracticeAnswer).join(Question).where(
        PracticeAnswer.user_id == user.id, Question.key == question.key
    ))
    row = PracticeAnswer(user_id=user.id, question=question, mode=mode, answer=given, is_correct=correct,
                         first_try=not seen, answered_at=now)
    db.session.add(row)
    cleared = mistakes.schedule(user.id, question, correct, now, review=mode is PracticeMode.REVIEW)
    db.session.commit()
    return Feedback(answer=row, right=right_answer(question), cleared=cleared)


def right_answer(question: Question) -> list:
    """The right answer in stored option order (first accepted spelling per blank)."""
    return [alts[0] for alts in question.answer] if question.kind.value == "fill" else list(question.answer)


def _current_revision(question: Question) -> Question:
    current = db.session.scalar(select(Question).where(Question.key == question.key, Question.is_current.is_(True)))
    if current is None or current.retired:
        raise PracticeError("这道题已停用")
    return current


def stats(user: User, now: datetime | None = None) -> PracticeStats:
    """What the member knows: first-try correctness in practice and the state of the mistake book."""
    now = now or utcnow()
    answered, first, first_right = db.session.execute(select(
        func.count(PracticeAnswer.id),
        func.count(PracticeAnswer.id).filter(PracticeAnswer.first_try.is_(True)),
        func.count(PracticeAnswer.id).filter(PracticeAnswer.first_try.is_(True), PracticeAnswer.is_correct.is_(True)),
    ).where(PracticeAnswer.user_id == user.id)).one()
    in_book, due_now, cleared = db.session.execute(select(
        func.count(MistakeCard.id).filter(MistakeCard.cleared_at.is_(None)),
        func.count(MistakeCard.id).filter(MistakeCard.cleared_at.is_(None), MistakeCard.due <= now),
        func.count(MistakeCard.id).filter(MistakeCard.cleared_at.is_not(None)),
    ).where(MistakeCard.user_id == user.id)).one()
    return PracticeStats(answered, first, first_right, in_book, due_now, cleared)
