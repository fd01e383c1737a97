"""Correcting a wrong answer key: the one edit that changes papers members have handed in.

A correction changes the key of one revision in place and regrades every paper and practice answer
that holds it. It is previewed first (`plan_correction`: how many papers and members, in which
organisations, whose scores change and who passes or fails because of it), then applied and logged
(`correct_key`: who, when, why, the old and new key, the counts), and can be reverted (`revert`):
the old key comes back, everything is regraded again, and that is logged too.

Applying one commits the new key and the log row first, then regrades in short batches that lock
the papers they regrade (key_regrade.py: why hand-ins racing a correction are graded once, with the
new key, and counted once). A regrade cut short is finished by `resume`; until then the question
takes no other correction or revert.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from types import SimpleNamespace

from sqlalchemy import exists, func, select

from ...extensions import db
from ...models import (
    Attempt,
    AttemptState,
    KeyCorrection,
    Organisation,
    PracticeAnswer,
    Question,
    QuestionKind,
    Response,
    User,
)
from .. import FieldError, ServiceError
from . import key_regrade
from ..bank.files import Bank, format_answer, read_question
from .grading import is_correct
from ..bank.question_bank import db_points, to_bank_question

REASON_MAX = 300


@dataclass
class PaperChange:
    """One handed-in paper whose score the correction changes."""

    attempt: Attempt
    old_score: float
    new_score: float
    new_passed: bool

    @property
    def pass_changed(self) -> bool:
        return bool(self.attempt.passed) != self.new_passed


@dataclass
class OrgCount:
    """Papers and members of one organisation an exam was given to."""

    org: Organisation
    papers: int = 0
    members: set[int] = field(default_factory=set)


@dataclass
class Plan:
    """What a correction (or a revert) would change, worked out without changing anything."""

    question: Question
    old_answer: list
    new_answer: list
    papers: int = 0  # handed-in papers holding the question: all are regraded
    members: int = 0
    orgs: list[OrgCount] = field(default_factory=list)
    changes: list[PaperChange] = field(default_factory=list)  # the papers whose score changes
    practice: int = 0  # practice answers given to the question

    @property
    def pass_changes(self) -> list[PaperChange]:
        return [c for c in self.changes if c.pass_changed]


def parse_key(question: Question, raw: str) -> list:
    """The key as typed (B, ACD, 对, 一年|1年；十八) in canonical form for this question.

    :raise FieldError: ("answer") in Chinese, if it is not a valid key for the question, or the same as now.
    """
    raw = (raw or "").strip()
    if not raw:
        raise FieldError("answer", "请填写正确答案")
    bq = to_bank_question(question)
    answer: object = [part.strip() for part in raw.replace(";", "；").split("；")] if bq.kind == "fill" else raw
    fields = {
        "id": bq.key, "type": bq.kind, "stem": bq.stem, "options": list(bq.options), "answer": answer,
        "explanation": bq.explanation, "article": bq.article, "point": bq.point, "difficulty": bq.difficulty,
        "version": bq.version,
    }
    scratch = Bank()
    # The points of the question's own subject: point names are unique within a subject, not across them.
    fixed = read_question(fields, db_points(subject_id=question.point.subject_id), "改正答案", scratch,
                          require_explanation=False)
    if fixed is None:
        raise FieldError("answer", "；".join(p.message for p in scratch.problems))
    new = [list(alts) for alts in fixed.answer] if fixed.kind == "fill" else list(fixed.answer)
    if new == question.answer:
        raise FieldError("answer", "新答案与原答案相同")
    return new


def shown(question: Question, answer: list) -> str:
    """A key as people write it (B, ACD, 对, the blanks), for this question."""
    canonical = tuple(tuple(a) for a in answer) if question.kind is QuestionKind.FILL else tuple(answer)
    return format_answer(replace(to_bank_question(question), answer=canonical))


def plan_correction(question: Question, raw: str) -> Plan:
    """What correcting the question's key to `raw` would change. Changes nothing.

    :raise ServiceError: the key is not valid for the question, or unchanged, or the last correction's
        regrade is unfinished.
    """
    _check_finished(question)
    return _plan(question, parse_key(question, raw))


def _plan(question: Question, new_answer: list) -> Plan:
    graded = SimpleNamespace(kind=question.kind, answer=new_answer)
    plan = Plan(question=question, old_answer=list(question.answer), new_answer=new_answer)
    rows = db.session.execute(
        select(Response.answer, Response.is_correct, Attempt)
        .join(Attempt, Attempt.id == Response.attempt_id)
        .where(Response.question_id == question.id, Attempt.state == AttemptState.FINISHED)
    ).all()
    orgs: dict[int, OrgCount] = {}
    members: set[int] = set()
    for answer, was_right, attempt in rows:
        count = orgs.setdefault(attempt.assignment.org_id, OrgCount(attempt.assignment.org))
        count.papers += 1
        count.members.add(attempt.user_id)
        members.add(attempt.user_id)
        delta = int(is_correct(graded, answer)) - int(was_right)
        if delta and attempt.total:
            score = round(100.0 * (attempt.correct_count + delta) / attempt.total, 1)
            plan.changes.append(PaperChange(attempt, attempt.score or 0.0, score, score >= attempt.assignment.pass_mark))
    plan.papers, plan.members = len(rows), len(members)
    plan.orgs = sorted(orgs.values(), key=lambda o: o.org.path)
    plan.changes.sort(key=lambda c: (not c.pass_changed, c.attempt.user.org.path, c.attempt.user.name))
    plan.practice = db.session.scalar(
        select(func.count()).select_from(PracticeAnswer).where(PracticeAnswer.question_id == question.id)
    )
    return plan


def correct_key(question: Question, raw: str, reason: str, by: User) -> KeyCorrection:
    """Correct the key of this revision in place, log it, and regrade every paper and practice answer
    on it. Commits: the key and the log row first, then each batch of the regrade.

    The log row returned carries `flips` (not stored): the answers whose correctness the regrade
    flipped, [key_regrade.Flip], for the members' mistake books.

    :raise ServiceError: in Chinese; nothing is changed.
    """
    reason = _reason(reason, "请说明改正的理由")
    with _released_on_error():
        question = _locked(question)
        new_answer = parse_key(question, raw)
    return _apply(question, new_answer, reason, by, reverts=None)


def revert(correction: KeyCorrection, reason: str, by: User) -> KeyCorrection:
    """Put back the key a correction replaced, regrade again, and log the revert. Commits as correct_key.

    :raise ServiceError: the correction is a revert itself, was reverted already, or a later correction
        changed the key since, or its regrade is unfinished.
    """
    reason = _reason(reason, "请说明撤销的理由")
    with _released_on_error():
        question = _locked(correction.question)
        check_revertible(correction)
    return _apply(question, list(correction.old_answer), reason, by, reverts=correction)


def resume(correction: KeyCorrection) -> KeyCorrection:
    """Finish a regrade cut short (a crash, a restart) from where it got to. Commits each batch. If the
    regrade is in fact still running elsewhere, the two take turns batch by batch; if it is finished,
    nothing happens."""
    correction.flips = key_regrade.run(correction.id)
    return correction


def revert_plan(correction: KeyCorrection) -> Plan:
    """What reverting the correction would change. Changes nothing.

    :raise ServiceError: the correction cannot be reverted (see `revert`).
    """
    check_revertible(correction)
    return _plan(correction.question, list(correction.old_answer))


def check_revertible(correction: KeyCorrection) -> None:
    """:raise ServiceError: why this correction cannot be reverted."""
    if correction.reverts_id is not None:
        raise ServiceError("这是一次撤销记录，不能再撤销；如需再改，请重新改正答案")
    if db.session.scalar(select(exists().where(KeyCorrection.reverts_id == correction.id))):
        raise ServiceError("这次改正已经撤销过了")
    if correction.question.answer != correction.new_answer:
        raise ServiceError("此后答案又改动过，请先撤销后来的改正")
    _check_finished(correction.question)


def _check_finished(question: Question) -> None:
    """:raise ServiceError: a correction of this question is still regrading (or was cut short)."""
    if db.session.scalar(select(exists().where(
        KeyCorrection.question_id == question.id, KeyCorrection.finished_at.is_(None)
    ))):
        raise ServiceError("这道题上一次改正答案后的重新评分尚未完成：请稍后再试；如果重新评分已中断（如服务器重启），"
                           "请在题目页面的答案改正记录中点「继续重新评分」")


def _reason(reason: str, missing: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise FieldError("reason", missing)
    return reason[:REASON_MAX]


def _locked(question: Question) -> Question:
    """Re-read the question with a row lock: of two corrections of one key started together, the second
    finds the key changed, or the first's regrade under way (and is refused)."""
    return db.session.scalars(
        select(Question).where(Question.id == question.id).with_for_update().execution_options(populate_existing=True)
    ).one()


