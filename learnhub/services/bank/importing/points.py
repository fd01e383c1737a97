"""Knowledge points for an import: names in the file resolved to points the bank may use, or to points to create.

A file is imported into a subject: one the organiser chose, else the bank owner's own (subjects.own_subject,
made on confirmation if the organisation has none; the 党章 for the built-in bank). A file need not name
existing points. Each name is, in order: mapped by the organiser to an existing point; an existing live point
of that subject, or of the 党章, that the bank may use (bank_access.point_owners: built-in, or added by the
bank's organisation or one above it); or a new point, created on confirmation under the part the organiser
chose (an existing part of the subject, or a new one, by default named after the file; without a chosen
subject the 党章's chapters too). Questions that name no point take the file's point. In an organisation's
subject new points hang on their part; under a 党章 chapter on the chapter's 其他 node.

Names are unique per tree level across the installation, so a new node whose name another organisation
already uses (a node this bank may not use, and may not even know of) gets the bank's name after it:
入党条件（某某党委）. Nothing here changes an existing node.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select

from ....extensions import db
from ....models import BUILTIN_SUBJECT_ID, KnowledgePoint, Organisation, PointLevel, Subject
from ..access import point_owners
from ..files import BankPoint
from ..constitution import part_by_title
from ..question_bank import ensure_structure, point_nodes
from ..subjects import builtin_subject, existing_own_subject, own_subject

MAX_NAME = 100  # KnowledgePoint.name


@dataclass(frozen=True)
class NewPoint:
    """A point the import will create: the name in the file and the name it gets."""

    asked: str
    name: str


@dataclass
class PartPlan:
    """Where new points go: an existing part (its id), or a part to create in `subject_id` (None: the owner's
    own subject, made on confirmation); and, in the 党章, the article-level node under it."""

    name: str
    part_id: int | None
    holder: str  # the article-level node new points hang on (found or created); "": the part itself
    subject_id: int | None = None


def target_subject(owner: Organisation | None, subject: Subject | None) -> Subject | None:
    """The subject an import fills: the chosen one, else the owner's own (None: not made yet), the 党章 for
    the built-in bank."""
    if subject is not None:
        return subject
    return builtin_subject() if owner is None else existing_own_subject(owner)


class PointCatalog(Mapping[str, BankPoint]):
    """The points a file's questions may name, as the bank parsers read them: any name resolves.

    `catalog[name]` is the existing point it means, or a new point under the chosen part; "" is the file's
    point. Names too long for a point raise KeyError, so the parsers report them as unknown.
    """

    def __init__(self, owner: Organisation | None, part: PartPlan, mapping: Mapping[str, str], default: str,
                 subject: Subject | None = None):
        self.owner = owner
        self.part = part
        self.subject = subject  # chosen; None: the owner's own
        # The 党章's points, then the subject's (a name in both means the subject's).
        self.nodes = point_nodes(point_owners(owner), BUILTIN_SUBJECT_ID, include_retired=False)
        target = target_subject(owner, subject)
        if target is not None and target.id != BUILTIN_SUBJECT_ID:
            self.nodes.update(point_nodes(point_owners(owner), target.id, include_retired=False))
        self.usable = {name: point for name, (point, _) in self.nodes.items()}
        self.mapping = {k: v for k, v in mapping.items() if v in self.usable}
        self.default = default.strip()[:MAX_NAME]
        self._taken = set(db.session.scalars(
            select(KnowledgePoint.name).where(KnowledgePoint.level == PointLevel.POINT)
        )) - set(self.usable)
        self.new: dict[str, NewPoint] = {}  # by the name it gets
        self.mapped_used: set[str] = set()  # names in the file the mapping sent to an existing point

    def __getitem__(self, name: str) -> BankPoint:
        name = " ".join(str(name).split()) or self.default
        if name in self.mapping:
            self.mapped_used.add(name)
            return self.usable[self.mapping[name]]
        if name in self.usable:
            return self.usable[name]
        if not name or len(name) > MAX_NAME:
            raise KeyError(name)
        final = name if name in self.new else next((p.name for p in self.new.values() if p.asked == name), None)
        if final is None:
            final = free_name(name, self._taken | set(self.usable) | set(self.new), self.owner)
            self.new[final] = NewPoint(name, final)
        return BankPoint(name=final, part=self.part.name, article="", source="new")

    def get(self, name, default=None):
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name) -> bool:
        return self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.usable)

    def __len__(self) -> int:
        return len(self.usable)

    def is_new(self, name: str) -> bool:
        return name in self.new


def free_name(name: str, taken: set[str], owner: Organisation | None) -> str:
    """`name` if no node of the level has it, else the name qualified with the bank's owner (and a number)."""
    if name not in taken:
        return name
    label = owner.name if owner is not None else "内置"
    for n in range(1, 1000):
        candidate = f"{name}（{label}{'' if n == 1 else n}）"
        if len(candidate) > MAX_NAME:
            candidate = f"{name[:MAX_NAME - len(candidate)]}（{label}{'' if n == 1 else n}）"
        if candidate not in taken:
            return candidate
    raise ValueError(name)


