"""Where each role lands after signing in (and on the brand link): a branch secretary on their branch's
open tasks, an organiser on their committee's, a member on their own tasks.

"Secretary" is read from the scope, not from the grant's label: staff whose grants all lie in one
党支部 (the branch itself, or a 党小组 in it) land on that branch; staff who see more (an organiser's
党委, a 党总支, two branches, an administrator) land on the committee overview. Both pages are made of
what the branch page and the weak-branch report already compute (services/reports/completion.py, mastery.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from ...extensions import db
from ...models import Assignment, Organisation
from .mastery import MasteryRow, mastery_report
from ..orgs import Scope, ancestor_ids, unit_of
from .completion import MemberRow, assignments_in_scope, may_retry, member_rows, reminder_text, settle

WEAK_SHOWN = 5  # weak branches named per task on the overview; the report has them all


@dataclass
class BranchTask:
    """One open task as the branch's secretary needs it: how far along, who is missing, what to send."""

    assignment: Assignment
    unit: Organisation  # the branch (or, for a task given to one 党小组 in it, that group)
    rows: list[MemberRow]
    reminder: str
    retry: list[MemberRow]

    @property
    def expected(self) -> int:
        return sum(1 for r in self.rows if r.expected)

    @property
    def finished(self) -> int:
        return sum(1 for r in self.rows if r.expected and r.finished_at is not None)

    @property
    def unfinished(self) -> list[MemberRow]:
        return [r for r in self.rows if r.expected and r.finished_at is None]

    @property
    def finished_rate(self) -> float | None:
        return round(100.0 * self.finished / self.expected, 1) if self.expected else None


@dataclass
class BranchHome:
    branch: Organisation
    tasks: list[BranchTask] = field(default_factory=list)


@dataclass
class CommitteeTask:
    """One open task across the viewer's organisations: the total, each organisation one level down, and
    the weak branches."""

    assignment: Assignment
    top: list[MasteryRow]  # the viewer's top organisations (one, for an organiser of one 党委)
    children: list[MasteryRow]  # one level beneath them, 党委直属 included
    weak: list[MasteryRow]
    more_weak: int = 0


@dataclass
class CommitteeHome:
    roots: list[Organisation]
    tasks: list[CommitteeTask] = field(default_factory=list)


def home_branch(scope: Scope) -> Organisation | None:
    """The one 党支部 the viewer's authority lies in (a secretary's), or None (a member, or staff who
    see more than one branch)."""
    if scope.is_admin or not scope.roots:
        return None
    ids = {i for r in scope.roots for i in ancestor_ids(r)}
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)))}
    branches = {unit_of(r, orgs) for r in scope.roots}
    if len(branches) != 1:
        return None
    branch = branches.pop()
    return branch if branch.kind.is_branch else None


def unit_for(branch: Organisation, assignment: Assignment) -> Organisation:
    """The page a secretary's task opens on: their branch's, or the group's if it was given to one group."""
    return branch if branch.is_within(assignment.org) else assignment.org


def branch_units(scope: Scope, assignments: list[Assignment]) -> dict[int, int]:
    """For a secretary, {assignment id: the organisation whose page it opens on}; empty for anyone else
    (their tasks open on the committee report)."""
    branch = home_branch(scope)
    if branch is None:
        return {}
    return {a.id: unit_for(branch, a).id for a in assignments}


def open_tasks(scope: Scope, now: datetime) -> list[Assignment]:
    """The assignments reaching the viewer's organisations whose window is open now, closing soonest first."""
    return sorted((a for a in assignments_in_scope(scope) if a.opens_at <= now < a.closes_at),
                  key=lambda a: (a.closes_at, a.id))


def landing(scope: Scope, now: datetime, tz: str, grace_seconds: int) -> BranchHome | CommitteeHome | None:
    """The viewer's landing page: their branch's open tasks, their committee's, or None for a member
    (who lands on their own tasks). Closes time-up papers first, as the branch page does. May commit."""
    if not scope.is_staff:
        return None
    tasks = open_tasks(scope, now)
    branch = home_branch(scope)
    if branch is not None:
        settle(scope, tasks, grace_seconds, branch, now)
        return BranchHome(branch, [_branch_task(scope, a, branch, now, tz) for a in tasks])
    settle(scope, tasks, grace_seconds, None, now)
    return CommitteeHome(list(scope.roots), [_committee_task(scope, a) for a in tasks])


def _branch_task(scope: Scope, assignment: Assignment, branch: Organisation, now: datetime, tz: str) -> BranchTask:
    unit = unit_for(branch, assignment)
    rows = member_rows(scope, assignment, unit)
    return BranchTask(assignment, unit, rows, reminder_text(assignment, unit, rows, tz, now), may_retry(assignment, rows, now))


def _committee_task(scope: Scope, assignment: Assignment) -> CommitteeTask:
    report = mastery_report(scope, assignment)
    top = [r for r in report.rows if r.depth == 0]
    tops = {r.org.id for r in top}
    children = [r for r in report.rows if r.depth == 1 and (r.direct or r.org.parent_id in tops)]
    weak = report.weak_units
    return CommitteeTask(assignment, top, children, weak[:WEAK_SHOWN], max(0, len(weak) - WEAK_SHOWN))
