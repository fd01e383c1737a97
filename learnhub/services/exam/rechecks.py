"""A short re-check exam for one branch on the knowledge points it knows least: what the form offers
(the weakest points ticked, the assignment's other points available), and publishing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ...extensions import db
from ...models import Assignment, AssignmentKind, KnowledgePoint, Organisation, User, utcnow
from .. import FieldError
from ..reports import mastery
from .assignments import AssignmentData, DrawRule, create_assignment
from ..study.materials import materials_for_points
from ..orgs import Scope, within
from .quizzes import rule_pool

WEAKEST = 3  # points ticked on the form
PER_POINT = 3  # default questions per ticked point
MAX_COUNT = 50
ATTEMPTS = 2  # a re-check may be answered twice


@dataclass
class PointChoice:
    """A knowledge point the re-check may cover, with how this branch did on it."""

    point: KnowledgePoint
    rate: float | None  # first-try correct rate in the branch (None: nobody has answered it yet)
    answered: int
    available: int  # questions the branch's papers may draw on it
    weak: bool  # among the weakest: ticked by default


@dataclass
class RecheckOffer:
    """What the re-check form starts from."""

    choices: list[PointChoice]
    members: int  # active members of the branch and beneath it: who will be given the exam

    @property
    def weak(self) -> list[PointChoice]:
        return [c for c in self.choices if c.weak]

    @property
    def default_count(self) -> int:
        return max(1, min(PER_POINT * len(self.weak), sum(c.available for c in self.weak)))

    def default_title(self, unit: Organisation) -> str:
        names = "、".join(c.point.name for c in self.weak)
        return f"{unit.name}薄弱知识点复测" + (f"：{names}" if names else "")


@dataclass
class RecheckRequest:
    title: str
    point_ids: list[int]
    count: int
    closes_at: datetime  # aware
    time_limit_minutes: int | None = None


def members_in(unit: Organisation) -> int:
    """Active members of the organisation and everything beneath it."""
    return db.session.scalar(
        select(func.count(User.id)).join(Organisation, Organisation.id == User.org_id)
        .where(User.active.is_(True), within(Organisation.path, unit.path))
    ) or 0


def recheck_offer(scope: Scope, source: Assignment, unit: Organisation) -> RecheckOffer:
    """The source assignment's points, the branch's weakest first (ticked), then those it has no answers on."""
    scored = [p for p in mastery.unit_point_scores(scope, source, unit) if p.rate is not None]
    weakest = {p.point.id for p in scored[:WEAKEST]}
    seen = {p.point.id for p in scored}
    rest = [p for p in mastery.required_points(source) if p.id not in seen]
    choices = [PointChoice(p.point, p.rate, p.answered, _available(p.point, unit), p.point.id in weakest) for p in scored]
    choices += [PointChoice(p, None, 0, _available(p, unit), False) for p in rest]
    return RecheckOffer(choices=choices, members=members_in(unit))


def _available(point: KnowledgePoint, unit: Organisation) -> int:
    return len(rule_pool({"part_id": point.id}, unit))


def split_count(count: int, available: list[int]) -> list[int]:
    """Spread `count` questions over points as evenly as their pools allow (each at most what it has)."""
    shares = [0] * len(available)
    left = count
    while left > 0:
        open_ = [i for i, a in enumerate(available) if shares[i] < a]
        if not open_:
            break
        for i in open_:
            if left == 0:
                break
            shares[i] += 1
            left -= 1
    return shares


def create_recheck(scope: Scope, source: Assignment, unit: Organisation, request: RecheckRequest, by: User,
                   now: datetime | None = None) -> Assignment:
    """Publish a re-check exam to one branch on the chosen points of the source assignment. Commits.

    :raise FieldError: a rule about one field (no point, too few questions, a deadline passed); nothing is created.
    """
    now = now or utcnow()
    offered = {c.point.id: c for c in recheck_offer(scope, source, unit).choices}
    chosen = [offered[i] for i in dict.fromkeys(request.point_ids) if i in offered]
    if not chosen or len(chosen) != len(set(request.point_ids)):
        raise FieldError("points", "请至少选择一个本任务的知识点")
    total = sum(c.available for c in chosen)
    if not 1 <= request.count <= MAX_COUNT:
        raise FieldError("count", f"题数应在 1 到 {MAX_COUNT} 之间")
    if request.count > total:
        raise FieldError("count", f"所选知识点在题库中只有 {total} 道题，不够出 {request.count} 道：请减少题数或多选几个知识点")
    if request.count < len(chosen):
        raise FieldError("count", f"每个所选知识点至少出 1 道题：题数不能少于所选知识点的个数（{len(chosen)} 个）")
    if request.closes_at <= now:
        raise FieldError("closes_at", "截止时间应晚于现在")
    shares = split_count(request.count, [c.available for c in chosen])
    data = AssignmentData(
        title=request.title, kind=AssignmentKind.EXAM, org=unit, opens_at=now, closes_at=request.closes_at,
        pass_mark=source.pass_mark, time_limit_minutes=request.time_limit_minutes, max_attempts=ATTEMPTS,
        rules=[DrawRule(c.point, n) for c, n in zip(chosen, shares)],
        materials=materials_for_points([c.point for c in chosen], unit),
    )
    return create_assignment(scope, data, by)
