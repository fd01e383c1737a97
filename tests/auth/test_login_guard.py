"""Login without oracles: an unknown account, a wrong password and a throttled login name answer alike
whether or not the account exists, at the cost of one password check; throttling cannot be aimed at a
member (per login name and address, per address, a ceiling per name), and the delay grows."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from argon2 import PasswordHasher

from learnhub import counters
from learnhub.extensions import db
from learnhub.models import User
from learnhub.services.auth import login as logins
from learnhub.services.auth.accounts import HashSettings

from ..factories import PASSWORD

ATTACKER, MEMBERS_PHONE = "203.0.113.9", "198.51.100.7"
UNKNOWN = "13899999999"  # a phone number that is nobody's


def post_login(app, identifier: str, password: str = PASSWORD, address: str = "127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client.post("/auth/login", data={"identifier": identifier, "password": password})


def message(response) -> str:
    """The error the login page shows under the password."""
    found = re.findall(r'<ul class="errors"[^>]*><li>(.*?)</li>', response.get_data(as_text=True))
    assert found, f"no error on the page (HTTP {response.status_code})"
    return found[-1]


def wait_minutes(text: str) -> int:
    number, unit = re.search(r"请 (\d+) (分钟|小时)后再试", text).groups()
    return int(number) * (60 if unit == "小时" else 1)


@pytest.fixture
def argon2_calls(monkeypatch) -> Counter:
    """Count every argon2 hash and verify made from here on."""
    calls: Counter = Counter()
    for name in ("hash", "verify"):
        real = getattr(PasswordHasher, name)

        def counted(self, *args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(PasswordHasher, name, counted)
    return calls


@pytest.mark.parametrize("who", ["unknown", "disabled", "wrong-password"])
def test_every_failed_login_costs_one_verify_and_never_a_hash(app, world, argon2_calls, who):
    if who == "disabled":
        with app.app_context():
            db.session.get(User, world.user["m_a1b"]).active = False
            db.session.commit()
    identifier = {"unknown": UNKNOWN, "disabled": "ma1b", "wrong-password": "ma1"}[who]
    for _ in range(2):  # the first request of a process too: the dummy hash is not made by hashing
        argon2_calls.clear()
        assert message(post_login(app, identifier, "wrongpass1")).startswith("账号或密码不正确，还可尝试")
        assert argon2_calls == Counter(verify=1), argon2_calls


def test_the_dummy_hash_has_the_real_hashes_parameters(app, world):
    settings = HashSettings.from_config(app.config)
    with app.app_context():
        real = db.session.get(User, world.user["m_a1"]).password_hash
    parameters = re.compile(r"^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$")
    assert parameters.match(logins.dummy_hash(settings)).group() == parameters.match(real).group()
    production = HashSettings(2, 19456, 1)
    assert logins.dummy_hash(production).startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert logins.dummy_hash(production) != logins.dummy_hash(settings)


def test_unknown_account_wrong_password_and_throttled_name_answer_alike(app, world):
    assert message(post_login(app, "ma1", "wrongpass1")) == message(post_login(app, UNKNOWN, "wrongpass1"))
    for _ in range(3):
        post_login(app, "ma1", "wrongpass1"), post_login(app, UNKNOWN, "wrongpass1")
    fifth = {name: message(post_login(app, name, "wrongpass1")) for name in ("ma1", UNKNOWN)}
    assert fifth["ma1"] == fifth[UNKNOWN] == "账号或密码不正确。登录失败次数过多，请 15 分钟后再试"
    real, unknown = post_login(app, "ma1"), post_login(app, UNKNOWN, "anything1")  # even the right password
    assert real.status_code == unknown.status_code == 429
    assert message(real) == message(unknown) == "登录失败次数过多，请 15 分钟后再试"


def test_an_attacker_cannot_lock_a_member_out_from_another_address(app, world):
    for _ in range(30):
        post_login(app, "ma1", "wrongpass1", address=ATTACKER)
    assert post_login(app, "ma1", address=ATTACKER).status_code == 429  # the right password, but from there
    assert post_login(app, "ma1", address=MEMBERS_PHONE).status_code == 302
    assert post_login(app, "13800000001", address=ATTACKER).status_code == 302, "the phone number is another name"


def test_the_delay_grows_with_each_round_of_failures(make_app, world, monkeypatch):
    app = make_app(LOGIN_FAILURE_LIMITS="2 per minute; 3 per hour; 4 per day")
    clock = [1_000_000.0]
    monkeypatch.setattr(counters, "now", lambda: clock[0])
    waits = []
    for _ in range(3):
        refused = [post_login(app, "ma1", "wrongpass1").status_code for _ in range(3)]
        assert 429 in refused, refused
        waits.append(wait_minutes(message(post_login(app, "ma1"))))
        clock[0] += waits[-1] * 60 + 1
    assert waits[0] == 1 and 1 < waits[1] <= 60 < waits[2] <= 24 * 60, waits
    assert post_login(app, "ma1").status_code == 302


def test_a_successful_login_clears_the_count_for_that_name_and_address(app, world):
    for _ in range(2):
        for left in (4, 3, 2, 1):
            assert message(post_login(app, "ma1", "wrongpass1")) == f"账号或密码不正确，还可尝试 {left} 次"
        assert post_login(app, "ma1").status_code == 302


def test_one_address_spraying_many_names_is_slowed_down(make_app, world):
    app = make_app(LOGIN_ADDRESS_FAILURE_LIMITS="3 per 15 minutes")
    for name in ("ma1", "ma1b", UNKNOWN):
        post_login(app, name, "wrongpass1", address=ATTACKER)
    assert post_login(app, "ma2", address=ATTACKER).status_code == 429
    assert post_login(app, "ma2", address=MEMBERS_PHONE).status_code == 302


def test_a_ceiling_per_login_name_holds_over_every_address(make_app, world):
    app = make_app(LOGIN_ACCOUNT_FAILURE_LIMITS="4 per hour")
    for i in range(4):
        for name in ("ma1", UNKNOWN):
            post_login(app, name, "wrongpass1", address=f"192.0.2.{i}")
    real, unknown = post_login(app, "ma1", address=MEMBERS_PHONE), post_login(app, UNKNOWN, address=MEMBERS_PHONE)
    assert real.status_code == unknown.status_code == 429
    assert message(real) == message(unknown) and wait_minutes(message(real)) == 60


def test_ipv6_addresses_are_counted_by_their_64_prefix(app, world):
    for i in range(5):
        post_login(app, "ma1", "wrongpass1", address=f"2001:db8:1:2::{i + 1}")
    assert post_login(app, "ma1", address="2001:db8:1:2:ffff::9").status_code == 429
    assert post_login(app, "ma1", address="2001:db8:1:3::1").status_code == 302


def test_a_mistyped_limit_stops_the_app_at_start(make_app):
    with pytest.raises(ValueError):
        make_app(LOGIN_FAILURE_LIMITS="five per quarter hour")
