"""Creating study tasks and exams for an organisation subtree."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import distinct, exists, func, select, union, update

from ...extensions import db
from ...models import (
    Assignment,
    AssignmentKind,
    AssignmentQuestion,
    Attempt,
    KnowledgePoint,
    Material,
    MemberResult,
    Organisation,
    Scoring,
    ShowAnswers,
    Subject,
    User,
    utcnow,
)
from .. import ServiceError
from ..bank import subjects
from ..bank.access import node_visible
from ..bank.places import subject_label
from ..orgs import Scope
from ..study import material_access
from .quizzes import draw_by_rules, rule_pool


@dataclass
class DrawRule:
    """N questions from a whole subject, a part (总纲, a chapter, an organisation's part), an article or a
    knowledge point; optionally of one difficulty."""

    node: KnowledgePoint | None  # None: the whole of `subject`
    count: int
    difficulty: int | None = None
    subject: Subject | None = None  # a whole subject, when `node` is None

    @property
    def name(self) -> str:
        return f"{subject_label(self.subject)}（全部）" if self.node is None else self.node.name

    @property
    def covers(self) -> Subject:
        """The subject the rule draws from."""
        return self.subject if self.node is None else (self.node.subject or db.session.get(Subject, self.node.subject_id))

    def as_json(self) -> dict:
        if self.node is None:
            return {"subject_id": self.subject.id, "count": self.count, "difficulty": self.difficulty}
        return {"part_id": self.node.id, "count": self.count, "difficulty": self.difficulty}


@dataclass
class AssignmentData:
    title: str
    kind: AssignmentKind
    org: Organisation
    opens_at: datetime
    closes_at: datetime
    pass_mark: int = 60
    time_limit_minutes: int | None = None
    max_attempts: int = 1
    scoring: Scoring = Scoring.HIGHEST
    show_answers: ShowAnswers = ShowAnswers.AFTER_SUBMIT
    materials: list[Material] = field(default_factory=list)
    rules: list[DrawRule] = field(default_factory=list)
    per_member: bool = True  # draw each member's own paper; otherwise one paper drawn now for everyone
    read_first: bool = False  # "read these materials, then take this quiz" (with materials and a quiz only)


def create_assignment(scope: Scope, data: AssignmentData, by: User, rng: random.Random | None = None) -> Assignment:
    """Give a study task or exam to an organisation's subtree. Commits."""
    problems = _problems(scope, data)
    if problems:
        raise ServiceError("；".join(problems))
    assignment = Assignment(
        title=data.title.strip(), kind=data.kind, org=data.org, created_by_id=by.id, opens_at=data.opens_at,
        closes_at=data.closes_at, pass_mark=data.pass_mark, time_limit_minutes=data.time_limit_minutes or None,
        max_attempts=data.max_attempts, scoring=data.scoring, show_answers=data.show_answers,
        read_first=bool(data.read_first and data.materials and data.rules),
    )
    assignment.materials = list(data.materials)
    rules = [r.as_json() for r in data.rules]
    if data.per_member:
        assignment.draw_rules = rules
    else:
        drawn = draw_by_rules(rules, rng or random.SystemRandom(), data.org)
        assignment.questions = [AssignmentQuestion(question=q, position=i) for i, q in enumerate(drawn)]
    db.session.add(assignment)
    db.session.commit()
    return assignment


def _problems(scope: Scope, data: AssignmentData) -> list[str]:
    problems = []
    if not data.title.strip():
        problems.append("请填写任务名称")
    if not scope.covers(data.org):
        problems.append("只能给你管理范围内的组织布置任务")
    elif not data.org.active:
        problems.append(f"「{data.org.name}」已停用，不能布置任务")
    if data.closes_at <= data.opens_at:
        problems.append("截止时间应晚于开始时间")
    if not 0 <= data.pass_mark <= 100:
        problems.append("合格分应在 0 到 100 之间")
    if data.kind is AssignmentKind.EXAM and not data.rules:
        problems.append("考试至少需要一条抽题规则")
    if not data.rules and not data.materials:
        problems.append("学习任务至少需要一篇学习资料或一条抽题规则")
    for material in data.materials:
        if material.retired_at is not None or not material_access.is_usable_by(material, data.org):
            problems.append(f"「{data.org.name}」的党员看不到资料《{material.title}》（已停用，或属于其他组织）")
    for rule in data.rules:
        if (problem := _rule_scope_problem(scope, rule, data.org)) is not None:
            problems.append(problem)
        elif not 1 <= rule.count <= 100:
            problems.append(f"「{rule.name}」的题数应在 1 到 100 之间")
        elif (available := len(rule_pool(rule.as_json(), data.org))) < rule.count:
            level = f"难度 {rule.difficulty} 的题" if rule.difficulty else "题"
            problems.append(f"「{rule.name}」只有 {available} 道{level}，不够抽 {rule.count} 道")
    return problems


def _rule_scope_problem(scope: Scope, rule: DrawRule, org: Organisation) -> str | None:
    """Why a rule may not be drawn for `org`: its subject or node does not exist for the organiser (named
    by nothing), or the subject is retired or not one `org`'s members may use."""
    subject = rule.covers
    if subject is None or not _sees(scope, subject, rule.node):
        return "抽题规则选择的范围不存在，请重新选择"
    if subject.retired_at is not None:
        return f"科目「{subject_label(subject)}」已停用，不能再抽题"
    if db.session.scalar(select(Subject.id).where(Subject.id == subject.id, subjects.usable_by(org))) is None:
        return f"科目「{subject_label(subject)}」只供{subject.owner.name}及其下属组织使用，不能布置给「{org.name}」"
    return None


def _sees(scope: Scope, subject: Subject, node: KnowledgePoint | None) -> bool:
    """True if the subject (and the node, if any) exist for the viewer."""
    if db.session.scalar(select(Subject.id).where(Subject.id == subject.id, subjects.visible_clause(scope))) is None:
        return False
    return node is None or db.session.scalar(
        select(KnowledgePoint.id).where(KnowledgePoint.id == node.id, node_visible(scope))) is not None


def may_withdraw(scope: Scope, assignment: Assignment, user: User) -> bool:
    """Whether the viewer has the authority to withdraw it: its creator, still in charge of the organisation
    it was given to, or a system admin. (Whether anyone has started it is `started_count`.)"""
    if assignment.withdrawn_at is not None:
        return False
    return scope.is_admin or (assignment.created_by_id == user.id and scope.covers(assignment.org))


def _started():
    """SQL: ids of members who have started or finished an assignment (an attempt, or a result such as a
    completed reading task or a score entered by their secretary)."""
    return union(select(Attempt.user_id, Attempt.assignment_id), select(MemberResult.user_id, MemberResult.assignment_id))


def started_count(assignment: Assignment) -> int:
    """Members who have started it, finished it or have a result on it."""
    started = _started().subquery()
    return db.session.scalar(
        select(func.count(distinct(started.c.user_id))).where(started.c.assignment_id == assignment.id)
    ) or 0


def withdraw_assignment(scope: Scope, assignment: Assignment, by: User, now: datetime | None = None) -> None:
    """Withdraw an assignment nobody has started: it leaves every task list and report. Commits.

    :raise ServiceError: the viewer may not withdraw it, or someone has started it (even a moment ago).
    """
    if not may_withdraw(scope, assignment, by):
        raise ServiceError("只有布置这项任务的人可以撤回它")
    # FOR UPDATE waits for (and then sees) a member's attempt being inserted right now: inserting one takes
    # a key-share lock on this row for its foreign key. (SQLite: one writer at a time anyway.)
    db.session.execute(select(Assignment.id).where(Assignment.id == assignment.id).with_for_update())
    started = started_count(assignment)
    if started:
        db.session.rollback()
        raise ServiceError(f"已有 {started} 人开始作答，不能撤回")
    # One conditional update, so that whatever the database's isolation nothing started is withdrawn.
    done = db.session.execute(
        update(Assignment)
        .where(Assignment.id == assignment.id, Assignment.withdrawn_at.is_(None),
               ~exists().where(Attempt.assignment_id == assignment.id),
               ~exists().where(MemberResult.assignment_id == assignment.id))
        .values(withdrawn_at=now or utcnow(), withdrawn_by_id=by.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        db.session.rollback()
        raise ServiceError("刚有人开始作答，不能撤回")
    db.session.commit()
