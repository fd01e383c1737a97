"""Builders for test data. Each flushes; the caller commits."""

from __future__ import annotations

import itertools
from datetime import timedelta

from flask import current_app

from learnhub.extensions import db
from learnhub.models import (
    Assignment,
    AssignmentKind,
    AssignmentQuestion,
    KnowledgePoint,
    MemberCategory,
    Organisation,
    OrgKind,
    PointLevel,
    Question,
    Role,
    Subject,
    User,
    utcnow,
)
from learnhub.services.study import practice
from learnhub.services.auth.accounts import HashSettings, hash_password
from learnhub.services.orgs import create_org, grant

PASSWORD = "pass1234"
_seq = itertools.count(1)


def make_org(name: str, kind: OrgKind = OrgKind.BRANCH, parent: Organisation | None = None, code: str | None = None) -> Organisation:
    return create_org(name, kind, parent, code or f"org{next(_seq)}")


def make_user(
    org: Organisation,
    member_no: str | None = None,
    name: str = "张三",
    password: str = PASSWORD,
    role: Role | None = None,
    role_org: Organisation | None = None,
    **extra,
) -> User:
    extra.setdefault("must_change_password", False)
    extra.setdefault("category", MemberCategory.FULL)
    user = User(
        member_no=member_no or f"M{next(_seq):05d}", name=name, org=org,
        password_hash=hash_password(HashSettings.from_config(current_app.config), password), **extra,
    )
    db.session.add(user)
    if role is not None:
        grant(user, role_org or org, role)
    db.session.flush()
    return user


def make_assignment(org: Organisation, questions: list[Question], **extra) -> Assignment:
    now = utcnow()
    extra.setdefault("opens_at", now - timedelta(days=1))
    extra.setdefault("closes_at", now + timedelta(days=7))
    extra.setdefault("kind", AssignmentKind.EXAM)
    assignment = Assignment(title=extra.pop("title", "党章测验"), org=org, **extra)
    assignment.questions = [AssignmentQuestion(question=q, position=i) for i, q in enumerate(questions)]
    db.session.add(assignment)
    db.session.flush()
    return assignment


def practise(user: User, question: Question, raw, mode, now=None):
    """Serve a question to the member in practice and answer it, as the practice pages do. Commits."""
    return practice.answer(user, practice.serve(user, question, mode, now).id, raw, now)


def make_question(owner: Organisation | None, key: str, like: Question) -> Question:
    """A question in `owner`'s bank (None: built-in), a copy of `like` under a new key and stem."""
    question = Question(
        key=key, kind=like.kind, stem=f"{like.stem}（{key}）", options=list(like.options), answer=list(like.answer),
        explanation=like.explanation, article=like.article, point_id=like.point_id, difficulty=like.difficulty,
        owner_org_id=owner.id if owner is not None else None,
    )
    db.session.add(question)
    db.session.flush()
    return question


def make_subject(owner: Organisation, name: str = "支部工作", point: str = "三会一课") -> tuple:
    """A subject of `owner` with one part (第一章 总则) and one point under it: (subject, part, point)."""
    subject = Subject(name=name, owner_org_id=owner.id, created_at=utcnow())
    part = KnowledgePoint(subject=subject, level=PointLevel.PART, name="第一章 总则", owner_org_id=owner.id)
    node = KnowledgePoint(subject=subject, parent=part, level=PointLevel.POINT, name=point, owner_org_id=owner.id)
    db.session.add_all([subject, part, node])
    db.session.flush()
    return subject, part, node
