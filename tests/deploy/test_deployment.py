"""deploy/ as it runs in production: nginx in front of two app servers on PostgreSQL and Redis (conftest.py).

A member takes an exam on a phone through nginx while one app server is killed with SIGKILL: she goes on
through the other, and every answer the page showed as 已保存 is in the database. Failed logins lock an
account on both servers at once; /healthz tells a load balancer when Redis is gone; nginx serves the
static files itself with a year's cache, refuses oversized uploads and sends plain HTTP to HTTPS.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import ssl
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from ..browser.conftest import PHONE
from ..browser.test_hand_in import attempt_of, give, give_online, graded
from ..browser.test_phone_flows import open_quiz
from ..conftest import PG_URL
from ..factories import PASSWORD
from .conftest import ROOT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not PG_URL, reason="the deployment test runs on the PostgreSQL pass (LEARNHUB_TEST_DATABASE_URL)"),
]
ARTIFACTS = ROOT / "test-results" / "deploy"


def through_nginx(stack, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """One HTTPS request to nginx (its certificate is the test's own): status, headers, body."""
    conn = http.client.HTTPSConnection("127.0.0.1", stack.nginx.https_port, timeout=15,
                                       context=ssl._create_unverified_context())
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


class DirectPhone:
    """A phone's requests sent straight to one app server or another, as nginx forwards them (HTTPS, the
    phone's address in X-Forwarded-For), keeping its cookies from server to server."""

    def __init__(self, address: str):
        self.address = address
        self.cookies: dict[str, str] = {}

    def send(self, server, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {"Host": "learnhub.test", "X-Forwarded-Proto": "https", "X-Forwarded-For": self.address,
                   "Referer": "https://learnhub.test/auth/login"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                self.cookies.update({name: morsel.value for name, morsel in SimpleCookie(header).items()})
            return response.status, text
        finally:
            conn.close()

    def log_in(self, server, member_no: str, password: str) -> str:
        status, page = self.send(server, "GET", "/auth/login")
        assert status == 200, page[:500]
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        status, page = self.send(server, "POST", "/auth/login",
                                 {"csrf_token": token, "identifier": member_no, "password": password})
        return "signed in" if status == 302 else page


def test_an_exam_through_nginx_loses_no_answer_when_an_app_server_is_killed(app, world, stack, browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN", ignore_https_errors=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        open_quiz(page, stack.nginx.url, world, "ma1")
        attempt_id = attempt_of(app, world.user["m_a1"]).id
        give_online(page, 0)
        give_online(page, 1)
        give(page, 2)  # on its way as the first server dies: nginx or the page sends it on
        stack.servers[0].kill()
        expect(page.locator("#net")).to_have_text("全部已保存", timeout=30_000)
        assert graded(app, attempt_id) == (False, [1, 2, 3])  # every answer shown as 已保存 is stored
        give_online(page, 3)
        give_online(page, 4)
        assert graded(app, attempt_id) == (False, [1, 2, 3, 4, 5])
        page.reload()  # the paper comes back from the surviving server with every answer
        expect(page.locator("section.q .save-state.saved")).to_have_count(5)
        page.click("#submit-btn")
        page.click("#confirm-yes")
        page.wait_for_url("**/review")
        expect(page.locator("body")).not_to_contain_text("502")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "review-after-a-server-was-killed.png"), full_page=True)
        assert graded(app, attempt_id) == (True, [1, 2, 3, 4, 5])
        assert not errors, f"errors in the page: {errors}"
    finally:
        context.close()


def test_behind_nginx_lock_outs_hold_on_both_servers_and_static_files_uploads_and_health_are_right(world, stack):
    first, second = stack.servers
    thief = DirectPhone("127.0.0.77")
    said = [thief.log_in(server, "ma2", "wrongpass1") for server in (first, second, first, second)]
    # One count for both servers: the tries left go down whichever server answers.
    assert [re.search(r"还可尝试 (\d) 次", page).group(1) for page in said] == ["4", "3", "2", "1"]
    assert "登录失败次数过多" in thief.log_in(first, "ma2", "wrongpass1")
    for server in (first, second):  # the right password waits too, on either server
        assert "登录失败次数过多" in thief.log_in(server, "ma2", PASSWORD)
    assert DirectPhone("127.0.0.78").log_in(second, "ma2", PASSWORD) == "signed in"  # her own phone

    status, _, body = through_nginx(stack, "GET", "/healthz")
    assert (status, json.loads(body)) == (200, {"database": True, "redis": True, "status": "ok"})

    status, _, page = through_nginx(stack, "GET", "/auth/login")
    css = re.search(rb'href="(/static/css/app\.css\?v=[0-9a-f]+)"', page).group(1).decode()
    status, headers, body = through_nginx(stack, "GET", css)
    assert status == 200 and body == (ROOT / "learnhub" / "static" / "css" / "app.css").read_bytes()
    assert css.endswith(hashlib.sha256(body).hexdigest()[:12])
    assert "max-age=31536000" in headers["Cache-Control"] and "immutable" in headers["Cache-Control"]
    assert "Content-Security-Policy" not in headers  # read from disk by nginx, not served by the app

    status, _, _ = through_nginx(stack, "POST", "/admin/questions/import", body=b"x" * (7 * 1024 * 1024),
                                 headers={"Content-Type": "application/octet-stream"})
    assert status == 413  # refused by nginx before any app server reads it

    conn = http.client.HTTPConnection("127.0.0.1", stack.nginx.http_port, timeout=10)
    conn.request("GET", "/auth/login", headers={"Host": "learnhub.test"})
    redirect = conn.getresponse()
    assert (redirect.status, redirect.headers["Location"]) == (301, "https://learnhub.test/auth/login")
    conn.close()

    stack.redis.stop()
    for _ in stack.servers:  # each server, as nginx takes turns
        status, _, body = through_nginx(stack, "GET", "/healthz")
        assert (status, json.loads(body)) == (503, {"database": True, "redis": False, "status": "error"})
