"""Item analysis: how each question of an assignment behaved, to catch wrong keys; and fixing a key,
which regrades every attempt that answered that question and records who did it."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Text, cast, func, select

from ..extensions import db
from ..models import (
    Assignment,
    Attempt,
    AttemptState,
    KeyCorrection,
    Organisation,
    PracticeAnswer,
    Question,
    QuestionKind,
    QuestionReport,
    ReportStatus,
    Response,
    User,
)
from . import ServiceError, tallies
from .bank_files import Bank, format_answer, read_question
from .grading import is_correct
from .orgs import Scope
from .question_bank import db_points, to_bank_question
from .quizzes import update_result
from .mastery import first_attempt_responses
from .reports import visible_roots

GROUP_SHARE = 0.27  # upper and lower groups for discrimination (Kelley)
LOW_FACILITY = 0.30
MIN_ANSWERS = 20


@dataclass
class ItemStats:
    question: Question
    answered: int = 0
    right: int = 0
    upper_right: float | None = None
    lower_right: float | None = None
    choices: Counter = field(default_factory=Counter)  # stored option index -> times chosen
    blank: int = 0
    open_reports: int = 0

    @property
    def facility(self) -> float | None:
        return round(self.right / self.answered, 2) if self.answered else None

    @property
    def discrimination(self) -> float | None:
        if self.upper_right is None or self.lower_right is None:
            return None
        return round(self.upper_right - self.lower_right, 2)

    @property
    def suspect(self) -> bool:
        """Very hard for everyone, or answered right more by weak members than strong ones: check the key."""
        if self.answered < MIN_ANSWERS:
            return False
        return (self.facility is not None and self.facility < LOW_FACILITY) or (
            self.discrimination is not None and self.discrimination < 0
        )

    def choice_share(self, index: int) -> float:
        return round(self.choices[index] / self.answered, 2) if self.answered else 0.0


def item_analysis(scope: Scope, assignment: Assignment) -> list[ItemStats]:
    """Facility, discrimination and option counts per question, over first attempts the viewer may see.

    All counting is SQL; Python sees one row per question (or per distinct answer) and one score per attempt.
    """
    roots = visible_roots(scope, assignment)
    if not roots:
        return []
    first = first_attempt_responses(assignment, roots)

    def base(*columns):
        return (
            select(*columns)
            .join(Attempt, Attempt.id == Response.attempt_id)
            .join(User, User.id == Attempt.user_id)
            .join(Organisation, Organisation.id == User.org_id)
            .where(*first)
        )

    right = func.count(Response.id).filter(Response.is_correct.is_(True))
    stats = {
        qid: ItemStats(question=db.session.get(Question, qid), answered=n, right=r)
        for qid, n, r in db.session.execute(base(Response.question_id, func.count(Response.id), right).group_by(Response.question_id))
    }
    lower, upper = _group_cuts(db.session.scalars(
        select(Attempt.score).join(User, User.id == Attempt.user_id).join(Organisation, Organisation.id == User.org_id)
        .where(*first)
    ).all())
    if lower is not None:
        for name, cond in (("lower_right", Attempt.score <= lower), ("upper_right", Attempt.score >= upper)):
            for qid, n, r in db.session.execute(
                base(Response.question_id, func.count(Response.id), right).where(cond).group_by(Response.question_id)
            ):
                setattr(stats[qid], name, r / n if n else None)
    answer_text = cast(Response.answer, Text)
    for qid, text, n in db.session.execute(
        base(Response.question_id, answer_text, func.count(Response.id)).group_by(Response.question_id, answer_text)
    ):
        _count_choices(stats[qid], json.loads(text) if text else [], n)
    _count_reports(stats)
    return sorted(stats.values(), key=lambda s: (not s.suspect, s.facility if s.facility is not None else 1.0))


def _group_cuts(scores: list[float | None]) -> tuple[float | None, float | None]:
    """Score at or below which an attempt is in the lower 27%, and at or above which in the upper 27%."""
    ordered = sorted(s or 0.0 for s in scores)
    cut = max(1, round(len(ordered) * GROUP_SHARE))
    if len(ordered) < 2 * cut or len(ordered) < 2:
        return None, None
    return ordered[cut - 1], ordered[-cut]


def _count_choices(item: ItemStats, answer: list, times: int) -> None:
    if not answer:
        item.blank += times
    elif item.question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        for index in answer:
            item.choices[int(index)] += times


def _count_reports(stats: dict[int, ItemStats]) -> None:
    keys = {s.question.key: s for s in stats.values()}
    counts = db.session.execute(
        select(Question.key, func.count(QuestionReport.id))
        .join(Question, Question.id == QuestionReport.question_id)
        .where(Question.key.in_(keys), QuestionReport.status == ReportStatus.OPEN)
        .group_by(Question.key)
    )
    for key, n in counts:
        keys[key].open_reports = n


def fix_key(question: Question, new_answer, reason: str, by: User) -> KeyCorrection:
    """Correct a wrong key on this revision in place, regrade every attempt and practice answer on it. Commits."""
    bq = to_bank_question(question)
    raw = {
        "id": bq.key, "type": bq.kind, "stem": bq.stem, "options": list(bq.options), "answer": new_answer,
        "explanation": bq.explanation, "article": bq.article, "point": bq.point, "difficulty": bq.difficulty,
        "version": bq.version,
    }
    scratch = Bank()
    fixed = read_question(raw, db_points(), "改正答案", scratch)
    if fixed is None:
        raise ServiceError("；".join(p.message for p in scratch.problems))
    new_json = [list(alts) for alts in fixed.answer] if fixed.kind == "fill" else list(fixed.answer)
    if new_json == question.answer:
        raise ServiceError("新答案与原答案相同")
    if not reason.strip():
        raise ServiceError("请说明改正的理由")
    correction = KeyCorrection(question_id=question.id, old_answer=question.answer, new_answer=new_json,
                               reason=reason.strip()[:300], by_id=by.id)
    question.answer = new_json
    db.session.flush()
    correction.attempts_regraded = _regrade(question)
    db.session.add(correction)
    db.session.commit()
    return correction


def _regrade(question: Question) -> int:
    attempt_ids = set()
    with tallies.recounted(Response.question_id == question.id):
        for response in db.session.scalars(select(Response).where(Response.question_id == question.id)):
            response.is_correct = is_correct(question, response.answer)
            attempt_ids.add(response.attempt_id)
    for answer in db.session.scalars(select(PracticeAnswer).where(PracticeAnswer.question_id == question.id)):
        answer.is_correct = is_correct(question, answer.answer)
    db.session.flush()
    regraded = 0
    for attempt in db.session.scalars(select(Attempt).where(Attempt.id.in_(attempt_ids), Attempt.state == AttemptState.FINISHED)):
        right = db.session.scalar(select(func.count()).select_from(Response).where(
            Response.attempt_id == attempt.id, Response.is_correct.is_(True)))
        attempt.correct_count = right
        attempt.score = round(100.0 * right / attempt.total, 1) if attempt.total else 0.0
        attempt.passed = attempt.score >= attempt.assignment.pass_mark
        update_result(attempt)
        regraded += 1
    return regraded


def shown_key(question: Question) -> str:
    """The key as people write it: B, ACD, 对, or the blanks."""
    return format_answer(to_bank_question(question))
