"""Every subject on a small phone (360×640): the weak-branch report of an exam drawn from the 党章 and from
党委A's own subject, with its subject chooser; practice with its subjects and the parts of each. Screenshots
go under test-results/browser/<test>/."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Organisation, Question, User

from ..subject_world import WORK, build_subject, builtin_part, keys_on, subject_assignment, take_paper
from .test_small_phone import fits, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def subject_exam(app, world, monkeypatch):
    from learnhub.services.reports import mastery

    monkeypatch.setattr(mastery, "MIN_MEMBERS", 1)
    monkeypatch.setattr(mastery, "MIN_ANSWERS", 1)
    with app.app_context():
        a = db.session.get(Organisation, world.org["a"])
        ids = build_subject(a, "支部工作", WORK, "zb")
        exam = subject_assignment(a, ids.subject, 6, extra_rules=[{"part_id": builtin_part().id, "count": 2}])
        db.session.commit()
        builtin = set(db.session.scalars(select(Question.key).where(Question.owner_org_id.is_(None))))
        for key, right in (("m_a1", set(ids.questions)), ("sec_a1", keys_on({"三会一课"}, ids)),
                           ("m_a2", keys_on({"党费收缴"}, ids))):
            take_paper(exam, db.session.get(User, world.user[key]), right=builtin | right)
        return ids, exam.id


def test_weak_branch_report_with_its_subject_chooser(app, world, subject_exam, live_server, small):
    ids, exam_id = subject_exam
    page = small
    log_in(page, live_server, "orga")
    page.goto(f"{live_server}/reports/assignments/{exam_id}?org={world.org['ga']}")
    assert "科目：党章、支部工作" in page.locator("#assignment-subjects").inner_text()
    chooser = page.locator("#subjects a")
    assert chooser.all_inner_texts() == ["全部科目", "党章", "支部工作"]
    assert fits(page)
    page.shot("01-report-every-subject")
    page.click("#subjects >> text=支部工作")
    assert page.locator("#subjects a[aria-current]").inner_text() == "支部工作"
    weak = page.locator("#weak-units").inner_text()
    assert "第二支部" in weak and "三会一课" in weak
    assert "支部工作 · 组织生活" in page.locator("table.heat thead").inner_text()
    assert fits(page)
    for box in page.locator("#subjects a").all():  # touch targets
        assert box.bounding_box()["height"] >= 44
    page.shot("02-report-one-subject")
    page.shot("03-report-one-subject-screen", full=False)


def test_practice_with_subjects_and_their_parts(app, world, subject_exam, live_server, small):
    ids, _ = subject_exam
    page = small
    log_in(page, live_server, "ma3")
    page.goto(f"{live_server}/practice/")
    assert page.locator("#subjects a").all_inner_texts() == ["全部科目", "党章", "支部工作"]
    parts = page.locator("#parts").inner_text()
    assert "第一章 党员" in parts and "支部工作" in parts and "组织生活" in parts and "党员管理" in parts
    assert fits(page)
    page.shot("01-practice-every-subject")
    page.click("#subjects >> text=支部工作")
    assert "每日一练 · 支部工作" in page.locator("#daily").inner_text()
    assert "第一章 党员" not in page.locator("#parts").inner_text()
    assert fits(page)
    page.shot("02-practice-one-subject")
    page.click("#parts >> text=组织生活")
    assert "支部工作 · 组织生活" in page.locator("main, body").first.inner_text()
    page.locator("section.q .opt").first.click()
    page.click("form[action$='/practice/answer'] button[type=submit]")
    assert "出处：支部工作 · 组织生活" in page.locator(".expl").inner_text()
    assert fits(page)
    page.shot("03-practice-part-feedback")


def test_organiser_assigns_read_then_quiz_on_a_subject(app, world, subject_exam, live_server, small):
    ids, _ = subject_exam
    page = small
    log_in(page, live_server, "orga")
    page.goto(f"{live_server}/admin/assignments/new")
    page.fill("#title", "先学后测：支部工作")
    page.select_option("#org_id", str(world.org["a3"]))
    page.locator("input[name=materials]").first.check()
    page.select_option("#read_first", "1")
    page.select_option("#rules-0-node", f"s{ids.subject}")
    page.fill("#rules-0-count", "3")
    assert fits(page)
    page.shot("01-assignment-form")
    page.click("form[method=post] button[type=submit] >> text=布置")
    assert "已布置「先学后测：支部工作」" in page.content()
    page.click("text=退出")
    log_in(page, live_server, "ma3")
    page.click("text=先学后测：支部工作")
    assert "请先学完上面的学习资料" in page.locator("#read-first").inner_text()
    assert "科目：支部工作" in page.content()
    page.shot("02-member-reads-first")
