"""Issue 14, deliver 5, in a real browser on a 360×640 phone: a branch secretary signs in and lands on
their branch (the open task with its completion, who has not finished, the reminder to copy), and the
task opens on the branch page; an organiser signs in and lands on the committee overview (completion per
organisation, the weak branch flagged). Screenshots go under test-results/browser/<test>/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from learnhub.extensions import db
from learnhub.models import Assignment, Organisation, User
from learnhub.services.exam import quizzes

from ..factories import PASSWORD, make_user

pytestmark = pytest.mark.browser


def sign_in(page, base: str, member_no: str) -> None:
    page.goto(f"{base}/auth/login")
    page.fill("#identifier", member_no)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_secretary_and_organiser_land_on_their_own_pages(app, world, live_server, small):
    page, a = small, world.assignment_a
    with app.app_context():
        a3 = db.session.get(Organisation, world.org["a3"])
        for i in range(4):
            make_user(a3, f"a3x{i}", f"党员丙{i}")
        db.session.commit()
        attempt = quizzes.start_attempt(db.session.get(Assignment, a), db.session.get(User, world.user["m_a1"]))
        quizzes.submit_attempt(attempt, None, 60)

    sign_in(page, live_server, world.login["sec_a1"])
    expect(page.locator("h1")).to_have_text("第一支部")
    task = page.locator(f"#task-{a}")
    expect(task.locator(".landing-count")).to_contain_text("已完成 1 / 3 人")
    expect(task.locator(".unfinished")).to_contain_text("党员甲一乙")
    expect(task.locator(".unfinished")).to_contain_text("书记甲一")
    reminder = task.locator("textarea.reminder").input_value()
    assert reminder.startswith("【学习提醒】《党委A测验》") and "第一支部已完成 1/3 人" in reminder
    expect(task.locator("button[data-copy]")).to_be_visible()  # the copy button shows once its script runs
    expect(page.get_by_text("需要关注的支部")).to_have_count(0)
    assert fits(page)
    page.shot("01-secretary-landing")
    # The task opens on the branch page; 任务 still leads to the secretary's own tasks.
    task.locator("a.landing-title").click()
    page.wait_for_url(f"**/reports/assignments/{a}/units/{world.org['a1']}")
    expect(page.locator("h1")).to_have_text("第一支部")
    page.click(".nav a:text-is('任务')")
    expect(page.locator("h2").first).to_have_text("我的学习任务")
    page.click("a.brand")
    expect(page.locator("h1")).to_have_text("第一支部")
    page.click(".nav button[type=submit]")  # 退出

    sign_in(page, live_server, world.login["org_a"])
    expect(page.locator("h1")).to_have_text("党委A")
    task = page.locator(f"#task-{a}")
    expect(task.locator(".landing-count")).to_contain_text("党委A 已完成 1 / 12 人")
    rows = task.locator(".landing-orgs li")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("党委直属")
    expect(rows.nth(2)).to_contain_text("第三支部")
    expect(rows.nth(2)).to_contain_text("需关注")
    expect(task.locator(".landing-weak a")).to_have_text("第三支部")
    assert fits(page)
    page.shot("02-organiser-landing")
    task.locator("a.landing-title").click()
    page.wait_for_url(f"**/reports/assignments/{a}")
    expect(page.get_by_role("heading", name="需要关注的支部")).to_be_visible()
    # The report's rows add up to its total: the organiser and the admin sit in 党委直属.
    expect(page.locator("tbody tr").nth(1)).to_contain_text("党委直属")
    assert fits(page)
    page.shot("03-committee-report")
