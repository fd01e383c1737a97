"""Trends: first-try correctness per branch and knowledge point, month by month, from exams (first
attempts) and practice (first tries) — so a committee sees whether a 党课 helped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import Attempt, AttemptState, KnowledgePoint, Organisation, PracticeAnswer, Question, Response, User
from .mastery import Tally
from .orgs import Scope, ancestor_ids, sort_tree, unit_of, within


@dataclass
class TrendRow:
    label: str
    key: int  # organisation or knowledge point id
    cells: dict[str, Tally] = field(default_factory=dict)


@dataclass
class Trend:
    months: list[str]
    rows: list[TrendRow]


def _month(column):
    """'YYYY-MM' of a timestamp, in the database's own dialect."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def last_months(now: datetime, count: int) -> list[str]:
    months, year, month = [], now.year, now.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def _window(now: datetime, months: int) -> tuple[list[str], datetime]:
    """The month labels shown, and the moment from which answers are counted (a day early: UTC vs local)."""
    columns = last_months(now, months)
    return columns, datetime.fromisoformat(columns[0] + "-01").replace(tzinfo=now.tzinfo) - timedelta(days=1)


def _counts(roots: list[Organisation], since: datetime, unit: Organisation | None):
    """(org_id, month, point_id, answered, right) from exam first attempts and practice first tries."""
    where_org = or_(*(within(Organisation.path, r.path) for r in roots))
    if unit is not None:
        where_org = where_org & within(Organisation.path, unit.path)
    exam_month = _month(Attempt.finished_at)
    exams = (
        select(User.org_id, exam_month, Question.point_id, func.count(Response.id),
               func.count(Response.id).filter(Response.is_correct.is_(True)))
        .join(Attempt, Attempt.id == Response.attempt_id)
        .join(Question, Question.id == Response.question_id)
        .join(User, User.id == Attempt.user_id)
        .join(Organisation, Organisation.id == User.org_id)
        .where(Attempt.number == 1, Attempt.state == AttemptState.FINISHED, Attempt.finished_at >= since, where_org)
        .group_by(User.org_id, exam_month, Question.point_id)
    )
    practice_month = _month(PracticeAnswer.answered_at)
    practice = (
        select(User.org_id, practice_month, Question.point_id, func.count(PracticeAnswer.id),
               func.count(PracticeAnswer.id).filter(PracticeAnswer.is_correct.is_(True)))
        .join(Question, Question.id == PracticeAnswer.question_id)
        .join(User, User.id == PracticeAnswer.user_id)
        .join(Organisation, Organisation.id == User.org_id)
        .where(PracticeAnswer.first_try.is_(True), PracticeAnswer.answered_at >= since, where_org)
        .group_by(User.org_id, practice_month, Question.point_id)
    )
    yield from db.session.execute(exams)
    yield from db.session.execute(practice)


def branch_trend(scope: Scope, now: datetime, months: int = 6) -> Trend:
    """Overall first-try correctness per branch the viewer may see, per month."""
    columns, since = _window(now, months)
    if not scope.roots:
        return Trend(columns, [])
    orgs = _orgs_under(scope.roots)
    rows: dict[int, TrendRow] = {}
    for org_id, month, _point, answered, right in _counts(scope.roots, since, None):
        unit = unit_of(orgs[org_id], orgs)
        rows.setdefault(unit.id, TrendRow(unit.name, unit.id)).cells.setdefault(month, Tally()).add(answered, right)
    order = {o.id: i for i, o in enumerate(sort_tree([orgs[k] for k in rows]))}
    return Trend(columns, sorted(rows.values(), key=lambda r: order[r.key]))


def point_trend(scope: Scope, unit: Organisation, now: datetime, months: int = 6) -> Trend:
    """First-try correctness per knowledge point for one branch, per month."""
    columns, since = _window(now, months)
    roots = [unit] if scope.covers(unit) else [r for r in scope.roots if r.path.startswith(unit.path)]
    if not roots:
        return Trend(columns, [])
    rows: dict[int, TrendRow] = {}
    names = {}
    for _org, month, point_id, answered, right in _counts(roots, since, unit):
        if point_id not in names:
            names[point_id] = db.session.get(KnowledgePoint, point_id).name
        rows.setdefault(point_id, TrendRow(names[point_id], point_id)).cells.setdefault(month, Tally()).add(answered, right)
    return Trend(columns, sorted(rows.values(), key=lambda r: r.label))


def _orgs_under(roots: list[Organisation]) -> dict[int, Organisation]:
    orgs = {o.id: o for o in db.session.scalars(
        select(Organisation).where(or_(*(within(Organisation.path, r.path) for r in roots)))
    )}
    for r in roots:
        for oid in ancestor_ids(r):
            orgs.setdefault(oid, db.session.get(Organisation, oid))
    return orgs
