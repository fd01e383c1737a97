"""大字模式 (large type): the switch on every page, kept on the account (so it follows the member to any
device they sign in on) and on the device (so the login page keeps it); a POST with the page's CSRF token;
back to the page it was pressed on, never to another site."""

from __future__ import annotations

import re

import pytest

from learnhub.extensions import db
from learnhub.models import User

from ..conftest import DATA
from ..factories import PASSWORD

LARGE = '<html class="large"'
SWITCH = re.compile(r'<form method="post" action="/auth/large-type"[^>]*>(.*?)</form>', re.S)


def large(client, path: str = "/") -> bool:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return page.get_data(as_text=True).startswith("<!doctype html>\n" + LARGE)


def switch_label(client, path: str = "/") -> str:
    form = SWITCH.search(client.get(path).get_data(as_text=True))
    assert form, f"no 大字 switch on {path}"
    return re.search(r"<button[^>]*>([^<]*)</button>", form.group(1)).group(1)


def came_from(path: str) -> dict:
    """The Referer a browser sends with the switch's post from the page at `path`."""
    return {"Referer": path if "://" in path else f"http://localhost{path}"}


def flag(app, world, who: str = "m_a1") -> bool:
    with app.app_context():
        return db.session.get(User, world.user[who]).large_type


def test_the_switch_is_on_the_page_and_kept_on_the_account_across_sign_in(app, world, login):
    phone = login(world.login["m_a1"])
    assert not large(phone) and switch_label(phone) == "大字"
    response = phone.post("/auth/large-type", data={"large": "1"}, headers=came_from("/practice/"))
    assert response.status_code == 302 and response.location == "/practice/"
    assert flag(app, world) is True
    assert large(phone) and large(phone, "/practice/") and switch_label(phone) == "标准字"
    # Signed out and back in on another device: the account keeps the choice.
    phone.post("/auth/logout")
    office = login(world.login["m_a1"])
    assert large(office)
    assert not large(login(world.login["m_a1b"])), "another member's pages are not in large type"
    # Switched off again, everywhere.
    office.post("/auth/large-type", data={"large": "0"}, headers=came_from("/"))
    assert flag(app, world) is False and not large(office) and switch_label(office) == "大字"
    assert not large(login(world.login["m_a1"]))


def test_signed_out_the_device_keeps_it_and_the_account_takes_it_at_sign_in(app, world, client):
    assert not large(client, "/auth/login") and switch_label(client, "/auth/login") == "大字"
    response = client.post("/auth/large-type", data={"large": "1"}, headers=came_from("/auth/login"))
    assert response.status_code == 302 and response.location == "/auth/login"
    assert large(client, "/auth/login")
    response = client.post("/auth/login", data={"identifier": world.login["m_a1"], "password": PASSWORD})
    assert response.status_code == 302
    assert flag(app, world) is True and large(client)
    # The choice made before signing in is the account's now: another device shows it too.
    other = app.test_client()
    other.post("/auth/login", data={"identifier": world.login["m_a1"], "password": PASSWORD})
    assert large(other)
    # Switched off while signed in: this device's login page is in standard type again after signing out.
    client.post("/auth/large-type", data={"large": "0"})
    client.post("/auth/logout")
    assert not large(client, "/auth/login")


def test_signing_in_with_no_choice_on_the_device_leaves_the_account_as_it_is(app, world, client):
    with app.app_context():
        db.session.get(User, world.user["m_a1"]).large_type = True
        db.session.commit()
    client.post("/auth/large-type", data={"large": "0"})  # this device last chose standard type
    client.post("/auth/login", data={"identifier": world.login["m_a1"], "password": PASSWORD})
    assert flag(app, world) is True and large(client)


def test_a_member_who_must_change_their_password_can_switch_it(app, world, login):
    with app.app_context():
        db.session.get(User, world.user["m_a1"]).must_change_password = True
        db.session.commit()
    client = login(world.login["m_a1"])
    assert switch_label(client, "/auth/change-password") == "大字"
    response = client.post("/auth/large-type", data={"large": "1"}, headers=came_from("/auth/change-password"))
    assert response.location == "/auth/change-password"
    assert large(client, "/auth/change-password") and flag(app, world) is True


