"""Regrading after a key correction, in short batches (key_corrections.py changes the key and logs it).

The corrected key is committed first: from then on every hand-in grades with it (grading reads the
key afresh once it holds its attempt's lock). The papers are then regraded member by member, in
batches of consecutive member ids. Each batch is one transaction that

1. locks the log row: two runs of one regrade take turns, each batch starting where the last ended;
2. locks, in id order, every attempt of its members that holds an answer to the question or is in
   progress. A hand-in of any of them is then wholly before the batch (whose regrade then includes
   it) or waits for it (and grades with the new key): never left graded with the old key, never
   counted twice in the tallies;
3. regrades those attempts' answers to the question, the finished papers' scores and the members'
   results, and moves the first-try tallies of exactly those answers (tallies.recounted);
4. adds its counts to the log row, records how far it got (`progress`), and commits.

Batches are sized from the time the last one held its locks, aiming at BATCH_SECONDS, so SQLite's
one write lock is held for tens of milliseconds at a time and answer saves of other members slip in
between. Practice answers follow, in batches too; then the log row is marked finished.

What others see meanwhile: the new key at once; a member's papers, result and tally share change
together, in one batch; members of later batches keep their old score for the seconds the regrade
takes, and the question's log says the regrade is under way. A regrade cut short (a crash, a
restart) leaves the log row unfinished: `run` again continues from `progress`. A batch is all or
nothing, and regrading from the current key changes nothing twice.

Counts: papers handed in by the time their batch runs (a paper handed in later was graded with the
new key by its hand-in: nothing to regrade), members with such a paper, and the papers whose score,
and whose pass or fail, the regrade changed.

Lock order, so no two of these wait for each other: hand-in: attempt, then tallies (the key is only
read); member changes: the member's attempts, then tallies; correction: question, commit; batch:
log row, attempts, then tallies.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from dataclasses import dataclass

from sqlalchemy import bindparam, exists, func, or_, select, update

from ...extensions import db
from ...models import (
    Assignment,
    Attempt,
    AttemptState,
    KeyCorrection,
    Organisation,
    PracticeAnswer,
    Question,
    Response,
    utcnow,
)
from ..study import mistakes
from ..reports import tallies
from .grading import is_correct
from .quizzes import update_results

BATCH_SECONDS = 0.02  # how long a batch should hold its locks (SQLite's write lock: well under ~50 ms)
FIRST_BATCH = 20  # members in the first batch; later ones are sized from the time the last one took
MIN_BATCH, MAX_BATCH = 10, 1000  # a batch's fixed cost (tallies, commit) is worth ten members at least


# Updates by id as plain Core statements, run for many rows at once (executemany): the ORM's bulk
# update costs milliseconds per statement, which a batch holding SQLite's write lock cannot spare.
def _set_by_id(table, *columns):
    return update(table).where(table.c.id == bindparam("row_id")).values({c: bindparam(c) for c in columns})


_SET_RESPONSE = _set_by_id(Response.__table__, "is_correct")
_SET_PRACTICE = _set_by_id(PracticeAnswer.__table__, "is_correct")
_SET_SCORE = _set_by_id(Attempt.__table__, "correct_count", "score", "passed")


@dataclass(frozen=True)
class Flip:
    """An answer whose correctness the correction flipped: what a member's mistake book must follow."""

    user_id: int
    question_id: int
    now_correct: bool
    practice: bool = False  # a practice answer (else an answer on a handed-in paper)


def new_progress() -> dict:
    """The `progress` of a correction whose regrade has not begun."""
    return {"through": 0, "papers_done": False, "practice": 0, "orgs": {}}


