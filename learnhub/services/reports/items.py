"""Item analysis: how each question of an assignment behaved, to catch wrong keys (corrected in
services/exam/key_corrections.py)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Text, case, cast, func, literal, select

from ...extensions import db
from ...models import (
    Assignment,
    Attempt,
    Organisation,
    Question,
    QuestionKind,
    QuestionReport,
    ReportStatus,
    Response,
    User,
)
from ..bank.files import format_answer
from .mastery import first_attempt_responses
from ..orgs import Scope
from ..bank.question_bank import to_bank_question
from .completion import visible_roots

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

    All counting is SQL, in one pass over the responses: Python sees one row per question, distinct
    answer and group (lower, upper), and one score per attempt.
    """
    roots = visible_roots(scope, assignment)
    if not roots:
        return []
    first = first_attempt_responses(assignment, roots)
    lower, upper = _group_cuts(db.session.scalars(
        select(Attempt.score).join(User, User.id == Attempt.user_id).join(Organisation, Organisation.id == User.org_id)
        .where(*first)
    ).all())
    # An attempt may be in both groups (ties at the cuts), so two flags rather than one band.
    in_lower = case((Attempt.score <= lower, 1), else_=0) if lower is not None else literal(0)
    in_upper = case((Attempt.score >= upper, 1), else_=0) if upper is not None else literal(0)
    answer_text = cast(Response.answer, Text)
    stmt = (
        select(Response.question_id, answer_text, Response.is_correct, in_lower, in_upper, func.count(Response.id))
        .join(Attempt, Attempt.id == Response.attempt_id)
        .join(User, User.id == Attempt.user_id)
        .join(Organisation, Organisation.id == User.org_id)
        .where(*first)
        .group_by(Response.question_id, answer_text, Response.is_correct, in_lower, in_upper)
    )
    stats: dict[int, ItemStats] = {}
    groups: dict[tuple[int, str], list[int]] = {}  # (question, "lower" | "upper") -> [answered, right]
    for qid, text, correct, low, high, n in db.session.execute(stmt):
        item = stats.get(qid)
        if item is None:
            item = stats[qid] = ItemStats(question=db.session.get(Question, qid))
        item.answered += n
        item.right += n if correct else 0
        for name, member in (("lower", low), ("upper", high)):
            if member:
                counts = groups.setdefault((qid, name), [0, 0])
                counts[0] += n
                counts[1] += n if correct else 0
        _count_choices(item, json.loads(text) if text else [], n)
    for (qid, name), (n, r) in groups.items():
        setattr(stats[qid], f"{name}_right", r / n)
    _count_reports(scope, stats)
    return sorted(stats.values(), key=lambda s: (not s.suspect, s.facility if s.facility is not None else 1.0, s.question.key))


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


def _count_reports(scope: Scope, stats: dict[int, ItemStats]) -> None:
    """Open 题目有误 reports per question, filed by members in the viewer's scope only."""
    keys = {s.question.key: s for s in stats.values()}
    counts = db.session.execute(
        select(Question.key, func.count(QuestionReport.id))
        .join(Question, Question.id == QuestionReport.question_id)
        .join(User, User.id == QuestionReport.user_id)
        .join(Organisation, Organisation.id == User.org_id)
        .where(Question.key.in_(keys), QuestionReport.status == ReportStatus.OPEN, scope.org_clause())
        .group_by(Question.key)
    )
    for key, n in counts:
        keys[key].open_reports = n


def shown_key(question: Question) -> str:
    """The key as people write it: B, ACD, 对, or the blanks."""
    return format_answer(to_bank_question(question))
