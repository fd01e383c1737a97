"""Organisers assign tasks and exams; papers drawn per member; exemptions and proxy results."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import (
    Assignment,
    AssignmentKind,
    Attempt,
    ExemptionReason,
    KnowledgePoint,
    MemberResult,
    Organisation,
    Question,
    User,
    utcnow,
)
from learnhub.services import ServiceError
from learnhub.services.exam import assignments, exemptions, quizzes
from learnhub.services.reports import completion as reports
from learnhub.services.exam.assignments import AssignmentData, DrawRule
from learnhub.services.orgs import scope_for

from .helpers import attempt_id_from


def node(name: str) -> KnowledgePoint:
    return db.session.scalar(select(KnowledgePoint).where(KnowledgePoint.name == name))


def data(org: Organisation, rules, **extra) -> AssignmentData:
    now = utcnow()
    return AssignmentData(
        title=extra.pop("title", "抽题考试"), kind=AssignmentKind.EXAM, org=org, opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=3), rules=rules, **extra,
    )


def test_draws_follow_the_rules_and_differ_between_members(app, world, ctx):
    organiser = db.session.get(User, world.user["org_a"])
    a = db.session.get(Organisation, world.org["a"])
    rules = [DrawRule(node("入党条件"), 1), DrawRule(node("预备期"), 2)]
    item = assignments.create_assignment(scope_for(organiser), data(a, rules), organiser)
    assert item.draw_rules and not item.questions and item.paper_size == 3
    papers = []
    for i, key in enumerate(("m_a1", "m_a1b", "m_a2", "m_a3", "sec_a1", "sec_a2")):
        attempt = quizzes.start_attempt(item, db.session.get(User, world.user[key]), rng=random.Random(i))
        qs = [db.session.get(Question, e["q"]) for e in attempt.paper]
        assert len(qs) == 3 and len({q.key for q in qs}) == 3
        assert sum(q.point.name == "入党条件" for q in qs) == 1 and sum(q.point.name == "预备期" for q in qs) == 2
        papers.append(tuple(e["q"] for e in attempt.paper))
    assert len(set(papers)) > 1, "every member got the same paper"


def test_rules_by_difficulty_and_by_part(app, world, ctx):
    organiser = db.session.get(User, world.user["org_a"])
    a = db.session.get(Organisation, world.org["a"])
    item = assignments.create_assignment(
        scope_for(organiser), data(a, [DrawRule(node("第一章 党员"), 2, difficulty=2)]), organiser
    )
    attempt = quizzes.start_attempt(item, db.session.get(User, world.user["m_a1"]))
    assert all(db.session.get(Question, e["q"]).difficulty == 2 for e in attempt.paper)


def test_a_rule_asking_more_than_the_pool_holds_is_refused(app, world, ctx):
    organiser = db.session.get(User, world.user["org_a"])
    a = db.session.get(Organisation, world.org["a"])
    with pytest.raises(ServiceError, match="只有 2 道题，不够抽 5 道"):
        assignments.create_assignment(scope_for(organiser), data(a, [DrawRule(node("入党条件"), 5)]), organiser)
    assert db.session.scalar(select(Assignment).where(Assignment.title == "抽题考试")) is None


def test_fixed_paper_is_drawn_once_for_everyone(app, world, ctx):
    organiser = db.session.get(User, world.user["org_a"])
    a = db.session.get(Organisation, world.org["a"])
    item = assignments.create_assignment(
        scope_for(organiser), data(a, [DrawRule(node("第一章 党员"), 3)], per_member=False), organiser
    )
    assert len(item.questions) == 3 and not item.draw_rules
    keys = {frozenset(e["q"] for e in quizzes.start_attempt(item, db.session.get(User, world.user[k])).paper)
            for k in ("m_a1", "m_a2", "m_a3")}
    assert len(keys) == 1


def test_cannot_assign_outside_scope(app, world, ctx):
    secretary = db.session.get(User, world.user["sec_a1"])
    with pytest.raises(ServiceError, match="管理范围"):
        assignments.create_assignment(
            scope_for(secretary), data(db.session.get(Organisation, world.org["a2"]), [DrawRule(node("预备期"), 1)]), secretary
        )


def test_organiser_creates_an_exam_through_the_form(app, world, login):
    with app.app_context():
        point_id = node("预备期").id
    c = login(world.login["org_a"])
    assert c.get("/admin/assignments/new").status_code == 200
    r = c.post("/admin/assignments/new", data={
        "title": "十月考试", "kind": "exam", "org_id": world.org["a"], "opens_at": "2026-01-01T08:00",
        "closes_at": "2030-01-01T08:00", "per_member": "1", "rules-0-node": point_id, "rules-0-count": "2",
        "rules-0-difficulty": "", "pass_mark": "80", "time_limit_minutes": "15", "max_attempts": "1",
        "scoring": "highest", "show_answers": "after_close",
    })
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        item = db.session.scalar(select(Assignment).where(Assignment.title == "十月考试"))
        assert item.pass_mark == 80 and item.time_limit_minutes == 15 and item.draw_rules[0]["count"] == 2
        assert item.opens_at.hour == 0  # 08:00 in Beijing is 00:00 UTC
    m = login(world.login["m_a3"])
    assert "十月考试" in m.get("/").get_data(as_text=True)
    attempt_id = attempt_id_from(m.post(f"/quiz/{item.id}/start").location)
    m.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": ""})
    assert "答案和解析将在任务截止" in m.get(f"/quiz/attempts/{attempt_id}/review").get_data(as_text=True)


def test_exemptions_leave_the_branch_rate_unaffected(app, world, ctx):
    secretary = db.session.get(User, world.user["sec_a1"])
    assignment = db.session.get(Assignment, world.assignment_a)
    member = db.session.get(User, world.user["m_a1"])
    attempt = quizzes.start_attempt(assignment, member)
    quizzes.submit_attempt(attempt, None, 60)
    scope = scope_for(secretary)

    def row():
        return next(u for u in reports.assignment_report(scope, assignment).units if u.org.id == world.org["a1"])

    before = row()
    assert (before.expected, before.finished, before.finished_rate) == (3, 1, 33.3)
    exemptions.exempt(assignment, db.session.get(User, world.user["m_a1b"]), ExemptionReason.SICK, "住院", secretary)
    after = row()
    assert (after.members, after.exempt, after.expected, after.finished_rate) == (3, 1, 2, 50.0)
    with pytest.raises(ServiceError, match="已经免学"):
        exemptions.exempt(assignment, db.session.get(User, world.user["m_a1b"]), ExemptionReason.SICK, "", secretary)
    exemptions.revoke(assignment, db.session.get(User, world.user["m_a1b"]), secretary)
    assert row().finished_rate == 33.3
    history = exemptions.history(assignment, db.session.get(User, world.user["m_a1b"]))
    assert len(history) == 1 and history[0].revoked_at is not None and history[0].created_by_id == secretary.id


def test_secretary_exempts_and_records_a_paper_result_through_the_pages(app, world, login):
    c = login(world.login["sec_a1"])
    base = f"/reports/assignments/{world.assignment_a}/members"
    assert c.get(f"{base}/{world.user['m_a1b']}").status_code == 200
    r = c.post(f"{base}/{world.user['m_a1b']}/exempt", data={"reason": "no_phone", "note": ""}, follow_redirects=True)
    assert "已将 党员甲一乙 设为免学" in r.get_data(as_text=True)
    r = c.post(f"{base}/{world.user['m_a1']}/proxy", data={"score": "85", "note": "纸质试卷，11月20日集中测试"},
               follow_redirects=True)
    assert "已为 党员甲一 代录成绩" in r.get_data(as_text=True)
    page = c.get(f"/reports/assignments/{world.assignment_a}/units/{world.org['a1']}").get_data(as_text=True)
    assert "免学（无智能手机）" in page and "·代录" in page
    with app.app_context():
        result = db.session.get(MemberResult, (world.assignment_a, world.user["m_a1"]))
        attempt = db.session.get(Attempt, result.counted_attempt_id)
        assert result.score == 85.0 and result.passed and attempt.entered_by_id == world.user["sec_a1"]
    r = c.post(f"{base}/{world.user['m_a1b']}/proxy", data={"score": "120", "note": "x"}, follow_redirects=True)
    assert "分数应在 0 到 100 之间" in r.get_data(as_text=True)
    assert c.post(f"{base}/{world.user['m_a2']}/exempt", data={"reason": "sick"}).status_code == 404
