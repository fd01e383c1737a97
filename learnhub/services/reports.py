"""Who has finished, how they scored: counts per reporting unit (党支部) and lists of members.

Every query here takes the viewer's Scope, so no view can forget it. Counting is SQL aggregation
grouped by organisation; folding organisations into their branches is a pass over the (small) tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select

from ..extensions import db
from ..models import Assignment, Attempt, AttemptState, MemberResult, Organisation, User
from .orgs import Scope, ancestor_ids, sort_tree, unit_of, within


@dataclass
class UnitRow:
    org: Organisation
    members: int = 0
    finished: int = 0
    passed: int = 0
    score_sum: float = 0.0

    @property
    def finished_rate(self) -> float | None:
        return round(100.0 * self.finished / self.members, 1) if self.members else None

    @property
    def passed_rate(self) -> float | None:
        return round(100.0 * self.passed / self.members, 1) if self.members else None

    @property
    def average(self) -> float | None:
        return round(self.score_sum / self.finished, 1) if self.finished else None

    def add(self, other: UnitRow) -> None:
        self.members += other.members
        self.finished += other.finished
        self.passed += other.passed
        self.score_sum += other.score_sum


@dataclass
class MemberRow:
    user: User
    status: str
    score: float | None
    passed: bool
    finished_at: datetime | None
    attempts: int
    counted_attempt_id: int | None


@dataclass
class AssignmentReport:
    assignment: Assignment
    units: list[UnitRow] = field(default_factory=list)
    total: UnitRow | None = None


def assignments_in_scope(scope: Scope) -> list[Assignment]:
    """Assignments that reach any organisation the viewer may see, newest first."""
    ancestors = {i for r in scope.roots for i in ancestor_ids(r)}
    stmt = select(Assignment).join(Organisation, Organisation.id == Assignment.org_id)
    if not scope.is_admin:
        stmt = stmt.where(or_(Assignment.org_id.in_(ancestors), scope.org_clause()))
    return list(db.session.scalars(stmt.order_by(Assignment.closes_at.desc(), Assignment.id.desc())))


def visible_roots(scope: Scope, assignment: Assignment) -> list[Organisation]:
    """The parts of the assignment's subtree that the viewer may see (empty: none)."""
    return scope.visible_part_of(assignment.org)


def _member_filter(roots: list[Organisation]):
    return and_(User.active.is_(True), or_(*(within(Organisation.path, r.path) for r in roots)))


def assignment_report(scope: Scope, assignment: Assignment) -> AssignmentReport:
    """One row per reporting unit the viewer may see, plus a total row."""
    roots = visible_roots(scope, assignment)
    report = AssignmentReport(assignment=assignment, total=UnitRow(org=assignment.org))
    if not roots:
        return report
    orgs = {o.id: o for o in db.session.scalars(
        select(Organisation).where(or_(*(within(Organisation.path, r.path) for r in roots)))
    )}
    # The branch a member counts under may sit above the viewer's root (a 党小组's secretary).
    for r in roots:
        for oid in ancestor_ids(r):
            if oid not in orgs:
                orgs[oid] = db.session.get(Organisation, oid)
    stmt = (
        select(
            User.org_id,
            func.count(User.id),
            func.count(MemberResult.finished_at),
            func.coalesce(func.sum(case((MemberResult.passed.is_(True), 1), else_=0)), 0),
            func.coalesce(func.sum(MemberResult.score), 0.0),
        )
        .join(Organisation, Organisation.id == User.org_id)
        .outerjoin(
            MemberResult, and_(MemberResult.user_id == User.id, MemberResult.assignment_id == assignment.id)
        )
        .where(_member_filter(roots))
        .group_by(User.org_id)
    )
    units: dict[int, UnitRow] = {}
    for org_id, members, finished, passed, score_sum in db.session.execute(stmt):
        unit = unit_of(orgs[org_id], orgs)
        row = units.setdefault(unit.id, UnitRow(org=unit))
        row.add(UnitRow(orgs[org_id], members, finished, int(passed), float(score_sum)))
    report.units = [units[o.id] for o in sort_tree(list({units[k].org for k in units}))]
    for row in report.units:
        report.total.add(row)
    return report


def unit_in_scope(scope: Scope, assignment: Assignment, org: Organisation) -> bool:
    """True if `org` lies in the assignment's subtree and overlaps what the viewer may see."""
    if not org.path.startswith(assignment.org.path):
        return False
    return any(org.path.startswith(r.path) or r.path.startswith(org.path) for r in visible_roots(scope, assignment))


def member_rows(scope: Scope, assignment: Assignment, unit: Organisation) -> list[MemberRow]:
    """Every member under `unit` that the viewer may see, with their standing on the assignment."""
    roots = visible_roots(scope, assignment)
    if not roots:
        return []
    in_progress = (
        select(Attempt.user_id)
        .where(Attempt.assignment_id == assignment.id, Attempt.state == AttemptState.IN_PROGRESS)
        .scalar_subquery()
    )
    stmt = (
        select(User, MemberResult, User.id.in_(in_progress))
        .join(Organisation, Organisation.id == User.org_id)
        .outerjoin(
            MemberResult, and_(MemberResult.user_id == User.id, MemberResult.assignment_id == assignment.id)
        )
        .where(_member_filter(roots), within(Organisation.path, unit.path))
        .order_by(Organisation.path, User.member_no)
    )
    rows = []
    for user, result, busy in db.session.execute(stmt):
        finished = result is not None and result.finished_at is not None
        status = "已完成" if finished else ("答题中" if busy else "未开始")
        rows.append(
            MemberRow(
                user=user, status=status, score=result.score if result else None,
                passed=bool(result and result.passed), finished_at=result.finished_at if result else None,
                attempts=result.attempts if result else 0,
                counted_attempt_id=result.counted_attempt_id if result else None,
            )
        )
    return rows
