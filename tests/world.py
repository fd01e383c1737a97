"""The standard world most tests use: two committees, branches, staff and members, and the test bank.

  党委A (code a) ── 机关党总支 ── 第一支部 (A1), 第二支部 (A2)
                └─ 第三支部 (A3)
  党委B (code b) ── 第一支部 (B1)   (same name as A1 on purpose)
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import OrgKind, Question, Role
from learnhub.services.bank import question_bank

from .conftest import DATA
from .factories import PASSWORD, make_assignment, make_org, make_user


@dataclass
class World:
    org: dict[str, int]
    user: dict[str, int]
    login: dict[str, str]
    assignment_a: int
    assignment_b: int


@pytest.fixture
def world(app) -> World:
    with app.app_context():
        question_bank.import_dir(DATA / "bank")
        a = make_org("党委A", OrgKind.COMMITTEE, code="a")
        ga = make_org("机关党总支", OrgKind.GENERAL_BRANCH, a, code="a-g")
        a1 = make_org("第一支部", OrgKind.BRANCH, ga, code="a1")
        a2 = make_org("第二支部", OrgKind.BRANCH, ga, code="a2")
        a3 = make_org("第三支部", OrgKind.BRANCH, a, code="a3")
        b = make_org("党委B", OrgKind.COMMITTEE, code="b")
        b1 = make_org("第一支部", OrgKind.BRANCH, b, code="b1")
        users = {
            "admin": make_user(a, "admin", "管理员", is_admin=True),
            "org_a": make_user(a, "orga", "组织员甲", role=Role.ORGANISER),
            "sec_a1": make_user(a1, "seca1", "书记甲一", role=Role.SECRETARY, phone="13900000001"),
            "sec_a2": make_user(a2, "seca2", "书记甲二", role=Role.SECRETARY),
            "m_a1": make_user(a1, "ma1", "党员甲一", phone="13800000001"),
            "m_a1b": make_user(a1, "ma1b", "党员甲一乙"),
            "m_a2": make_user(a2, "ma2", "党员甲二"),
            "m_a3": make_user(a3, "ma3", "党员甲三"),
            "org_b": make_user(b, "orgb", "组织员乙", role=Role.ORGANISER),
            "sec_b1": make_user(b1, "secb1", "书记乙一", role=Role.SECRETARY),
            "m_b1": make_user(b1, "mb1", "党员乙一"),
        }
        questions = list(db.session.scalars(select(Question).order_by(Question.key)))
        assignment_a = make_assignment(a, questions[:5], title="党委A测验", pass_mark=60, max_attempts=2)
        assignment_b = make_assignment(b, questions[:5], title="党委B测验")
        db.session.commit()
        return World(
            org={k: o.id for k, o in dict(a=a, ga=ga, a1=a1, a2=a2, a3=a3, b=b, b1=b1).items()},
            user={k: u.id for k, u in users.items()},
            login={k: u.member_no for k, u in users.items()},
            assignment_a=assignment_a.id,
            assignment_b=assignment_b.id,
        )


@pytest.fixture
def login(app):
    """Return a test client logged in as the given member number (password from the factories)."""

    def _login(member_no: str, password: str = PASSWORD):
        client = app.test_client()
        response = client.post("/auth/login", data={"identifier": member_no, "password": password})
        assert response.status_code == 302, response.data.decode()
        return client

    return _login