def run(correction_id: int) -> list[Flip]:
    """Regrade what the correction changes, from where its log row says the regrade got to, and
    mark it finished. Commits each batch. Returns the answers whose correctness this run flipped."""
    flips: list[Flip] = []
    members: list[int] | None = None
    size = FIRST_BATCH
    while True:
        correction = db.session.get(KeyCorrection, correction_id, populate_existing=True)
        if correction.finished_at is not None:
            db.session.rollback()
            return flips
        progress = correction.progress
        if not progress["papers_done"]:
            if members is None:
                members = _members(correction.question_id, progress["through"])
            start = bisect_right(members, progress["through"])
            hi = members[start + size - 1] if start + size < len(members) else None
            done = _paper_batch(correction_id, progress["through"], hi)
        else:
            done = _practice_batch(correction_id, progress["practice"], size * 10)
        if done is None:
            continue  # another run of this regrade did that batch: carry on from where it got to
        batch_flips, held = done
        flips.extend(batch_flips)
        # A busy machine makes single batches slow: halve at most, and never below MIN_BATCH.
        size = max(MIN_BATCH, min(MAX_BATCH, int(size * min(2.0, max(0.5, BATCH_SECONDS / max(held, 1e-4))))))


def _members(question_id: int, after: int) -> list[int]:
    """Ids of the members (above `after`) whose attempts a batch may lock: those with an answer to the
    question, and those with an attempt in progress. Only sizes the batches: each batch takes every
    member in its id range, whoever they are by then."""
    answered = (select(Attempt.user_id).join(Response, Response.attempt_id == Attempt.id)
                .where(Response.question_id == question_id, Attempt.user_id > after))
    taking = select(Attempt.user_id).where(Attempt.state == AttemptState.IN_PROGRESS, Attempt.user_id > after)
    found = sorted(set(db.session.scalars(answered.union(taking))))
    db.session.rollback()  # a read: end it before the batches write
    return found


def _locked_log(correction_id: int, check) -> tuple[KeyCorrection, float] | None:
    """The log row, locked (on SQLite: the write lock), if `check(progress)` says this batch is still
    to do; and when the lock was had. None (and the transaction ended) if not."""
    correction = db.session.scalars(
        select(KeyCorrection).where(KeyCorrection.id == correction_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if correction.finished_at is not None or not check(correction.progress):
        db.session.rollback()
        return None
    return correction, time.perf_counter()


def _paper_batch(correction_id: int, lo: int, hi: int | None) -> tuple[list[Flip], float] | None:
    """Regrade the papers of members with lo < id <= hi (hi None: every member above lo). Commits.
    Returns the flips and how long the locks were held; None if another run already did it."""
    locked = _locked_log(correction_id, lambda p: not p["papers_done"] and p["through"] == lo)
    if locked is None:
        return None
    correction, since = locked
    question = db.session.scalars(
        select(Question).where(Question.id == correction.question_id).execution_options(populate_existing=True)
    ).one()
    in_range = [Attempt.user_id > lo] + ([Attempt.user_id <= hi] if hi is not None else [])
    holds = exists().where(Response.attempt_id == Attempt.id, Response.question_id == question.id)
    ids = db.session.scalars(select(Attempt.id).where(*in_range, or_(Attempt.state == AttemptState.IN_PROGRESS, holds))).all()
    if ids:  # locked by id alone: an attempt handed in while we wait is locked all the same
        ids = db.session.scalars(select(Attempt.id).where(Attempt.id.in_(ids)).order_by(Attempt.id).with_for_update()).all()
    mine = (Response.question_id == question.id, Response.attempt_id.in_(ids))
    rows = db.session.execute(
        select(Response.id, Response.answer, Response.is_correct, Attempt.id.label("attempt_id"), Attempt.user_id,
               Attempt.assignment_id, Attempt.state, Attempt.total, Attempt.score, Attempt.passed,
               Assignment.org_id, Assignment.pass_mark)
        .join(Attempt, Attempt.id == Response.attempt_id).join(Assignment, Assignment.id == Attempt.assignment_id)
        .where(*mine)
    ).all() if ids else []
    papers = [r for r in rows if r.state is AttemptState.FINISHED]
    flipped = [(r, not r.is_correct) for r in rows if is_correct(question, r.answer) != r.is_correct]
    with tallies.recounted(*mine):
        if flipped:
            db.session.execute(_SET_RESPONSE, [{"row_id": r.id, "is_correct": now} for r, now in flipped])
        regraded = {r.attempt_id: r for r, _ in flipped if r.state is AttemptState.FINISHED}
        scores = _rescore(list(regraded.values()))
    update_results({(r.assignment_id, r.user_id) for r in regraded.values()})

    orgs = dict(correction.progress["orgs"])
    for org_id in {r.org_id for r in papers}:
        mine_here = [r for r in papers if r.org_id == org_id]
        before = orgs.get(str(org_id), [0, 0])
        orgs[str(org_id)] = [before[0] + len(mine_here), before[1] + len({r.user_id for r in mine_here})]
    correction.orgs = _org_rows(orgs)
    correction.attempts_regraded += len(papers)
    correction.members += len({r.user_id for r in papers})
    correction.scores_changed += sum(1 for aid, r in regraded.items() if scores[aid][0] != r.score)
    correction.passes_changed += sum(1 for aid, r in regraded.items() if scores[aid][1] != bool(r.passed))
    correction.progress = {**correction.progress, "orgs": orgs, "through": hi if hi is not None else lo,
                           "papers_done": hi is None}
    flips = [Flip(r.user_id, question.id, now) for r, now in flipped if r.state is AttemptState.FINISHED]
    _commit_batch(flips, question)
    return flips, time.perf_counter() - since


def _rescore(rows) -> dict[int, tuple[float, bool]]:
    """Recount the right answers of these finished papers, store score and pass: {attempt id: (score, passed)}."""
    if not rows:
        return {}
    right = dict(db.session.execute(
        select(Response.attempt_id, func.count().filter(Response.is_correct.is_(True)))
        .where(Response.attempt_id.in_([r.attempt_id for r in rows])).group_by(Response.attempt_id)
    ).all())
    changed, values = {}, []
    for r in rows:
        count = right.get(r.attempt_id, 0)
        score = round(100.0 * count / r.total, 1) if r.total else 0.0
        changed[r.attempt_id] = (score, score >= r.pass_mark)
        values.append({"row_id": r.attempt_id, "correct_count": count, "score": score, "passed": score >= r.pass_mark})
    db.session.execute(_SET_SCORE, values)
    return changed


def _org_rows(orgs: dict[str, list[int]]) -> list[list]:
    """The log's per-organisation counts, [[name, papers, members], ...] in tree order."""
    found = db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_([int(k) for k in orgs])).order_by(Organisation.path))
    return [[name, *orgs[str(org_id)]] for org_id, name in found]


