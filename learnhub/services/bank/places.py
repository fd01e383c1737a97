"""Where a knowledge point sits: its subject, its part and, for the 党章, its article.

Every page and export that names a point names its subject and part with it, so a point of an
organisation's subject (tree PART -> POINT, no article) never reads as an article of the 党章, and two
subjects' points of the same name stay apart. Both tree shapes are handled here:

  党章:                 PART (总纲 / 第一章 ...) -> ARTICLE (第一条 ...) -> POINT
  an organisation's:   PART -> POINT
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from ...extensions import db
from ...models import KnowledgePoint, PointLevel, Question, Subject
from .question_bank import node_article
from .subjects import part_of

BUILTIN_SHORT = "党章"


def subject_label(subject: Subject | None) -> str:
    """A subject's name as pages show it: 党章 for the built-in one."""
    if subject is None:
        return ""
    return BUILTIN_SHORT if subject.is_builtin else subject.name


@dataclass(frozen=True)
class Place:
    """A knowledge point with its subject, part and (the 党章's) article."""

    point: KnowledgePoint
    subject: Subject
    part: KnowledgePoint | None
    article: str  # 第一条, a section of 总纲, or "" (an organisation's subject; a node an import added)

    @property
    def subject_name(self) -> str:
        return subject_label(self.subject)

    @property
    def part_name(self) -> str:
        return self.part.name if self.part is not None and self.part is not self.point else ""

    @property
    def where(self) -> str:
        """科目 · 部分 (· 条文): 党章 · 第一章 党员 · 第一条, or 支部工作 · 组织生活."""
        return " · ".join(x for x in (self.subject_name, self.part_name, self.article) if x)

    @property
    def label(self) -> str:
        """The point with where it sits: 党章 · 第一章 党员 · 第一条 · 入党条件."""
        return f"{self.where} · {self.point.name}" if self.where else self.point.name

    @property
    def order(self) -> tuple:
        """Tree order: the built-in subject first, then subjects by position; parts, articles, points by position."""
        holder = self.point.parent if self.point.parent is not None and self.point.parent is not self.part else None
        return (not self.subject.is_builtin, self.subject.position, self.subject.id,
                self.part.position if self.part is not None else 0, self.part.id if self.part is not None else 0,
                holder.position if holder is not None else 0, holder.id if holder is not None else 0,
                self.point.position, self.point.id)


def place_of(point: KnowledgePoint) -> Place:
    """Where a point sits, for either tree shape (parents are loaded once per session)."""
    part = part_of(point)
    holder = point.parent
    article = ""
    if holder is not None and holder.level is PointLevel.ARTICLE:
        article = node_article(holder.name)
    subject = point.subject or db.session.get(Subject, point.subject_id)
    return Place(point=point, subject=subject, part=part if part is not point else None, article=article)


def in_tree_order(points: Iterable[KnowledgePoint]) -> list[KnowledgePoint]:
    """Points in tree order across subjects (the built-in subject first)."""
    return [p.point for p in sorted((place_of(p) for p in points), key=lambda p: p.order)]


@dataclass
class PartGroup:
    """One part of one subject and its points, in tree order."""

    subject: Subject
    part: KnowledgePoint | None
    points: list[KnowledgePoint] = field(default_factory=list)

    @property
    def label(self) -> str:
        return " · ".join(x for x in (subject_label(self.subject), self.part.name if self.part else "") if x)


def group_by_part(points: Iterable[KnowledgePoint]) -> list[PartGroup]:
    """Points grouped by subject and part (articles folded into their part), in tree order."""
    groups: dict[tuple[int, int | None], PartGroup] = {}
    for place in sorted((place_of(p) for p in points), key=lambda p: p.order):
        key = (place.subject.id, place.part.id if place.part is not None else None)
        groups.setdefault(key, PartGroup(place.subject, place.part)).points.append(place.point)
    return list(groups.values())


def subjects_of(points: Iterable[KnowledgePoint]) -> list[Subject]:
    """The subjects these points belong to, the built-in one first."""
    by_id = {}
    for p in points:
        subject = p.subject or db.session.get(Subject, p.subject_id)
        by_id[subject.id] = subject
    return sorted(by_id.values(), key=lambda s: (not s.is_builtin, s.position, s.id))


def question_source(question: Question) -> str:
    """Where a question comes from, as the explanation names it: 党章第一条, or 支部工作 · 组织生活."""
    place = place_of(question.point)
    if place.subject.is_builtin and question.article:
        return f"{BUILTIN_SHORT}{question.article}"
    return " · ".join(x for x in (place.subject_name, place.part_name, place.article) if x)


def parts_of(subject_ids: Iterable[int]) -> dict[int, list[KnowledgePoint]]:
    """The parts of these subjects in order, by subject id."""
    ids = list(subject_ids)
    out: dict[int, list[KnowledgePoint]] = {i: [] for i in ids}
    if not ids:
        return out
    for part in db.session.scalars(select(KnowledgePoint).where(
            KnowledgePoint.subject_id.in_(ids), KnowledgePoint.level == PointLevel.PART,
            KnowledgePoint.parent_id.is_(None))
            .order_by(KnowledgePoint.position, KnowledgePoint.id)):
        out[part.subject_id].append(part)
    return out
