"""deploy/ as it runs in production: nginx in front of two app servers on PostgreSQL and Redis (conftest.py).

Failed logins lock an account on both servers at once; /healthz tells a load balancer when Redis is
gone; nginx serves the static files itself with a year's cache, refuses oversized uploads and sends
plain HTTP to HTTPS. An exam through it while servers and the database fail: test_exam_faults.py.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from ..conftest import PG_URL
from ..factories import PASSWORD
from .conftest import ON_POSTGRESQL_ONLY, ROOT, through_nginx

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not PG_URL, reason=ON_POSTGRESQL_ONLY),
]


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
    # A study material's attachment may be larger (an image 5 MB, a PDF 20 MB, audio 30 MB): nginx lets it
    # through to the app, which answers (here: 400, no CSRF token) instead of nginx's 413.
    status, _, _ = through_nginx(stack, "POST", "/admin/materials/1/attachments", body=b"x" * (7 * 1024 * 1024),
                                 headers={"Content-Type": "application/octet-stream"})
    assert status == 400

    conn = http.client.HTTPConnection("127.0.0.1", stack.nginx.http_port, timeout=10)
    conn.request("GET", "/auth/login", headers={"Host": "learnhub.test"})
    redirect = conn.getresponse()
    assert (redirect.status, redirect.headers["Location"]) == (301, "https://learnhub.test/auth/login")
    conn.close()

    stack.redis.stop()
    for _ in stack.servers:  # each server, as nginx takes turns
        status, _, body = through_nginx(stack, "GET", "/healthz")
        assert (status, json.loads(body)) == (503, {"database": True, "redis": False, "status": "error"})
