"""复测 asks first: a form prefilled with the branch's weakest points that says what will happen, and an
assignment nobody has started can be withdrawn by whoever gave it.

The world's assignment A covers 入党条件 (2 questions in the test bank) and 预备期 (3 questions); in
第一支部 (3 members) 预备期 is the weakest point (see test_weak.py).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Assignment, KnowledgePoint, User
from learnhub.services.exam import quizzes, rechecks

from .test_weak import known  # noqa: F401  (fixture)

ZONE = ZoneInfo("Asia/Shanghai")


def _url(world) -> str:
    return f"/reports/assignments/{world.assignment_a}/units/{world.org['a1']}/recheck"


def _point_ids(app) -> dict[str, int]:
    with app.app_context():
        return {p.name: p.id for p in db.session.scalars(select(KnowledgePoint).where(
            KnowledgePoint.name.in_(["入党条件", "预备期"])))}


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Assignment.id)))


def _form(app, **over) -> dict:
    points = _point_ids(app)
    deadline = (datetime.now(ZONE) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    data = {"points": [points["预备期"], points["入党条件"]], "count": "4", "closes_at": deadline,
            "time_limit_minutes": "15", "title": "第一支部复测（预备期）"}
    data.update(over)
    return data


def _checked(page: str) -> set[str]:
    """Names of the ticked knowledge points on the form."""
    return set(re.findall(r'<input type="checkbox" name="points" value="\d+" checked[^>]*>\s*<span><b>([^<]+)</b>', page))


def test_recheck_button_opens_a_form_and_publishes_nothing(app, known, login):
    c = login(known.login["sec_a1"])
    unit = c.get(f"/reports/assignments/{known.assignment_a}/units/{known.org['a1']}").get_data(as_text=True)
    assert f'href="{_url(known)}"' in unit and "<form method=\"post\" action=\"" + _url(known) not in unit
    before = _count(app)
    page = c.get(_url(known)).get_data(as_text=True)
    assert _count(app) == before
    assert _checked(page) == {"预备期", "入党条件"}
    assert "将向第一支部的 3 名党员发布这份复测考试" in page and "确认发布（3 人）" in page
    assert 'name="count"' in page and 'value="5"' in page  # 3 a point, capped by the 5 questions there are
    deadline = re.search(r'name="closes_at"[^>]*value="([^"]+)"', page).group(1)
    week = (datetime.now(ZONE) + timedelta(days=7)).strftime("%Y-%m-%d")
    assert deadline == f"{week}T22:00"
    assert 'name="time_limit_minutes"' in page and "第一支部薄弱知识点复测：预备期、入党条件" in page


def test_confirmed_form_publishes_the_chosen_recheck(app, known, login):
    c = login(known.login["sec_a1"])
    data = _form(app)
    r = c.post(_url(known), data=data)
    assert r.status_code == 302
    with app.app_context():
        new = db.session.scalar(select(Assignment).filter_by(title="第一支部复测（预备期）"))
        assert new.org_id == known.org["a1"] and new.time_limit_minutes == 15 and new.max_attempts == 2
        assert sorted(rule["count"] for rule in new.draw_rules) == [2, 2] and new.paper_size == 4
        assert new.closes_at == datetime.strptime(data["closes_at"], "%Y-%m-%dT%H:%M").replace(tzinfo=ZONE)
        assert new.created_by_id == known.user["sec_a1"]
    assert r.location.endswith(f"/reports/assignments/{new.id}")
    assert "已向第一支部的 3 名党员发布「第一支部复测（预备期）」" in c.get(r.location).get_data(as_text=True)
    assert "第一支部复测（预备期）" in login(known.login["m_a1b"]).get("/").get_data(as_text=True)
    assert "第一支部复测（预备期）" not in login(known.login["m_a2"]).get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"count": "6"}, "count", "所选知识点在题库中只有 5 道题，不够出 6 道"),
        ({"points": [], "count": "1"}, "points", "请至少选择一个知识点"),
        ({"count": "1"}, "count", "题数不能少于所选知识点的个数（2 个）"),
        ({"count": "abc"}, "count", "不是有效的整数"),
        ({"count": ""}, "count", "请填写题数"),
        ({"closes_at": "2020-01-01T08:00"}, "closes_at", "截止时间应晚于现在"),
        ({"closes_at": ""}, "closes_at", "请填写截止时间"),
        ({"closes_at": "0001-01-01T00:00"}, "closes_at", "请填写 2000 到 2100 年之间的截止时间"),
        ({"closes_at": "9999-12-31T23:59"}, "closes_at", "请填写 2000 到 2100 年之间的截止时间"),
        ({"closes_at": "明天"}, "closes_at", "不是有效的日期"),
        ({"points": ["abc"]}, "points", "请至少选择一个知识点"),
        ({"time_limit_minutes": "0"}, "time_limit_minutes", "限时应在 1 到 600 分钟之间"),
        ({"title": " "}, "title", "请填写名称"),
        ({"points": ["999999"]}, "points", "请至少选择一个本任务的知识点"),
    ],
)
def test_bad_recheck_form_says_why_beside_the_field_and_creates_nothing(app, known, login, over, field, message):
    c = login(known.login["sec_a1"])
    before = _count(app)
    data = _form(app, **over)
    r = c.post(_url(known), data=data)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and _count(app) == before
    errors = re.search(rf'<ul class="errors" id="{field}-error" role="alert">(.*?)</ul>', page, re.S)
    assert errors and message in errors.group(1), page
    assert f'aria-describedby="{field}-error"' in page
    if field != "title":
        assert 'value="第一支部复测（预备期）"' in page  # what was typed stays
    if field != "points":
        assert _checked(page) == {"预备期", "入党条件"}


@pytest.mark.parametrize("who", ["sec_a2", "org_b", "sec_b1"])
def test_recheck_outside_ones_scope_is_not_found(app, known, login, who):
    c = login(known.login[who])
    before = _count(app)
    assert c.get(_url(known)).status_code == 404
    assert c.post(_url(known), data=_form(app)).status_code == 404
    assert _count(app) == before


def test_organiser_above_may_recheck_a_branch(app, known, login):
    c = login(known.login["org_a"])
    assert "将向第一支部的 3 名党员发布" in c.get(_url(known)).get_data(as_text=True)
    assert c.post(_url(known), data=_form(app)).status_code == 302


def test_split_count_spreads_questions_within_each_pool():
    assert rechecks.split_count(8, [3, 3, 3]) == [3, 3, 2]
    assert rechecks.split_count(5, [1, 10]) == [1, 4]
    assert rechecks.split_count(4, [2, 2]) == [2, 2]


# --- withdrawing ---------------------------------------------------------------------------------------


def _publish(app, known, login, who="sec_a1", title="第一支部复测（预备期）") -> int:
    login(known.login[who]).post(_url(known), data=_form(app, title=title))
    with app.app_context():
        return db.session.scalar(select(Assignment.id).filter_by(title=title))


def _withdraw(new: int) -> str:
    return f"/reports/assignments/{new}/withdraw"


def test_creator_withdraws_after_confirming_and_it_disappears(app, known, login):
    new = _publish(app, known, login)
    c = login(known.login["sec_a1"])
    report = c.get(f"/reports/assignments/{new}").get_data(as_text=True)
    assert f'href="{_withdraw(new)}"' in report
    ask = c.get(_withdraw(new)).get_data(as_text=True)
    assert "撤回后，第一支部的 3 名党员的任务列表中将不再有这项任务" in ask and "确认撤回" in ask
    assert _count(app) and "第一支部复测" in login(known.login["m_a1"]).get("/").get_data(as_text=True)
    r = c.post(_withdraw(new), follow_redirects=True)
    assert "已撤回「第一支部复测（预备期）」" in r.get_data(as_text=True)
    member = login(known.login["m_a1"])
    assert "第一支部复测" not in member.get("/").get_data(as_text=True)
    assert member.get(f"/quiz/{new}").status_code == 404
    assert member.post(f"/quiz/{new}/start").status_code == 404
    assert "第一支部复测" not in c.get("/reports/").get_data(as_text=True)
    assert c.get(f"/reports/assignments/{new}").status_code == 404
    with app.app_context():
        gone = db.session.get(Assignment, new)
        assert gone.withdrawn_at is not None and gone.withdrawn_by_id == known.user["sec_a1"]
        assert db.session.get(Assignment, known.assignment_a).withdrawn_at is None


def test_withdraw_is_refused_once_someone_has_started(app, known, login):
    new = _publish(app, known, login)
    with app.app_context():
        quizzes.start_attempt(db.session.get(Assignment, new), db.session.get(User, known.user["m_a1"]))
    c = login(known.login["sec_a1"])
    assert f'href="{_withdraw(new)}"' not in c.get(f"/reports/assignments/{new}").get_data(as_text=True)
    ask = c.get(_withdraw(new)).get_data(as_text=True)
    assert "已有 1 人开始作答，不能撤回" in ask and "确认撤回" not in ask
    r = c.post(_withdraw(new), follow_redirects=True)
    assert "已有 1 人开始作答，不能撤回" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Assignment, new).withdrawn_at is None
    assert "第一支部复测" in login(known.login["m_a1b"]).get("/").get_data(as_text=True)


def test_only_the_creator_in_scope_withdraws(app, known, login):
    new = _publish(app, known, login)
    for outsider in ("sec_a2", "org_b", "sec_b1"):
        c = login(known.login[outsider])
        assert c.get(_withdraw(new)).status_code == 404
        assert c.post(_withdraw(new)).status_code == 404
    organiser = login(known.login["org_a"])  # sees the branch's recheck, but did not give it
    assert f'href="{_withdraw(new)}"' not in organiser.get(f"/reports/assignments/{new}").get_data(as_text=True)
    assert "只有布置这项任务的人可以撤回它" in organiser.get(_withdraw(new)).get_data(as_text=True)
    r = organiser.post(_withdraw(new), follow_redirects=True)
    assert "只有布置这项任务的人可以撤回它" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Assignment, new).withdrawn_at is None


def test_organiser_withdraws_an_assignment_they_gave(app, known, login):
    new = _publish(app, known, login, who="org_a", title="机关复测")
    c = login(known.login["org_a"])
    assert c.post(_withdraw(new)).status_code == 302
    assert "机关复测" not in login(known.login["m_a1"]).get("/").get_data(as_text=True)
    # The committee's exam, given by someone else and already taken by members, stays.
    assert c.post(_withdraw(known.assignment_a)).status_code == 302
    with app.app_context():
        assert db.session.get(Assignment, known.assignment_a).withdrawn_at is None
