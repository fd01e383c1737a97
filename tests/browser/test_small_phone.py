"""Issue 14 on a small phone (360×640, the narrowest common Android screen), in a real browser: a login
that forgives how the phone typed it, with a show-password box; a refused form that brings its error into
view; the retry prompt after a failed paper; the mistake book's list. Screenshots of every page changed
go under test-results/browser/<test>/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Assignment, MistakeCard, PracticeMode, Question, User, utcnow
from learnhub.services.exam import quizzes

from ..factories import PASSWORD, practise
from ..practice.test_practice import wrong

pytestmark = pytest.mark.browser


def log_in(page, base: str, typed: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/auth/login")
    page.fill("#identifier", typed)
    page.fill("#password", password)
    page.click("button[type=submit]")


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def in_view(page, selector: str) -> bool:
    """The element is inside the viewport, below the sticky top bar."""
    return page.evaluate("""(sel) => {
        const r = document.querySelector(sel).getBoundingClientRect();
        const bar = document.querySelector('.topbar').getBoundingClientRect().bottom;
        return r.top >= bar && r.bottom <= window.innerHeight;
    }""", selector)


def test_a_full_width_lower_case_login_with_the_password_shown(app, world, live_server, small):
    page = small
    page.goto(f"{live_server}/auth/login")
    assert page.get_attribute("#identifier", "autocapitalize") == "none"
    assert page.get_attribute("#identifier", "spellcheck") == "false"
    box = page.locator("[data-show-password] input")
    assert box.is_visible()
    page.fill("#password", "wrong-pass")
    box.check()
    assert page.get_attribute("#password", "type") == "text"
    page.shot("01-login-password-shown")
    box.uncheck()
    assert page.get_attribute("#password", "type") == "password"
    # A wrong password: the tries left, beside the password, in view; the name stays as typed.
    page.fill("#identifier", "ＭＡ１")
    page.click("button[type=submit]")
    assert "还可尝试 4 次" in page.locator("#password-error").inner_text()
    assert page.input_value("#identifier") == "ＭＡ１"
    expect(page.locator("#password")).to_be_focused()
    assert in_view(page, "#password")
    page.shot("02-login-tries-left", full=False)
    # The same name in full-width lower case, with the right password, logs in.
    page.fill("#identifier", "ｍａ１")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    assert fits(page)


def test_the_change_password_page_says_the_rule_and_has_a_way_out(app, world, live_server, small):
    with app.app_context():
        db.session.get(User, world.user["m_a1"]).must_change_password = True
        db.session.commit()
    page = small
    log_in(page, live_server, "13800000001")
    page.wait_for_url("**/auth/change-password")
    assert page.get_by_text("至少 8 位").is_visible() and page.get_by_role("button", name="退出登录").is_visible()
    page.fill("#current", PASSWORD)
    page.fill("#new", "12345678")
    page.fill("#confirm", "12345678")
    page.click("button:has-text('保存新密码')")
    assert page.locator("#new-error").inner_text() == "这个密码太常见，很容易被猜到，请换一个"
    expect(page.locator("#new")).to_be_focused()  # forms.js runs once the page has loaded: wait for it
    assert in_view(page, "#new")
    assert fits(page)
    page.shot("01-change-password-refused", full=False)
    page.click("button:has-text('退出登录')")
    page.wait_for_url("**/auth/login")


def test_a_refused_exemption_keeps_the_reason_and_scrolls_to_the_note(app, world, live_server, small):
    page = small
    log_in(page, live_server, "seca1")
    page.goto(f"{live_server}/reports/assignments/{world.assignment_a}/members/{world.user['m_a1']}")
    page.select_option("#reason", "other")
    page.click("button:has-text('设为免学')")
    page.wait_for_selector("#exempt-note-error")
    assert page.locator("#exempt-note-error").inner_text() == "选择“其他”时请写明原因"
    assert page.input_value("#reason") == "other", "the reason chosen was reset"
    expect(page.locator("#exempt-note")).to_be_focused()
    assert in_view(page, "#exempt-note")
    assert fits(page)
    page.shot("01-exemption-refused", full=False)
    # A refused 代录 keeps the score typed, with its error in view.
    page.fill("#score", "101")
    page.fill("#proxy-note", "纸质试卷")
    page.click("button:has-text('代录成绩')")
    page.wait_for_selector("#score-error")
    assert page.input_value("#score") == "101" and page.input_value("#proxy-note") == "纸质试卷"
    expect(page.locator("#score")).to_be_focused()
    assert in_view(page, "#score")
    page.shot("02-proxy-refused", full=False)


def test_an_empty_key_correction_brings_its_error_into_view(app, world, live_server, small):
    with app.app_context():
        attempt = quizzes.start_attempt(db.session.get(Assignment, world.assignment_a), db.session.get(User, world.user["m_a1"]))
        quizzes.submit_attempt(attempt, None, 60)
    page = small
    log_in(page, live_server, "admin")
    page.goto(f"{live_server}/reports/assignments/{world.assignment_a}/items")
    form = page.locator("form.fixkey").last
    form.scroll_into_view_if_needed()
    form.locator("button").click()
    page.wait_for_selector("#answer-error")
    assert page.locator("#answer-error").inner_text() == "请填写正确答案"
    assert "不在选项" not in page.content()
    expect(page.locator("#answer")).to_be_focused()
    assert in_view(page, "#answer")
    page.shot("01-key-correction-empty", full=False)


def test_a_failed_member_is_offered_a_retry_on_home_and_the_result(app, world, live_server, small):
    page = small
    log_in(page, live_server, "MA1")
    page.goto(f"{live_server}/quiz/{world.assignment_a}")
    page.click("text=开始答题")
    page.wait_for_url("**/quiz/attempts/*")
    page.click("#submit-btn")
    page.click("#confirm-yes")  # nothing answered: 0 points
    page.wait_for_url("**/review")
    assert page.get_by_text("未合格 · 还可再答 1 次（截止前）").is_visible()
    assert fits(page)
    page.shot("01-result-retry")
    page.goto(f"{live_server}/")
    row = page.locator(f"#task-{world.assignment_a}")
    assert row.get_by_text("未合格 · 0分").is_visible() and row.get_by_text("还可再答 1 次").is_visible()
    assert fits(page)
    page.shot("02-home-retry")
    row.get_by_role("button", name="再答一次").click()
    page.wait_for_url("**/quiz/attempts/*")
    assert "/review" not in page.url


def test_a_paper_whose_time_ran_out_says_so_on_home(app, world, live_server, small):
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        assignment.time_limit_minutes = 10
        attempt = quizzes.start_attempt(assignment, db.session.get(User, world.user["m_a1"]))
        attempt.deadline = utcnow() - timedelta(minutes=5)
        db.session.commit()
    page = small
    log_in(page, live_server, "ma1")
    row = page.locator(f"#task-{world.assignment_a}")
    assert row.get_by_text("时间已到，已自动交卷").is_visible() and not row.get_by_text("答题中").count()
    page.shot("01-home-time-up")
    page.goto(f"{live_server}/quiz/{world.assignment_a}")
    assert not page.get_by_text("继续答题").count() and page.get_by_text("时间已到，已自动交卷").first.is_visible()
    page.shot("02-task-time-up")


def test_the_mistake_book_lists_its_questions_and_one_is_practised_now(app, world, live_server, small):
    with app.app_context():
        member = db.session.get(User, world.user["m_a1"])
        for q in list(db.session.scalars(select(Question).order_by(Question.key)))[:4]:
            practise(member, q, wrong(q), PracticeMode.CHAPTER)
        first = db.session.scalars(select(MistakeCard).order_by(MistakeCard.question_key)).first()
        first.due = utcnow() - timedelta(hours=1)
        db.session.commit()
    page = small
    log_in(page, live_server, "ma1")
    page.goto(f"{live_server}/practice/")
    assert page.get_by_text("共 4 题 · 今日待复习 1 题").is_visible()
    page.shot("01-practice-home")
    page.click("text=查看全部错题，随时练习")
    page.wait_for_url("**/practice/mistakes")
    items = page.locator("ul.mistakes > li")
    assert items.count() == 4 and items.first.get_by_text("今天复习").is_visible()
    assert items.nth(1).locator(".tag").inner_text().endswith("日复习")
    assert fits(page)
    page.shot("02-mistake-book")
    items.nth(2).get_by_role("link", name="现在练习").click()
    assert page.get_by_text("提前练习").is_visible()
    page.shot("03-practise-now")
    page.locator("label.opt").first.click()
    page.click("button:has-text('提交')")
    page.wait_for_url("**/practice/answers/*")
    page.shot("04-feedback")
    page.click("text=回到错题本")
    page.wait_for_url("**/practice/mistakes")


def test_a_report_from_the_review_comes_back_to_the_question_and_reaches_the_queue(app, world, live_server, small):
    with app.app_context():
        attempt = quizzes.start_attempt(db.session.get(Assignment, world.assignment_a), db.session.get(User, world.user["m_a1"]))
        quizzes.submit_attempt(attempt, None, 60)
        attempt_id = attempt.id
    page = small
    log_in(page, live_server, "ma1")
    page.goto(f"{live_server}/quiz/attempts/{attempt_id}/review")
    second = page.locator("section.q").nth(1)
    seen = second.locator("ol.opts li").all_inner_texts()
    second.get_by_role("link", name="题目有误？").click()
    page.wait_for_url("**/report?**")
    assert page.locator("ol.opts li").all_inner_texts() == seen
    page.shot("01-report-page")
    page.fill("#note", "选项B的说法不准确")
    page.click("button:has-text('提交给组织员')")
    page.wait_for_url(f"**/quiz/attempts/{attempt_id}/review#r2")
    # The notice stands where the member is, above the question they reported, both in view.
    notice = page.locator(".flash", has_text="已提交，感谢指正")
    assert notice.is_visible() and in_view(page, ".flash") and in_view(page, "#r2 .qhead")
    page.shot("02-back-at-the-review", full=False)
    page.goto(f"{live_server}/auth/login")  # signed in: sent home; sign out through the page's own button
    page.click("nav button:has-text('退出')")
    log_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/question-reports")
    assert page.locator("ol.opts li").all_inner_texts()[0].startswith(seen[0])
    assert fits(page)
    page.shot("03-queue")
    page.locator(".card a[href^='/admin/questions/']").first.click()
    page.wait_for_url("**/admin/questions/*")
    assert page.get_by_role("heading", name="编辑题目").is_visible()


def test_the_branch_reminder_names_who_may_try_again(app, world, live_server, small):
    with app.app_context():
        member = db.session.get(User, world.user["m_a1"])
        quizzes.submit_attempt(quizzes.start_attempt(db.session.get(Assignment, world.assignment_a), member), None, 60)
        name = member.name
    page = small
    log_in(page, live_server, "seca1")
    page.goto(f"{live_server}/reports/assignments/{world.assignment_a}/units/{world.org['a1']}")
    assert name in page.locator("#may-retry").inner_text()
    assert f"以下同志未合格，截止前还可再答：{name}。" in page.input_value("#reminder")
    assert fits(page)
    page.shot("01-branch-page")
