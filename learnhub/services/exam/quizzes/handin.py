"""Handing in and grading: a submit that arrives twice, or from two tabs, finishes the attempt once;
the overdue job closes what the clock has ended, with what was saved."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, tuple_, update

from ....extensions import db
from ....models import Assignment, Attempt, AttemptState, MemberResult, Question, Response, Scoring, ShowAnswers, utcnow
from ...study import mistakes
from ...reports import tallies
from ..grading import is_correct
from .papers import QuizError, _lock, _questions_of, attempts_of, decode_answer
from .saving import _hand_in_response, _response

def submit_attempt(
    attempt: Attempt,
    answers: dict[int, object] | None,
    grace_seconds: int,
    now: datetime | None = None,
    seqs: dict[int, int] | None = None,
) -> tuple[Attempt, str | None]:
    """Store the answers sent with the submit (the whole paper, or answers left on a phone), then
    finish and grade. Commits.

    Each answer goes through the saves' "newer wins" rule with the seq it had on the page (`seqs`;
    none: 0, as on a page that never saved): an answer another page (or phone) stored since this page
    showed it is kept, and a blank never replaces a stored answer. An equal seq is the page's own
    answer, changed without a save (a form posted without JavaScript), and is written.

    Returns the attempt and a notice for the member naming the questions whose answer on the paper
    was not counted: it came after the deadline and its grace, after the paper was already handed in,
    or another page had stored a newer one. A second submit returns the first result.
    """
    now = now or utcnow()
    attempt = _lock(attempt)
    late = attempt.deadline is not None and now > attempt.deadline + timedelta(seconds=grace_seconds)
    if attempt.is_finished:
        return attempt, _uncounted_notice(attempt, answers, "late" if late else "finished")
    if answers and not late:
        final = attempt.assignment.show_answers is ShowAnswers.IMMEDIATE
        for position, raw in answers.items():
            if 1 <= position <= len(attempt.paper):
                entry = attempt.paper[position - 1]
                question = db.session.get(Question, entry["q"])
                if final and _response(attempt.id, question.id) is not None:
                    continue  # in immediate mode an answer, once given and shown its key, is final
                try:
                    answer = decode_answer(question, entry["perm"], raw)
                except QuizError:
                    continue
                if answer:
                    _hand_in_response(attempt.id, question, answer, (seqs or {}).get(position, 0), now)
    _finish(attempt, min(now, attempt.deadline) if late and attempt.deadline else now)
    notice = _uncounted_notice(attempt, answers, "late" if late else "newer")
    db.session.commit()
    return attempt, notice


def _uncounted_notice(attempt: Attempt, answers: dict[int, object] | None, why: str) -> str | None:
    """Name the positions whose answer sent with a hand-in differs from the one graded (None: all counted).

    `why`: "late" (after the deadline and its grace), "finished" (handed in before), "newer" (another
    page stored a newer answer). A blank sent is not named: it never replaces an answer."""
    graded = {r.question_id: r.answer for r in db.session.scalars(select(Response).where(Response.attempt_id == attempt.id))}
    missed = []
    for position, raw in sorted((answers or {}).items()):
        if 1 <= position <= len(attempt.paper):
            entry = attempt.paper[position - 1]
            try:
                answer = decode_answer(db.session.get(Question, entry["q"]), entry["perm"], raw)
            except QuizError:
                continue
            if answer and answer != graded.get(entry["q"], []):
                missed.append(str(position))
    if not missed:
        return None
    where = "第 " + "、".join(missed) + " 题的答案"
    if why == "late":
        return f"交卷时已超过答题截止时间：{where}在截止后才送达，未计分"
    if why == "finished":
        return f"这份试卷此前已经交卷：{where}未计入"
    return f"{where}在另一页面（或另一部手机）上有更新的作答，已按更新的答案计分"


def _finish(attempt: Attempt, when: datetime) -> bool:
    """Mark the attempt finished exactly once, grade it and update the member's result."""
    done = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.state == AttemptState.IN_PROGRESS)
        .values(state=AttemptState.FINISHED, finished_at=when)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(attempt)
    if done != 1:
        return False
    _grade(attempt)
    tallies.record_attempt(attempt)
    update_result(attempt)
    return True


def _grade(attempt: Attempt) -> None:
    questions = _questions_of(attempt)
    responses = list(db.session.scalars(select(Response).where(Response.attempt_id == attempt.id)))
    # Every question on a finished paper gets a row, unanswered ones as wrong: reports then count in SQL.
    answered = {r.question_id for r in responses}
    for qid in questions.keys() - answered:
        blank = Response(attempt_id=attempt.id, question_id=qid, answer=[], is_correct=False, seq=0,
                         saved_at=attempt.finished_at)
        db.session.add(blank)
        responses.append(blank)
    correct = 0
    for r in responses:
        r.is_correct = is_correct(questions[r.question_id], r.answer)
        correct += r.is_correct
    attempt.correct_count = correct
    attempt.total = len(attempt.paper)
    right = {r.question_id for r in responses if r.is_correct}
    mistakes.record_mistakes(attempt.user_id, [q for qid, q in questions.items() if qid not in right], attempt.finished_at)
    attempt.score = round(100.0 * correct / attempt.total, 1) if attempt.total else 0.0
    attempt.passed = attempt.score >= attempt.assignment.pass_mark


