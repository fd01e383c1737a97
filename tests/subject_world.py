"""A subject owned by an organisation, built the way its organisers would (tree PART -> POINT, no article),
with questions of that organisation's bank; and taking a drawn paper with known right and wrong answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import (
    Assignment,
    AssignmentKind,
    KnowledgePoint,
    Organisation,
    PointLevel,
    Question,
    QuestionKind,
    Subject,
    User,
    utcnow,
)
from learnhub.services.exam import quizzes

from .quiz.helpers import shown_answer

# The committee subject most tests use: 2 parts, 3 points, 2 questions per point.
WORK = {"组织生活": ["三会一课", "主题党日"], "党员管理": ["党费收缴"]}


@dataclass
class SubjectIds:
    subject: int
    parts: dict[str, int]
    points: dict[str, int]
    questions: dict[str, str]  # key -> point name


def build_subject(owner: Organisation | None, name: str, parts: dict[str, list[str]], prefix: str,
                  per_point: int = 2, tag: str = "") -> SubjectIds:
    """A subject of `owner` with these parts and points, and `per_point` questions on each (a single choice,
    then a true/false, alternately) in `owner`'s bank. `tag` goes into every name and stem. Flushes."""
    subject = Subject(name=f"{name}{tag}", owner_org_id=owner.id if owner else None, position=5, created_at=utcnow())
    db.session.add(subject)
    db.session.flush()
    ids = SubjectIds(subject.id, {}, {}, {})
    owner_id = owner.id if owner else None
    for i, (part_name, point_names) in enumerate(parts.items()):
        part = KnowledgePoint(subject=subject, level=PointLevel.PART, name=f"{part_name}{tag}", position=i,
                              owner_org_id=owner_id)
        db.session.add(part)
        db.session.flush()
        ids.parts[part_name] = part.id
        for j, point_name in enumerate(point_names):
            point = KnowledgePoint(parent=part, level=PointLevel.POINT, name=f"{point_name}{tag}", position=j,
                                   owner_org_id=owner_id)
            db.session.add(point)
            db.session.flush()
            ids.points[point_name] = point.id
            for k in range(per_point):
                key = f"{prefix}-{len(ids.questions) + 1:03d}"
                single = k % 2 == 0
                db.session.add(Question(
                    key=key, kind=QuestionKind.SINGLE if single else QuestionKind.TRUEFALSE,
                    stem=f"{point_name}{tag}的第{k + 1}题（{key}）？", options=["甲", "乙", "丙", "丁"] if single else [],
                    answer=[1] if single else [True], explanation=f"{point_name}{tag}的解析。", article="",
                    point_id=point.id, difficulty=1, owner_org_id=owner_id,
                ))
                ids.questions[key] = point_name
    db.session.flush()
    return ids


def subject_assignment(org: Organisation, subject_id: int, count: int, title: str = "支部工作测验",
                       extra_rules: list[dict] | None = None) -> Assignment:
    """An exam given to `org`, each member's paper drawn by a whole-subject rule (and any extra rules). Flushes."""
    now = utcnow()
    assignment = Assignment(title=title, org=org, kind=AssignmentKind.EXAM, opens_at=now - timedelta(days=1),
                            closes_at=now + timedelta(days=7), max_attempts=1,
                            draw_rules=[{"subject_id": subject_id, "count": count, "difficulty": None}, *(extra_rules or [])])
    db.session.add(assignment)
    db.session.flush()
    return assignment


def take_paper(assignment: Assignment, member: User, right: set[str] | None = None, wrong: set[str] | None = None) -> None:
    """Start and hand in the member's paper: questions whose key is in `right` (or not in `wrong`) answered right."""
    attempt = quizzes.start_attempt(assignment, member)
    for pos, entry in enumerate(attempt.paper, start=1):
        q = db.session.get(Question, entry["q"])
        ok = q.key in right if right is not None else q.key not in (wrong or set())
        quizzes.save_answer(attempt, pos, shown_answer(q, entry["perm"], ok), pos, 60)
    quizzes.submit_attempt(attempt, None, 60)


def keys_on(point_names: set[str], ids: SubjectIds) -> set[str]:
    """The subject's question keys on these points."""
    return {k for k, p in ids.questions.items() if p in point_names}


def builtin_part(name: str = "第一章 党员") -> KnowledgePoint:
    return db.session.scalar(select(KnowledgePoint).where(KnowledgePoint.level == PointLevel.PART,
                                                          KnowledgePoint.name == name, KnowledgePoint.subject_id == 1))
