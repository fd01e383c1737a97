"""Practice for every subject: daily practice from all the subjects a member may use (or one chosen),
practice by part of each subject, the mistake book across subjects; another committee's subject never
reaches a member."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import MistakeCard, Organisation, PracticeMode, Question, User, utcnow
from learnhub.services.study import practice, scope

from ..factories import practise
from ..quiz.helpers import shown_answer
from ..subject_world import WORK, build_subject

TZ = "Asia/Shanghai"


@pytest.fixture
def work(app, world):
    """党委A's subject 支部工作 (2 parts, 3 points, 6 questions)."""
    with app.app_context():
        ids = build_subject(db.session.get(Organisation, world.org["a"]), "支部工作", WORK, "zb")
        db.session.commit()
        return ids


def _user(world, key: str) -> User:
    return db.session.get(User, world.user[key])


def test_practice_by_part_lists_the_parts_of_each_usable_subject(app, world, work, login):
    c = login(world.login["m_a1"])
    page = c.get("/practice/").get_data(as_text=True)
    parts = page[page.index('id="parts"'):]
    assert "第一章 党员" in parts and "支部工作" in parts
    assert f'/practice/chapter/{work.parts["组织生活"]}">组织生活</a><span class="muted">4 题' in parts
    assert f'/practice/chapter/{work.parts["党员管理"]}">党员管理</a><span class="muted">2 题' in parts
    # A question of that part, named with its subject and part; the feedback names them too.
    question_page = c.get(f"/practice/chapter/{work.parts['党员管理']}").get_data(as_text=True)
    assert "支部工作 · 党员管理" in question_page and "党费收缴的第" in question_page
    served = int(re.search(r'name="served" value="(\d+)"', question_page).group(1))
    given = "true" if 'value="true"' in question_page else "1"  # a true/false question, or a single choice
    feedback = c.post("/practice/answer", data={"served": served, "a": given, "part_id": work.parts["党员管理"]},
                      follow_redirects=True).get_data(as_text=True)
    assert "出处：支部工作 · 党员管理" in feedback and "党章" not in feedback.split("出处")[1][:20]
    assert f"/practice/chapter/{work.parts['党员管理']}" in feedback  # 下一题 stays in the part


def test_daily_practice_draws_from_every_usable_subject_or_the_chosen_one(app, world, work, ctx):
    member = _user(world, "m_a1")
    pool = {q.key for q in practice._current_questions(member)}
    assert set(work.questions) <= pool and "t01-001" in pool
    now = utcnow()
    chosen = practice.daily(member, now, TZ, work.subject)
    assert len(chosen.questions) == 5 and {q.key for q in chosen.questions} <= set(work.questions)
    assert practice.daily(member, now, TZ, work.subject).questions == chosen.questions  # the same all day
    # Over a month of days, the unchosen daily five draws from both subjects.
    seen = {q.key for d in range(30) for q in practice.daily_questions(member, now + timedelta(days=d), TZ)}
    assert seen & set(work.questions) and seen - set(work.questions)


def test_daily_practice_page_with_a_chosen_subject(app, world, work, login):
    c = login(world.login["m_a1"])
    page = c.get("/practice/").get_data(as_text=True)
    assert 'id="subjects"' in page and f"/practice/?subject={work.subject}" in page
    chosen = c.get(f"/practice/?subject={work.subject}").get_data(as_text=True)
    assert "每日一练 · 支部工作" in chosen and f"/practice/daily?subject={work.subject}" in chosen
    question = c.get(f"/practice/daily?subject={work.subject}").get_data(as_text=True)
    assert "每日一练 · 支部工作 1/5" in question
    served = int(re.search(r'name="served" value="(\d+)"', question).group(1))
    feedback = c.post("/practice/answer", data={"served": served, "a": "0", "subject_id": work.subject},
                      follow_redirects=True).get_data(as_text=True)
    assert f"/practice/daily?subject={work.subject}" in feedback  # 下一题 stays in the subject


def test_the_mistake_book_works_across_subjects(app, world, work, ctx):
    member = _user(world, "m_a1")
    for key in ("zb-001", "t01-001"):
        q = db.session.scalar(select(Question).filter_by(key=key, is_current=True))
        practise(member, q, shown_answer(q, list(range(len(q.options))), right=False), PracticeMode.DAILY)
    book = practice.mistake_book(member, utcnow() + timedelta(days=3), TZ)
    assert {e.card.question_key for e in book.entries} == {"zb-001", "t01-001"}
    assert all(e.can_practise for e in book.entries)


def test_mistake_book_page_names_the_subject_and_part(app, world, work, login):
    with app.app_context():
        q = db.session.scalar(select(Question).filter_by(key="zb-002", is_current=True))  # a true/false on 三会一课
        practise(_user(world, "m_a1"), q, ["false"], PracticeMode.DAILY)
    page = login(world.login["m_a1"]).get("/practice/mistakes").get_data(as_text=True)
    assert "支部工作 · 组织生活 · 判断题" in page


def test_a_member_of_another_committee_never_gets_the_subjects_questions(app, world, work, login):
    with app.app_context():
        outsider = _user(world, "m_b1")
        assert not {q.key for q in practice._current_questions(outsider)} & set(work.questions)
        assert work.subject not in {s.id for s in scope.practice_subjects(outsider)}
        now = utcnow()
        drawn = {q.key for d in range(60) for q in practice.daily_questions(outsider, now + timedelta(days=d), TZ)}
        assert not drawn & set(work.questions)
        assert practice.next_chapter_question(outsider, work.parts["组织生活"], __import__("random").Random(1)) is None
    c = login(world.login["m_b1"])
    page = c.get("/practice/").get_data(as_text=True)
    assert "支部工作" not in page and "组织生活" not in page
    assert c.get(f"/practice/chapter/{work.parts['组织生活']}").status_code == 404
    assert c.get(f"/practice/?subject={work.subject}").status_code == 404
    assert c.get(f"/practice/daily?subject={work.subject}").status_code == 404
    # The positive control: 党委A's member gets the part.
    assert login(world.login["m_a1"]).get(f"/practice/chapter/{work.parts['组织生活']}").status_code == 200


def test_a_member_who_moved_committee_keeps_no_mistake_of_the_old_ones_subject(app, world, work, ctx):
    member = _user(world, "m_a1")
    q = db.session.scalar(select(Question).filter_by(key="zb-001", is_current=True))
    practise(member, q, shown_answer(q, list(range(4)), right=False), PracticeMode.DAILY)
    assert db.session.scalar(select(MistakeCard).filter_by(user_id=member.id, question_key="zb-001")) is not None
    member.org = db.session.get(Organisation, world.org["b1"])
    db.session.commit()
    book = practice.mistake_book(member, utcnow() + timedelta(days=5), TZ)
    assert "zb-001" not in {e.card.question_key for e in book.entries}
