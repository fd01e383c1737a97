"""Papers and attempts: who is given what, starting an attempt with its own paper, reading it back.

The paper (questions in the member's order, each question's options shuffled) and the deadline are
stored on the attempt, on the server; the page only ever names positions and shown option indexes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ....extensions import db
from ....models import (
    Assignment,
    Attempt,
    AttemptState,
    KnowledgePoint,
    Material,
    MemberResult,
    Organisation,
    Question,
    QuestionKind,
    Reading,
    Response,
    ShowAnswers,
    Subject,
    User,
    utcnow,
)
from ... import ServiceError
from ...bank.access import usable_in
from ...bank.subjects import usable_by as subjects_usable_by
from ...orgs import ancestor_ids

KIND_ORDER = [QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TRUEFALSE, QuestionKind.FILL]


class QuizError(ServiceError):
    pass


class AttemptClosed(QuizError):
    pass


@dataclass
class PaperItem:
    """A question as this member sees it: options in their shuffled order, their saved answer."""

    position: int
    question: Question
    options: list[str]  # in shown order
    answer: list | None  # in shown form: shown option indexes, [True/False], or blank texts
    seq: int
    is_correct: bool = False
    right: list | None = None  # the right answer in shown form (first accepted spelling per blank)


def assignments_for(user: User) -> list[Assignment]:
    """Assignments given to the member's organisation or any organisation above it, newest first
    (withdrawn ones are gone)."""
    return list(
        db.session.scalars(
            select(Assignment)
            .where(Assignment.org_id.in_(ancestor_ids(user.org)), Assignment.withdrawn_at.is_(None))
            .order_by(Assignment.closes_at.desc(), Assignment.id.desc())
        )
    )


def is_assigned(assignment: Assignment, user: User) -> bool:
    """True if the assignment was given to the member's organisation or one above it, and not withdrawn."""
    return assignment.withdrawn_at is None and assignment.org_id in ancestor_ids(user.org)


def result_of(assignment: Assignment, user: User) -> MemberResult | None:
    return db.session.get(MemberResult, (assignment.id, user.id))


def open_attempt(assignment: Assignment, user: User) -> Attempt | None:
    """The member's attempt in progress on this assignment, if any."""
    return db.session.scalar(
        select(Attempt).where(
            Attempt.assignment_id == assignment.id,
            Attempt.user_id == user.id,
            Attempt.state == AttemptState.IN_PROGRESS,
        )
    )


def attempts_of(assignment: Assignment, user: User) -> list[Attempt]:
    return list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.assignment_id == assignment.id, Attempt.user_id == user.id)
            .order_by(Attempt.number)
        )
    )


def start_attempt(assignment: Assignment, user: User, now: datetime | None = None, rng: random.Random | None = None,
                  _again: bool = True) -> Attempt:
    """Return the member's attempt in progress, or start a new one with its own paper. Commits."""
    now = now or utcnow()
    if not is_assigned(assignment, user):
        raise QuizError("这项任务没有布置给你")
    existing = open_attempt(assignment, user)
    if existing is not None:
        return existing
    if not assignment.has_quiz:
        raise QuizError("这项任务没有测验题")
    if now < assignment.opens_at:
        raise QuizError("测验还没有开始")
    if now >= assignment.closes_at:
        raise QuizError("测验已经截止")
    if unread := unread_materials(assignment, user):
        raise QuizError(f"请先学完本任务的学习资料，再开始答题（还有 {len(unread)} 篇未学完）")
    done = len(attempts_of(assignment, user))
    if assignment.max_attempts and done >= assignment.max_attempts:
        raise QuizError(f"已用完 {assignment.max_attempts} 次作答机会")
    deadline = assignment.closes_at
    if assignment.time_limit_minutes:
        deadline = min(deadline, now + timedelta(minutes=assignment.time_limit_minutes))
    attempt = Attempt(
        assignment=assignment, user=user, number=done + 1, started_at=now, deadline=deadline,
    )
    rng = rng or random.SystemRandom()
    attempt.paper = build_paper(draw_questions(assignment, rng), rng)
    attempt.total = len(attempt.paper)
    if not attempt.paper:
        raise QuizError("题库中没有符合抽题规则的题目，请联系组织员")
    db.session.add(attempt)
    try:
        db.session.commit()
    except IntegrityError:
        # Two taps on "start" at once: the other request created it. Or a 代录 took that attempt
        # number meanwhile: start again, counting it (the attempts may now be used up).
        db.session.rollback()
        existing = open_attempt(assignment, user)
        if existing is not None:
            return existing
        if not _again:
            raise
        return start_attempt(assignment, user, now, rng, _again=False)
    return attempt


