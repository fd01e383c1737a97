"""Starting a meeting: the questions offered (the branch's weakest points first), guests, joining."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import (
    Assignment,
    KnowledgePoint,
    Meeting,
    MeetingAttendance,
    MeetingGuest,
    MeetingKind,
    MeetingQuestion,
    Organisation,
    PointTally,
    Question,
    QuestionKind,
    Subject,
    User,
)
from ..reports import mastery, completion as reports
from ..bank import subjects
from ..bank.access import usable_in
from ..orgs import Scope, within
from ..exam.quizzes import rule_pool
from . import MeetingError, clocks
from .codes import new_code

MIN_QUESTIONS, MAX_QUESTIONS = 3, 10
WEAK_POINTS = 3  # the default questions come from this many of the weakest points
PER_POINT = 4  # questions offered per point
MIN_SECONDS, MAX_SECONDS = 10, 600


def branch_point_tallies(org: Organisation):
    """SQL: (point_id, answered, correct) over the first-try tallies of every quiz, for members under `org`."""
    in_branch = select(Organisation.id).where(within(Organisation.path, org.path))
    return (
        select(PointTally.point_id, func.sum(PointTally.answered), func.sum(PointTally.correct))
        .where(PointTally.org_id.in_(in_branch)).group_by(PointTally.point_id)
    )


def weakest_points(scope: Scope, org: Organisation, assignment: Assignment | None = None,
                   subject_id: int | None = None) -> list[mastery.PointScore]:
    """The branch's knowledge points (of one subject, if given), weakest first: on `assignment` when given
    (as the 复测 picks them), otherwise over every quiz its members have taken."""
    if assignment is not None and reports.unit_in_scope(scope, assignment, org):
        return [p for p in mastery.unit_point_scores(scope, assignment, org, subject_id) if p.rate is not None]
    rows = db.session.execute(branch_point_tallies(org)).all()
    stmt = select(KnowledgePoint).where(KnowledgePoint.id.in_([r[0] for r in rows]))
    if subject_id is not None:
        stmt = stmt.where(KnowledgePoint.subject_id == subject_id)
    points = {p.id: p for p in db.session.scalars(stmt)}
    scores = [mastery.PointScore(int(n), int(c), points[pid]) for pid, n, c in rows if n and pid in points]
    return sorted(scores, key=lambda p: (p.rate, p.point.name))


def branch_subjects(org: Organisation) -> list[Subject]:
    """The subjects a branch's meeting may ask about: those its members may use, the built-in one first."""
    return list(db.session.scalars(
        select(Subject).where(subjects.usable_by(org), Subject.retired_at.is_(None))
        .order_by(Subject.owner_org_id.is_not(None), Subject.position, Subject.id)))


def _askable(question: Question) -> bool:
    """A question a meeting can ask with buttons: any but fill-in-the-blank."""
    return question.kind is not QuestionKind.FILL


def candidates(scope: Scope, org: Organisation, assignment: Assignment | None = None, subject_id: int | None = None):
    """(points, questions, default ids): questions on the branch's weakest points (of one subject, if given),
    and those picked by default."""
    points = weakest_points(scope, org, assignment, subject_id)[:5]
    offered, default = [], []
    for rank, score in enumerate(points):
        pool = [q for q in rule_pool({"point_id": score.point.id}, org) if _askable(q)][:PER_POINT]
        offered.extend(pool)
        if rank < WEAK_POINTS:
            default.extend(q.id for q in pool[:2])
    return points, offered, default[:MAX_QUESTIONS]


def pick_questions(org: Organisation, offered: list[Question], picked_ids: list[int], typed_keys: str | None) -> list[Question]:
    """The questions ticked among those offered, then those typed by number (spaces, commas or 、 between)."""
    by_id = {q.id: q for q in offered}
    chosen = [by_id[i] for i in picked_ids if i in by_id]
    keys = [k for k in re.split(r"[\s,，、;；]+", typed_keys or "") if k]
    seen = {q.key for q in chosen}
    return chosen + [q for q in questions_by_keys(org, keys) if q.key not in seen] if keys else chosen


def questions_by_keys(org: Organisation, keys: list[str]) -> list[Question]:
    """The current revisions of the typed question numbers that `org` may use; MeetingError naming the rest."""
    found = {q.key.upper(): q for q in db.session.scalars(select(Question).where(
        func.upper(Question.key).in_([k.upper() for k in keys]), Question.is_current.is_(True),
        Question.retired.is_(False), usable_in(org),
    ))}
    missing = [k for k in keys if k.upper() not in found]
    if missing:
        raise MeetingError(f"没有找到这些题目编号：{'、'.join(missing[:10])}")
    return [found[k.upper()] for k in keys]


