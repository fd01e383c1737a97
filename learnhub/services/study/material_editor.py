"""Writing study materials in the browser: create, save (a new version when the text changed), retire.

Access is the caller's first step (material_access.can_edit / owners_for); these functions check the
content: a title, a text within limits, points of the material's own subject.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ...extensions import db
from ...models import KnowledgePoint, Material, MaterialVersion, Organisation, PointLevel, Subject, User, utcnow
from .. import FieldError
from ..bank.subjects import part_of
from ..orgs import Scope
from . import material_access
from .materials import add_version

TITLE_MAX = 100
BODY_MAX = 50_000  # characters: a long regulation with commentary; ~150 KB of Chinese, under the form limit


@dataclass
class Draft:
    title: str
    body: str
    point_ids: list[int] = field(default_factory=list)


def subject_points(subject: Subject) -> list[tuple[KnowledgePoint, list[KnowledgePoint]]]:
    """The subject's knowledge points grouped by part, in tree order (for the 党章, article by article)."""
    nodes = list(db.session.scalars(select(KnowledgePoint).where(KnowledgePoint.subject_id == subject.id)
                                    .order_by(KnowledgePoint.position, KnowledgePoint.id)))
    children: dict[int | None, list[KnowledgePoint]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)

    def points_under(node_id: int) -> list[KnowledgePoint]:
        out = []
        for child in children.get(node_id, []):
            out.extend([child] if child.level is PointLevel.POINT else points_under(child.id))
        return out

    groups = []
    for part in children.get(None, []):
        if part.level is PointLevel.POINT:
            groups.append((part, [part]))
        else:
            points = points_under(part.id)
            if points:
                groups.append((part, points))
    return groups


def _checked(subject: Subject, draft: Draft) -> tuple[str, str, list[KnowledgePoint]]:
    title = " ".join((draft.title or "").split())
    body = (draft.body or "").replace("\r\n", "\n").strip()
    if not title:
        raise FieldError("title", "请填写标题")
    if len(title) > TITLE_MAX:
        raise FieldError("title", f"标题不能超过 {TITLE_MAX} 个字")
    if not body:
        raise FieldError("body", "请填写正文")
    if len(body) > BODY_MAX:
        raise FieldError("body", f"正文不能超过 {BODY_MAX} 个字（现在 {len(body)} 个）：请分成几篇资料")
    ids = list(dict.fromkeys(draft.point_ids))
    points = list(db.session.scalars(select(KnowledgePoint).where(
        KnowledgePoint.id.in_(ids), KnowledgePoint.subject_id == subject.id, KnowledgePoint.level == PointLevel.POINT)))
    if len(points) != len(ids):
        raise FieldError("points", "所选知识点不属于这个主题，请重新选择")
    if not points:
        raise FieldError("points", "请至少选择一个知识点：成绩统计按知识点推荐学习资料")
    order = {pid: i for i, pid in enumerate(ids)}
    return title, body, sorted(points, key=lambda p: order[p.id])


def create(subject: Subject, owner: Organisation | None, draft: Draft, author: User) -> Material:
    """A new material of `subject`, owned by `owner` (None: built-in), as version 1. Commits.

    :raise FieldError: the title, text or points break a rule; nothing is saved.
    """
    title, body, points = _checked(subject, draft)
    position = (db.session.scalar(select(func.max(Material.position)).where(Material.subject_id == subject.id)) or 0) + 1
    material = Material(slug=f"new-{secrets.token_hex(8)}", title=title, body_md="", version=0,
                        part=part_of(points[0]).name, position=position, subject_id=subject.id,
                        owner_org_id=owner.id if owner is not None else None, created_by_id=author.id)
    material.points = points
    db.session.add(material)
    db.session.flush()
    material.slug = f"m{material.id}"  # the address members read it at: /study/m<id>
    add_version(material, title, body, author)
    db.session.commit()
    return material


def save(material: Material, draft: Draft, author: User) -> MaterialVersion | None:
    """Save an edit: the points always; the title and text as a new version when either changed. Commits;
    returns the new version, or None when the text stayed the same.

    :raise FieldError: the title, text or points break a rule; nothing is saved.
    """
    title, body, points = _checked(material.subject, draft)
    material.points = points
    material.part = part_of(points[0]).name
    version = add_version(material, title, body, author)
    db.session.commit()
    return version


def set_retired(material: Material, retired: bool) -> None:
    """Retire a material (gone from lists and new assignments; readings and old assignments keep it), or
    bring it back. Commits."""
    material.retired_at = utcnow() if retired else None
    db.session.commit()


def versions(material: Material) -> list[MaterialVersion]:
    """Every version of the material, the newest first."""
    return list(db.session.scalars(select(MaterialVersion).where(MaterialVersion.material_id == material.id)
                                   .order_by(MaterialVersion.number.desc())))


def version(material: Material, number: int) -> MaterialVersion | None:
    return db.session.scalar(select(MaterialVersion).where(MaterialVersion.material_id == material.id,
                                                           MaterialVersion.number == number))


def manage_list(scope: Scope, retired: bool = False) -> list[tuple[Subject, list[Material]]]:
    """The materials that exist for the viewer (the retired ones instead, with `retired`), by subject."""
    stmt = (select(Material).join(Subject, Subject.id == Material.subject_id)
            .where(material_access.visible_clause(scope),
                   Material.retired_at.is_not(None) if retired else Material.retired_at.is_(None))
            .order_by(Subject.owner_org_id.is_not(None), Subject.position, Subject.id, Material.position, Material.id))
    groups: dict[int, tuple[Subject, list[Material]]] = {}
    for material in db.session.scalars(stmt):
        groups.setdefault(material.subject_id, (material.subject, []))[1].append(material)
    return list(groups.values())
