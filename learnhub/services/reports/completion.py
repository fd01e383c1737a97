"""Who has finished, how they scored: counts per reporting unit (党支部) and lists of members.

Every query here takes the viewer's Scope, so no view can forget it. Counting is SQL aggregation
grouped by organisation; folding organisations into their branches is a pass over the (small) tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import (
    Assignment,
    Attempt,
    AttemptState,
    Exemption,
    KnowledgePoint,
    MemberResult,
    Organisation,
    Question,
    Response,
    User,
    utcnow,
)
from . import counting
from ..orgs import Scope, ancestor_ids, sort_tree, unit_of, within
from ..exam.quizzes.standing import close_time_up

TIME_UP = "时间已到，已自动交卷"


@dataclass
class UnitRow:
    """Counts for one unit. Exempt members (免学) are left out of `expected`, and so of the rates."""

    org: Organisation
    members: int = 0
    exempt: int = 0
    finished: int = 0
    passed: int = 0
    score_sum: float = 0.0

    @property
    def expected(self) -> int:
        return self.members - self.exempt

    @property
    def finished_rate(self) -> float | None:
        return round(100.0 * self.finished / self.expected, 1) if self.expected else None

    @property
    def passed_rate(self) -> float | None:
        return round(100.0 * self.passed / self.expected, 1) if self.expected else None

    @property
    def average(self) -> float | None:
        return round(self.score_sum / self.finished, 1) if self.finished else None

    def add(self, other: UnitRow) -> None:
        self.members += other.members
        self.exempt += other.exempt
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
    exemption: Exemption | None = None
    proxy: bool = False  # the counted result was recorded by a secretary (代录)
    timed_out: bool = False  # the counted paper was handed in by the clock (时间已到，已自动交卷)

    @property
    def expected(self) -> bool:
        return self.exemption is None


@dataclass
class AssignmentReport:
    assignment: Assignment
    units: list[UnitRow] = field(default_factory=list)
    total: UnitRow | None = None


def assignments_in_scope(scope: Scope) -> list[Assignment]:
    """Assignments that reach any organisation the viewer may see, newest first (not withdrawn ones)."""
    ancestors = {i for r in scope.roots for i in ancestor_ids(r)}
    stmt = select(Assignment).join(Organisation, Organisation.id == Assignment.org_id).where(Assignment.withdrawn_at.is_(None))
    if not scope.is_admin:
        stmt = stmt.where(or_(Assignment.org_id.in_(ancestors), scope.org_clause()))
    return list(db.session.scalars(stmt.order_by(Assignment.closes_at.desc(), Assignment.id.desc())))


def visible_roots(scope: Scope, assignment: Assignment) -> list[Organisation]:
    """The parts of the assignment's subtree that the viewer may see (empty: none, or it was withdrawn)."""
    return [] if assignment.withdrawn_at is not None else scope.visible_part_of(assignment.org)


def _active_exemption(assignment: Assignment):
    return and_(
        Exemption.user_id == User.id, Exemption.assignment_id == assignment.id, Exemption.revoked_at.is_(None)
    )


def _in_progress(assignment: Assignment):
    """True for a member with an attempt in progress: a probe of the (user, assignment) index per member,
    not a list of every open attempt of the assignment (which means reading all its attempts)."""
    mine = aliased(Attempt)
    return (
        select(mine.id)
        .where(mine.user_id == User.id, mine.assignment_id == assignment.id, mine.state == AttemptState.IN_PROGRESS)
        .exists()
    )


def settle(scope: Scope, assignments: list[Assignment], grace_seconds: int, unit: Organisation | None = None,
           now: datetime | None = None) -> int:
    """Close the papers whose time ran out among the members the viewer is about to count (under `unit`
    if given), as `attempts close-overdue` would: call before any figure, list or export, so none shows
    such a paper as 答题中 or scores it otherwise than the close. Commits each one closed."""
    where = scope.org_clause() if unit is None else and_(scope.org_clause(), within(Organisation.path, unit.path))
    return close_time_up([a.id for a in assignments], where, grace_seconds, now)


def _handed_in_by_clock(entered_by: int | None, deadline: datetime | None, finished_at: datetime | None) -> bool:
    """The counted paper was finished at or after its deadline, by the member (Attempt.timed_out)."""
    return entered_by is None and deadline is not None and finished_at is not None and finished_at >= deadline


