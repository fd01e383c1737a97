"""The mistake book lists its questions, due or not, with the day each comes back, and a member may
practise any of them now (issue 14). Its counts agree with the list. Practice still grades only what it
served: a question of the book is served like any other, and before its review day a right answer
leaves the schedule alone while a wrong one counts."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select, update

from learnhub.extensions import db
from learnhub.models import Assignment, MistakeCard, PracticeMode, PracticeServed, Question, User, utcnow
from learnhub.services.study import practice
from learnhub.services.exam import quizzes

from ..factories import practise
from .test_practice import TZ, as_form, right, served_id, wrong


def _book(app, world, member: str = "m_a1", count: int = 3) -> list[int]:
    """`count` questions answered wrong in practice (due tomorrow), the first made due today; card ids by key."""
    with app.app_context():
        person = db.session.get(User, world.user[member])
        for q in list(db.session.scalars(select(Question).order_by(Question.key)))[:count]:
            practise(person, q, wrong(q), PracticeMode.CHAPTER)
        cards = list(db.session.scalars(select(MistakeCard).where(MistakeCard.user_id == person.id)
                                        .order_by(MistakeCard.question_key)))
        cards[0].due = utcnow() - timedelta(hours=1)
        db.session.commit()
        return [c.id for c in cards]


def _card(app, card_id: int) -> MistakeCard:
    with app.app_context():
        card = db.session.get(MistakeCard, card_id)
        db.session.expunge(card)
        return card


def test_the_book_lists_every_question_with_its_review_day_and_the_counts_agree(app, world, login):
    cards = _book(app, world)
    client = login(world.login["m_a1"])
    home = client.get("/practice/").get_data(as_text=True)
    assert "共 3 题 · 今日待复习 1 题" in home and "<b>3</b>错题本中" in home
    assert 'href="/practice/mistakes"' in home
    page = client.get("/practice/mistakes").get_data(as_text=True)
    assert "共 3 题，今日待复习 1 题" in page
    entries = re.findall(r'<li id="mistake-(\d+)">(.*?)</li>', page, re.S)
    assert [int(i) for i, _ in entries] == cards  # due today first, then by day
    with app.app_context():
        tomorrow = practice.local_day(utcnow(), TZ) + timedelta(days=1)
        stems = [db.session.get(MistakeCard, c).question.stem for c in cards]
    assert "今天复习" in entries[0][1] and "复习这题" in entries[0][1]
    for (_, entry), stem in zip(entries, stems, strict=True):
        assert stem[:20] in entry and 'href="/practice/mistakes/' in entry
    for _, entry in entries[1:]:
        assert f"{tomorrow.month}月{tomorrow.day}日复习" in entry and "现在练习" in entry


def test_a_question_not_yet_due_is_practised_now_and_a_right_answer_leaves_its_day(app, world, login):
    cards = _book(app, world)
    client = login(world.login["m_a1"])
    before = _card(app, cards[1])
    page = client.get(f"/practice/mistakes/{cards[1]}").get_data(as_text=True)
    assert "提前练习" in page
    served = served_id(page)
    with app.app_context():
        row = db.session.get(PracticeServed, served)
        assert row.mode is PracticeMode.EARLY and row.question.key == before.question_key
        answer = right(row.question)
    feedback = client.get(client.post("/practice/answer", data={"served": served, "a": as_form(answer)}).location)
    assert "答对了" in feedback.get_data(as_text=True) and "回到错题本" in feedback.get_data(as_text=True)
    after = _card(app, cards[1])
    assert (after.due, after.right_streak, after.lapses, after.cleared_at) == (before.due, 0, before.lapses, None)


def test_a_wrong_answer_before_the_review_day_counts(app, world, login):
    cards = _book(app, world)
    client = login(world.login["m_a1"])
    before = _card(app, cards[2])
    served = served_id(client.get(f"/practice/mistakes/{cards[2]}").get_data(as_text=True))
    with app.app_context():
        answer = wrong(db.session.get(PracticeServed, served).question)
    client.post("/practice/answer", data={"served": served, "a": as_form(answer)})
    after = _card(app, cards[2])
    assert after.lapses == before.lapses + 1 and after.cleared_at is None


def test_a_question_due_today_practised_from_the_list_is_a_review(app, world, login):
    cards = _book(app, world)
    client = login(world.login["m_a1"])
    served = served_id(client.get(f"/practice/mistakes/{cards[0]}").get_data(as_text=True))
    with app.app_context():
        row = db.session.get(PracticeServed, served)
        assert row.mode is PracticeMode.REVIEW
        answer = right(row.question)
    client.post("/practice/answer", data={"served": served, "a": as_form(answer)})
    after = _card(app, cards[0])
    assert after.right_streak == 1 and after.due > utcnow()
    assert "今日待复习 0 题" in client.get("/practice/").get_data(as_text=True)


def test_nobody_practises_another_members_book_or_a_cleared_card(app, world, login):
    cards = _book(app, world)
    assert login(world.login["m_a1b"]).get(f"/practice/mistakes/{cards[1]}").status_code == 404
    with app.app_context():
        db.session.execute(update(MistakeCard).where(MistakeCard.id == cards[1]).values(cleared_at=utcnow()))
        db.session.commit()
    owner = login(world.login["m_a1"])
    assert owner.get(f"/practice/mistakes/{cards[1]}").status_code == 404
    assert f'id="mistake-{cards[1]}"' not in owner.get("/practice/mistakes").get_data(as_text=True)
    assert "共 2 题" in owner.get("/practice/").get_data(as_text=True)


def test_a_question_on_an_open_paper_is_listed_but_not_served(app, world, login):
    """The exam's questions are in the book (the first paper was handed in blank); the second paper is open."""
    with app.app_context():
        member = db.session.get(User, world.user["m_a1"])
        assignment = db.session.get(Assignment, world.assignment_a)
        quizzes.submit_attempt(quizzes.start_attempt(assignment, member), None, 60)
        quizzes.start_attempt(assignment, member)
        card = db.session.scalars(select(MistakeCard).where(MistakeCard.user_id == member.id)).first()
        card_id, served_before = card.id, db.session.scalar(select(func.count()).select_from(PracticeServed))
    client = login(world.login["m_a1"])
    page = client.get("/practice/mistakes").get_data(as_text=True)
    entry = re.search(rf'<li id="mistake-{card_id}">(.*?)</li>', page, re.S).group(1)
    assert "考试中，答案公布后再练" in entry and "/practice/mistakes/" not in entry
    refused = client.get(f"/practice/mistakes/{card_id}", follow_redirects=True)
    assert practice.SEALED in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PracticeServed)) == served_before


def test_when_todays_reviews_are_used_up_the_review_says_so(app, world, login, monkeypatch):
    cards = _book(app, world)
    monkeypatch.setattr(practice, "REVIEW_CAP", 0)
    client = login(world.login["m_a1"])
    refused = client.get("/practice/review", follow_redirects=True).get_data(as_text=True)
    assert "今天已复习 0 题，剩下的明天再复习" in refused
    assert "今天的复习已做满" in client.get("/practice/").get_data(as_text=True)
    # The list still lets the member practise the due question.
    assert client.get(f"/practice/mistakes/{cards[0]}").status_code == 200
