"""Trends: first-try correctness per branch and knowledge point, month by month, from exams (first
attempts), practice (first tries) and meeting quizzes (each answer given in a meeting, kept in its own
table) — so a committee sees whether a 党课 helped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select, true

from ...extensions import db
from ...models import (
    Attempt,
    AttemptState,
    KnowledgePoint,
    MeetingAnswer,
    Organisation,
    PracticeAnswer,
    Question,
    Response,
    User,
)
from . import counting
from ..bank import places
from .mastery import Tally
from ..orgs import Scope, ancestor_ids, sort_tree, unit_of, within


@dataclass
class TrendRow:
    label: str
    key: int  # organisation or knowledge point id
    cells: dict[str, Tally] = field(default_factory=dict)
    where: str = ""  # a knowledge point's subject and part (bank/places.py)


@dataclass
class Trend:
    months: list[str]
    rows: list[TrendRow]


@dataclass(frozen=True)
class Months:
    """The months shown, as local calendar months of the configured zone, with their bounds in UTC."""

    labels: list[str]
    bounds: list[tuple[datetime, datetime]]  # [start, end) of each month, UTC

    @property
    def since(self) -> datetime:
        return self.bounds[0][0]

    @property
    def until(self) -> datetime:
        return self.bounds[-1][1]

    def label_of(self, column):
        """SQL: the label of the local month a timestamp falls in. Compared against UTC bounds worked
        out here, so both databases give the same answer, whatever their server's own zone."""
        return case(*((and_(column >= start, column < end), label)
                      for label, (start, end) in zip(self.labels, self.bounds)), else_=None)


def last_months(now: datetime, count: int) -> list[str]:
    months, year, month = [], now.year, now.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def local_months(now: datetime, count: int, tz: str) -> Months:
    """The last `count` calendar months in zone `tz`, the current one included."""
    zone = ZoneInfo(tz)
    labels = last_months(now.astimezone(zone), count)

    def start(year: int, month: int) -> datetime:
        return datetime(year, month, 1, tzinfo=zone).astimezone(timezone.utc)

    bounds = []
    for label in labels:
        year, month = int(label[:4]), int(label[5:])
        following = (year + 1, 1) if month == 12 else (year, month + 1)
        bounds.append((start(year, month), start(*following)))
    return Months(labels, bounds)


def _counts(roots: list[Organisation], months: Months, unit: Organisation | None, subject_id: int | None = None):
    """(org_id, month, point_id, answered, right) from exam first attempts, practice first tries and answers
    given in meeting quizzes (on one subject's points, if given)."""
    where_org = or_(*(within(Organisation.path, r.path) for r in roots))
    if unit is not None:
        where_org = where_org & within(Organisation.path, unit.path)
    in_subject = None if subject_id is None else select(KnowledgePoint.id).where(KnowledgePoint.subject_id == subject_id)
    exam_month = months.label_of(Attempt.finished_at)
    exams = (
        select(User.org_id, exam_month, Question.point_id, func.count(Response.id),
               func.count(Response.id).filter(Response.is_correct.is_(True)))
        .join(Attempt, Attempt.id == Response.attempt_id)
        .join(Question, Question.id == Response.question_id)
        .join(User, User.id == Attempt.user_id)
        .join(Organisation, Organisation.id == User.org_id)
        .where(Attempt.number == 1, Attempt.state == AttemptState.FINISHED, Attempt.entered_by_id.is_(None),
               counting.counted_for(Attempt.assignment_id), Attempt.finished_at >= months.since,
               Attempt.finished_at < months.until, where_org, _on(Question.point_id, in_subject))
        .group_by(User.org_id, exam_month, Question.point_id)
    )
    practice_month = months.label_of(PracticeAnswer.answered_at)
    practice = (
        select(User.org_id, practice_month, Question.point_id, func.count(PracticeAnswer.id),
               func.count(PracticeAnswer.id).filter(PracticeAnswer.is_correct.is_(True)))
        .join(Question, Question.id == PracticeAnswer.question_id)
        .join(User, User.id == PracticeAnswer.user_id)
        .join(Organisation, Organisation.id == User.org_id)
        .where(PracticeAnswer.first_try.is_(True), counting.counted_member(), PracticeAnswer.answered_at >= months.since,
               PracticeAnswer.answered_at < months.until, where_org, _on(Question.point_id, in_subject))
        .group_by(User.org_id, practice_month, Question.point_id)
    )
    meeting_month = months.label_of(MeetingAnswer.saved_at)
    meeting = (
        select(User.org_id, meeting_month, MeetingAnswer.point_id, func.count(),
               func.count().filter(MeetingAnswer.is_correct.is_(True)))
        .join(User, User.id == MeetingAnswer.user_id)
        .join(Organisation, Organisation.id == User.org_id)
        .where(counting.counted_member(), MeetingAnswer.saved_at >= months.since, MeetingAnswer.saved_at < months.until,
               where_org, _on(MeetingAnswer.point_id, in_subject))
        .group_by(User.org_id, meeting_month, MeetingAnswer.point_id)
    )
    yield from db.session.execute(exams)
    yield from db.session.execute(practice)
    yield from db.session.execute(meeting)


