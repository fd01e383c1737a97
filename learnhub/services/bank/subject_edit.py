"""Changing subjects: create one for an organisation, rename it and its parts and knowledge points, add
parts and points, reorder them, and retire a subject or a point.

Who may: the organisers whose grants cover the subject's owner, and admins (subjects.can_edit); the views
check first and these functions check again. The built-in 党章's tree follows the Constitution and the
bank files (questions/): admins edit its name and description; its parts, articles and points are
changed in the files, not here. An organisation's subject is part -> point (no article).

Names are checked here, each refusal a FieldError beside its field: not empty, not too long, not a name
the subject (or, for a subject, the owner) already has. Retiring takes the subject or point out of lists
and forms and retires its questions (they stay on the papers that hold them); bringing it back leaves
its questions retired, to be brought back one by one.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import KnowledgePoint, Organisation, PointLevel, Question, Subject, User, utcnow
from .. import FieldError, ServiceError
from ..orgs import Scope, sort_tree
from .access import owner_choices
from .subjects import can_edit

NAME_MAX = 100  # Subject.name, KnowledgePoint.name
DESCRIPTION_MAX = 1000
LEVEL_WORD = {PointLevel.PART: "章节", PointLevel.ARTICLE: "条文", PointLevel.POINT: "知识点"}


class SubjectError(ServiceError):
    """A change to a subject was refused; the message says why, in Chinese."""


def clean_name(text: str | None, what: str) -> str:
    """A name as stored: white space folded; FieldError("name") if empty or too long."""
    name = " ".join((text or "").split())
    if not name:
        raise FieldError("name", f"请填写{what}名称")
    if len(name) > NAME_MAX:
        raise FieldError("name", f"{what}名称过长（最多 {NAME_MAX} 字，现有 {len(name)} 字）")
    return name


def clean_description(text: str | None) -> str:
    description = (text or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise FieldError("description", f"说明过长（最多 {DESCRIPTION_MAX} 字，现有 {len(description)} 字）")
    return description


def subject_owners(scope: Scope) -> list[Organisation]:
    """Whose subjects the viewer may create: their organiser grants in tree order (the first is the
    default); for an admin also every top-level organisation."""
    orgs = [o for o in owner_choices(scope) if o is not None]
    if scope.is_admin:
        orgs = sort_tree(list({*orgs, *scope.roots}))
    return orgs


def _check_edit(scope: Scope, subject: Subject) -> None:
    if not can_edit(scope, subject):
        raise SubjectError("只有该科目所属组织的组织员能修改它")


def _check_tree(scope: Scope, subject: Subject) -> None:
    """The subject's parts and points may be changed here: the viewer's, live, not the built-in 党章."""
    _check_edit(scope, subject)
    if subject.is_builtin:
        raise SubjectError("党章的章节、条文和知识点与题库文件一致，请在题库文件中修改")
    if subject.retired_at is not None:
        raise SubjectError("这个科目已停用，恢复后才能修改")


def _same_name_subject(owner_id: int | None, name: str, but: int | None = None) -> Subject | None:
    stmt = select(Subject).where(Subject.name == name, Subject.retired_at.is_(None),
                                 Subject.owner_org_id.is_(None) if owner_id is None else Subject.owner_org_id == owner_id)
    if but is not None:
        stmt = stmt.where(Subject.id != but)
    return db.session.scalars(stmt).first()


def create_subject(scope: Scope, owner: Organisation, name: str, description: str, by: User | None) -> Subject:
    """A new subject owned by `owner` (one of subject_owners(scope)), visible to its subtree. Commits."""
    if owner.id not in {o.id for o in subject_owners(scope)}:
        raise FieldError("owner", "只能为你担任组织员的组织创建科目")
    name, description = clean_name(name, "科目"), clean_description(description)
    if _same_name_subject(owner.id, name) is not None:
        raise FieldError("name", f"{owner.name}已有名为「{name}」的科目")
    last = db.session.scalar(select(func.max(Subject.position)).where(Subject.owner_org_id == owner.id))
    subject = Subject(name=name, description=description, owner_org_id=owner.id, position=(last or 0) + 1,
                      created_at=utcnow(), created_by_id=by.id if by is not None else None)
    db.session.add(subject)
    db.session.commit()
    return subject


def update_subject(scope: Scope, subject: Subject, name: str, description: str) -> None:
    """Rename a subject and change its description. Commits."""
    _check_edit(scope, subject)
    name, description = clean_name(name, "科目"), clean_description(description)
    if _same_name_subject(subject.owner_org_id, name, but=subject.id) is not None:
        raise FieldError("name", f"{'已有' if subject.is_builtin else subject.owner.name + '已有'}名为「{name}」的科目")
    subject.name, subject.description = name, description
    db.session.commit()


def _siblings(node: KnowledgePoint) -> list[KnowledgePoint]:
    """The node and the others of its level under the same parent (parts: of the same subject), in order."""
    stmt = select(KnowledgePoint).where(KnowledgePoint.subject_id == node.subject_id, KnowledgePoint.level == node.level)
    stmt = stmt.where(KnowledgePoint.parent_id.is_(None) if node.parent_id is None else KnowledgePoint.parent_id == node.parent_id)
    return list(db.session.scalars(stmt.order_by(KnowledgePoint.position, KnowledgePoint.id)))


def _check_free(subject: Subject, level: PointLevel, name: str, but: int | None = None) -> None:
    """FieldError unless no node of this level in the subject (retired ones included) has the name."""
    stmt = select(KnowledgePoint).where(KnowledgePoint.subject_id == subject.id, KnowledgePoint.level == level,
                                        KnowledgePoint.name == name)
    if but is not None:
        stmt = stmt.where(KnowledgePoint.id != but)
    found = db.session.scalars(stmt).first()
    if found is not None:
        retired = "（已停用）" if found.retired_at is not None else ""
        raise FieldError("name", f"本科目已有名为「{name}」的{LEVEL_WORD[level]}{retired}，请换一个名称")


def _store(subject: Subject, level: PointLevel, name: str) -> None:
    """Commit; a node of the same name added by someone else meanwhile is the same refusal as above."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise FieldError("name", f"本科目已有名为「{name}」的{LEVEL_WORD[level]}，请换一个名称") from None