def _practice_batch(correction_id: int, after: int, size: int) -> tuple[list[Flip], float] | None:
    """Regrade up to `size` practice answers with ids above `after`; the last batch marks the
    correction finished. Commits. None if another run already did it."""
    locked = _locked_log(correction_id, lambda p: p["papers_done"] and p["practice"] == after)
    if locked is None:
        return None
    correction, since = locked
    question = db.session.get(Question, correction.question_id, populate_existing=True)
    rows = db.session.execute(
        select(PracticeAnswer.id, PracticeAnswer.user_id, PracticeAnswer.answer, PracticeAnswer.is_correct)
        .where(PracticeAnswer.question_id == question.id, PracticeAnswer.id > after)
        .order_by(PracticeAnswer.id).limit(size)
    ).all()
    flipped = [(r, not r.is_correct) for r in rows if is_correct(question, r.answer) != r.is_correct]
    if flipped:
        db.session.execute(_SET_PRACTICE, [{"row_id": r.id, "is_correct": now} for r, now in flipped])
    if len(rows) < size:
        correction.finished_at, correction.progress = utcnow(), None
    else:
        correction.progress = {**correction.progress, "practice": rows[-1].id}
    flips = [Flip(r.user_id, question.id, now, practice=True) for r, now in flipped]
    _commit_batch(flips, question)
    return flips, time.perf_counter() - since


def _commit_batch(flips: list[Flip], question: Question) -> None:
    """End a batch: what it regraded, its tally moves, its counts and the mistake books of the members
    whose answers it flipped commit together."""
    if flips:
        db.session.flush()
        mistakes.reschedule_after_key_change(question.key, sorted({f.user_id for f in flips}), utcnow())
    db.session.commit()
