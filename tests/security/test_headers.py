"""Response headers on every kind of answer, session cookie flags, and sessions that end when they must:
after a password change, an admin's reset, or disabling the account."""

from __future__ import annotations

import os
import subprocess
import sys
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import update

from learnhub.extensions import db
from learnhub.models import User
from learnhub.services.auth import accounts

from .conftest import ANONYMOUS, login_with_token

STRICT_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
ROLES = [ANONYMOUS, "m_a1", "sec_a1", "org_a", "admin"]


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = [w.lower() for w in words[1:]]
    return directives


def header_problems(response, where: str) -> list[str]:
    problems = []
    csp = response.headers.get("Content-Security-Policy")
    if not csp:
        return [f"{where}: no Content-Security-Policy"]
    d = csp_directives(csp)
    scripts = d.get("script-src", d.get("default-src"))
    if scripts is None:
        problems.append(f"{where}: CSP limits neither script-src nor default-src")
    elif {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(scripts):
        problems.append(f"{where}: script-src allows {scripts}")
    if d.get("frame-ancestors") != ["'none'"]:
        problems.append(f"{where}: frame-ancestors is {d.get('frame-ancestors')}, not 'none'")
    if d.get("object-src", d.get("default-src")) not in (["'none'"], ["'self'"]):
        problems.append(f"{where}: object-src is {d.get('object-src')}")
    if response.headers.get("X-Content-Type-Options", "").lower() != "nosniff":
        problems.append(f"{where}: X-Content-Type-Options is not nosniff")
    if response.headers.get("Referrer-Policy", "").lower() not in STRICT_REFERRER:
        problems.append(f"{where}: Referrer-Policy {response.headers.get('Referrer-Policy')!r} is not strict")
    return problems


def _sample_urls(app, world, foreign, shared) -> list[str]:
    """Every GET rule of the URL map, built from real objects, plus answers the app makes on its own."""
    b = foreign["committee_b"].ids  # foreign attempts and answers: their 404 pages are sampled too
    objects = dict(
        assignment_id=world.assignment_a, org_id=world.org["a1"], user_id=world.user["m_a1"],
        question_id=shared.builtin_question, part_id=shared.part, slug=shared.material, filename=shared.static_file,
        attempt_id=b["attempt_done"], answer_id=b["practice_answer"], report_id=b["report"], correction_id=b["correction"],
        card_id=b["mistake"], meeting_id=b["meeting"], code=b["meeting_code"], subject_id=b["subject"], node_id=b["node"],
        # 党委A's material and its image: a member and the staff of 党委A get the file itself, with its own headers.
        material_id=foreign["branch_a2"].ids["org_material"], attachment_id=foreign["branch_a2"].ids["org_attachment"],
        number=1,
    )
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods:
            assert set(rule.arguments) <= set(objects), f"teach _sample_urls which object {rule.arguments} name"
            urls.append(rule.build({k: objects[k] for k in rule.arguments}, append_unknown=False)[1])
    extra = ["/no-such-page", "/auth/logout", "/static/no-such-file.css", f"/reports/assignments/{world.assignment_b}"]
    return urls + extra


@pytest.mark.parametrize("role", ROLES)
def test_every_response_carries_the_security_headers(app, world, foreign, shared, login, role):
    client = app.test_client() if role == ANONYMOUS else login(world.login[role])
    problems, statuses = [], set()
    for url in _sample_urls(app, world, foreign, shared):
        response = client.get(url)
        statuses.add(response.status_code)
        problems += header_problems(response, f"{role} GET {url} -> {response.status_code}")
        if response.mimetype not in ("text/html", "application/json") or response.status_code >= 300:
            continue  # static files may be cached; downloads have their own test below
        if "no-store" not in response.headers.get("Cache-Control", ""):
            cache = response.headers.get("Cache-Control")
            problems.append(f"{role} GET {url}: a page with personal data may be cached ({cache})")
    assert not problems, "\n".join(problems)
    assert {200, 302, 404} <= statuses or role == ANONYMOUS, statuses  # errors and redirects were sampled too


def test_exports_with_personal_data_are_not_stored_in_caches(world, login):
    c = login(world.login["org_a"])
    a, a1 = world.assignment_a, world.org["a1"]
    for url in (f"/reports/assignments/{a}/export.xlsx", f"/reports/assignments/{a}/units/{a1}/export.xlsx",
                f"/reports/assignments/{a}/export.csv", f"/reports/assignments/{a}/units/{a1}/export.csv"):
        response = c.get(url)
        assert response.status_code == 200 and "no-store" in response.headers.get("Cache-Control", ""), (
            url, response.headers.get("Cache-Control"))


def test_error_answers_carry_the_headers_too(app, world, login, make_app):
    member = login(world.login["m_a1"])
    answers = {
        "403": member.get("/reports/"),
        "405": member.get("/auth/logout"),
        "413": app.test_client().post("/auth/login", data={"identifier": "x" * (6 * 2**20), "password": "x"}),
    }
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    answers["400 csrf"] = csrf_app.test_client().post("/auth/login", data={"identifier": "ma1", "password": "pass1234"})
    started = member.post(f"/quiz/{world.assignment_a}/start")
    answers["400 json"] = member.post(f"{started.location}/answers", data="not json", content_type="application/json")
    boom = make_app()

    @boom.get("/__boom")
    def _boom():
        raise RuntimeError("boom")

    answers["500"] = boom.test_client().get("/__boom")
    problems = []
    for name, response in answers.items():
        assert str(response.status_code) == name.split()[0], (name, response.status_code)
        problems += header_problems(response, name)
    assert "服务器出了点问题" in answers["500"].get_data(as_text=True)
    assert answers["400 json"].get_json()["ok"] is False
    assert not problems, "\n".join(problems)


# --- cookies --------------------------------------------------------------------------------------------


def _set_cookies(response) -> dict[str, dict]:
    """Set-Cookie headers by cookie name, with their attributes (lower-cased)."""
    out = {}
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            flags = {k.lower(): v for k, v in morsel.items() if v}
            flags["raw"] = header.lower()
            out[name] = flags
    return out


def _login_response(app, world, remember: bool = False):
    client = app.test_client()
    data = {"identifier": world.login["m_a1"], "password": "pass1234"}
    if remember:
        data["remember"] = "y"
    response = client.post("/auth/login", data=data)
    assert response.status_code == 302
    return client, _set_cookies(response)


def test_session_and_remember_cookies_are_httponly_and_samesite_lax(app, world):
    _, cookies = _login_response(app, world, remember=True)
    for name in ("session", "remember_device"):
        assert name in cookies, f"no {name} cookie set at login"
        assert "httponly" in cookies[name]["raw"], name
        assert cookies[name].get("samesite", "").lower() == "lax", name
        assert "secure" not in cookies[name]["raw"], f"{name}: Secure on plain http would break the dev server"


def test_cookies_are_secure_when_configured(app, world, make_app):
    # Config sets both from the one SESSION_COOKIE_SECURE environment variable (see the next test).
    secure = make_app(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    _, cookies = _login_response(secure, world, remember=True)
    for name in ("session", "remember_device"):
        assert "secure" in cookies[name]["raw"] and "httponly" in cookies[name]["raw"], name


def test_one_environment_variable_secures_both_cookies():
    root = Path(__file__).resolve().parents[2]
    code = "import config; c = config.ProductionConfig; print(c.SESSION_COOKIE_SECURE, c.REMEMBER_COOKIE_SECURE)"
    env = {**os.environ, "SESSION_COOKIE_SECURE": "true"}
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


@pytest.mark.parametrize("next_url", ["//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
                                      "/\t/evil.example", "javascript:alert(1)", "http:evil.example"])
def test_login_never_redirects_off_site(app, world, next_url):
    response = app.test_client().post("/auth/login", query_string={"next": next_url},
                                      data={"identifier": world.login["m_a1"], "password": "pass1234"})
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert response.status_code == 302 and not parts.scheme and not parts.netloc, location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location


# --- sessions that must end -----------------------------------------------------------------------------


def _logged_out(client) -> bool:
    response = client.get("/")
    return response.status_code == 302 and urlsplit(response.location).path == "/auth/login"


def test_a_password_change_ends_the_members_other_sessions(app, world, login):
    here, phone = login(world.login["m_a1"]), app.test_client()
    phone.post("/auth/login", data={"identifier": world.login["m_a1"], "password": "pass1234", "remember": "y"})
    remembered = phone.get_cookie("remember_device")
    assert not _logged_out(here) and not _logged_out(phone) and remembered
    change = {"current": "pass1234", "new": "newpass5678", "confirm": "newpass5678"}
    response = here.post("/auth/change-password", data=change)
    assert response.status_code == 302
    assert not _logged_out(here), "the device that changed the password stays logged in"
    assert _logged_out(phone), "another device's session survived the password change"
    # A remember-me cookie alone (the browser dropped the session cookie) must not log it back in either.
    fresh = app.test_client()
    fresh.set_cookie("remember_device", remembered.value)
    assert _logged_out(fresh)


@pytest.mark.parametrize("staff", ["sec_a1", "admin"])
def test_a_reset_by_staff_ends_the_members_sessions(app, world, login, staff):
    member = login(world.login["m_a1"])
    assert not _logged_out(member)
    assert login(world.login[staff]).post(f"/admin/members/{world.user['m_a1']}/reset-password").status_code == 302
    assert _logged_out(member)


def test_a_disabled_account_stops_working_on_its_next_request(app, world, login):
    member, staff = login(world.login["m_a1"]), login(world.login["m_a1b"])
    assert not _logged_out(member) and not _logged_out(staff)
    with app.app_context():
        accounts.set_active(db.session.get(User, world.user["m_a1"]), False)
        # Also when only the flag is flipped (a SQL console, another tool) and the session version stays.
        db.session.execute(update(User).where(User.id == world.user["m_a1b"]).values(active=False))
        db.session.commit()
    assert _logged_out(member) and _logged_out(staff)
    again = app.test_client().post("/auth/login", data={"identifier": world.login["m_a1"], "password": "pass1234"})
    assert again.status_code == 200 and "账号或密码不正确" in again.get_data(as_text=True)


def test_a_password_change_ends_sessions_opened_through_the_csrf_protected_form(app, world, make_app):
    """The production path (CSRF on): log in with the form's token, change the password, old sessions end."""
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    first = login_with_token(csrf_app.test_client(), world.login["m_a1"])
    second = login_with_token(csrf_app.test_client(), world.login["m_a1"])
    with csrf_app.app_context():
        from learnhub.services.auth.accounts import HashSettings

        accounts.change_password(HashSettings.from_config(csrf_app.config), db.session.get(User, world.user["m_a1"]),
                                 "pass1234", "newpass5678")
    assert _logged_out(first) and _logged_out(second)