def unread_materials(assignment: Assignment, user: User) -> list[Material]:
    """The materials a "read, then quiz" assignment still wants the member to finish reading before the quiz
    (none for any other assignment)."""
    if not assignment.read_first or not assignment.materials:
        return []
    done = set(db.session.scalars(select(Reading.material_id).where(
        Reading.user_id == user.id, Reading.material_id.in_([m.id for m in assignment.materials]),
        Reading.completed_at.is_not(None))))
    return [m for m in assignment.materials if m.id not in done]


def draw_questions(assignment: Assignment, rng: random.Random) -> list[Question]:
    """The assignment's fixed paper, or a paper drawn for one member by its rules (no question twice)."""
    if not assignment.draw_rules:
        return [aq.question for aq in assignment.questions]
    return draw_by_rules(assignment.draw_rules, rng, assignment.org)


def draw_by_rules(rules: list[dict], rng: random.Random, org: Organisation) -> list[Question]:
    """Draw questions for a paper given to `org` by rules, skipping any a previous rule already drew."""
    chosen: dict[str, Question] = {}
    for rule in rules:
        pool = [q for q in rule_pool(rule, org) if q.key not in chosen]
        for q in rng.sample(pool, min(int(rule["count"]), len(pool))):
            chosen[q.key] = q
    return list(chosen.values())


def rule_pool(rule: dict, org: Organisation) -> list[Question]:
    """Current, unretired questions a draw rule picks from for a paper given to `org` (or a member of
    it): a whole subject ({"subject_id": id}), a part, an article or a knowledge point; built-in or owned by
    `org` or an organisation above it, in a subject `org` may use."""
    stmt = (
        select(Question)
        .join(KnowledgePoint, KnowledgePoint.id == Question.point_id)
        .join(Subject, Subject.id == KnowledgePoint.subject_id)
        .where(Question.is_current.is_(True), Question.retired.is_(False), Question.point_id.in_(rule_point_ids(rule)),
               usable_in(org), subjects_usable_by(org))
        .order_by(Question.key)
    )
    if rule.get("difficulty"):
        stmt = stmt.where(Question.difficulty == int(rule["difficulty"]))
    return list(db.session.scalars(stmt))


def rule_point_ids(rule: dict):
    """The knowledge-point nodes a draw rule covers: a subject's every node (SQL), or a node and those beneath it."""
    if rule.get("subject_id"):
        return select(KnowledgePoint.id).where(KnowledgePoint.subject_id == int(rule["subject_id"]))
    return _point_ids_under(int(rule.get("point_id") or rule.get("part_id")))


def _point_ids_under(node_id: int) -> list[int]:
    """The node itself and every knowledge-point node beneath it (three levels for the 党章, two for an
    organisation's subject)."""
    ids, frontier = [node_id], [node_id]
    while frontier:
        frontier = list(db.session.scalars(select(KnowledgePoint.id).where(KnowledgePoint.parent_id.in_(frontier))))
        ids.extend(frontier)
    return ids