def update_result(attempt: Attempt) -> None:
    """Recompute the member's standing on the assignment from their finished attempts (does not commit)."""
    assignment = attempt.assignment
    finished = [a for a in attempts_of(assignment, attempt.user) if a.is_finished]
    counted = _counted(assignment.scoring, finished)
    result = db.session.get(MemberResult, (assignment.id, attempt.user_id))
    if result is None:
        result = MemberResult(assignment_id=assignment.id, user_id=attempt.user_id)
        db.session.add(result)
    result.attempts = len(finished)
    result.score = counted.score
    result.passed = bool(counted.passed)
    result.counted_attempt_id = counted.id
    result.finished_at = counted.finished_at


def update_results(pairs: set[tuple[int, int]]) -> None:
    """update_result for many (assignment id, member id) pairs at once, in a few statements and no ORM
    objects (a key correction regrades hundreds of papers per batch). Does not commit."""
    if not pairs:
        return
    finished: dict[tuple[int, int], list] = {}
    for a in db.session.execute(
        select(Attempt.id, Attempt.assignment_id, Attempt.user_id, Attempt.number, Attempt.score, Attempt.passed,
               Attempt.finished_at)
        .where(tuple_(Attempt.assignment_id, Attempt.user_id).in_(sorted(pairs)), Attempt.state == AttemptState.FINISHED)
    ):
        finished.setdefault((a.assignment_id, a.user_id), []).append(a)
    scoring = dict(db.session.execute(
        select(Assignment.id, Assignment.scoring).where(Assignment.id.in_({p[0] for p in finished}))).all())
    stored = set(db.session.execute(select(MemberResult.assignment_id, MemberResult.user_id).where(
        tuple_(MemberResult.assignment_id, MemberResult.user_id).in_(sorted(finished)))).all())
    rows = []
    for (assignment_id, user_id), attempts in sorted(finished.items()):
        counted = _counted(scoring[assignment_id], attempts)
        rows.append(dict(assignment_id=assignment_id, user_id=user_id, attempts=len(attempts), score=counted.score,
                         passed=bool(counted.passed), counted_attempt_id=counted.id, finished_at=counted.finished_at))
    if changed := [r for r in rows if (r["assignment_id"], r["user_id"]) in stored]:
        db.session.execute(_SET_RESULT, [{**r, "a_id": r["assignment_id"], "u_id": r["user_id"]} for r in changed])
    if new := [r for r in rows if (r["assignment_id"], r["user_id"]) not in stored]:
        db.session.execute(insert(MemberResult.__table__), new)


_RESULT = MemberResult.__table__
# Core, for many rows at once (executemany): the ORM's bulk update costs milliseconds per statement.
_SET_RESULT = update(_RESULT).where(_RESULT.c.assignment_id == bindparam("a_id"), _RESULT.c.user_id == bindparam("u_id")).values(
    {c: bindparam(c) for c in ("attempts", "score", "passed", "counted_attempt_id", "finished_at")})


def _counted(scoring: Scoring, finished: list):
    """The finished attempt (or row) that stands for the member: the latest, or the best (earliest of equals)."""
    if scoring is Scoring.LATEST:
        return max(finished, key=lambda a: a.number)
    return max(finished, key=lambda a: (a.score or 0, -a.number))


def close_if_overdue(attempt: Attempt, grace_seconds: int, now: datetime | None = None) -> bool:
    """Finish and grade an attempt whose deadline and grace have passed, with what was saved. Commits."""
    now = now or utcnow()
    if attempt.is_finished or attempt.deadline is None:
        return False
    if now <= attempt.deadline + timedelta(seconds=grace_seconds):
        return False
    attempt = _lock(attempt)
    closed = _finish(attempt, attempt.deadline)
    db.session.commit()
    return closed


def close_overdue(grace_seconds: int, now: datetime | None = None) -> int:
    """Close every attempt whose deadline and grace have passed; return how many. Commits each."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=grace_seconds)
    ids = db.session.scalars(
        select(Attempt.id).where(Attempt.state == AttemptState.IN_PROGRESS, Attempt.deadline < cutoff)
    ).all()
    db.session.rollback()
    return sum(close_if_overdue(db.session.get(Attempt, i), grace_seconds, now) for i in ids)