def add_part(scope: Scope, subject: Subject, name: str) -> KnowledgePoint:
    """A new part at the end of the subject. Commits."""
    _check_tree(scope, subject)
    name = clean_name(name, "章节")
    _check_free(subject, PointLevel.PART, name)
    last = db.session.scalar(select(func.max(KnowledgePoint.position)).where(
        KnowledgePoint.subject_id == subject.id, KnowledgePoint.level == PointLevel.PART))
    part = KnowledgePoint(subject=subject, level=PointLevel.PART, name=name, position=(last or 0) + 1,
                          owner_org_id=subject.owner_org_id)
    db.session.add(part)
    _store(subject, PointLevel.PART, name)
    return part


def add_point(scope: Scope, holder: KnowledgePoint, name: str) -> KnowledgePoint:
    """A new knowledge point at the end of a part (or of the article-level node an import made). Commits."""
    subject = holder.subject
    _check_tree(scope, subject)
    if holder.level is PointLevel.POINT:
        raise SubjectError("知识点只能添加在章节下")
    name = clean_name(name, "知识点")
    _check_free(subject, PointLevel.POINT, name)
    last = db.session.scalar(select(func.max(KnowledgePoint.position)).where(KnowledgePoint.parent_id == holder.id))
    point = KnowledgePoint(subject=subject, parent=holder, level=PointLevel.POINT, name=name,
                           position=(last if last is not None else -1) + 1, owner_org_id=subject.owner_org_id)
    db.session.add(point)
    _store(subject, PointLevel.POINT, name)
    return point


def rename_node(scope: Scope, node: KnowledgePoint, name: str) -> None:
    """Rename a part or a point; its questions, materials and tallies stay with it. Commits."""
    subject = node.subject
    _check_tree(scope, subject)
    name = clean_name(name, LEVEL_WORD[node.level])
    _check_free(subject, node.level, name, but=node.id)
    node.name = name
    _store(subject, node.level, name)


def move_node(scope: Scope, node: KnowledgePoint, up: bool) -> bool:
    """Move a part or point one place up or down among its siblings; False if it is already at that end.
    Positions are renumbered 0, 1, 2... so equal positions (imports) still move. Commits."""
    _check_tree(scope, node.subject)
    siblings = _siblings(node)
    i = next(n for n, s in enumerate(siblings) if s.id == node.id)
    j = i - 1 if up else i + 1
    if not 0 <= j < len(siblings):
        return False
    siblings[i], siblings[j] = siblings[j], siblings[i]
    for position, sibling in enumerate(siblings):
        sibling.position = position
    db.session.commit()
    return True


def _retire_questions(point_ids) -> int:
    """Retire the current questions on these points; return how many were live."""
    result = db.session.execute(update(Question).where(
        Question.is_current.is_(True), Question.retired.is_(False), Question.point_id.in_(point_ids)
    ).values(retired=True).execution_options(synchronize_session=False))
    return result.rowcount or 0


def subject_point_ids(subject: Subject):
    return select(KnowledgePoint.id).where(KnowledgePoint.subject_id == subject.id, KnowledgePoint.level == PointLevel.POINT)


def set_point_retired(scope: Scope, point: KnowledgePoint, retired: bool) -> int:
    """Retire a point (and its questions: new papers and practice no longer use them; papers that hold
    them keep them), or bring it back (its questions stay retired). Returns the questions retired. Commits."""
    _check_tree(scope, point.subject)
    if point.level is not PointLevel.POINT:
        raise SubjectError("只能停用知识点")
    count = _retire_questions([point.id]) if retired else 0
    point.retired_at = utcnow() if retired else None
    db.session.commit()
    return count


def set_subject_retired(scope: Scope, subject: Subject, retired: bool) -> int:
    """Retire a subject (and its questions), or bring it back (its questions stay retired). Returns the
    questions retired. The built-in 党章 is never retired. Commits."""
    _check_edit(scope, subject)
    if subject.is_builtin:
        raise SubjectError("党章是内置科目，不能停用")
    if not retired and _same_name_subject(subject.owner_org_id, subject.name, but=subject.id) is not None:
        raise SubjectError(f"{subject.owner.name}已有名为「{subject.name}」的科目，请先改名再恢复")
    count = _retire_questions(subject_point_ids(subject)) if retired else 0
    subject.retired_at = utcnow() if retired else None
    db.session.commit()
    return count
