"""Secretaries see who has finished and the scores; organisers see every branch; exports hold the same."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest

from learnhub.extensions import db
from learnhub.models import Assignment, MemberResult, Question, User, utcnow
from learnhub.services.exam import quizzes

from ..quiz.helpers import shown_answer


def finish(app, world, member_key: str, right_count: int):
    """Let a member finish assignment A with `right_count` of 5 right."""
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        member = db.session.get(User, world.user[member_key])
        attempt = quizzes.start_attempt(assignment, member)
        for pos, entry in enumerate(attempt.paper, start=1):
            q = db.session.get(Question, entry["q"])
            quizzes.save_answer(attempt, pos, shown_answer(q, entry["perm"], pos <= right_count), pos, 60)
        quizzes.submit_attempt(attempt, None, 60)


@pytest.fixture
def results(app, world):
    finish(app, world, "m_a1", 5)  # 100
    finish(app, world, "sec_a1", 2)  # 40, failed
    finish(app, world, "m_a2", 4)  # 80
    return world


def test_organiser_drills_down_the_tree_one_level_at_a_time(results, login):
    c = login(results.login["org_a"])
    page = c.get(f"/reports/assignments/{results.assignment_a}").get_data(as_text=True)
    table = page.split("<table>")[1].split("</table>")[0]
    for name in ("党委A", "机关党总支", "第三支部"):
        assert name in table
    assert "第一支部" not in table and "党委B" not in page
    page = c.get(f"/reports/assignments/{results.assignment_a}?org={results.org['ga']}").get_data(as_text=True)
    table = page.split("<table>")[1].split("</table>")[0]
    assert "第一支部" in table and "第二支部" in table and "第三支部" not in table
    # 第一支部: 3 members, 2 finished (66.7%), 1 passed (33.3%), average 70
    assert "66.7%" in table and "33.3%" in table and ">70<" in table


def test_secretary_sees_only_their_branch(results, login):
    c = login(results.login["sec_a1"])
    page = c.get(f"/reports/assignments/{results.assignment_a}").get_data(as_text=True)
    assert "第一支部" in page and "第二支部" not in page and "第三支部" not in page


def test_branch_page_lists_who_has_not_finished(results, login):
    c = login(results.login["sec_a1"])
    page = c.get(f"/reports/assignments/{results.assignment_a}/units/{results.org['a1']}").get_data(as_text=True)
    unfinished = page.split('id="unfinished"')[1].split("</p>")[0]  # the names, before the deadline and reminder
    assert "党员甲一乙" in unfinished and "党员甲一<" not in unfinished and "书记甲一" not in unfinished
    # 书记甲一 failed with a try left: named apart, as one who may try again.
    assert "书记甲一" in page.split('id="may-retry"')[1].split("</p>")[0]
    assert "100" in page and "40" in page and "不合格" in page


def test_secretary_export_has_the_branch_scores(results, login):
    c = login(results.login["sec_a1"])
    r = c.get(f"/reports/assignments/{results.assignment_a}/units/{results.org['a1']}/export.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "书记甲一" in rows[1][0]  # stamped with who exported it
    assert rows[3][:7] == ("党员编号", "姓名", "党员类别", "所在组织", "状态", "得分", "是否合格")
    body = {row[0]: row for row in rows[4:]}
    assert set(body) == {"ma1", "ma1b", "seca1"}
    assert body["ma1"][4:7] == ("已完成", 100, "合格")
    assert body["seca1"][5:7] == (40, "不合格")
    assert body["ma1b"][4] == "未开始" and body["ma1b"][5] is None


def test_organiser_workbook_has_summary_and_a_sheet_per_branch(results, login):
    c = login(results.login["org_a"])
    r = c.get(f"/reports/assignments/{results.assignment_a}/export.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    assert book.sheetnames[0] == "汇总"
    assert {"第一支部", "第二支部", "第三支部"} <= set(book.sheetnames)
    summary = {row[0].strip("　"): row for row in book["汇总"].iter_rows(min_row=5, values_only=True)}
    assert summary["第一支部"][1:6] == (3, 0, 2, 66.7, 1)
    assert summary["第二支部"][1:4] == (2, 0, 1)
    assert summary["党委A"][1] == 8  # every active member under 党委A, its own staff included
    assert summary["机关党总支"][1] == 5  # the general branch rolls up 第一支部 and 第二支部
    unfinished = [row[2] for row in book["未完成名单"].iter_rows(min_row=5, values_only=True)]
    assert "党员甲一乙" in unfinished and "党员甲一" not in unfinished
    assert "党委B" not in book.sheetnames


def test_formula_looking_names_are_neutralised_in_exports(app, results, login):
    with app.app_context():
        db.session.get(User, results.user["m_a1b"]).name = "=HYPERLINK(\"http://x\",\"点我\")"
        db.session.commit()
    c = login(results.login["sec_a1"])
    r = c.get(f"/reports/assignments/{results.assignment_a}/units/{results.org['a1']}/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    names = [row[1] for row in sheet.iter_rows(min_row=5, values_only=True)]
    assert "'=HYPERLINK(\"http://x\",\"点我\")" in names
    assert all(not str(n).startswith("=") for n in names)


def test_staff_can_open_a_members_finished_attempt_in_scope_only(app, results, login):
    with app.app_context():
        attempt_id = db.session.get(MemberResult, (results.assignment_a, results.user["m_a1"])).counted_attempt_id
    assert login(results.login["sec_a1"]).get(f"/reports/attempts/{attempt_id}").status_code == 200
    assert login(results.login["org_a"]).get(f"/reports/attempts/{attempt_id}").status_code == 200
    assert login(results.login["sec_a2"]).get(f"/reports/attempts/{attempt_id}").status_code == 404
    assert login(results.login["org_b"]).get(f"/reports/attempts/{attempt_id}").status_code == 404


def test_report_index_lists_assignments_in_scope(results, login):
    page = login(results.login["sec_b1"]).get("/reports/").get_data(as_text=True)
    assert "党委B测验" in page and "党委A测验" not in page


def test_reopened_window_does_not_change_counted_score(app, results):
    with app.app_context():
        assignment = db.session.get(Assignment, results.assignment_a)
        assignment.closes_at = utcnow() + timedelta(days=1)
        db.session.commit()
    finish(app, results, "m_a1", 0)  # second attempt, worse: highest still counts
    with app.app_context():
        result = db.session.get(MemberResult, (results.assignment_a, results.user["m_a1"]))
        assert result.score == 100.0 and result.attempts == 2
