"""Logging in with a member number or phone, throttling, first-password change, sessions that can be revoked."""

from __future__ import annotations

from learnhub.extensions import db
from learnhub.models import User
from learnhub.services.auth.accounts import HashSettings, hash_password

from ..factories import PASSWORD


def post_login(client, identifier, password=PASSWORD):
    return client.post("/auth/login", data={"identifier": identifier, "password": password})


def test_login_with_member_number_or_phone(world, client, app):
    assert post_login(client, "ma1").status_code == 302
    other = app.test_client()
    assert post_login(other, "13800000001").location == "/"


def test_wrong_password_and_unknown_account_say_the_same(world, client):
    wrong = post_login(client, "ma1", "wrongpass1").get_data(as_text=True)
    unknown = post_login(client, "nobody", "wrongpass1").get_data(as_text=True)
    assert "账号或密码不正确" in wrong and "账号或密码不正确" in unknown
    assert client.get("/").status_code == 302


def test_repeated_failures_do_not_lock_out_other_members_on_the_same_address(world, app):
    client = app.test_client()
    for _ in range(5):
        post_login(client, "ma1", "wrongpass1")
    assert "登录失败次数过多" in post_login(client, "ma1").get_data(as_text=True)
    # Another member behind the same carrier IP still logs in.
    assert post_login(app.test_client(), "ma1b").status_code == 302


def test_first_login_forces_a_new_password(app, world, client):
    with app.app_context():
        db.session.get(User, world.user["m_a1"]).must_change_password = True
        db.session.commit()
    r = post_login(client, "ma1")
    assert r.location.endswith("/auth/change-password")
    assert client.get("/").location.endswith("/auth/change-password")
    assert client.get("/reports/").location.endswith("/auth/change-password")
    weak = client.post("/auth/change-password", data={"current": PASSWORD, "new": "12345678", "confirm": "12345678"})
    assert "太常见" in weak.get_data(as_text=True)
    r = client.post("/auth/change-password", data={"current": PASSWORD, "new": "newpass99", "confirm": "newpass99"})
    assert r.location == "/"
    assert client.get("/").status_code == 200
    assert post_login(app.test_client(), "ma1", "newpass99").status_code == 302


def test_password_change_signs_out_other_devices(app, world, login):
    phone, office = login("ma1"), login("ma1")
    phone.post("/auth/change-password", data={"current": PASSWORD, "new": "newpass99", "confirm": "newpass99"})
    assert phone.get("/").status_code == 200
    assert office.get("/").status_code == 302


def test_logout_ends_the_session(world, login):
    c = login("ma1")
    assert c.post("/auth/logout").status_code == 302
    assert c.get("/").status_code == 302


def test_disabled_account_cannot_log_in(app, world, client):
    with app.app_context():
        db.session.get(User, world.user["m_a1"]).active = False
        db.session.commit()
    assert "账号或密码不正确" in post_login(client, "ma1").get_data(as_text=True)


def test_login_redirects_only_to_local_pages(world, client):
    r = client.post("/auth/login?next=https://evil.example/", data={"identifier": "ma1", "password": PASSWORD})
    assert r.location == "/"
    c2 = client.application.test_client()
    r = c2.post("/auth/login?next=/study/", data={"identifier": "ma1", "password": PASSWORD})
    assert r.location == "/study/"


def test_hash_is_upgraded_on_login_when_parameters_change(app, world, client):
    weaker = HashSettings(1, 32, 1)
    with app.app_context():
        db.session.get(User, world.user["m_a1"]).password_hash = hash_password(weaker, PASSWORD)
        db.session.commit()
    post_login(client, "ma1")
    with app.app_context():
        assert "m=64" in db.session.get(User, world.user["m_a1"]).password_hash


def test_production_hash_is_argon2id_at_the_asvs_minimum():
    from config import Config

    h = hash_password(HashSettings.from_config(vars(Config) | {}), "pass1234")
    assert h.startswith("$argon2id$") and "m=19456,t=2,p=1" in h


def test_a_new_secret_key_keeps_sessions_only_while_the_old_one_is_a_fallback(app, world, login):
    phone, laptop = login("ma1"), login("ma1")
    app.config["SECRET_KEY_FALLBACKS"] = [app.secret_key]
    app.secret_key = "a-rotated-secret-key"
    assert phone.get("/").status_code == 200  # the old key still verifies; the reply re-signs with the new
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert laptop.get("/").status_code == 302  # still signed with the old key alone: signed out
    assert phone.get("/").status_code == 200
