"""Issue 14, item 2 on a 360×640 phone: 复测 opens a form that says what will happen, a refused form keeps
what was typed and shows why beside the field, the re-check can be withdrawn after a confirmation; and
leaving an unfinished paper by a link asks first, in the page. Screenshots under test-results/browser/<test>/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from learnhub.extensions import db
from learnhub.models import Assignment, User
from learnhub.services.reports import mastery
from learnhub.services.exam import quizzes

from ..reports.test_weak import RIGHT, take
from .test_small_phone import fits, in_view, log_in

pytestmark = pytest.mark.browser


def test_recheck_form_asks_first_and_the_recheck_can_be_withdrawn(app, world, live_server, small, monkeypatch):
    monkeypatch.setattr(mastery, "MIN_MEMBERS", 1)
    monkeypatch.setattr(mastery, "MIN_ANSWERS", 1)
    for key, right in RIGHT.items():
        take(app, world, key, right)
    page = small
    log_in(page, live_server, "seca1")
    page.goto(f"{live_server}/reports/assignments/{world.assignment_a}/units/{world.org['a1']}")
    page.get_by_role("link", name="就这些知识点给本支部布置复测").click()
    expect(page.locator("#what")).to_contain_text("将向第一支部的 3 名党员发布这份复测考试")
    expect(page.get_by_role("checkbox", name="预备期")).to_be_checked()
    expect(page.locator("#count")).to_have_value("5")
    assert fits(page)
    page.shot("01-recheck-form")

    page.fill("#count", "9")
    page.fill("#time_limit_minutes", "20")
    page.get_by_role("button", name="确认发布（3 人）").click()
    expect(page.locator("#count-error")).to_contain_text("只有 5 道题，不够出 9 道")
    expect(page.locator("#count")).to_be_focused()
    assert in_view(page, "#count") and fits(page)
    expect(page.locator("#time_limit_minutes")).to_have_value("20")
    page.shot("02-recheck-error", full=False)

    page.fill("#count", "4")
    page.get_by_role("button", name="确认发布（3 人）").click()
    expect(page.locator(".flash-success")).to_contain_text("已向第一支部的 3 名党员发布")
    page.get_by_role("link", name="撤回", exact=True).click()
    expect(page.locator("#withdraw")).to_contain_text("撤回后，第一支部的 3 名党员的任务列表中将不再有这项任务")
    page.shot("03-withdraw-confirm")
    page.get_by_role("button", name="确认撤回").click()
    expect(page.locator(".flash-success")).to_contain_text("已撤回")
    page.shot("04-withdrawn")


def test_leaving_an_unfinished_paper_asks_in_the_page(app, world, live_server, small):
    with app.app_context():
        attempt = quizzes.start_attempt(db.session.get(Assignment, world.assignment_a), db.session.get(User, world.user["m_a1"]))
        paper = f"{live_server}/quiz/attempts/{attempt.id}"
    page = small
    log_in(page, live_server, "ma1")
    page.goto(paper)
    page.locator("#q1 .opt").first.click()
    expect(page.locator("#net")).to_have_text("全部已保存")

    page.get_by_role("link", name="任务", exact=True).click()
    dialog = page.get_by_role("dialog", name="离开答题页？")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("已作答的题目都已保存。离开后计时不会暂停")
    expect(page.locator("#leave-stay")).to_be_focused()
    assert page.url == paper
    page.shot("01-leave-dialog", full=False)

    page.keyboard.press("Escape")  # stays, as 继续答题 does
    expect(dialog).to_be_hidden()
    assert page.url == paper
    page.get_by_role("link", name="学习", exact=True).click()
    dialog.get_by_role("button", name="继续答题").click()
    expect(dialog).to_be_hidden()
    assert page.url == paper

    page.get_by_role("link", name="学习", exact=True).click()
    dialog.get_by_role("button", name="离开").click()
    page.wait_for_url(f"{live_server}/study/")
    page.go_back()
    expect(page.locator("#q1 .save-state")).to_have_text("已保存")  # the answer was kept