def _member_filter(roots: list[Organisation]):
    """Members listed under the assignment: those who count (exempt ones are listed and counted apart)."""
    return and_(counting.counted_member(), or_(*(within(Organisation.path, r.path) for r in roots)))


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
    counted = Exemption.id.is_(None)
    stmt = (
        select(
            User.org_id,
            func.count(User.id),
            func.count(Exemption.id),
            func.count(MemberResult.finished_at).filter(counted),
            func.count(User.id).filter(counted, MemberResult.passed.is_(True)),
            func.coalesce(func.sum(MemberResult.score).filter(counted), 0.0),
        )
        .join(Organisation, Organisation.id == User.org_id)
        .outerjoin(
            MemberResult, and_(MemberResult.user_id == User.id, MemberResult.assignment_id == assignment.id)
        )
        .outerjoin(Exemption, _active_exemption(assignment))
        .where(_member_filter(roots))
        .group_by(User.org_id)
    )
    units: dict[int, UnitRow] = {}
    for org_id, members, exempt, finished, passed, score_sum in db.session.execute(stmt):
        unit = unit_of(orgs[org_id], orgs)
        row = units.setdefault(unit.id, UnitRow(org=unit))
        row.add(UnitRow(orgs[org_id], members, exempt, finished, passed, float(score_sum)))
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
    stmt = (
        select(User, MemberResult, _in_progress(assignment), Exemption, Attempt.entered_by_id, Attempt.deadline,
               Attempt.finished_at)
        .join(Organisation, Organisation.id == User.org_id)
        .outerjoin(
            MemberResult, and_(MemberResult.user_id == User.id, MemberResult.assignment_id == assignment.id)
        )
        .outerjoin(Attempt, Attempt.id == MemberResult.counted_attempt_id)
        .outerjoin(Exemption, _active_exemption(assignment))
        .where(_member_filter(roots), within(Organisation.path, unit.path))
        .order_by(Organisation.path, User.member_no)
    )
    return [_member_row(*row) for row in db.session.execute(stmt)]


def _member_row(user: User, result: MemberResult | None, busy: bool, exemption: Exemption | None, entered_by: int | None,
                deadline: datetime | None, attempt_finished: datetime | None) -> MemberRow:
    finished = result is not None and result.finished_at is not None
    if exemption is not None:
        status = f"免学（{exemption.reason.label}）"
    else:
        status = "已完成" if finished else ("答题中" if busy else "未开始")
    return MemberRow(
        user=user, status=status, score=result.score if result else None, passed=bool(result and result.passed),
        finished_at=result.finished_at if result else None, attempts=result.attempts if result else 0,
        counted_attempt_id=result.counted_attempt_id if result else None, exemption=exemption,
        proxy=entered_by is not None, timed_out=finished and _handed_in_by_clock(entered_by, deadline, attempt_finished),
    )


def may_retry(assignment: Assignment, rows: list[MemberRow], now: datetime) -> list[MemberRow]:
    """Members who finished without passing and may still try again before the deadline."""
    if not assignment.has_quiz or not assignment.opens_at <= now < assignment.closes_at:
        return []
    limit = assignment.max_attempts
    return [r for r in rows if r.expected and r.finished_at is not None and not r.passed
            and (not limit or r.attempts < limit)]


def reminder_text(assignment: Assignment, unit: Organisation, rows: list[MemberRow], tz: str,
                  now: datetime | None = None) -> str:
    """A ready WeChat group message naming who has not finished, who failed and may try again, and the deadline."""
    due = assignment.closes_at.astimezone(ZoneInfo(tz))
    expected = [r for r in rows if r.expected]
    waiting = [r.user.name for r in expected if r.finished_at is None]
    retry = [r.user.name for r in may_retry(assignment, rows, now or utcnow())]
    done = len(expected) - len(waiting)
    if not waiting and not retry:
        return f"【学习提醒】{unit.name}全体同志已完成《{assignment.title}》，感谢大家！"
    text = f"【学习提醒】《{assignment.title}》将于{due.month}月{due.day}日{due:%H:%M}截止，{unit.name}已完成 {done}/{len(expected)} 人。"
    if waiting:
        text += f"以下同志请抓紧登录党章学习完成：{'、'.join(waiting)}。"
    if retry:
        text += f"以下同志未合格，截止前还可再答：{'、'.join(retry)}。"
    return text


@dataclass
class ExportRow:
    """A member's line in an export: plain values, no ORM objects, so 100,000 of them stream lightly."""

    member_no: str
    name: str
    category: str
    org_name: str
    org_path: str
    status: str
    score: float | None
    passed: bool | None
    finished_at: datetime | None
    attempts: int
    proxy: bool
    exempt: bool
    weak: list[str] = field(default_factory=list)  # knowledge points missed on the first try, most missed first


