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
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import MistakeCard, PracticeAnswer, PracticeMode, PracticeServed, Question, Subject, User, utcnow
from .. import ServiceError
from . import mistakes
from ..exam import secrecy
from .scope import practisable as _practisable
from ..exam.grading import is_correct
from ..exam.quizzes import decode_answer, rule_pool

DAILY_SIZE = 5
REVIEW_CAP = 20  # reviews a day at most, so a missed week does not pile up


class PracticeError(ServiceError):
    pass


class NotServed(PracticeError):
    """No question served to this member by that id: the page answers 404."""


NOT_SERVED = "这道题不是系统为你出的练习题，请回到练习页面作答"
SEALED = "该题在你参加的考试中，答案公布后才能练习"
ALL_SEALED = "本章的题目都在你参加的考试中，答案公布后再练习"


@dataclass
class Feedback:
    answer: PracticeAnswer
    right: list  # the right answer, as shown
    cleared: bool  # this review took the question out of the mistake book


@dataclass
class Daily:
    """Today's five, the member's answers to them so far, and the keys sealed by an exam they sit."""

    questions: list[Question]
    done: dict[int, PracticeAnswer]
    sealed: frozenset[str]

    @property
    def pending(self) -> list[Question]:
        """Not yet answered today, and not on a paper of the member's whose answers are not out yet."""
        return [q for q in self.questions if q.id not in self.done and q.key not in self.sealed]

    @property
    def withheld(self) -> int:
        return sum(1 for q in self.questions if q.key in self.sealed)


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


def _current_questions(user: User, subject_id: int | None = None) -> list[Question]:
    """What the member may practise (of one subject, if given): current, unretired, usable by their organisation."""
    stmt = _practisable(select(Question).where(Question.is_current.is_(True), Question.retired.is_(False)), user.org)
    if subject_id is not None:
        stmt = stmt.where(Subject.id == subject_id)
    return list(db.session.scalars(stmt.order_by(Question.key)))


def daily_questions(user: User, now: datetime, tz: str, subject_id: int | None = None) -> list[Question]:
    """Today's five (of one subject, if given): the same all day, favouring questions the member has never
    practised."""
    day = local_day(now, tz)
    before_today = set(db.session.scalars(
        select(Question.key).join(PracticeAnswer, PracticeAnswer.question_id == Question.id).where(
            PracticeAnswer.user_id == user.id, PracticeAnswer.answered_at < _day_start(day, tz)
        )
    ))
    pool = _current_questions(user, subject_id)
    fresh = [q for q in pool if q.key not in before_today]
    rng = random.Random(f"{user.id}:{day.isoformat()}" + (f":{subject_id}" if subject_id is not None else ""))
    picked = rng.sample(fresh, min(DAILY_SIZE, len(fresh)))
    if len(picked) < DAILY_SIZE:
        rest = [q for q in pool if q.key in before_today]
        picked += rng.sample(rest, min(DAILY_SIZE - len(picked), len(rest)))
    return picked


def daily(user: User, now: datetime, tz: str, subject_id: int | None = None) -> Daily:
    """Today's five (of one subject, if given) with the answers given to them today; questions sealed by an
    exam are left pending."""
    questions = daily_questions(user, now, tz, subject_id)
    done = answered_today(user, [q.id for q in questions], now, tz, PracticeMode.DAILY)
    return Daily(questions, done, secrecy.sealed_keys(user, now))


def answered_today(user: User, question_ids: list[int], now: datetime, tz: str, mode: PracticeMode) -> dict[int, PracticeAnswer]:
    """The member's answers given today in this mode to these questions, by question id."""
    rows = db.session.scalars(select(PracticeAnswer).where(
        PracticeAnswer.user_id == user.id, PracticeAnswer.mode == mode, PracticeAnswer.question_id.in_(question_ids),
        PracticeAnswer.answered_at >= _day_start(local_day(now, tz), tz),
    ))
    return {r.question_id: r for r in rows}


def next_chapter_question(user: User, part_id: int, rng: random.Random, now: datetime | None = None) -> Question | None:
    """A question from a part (总纲 or a chapter), preferring ones the member has not yet got right.

    None if the part has no questions; PracticeError if all of them are sealed by an exam the member sits.
    """
    pool = rule_pool({"part_id": part_id}, user.org)
    if not pool:
        return None
    sealed = secrecy.sealed_keys(user, now)
    pool = [q for q in pool if q.key not in sealed]
    if not pool:
        raise PracticeError(ALL_SEALED)
    right = set(db.session.scalars(
        select(Question.key).join(PracticeAnswer, PracticeAnswer.question_id == Question.id).where(
            PracticeAnswer.user_id == user.id, PracticeAnswer.is_correct.is_(True)
        )
    ))
    unknown = [q for q in pool if q.key not in right]
    return rng.choice(unknown or pool)


