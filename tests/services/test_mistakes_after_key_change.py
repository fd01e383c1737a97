"""After a key correction the mistake books follow the corrected key: an answer now wrong puts the
question in the member's book, a card whose only reasons are now right answers is taken out, and the
rest of a card's history is kept (mistakes.reschedule_after_key_change, called by the key-correction
code after its regrade)."""

from __future__ import annotations

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import (
    Assignment,
    Attempt,
    MistakeCard,
    PracticeAnswer,
    PracticeMode,
    Question,
    Response,
    User,
    utcnow,
)
from learnhub.services.study import mistakes, practice
from learnhub.services.exam import quizzes
from learnhub.services.exam.grading import is_correct

from ..factories import practise

TZ = "Asia/Shanghai"
KEY = "t01-001"  # 申请入党的最低年龄: 十六岁 / 十八岁 / 二十岁 / 二十二岁, key B ([1])


def _question() -> Question:
    return db.session.scalar(select(Question).where(Question.key == KEY))


def _member(world, name: str) -> User:
    return db.session.get(User, world.user[name])


def _card(member: User) -> MistakeCard | None:
    return db.session.scalar(select(MistakeCard).where(MistakeCard.user_id == member.id, MistakeCard.question_key == KEY)
                             .execution_options(populate_existing=True))


def correct_key(q: Question, new_answer: list, now) -> mistakes.Rescheduled:
    """What the key-correction code does: regrade the question's answers with the new key, then rebuild
    the books of the members whose answers flipped."""
    q.answer = new_answer
    flipped = set()
    for response, user_id in db.session.execute(
            select(Response, Attempt.user_id).join(Attempt, Attempt.id == Response.attempt_id).where(Response.question_id == q.id)):
        if response.is_correct is not None and response.is_correct != is_correct(q, response.answer):
            response.is_correct = not response.is_correct
            flipped.add(user_id)
    for row in db.session.scalars(select(PracticeAnswer).where(PracticeAnswer.question_id == q.id)):
        if row.is_correct != is_correct(q, row.answer):
            row.is_correct = not row.is_correct
            flipped.add(row.user_id)
    db.session.flush()
    done = mistakes.reschedule_after_key_change(q.key, flipped, now, TZ)
    db.session.commit()
    return done


def sit_exam(world, member: User, choice: int, when) -> Attempt:
    """Hand in assignment A with option `choice` for the question (the others left blank)."""
    attempt = quizzes.start_attempt(db.session.get(Assignment, world.assignment_a), member, now=when)
    q = _question()
    position, entry = next((i + 1, e) for i, e in enumerate(attempt.paper) if e["q"] == q.id)
    attempt, _ = quizzes.submit_attempt(attempt, {position: str(entry["perm"].index(choice))}, 60, now=when + timedelta(minutes=5))
    return attempt


def test_an_exam_answer_that_the_correction_makes_wrong_enters_the_book(app, world, ctx):
    member, q = _member(world, "m_a1"), _question()
    attempt = sit_exam(world, member, 1, utcnow() - timedelta(hours=12))  # 十八岁: right under the old key
    assert _card(member) is None
    done = correct_key(q, [2], utcnow())
    card = _card(member)
    assert (done.added, done.rebuilt, done.removed) == (1, 0, 0)
    assert card.cleared_at is None and card.lapses == 1 and card.created_at == attempt.finished_at
    local_day = practice.local_day(attempt.finished_at, TZ)
    assert card.due == mistakes.day_start(local_day + timedelta(days=1), ZoneInfo(TZ))  # as if missed then
    assert practice.stats(member, card.due).in_book >= 1
    assert KEY in [c.question_key for c in practice.due_cards(member, card.due, TZ)]


def test_a_card_whose_only_mistake_is_now_right_is_taken_out(app, world, ctx):
    member, q = _member(world, "m_a1b"), _question()
    practise(member, q, [2], PracticeMode.DAILY, now=utcnow() - timedelta(days=3))  # 二十岁: wrong under the old key
    assert _card(member) is not None and practice.stats(member).in_book == 1
    done = correct_key(q, [2], utcnow())
    assert (done.added, done.rebuilt, done.removed) == (0, 0, 1)
    stats = practice.stats(member)
    assert _card(member) is None and stats.in_book == 0 and stats.cleared == 0  # never a mistake, not "cleared"
    assert (stats.first_try, stats.first_try_right) == (1, 1)


