"""An exam on a phone through nginx (deploy/'s site, conftest.py) while what is behind it fails.

One app server is killed with SIGKILL mid-exam: the member goes on through the other. Then PostgreSQL
crashes and starts again: the answers given meanwhile wait on the phone, any page opened says so in
Chinese, and they are stored once it is back. Every answer the page showed as 已保存 is in the
database at each step, and the hand-in grades all of them. The database is a private cluster
(conftest.PrivatePostgres), so the machine's own is never stopped.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from learnhub.extensions import db

from ..browser.conftest import PHONE
from ..browser.test_hand_in import attempt_of, give, give_online, graded
from ..browser.test_phone_flows import open_quiz
from ..conftest import PG_URL
from .conftest import ON_POSTGRESQL_ONLY, ROOT, PrivatePostgres, through_nginx

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not PG_URL, reason=ON_POSTGRESQL_ONLY),
]
ARTIFACTS = ROOT / "test-results" / "deploy"


@pytest.fixture
def private_postgres():
    cluster = PrivatePostgres()
    yield cluster
    cluster.remove()


@pytest.fixture
def database_url(private_postgres) -> str:
    """The app, the world and the app servers all use the private cluster."""
    return private_postgres.url


def health(stack) -> tuple[int, dict]:
    status, _, body = through_nginx(stack, "GET", "/healthz")
    return status, json.loads(body)


def test_an_exam_through_nginx_loses_no_answer_when_a_server_dies_and_the_database_restarts(
        app, world, stack, browser, private_postgres):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN", ignore_https_errors=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        open_quiz(page, stack.nginx.url, world, "ma1")
        attempt_id = attempt_of(app, world.user["m_a1"]).id
        give_online(page, 0)
        give(page, 1)  # on its way as the first server dies: nginx or the page sends it on
        stack.servers[0].kill()
        expect(page.locator("#net")).to_have_text("全部已保存", timeout=30_000)
        assert graded(app, attempt_id) == (False, [1, 2])  # every answer shown as 已保存 is stored
        give_online(page, 2)
        assert graded(app, attempt_id) == (False, [1, 2, 3])

        private_postgres.crash()
        give(page, 3)
        page.locator("section.q").nth(3).locator(".save-state.pending").wait_for()
        expect(page.locator("#net")).to_have_text("未保存，等待网络")
        assert health(stack) == (503, {"database": False, "redis": True, "status": "error"})
        other = context.new_page()  # a page opened meanwhile is a page in Chinese, not an error of nginx's
        other.goto(f"{stack.nginx.url}/")
        expect(other.locator("body")).to_contain_text("暂时连不上数据库")
        other.screenshot(path=str(ARTIFACTS / "database-down.png"), full_page=True)
        other.close()
        private_postgres.start()
        with app.app_context():  # the test's own connections died with the database too
            db.engine.dispose()

        expect(page.locator("#net")).to_have_text("全部已保存", timeout=30_000)  # the page resent it by itself
        assert graded(app, attempt_id) == (False, [1, 2, 3, 4])
        assert health(stack)[0] == 200
        give_online(page, 4)
        page.reload()  # the paper comes back from the surviving server with every answer
        expect(page.locator("section.q .save-state.saved")).to_have_count(5)
        page.click("#submit-btn")
        page.click("#confirm-yes")
        page.wait_for_url("**/review")
        page.screenshot(path=str(ARTIFACTS / "review-after-the-faults.png"), full_page=True)
        assert graded(app, attempt_id) == (True, [1, 2, 3, 4, 5])
        assert not errors, f"errors in the page: {errors}"
    finally:
        context.close()
