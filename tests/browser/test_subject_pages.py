"""学习科目 on a 360×640 phone: an organiser creates a subject, adds a part and two points, and writes a
single-choice question (a mistake first, said beside the options), without scrolling sideways."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import KnowledgePoint, Question, Subject

from .test_phone_flows import log_in, no_horizontal_scroll

pytestmark = pytest.mark.browser


def test_an_organiser_builds_a_subject_and_writes_a_question_on_a_small_phone(app, world, live_server, small):
    page = small
    log_in(page, live_server, "orga")
    page.goto(f"{live_server}/reports/")
    page.click("text=学习科目")
    page.click("#new-subject")
    page.fill("#name", "支部工作条例")
    page.fill("#description", "学习《中国共产党支部工作条例（试行）》。")
    page.click("text=创建科目")
    assert page.get_by_text("已创建科目「支部工作条例」").is_visible()
    page.fill("#part-name", "第一章 总则")
    page.click("#add-part button")
    page.click("text=管理这一章节")
    for name in ("支部的设置", "“三会一课”"):
        page.fill("#point-name", name)
        page.click("#add-point button")
        assert page.get_by_text(f"已添加知识点「{name}」").is_visible()
    page.fill("#point-name", "支部的设置")
    page.click("#add-point button")
    assert page.locator("#point-name-error").inner_text().startswith("本科目已有名为「支部的设置」的知识点")
    assert no_horizontal_scroll(page)
    page.shot("01-part")
    page.click("#points >> text=“三会一课”")
    page.click("#questions >> text=单选题")
    page.fill("#stem", "党支部党员大会一般每季度召开几次？")
    for field, text in (("#option_a", "一次"), ("#option_b", "两次"), ("#option_c", "两次")):
        page.fill(field, text)
    page.check("input[name=correct][value=A]")
    page.fill("#explanation", "《支部工作条例》第十八条：党员大会一般每季度召开1次。")
    page.click("text=保存并再写一道单选题")
    assert "选项不能为空或重复" in page.locator("#options-error").inner_text()
    assert page.input_value("#stem") == "党支部党员大会一般每季度召开几次？"  # what was typed stays
    assert no_horizontal_scroll(page)
    page.shot("02-question-error")
    page.fill("#option_c", "三次")
    page.click("button:text-is('保存')")
    assert page.get_by_text("已保存单选题").is_visible()
    with app.app_context():
        subject = db.session.scalar(select(Subject).filter_by(name="支部工作条例"))
        point = db.session.scalar(select(KnowledgePoint).filter_by(subject_id=subject.id, name="“三会一课”"))
        question = db.session.scalar(select(Question).filter_by(point_id=point.id))
        assert question.owner_org_id == world.org["a"] and question.answer == [0] and question.options == ["一次", "两次", "三次"]
    page.goto(f"{live_server}/admin/subjects/{subject.id}")
    assert page.get_by_text("1 道题").first.is_visible()
    assert no_horizontal_scroll(page)
    page.shot("03-subject")
    page.goto(f"{live_server}/admin/subjects/nodes/{point.id}/questions/new?kind=fill")
    page.shot("04-fill-form")
    page.goto(f"{live_server}/admin/subjects")
    page.shot("05-subjects")
