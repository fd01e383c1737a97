"""First-try tallies: answered and correct per (assignment, organisation, knowledge point), the figures
behind mastery in the weak-branch report, kept in the point_tally table instead of counted from
millions of responses on every view.

One definition (`contributions`) says which responses count: those on members' first finished,
self-taken attempts (number 1, not 代录), of members who count (`counting`: active, not exempt),
under the organisation they belong to now. Every change goes through it:

- a graded attempt adds its own contributions (`record_attempt`, from quizzes.handin._finish);
- anything that changes which responses count or how (a member moved, disabled or enabled, exempted
  or the exemption revoked; a key corrected) runs inside `recounted(...)` (`member_recounted` for members): what the affected
  responses contributed is taken off before, and added back after the change;
- `rebuild` recounts an assignment from scratch (the migration's backfill, bulk loads, repairs).

None of these commit: they ride in the caller's transaction, so the tally changes with the rows it counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from ...extensions import db
from ...models import Attempt, AttemptState, PointTally, Question, Response, User
from . import counting

_KEY = ("assignment_id", "org_id", "point_id")
_CHUNK = 500  # rows per INSERT (5 parameters each; well inside SQLite's limit)


def contributions(*where):
    """SELECT (assignment_id, org_id, point_id, answered, correct) over the responses that count,
    narrowed by `where` (conditions on Response, Attempt, Question or User)."""
    return (
        select(
            Attempt.assignment_id, User.org_id, Question.point_id, func.count(Response.id),
            func.count(Response.id).filter(Response.is_correct.is_(True)),
        )
        .join(Attempt, Attempt.id == Response.attempt_id)
        .join(Question, Question.id == Response.question_id)
        .join(User, User.id == Attempt.user_id)
        .where(
            counting.counted_for(Attempt.assignment_id), Attempt.number == 1, Attempt.state == AttemptState.FINISHED,
            Attempt.entered_by_id.is_(None), *where,
        )
        .group_by(Attempt.assignment_id, User.org_id, Question.point_id)
    )


def _insert():
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(PointTally)


def _add(rows, sign: int) -> None:
    """Add (or with sign -1, take off) counts, creating rows as needed; rows that fall to zero go."""
    rows = sorted((tuple(r) for r in rows if r[3]), key=lambda r: r[:3])  # one lock order: no deadlocks
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start:start + _CHUNK]
        stmt = _insert().values([
            dict(assignment_id=a, org_id=o, point_id=p, answered=sign * n, correct=sign * c) for a, o, p, n, c in chunk
        ])
        stmt = stmt.on_conflict_do_update(
            index_elements=list(_KEY),
            set_={"answered": PointTally.answered + stmt.excluded.answered,
                  "correct": PointTally.correct + stmt.excluded.correct},
        )
        db.session.execute(stmt)
        if sign < 0:
            db.session.execute(delete(PointTally).where(
                tuple_(PointTally.assignment_id, PointTally.org_id, PointTally.point_id).in_([r[:3] for r in chunk]),
                PointTally.answered <= 0,
            ))


def record_attempt(attempt: Attempt) -> None:
    """Add a just-finished, graded attempt's answers to the tallies, if it is one that counts."""
    if attempt.number != 1 or attempt.entered_by_id is not None:
        return
    _add(db.session.execute(contributions(Response.attempt_id == attempt.id)).all(), +1)


@contextmanager
def recounted(*where) -> Iterator[None]:
    """Keep the tallies right across a change to the responses matching `where`, or to their members
    or attempts: take off what those responses count for now, make the change, add back what they
    count for after it. Enter before changing anything (the first query flushes pending changes).

        with tallies.recounted(Attempt.user_id == user.id):
            user.org = new_org
    """
    stmt = contributions(*where)
    _add(db.session.execute(stmt).all(), -1)
    yield
    db.session.flush()
    _add(db.session.execute(stmt).all(), +1)


@contextmanager
def exemption_recounted(assignment_id: int, user_id: int) -> Iterator[None]:
    """`recounted` for exempting a member from one assignment, or revoking that: their attempts on it
    are locked first, as in member_recounted."""
    mine = (Attempt.user_id == user_id, Attempt.assignment_id == assignment_id)
    db.session.execute(select(Attempt.id).where(*mine).with_for_update())
    with recounted(*mine):
        yield


@contextmanager
def member_recounted(user: User) -> Iterator[None]:
    """`recounted` for a change to a member (organisation, enabled or not). Their attempts are locked
    first (PostgreSQL; SQLite runs one writer at a time anyway), so a submit of theirs in flight is
    counted either before the change or after it: never under both organisations, never for a member
    just disabled."""
    db.session.execute(select(Attempt.id).where(Attempt.user_id == user.id).with_for_update())
    with recounted(Attempt.user_id == user.id):
        yield


def rebuild(assignment_id: int | None = None) -> None:
    """Recount one assignment's tallies (or every assignment's) from the responses."""
    where = [] if assignment_id is None else [Attempt.assignment_id == assignment_id]
    gone = delete(PointTally)
    if assignment_id is not None:
        gone = gone.where(PointTally.assignment_id == assignment_id)
    db.session.execute(gone)
    stmt = _insert().from_select([*_KEY, "answered", "correct"], contributions(*where))
    # A submit committed meanwhile may already have re-created a row; the recount includes it.
    stmt = stmt.on_conflict_do_update(
        index_elements=list(_KEY), set_={"answered": stmt.excluded.answered, "correct": stmt.excluded.correct},
    )
    db.session.execute(stmt)


def drift(assignment_id: int) -> dict[tuple[int, int, int], tuple[int, int, int, int]]:
    """Keys where the stored tally and a fresh count disagree: {key: (answered, correct, counted answered,
    counted correct)}. Empty when all is well."""
    stored = {(a, o, p): (n, c) for a, o, p, n, c in db.session.execute(
        select(PointTally.assignment_id, PointTally.org_id, PointTally.point_id, PointTally.answered, PointTally.correct)
        .where(PointTally.assignment_id == assignment_id)
    )}
    counted = {(a, o, p): (n, c) for a, o, p, n, c in db.session.execute(contributions(Attempt.assignment_id == assignment_id))}
    return {k: (*stored.get(k, (0, 0)), *counted.get(k, (0, 0)))
            for k in stored.keys() | counted.keys() if stored.get(k) != counted.get(k)}


def drift_report(assignment_ids: list[int]) -> dict[int, dict]:
    """`drift` for each assignment, all read from one snapshot of the database: a hand-in committing
    between the tally read and the recount cannot look like drift. Ends the session's transaction
    first (the snapshot starts with a new one) and after."""
    db.session.rollback()
    if db.session.get_bind().dialect.name == "postgresql":
        # READ COMMITTED would give each statement its own snapshot; this one lasts the transaction.
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    # On SQLite a transaction's reads share the snapshot its first read took (WAL), as here.
    try:
        return {aid: found for aid in assignment_ids if (found := drift(aid))}
    finally:
        db.session.rollback()