def usable_parts(owner: Organisation | None, subject: Subject | None = None) -> list[KnowledgePoint]:
    """The parts new points may go under: the chosen subject's; without one, the owner's own subject's and
    the 党章's chapters (with the nodes the bank's organisations added there)."""
    owners = point_owners(owner)
    target = target_subject(owner, subject)
    subject_ids = {target.id} if target is not None else set()
    if subject is None:
        subject_ids.add(BUILTIN_SUBJECT_ID)
    parts = db.session.scalars(select(KnowledgePoint).where(
        KnowledgePoint.level == PointLevel.PART, KnowledgePoint.subject_id.in_(subject_ids),
        KnowledgePoint.retired_at.is_(None)).order_by(KnowledgePoint.position, KnowledgePoint.id))
    return [p for p in parts if p.owner_org_id in owners]


def plan_part(owner: Organisation | None, part_id: int | None, new_name: str,
              subject: Subject | None = None) -> PartPlan:
    """Where new points will go: the usable part `part_id`, else a part named `new_name` (reused if the
    subject already has a usable one of that name)."""
    parts = usable_parts(owner, subject)
    target = target_subject(owner, subject)
    chosen = next((p for p in parts if p.id == part_id), None)
    if chosen is None:
        new_name = " ".join(new_name.split())[:MAX_NAME] or "导入的知识点"
        chosen = next((p for p in parts if p.name == new_name), None)
    if chosen is None:
        taken = set(db.session.scalars(select(KnowledgePoint.name).where(KnowledgePoint.level == PointLevel.PART)))
        name = free_name(new_name, taken, owner)
        in_charter = target is not None and target.id == BUILTIN_SUBJECT_ID
        return PartPlan(name=name, part_id=None, holder=_holder_name(name, owner, None) if in_charter else "",
                        subject_id=target.id if target is not None else None)
    in_charter = chosen.subject_id == BUILTIN_SUBJECT_ID
    return PartPlan(name=chosen.name, part_id=chosen.id, holder=_holder_name(chosen.name, owner, chosen.id) if in_charter else "",
                    subject_id=chosen.subject_id)


def _holder_name(part: str, owner: Organisation | None, part_id: int | None) -> str:
    """The article-level node new points hang on: for a chapter, 第一章 党员（其他）; for a part an organisation
    added, the part's name. The bank's own such node under the part is reused; a name taken by anyone else's
    node is qualified."""
    base = (f"{part}（其他）" if part_by_title(part) is not None else part)[:MAX_NAME]
    owner_id = owner.id if owner is not None else None
    if part_id is not None:
        mine = db.session.scalars(select(KnowledgePoint.name).where(
            KnowledgePoint.parent_id == part_id, KnowledgePoint.level == PointLevel.ARTICLE,
            KnowledgePoint.owner_org_id.is_(None) if owner_id is None else KnowledgePoint.owner_org_id == owner_id))
        found = next((name for name in mine if name == base or name.startswith(f"{base}（")), None)
        if found is not None:
            return found
    taken = set(db.session.scalars(select(KnowledgePoint.name).where(KnowledgePoint.level == PointLevel.ARTICLE)))
    return free_name(base, taken, owner)


def create_points(catalog: PointCatalog, names: set[str]) -> dict[str, KnowledgePoint]:
    """Create the part, its holder node (in the 党章) and the new points among `names` (flushes); return
    every point of the catalog by name, existing and new."""
    ensure_structure()
    ids = {name: node_id for name, (_, node_id) in catalog.nodes.items()}
    found = {n.id: n for n in db.session.scalars(select(KnowledgePoint).where(KnowledgePoint.id.in_(ids.values())))} if ids else {}
    by_name = {name: found[node_id] for name, node_id in ids.items() if node_id in found}
    owner_id = catalog.owner.id if catalog.owner is not None else None
    wanted = [catalog.new[n] for n in sorted(names) if n in catalog.new]
    if wanted:
        holder = _holder(catalog, owner_id)
        last = db.session.scalar(select(func.max(KnowledgePoint.position)).where(KnowledgePoint.parent_id == holder.id))
        start = 0 if holder.level is PointLevel.ARTICLE or last is None else last + 1
        for i, new in enumerate(wanted):
            node = KnowledgePoint(level=PointLevel.POINT, name=new.name, parent=holder, position=start + i,
                                  owner_org_id=owner_id)
            db.session.add(node)
            by_name[new.name] = node
        db.session.flush()
    return by_name


def _holder(catalog: PointCatalog, owner_id: int | None) -> KnowledgePoint:
    """The node new points hang on: the chosen or new part, or (in the 党章) its holder node."""
    plan = catalog.part
    part = db.session.get(KnowledgePoint, plan.part_id) if plan.part_id else None
    if part is None:
        subject = catalog.subject or own_subject(catalog.owner)
        part = db.session.scalar(select(KnowledgePoint).where(
            KnowledgePoint.subject_id == subject.id, KnowledgePoint.level == PointLevel.PART, KnowledgePoint.name == plan.name))
    if part is None:
        last = db.session.scalar(select(func.max(KnowledgePoint.position)).where(
            KnowledgePoint.level == PointLevel.PART, KnowledgePoint.subject_id == subject.id))
        part = KnowledgePoint(level=PointLevel.PART, name=plan.name, position=(last or 0) + 1, owner_org_id=owner_id,
                              subject=subject)
        db.session.add(part)
    if not plan.holder:
        return part
    holder = db.session.scalar(select(KnowledgePoint).where(
        KnowledgePoint.subject_id == part.subject_id, KnowledgePoint.level == PointLevel.ARTICLE,
        KnowledgePoint.name == plan.holder))
    if holder is None:
        holder = KnowledgePoint(level=PointLevel.ARTICLE, name=plan.holder, parent=part, owner_org_id=owner_id,
                                position=(part.position or 0) * 100 + 99)
        db.session.add(holder)
    return holder