def _on(column, points):
    """SQL: `column` names one of these points (a subquery of point ids; None: any point)."""
    return true() if points is None else column.in_(points)


def branch_trend(scope: Scope, now: datetime, tz: str, months: int = 6, subject_id: int | None = None) -> Trend:
    """Overall first-try correctness per branch the viewer may see, per local month of zone `tz` (on one
    subject's points, if given)."""
    window = local_months(now, months, tz)
    if not scope.roots:
        return Trend(window.labels, [])
    orgs = _orgs_under(scope.roots)
    rows: dict[int, TrendRow] = {}
    for org_id, month, _point, answered, right in _counts(scope.roots, window, None, subject_id):
        unit = unit_of(orgs[org_id], orgs)
        rows.setdefault(unit.id, TrendRow(unit.name, unit.id)).cells.setdefault(month, Tally()).add(answered, right)
    order = {o.id: i for i, o in enumerate(sort_tree([orgs[k] for k in rows]))}
    return Trend(window.labels, sorted(rows.values(), key=lambda r: order[r.key]))


def point_trend(scope: Scope, unit: Organisation, now: datetime, tz: str, months: int = 6,
                subject_id: int | None = None) -> Trend:
    """First-try correctness per knowledge point (of one subject, if given) for one branch, per local month
    of zone `tz`; points in tree order, each with its subject and part."""
    window = local_months(now, months, tz)
    roots = [unit] if scope.covers(unit) else [r for r in scope.roots if r.path.startswith(unit.path)]
    if not roots:
        return Trend(window.labels, [])
    rows: dict[int, TrendRow] = {}
    for _org, month, point_id, answered, right in _counts(roots, window, unit, subject_id):
        row = rows.get(point_id)
        if row is None:
            place = places.place_of(db.session.get(KnowledgePoint, point_id))
            row = rows[point_id] = TrendRow(place.point.name, point_id, where=place.where)
        row.cells.setdefault(month, Tally()).add(answered, right)
    order = {p.id: i for i, p in enumerate(places.in_tree_order(db.session.get(KnowledgePoint, k) for k in rows))}
    return Trend(window.labels, sorted(rows.values(), key=lambda r: order[r.key]))


def _orgs_under(roots: list[Organisation]) -> dict[int, Organisation]:
    orgs = {o.id: o for o in db.session.scalars(
        select(Organisation).where(or_(*(within(Organisation.path, r.path) for r in roots)))
    )}
    for r in roots:
        for oid in ancestor_ids(r):
            orgs.setdefault(oid, db.session.get(Organisation, oid))
    return orgs
