"""Issue 14, deliver 5: landing pages by role. After signing in, and on the brand link, a branch
secretary lands on their branch's open tasks (completion, who has not finished, the reminder to copy),
an organiser on their committee's (completion per organisation one level down, weak branches flagged),
a member on their own tasks; staff still reach their own tasks through 任务."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from learnhub.extensions import db
from learnhub.models import Assignment, Organisation, OrgKind, Role, User, utcnow
from learnhub.services.reports import landing
from learnhub.services.orgs import grant, scope_for

from ..factories import make_org, make_user
from ..quiz.helpers import attempt_id_from, form_fields, paper, shown_answer


def hand_in(app, client, assignment_id: int, right: bool = True) -> None:
    attempt_id = attempt_id_from(client.post(f"/quiz/{assignment_id}/start").location)
    answers = {pos: shown_answer(q, perm, right) for pos, q, perm in paper(app, attempt_id)}
    client.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields(answers))


def section(html: str, assignment_id: int) -> str:
    return re.search(rf'<section class="card landing-task" id="task-{assignment_id}">(.*?)</section>', html, re.S).group(1)


def test_a_secretary_lands_on_their_branch_open_tasks(app, world, login, client):
    hand_in(app, login(world.login["m_a1"]), world.assignment_a)
    signed_in = client.post("/auth/login", data={"identifier": world.login["sec_a1"], "password": "pass1234"})
    assert signed_in.location == "/"
    page = client.get("/").get_data(as_text=True)
    assert "<h1>第一支部</h1>" in page and "我的学习任务" not in page
    task = section(page, world.assignment_a)
    unit = f'/reports/assignments/{world.assignment_a}/units/{world.org["a1"]}'
    assert f'href="{unit}"' in task  # the task opens on the branch page, not the committee report
    assert "已完成 1 / 3 人" in task and "33.3%" in task
    unfinished = re.search(r'<p class="unfinished">(.*?)</p>', task, re.S).group(1)
    assert "书记甲一" in unfinished and "党员甲一乙" in unfinished and "党员甲一<" not in unfinished
    reminder = re.search(r"<textarea[^>]*>(.*?)</textarea>", task, re.S).group(1)
    assert reminder.startswith("【学习提醒】") and "第一支部已完成 1/3 人" in reminder and "党员甲一乙、书记甲一" in reminder
    assert "需要关注的支部" not in page and "完成率标准" not in page  # nothing built for a committee
    assert "党委B测验" not in page  # another committee's task does not reach this branch


def test_an_organiser_lands_on_the_committee_overview_with_weak_branches(app, world, login):
    with app.app_context():
        a3 = db.session.get(Organisation, world.org["a3"])
        for i in range(4):
            make_user(a3, f"a3x{i}", f"党员丙{i}")
        db.session.commit()
    hand_in(app, login(world.login["m_a1"]), world.assignment_a)
    page = login(world.login["org_a"]).get("/").get_data(as_text=True)
    assert "<h1>党委A</h1>" in page and "我的学习任务" not in page
    task = section(page, world.assignment_a)
    assert f'href="/reports/assignments/{world.assignment_a}"' in task
    assert "党委A 已完成 1 / 12 人" in task
    orgs = re.findall(r'<span class="landing-org">(.*?)</span>\s*<span class="landing-rate">([^<]*)</span>', task, re.S)
    shown = {re.sub(r"<[^>]+>|\s+", "", name).replace("需关注", ""): rate for name, rate in orgs}
    assert shown == {"党委直属": "0/2 · 0.0%", "机关党总支": "1/5 · 20.0%", "第三支部": "0/5 · 0.0%"}
    weak = task.split("需要关注的支部", 1)[1]
    assert f'/reports/assignments/{world.assignment_a}/units/{world.org["a3"]}"><b>第三支部</b>' in weak
    assert "完成率 0.0%" in weak
    # The figures one level down add up to the total shown.
    assert sum(int(rate.split("/")[1].split(" ")[0]) for rate in shown.values()) == 12


def test_a_member_lands_on_their_own_tasks(world, login):
    page = login(world.login["m_a1"]).get("/").get_data(as_text=True)
    assert "我的学习任务" in page and 'id="task-' in page and "landing-task" not in page


@pytest.mark.parametrize("who", ["sec_a1", "org_a", "admin"])
def test_staff_still_reach_their_own_tasks_and_the_brand_leads_home(world, login, who):
    client = login(world.login[who])
    page = client.get("/").get_data(as_text=True)
    assert 'class="brand" href="/"' in page and '<a href="/tasks">任务</a>' in page
    mine = client.get("/tasks").get_data(as_text=True)
    assert "我的学习任务" in mine and f'id="task-{world.assignment_a}"' in mine


def test_a_secretary_task_list_opens_branch_pages_an_organiser_the_report(world, login):
    unit = f'href="/reports/assignments/{world.assignment_a}/units/{world.org["a1"]}"'
    assert unit in login(world.login["sec_a1"]).get("/reports/").get_data(as_text=True)
    organiser = login(world.login["org_a"]).get("/reports/").get_data(as_text=True)
    assert f'href="/reports/assignments/{world.assignment_a}"' in organiser and "/units/" not in organiser


def test_closed_tasks_leave_the_landing_pages(app, world, login):
    with app.app_context():
        db.session.get(Assignment, world.assignment_a).closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert "本支部目前没有进行中的任务" in login(world.login["sec_a1"]).get("/").get_data(as_text=True)
    assert "目前没有进行中的任务" in login(world.login["org_a"]).get("/").get_data(as_text=True)


def test_who_counts_as_a_branch_secretary(app, world, ctx):
    a1, a2 = db.session.get(Organisation, world.org["a1"]), db.session.get(Organisation, world.org["a2"])
    group = make_org("第一党小组", OrgKind.GROUP, a1)
    group_leader = make_user(group, "grp1", "组长", role=Role.SECRETARY)
    two_branches = make_user(a1, "two", "兼任书记", role=Role.SECRETARY)
    grant(two_branches, a2, Role.SECRETARY)
    general = make_user(a1, "gen", "总支书记", role=Role.SECRETARY, role_org=db.session.get(Organisation, world.org["ga"]))
    db.session.commit()
    home = {name: landing.home_branch(scope_for(db.session.get(User, uid)))
            for name, uid in [("sec_a1", world.user["sec_a1"]), ("m_a1", world.user["m_a1"]), ("org_a", world.user["org_a"]),
                              ("admin", world.user["admin"]), ("group", group_leader.id), ("two", two_branches.id),
                              ("general", general.id)]}
    assert {k: v.name if v else None for k, v in home.items()} == {
        "sec_a1": "第一支部", "m_a1": None, "org_a": None, "admin": None, "group": "第一支部", "two": None, "general": None,
    }


def test_a_time_up_paper_is_handed_in_on_the_secretary_landing(app, world, login):
    from ..reports.test_totals_and_time_up import _closed_as_the_job_would, _time_runs_out

    attempt_id = _time_runs_out(app, world, login)
    task = section(login(world.login["sec_a1"]).get("/").get_data(as_text=True), world.assignment_a)
    assert "答题中" not in task and "已完成 1 / 3 人" in task
    unfinished = re.search(r'<p class="unfinished">(.*?)</p>', task, re.S).group(1)
    assert "党员甲一<" not in unfinished
    _closed_as_the_job_would(app, attempt_id)
