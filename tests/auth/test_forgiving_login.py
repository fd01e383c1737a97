"""A login that forgives what a phone's input method does: member numbers in any case, full-width digits,
letters and spaces, a phone number with +86 or hyphens; one count of failures for all the ways of
typing one name, and "还可尝试 N 次" before the wait, the same for a name that is nobody's."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, or_, select

from learnhub.extensions import db
from learnhub.models import Organisation, User
from learnhub.services.auth import accounts
from learnhub.services.auth import login as logins

from ..factories import PASSWORD, make_user

UNKNOWN = "zz9999"


def post_login(app, identifier: str, password: str = PASSWORD, address: str = "127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client.post("/auth/login", data={"identifier": identifier, "password": password})


def message(response) -> str:
    found = re.findall(r'<ul class="errors"[^>]*><li>(.*?)</li>', response.get_data(as_text=True))
    assert found, f"no error on the page (HTTP {response.status_code})"
    return found[-1]


@pytest.mark.parametrize("typed", [
    "MA1", "Ma1", "ｍａ１", "ＭＡ１", " ma1 ", "m a 1", "ｍａ　１",  # member number: any case, full width, spaces
    "１３８０００００００１", "138 0000 0001", "１３８　００００　０００１", "138-0000-0001", "+86 138 0000 0001",
    "8613800000001",  # the phone number, as an input method or a contact card types it
])
def test_the_member_logs_in_however_the_phone_typed_the_name(app, world, typed):
    response = post_login(app, typed)
    assert response.status_code == 302 and response.location == "/", message(response)


def test_every_way_of_typing_one_name_counts_as_one(app, world):
    left = [message(post_login(app, typed, "wrongpass1")) for typed in ("ma1", "MA1", "ｍａ１", " Ma 1")]
    assert left == [f"账号或密码不正确，还可尝试 {n} 次" for n in (4, 3, 2, 1)]
    fifth = post_login(app, "ＭＡ１", "wrongpass1")
    assert fifth.status_code == 429 and "登录失败次数过多" in message(fifth)
    assert post_login(app, "mA1").status_code == 429  # even the right password, typed another way
    # The phone number is another name, with a count of its own; so is the same name from another address.
    assert post_login(app, "１３８ ０００ ０００ ０１").status_code == 302
    assert post_login(app, "MA1", address="198.51.100.7").status_code == 302


def test_the_tries_left_say_nothing_about_whether_the_account_exists(app, world):
    for _ in range(3):
        real, unknown = post_login(app, "MA1", "wrongpass1"), post_login(app, UNKNOWN.upper(), "wrongpass1")
        assert message(real) == message(unknown)
        assert real.status_code == unknown.status_code == 200
    assert message(post_login(app, "ma1", "wrongpass1")) == "账号或密码不正确，还可尝试 1 次"


def test_numbers_that_differ_only_in_case_each_log_in_with_their_own_password(app, world):
    """Older data may hold both: a login tries each by password, as for a shared phone."""
    with app.app_context():
        org = db.session.get(Organisation, world.org["a1"])
        make_user(org, "D4002", "大写", password="upper-pass-1")
        make_user(org, "d4002", "小写", password="lower-pass-1")
        db.session.commit()
    for password, name in (("upper-pass-1", "大写"), ("lower-pass-1", "小写")):
        client = app.test_client()
        assert client.post("/auth/login", data={"identifier": "Ｄ４００２", "password": password}).status_code == 302
        assert name in client.get("/").get_data(as_text=True)


def test_a_new_member_number_may_not_differ_from_another_only_in_case(app, world, login):
    client = login(world.login["sec_a1"])
    page = client.post("/admin/members/new", data={
        "name": "重号", "member_no": "MA1", "org_id": world.org["a1"], "category": "full", "password": "hongse-jiyi-2024",
    }, follow_redirects=True).get_data(as_text=True)
    assert "党员编号 MA1 已被使用" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.name == "重号")) == 0


def test_the_login_finds_the_member_number_through_its_index(app, world):
    """d4002 finds D4002 by an index on upper(member_no), not by reading every member (SQLite and PostgreSQL)."""
    name = logins.LoginName.read("ｍａ１")
    stmt = select(User).where(or_(func.upper(User.member_no) == name.number, User.phone == name.phone))
    with app.app_context():
        sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
        with db.engine.connect() as conn:
            if db.engine.dialect.name == "sqlite":
                plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            else:
                conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: ask what it would use
                plan = " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {sql}"))
                conn.rollback()
    assert "ix_user_member_no_upper" in plan, plan


def test_login_names_are_read_as_meant():
    read = logins.LoginName.read
    assert read("ｄ４００２").number == read(" D4002 ").number == "D4002"
    assert read("d4002").key == read("Ｄ４００２").key
    assert read("+86 138-0000-0001").phone == read("１３８　００００　０００１").phone == "13800000001"
    assert read("138 0000 0001").key == "13800000001"
    assert read("\u3000").number == ""


def test_the_login_page_asks_the_phone_for_plain_text_and_a_password_toggle(client):
    page = client.get("/auth/login").get_data(as_text=True)
    identifier = re.search(r'<input[^>]*name="identifier"[^>]*>', page).group()
    for hint in ('autocomplete="username"', 'autocapitalize="none"', 'autocorrect="off"', 'spellcheck="false"'):
        assert hint in identifier
    assert 'autocomplete="current-password"' in re.search(r'<input[^>]*name="password"[^>]*>', page).group()
    assert "data-show-password" in page and "/static/js/forms.js" in page and "<script>" not in page
    assert client.get("/static/js/forms.js").status_code == 200


def test_services_fold_the_name_too(app, world):
    with app.app_context():
        assert [u.member_no for u in logins.login_candidates("ＭＡ１")] == ["ma1"]
        assert accounts.identifier_taken("MA1") and not accounts.identifier_taken("MA9")


@pytest.mark.parametrize("target", ["/\\evil.example/", "/\\/evil.example", "//evil.example", "/\tevil", "https://evil.example/"])
def test_the_login_never_sends_the_browser_to_another_site(app, world, target):
    """Browsers read "/\\host" as "//host": the page to go back to must be a path of this site."""
    response = app.test_client().post("/auth/login", query_string={"next": target},
                                      data={"identifier": "ma1", "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/"