@contextmanager
def _released_on_error() -> Iterator[None]:
    """On a refusal, end the transaction at once: the question's lock (SQLite's write lock) goes with it."""
    try:
        yield
    except ServiceError:
        db.session.rollback()
        raise


def _apply(question: Question, new_answer: list, reason: str, by: User, reverts: KeyCorrection | None) -> KeyCorrection:
    """Change the key and log it (one commit), then regrade (key_regrade.run); the counts fill in as it goes."""
    with _released_on_error():
        _check_finished(question)
    correction = KeyCorrection(
        question_id=question.id, old_answer=list(question.answer), new_answer=new_answer, reason=reason, by_id=by.id,
        reverts_id=reverts.id if reverts else None, orgs=[], progress=key_regrade.new_progress(),
    )
    question.answer = new_answer
    db.session.add(correction)
    db.session.commit()
    correction.flips = key_regrade.run(correction.id)
    return correction


def corrections_of(key: str) -> list[KeyCorrection]:
    """Every correction and revert of any revision of a question, newest first."""
    return list(db.session.scalars(
        select(KeyCorrection).join(Question, Question.id == KeyCorrection.question_id)
        .where(Question.key == key).order_by(KeyCorrection.created_at.desc(), KeyCorrection.id.desc())
    ))


def reverted_ids(corrections: list[KeyCorrection]) -> set[int]:
    """The ids among `corrections` that a later revert undid."""
    return {c.reverts_id for c in corrections if c.reverts_id is not None}

