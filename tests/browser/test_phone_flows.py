"""What a member and a secretary do on a phone, in a real browser."""

from __future__ import annotations


import openpyxl
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Attempt, Response, User

from ..factories import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, base, member_no, password=PASSWORD):
    page.goto(f"{base}/auth/login")
    page.fill("#identifier", member_no)
    page.fill("#password", password)
    page.click("button[type=submit]")


def open_quiz(page, base, world, member_no):
    """Log in as the member and start (or resume) the quiz of 党委A."""
    log_in(page, base, member_no)
    page.goto(f"{base}/quiz/{world.assignment_a}")
    page.click("text=开始答题")
    page.wait_for_url("**/quiz/attempts/*")


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_member_changes_password_reads_and_takes_the_quiz(app, world, live_server, phone):
    with app.app_context():
        db.session.get(User, world.user["m_a1"]).must_change_password = True
        db.session.commit()
    page = phone
    log_in(page, live_server, "ma1")
    page.wait_for_url("**/auth/change-password")
    page.shot("01-change-password")
    page.fill("#current", PASSWORD)
    page.fill("#new", "newpass99")
    page.fill("#confirm", "newpass99")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    assert page.get_by_text("党委A测验").is_visible()
    page.shot("02-home")
    page.goto(f"{live_server}/study/c01-test")
    assert page.locator("article.prose strong", has_text="十八岁").is_visible()
    page.shot("03-material")
    page.click("text=我已学完")
    assert page.get_by_text("你已学完这篇资料").is_visible()

    page.goto(f"{live_server}/quiz/{world.assignment_a}")
    page.click("text=开始答题")
    page.wait_for_url("**/quiz/attempts/*")
    assert no_horizontal_scroll(page)
    page.shot("04-quiz")
    sections = page.locator("section.q")
    for i in range(sections.count()):
        section = sections.nth(i)
        kind = section.get_attribute("data-kind")
        if kind == "fill":
            section.locator("input[type=text]").first.fill("一年")
        else:
            section.locator("label.opt").first.click()
        section.locator(".save-state.saved").wait_for()
    assert page.locator("#net").inner_text() == "全部已保存"
    page.click("#submit-btn")
    assert page.locator("#confirm").is_visible()  # an in-page dialog, not window.confirm()
    page.shot("05-confirm")
    page.click("#confirm-yes")
    page.wait_for_url("**/review")
    assert page.get_by_text("正确答案").first.is_visible()
    assert no_horizontal_scroll(page)
    page.shot("06-review")
    with app.app_context():
        attempt = db.session.scalar(select(Attempt).where(Attempt.user_id == world.user["m_a1"]))
        assert attempt.is_finished and attempt.total == 5


def test_answers_given_offline_reach_the_server_when_the_network_returns(app, world, live_server, phone):
    page = phone
    open_quiz(page, live_server, world, "ma1")
    sections = page.locator("section.q")
    sections.nth(0).locator("label.opt").first.click()
    sections.nth(0).locator(".save-state.saved").wait_for()
    page.context.set_offline(True)
    for i in (1, 2):
        sections.nth(i).locator("label.opt").first.click()
    sections.nth(2).locator(".save-state.pending").wait_for()
    assert "网络" in page.locator("#net").inner_text()
    page.shot("01-offline")
    page.context.set_offline(False)
    expect(page.locator("#net")).to_have_text("全部已保存")
    page.shot("02-back-online")
    page.reload()
    assert page.locator("section.q input:checked").count() == 3
    with app.app_context():
        attempt = db.session.scalar(select(Attempt).where(Attempt.user_id == world.user["m_a1"]))
        saved = db.session.scalar(select(func.count()).select_from(Response).where(Response.attempt_id == attempt.id))
        assert saved == 3


def test_answers_made_offline_survive_closing_the_page(app, world, live_server, phone):
    page = phone
    open_quiz(page, live_server, world, "ma1")
    url = page.url
    page.context.set_offline(True)
    page.locator("section.q").nth(0).locator("label.opt").nth(1).click()
    page.locator("section.q").nth(0).locator(".save-state.pending").wait_for()
    page.goto("about:blank")  # the page is closed while still offline
    page.context.set_offline(False)
    page.goto(url)  # reopened: the answer waiting in the browser is restored and sent
    expect(page.locator("#net")).to_have_text("全部已保存")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_an_answer_given_after_the_session_ended_is_sent_after_signing_in_again(app, world, live_server, phone):
    """Signed out elsewhere mid-quiz (a password reset, "log out everywhere"): the page says so, keeps
    the answer on the phone, and sends it once the member has signed in and reopened the quiz."""
    page = phone
    open_quiz(page, live_server, world, "ma1")
    url = page.url
    sections = page.locator("section.q")
    sections.nth(0).locator("label.opt").first.click()
    sections.nth(0).locator(".save-state.saved").wait_for()
    with app.app_context():
        db.session.get(User, world.user["m_a1"]).session_version += 1
        db.session.commit()
    sections.nth(1).locator("label.opt").first.click()
    expect(page.locator("#net")).to_contain_text("登录已失效")
    page.shot("01-signed-out")
    log_in(page, live_server, "ma1")
    page.goto(url)
    expect(page.locator("#net")).to_have_text("全部已保存")
    with app.app_context():
        attempt = db.session.scalar(select(Attempt).where(Attempt.user_id == world.user["m_a1"]))
        assert db.session.scalar(select(func.count()).select_from(Response).where(Response.attempt_id == attempt.id)) == 2


def test_secretary_sees_the_branch_and_downloads_excel(app, world, live_server, phone):
    page = phone
    log_in(page, live_server, "seca1")
    page.goto(f"{live_server}/reports/assignments/{world.assignment_a}/units/{world.org['a1']}")
    assert page.locator("#unfinished .tag", has_text="党员甲一乙").is_visible()
    page.click("#copy-reminder")
    expect(page.locator("#copy-done")).to_be_visible()
    assert "党员甲一乙" in page.locator("#reminder").input_value()
    assert no_horizontal_scroll(page)
    page.shot("01-branch")
    with page.expect_download() as info:
        page.click("text=导出本支部成绩 Excel")
    path = page.artifacts / "export.xlsx"
    info.value.save_as(path)
    book = openpyxl.load_workbook(path)
    names = [row[1] for row in book.active.iter_rows(min_row=5, values_only=True)]
    assert "党员甲一" in names and "党员乙一" not in names


def test_immediate_feedback_locks_each_answer_and_shows_the_key(app, world, live_server, phone):
    with app.app_context():
        from learnhub.models import Assignment, ShowAnswers

        db.session.get(Assignment, world.assignment_a).show_answers = ShowAnswers.IMMEDIATE
        db.session.commit()
    page = phone
    open_quiz(page, live_server, world, "ma1")
    first = page.locator("section.q").nth(0)
    first.locator("label.opt").first.click()
    first.locator("button.confirm").click()
    expect(first.locator(".fb")).to_contain_text("正确答案")
    assert first.locator("input").first.is_disabled()
    page.shot("01-immediate")
    page.reload()
    expect(page.locator("section.q").nth(0).locator(".fb")).to_contain_text("正确答案")
