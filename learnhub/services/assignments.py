"""Creating study tasks and exams for an organisation subtree."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..extensions import db
from ..models import (
    Assignment,
    AssignmentKind,
    AssignmentQuestion,
    KnowledgePoint,
    Material,
    Organisation,
    Scoring,
    ShowAnswers,
    User,
    utcnow,
)
from . import ServiceError
from .materials import materials_for_points
from .orgs import Scope
from .quizzes import draw_by_rules, rule_pool


@dataclass
class DrawRule:
    node: KnowledgePoint  # a part (总纲 / a chapter), an article, or a knowledge point
    count: int
    difficulty: int | None = None

    def as_json(self) -> dict:
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


def create_assignment(scope: Scope, data: AssignmentData, by: User, rng: random.Random | None = None) -> Assignment:
    """Give a study task or exam to an organisation's subtree. Commits."""
    problems = _problems(scope, data)
    if problems:
        raise ServiceError("；".join(problems))
    assignment = Assignment(
        title=data.title.strip(), kind=data.kind, org=data.org, created_by_id=by.id, opens_at=data.opens_at,
        closes_at=data.closes_at, pass_mark=data.pass_mark, time_limit_minutes=data.time_limit_minutes or None,
        max_attempts=data.max_attempts, scoring=data.scoring, show_answers=data.show_answers,
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
    for rule in data.rules:
        if not 1 <= rule.count <= 100:
            problems.append(f"「{rule.node.name}」的题数应在 1 到 100 之间")
        elif (available := len(rule_pool(rule.as_json(), data.org))) < rule.count:
            level = f"难度 {rule.difficulty} 的题" if rule.difficulty else "题"
            problems.append(f"「{rule.node.name}」只有 {available} 道{level}，不够抽 {rule.count} 道")
    return problems


RECHECK_PER_POINT = 3
RECHECK_DAYS = 7


def create_recheck(scope: Scope, source: Assignment, unit: Organisation, points: list[KnowledgePoint], by: User) -> Assignment:
    """A short re-check quiz for one branch on the points it was weakest in. Commits."""
    rules = []
    for point in points:
        available = len(rule_pool({"part_id": point.id}, unit))
        if available:
            rules.append(DrawRule(point, min(RECHECK_PER_POINT, available)))
    if not rules:
        raise ServiceError("还没有足够的答题数据找出薄弱知识点")
    now = utcnow()
    names = "、".join(r.node.name for r in rules)
    data = AssignmentData(
        title=f"{unit.name}薄弱知识点复测：{names}"[:200], kind=AssignmentKind.EXAM, org=unit, opens_at=now,
        closes_at=now + timedelta(days=RECHECK_DAYS), pass_mark=source.pass_mark, max_attempts=2, rules=rules,
        materials=materials_for_points(points),
    )
    return create_assignment(scope, data, by)