def build_paper(questions: list[Question], rng: random.Random) -> list[dict]:
    """Order questions by kind, shuffle within each kind, and shuffle each question's options."""
    by_kind = {kind: [q for q in questions if q.kind is kind] for kind in KIND_ORDER}
    paper = []
    for kind in KIND_ORDER:
        group = by_kind[kind]
        rng.shuffle(group)
        for q in group:
            perm = list(range(len(q.options)))
            rng.shuffle(perm)
            paper.append({"q": q.id, "perm": perm})
    return paper


def _questions_of(attempt: Attempt) -> dict[int, Question]:
    """The paper's questions, read afresh: grading uses the key as it is now, even if this session
    loaded a question before a key correction committed."""
    ids = [entry["q"] for entry in attempt.paper]
    return {q.id: q for q in db.session.scalars(
        select(Question).where(Question.id.in_(ids)).execution_options(populate_existing=True))}


def paper_items(attempt: Attempt) -> list[PaperItem]:
    """The attempt's questions in the member's order, with saved answers shown in that order."""
    questions = _questions_of(attempt)
    responses = {
        r.question_id: r for r in db.session.scalars(select(Response).where(Response.attempt_id == attempt.id))
    }
    items = []
    for position, entry in enumerate(attempt.paper, start=1):
        q = questions[entry["q"]]
        perm = entry["perm"]
        saved = responses.get(q.id)
        shown = None
        if saved is not None:
            shown = _to_shown(q, perm, saved.answer)
        right = [alts[0] for alts in q.answer] if q.kind is QuestionKind.FILL else _to_shown(q, perm, q.answer)
        items.append(
            PaperItem(
                position, q, [q.options[i] for i in perm], shown, saved.seq if saved else 0,
                is_correct=bool(saved and saved.is_correct), right=right,
            )
        )
    return items


def _to_shown(question: Question, perm: list[int], answer: list) -> list:
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return sorted(perm.index(i) for i in answer)
    return list(answer)


def decode_answer(question: Question, perm: list[int], raw) -> list:
    """Turn what the page sent (shown option indexes, 'true'/'false', blank texts) into canonical form.

    Raises QuizError for anything malformed; an empty list means "no answer".
    """
    values = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
    try:
        if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            shown = sorted({int(v) for v in values})
            if any(not 0 <= s < len(perm) for s in shown):
                raise ValueError
            if question.kind is QuestionKind.SINGLE and len(shown) > 1:
                raise ValueError
            return sorted(perm[s] for s in shown)
        if question.kind is QuestionKind.TRUEFALSE:
            if not values:
                return []
            if len(values) != 1 or str(values[0]).lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return [str(values[0]).lower() in ("true", "1")]
        texts = [str(v).strip()[:200] for v in values]
        if len(texts) > len(question.answer):
            raise ValueError
        return texts if any(texts) else []
    except (TypeError, ValueError):
        raise QuizError("答案格式不正确") from None


def _lock(attempt: Attempt) -> Attempt:
    """Re-read the attempt with a row lock, so saves and the submit of one attempt run one at a time."""
    return db.session.scalars(
        select(Attempt).where(Attempt.id == attempt.id).with_for_update().execution_options(populate_existing=True)
    ).one()


class NotYourAttempt(QuizError):
    """No such attempt, or another member's: the page answers 404."""


class SessionEnded(QuizError):
    """The session's version is stale or the account is disabled: treated as signed out."""


class PasswordChangeRequired(QuizError):
    """The member must change the first password before doing anything else."""


def answers_visible(attempt: Attempt, now: datetime | None = None) -> bool:
    """Whether the member may see the right answers and explanations for a finished attempt."""
    if not attempt.is_finished:
        return False
    if attempt.assignment.show_answers is ShowAnswers.AFTER_CLOSE:
        return (now or utcnow()) >= attempt.assignment.closes_at
    return True


def seconds_left(attempt: Attempt, now: datetime | None = None) -> int | None:
    """Seconds until the attempt's deadline, as the server counts them (None: no deadline)."""
    if attempt.deadline is None:
        return None
    return max(0, int((attempt.deadline - (now or utcnow())).total_seconds()))
