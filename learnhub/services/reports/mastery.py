"""Which branches do not know the required content: mastery (first-try correct rate) per knowledge
point, rolled up the organisation tree, with weak branches flagged and their weak points named.

First-try counts per (organisation, knowledge point) come from the tallies kept at each submit
(services/reports/tallies.py); folding organisations into branches and rolling branches up the tree is a pass
over the (small) tree.

Every row's figures are the sum of the rows shown beneath it, and the top row's are what the exports
count. Members who belong directly to an organisation with branches beneath it (a 党委's organiser and
administrator, a 党总支's own staff) count like anyone else (services/reports/counting.py: staff are members
and may sit the exam); they get a row of their own, "党委直属", under that organisation, rather than
being folded silently into its total (which once made 应完成 44 over rows summing to 42).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select

from ...extensions import db
from ...models import (
    Assignment,
    AssignmentQuestion,
    Attempt,
    AttemptState,
    KnowledgePoint,
    Organisation,
    PointLevel,
    PointTally,
    Question,
    Subject,
)
from . import counting
from ..orgs import Scope, ancestor_ids, sort_tree, unit_of, within
from ..bank import places
from ..exam.quizzes.papers import rule_point_ids
from .completion import UnitRow, assignment_report, visible_roots

FINISHED_THRESHOLD = 90.0  # % of expected members who finished
MASTERY_THRESHOLD = 60.0  # % first-try right on a required point
MIN_MEMBERS = 5  # fewer expected members than this: a caution, not a verdict
MIN_ANSWERS = 5  # fewer first-try answers on a point than this: not judged


@dataclass
class Tally:
    """Answers counted, and how many were right."""

    answered: int = 0
    right: int = 0

    @property
    def rate(self) -> float | None:
        return round(100.0 * self.right / self.answered, 1) if self.answered else None

    def add(self, answered: int, right: int) -> None:
        self.answered += answered
        self.right += right


@dataclass
class PointScore(Tally):
    point: KnowledgePoint | None = None


@dataclass
class MasteryRow:
    """One organisation in the rolled-up tree: counts, mastery per required point, and the verdict."""

    org: Organisation
    depth: int
    counts: UnitRow
    points: dict[int, PointScore] = field(default_factory=dict)
    is_unit: bool = False
    weak_points: list[PointScore] = field(default_factory=list)
    low_completion: bool = False
    caution: bool = False
    direct: bool = False  # the members directly in `org`, which has branches beneath it ("党委直属")

    @property
    def name(self) -> str:
        return f"{self.org.kind.label}直属" if self.direct else self.org.name

    @property
    def flagged(self) -> bool:
        return self.is_unit and not self.caution and (self.low_completion or bool(self.weak_points))

    @property
    def answered(self) -> int:
        return sum(p.answered for p in self.points.values())

    @property
    def mastery(self) -> float | None:
        right = sum(p.right for p in self.points.values())
        return round(100.0 * right / self.answered, 1) if self.answered else None


@dataclass
class MasteryReport:
    assignment: Assignment
    points: list[KnowledgePoint]
    rows: list[MasteryRow]
    finished_threshold: float
    mastery_threshold: float
    subjects: list[Subject] = field(default_factory=list)  # every subject the assignment covers
    subject: Subject | None = None  # the one the figures are restricted to, if any

    @property
    def weak_units(self) -> list[MasteryRow]:
        """Flagged branches, the weakest first: lowest mastery on a weak point, or lowest completion."""
        def worst(row: MasteryRow) -> float:
            return min((p.rate for p in row.weak_points), default=row.counts.finished_rate or 0.0)

        return sorted((r for r in self.rows if r.flagged), key=worst)


def required_points(assignment: Assignment, subject_id: int | None = None) -> list[KnowledgePoint]:
    """The knowledge points the assignment's quiz covers (those of one subject, if given), in tree order:
    the built-in subject first, then parts, articles and points by position."""
    if assignment.draw_rules:
        ids = set()
        for rule in assignment.draw_rules:
            covered = rule_point_ids(rule)
            ids.update(covered if isinstance(covered, list) else db.session.scalars(covered))
    else:
        ids = set(db.session.scalars(
            select(Question.point_id).join(AssignmentQuestion, AssignmentQuestion.question_id == Question.id)
            .where(AssignmentQuestion.assignment_id == assignment.id)
        ))
    stmt = select(KnowledgePoint).where(KnowledgePoint.id.in_(ids), KnowledgePoint.level == PointLevel.POINT)
    if subject_id is not None:
        stmt = stmt.where(KnowledgePoint.subject_id == subject_id)
    points = list(db.session.scalars(stmt))
    with_questions = set(db.session.scalars(select(Question.point_id).where(Question.point_id.in_([p.id for p in points]))))
    return places.in_tree_order(p for p in points if p.id in with_questions)


def assignment_subjects(assignment: Assignment) -> list[Subject]:
    """The subjects an assignment covers: those of its quiz's points, else of its materials' points; the
    built-in one first."""
    return places.subjects_of(required_points(assignment) or [p for m in assignment.materials for p in m.points])


def first_attempt_responses(assignment: Assignment, roots: list[Organisation]):
    """SQL conditions: responses on the first finished, self-taken attempts of members who count
    (services/reports/counting.py), within these subtrees. The caller's query joins Response, Attempt, User
    and Organisation.
    """
    return (
        Attempt.assignment_id == assignment.id, Attempt.number == 1, Attempt.state == AttemptState.FINISHED,
        Attempt.entered_by_id.is_(None), counting.counted_for(assignment.id),
        or_(*(within(Organisation.path, r.path) for r in roots)),
    )


def _first_try_counts(assignment: Assignment, roots: list[Organisation]):
    """(org_id, point_id, answered, right) over members' first finished attempts, within these subtrees:
    read from the tallies kept as attempts are graded (services/reports/tallies.py), a few rows per branch."""
    # The organisations first (path index), then their rows by the tally's key: a branch reads its own
    # rows, not every row of the assignment.
    in_roots = select(Organisation.id).where(or_(*(within(Organisation.path, r.path) for r in roots)))
    stmt = select(PointTally.org_id, PointTally.point_id, PointTally.answered, PointTally.correct).where(
        PointTally.assignment_id == assignment.id, PointTally.org_id.in_(in_roots)
    )
    # On the connection, not through the ORM session: tens of thousands of plain rows, no objects.
    return db.session.connection().execute(stmt)


def mastery_report(
    scope: Scope, assignment: Assignment,
    finished_threshold: float = FINISHED_THRESHOLD, mastery_threshold: float = MASTERY_THRESHOLD,
    subject_id: int | None = None,
) -> MasteryReport:
    """The weak-branch report for what the viewer may see of an assignment's subtree; with `subject_id`,
    mastery and weak points over that subject's points only (completion stays the assignment's)."""
    every = required_points(assignment)
    subjects = places.subjects_of(every or [p for m in assignment.materials for p in m.points])
    subject = next((s for s in subjects if s.id == subject_id), None)
    points = [p for p in every if subject is None or p.subject_id == subject.id]
    by_id = {p.id: p for p in points}
    counts = assignment_report(scope, assignment)
    roots = visible_roots(scope, assignment)
    if not roots:
        return MasteryReport(assignment, points, [], finished_threshold, mastery_threshold, subjects, subject)
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(or_(*(within(Organisation.path, r.path) for r in roots))))}
    for r in roots:
        for oid in ancestor_ids(r):
            orgs.setdefault(oid, db.session.get(Organisation, oid))
    unit_points: dict[int, dict[int, PointScore]] = {}
    unit_ids: dict[int, int] = {}  # organisation -> the unit it counts under (a tally row per point repeats it)
    for org_id, point_id, answered, right in _first_try_counts(assignment, roots):
        if point_id not in by_id:
            continue
        unit_id = unit_ids.get(org_id)
        if unit_id is None:
            unit_id = unit_ids[org_id] = unit_of(orgs[org_id], orgs).id
        scores = unit_points.setdefault(unit_id, {})
        score = scores.get(point_id)
        if score is None:
            score = scores[point_id] = PointScore(point=by_id[point_id])
        score.add(answered, right)
    units = {row.org.id: row for row in counts.units}
    rows = _roll_up(units, unit_points, orgs, roots, by_id)
    for row in rows:
        _judge(row, finished_threshold, mastery_threshold)
    return MasteryReport(assignment, points, rows, finished_threshold, mastery_threshold, subjects, subject)


def _roll_up(units, unit_points, orgs, roots, points_by_id) -> list[MasteryRow]:
    """A row for every unit and for every organisation above units, up to the viewer's roots.

    Each unit's own figures first; then, deepest first, every row adds its totals into the row of its
    nearest organisation above (once per row, not once per unit and ancestor)."""
    top = min(len(r.path) for r in roots)
    rows: dict[int, MasteryRow] = {}

    def row_of(org: Organisation) -> MasteryRow:
        row = rows.get(org.id)
        if row is None:
            row = rows[org.id] = MasteryRow(org=org, depth=0, counts=UnitRow(org=org))
        return row

    for unit_id, counts in units.items():
        chain = [orgs[i] for i in ancestor_ids(counts.org) if i in orgs and len(orgs[i].path) >= top]
        for org in chain:
            row_of(org)
        if chain and chain[-1].id == unit_id:
            row = rows[unit_id]
            row.is_unit = True
            row.counts.add(counts)
            for pid, score in unit_points.get(unit_id, {}).items():
                row.points[pid] = PointScore(score.answered, score.right, points_by_id[pid])
    for row in sorted(rows.values(), key=lambda r: len(r.org.path), reverse=True):
        parent = next((rows[i] for i in reversed(ancestor_ids(row.org)[:-1]) if i in rows), None)
        if parent is None:
            continue
        parent.counts.add(row.counts)
        for pid, score in row.points.items():
            total = parent.points.get(pid)
            if total is None:
                total = parent.points[pid] = PointScore(point=points_by_id[pid])
            total.add(score.answered, score.right)
    # An organisation with branches beneath it is a rollup, even if some members sit directly in it.
    above_units = {oid for u in units for oid in ancestor_ids(orgs[u])[:-1]}
    direct: dict[int, MasteryRow] = {}
    for row in rows.values():
        if row.is_unit and row.org.id in above_units:
            row.is_unit = False
            direct[row.org.id] = _direct_row(row.org, units[row.org.id], unit_points.get(row.org.id, {}), points_by_id)
    ordered = sort_tree([r.org for r in rows.values()])
    base = min((o.depth for o in ordered), default=0)
    out = []
    for org in ordered:
        row = rows[org.id]
        row.depth = org.depth - base
        out.append(row)
        if org.id in direct:  # first beneath its organisation, before the branches
            direct[org.id].depth = row.depth + 1
            out.append(direct[org.id])
    return out


def _direct_row(org: Organisation, counts: UnitRow, points: dict[int, PointScore], points_by_id) -> MasteryRow:
    """The row of the members directly in `org`, an organisation with branches beneath it."""
    row = MasteryRow(org=org, depth=0, counts=UnitRow(org=org), direct=True)
    row.counts.add(counts)
    for pid, score in points.items():
        row.points[pid] = PointScore(score.answered, score.right, points_by_id[pid])
    return row


def _judge(row: MasteryRow, finished_threshold: float, mastery_threshold: float) -> None:
    row.caution = row.counts.expected < MIN_MEMBERS
    rate = row.counts.finished_rate
    row.low_completion = rate is not None and rate < finished_threshold
    weak = [p for p in row.points.values() if p.answered >= MIN_ANSWERS and p.rate is not None and p.rate < mastery_threshold]
    row.weak_points = sorted(weak, key=lambda p: (p.rate, -p.answered, p.point.name))  # ties: same on any database


def unit_point_scores(scope: Scope, assignment: Assignment, unit: Organisation,
                      subject_id: int | None = None) -> list[PointScore]:
    """Mastery per required point (of one subject, if given) for one branch (what the viewer may see of
    it), weakest first."""
    roots = [unit] if scope.covers(unit) else [r for r in scope.roots if r.path.startswith(unit.path)]
    if not roots:
        return []
    by_id = {p.id: p for p in required_points(assignment, subject_id)}
    scores: dict[int, PointScore] = {}
    for _org_id, point_id, answered, right in _first_try_counts(assignment, roots):
        if point_id in by_id:
            scores.setdefault(point_id, PointScore(point=by_id[point_id])).add(answered, right)
    return sorted(scores.values(), key=lambda p: (p.rate if p.rate is not None else 101.0, p.point.name))


def unit_namer(report: MasteryReport):
    """A function from a member's organisation path to the name of the branch they count under."""
    units = {r.org.path: r.org.name for r in report.rows if r.is_unit}

    def name(path: str) -> str | None:
        parts = path.strip("/").split("/")
        for depth in range(len(parts), 0, -1):
            found = units.get("/" + "/".join(parts[:depth]) + "/")
            if found:
                return found
        return None

    return name