def test_a_card_keeps_the_mistakes_that_are_still_mistakes(app, world, ctx):
    member, q = _member(world, "m_a2"), _question()
    start = utcnow() - timedelta(days=3)
    practise(member, q, [2], PracticeMode.DAILY, now=start)  # right after the correction
    practise(member, q, [3], PracticeMode.CHAPTER, now=start + timedelta(hours=1))  # wrong either way
    assert _card(member).lapses == 2
    done = correct_key(q, [2], utcnow())
    card = _card(member)
    assert (done.added, done.rebuilt, done.removed) == (0, 1, 0)
    assert card.lapses == 1 and card.cleared_at is None and card.created_at == start + timedelta(hours=1)


def test_reviews_the_correction_makes_wrong_bring_a_cleared_card_back(app, world, ctx):
    member, q = _member(world, "m_a3"), _question()
    practise(member, q, [0], PracticeMode.DAILY, now=utcnow() - timedelta(days=60))
    for _ in range(mistakes.CLEAR_AFTER):  # 十八岁 on every due review: cleared under the old key
        feedback = practise(member, q, [1], PracticeMode.REVIEW, now=_card(member).due)
    assert feedback.cleared and _card(member).cleared_at is not None
    done = correct_key(q, [2], utcnow())
    card = _card(member)
    assert (done.added, done.rebuilt, done.removed) == (0, 1, 0)
    assert card.cleared_at is None and card.right_streak == 0 and card.lapses == 1 + mistakes.CLEAR_AFTER
    assert practice.stats(member).in_book == 1


def test_rebuilding_a_book_the_correction_did_not_change_gives_the_same_card(app, world, ctx):
    """The rebuild replays the answers by the same rules as the live schedule."""
    member, q = _member(world, "sec_a1"), _question()
    practise(member, q, [3], PracticeMode.DAILY, now=utcnow() - timedelta(days=40))
    practise(member, q, [1], PracticeMode.REVIEW, now=_card(member).due + timedelta(hours=9))
    practise(member, q, [1], PracticeMode.REVIEW, now=_card(member).due - timedelta(hours=1))  # not yet due
    practise(member, q, [1], PracticeMode.REVIEW, now=_card(member).due + timedelta(hours=20))
    card = _card(member)
    live = (card.due, card.right_streak, card.lapses, card.cleared_at, card.created_at)
    done = mistakes.reschedule_after_key_change(KEY, [member.id], utcnow(), TZ)
    db.session.commit()
    card = _card(member)
    assert (done.added, done.rebuilt, done.removed) == (0, 1, 0)
    assert (card.due, card.right_streak, card.lapses, card.cleared_at, card.created_at) == live
    assert live[1] == 2  # the review given before the card was due did not count
    assert mistakes.reschedule_after_key_change(KEY, [], utcnow(), TZ) == mistakes.Rescheduled()


def test_a_practice_mistake_during_the_rebuild_is_kept(app, world, ctx, monkeypatch):
    """The member answers the question wrong in practice while the correction rebuilds their book (forced):
    the practice answer waits for the rebuild and lands on top of it, as if it came second."""
    member, q = _member(world, "m_a1"), _question()
    sit_exam(world, member, 1, utcnow() - timedelta(hours=12))
    served_id, member_id = practice.serve(member, q, PracticeMode.CHAPTER).id, member.id
    real, threads = mistakes._replay, []

    def answer_in_practice():
        with app.app_context():
            practice.answer(db.session.get(User, member_id), served_id, "3", tz=TZ)  # 二十二岁: wrong either way

    def replay_with_a_practice_answer_at_once(*args):
        if not threads:
            threads.append(threading.Thread(target=answer_in_practice))
            threads[0].start()
            threads[0].join(timeout=1.5)  # unlocked, it would finish here
        return real(*args)

    monkeypatch.setattr(mistakes, "_replay", replay_with_a_practice_answer_at_once)
    correct_key(q, [2], utcnow())
    threads[0].join(timeout=30)
    db.session.expire_all()
    assert _card(member).lapses == 2  # the exam answer now wrong, and the practice answer
    assert len(db.session.scalars(select(PracticeAnswer).where(PracticeAnswer.user_id == member_id)).all()) == 1
