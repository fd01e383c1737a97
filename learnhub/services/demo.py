"""The demo organisation: a 党委 with a 党总支 and four 党支部, about 40 members, one assignment
with finished attempts spread so the reports show a strong and a weak branch. Idempotent."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import (
    Assignment,
    AssignmentKind,
    AssignmentQuestion,
    KnowledgePoint,
    Material,
    MemberCategory,
    Organisation,
    OrgKind,
    PointLevel,
    Question,
    QuestionKind,
    Role,
    User,
    utcnow,
)
from . import ServiceError
from .auth.accounts import HashSettings, hash_password
from .orgs import create_org, grant
from .exam.quizzes import save_answer, start_attempt, submit_attempt

DEMO_CODE = "demo"
DEMO_PASSWORD = "learnhub2026"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "秀英", "志强", "丽华", "海燕", "卫东", "红梅", "国庆", "晓明", "春兰", "永刚", "淑珍", "立新", "桂芳"]

# (name, code, under the general branch?, share who finish, share right on the paper)
BRANCHES = [
    ("第一党支部", "demo-b1", True, 1.0, 0.92),
    ("第二党支部", "demo-b2", True, 0.9, 0.75),
    ("第三党支部", "demo-b3", False, 0.8, 0.68),
    ("第四党支部", "demo-b4", False, 0.5, 0.42),
]


@dataclass
class Login:
    role: str
    login: str
    name: str


def demo_logins() -> list[Login]:
    """The demo accounts worth printing, if the demo exists."""
    if db.session.scalar(select(Organisation).where(Organisation.code == DEMO_CODE)) is None:
        return []
    wanted = ["admin", "dw001", "zb1sj", "zb4sj", "D1002", "D4002"]
    users = {u.member_no: u for u in db.session.scalars(select(User).where(User.member_no.in_(wanted)))}
    roles = {"admin": "系统管理员", "dw001": "党委组织员", "zb1sj": "第一党支部书记", "zb4sj": "第四党支部书记",
             "D1002": "党员（第一党支部）", "D4002": "党员（第四党支部）"}
    return [Login(roles[k], k, users[k].name) for k in wanted if k in users]


def seed_demo(settings: HashSettings, seed: int = 2022) -> bool:
    """Build the demo organisation unless it exists; return True if it was built. Commits."""
    if db.session.scalar(select(Organisation).where(Organisation.code == DEMO_CODE)) is not None:
        return False
    questions = _demo_questions()
    if len(questions) < 5:
        raise ServiceError("题库为空：请先运行 flask --app learnhub questions import")
    rng = random.Random(seed)
    password_hash = hash_password(settings, DEMO_PASSWORD)
    committee = create_org("示范单位党委", OrgKind.COMMITTEE, None, DEMO_CODE)
    general = create_org("机关党总支", OrgKind.GENERAL_BRANCH, committee, "demo-g1", 1)

    def person(no: str, org: Organisation, **extra) -> User:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        user = User(member_no=no, name=name, org=org, password_hash=password_hash, must_change_password=False, **extra)
        db.session.add(user)
        return user

    person("admin", committee, is_admin=True)
    organiser = person("dw001", committee)
    grant(organiser, committee, Role.ORGANISER)
    members_by_branch = []
    for i, (name, code, in_general, _, _) in enumerate(BRANCHES, start=1):
        branch = create_org(name, OrgKind.BRANCH, general if in_general else committee, code, i)
        secretary = person(f"zb{i}sj", branch, phone=f"1390000{i:04d}")
        grant(secretary, branch, Role.SECRETARY)
        members = [secretary]
        for j in range(1, 10):
            category = MemberCategory.PROBATIONARY if j == 9 else MemberCategory.FULL
            members.append(person(f"D{i}{j:03d}", branch, phone=f"1380000{i}{j:03d}", category=category))
        members_by_branch.append(members)
    now = utcnow()
    assignment = Assignment(
        title="党章第一章学习测验", kind=AssignmentKind.EXAM, org=committee, created_by_id=None,
        opens_at=now - timedelta(days=10), closes_at=now + timedelta(days=5), pass_mark=60,
        time_limit_minutes=30, max_attempts=2,
    )
    assignment.questions = [AssignmentQuestion(question=q, position=i) for i, q in enumerate(questions)]
    material = db.session.scalar(select(Material).where(Material.slug == "c01-members"))
    if material is not None:
        assignment.materials = [material]
    db.session.add(assignment)
    db.session.commit()
    for (_, _, _, finish_share, right_share), members in zip(BRANCHES, members_by_branch, strict=True):
        for k, member in enumerate(members):
            if member.member_no in ("D1002", "D4002") or k >= round(finish_share * len(members)):
                continue
            _take(assignment, member, right_share, rng, now - timedelta(days=rng.randint(1, 9)))
    return True


def _demo_questions() -> list[Question]:
    chapter = db.session.scalar(
        select(KnowledgePoint).where(KnowledgePoint.level == PointLevel.PART, KnowledgePoint.name == "第一章 党员")
    )
    stmt = select(Question).where(Question.is_current.is_(True), Question.retired.is_(False)).order_by(Question.key)
    pool = list(db.session.scalars(stmt))
    if chapter is not None:
        articles = {a.id for a in db.session.scalars(select(KnowledgePoint).where(KnowledgePoint.parent_id == chapter.id))}
        in_chapter = [q for q in pool if q.point.parent_id in articles]
        pool = in_chapter if len(in_chapter) >= 10 else pool
    return random.Random(7).sample(pool, min(10, len(pool)))


def _take(assignment: Assignment, member: User, right_share: float, rng: random.Random, when) -> None:
    attempt = start_attempt(assignment, member, now=when, rng=rng)
    for position, entry in enumerate(attempt.paper, start=1):
        question = db.session.get(Question, entry["q"])
        right = rng.random() < right_share
        save_answer(attempt, position, _answer_for(question, entry["perm"], right), position, 0, now=when)
    submit_attempt(attempt, None, 0, now=when + timedelta(minutes=rng.randint(4, 20)))


def _answer_for(question: Question, perm: list[int], right: bool):
    if question.kind is QuestionKind.TRUEFALSE:
        return "true" if bool(question.answer[0]) == right else "false"
    if question.kind is QuestionKind.FILL:
        return [alts[0] if right else "不确定" for alts in question.answer]
    shown_right = sorted(perm.index(i) for i in question.answer)
    if right:
        return shown_right if question.kind is QuestionKind.MULTIPLE else shown_right[0]
    wrong = [i for i in range(len(perm)) if i not in shown_right]
    return wrong[:1] if question.kind is QuestionKind.MULTIPLE else wrong[0]
