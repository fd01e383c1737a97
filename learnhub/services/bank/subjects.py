"""Subjects: what members study, each a tree of parts and knowledge points (subject -> part -> point).

The built-in subject is the Party Constitution (2022): 总纲 and the eleven chapters, with articles between
the parts and the points, owned by the installation (admins edit it). An organisation's subject is owned
by it, visible to its subtree and edited by the organisers whose grants cover the owner, as questions are
(bank/access.py): its parts hold points directly, no article needed.
"""

from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...models import BUILTIN_SUBJECT_DESCRIPTION, BUILTIN_SUBJECT_ID, BUILTIN_SUBJECT_NAME, KnowledgePoint, Organisation, PointLevel, Subject, utcnow
from ..orgs import Scope
from .access import organiser_roots, owner_visible, usable_in


def builtin_subject() -> Subject:
    """The Constitution's subject (row 1, made by the migration or by `db.create_all`)."""
    subject = db.session.get(Subject, BUILTIN_SUBJECT_ID)
    if subject is None:  # a database built without the migration's row
        subject = Subject(id=BUILTIN_SUBJECT_ID, name=BUILTIN_SUBJECT_NAME, description=BUILTIN_SUBJECT_DESCRIPTION,
                          created_at=utcnow())
        db.session.add(subject)
        db.session.flush()
    return subject


def visible_clause(scope: Scope):
    """SQL: the subjects that exist for the viewer: built-in, owned by an organisation above the viewer's
    own or their organiser grants, or owned within those grants (every subject, for an admin)."""
    return owner_visible(scope, Subject.owner_org_id)


def visible_subjects(scope: Scope, include_retired: bool = False) -> list[Subject]:
    """The subjects the viewer studies or manages, the built-in one first."""
    stmt = select(Subject).where(visible_clause(scope))
    if not include_retired:
        stmt = stmt.where(Subject.retired_at.is_(None))
    return list(db.session.scalars(stmt.order_by(Subject.owner_org_id.is_not(None), Subject.position, Subject.id)))


def usable_by(org: Organisation):
    """SQL: the subjects a member of `org` (or a paper given to `org`) may use: built-in or owned above."""
    return usable_in(org, Subject.owner_org_id)


def can_edit(scope: Scope, subject: Subject) -> bool:
    """Admins edit any subject; organisers the subjects owned by an organisation their grants cover."""
    if scope.is_admin:
        return True
    if subject.owner is None:
        return False
    return any(subject.owner.path.startswith(r.path) for r in organiser_roots(scope))


def own_subject(owner: Organisation | None) -> Subject:
    """The subject an import puts an organisation's new parts in when no subject is chosen: its first own
    subject, made ("<organisation>题库") if it has none; the built-in one for the built-in bank."""
    if owner is None:
        return builtin_subject()
    found = existing_own_subject(owner)
    if found is None:
        found = Subject(name=f"{owner.name}题库"[:100], owner_org_id=owner.id, created_at=utcnow())
        db.session.add(found)
        db.session.flush()
    return found


def existing_own_subject(owner: Organisation) -> Subject | None:
    """`own_subject` without making one: None if the organisation has no live subject yet."""
    return db.session.scalar(select(Subject).where(Subject.owner_org_id == owner.id, Subject.retired_at.is_(None))
                             .order_by(Subject.position, Subject.id).limit(1))


def part_of(node: KnowledgePoint) -> KnowledgePoint:
    """The part (top-level node) a node lies under: for the 党章 the point's article's part; for an
    organisation's subject the point's parent."""
    while node.parent is not None and node.level is not PointLevel.PART:
        node = node.parent
    return node
