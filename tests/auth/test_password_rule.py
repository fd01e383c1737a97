"""A first password an older member can meet (NIST SP 800-63B): at least 8 characters, not a common
password, not a run or a repeat, not the member's own number, with no rule about character classes;
the same rule wherever a password is set; a way out of the change page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Organisation, User
from learnhub.services import ServiceError
from learnhub.services.orgs import members
from learnhub.services.auth import passwords
from learnhub.services.orgs import scope_for
from learnhub.services.sheets.tables import Row

from ..factories import PASSWORD

REFUSED = {
    "1234567": "至少需要 8 位",
    "12345678": "太常见", "password": "太常见", "PassWord": "太常见", "11111111": "太常见", "88888888": "太常见",
    "abcdefgh": "太常见", "87654321": "太常见", "qwertyui": "太常见", "woaini1314": "太常见", "1qaz2wsx": "太常见",
    "abababab": "太常见", "520520520": "太常见",
}
ACCEPTED = ["xuexi dangzhang", "hongse jiyi", "hongsejiyi", "我爱学习党章知识", "19491001a-lu", "changcheng2024"]


@pytest.mark.parametrize(("password", "why"), REFUSED.items())
def test_short_or_common_passwords_are_refused(password, why):
    with pytest.raises(passwords.WeakPassword, match=why):
        passwords.check_new_password(password)


@pytest.mark.parametrize("password", ACCEPTED)
def test_a_long_enough_uncommon_password_needs_no_mix_of_character_classes(password):
    passwords.check_new_password(password, "D4002", "13800000001")


@pytest.mark.parametrize("password", ["d4002d4002", "my-D4002-pass", "13800000001", "tel13800000001"])
def test_the_members_own_number_or_phone_is_refused(password):
    with pytest.raises(passwords.WeakPassword, match="党员编号或手机号"):
        passwords.check_new_password(password, "D4002", "13800000001")


def test_the_shipped_list_holds_only_passwords_the_length_rule_lets_through():
    common = passwords.common_passwords()
    assert len(common) > 100 and {"12345678", "password", "11111111", "woaini1314"} <= common
    assert all(len(p) >= passwords.MIN_LENGTH for p in common)


def _must_change(app, world) -> None:
    with app.app_context():
        db.session.get(User, world.user["m_a1"]).must_change_password = True
        db.session.commit()


def _error_of(page: str, field: str) -> str:
    """The error shown right beneath a field of the form, which the field points at."""
    tag = re.search(rf'<input[^>]*name="{field}"[^>]*>', page).group()
    assert 'aria-invalid="true"' in tag and f'aria-describedby="{field}-error"' in tag
    return re.search(rf'<ul class="errors" id="{field}-error"[^>]*><li>(.*?)</li>', page).group(1)


def test_the_change_page_says_the_rule_and_shows_the_error_beside_the_new_password(app, world, login):
    _must_change(app, world)
    client = login(world.login["m_a1"])
    page = client.get("/auth/change-password").get_data(as_text=True)
    assert "至少 8 位" in page and "字母和数字" not in page
    weak = client.post("/auth/change-password", data={"current": PASSWORD, "new": "12345678", "confirm": "12345678"})
    assert _error_of(weak.get_data(as_text=True), "new") == "这个密码太常见，很容易被猜到，请换一个"
    wrong = client.post("/auth/change-password", data={"current": "nope-nope", "new": "xuexi dangzhang",
                                                       "confirm": "xuexi dangzhang"})
    assert _error_of(wrong.get_data(as_text=True), "current") == "当前密码不正确"
    done = client.post("/auth/change-password", data={"current": PASSWORD, "new": "xuexi dangzhang",
                                                      "confirm": "xuexi dangzhang"})
    assert done.status_code == 302 and done.location == "/"
    assert app.test_client().post("/auth/login", data={"identifier": "ma1", "password": "xuexi dangzhang"}).status_code == 302


def test_a_member_who_cannot_set_a_password_now_can_sign_out(app, world, login):
    _must_change(app, world)
    client = login(world.login["m_a1"])
    page = client.get("/auth/change-password").get_data(as_text=True)
    assert 'action="/auth/logout"' in page and "退出登录" in page
    assert client.post("/auth/logout").location.endswith("/auth/login")
    assert client.get("/").location.startswith("/auth/login")


def test_a_secretary_cannot_give_a_new_member_a_common_first_password(app, world, login):
    client = login(world.login["sec_a1"])
    for password in ("12345678", "N7001N7001"):
        page = client.post("/admin/members/new", data={
            "name": "新党员", "member_no": "N7001", "org_id": world.org["a1"], "category": "full", "password": password,
        }, follow_redirects=True).get_data(as_text=True)
        assert "太常见" in page or "党员编号或手机号" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.member_no == "N7001")) == 0


def test_an_import_with_a_common_first_password_imports_nobody(app, world):
    rows = [Row(2, {"name": "新党员", "member_no": "N7002", "phone": "", "org": "第一支部", "category": "正式党员"})]
    with app.app_context():
        scope = scope_for(db.session.get(User, world.user["sec_a1"]))
        with pytest.raises(ServiceError, match="太常见"):
            members.apply(scope, rows, "password", None)
        assert db.session.scalar(select(func.count()).select_from(User).where(User.member_no == "N7002")) == 0


def test_the_cli_refuses_a_common_admin_password(app, runner):
    assert runner.invoke(args=["orgs", "add", "某党委", "--code", "x", "--kind", "committee"]).exit_code == 0
    result = runner.invoke(args=["users", "create-admin", "root1", "--name", "管理员", "--org", "x",
                                 "--password", "password1"])
    assert result.exit_code != 0 and "太常见" in result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.member_no == "root1")) is None
        assert db.session.scalar(select(Organisation).where(Organisation.code == "x")) is not None
