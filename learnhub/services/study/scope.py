"""What a member may practise: the subjects their organisation may use, and the parts of each that hold
questions for them. Another committee's subjects, parts and questions do not exist for them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ...extensions import db
from ...models import KnowledgePoint, PointLevel, Question, Subject, User
from ..bank import places, subjects
from ..bank.access import usable_in


def practisable(stmt, org):
    """`stmt` (selecting questions) narrowed to those a member of `org` may practise: built-in or owned by
    their organisation or one above it, in a subject they may use that is not retired."""
    return (stmt.join(KnowledgePoint, KnowledgePoint.id == Question.point_id)
            .join(Subject, Subject.id == KnowledgePoint.subject_id)
            .where(usable_in(org), subjects.usable_by(org), Subject.retired_at.is_(None)))


def practice_subjects(user: User) -> list[Subject]:
    """The subjects the member may practise, the built-in one first."""
    return list(db.session.scalars(
        select(Subject).where(subjects.usable_by(user.org), Subject.retired_at.is_(None))
        .order_by(Subject.owner_org_id.is_not(None), Subject.position, Subject.id)
    ))


@dataclass
class PracticePart:
    """A part of a subject, with how many questions the member may practise in it."""

    part: KnowledgePoint
    questions: int


def practice_parts(user: User, subject_list: list[Subject]) -> list[tuple[Subject, list[PracticePart]]]:
    """The parts of these subjects that hold questions the member may practise, in order, for either tree
    shape (the 党章's points hang on articles, an organisation's on its parts)."""
    ids = [s.id for s in subject_list]
    if not ids:
        return []
    nodes = {n.id: n for n in db.session.scalars(select(KnowledgePoint).where(KnowledgePoint.subject_id.in_(ids)))}
    counts = db.session.execute(practisable(
        select(Question.point_id, func.count(Question.id))
        .where(Question.is_current.is_(True), Question.retired.is_(False)),
        user.org).where(Subject.id.in_(ids)).group_by(Question.point_id)).all()
    per_part: dict[int, int] = {}
    for point_id, n in counts:
        node = nodes[point_id]
        while node.parent_id is not None and node.level is not PointLevel.PART:
            node = nodes[node.parent_id]
        per_part[node.id] = per_part.get(node.id, 0) + n
    out = []
    for subject, parts in ((s, places.parts_of([s.id])[s.id]) for s in subject_list):
        listed = [PracticePart(p, per_part[p.id]) for p in parts if per_part.get(p.id)]
        if listed:
            out.append((subject, listed))
    return out


def may_practise_part(user: User, part: KnowledgePoint) -> bool:
    """True if the part lies in a subject the member may use (another committee's does not exist for them)."""
    return db.session.scalar(select(Subject.id).where(
        Subject.id == part.subject_id, subjects.usable_by(user.org), Subject.retired_at.is_(None))) is not None
