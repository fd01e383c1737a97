"""Builders for meeting tests."""

from __future__ import annotations

from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Meeting, MeetingKind, Organisation, Question, QuestionKind, User
from learnhub.services import meetings
from learnhub.services.orgs import scope_for


def askable(count: int = 3, exclude: set[int] | None = None) -> list[Question]:
    """The first `count` current non-fill questions of the bank, by key."""
    rows = db.session.scalars(select(Question).where(Question.kind != QuestionKind.FILL, Question.is_current.is_(True))
                              .order_by(Question.key))
    return [q for q in rows if q.id not in (exclude or set())][:count]


def make_meeting(org_id: int, by_id: int, questions: list[Question] | None = None, title: str = "支部大会测验") -> Meeting:
    """A meeting of branch `org_id` started by user `by_id` (who must manage it)."""
    by = db.session.get(User, by_id)
    return meetings.create_meeting(scope_for(by), db.session.get(Organisation, org_id), title, MeetingKind.GENERAL,
                                   questions or askable(), by)


def right_answer(question: Question):
    """What a phone sends for the right answer."""
    if question.kind is QuestionKind.TRUEFALSE:
        return "true" if question.answer[0] else "false"
    return question.answer[0] if question.kind is QuestionKind.SINGLE else list(question.answer)


def wrong_answer(question: Question):
    if question.kind is QuestionKind.TRUEFALSE:
        return "false" if question.answer[0] else "true"
    return next(i for i in range(len(question.options)) if i not in question.answer)
