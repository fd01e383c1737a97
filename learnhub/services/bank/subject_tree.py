"""Reading subjects for the management pages: which exist for the viewer, their counts, and one subject's
tree of parts (articles, for the 党章) and points with the number of questions on each.

A subject exists for a viewer as subjects.visible_clause says (built-in; owned above them or within
their organiser grants); a retired one only for those who may edit it. A node exists for them if its
subject does and its owner's questions exist for them (bank/access.py); a retired point, again, only
for its editors. Everything else is 404 to the views.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from ...extensions import db
from ...models import KnowledgePoint, Organisation, PointLevel, Question, Subject
from ..orgs import Scope
from .access import node_visible, owner_seen, visible_clause as question_visible
from .subjects import can_edit, visible_subjects


@dataclass
class SubjectSummary:
    subject: Subject
    parts: int
    points: int
    questions: int
    editable: bool


@dataclass
class TreeNode:
    node: KnowledgePoint
    questions: int = 0  # live questions on it (a point) or beneath it (a part, an article)
    children: list[TreeNode] = field(default_factory=list)

    @property
    def points(self) -> int:
        if self.node.level is PointLevel.POINT:
            return 1
        return sum(c.points for c in self.children)


def can_see(scope: Scope, subject: Subject) -> bool:
    """True if the subject exists for the viewer (a retired one only for its editors)."""
    if subject.retired_at is not None and not can_edit(scope, subject):
        return False
    return owner_seen(scope, subject.owner_org_id, subject.owner)


def can_see_node(scope: Scope, node: KnowledgePoint) -> bool:
    """True if the node exists for the viewer: its subject does, its owner's questions do, and it is live
    (or the viewer may edit its subject)."""
    if not can_see(scope, node.subject):
        return False
    if node.retired_at is not None and not can_edit(scope, node.subject):
        return False
    owner = db.session.get(Organisation, node.owner_org_id) if node.owner_org_id is not None else None
    return owner_seen(scope, node.owner_org_id, owner)


def _question_counts(scope: Scope, subject_ids: list[int]) -> dict[int, int]:
    """Live questions per point, on the points of these subjects that the viewer sees."""
    if not subject_ids:
        return {}
    rows = db.session.execute(
        select(Question.point_id, func.count()).join(KnowledgePoint, KnowledgePoint.id == Question.point_id)
        .where(KnowledgePoint.subject_id.in_(subject_ids), Question.is_current.is_(True), Question.retired.is_(False),
               question_visible(scope))
        .group_by(Question.point_id)
    )
    return dict(rows.all())


def summaries(scope: Scope) -> tuple[list[SubjectSummary], list[SubjectSummary]]:
    """The subjects that exist for the viewer with their live parts, points and questions: the live ones
    (built-in first), and the retired ones the viewer may bring back."""
    subjects = [s for s in visible_subjects(scope, include_retired=True) if can_see(scope, s)]
    ids = [s.id for s in subjects]
    nodes = db.session.execute(
        select(KnowledgePoint.id, KnowledgePoint.subject_id, KnowledgePoint.level)
        .where(KnowledgePoint.subject_id.in_(ids), node_visible(scope, include_retired=True),
               KnowledgePoint.retired_at.is_(None))
    ).all() if ids else []
    per_point = _question_counts(scope, ids)
    counts = {s: [0, 0, 0] for s in ids}
    for node_id, subject_id, level in nodes:
        if level is PointLevel.PART:
            counts[subject_id][0] += 1
        elif level is PointLevel.POINT:
            counts[subject_id][1] += 1
            counts[subject_id][2] += per_point.get(node_id, 0)
    out = [SubjectSummary(s, *counts[s.id], editable=can_edit(scope, s)) for s in subjects]
    return [s for s in out if s.subject.retired_at is None], [s for s in out if s.subject.retired_at is not None]


def subject_tree(scope: Scope, subject: Subject) -> tuple[list[TreeNode], list[KnowledgePoint]]:
    """The subject's live parts, each with its children (points, or the 党章's articles and their points)
    and question counts; and its retired points (shown to editors only, to bring back)."""
    nodes = list(db.session.scalars(
        select(KnowledgePoint).where(KnowledgePoint.subject_id == subject.id, node_visible(scope, include_retired=True))
        .order_by(KnowledgePoint.position, KnowledgePoint.id)
    ))
    counts = _question_counts(scope, [subject.id])
    live = {n.id: TreeNode(n, counts.get(n.id, 0)) for n in nodes if n.retired_at is None}
    parts = []
    for tree_node in live.values():
        parent = live.get(tree_node.node.parent_id)
        if parent is not None:
            parent.children.append(tree_node)
        elif tree_node.node.parent_id is None:
            parts.append(tree_node)

    def total(t: TreeNode) -> int:
        if t.children:
            t.questions += sum(total(c) for c in t.children)
        return t.questions

    for part in parts:
        total(part)
    retired = [n for n in nodes if n.retired_at is not None] if can_edit(scope, subject) else []
    return parts, retired


def find_node(scope: Scope, node_id: int) -> KnowledgePoint | None:
    """The node if it exists for the viewer, else None."""
    node = db.session.get(KnowledgePoint, node_id)
    return node if node is not None and can_see_node(scope, node) else None


def find_subject(scope: Scope, subject_id: int) -> Subject | None:
    """The subject if it exists for the viewer, else None."""
    subject = db.session.get(Subject, subject_id)
    return subject if subject is not None and can_see(scope, subject) else None


def trail(node: KnowledgePoint) -> list[KnowledgePoint]:
    """The node's ancestors, the part first (for breadcrumbs)."""
    out = []
    while node.parent is not None:
        node = node.parent
        out.append(node)
    return list(reversed(out))


def point_questions(scope: Scope, point: KnowledgePoint) -> list[Question]:
    """The current questions on a point that the viewer sees, retired ones last."""
    return list(db.session.scalars(
        select(Question).where(Question.point_id == point.id, Question.is_current.is_(True), question_visible(scope))
        .order_by(Question.retired, Question.created_at, Question.id)
    ))
