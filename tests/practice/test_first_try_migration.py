"""Migration 0007p: practice answers get their question's key, and extra first tries left by past races
become later tries (the earliest stays the first), so one first try per member and key can be enforced."""

from __future__ import annotations

from flask_migrate import downgrade, stamp, upgrade
from sqlalchemy import select, text

from learnhub.extensions import db
from learnhub.models import PracticeAnswer, PracticeMode, Question, User

from ..factories import practise
from .test_practice import right, wrong


def test_upgrade_keeps_the_earliest_first_try_of_each_member_and_key(app, world, ctx):
    member = db.session.get(User, world.user["m_a1"])
    q1, q2 = db.session.scalars(select(Question).order_by(Question.key).limit(2))
    practise(member, q1, wrong(q1), PracticeMode.DAILY)
    practise(member, q2, right(q2), PracticeMode.CHAPTER)
    (q1_id, k1), (k2, member_id) = (q1.id, q1.key), (q2.key, member.id)
    db.session.remove()
    stamp()
    downgrade(revision="0006f")
    with db.engine.begin() as conn:  # what two pages answering at once used to leave: a second first try
        conn.execute(text(
            "INSERT INTO practice_answer (user_id, question_id, mode, answer, is_correct, first_try, answered_at) "
            "SELECT user_id, question_id, 'chapter', answer, is_correct, first_try, answered_at FROM practice_answer "
            "WHERE question_id = :q"), {"q": q1_id})
    upgrade()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")
    rows = db.session.execute(select(PracticeAnswer.id, PracticeAnswer.question_key, PracticeAnswer.first_try)
                              .order_by(PracticeAnswer.id)).all()
    assert [(key, first) for _, key, first in rows] == [(k1, True), (k2, True), (k1, False)]
    assert practice_stats(db.session.get(User, member_id)) == (3, 2)


def practice_stats(member: User) -> tuple[int, int]:
    from learnhub.services.study import practice

    stats = practice.stats(member)
    return stats.answered, stats.first_try