def due_cards(user: User, now: datetime, tz: str) -> list[MistakeCard]:
    """Mistakes due for review now, oldest first, within what is left of today's cap; none sealed by an
    exam, none retired (the mistake book's `due`, capped)."""
    return [e.card for e in mistake_book(user, now, tz).queue]


@dataclass
class MistakeEntry:
    """One question in the member's mistake book, as the list shows it."""

    card: MistakeCard
    question: Question | None  # the current revision to practise (None: the question was retired)
    due_day: date  # the local day it is due for review (today for one overdue)
    due_today: bool
    sealed: bool  # on a paper of the member's whose answers are not out yet

    @property
    def can_practise(self) -> bool:
        return self.question is not None and not self.sealed


@dataclass
class MistakeBook:
    """Every question in the member's book (not yet cleared), due or not; `due` is what 今日待复习 counts."""

    entries: list[MistakeEntry]
    reviews_left: int  # reviews today's cap still allows in 复习错题

    @property
    def due(self) -> list[MistakeEntry]:
        return [e for e in self.entries if e.due_today and e.can_practise]

    @property
    def next_day(self) -> date | None:
        """The next day a question comes back, when none is due today."""
        return min((e.due_day for e in self.entries if e.can_practise and not e.due_today), default=None)

    @property
    def queue(self) -> list[MistakeEntry]:
        """What 复习错题 serves today, in turn: the due ones, within the day's cap."""
        return self.due[:self.reviews_left]


def mistake_book(user: User, now: datetime, tz: str) -> MistakeBook:
    """The member's mistake book, every subject's questions in it: due today first, then by review day; each
    with the revision to practise. A question the member may no longer use (they moved to another
    committee) is left out."""
    cards = list(db.session.scalars(
        select(MistakeCard).where(MistakeCard.user_id == user.id, MistakeCard.cleared_at.is_(None))
        .order_by(MistakeCard.due, MistakeCard.id)
    ))
    keys = {c.question_key for c in cards}
    usable = set(db.session.scalars(_practisable(select(Question.key).where(Question.key.in_(keys)), user.org)))
    cards = [c for c in cards if c.question_key in usable]
    current = {q.key: q for q in db.session.scalars(select(Question).where(
        Question.key.in_(usable), Question.is_current.is_(True), Question.retired.is_(False)))}
    sealed, today, tomorrow = secrecy.sealed_keys(user, now), local_day(now, tz), mistakes.due_before(now, tz)
    entries = [
        MistakeEntry(c, current.get(c.question_key), max(local_day(c.due, tz), today), c.due < tomorrow,
                     c.question_key in sealed)
        for c in cards
    ]
    return MistakeBook(entries, max(0, REVIEW_CAP - _reviews_today(user, now, tz)))


def own_mistake(user: User, card_id: int, now: datetime, tz: str) -> MistakeEntry | None:
    """One entry of the member's own book (None: not theirs, cleared, or no such card)."""
    return next((e for e in mistake_book(user, now, tz).entries if e.card.id == card_id), None)


def _reviews_today(user: User, now: datetime, tz: str) -> int:
    return db.session.scalar(select(func.count()).select_from(PracticeAnswer).where(
        PracticeAnswer.user_id == user.id, PracticeAnswer.mode == PracticeMode.REVIEW,
        PracticeAnswer.answered_at >= _day_start(local_day(now, tz), tz),
    ))


def serve(user: User, question: Question, mode: PracticeMode, now: datetime | None = None) -> PracticeServed:
    """Record that the member is shown this question in this mode, so it may be answered once. Commits.

    A page shown again (a reload, the daily question not yet answered) reuses its unanswered record.
    """
    served = db.session.scalar(
        select(PracticeServed).where(
            PracticeServed.user_id == user.id, PracticeServed.question_id == question.id,
            PracticeServed.mode == mode, PracticeServed.answer_id.is_(None),
        ).order_by(PracticeServed.id.desc()).limit(1)
    )
    if served is None:
        served = PracticeServed(user_id=user.id, question=question, mode=mode, served_at=now or utcnow())
        db.session.add(served)
        db.session.commit()
    return served


