"""Assignments for any subject: drawn by a whole subject, a part or a point of any subject the organiser
sees and the organisation may use; "read these materials, then take this quiz"."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import (
    Assignment,
    AssignmentKind,
    KnowledgePoint,
    Material,
    Organisation,
    Question,
    ShowAnswers,
    User,
    utcnow,
)
from learnhub.services import ServiceError
from learnhub.services.exam import assignments, quizzes
from learnhub.services.exam.assignments import AssignmentData, DrawRule
from learnhub.services.orgs import scope_for
from learnhub.services.study import materials

from ..conftest import DATA
from ..subject_world import WORK, build_subject
from .helpers import attempt_id_from

FORM = {"kind": "exam", "opens_at": "2026-01-01T08:00", "closes_at": "2030-01-01T08:00", "per_member": "1",
        "pass_mark": "60", "max_attempts": "1", "scoring": "highest", "show_answers": "after_submit"}


@pytest.fixture
def work(app, world):
    with app.app_context():
        ids = build_subject(db.session.get(Organisation, world.org["a"]), "支部工作", WORK, "zb")
        db.session.commit()
        return ids


def _data(org: Organisation, rules, **extra) -> AssignmentData:
    now = utcnow()
    return AssignmentData(title=extra.pop("title", "支部工作考试"), kind=extra.pop("kind", AssignmentKind.EXAM), org=org,
                          opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=3), rules=rules, **extra)


def _organiser(world, key: str = "org_a") -> User:
    return db.session.get(User, world.user[key])


def test_a_paper_drawn_by_a_whole_subject_holds_only_that_subjects_usable_questions(app, world, work, ctx):
    a = db.session.get(Organisation, world.org["a"])
    # A retired question and one of 党委B's bank hung on the subject's point never reach a paper.
    point = db.session.get(KnowledgePoint, work.points["三会一课"])
    like = db.session.scalar(select(Question).filter_by(key="zb-001"))
    db.session.add(Question(key="zb-retired", kind=like.kind, stem="停用的题", options=like.options, answer=like.answer,
                            explanation="", article="", point=point, retired=True, owner_org_id=a.id))
    db.session.add(Question(key="zb-foreign", kind=like.kind, stem="别人的题", options=like.options, answer=like.answer,
                            explanation="", article="", point=point, owner_org_id=world.org["b"]))
    subject = db.session.get(KnowledgePoint, work.parts["组织生活"]).subject
    rule = DrawRule(None, 6, subject=subject)
    assert rule.as_json() == {"subject_id": work.subject, "count": 6, "difficulty": None}
    assert {q.key for q in quizzes.rule_pool(rule.as_json(), a)} == set(work.questions)
    organiser = _organiser(world)
    item = assignments.create_assignment(scope_for(organiser), _data(a, [rule]), organiser)
    assert item.draw_rules == [{"subject_id": work.subject, "count": 6, "difficulty": None}]
    for i, key in enumerate(("m_a1", "m_a2", "m_a3")):
        attempt = quizzes.start_attempt(item, db.session.get(User, world.user[key]), rng=random.Random(i))
        assert {db.session.get(Question, e["q"]).key for e in attempt.paper} == set(work.questions)
    # A part of the subject (PART -> POINT, no article) and a point draw from that part or point only.
    part_pool = quizzes.rule_pool({"part_id": work.parts["组织生活"]}, a)
    assert {q.key for q in part_pool} == {"zb-001", "zb-002", "zb-003", "zb-004"}
    assert {q.key for q in quizzes.rule_pool({"point_id": work.points["党费收缴"]}, a)} == {"zb-005", "zb-006"}


def test_too_few_questions_in_a_subject_is_refused_by_name(app, world, work, ctx):
    a = db.session.get(Organisation, world.org["a"])
    subject = db.session.get(KnowledgePoint, work.parts["组织生活"]).subject
    with pytest.raises(ServiceError, match="「支部工作（全部）」只有 6 道题，不够抽 7 道"):
        assignments.create_assignment(scope_for(_organiser(world)), _data(a, [DrawRule(None, 7, subject=subject)]),
                                      _organiser(world))


def test_another_committee_cannot_draw_from_the_subject(app, world, work, ctx):
    b = db.session.get(Organisation, world.org["b"])
    subject = db.session.get(KnowledgePoint, work.parts["组织生活"]).subject
    outsider = _organiser(world, "org_b")
    before = db.session.scalar(select(func.count()).select_from(Assignment))
    for rule in (DrawRule(None, 1, subject=subject), DrawRule(db.session.get(KnowledgePoint, work.points["三会一课"]), 1)):
        with pytest.raises(ServiceError, match="抽题规则选择的范围不存在") as caught:
            assignments.create_assignment(scope_for(outsider), _data(b, [rule]), outsider)
        assert "支部工作" not in str(caught.value) and "三会一课" not in str(caught.value)
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == before


def test_a_branchs_subject_cannot_be_given_to_the_committee_above(app, world, work, ctx):
    a1 = db.session.get(Organisation, world.org["a1"])
    ids = build_subject(a1, "第一支部专题", {"支部专题": ["专题一"]}, "a1s", per_point=2)
    db.session.commit()
    organiser = _organiser(world)
    subject = db.session.get(KnowledgePoint, ids.parts["支部专题"]).subject
    with pytest.raises(ServiceError, match="只供第一支部及其下属组织使用，不能布置给「党委A」"):
        assignments.create_assignment(scope_for(organiser), _data(db.session.get(Organisation, world.org["a"]),
                                                                  [DrawRule(None, 1, subject=subject)]), organiser)
    item = assignments.create_assignment(scope_for(organiser), _data(a1, [DrawRule(None, 2, subject=subject)]), organiser)
    assert item.draw_rules[0]["subject_id"] == ids.subject


def test_the_form_offers_each_visible_subject_and_draws_by_it(app, world, work, login):
    c = login(world.login["org_a"])
    page = c.get("/admin/assignments/new").get_data(as_text=True)
    assert f'value="s{work.subject}"' in page and "【支部工作】整个科目" in page and "【党章】整个科目" in page
    assert f'value="{work.parts["组织生活"]}"' in page
    r = c.post("/admin/assignments/new", data={**FORM, "title": "支部工作月考", "org_id": world.org["a"],
                                               "rules-0-node": f"s{work.subject}", "rules-0-count": "3",
                                               "rules-1-node": str(work.points["党费收缴"]), "rules-1-count": "1"})
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        item = db.session.scalar(select(Assignment).filter_by(title="支部工作月考"))
        assert item.draw_rules[0]["subject_id"] == work.subject and item.draw_rules[1]["part_id"] == work.points["党费收缴"]
    # Another committee's organiser: the subject is not offered, and naming it changes nothing.
    other = login(world.login["org_b"])
    page = other.get("/admin/assignments/new").get_data(as_text=True)
    assert "支部工作" not in page and f'value="{work.parts["组织生活"]}"' not in page and "三会一课" not in page
    refused = other.post("/admin/assignments/new", data={**FORM, "title": "越权抽题", "org_id": world.org["b"],
                                                         "rules-0-node": f"s{work.subject}", "rules-0-count": "1"})
    assert refused.status_code == 200 and "抽题规则选择的范围不存在" in refused.get_data(as_text=True)
    assert "支部工作" not in refused.get_data(as_text=True)
    for junk in ("s", "s0", "sx", "s" + "9" * 12, "-3"):
        bad = c.post("/admin/assignments/new", data={**FORM, "title": "坏规则", "org_id": world.org["a"],
                                                     "rules-0-node": junk, "rules-0-count": "1"})
        assert bad.status_code == 200, junk
    assert c.post("/admin/assignments/new", data={**FORM, "title": "不存在的科目", "org_id": world.org["a"],
                                                  "rules-0-node": "s99999", "rules-0-count": "1"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Assignment).where(
            Assignment.title.in_(["越权抽题", "坏规则", "不存在的科目"]))) == 0


def test_read_the_materials_then_take_the_quiz(app, world, work, login):
    with app.app_context():
        materials.import_notes(DATA / "notes")
        material = db.session.scalar(select(Material))
        slug, material_id = material.slug, material.id
    c = login(world.login["org_a"])
    r = c.post("/admin/assignments/new", data={**FORM, "title": "先学后测", "org_id": world.org["a1"],
                                               "materials": str(material_id), "read_first": "1",
                                               "rules-0-node": f"s{work.subject}", "rules-0-count": "2"})
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        item = db.session.scalar(select(Assignment).filter_by(title="先学后测"))
        assert item.read_first and [m.id for m in item.materials] == [material_id]
        item_id = item.id
    m = login(world.login["m_a1"])
    detail = m.get(f"/quiz/{item_id}").get_data(as_text=True)
    assert "科目：支部工作" in detail and "请先学完上面的学习资料，再开始答题（还有 1 篇未学完）" in detail
    assert 'action="/quiz/%d/start"' % item_id not in detail
    refused = m.post(f"/quiz/{item_id}/start", follow_redirects=True).get_data(as_text=True)
    assert "请先学完本任务的学习资料" in refused
    with app.app_context():
        assert not quizzes.attempts_of(db.session.get(Assignment, item_id), db.session.get(User, world.user["m_a1"]))
    m.get(f"/study/{slug}")
    m.post(f"/study/{slug}/done")
    started = m.post(f"/quiz/{item_id}/start")
    assert started.status_code == 302 and "/quiz/attempts/" in started.location
    paper = m.get(started.location).get_data(as_text=True)
    assert "的第" in paper and attempt_id_from(started.location)


def test_without_read_first_the_quiz_opens_at_once(app, world, work, ctx):
    materials.import_notes(DATA / "notes")
    organiser = _organiser(world)
    subject = db.session.get(KnowledgePoint, work.parts["组织生活"]).subject
    a1 = db.session.get(Organisation, world.org["a1"])
    item = assignments.create_assignment(scope_for(organiser), _data(
        a1, [DrawRule(None, 2, subject=subject)], materials=list(db.session.scalars(select(Material))), read_first=False),
        organiser)
    assert not item.read_first
    assert quizzes.start_attempt(item, db.session.get(User, world.user["m_a1"])).paper


def test_immediate_feedback_names_the_subject_and_part_as_its_source(app, world, work, login):
    with app.app_context():
        organiser = _organiser(world)
        subject = db.session.get(KnowledgePoint, work.parts["组织生活"]).subject
        item = assignments.create_assignment(scope_for(organiser), _data(
            db.session.get(Organisation, world.org["a1"]), [DrawRule(None, 2, subject=subject)],
            show_answers=ShowAnswers.IMMEDIATE, kind=AssignmentKind.STUDY), organiser)
        attempt = quizzes.start_attempt(item, db.session.get(User, world.user["m_a1"]))
        parts = {db.session.get(Question, e["q"]).point.parent.name for e in attempt.paper}
        sources = {f'data-source="支部工作 · {part}"' for part in parts}
        attempt_id = attempt.id
    page = login(world.login["m_a1"]).get(f"/quiz/attempts/{attempt_id}").get_data(as_text=True)
    assert all(s in page for s in sources) and "党章" not in page.split("data-source=")[1][:10]
