"""No key during an exam: which questions' keys a user may not see yet, and on which assignments.

A question is sealed for a user while it sits on one of their papers whose answers they may not see:
an attempt in progress, or a handed-in attempt of an assignment that shows answers only after its
window closes. Sealing goes by the question's stable key, so every revision of it is sealed too. While
sealed, no page shows the user its key, its explanation or its stored option order: practice does not
serve it, earlier feedback and reviews withhold it, and staff who sit the exam do not see its item
analysis or members' papers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select

from ...extensions import db
from ...models import Assignment, Attempt, AttemptState, Question, ShowAnswers, User, utcnow

WITHHELD = "该题在你参加的考试中，答案公布后才能查看"
SITTING = "你正在参加本次考试，交卷后才能查看"
SAT_UNTIL_CLOSE = "本次考试的答案在截止后公布，截止后才能查看"


def _unrevealed(now: datetime):
    """SQL: the attempt's answers are not yet visible to its member (see quizzes.answers_visible)."""
    return or_(
        Attempt.state == AttemptState.IN_PROGRESS,
        and_(Assignment.show_answers == ShowAnswers.AFTER_CLOSE, Assignment.closes_at > now),
    )


def papers_unseen(user_id, now):
    """SQL: the user has a paper whose answers they may not see yet (only then can any key be sealed for
    them); `user_id` and `now` may be columns or bound parameters."""
    return (select(Attempt.id).join(Assignment, Assignment.id == Attempt.assignment_id)
            .where(Attempt.user_id == user_id, _unrevealed(now)).exists())


def sealed_keys(user: User, now: datetime | None = None) -> frozenset[str]:
    """Keys of the questions on the user's papers whose answers they may not see yet."""
    papers = db.session.scalars(
        select(Attempt.paper).join(Assignment, Assignment.id == Attempt.assignment_id)
        .where(Attempt.user_id == user.id, _unrevealed(now or utcnow()))
    ).all()
    ids = {entry["q"] for paper in papers for entry in paper}
    if not ids:
        return frozenset()
    return frozenset(db.session.scalars(select(Question.key).where(Question.id.in_(ids)).distinct()))


def sitting(user: User, assignment: Assignment, now: datetime | None = None) -> str | None:
    """Why the user may not yet see this assignment's keys as staff (item analysis, members' papers), or None.

    A secretary or organiser who sits the exam is an examinee first: until their own attempt is handed
    in (and, when answers show after the window closes, until it closes) the assignment's keys are
    withheld from them like from any member.
    """
    states = set(db.session.scalars(
        select(Attempt.state).join(Assignment, Assignment.id == Attempt.assignment_id)
        .where(Attempt.user_id == user.id, Attempt.assignment_id == assignment.id, _unrevealed(now or utcnow()))
    ))
    if not states:
        return None
    return SITTING if AttemptState.IN_PROGRESS in states else SAT_UNTIL_CLOSE