def export_rows(scope: Scope, assignment: Assignment, unit: Organisation | None = None) -> Iterator[ExportRow]:
    """Every member the viewer may see (under `unit` if given), in tree order, as a stream of ExportRow,
    each with the knowledge points they missed on their first try.

    The query is built now and run as the stream is read, so a streamed response needs no ORM objects.
    """
    roots = visible_roots(scope, assignment)
    if not roots:
        return iter(())
    stmt = (
        select(
            User.id, User.member_no, User.name, User.category, Organisation.name, Organisation.path, MemberResult.score,
            MemberResult.passed, MemberResult.finished_at, MemberResult.attempts, Exemption.reason,
            Attempt.entered_by_id, _in_progress(assignment), Attempt.deadline, Attempt.finished_at,
        )
        .join(Organisation, Organisation.id == User.org_id)
        .outerjoin(MemberResult, and_(MemberResult.user_id == User.id, MemberResult.assignment_id == assignment.id))
        .outerjoin(Attempt, Attempt.id == MemberResult.counted_attempt_id)
        .outerjoin(Exemption, _active_exemption(assignment))
        .where(_member_filter(roots))
        .order_by(Organisation.path, User.member_no)
    )
    where = _member_filter(roots) if unit is None else and_(_member_filter(roots), within(Organisation.path, unit.path))
    counts = db.session.execute(
        select(Organisation.id, Organisation.path, func.count(User.id))
        .join(User, User.org_id == Organisation.id).where(where).group_by(Organisation.id, Organisation.path)
    ).all()
    return _in_batches(stmt, _org_chunks(counts), assignment.id)


EXPORT_BATCH = 2000


def _org_chunks(counts: list[tuple[int, str, int]]) -> list[list[int]]:
    """Organisation ids in tree order, cut into chunks of about EXPORT_BATCH members each."""
    chunks: list[list[int]] = [[]]
    size = 0
    for org_id, _path, members in sorted(counts, key=lambda c: c[1]):
        if size and size + members > EXPORT_BATCH:
            chunks.append([])
            size = 0
        chunks[-1].append(org_id)
        size += members
    return [c for c in chunks if c]


def _in_batches(stmt, chunks: list[list[int]], assignment_id: int) -> Iterator[ExportRow]:
    """Run the export query one chunk of organisations at a time: each batch reads only its own rows
    (and its members' missed points) through indexes, memory stays flat, and no server-side cursor is
    left for a streamed response to outlive."""
    for chunk in chunks:
        batch = db.session.execute(stmt.where(User.org_id.in_(chunk))).all()
        missed = missed_points(assignment_id, [values[0] for values in batch])
        for user_id, *values in batch:
            row = _export_row(*values)
            row.weak = missed.get(user_id, [])
            yield row


def missed_points(assignment_id: int, user_ids: list[int]) -> dict[int, list[str]]:
    """Per member, the knowledge points they got wrong on their first finished, self-taken attempt,
    most missed first. Attempts are found by (assignment, member, number), a probe per member."""
    stmt = (
        select(Attempt.user_id, KnowledgePoint.name, func.count(Response.id))
        .join(Response, Response.attempt_id == Attempt.id)
        .join(Question, Question.id == Response.question_id)
        .join(KnowledgePoint, KnowledgePoint.id == Question.point_id)
        .where(
            Attempt.assignment_id == assignment_id, Attempt.user_id.in_(user_ids), Attempt.number == 1,
            Attempt.state == AttemptState.FINISHED, Attempt.entered_by_id.is_(None), Response.is_correct.is_(False),
        )
        .group_by(Attempt.user_id, KnowledgePoint.name)
        .order_by(Attempt.user_id, func.count(Response.id).desc(), KnowledgePoint.name)
    )
    out: dict[int, list[str]] = {}
    for user_id, name, _ in db.session.connection().execute(stmt):
        out.setdefault(user_id, []).append(name)
    return out


def _export_row(no, name, category, org_name, path, score, passed, finished_at, attempts, reason, entered_by, busy,
                deadline, attempt_finished) -> ExportRow:
    if reason is not None:
        status = f"免学（{reason.label}）"
    elif finished_at:
        status = f"已完成（{TIME_UP}）" if _handed_in_by_clock(entered_by, deadline, attempt_finished) else "已完成"
    else:
        status = "答题中" if busy else "未开始"
    return ExportRow(no, name, category.label, org_name, path, status, score, bool(passed), finished_at,
                     attempts or 0, entered_by is not None, reason is not None)
