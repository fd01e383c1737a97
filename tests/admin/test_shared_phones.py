"""A phone number may belong to more than one account (a family's one phone), so adding a member never
tells a secretary whether a number is registered in another organisation; each account signs in with
the shared phone and its own password."""

from __future__ import annotations

import re

from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import User

from ..factories import PASSWORD
from .test_members import HEADER, import_file, xlsx

A1_PHONE = "13800000001"  # 党员甲一's phone, in 党委A


def _new_member(client, org_id: int, number: str, phone: str, password: str = "first123"):
    return client.post("/admin/members/new", data={
        "name": "新党员", "member_no": number, "phone": phone, "org_id": org_id, "category": "full", "password": password,
    }, follow_redirects=True)


def test_a_phone_used_in_another_committee_is_accepted_without_a_word_about_it(app, world, login):
    used = _new_member(login(world.login["sec_b1"]), world.org["b1"], "B9001", A1_PHONE)
    fresh = _new_member(login(world.login["sec_b1"]), world.org["b1"], "B9002", "13700000077")
    for page in (used, fresh):
        assert page.status_code == 200
    assert "已被使用" not in used.get_data(as_text=True)
    # A registered number and a fresh one get the same answer.
    assert _flashes(used) == _flashes(fresh) and _flashes(used)
    with app.app_context():
        assert db.session.scalar(select(User.phone).where(User.member_no == "B9001")) == A1_PHONE


def _flashes(response) -> list[str]:
    return re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', response.get_data(as_text=True))


def test_an_import_with_a_phone_used_elsewhere_imports(app, world, login):
    response = import_file(login(world.login["sec_b1"]), "m.xlsx", xlsx([HEADER, ["乙家属", "B9100", A1_PHONE, "第一支部", "正式"]]))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User.phone).where(User.member_no == "B9100")) == A1_PHONE


def test_each_account_on_a_shared_phone_signs_in_with_its_own_password(app, world, login, make_app):
    _new_member(login(world.login["sec_b1"]), world.org["b1"], "B9001", A1_PHONE, password="other789")

    def signs_in_as(password: str) -> str | None:
        """The member number of the account the phone and password signed in to, or None."""
        response = app.test_client().post("/auth/login", data={"identifier": A1_PHONE, "password": password})
        if response.status_code != 302:
            return None
        with app.app_context():
            newest = db.session.scalars(select(User).where(User.last_login_at.is_not(None))
                                        .order_by(User.last_login_at.desc())).first()
            return newest.member_no

    assert signs_in_as(PASSWORD) == "ma1"
    assert signs_in_as("other789") == "B9001"
    assert signs_in_as("wrong0000") is None
