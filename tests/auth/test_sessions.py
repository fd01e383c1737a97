"""Sessions that end: logging out, or out of every device, ends the login on the server, so cookies copied
before (a stolen phone, a shared computer) get the login page; remember-me tokens rotate and can be revoked."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import DeviceSession, Response, User
from learnhub.services.auth import accounts
from learnhub.services.exam import quizzes
from learnhub.services.auth.accounts import HashSettings

from ..factories import PASSWORD
from ..quiz.helpers import attempt_id_from, paper, shown_answer

ANDROID_WECHAT = ("Mozilla/5.0 (Linux; Android 13; V2227A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/111.0 "
                  "Mobile Safari/537.36 MicroMessenger/8.0.40")


def sign_in(app, member_no: str, remember: bool = False, user_agent: str = "pytest"):
    client = app.test_client()
    data = {"identifier": member_no, "password": PASSWORD} | ({"remember": "y"} if remember else {})
    response = client.post("/auth/login", data=data, headers={"User-Agent": user_agent})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def cookies_of(client) -> dict[str, str]:
    """Every cookie the browser holds for the app (what a thief copies from a phone)."""
    return {c.key: c.value for c in client._cookies.values()}


def remember_me(client) -> dict[str, str]:
    """The cookies 保持登录 leaves besides the session cookie (what survives closing the browser)."""
    session_cookie = client.application.config["SESSION_COOKIE_NAME"]
    return {name: value for name, value in cookies_of(client).items() if name != session_cookie}


def replay(app, cookies: dict[str, str]):
    """A new browser holding only the given cookies."""
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def signed_in(client) -> bool:
    response = client.get("/")
    if response.status_code == 302 and urlsplit(response.location).path == "/auth/login":
        return False
    assert response.status_code == 200, response.status_code
    return True


def device_rows(app, user_id: int) -> int:
    with app.app_context():
        query = select(func.count()).select_from(DeviceSession).where(DeviceSession.user_id == user_id)
        return db.session.scalar(query)


def test_the_session_cookie_replayed_after_logout_gets_the_login_page(app, world):
    phone = sign_in(app, "ma1")
    copied = cookies_of(phone)
    assert signed_in(replay(app, copied))
    assert phone.post("/auth/logout").status_code == 302
    assert not signed_in(phone)
    assert not signed_in(replay(app, copied)), "the session cookie copied before logout still works"


def test_only_the_remember_me_cookie_replayed_after_logout_gets_the_login_page(app, world):
    phone = sign_in(app, "ma1", remember=True)
    assert remember_me(phone), "保持登录 set no cookie besides the session"
    assert signed_in(replay(app, remember_me(phone))), "the remember-me cookie alone should sign the device back in"
    phone = sign_in(app, "ma1", remember=True)
    remembered = remember_me(phone)
    phone.post("/auth/logout")
    assert not signed_in(replay(app, remembered)), "the remember-me cookie copied before logout still works"


def test_logout_ends_this_device_only(app, world):
    phone, office = sign_in(app, "ma1"), sign_in(app, "ma1", remember=True)
    phone.post("/auth/logout")
    assert not signed_in(phone) and signed_in(office)
    assert device_rows(app, world.user["m_a1"]) == 1


def test_the_remember_me_token_rotates_each_time_it_signs_a_device_back_in(app, world):
    first = remember_me(sign_in(app, "ma1", remember=True))
    browser = replay(app, first)  # the session cookie is gone (a day later, say)
    assert signed_in(browser)
    second = remember_me(browser)
    assert second != first, "the token was not replaced when it was used"
    assert not signed_in(replay(app, first)), "a used token signed in a second time"
    assert signed_in(replay(app, second))


def test_sign_out_everywhere_ends_every_session_and_remember_me_token(app, world):
    phone, office = sign_in(app, "ma1", remember=True), sign_in(app, "ma1", remember=True)
    stolen = cookies_of(phone)
    remembered = remember_me(office)
    response = office.post("/auth/sign-out-everywhere")
    assert response.status_code == 302 and urlsplit(response.location).path == "/auth/login"
    assert not any(signed_in(c) for c in (office, phone, replay(app, stolen), replay(app, remembered)))
    assert device_rows(app, world.user["m_a1"]) == 0
    assert signed_in(sign_in(app, "ma1")), "signing in again works"


def test_the_account_page_lists_devices_and_signs_one_out(app, world):
    lost = sign_in(app, "ma1", remember=True, user_agent=ANDROID_WECHAT)
    here = sign_in(app, "ma1")
    page = here.get("/auth/account").get_data(as_text=True)
    assert "Android · 微信" in page and "本设备" in page and "退出所有设备" in page
    with app.app_context():
        lost_id = db.session.scalar(select(DeviceSession.id).where(DeviceSession.user_agent == "Android · 微信"))
    assert here.post(f"/auth/devices/{lost_id}/sign-out").status_code == 302
    assert not signed_in(lost) and signed_in(here)
    assert "Android · 微信" not in here.get("/auth/account").get_data(as_text=True)


def test_nobody_signs_out_another_members_device(app, world):
    victim = sign_in(app, "ma1")
    with app.app_context():
        device = db.session.scalar(select(DeviceSession.id).where(DeviceSession.user_id == world.user["m_a1"]))
    for who in ("ma1b", "admin"):
        assert sign_in(app, who).post(f"/auth/devices/{device}/sign-out").status_code == 404
    assert sign_in(app, "ma1b").post("/auth/devices/99999999999999999999/sign-out").status_code == 404
    assert signed_in(victim)


def test_a_password_change_keeps_this_device_and_revokes_the_others_remember_me(app, world):
    here, phone = sign_in(app, "ma1"), sign_in(app, "ma1", remember=True)
    remembered = remember_me(phone)
    change = {"current": PASSWORD, "new": "newpass5678", "confirm": "newpass5678"}
    assert here.post("/auth/change-password", data=change).status_code == 302
    assert signed_in(here)
    assert not signed_in(phone) and not signed_in(replay(app, remembered))


@pytest.mark.parametrize("how", ["reset", "disable"])
def test_a_reset_or_disabling_revokes_the_members_remember_me_tokens(app, world, how):
    phone = sign_in(app, "ma1", remember=True)
    remembered = remember_me(phone)
    with app.app_context():
        member = db.session.get(User, world.user["m_a1"])
        if how == "reset":
            accounts.reset_password(HashSettings.from_config(app.config), member)
        else:
            accounts.set_active(member, False)
    assert not signed_in(phone) and not signed_in(replay(app, remembered))


def test_a_device_expires_whatever_its_cookies_say(app, world):
    phone = sign_in(app, "ma1", remember=True)
    remembered = remember_me(phone)
    with app.app_context():
        row = db.session.scalar(select(DeviceSession).where(DeviceSession.user_id == world.user["m_a1"]))
        row.expires_at = row.created_at
        db.session.commit()
    assert not signed_in(phone) and not signed_in(replay(app, remembered))


# --- the answer save checks the device in its own query ------------------------------------------------


def start_quiz(client, assignment_id: int) -> int:
    return attempt_id_from(client.post(f"/quiz/{assignment_id}/start").location)


def save(client, attempt_id: int, item, seq: int):
    position, question, perm = item
    body = {"position": position, "q": question.id, "answer": shown_answer(question, perm), "seq": seq}
    return client.post(f"/quiz/attempts/{attempt_id}/answers", json=body)


def stored(app, attempt_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Response).where(Response.attempt_id == attempt_id))


@pytest.mark.parametrize("known", [True, False], ids=["attempt-known-to-the-process", "first-save"])
def test_an_answer_save_replayed_after_logout_is_refused(app, world, known):
    phone = sign_in(app, "ma1")
    attempt_id = start_quiz(phone, world.assignment_a)
    items = paper(app, attempt_id)
    assert save(phone, attempt_id, items[0], 1).json["saved"] is True
    assert save(phone, attempt_id, items[0], 2).json["saved"] is True  # the short path from here on
    if not known:
        app.extensions.pop("learnhub.known_attempts", None)
    stolen = cookies_of(phone)
    phone.post("/auth/logout")
    refused = save(replay(app, stolen), attempt_id, items[1], 3)
    assert refused.status_code == 302 and urlsplit(refused.location).path == "/auth/login"
    assert stored(app, attempt_id) == 1


def test_a_save_signs_the_device_back_in_from_its_remember_me_token(app, world):
    phone = sign_in(app, "ma1", remember=True)
    attempt_id = start_quiz(phone, world.assignment_a)
    items = paper(app, attempt_id)
    browser = replay(app, remember_me(phone))
    saved = save(browser, attempt_id, items[0], 1)
    assert saved.status_code == 200 and saved.json["saved"] is True
    assert save(browser, attempt_id, items[1], 2).json["saved"] is True  # the restored session carries on
    assert stored(app, attempt_id) == 2


def test_services_save_without_a_session_as_before(app, world, ctx):
    """Saves made by the demo data and tests name no session, and need no device."""
    from learnhub.models import Assignment

    member = db.session.get(User, world.user["m_a1"])
    attempt = quizzes.start_attempt(db.session.get(Assignment, world.assignment_a), member)
    assert quizzes.save_answer(attempt, 1, 0, 1, 60).saved


def test_a_reset_racing_the_members_own_password_change_signs_the_member_out(app, world, login, monkeypatch):
    """The member's change has checked their current password when the secretary's reset lands (forced):
    the outcome is the reset's, as if it had come second — the member is signed out everywhere and the
    temporary password stands; the change is refused in Chinese."""
    phone = login(world.login["m_a1"])
    temporary = []
    real_check = accounts.check_password_strength

    def reset_lands_now(password, *member):
        def reset():
            with app.app_context():
                member = db.session.get(User, world.user["m_a1"])
                temporary.append(accounts.reset_password(HashSettings.from_config(app.config), member))
        thread = threading.Thread(target=reset)
        thread.start()
        thread.join(30)
        return real_check(password, *member)

    monkeypatch.setattr(accounts, "check_password_strength", reset_lands_now)
    response = phone.post("/auth/change-password", data={"current": "pass1234", "new": "newpass5678",
                                                          "confirm": "newpass5678"}, follow_redirects=True)
    monkeypatch.undo()
    assert temporary and "密码刚刚被重置" in response.get_data(as_text=True)
    home = phone.get("/")
    assert home.status_code == 302 and "/auth/login" in home.location
    with app.app_context():
        member = db.session.get(User, world.user["m_a1"])
        assert member.must_change_password
    again = app.test_client().post("/auth/login", data={"identifier": world.login["m_a1"], "password": temporary[0]})
    assert again.status_code == 302