def test_the_page_script_switches_it_in_place_with_json(app, world, login):
    client = login(world.login["m_a1"])
    response = client.post("/auth/large-type", data={"large": "1"}, headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.get_json() == {"ok": True, "large": True}
    assert "lh_large=1" in response.headers["Set-Cookie"]
    assert flag(app, world) is True


@pytest.mark.parametrize("value", ["", "2", "on", "１"])
def test_a_value_other_than_on_or_off_changes_nothing(app, world, login, value):
    client = login(world.login["m_a1"])
    response = client.post("/auth/large-type", data={"large": value}, headers=came_from("/practice/"))
    assert response.status_code == 302 and response.location == "/practice/"
    assert "lh_large" not in response.headers.get("Set-Cookie", "")
    assert "无法切换字号，请刷新页面后再试" in client.get("/practice/").get_data(as_text=True)
    assert flag(app, world) is False
    refused = client.post("/auth/large-type", data={"large": value}, headers={"Accept": "application/json"})
    assert refused.status_code == 400 and refused.get_json()["ok"] is False
    assert flag(app, world) is False


@pytest.mark.parametrize("target", [
    "https://evil.example/", "http://localhost.evil.example/", "//evil.example/", "/\\evil.example",
    "javascript:alert(1)", "http://localhost//evil.example/",
    "/auth/logout",  # a page only a POST reaches: going back there with a GET would be an error page
    "/no/such/page",
])
def test_it_goes_back_only_to_a_page_of_this_site(app, world, login, target):
    client = login(world.login["m_a1"])
    response = client.post("/auth/large-type", data={"large": "1"}, headers=came_from(target))
    assert response.status_code == 302 and response.location == "/"
    assert client.post("/auth/large-type", data={"large": "1"}).location == "/", "no Referer: home"


def test_it_goes_back_to_the_page_with_its_query(app, world, login):
    client = login(world.login["sec_a1"])
    target = f"/admin/members?org={world.org['a1']}"
    assert client.post("/auth/large-type", data={"large": "1"}, headers=came_from(target)).location == target


# --- CSRF: as in production ------------------------------------------------------------------------------


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def csrf_app(app, world, make_app):
    """A second app on the world's database, with CSRF protection switched on as in production."""
    return make_app(WTF_CSRF_ENABLED=True, QUESTIONS_DIR=str(DATA / "bank"), NOTES_DIR=str(DATA / "notes"))


def test_the_switch_needs_the_pages_csrf_token(csrf_app, app, world):
    client = csrf_app.test_client()
    token = TOKEN.search(client.get("/auth/login").get_data(as_text=True)).group(1)
    # Signed out: without the token the device's choice is not changed either.
    refused = client.post("/auth/large-type", data={"large": "1"})
    assert refused.status_code == 400 and "页面已过期，请刷新后再提交" in refused.get_data(as_text=True)
    assert "lh_large" not in refused.headers.get("Set-Cookie", "")
    client.post("/auth/login", data={"identifier": world.login["m_a1"], "password": PASSWORD, "csrf_token": token})
    page = client.get("/").get_data(as_text=True)
    token = SWITCH.search(page) and TOKEN.search(SWITCH.search(page).group(1)).group(1)
    assert token, "the switch carries the page's token"
    for body in ({"large": "1"}, {"large": "1", "csrf_token": "forged"}):
        refused = client.post("/auth/large-type", data=body)
        assert refused.status_code == 400 and flag(app, world) is False
    refused = client.post("/auth/large-type", data={"large": "1"}, headers={"Accept": "application/json"})
    assert refused.status_code == 400 and refused.get_json()["ok"] is False and flag(app, world) is False
    assert client.post("/auth/large-type", data={"large": "1", "csrf_token": token}).status_code == 302
    assert flag(app, world) is True