def answer(user: User, served_id: int, raw, now: datetime | None = None, tz: str | None = None) -> Feedback:
    """Grade the answer to a question the server served this member, record it and update the mistake
    book (days in `tz`, by default the configured zone). Commits. The question and the mode come from the
    served record, never from the request.

    NotServed: no such record of this member's. PracticeError: no answer given, or the question now sits
    on a paper of theirs whose answers are not out yet (nothing is stored). A second submit of the same
    page, even at the same moment, returns the first answer's feedback and stores nothing.
    """
    now = now or utcnow()
    served = db.session.scalar(select(PracticeServed).where(
        PracticeServed.id == served_id, PracticeServed.user_id == user.id
    )) if 0 < served_id < 2**31 else None
    if served is None:
        raise NotServed(NOT_SERVED)
    if served.answer_id is not None:
        return _given(served)
    question = served.question
    if question.retired or not question.is_current:
        question = _current_revision(question)
    if question.key in secrecy.sealed_keys(user, now):
        raise PracticeError(SEALED)
    given = decode_answer(question, list(range(len(question.options))), raw)
    if not given:
        raise PracticeError("请先作答")
    # Claim the served record: a second submit of this page waits here, then finds it answered.
    served = db.session.scalar(select(PracticeServed).where(PracticeServed.id == served.id)
                               .with_for_update().execution_options(populate_existing=True))
    if served.answer_id is not None:
        return _given(served)
    correct = is_correct(question, given)
    row = _record(user, question, served.mode, given, correct, now)
    served.answer_id = row.id
    cleared = mistakes.schedule(user.id, question, correct, now, review=served.mode is PracticeMode.REVIEW, tz=tz)
    db.session.commit()
    return Feedback(answer=row, right=right_answer(question), cleared=cleared)


def _given(served: PracticeServed) -> Feedback:
    """The feedback of the answer a served question already received."""
    return Feedback(answer=served.answer, right=right_answer(served.answer.question), cleared=False)


def _record(user: User, question: Question, mode: PracticeMode, given: list, correct: bool, now: datetime) -> PracticeAnswer:
    """Store a practice answer (flushed); the first one of the member's to this question key is the first try.

    If another page of theirs stores a first try to the key at the same moment, the unique index refuses
    the second and it is stored as a later try, as if it had come second.
    """
    def stored(first_try: bool) -> PracticeAnswer:
        row = PracticeAnswer(user_id=user.id, question=question, question_key=question.key, mode=mode, answer=given,
                             is_correct=correct, first_try=first_try, answered_at=now)
        db.session.add(row)
        return row

    seen = db.session.scalar(select(PracticeAnswer.id).where(
        PracticeAnswer.user_id == user.id, PracticeAnswer.question_key == question.key, PracticeAnswer.first_try.is_(True)
    ).limit(1)) is not None
    if not seen:
        try:
            with db.session.begin_nested():
                return stored(True)
        except IntegrityError:
            pass  # the other page's first try committed meanwhile
    row = stored(False)
    db.session.flush()
    return row


def right_answer(question: Question) -> list:
    """The right answer in stored option order (first accepted spelling per blank)."""
    return [alts[0] for alts in question.answer] if question.kind.value == "fill" else list(question.answer)


def _current_revision(question: Question) -> Question:
    current = db.session.scalar(select(Question).where(Question.key == question.key, Question.is_current.is_(True)))
    if current is None or current.retired:
        raise PracticeError("这道题已停用")
    return current


def stats(user: User, now: datetime | None = None, tz: str | None = None) -> PracticeStats:
    """What the member knows: first-try correctness in practice and the state of the mistake book
    (due today: by the local day in `tz`, by default the configured zone)."""
    now = now or utcnow()
    answered, first, first_right = db.session.execute(select(
        func.count(PracticeAnswer.id),
        func.count(PracticeAnswer.id).filter(PracticeAnswer.first_try.is_(True)),
        func.count(PracticeAnswer.id).filter(PracticeAnswer.first_try.is_(True), PracticeAnswer.is_correct.is_(True)),
    ).where(PracticeAnswer.user_id == user.id)).one()
    in_book, due_now, cleared = db.session.execute(select(
        func.count(MistakeCard.id).filter(MistakeCard.cleared_at.is_(None)),
        func.count(MistakeCard.id).filter(MistakeCard.cleared_at.is_(None), MistakeCard.due < mistakes.due_before(now, tz)),
        func.count(MistakeCard.id).filter(MistakeCard.cleared_at.is_not(None)),
    ).where(MistakeCard.user_id == user.id)).one()
    return PracticeStats(answered, first, first_right, in_book, due_now, cleared)
