"""The mistake book keeps local days (LEARNHUB_TIMEZONE, Asia/Shanghai in the tests): due dates, the
daily review cap and today's five turn over at local midnight, 16:00 UTC; and only a review answered
while its card is due counts toward clearing it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import MistakeCard, PracticeAnswer, PracticeMode, PracticeServed, Question, User
from learnhub.services.study import practice

from ..factories import practise
from .test_practice import TZ, right, wrong

# Tuesday 10 March 2026 in Shanghai (UTC+8)
EVENING = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 20:00
LAST_MINUTE = datetime(2026, 3, 10, 15, 59, tzinfo=UTC)  # 23:59
MIDNIGHT = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 00:00 on Wednesday
FIRST_MINUTE = datetime(2026, 3, 10, 16, 1, tzinfo=UTC)  # 00:01 on Wednesday


def _member_and(world, key: str = "t01-001") -> tuple[User, Question]:
    return db.session.get(User, world.user["m_a1"]), db.session.scalar(select(Question).where(Question.key == key))


def _card(member: User, q: Question) -> MistakeCard:
    return db.session.scalar(select(MistakeCard).where(MistakeCard.user_id == member.id, MistakeCard.question_key == q.key))


def test_a_question_missed_in_the_evening_is_due_next_morning(app, world, ctx):
    member, q = _member_and(world)
    practise(member, q, wrong(q), PracticeMode.DAILY, now=EVENING)
    assert _card(member, q).due == MIDNIGHT  # due from 00:00 of the next local day
    assert practice.due_cards(member, LAST_MINUTE, TZ) == []
    assert [c.question_key for c in practice.due_cards(member, MIDNIGHT, TZ)] == [q.key]
    assert [c.question_key for c in practice.due_cards(member, MIDNIGHT + timedelta(hours=8), TZ)] == [q.key]  # 08:00
    assert practice.stats(member, FIRST_MINUTE).due_now == 1


def test_each_review_moves_the_card_to_the_start_of_a_later_local_day(app, world, ctx):
    member, q = _member_and(world)
    practise(member, q, wrong(q), PracticeMode.DAILY, now=EVENING)
    when = MIDNIGHT + timedelta(hours=13)  # reviewed at 13:00 on Wednesday
    practise(member, q, right(q), PracticeMode.REVIEW, now=when)
    card = _card(member, q)
    local = card.due.astimezone(ZoneInfo(TZ))
    assert card.right_streak == 1 and (local.hour, local.minute) == (0, 0) and card.due >= MIDNIGHT + timedelta(days=1)


def test_the_book_keeps_the_days_of_the_configured_zone(app, world, ctx):
    member, q = _member_and(world)
    served = practice.serve(member, q, PracticeMode.DAILY, EVENING)
    practice.answer(member, served.id, wrong(q), EVENING, tz="Europe/London")  # 12:00 in London
    assert _card(member, q).due == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)


def test_the_review_cap_starts_again_at_local_midnight(app, world, ctx, monkeypatch):
    member, _ = _member_and(world)
    monkeypatch.setattr(practice, "REVIEW_CAP", 1)
    q1, q2 = db.session.scalars(select(Question).order_by(Question.key).limit(2))
    for q in (q1, q2):
        practise(member, q, wrong(q), PracticeMode.DAILY, now=EVENING - timedelta(days=1))
    assert len(practice.due_cards(member, LAST_MINUTE, TZ)) == 1
    practise(member, q1, right(q1), PracticeMode.REVIEW, now=LAST_MINUTE)  # 23:59: today's one review
    assert practice.due_cards(member, LAST_MINUTE + timedelta(seconds=30), TZ) == []
    assert [c.question_key for c in practice.due_cards(member, FIRST_MINUTE, TZ)] == [q2.key]  # 00:01: a new day


def test_todays_five_turn_over_at_local_midnight_not_at_utc_midnight(app, world, ctx):
    member, _ = _member_and(world)
    morning = datetime(2026, 3, 10, 0, 30, tzinfo=UTC)  # 08:30 Tuesday, just after UTC midnight
    assert practice.daily_questions(member, morning - timedelta(hours=1), TZ) == practice.daily_questions(member, morning, TZ)
    q = practice.daily(member, LAST_MINUTE, TZ).pending[0]
    practise(member, q, right(q), PracticeMode.DAILY, now=LAST_MINUTE)
    assert list(practice.daily(member, LAST_MINUTE + timedelta(seconds=30), TZ).done) == [q.id]
    assert practice.daily(member, FIRST_MINUTE, TZ).done == {}


def test_right_answers_on_review_pages_opened_at_once_count_once(app, world, ctx):
    """Three review pages of one card opened at the same moment (each request served its own row before
    any was answered), then answered right one after the other: only the first, given while the card
    was due, counts. Before, the three cleared the card within a minute."""
    member, q = _member_and(world)
    practise(member, q, wrong(q), PracticeMode.DAILY, now=EVENING)
    pages = [PracticeServed(user_id=member.id, question=q, mode=PracticeMode.REVIEW, served_at=MIDNIGHT) for _ in range(3)]
    db.session.add_all(pages)
    db.session.commit()
    feedback = [practice.answer(member, p.id, right(q), MIDNIGHT + timedelta(seconds=i)) for i, p in enumerate(pages)]
    card = _card(member, q)
    assert not any(f.cleared for f in feedback) and card.cleared_at is None
    assert card.right_streak == 1 and card.due >= MIDNIGHT + timedelta(days=1)
    assert db.session.scalar(select(func.count(PracticeAnswer.id)).where(PracticeAnswer.mode == PracticeMode.REVIEW)) == 3
    assert practice.stats(member, FIRST_MINUTE).in_book == 1


def test_a_review_page_answered_after_its_card_moved_on_leaves_the_schedule_alone(app, world, ctx):
    """The review page was served while the card was due; a wrong answer in chapter practice then moved the
    card to tomorrow. The right answer on the old review page is recorded but does not count."""
    member, q = _member_and(world)
    practise(member, q, wrong(q), PracticeMode.DAILY, now=EVENING - timedelta(days=1))
    page = practice.serve(member, q, PracticeMode.REVIEW, EVENING)
    practise(member, q, wrong(q), PracticeMode.CHAPTER, now=EVENING)
    before = _card(member, q)
    due, lapses = before.due, before.lapses
    feedback = practice.answer(member, page.id, right(q), EVENING + timedelta(minutes=1))
    card = _card(member, q)
    assert feedback.answer.is_correct and not feedback.cleared
    assert (card.due, card.right_streak, card.lapses) == (due, 0, lapses) and due == MIDNIGHT


def test_a_card_scheduled_at_a_time_of_day_is_due_all_of_that_day(app, world, ctx):
    """Cards scheduled before due dates were whole days (due at 20:00 on Wednesday) are due, and their
    reviews count, from 00:00 on Wednesday."""
    member, q = _member_and(world)
    practise(member, q, wrong(q), PracticeMode.DAILY, now=EVENING)
    card = _card(member, q)
    card.due = EVENING + timedelta(days=1)
    db.session.commit()
    assert practice.due_cards(member, LAST_MINUTE, TZ) == []
    assert [c.question_key for c in practice.due_cards(member, MIDNIGHT, TZ)] == [q.key]
    assert practice.stats(member, MIDNIGHT, TZ).due_now == 1
    practise(member, q, right(q), PracticeMode.REVIEW, now=MIDNIGHT + timedelta(hours=8))
    assert _card(member, q).right_streak == 1