def create_meeting(scope: Scope, org: Organisation, title: str, kind: MeetingKind, questions: list[Question],
                   by: User, seconds: int = 60) -> Meeting:
    """Start a meeting quiz for a branch in the viewer's scope, with a code no open meeting has. Commits."""
    problems = _problems(scope, org, title, questions, seconds)
    if problems:
        raise MeetingError("；".join(problems))
    for _ in range(20):
        meeting = Meeting(org=org, title=title.strip(), kind=kind, seconds=seconds, created_by_id=by.id, code=new_code())
        meeting.questions = [MeetingQuestion(position=i, question_id=q.id) for i, q in enumerate(questions, start=1)]
        db.session.add(meeting)
        try:
            db.session.commit()
        except IntegrityError:  # that code is taken by an open meeting: draw another
            db.session.rollback()
            continue
        return meeting
    raise MeetingError("暂时无法生成会议码，请重试")


def _problems(scope: Scope, org: Organisation, title: str, questions: list[Question], seconds: int) -> list[str]:
    problems = []
    if not scope.covers(org):
        problems.append("只能为你管理范围内的支部开始会议测验")
    elif not org.kind.is_branch:
        problems.append("会议测验只能在党支部开展")
    elif not org.active:
        problems.append(f"「{org.name}」已停用")
    if not title.strip():
        problems.append("请填写会议名称")
    elif len(title.strip()) > 200:
        problems.append("会议名称不能超过 200 个字")
    if not MIN_QUESTIONS <= len(questions) <= MAX_QUESTIONS:
        problems.append(f"请选择 {MIN_QUESTIONS} 到 {MAX_QUESTIONS} 道题（现在 {len(questions)} 道）")
    if len({q.key for q in questions}) != len(questions):
        problems.append("同一道题不能选两次")
    if any(not _askable(q) for q in questions):
        problems.append("会议测验不能使用填空题")
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        problems.append(f"每题时间应在 {MIN_SECONDS} 到 {MAX_SECONDS} 秒之间")
    return problems


def add_guest(meeting: Meeting, member_no: str) -> User:
    """Invite a member from outside the branch by member number (any case). Commits."""
    if not meeting.is_open:
        raise MeetingError("会议已经结束")
    typed = (member_no or "").strip()
    user = db.session.scalars(select(User).where(func.upper(User.member_no) == typed.upper(), User.active.is_(True))
                              .order_by(User.id)).first() if typed else None
    if user is None:
        raise MeetingError(f"没有找到党员编号「{typed[:32]}」")
    if user.org.path.startswith(meeting.org.path):
        raise MeetingError(f"{user.name}是本支部党员，无需邀请")
    if db.session.get(MeetingGuest, (meeting.id, user.id)) is None:
        db.session.add(MeetingGuest(meeting_id=meeting.id, user_id=user.id))
        meeting.version += 1
        db.session.commit()
        clocks.changed()
    return user


def find_open(code: str) -> Meeting | None:
    """The open meeting with this (normalised) code."""
    return db.session.scalar(select(Meeting).where(Meeting.code == code, Meeting.ended_at.is_(None))) if code else None


def is_guest(meeting: Meeting, user: User) -> bool:
    return db.session.get(MeetingGuest, (meeting.id, user.id)) is not None


def may_join(meeting: Meeting, user: User) -> bool:
    """Members of the branch (and the organisations beneath it) and invited guests."""
    return user.org.path.startswith(meeting.org.path) or is_guest(meeting, user)


def attending(meeting: Meeting, user: User) -> bool:
    return db.session.get(MeetingAttendance, (meeting.id, user.id)) is not None


def join(meeting: Meeting, user: User) -> None:
    """Record the member as present (once). Commits."""
    if not may_join(meeting, user):
        raise MeetingError("这次会议测验只对本支部党员和受邀人员开放")
    if not meeting.is_open:
        raise MeetingError("会议测验已经结束")
    if attending(meeting, user):
        return
    db.session.add(MeetingAttendance(meeting_id=meeting.id, user_id=user.id, org_id=user.org_id,
                                     guest=not user.org.path.startswith(meeting.org.path)))
    try:
        db.session.commit()
    except IntegrityError:  # joined from a second tab at the same moment: present either way
        db.session.rollback()
