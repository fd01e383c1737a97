"""The weak-branch report, item analysis, key corrections and the exports, on a tree with known answers.

Assignment A has five questions: t01-001 and t01-002 on 入党条件, t01-003..005 on 预备期.
  第一支部: 党员甲一 all right; 书记甲一 only 入党条件 right; 党员甲一乙 has not finished.
  第二支部: 党员甲二 only 预备期 right; 书记甲二 has not finished.
  第三支部: nobody has finished.
"""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Assignment, ExportLog, KeyCorrection, MemberResult, Question, User
from learnhub.services.reports import items, mastery
from learnhub.services.exam import key_corrections, quizzes
from learnhub.services.orgs import scope_for

from ..quiz.helpers import shown_answer

RIGHT = {
    "m_a1": {"t01-001", "t01-002", "t01-003", "t01-004", "t01-005"},
    "sec_a1": {"t01-001", "t01-002"},
    "m_a2": {"t01-003", "t01-004", "t01-005"},
}


def take(app, world, member_key: str, right_keys: set[str]) -> int:
    with app.app_context():
        attempt = quizzes.start_attempt(db.session.get(Assignment, world.assignment_a), db.session.get(User, world.user[member_key]))
        for pos, entry in enumerate(attempt.paper, start=1):
            q = db.session.get(Question, entry["q"])
            quizzes.save_answer(attempt, pos, shown_answer(q, entry["perm"], q.key in right_keys), pos, 60)
        quizzes.submit_attempt(attempt, None, 60)
        return attempt.id


@pytest.fixture
def known(app, world, monkeypatch):
    monkeypatch.setattr(mastery, "MIN_MEMBERS", 1)
    monkeypatch.setattr(mastery, "MIN_ANSWERS", 1)
    for key, right in RIGHT.items():
        take(app, world, key, right)
    return world


def rows_by_name(report):
    return {r.name: r for r in report.rows}


def test_mastery_completion_and_flags_per_branch(app, known, ctx):
    organiser = db.session.get(User, known.user["org_a"])
    report = mastery.mastery_report(scope_for(organiser), db.session.get(Assignment, known.assignment_a))
    assert [p.name for p in report.points] == ["入党条件", "预备期"]
    rows = rows_by_name(report)
    a1, a2, a3, general, top = rows["第一支部"], rows["第二支部"], rows["第三支部"], rows["机关党总支"], rows["党委A"]
    by_point = lambda row: {s.point.name: (s.right, s.answered, s.rate) for s in row.points.values()}  # noqa: E731
    assert by_point(a1) == {"入党条件": (4, 4, 100.0), "预备期": (3, 6, 50.0)}
    assert by_point(a2) == {"入党条件": (0, 2, 0.0), "预备期": (3, 3, 100.0)}
    assert by_point(general) == {"入党条件": (4, 6, 66.7), "预备期": (6, 9, 66.7)}
    assert a1.counts.finished_rate == 66.7 and a2.counts.finished_rate == 50.0 and a3.counts.finished_rate == 0.0
    assert [p.point.name for p in a1.weak_points] == ["预备期"] and [p.point.name for p in a2.weak_points] == ["入党条件"]
    assert a1.flagged and a2.flagged and a3.flagged and not general.is_unit and not general.flagged
    # weakest first: 第二支部 has 0% on 入党条件, nobody in 第三支部 finished, 第一支部 has 50% on 预备期
    assert [r.org.name for r in report.weak_units] == ["第二支部", "第三支部", "第一支部"]
    assert (general.depth, a1.depth, top.depth) == (1, 2, 0)


def test_thresholds_change_the_verdict(app, known, ctx):
    organiser = db.session.get(User, known.user["org_a"])
    report = mastery.mastery_report(scope_for(organiser), db.session.get(Assignment, known.assignment_a), 40.0, 40.0)
    rows = rows_by_name(report)
    assert not rows["第一支部"].flagged  # 66.7% finished and 50% on 预备期 both clear 40%
    assert rows["第二支部"].flagged and rows["第二支部"].weak_points[0].rate == 0.0


def test_small_branches_get_a_caution_not_a_verdict(app, world, ctx):
    take(app, world, "m_a2", set())
    organiser = db.session.get(User, world.user["org_a"])
    rows = rows_by_name(mastery.mastery_report(scope_for(organiser), db.session.get(Assignment, world.assignment_a)))
    assert rows["第二支部"].caution and not rows["第二支部"].flagged  # 2 members, fewer than MIN_MEMBERS


def test_secretary_sees_only_their_branch_in_the_report(app, known, ctx):
    secretary = db.session.get(User, known.user["sec_a1"])
    report = mastery.mastery_report(scope_for(secretary), db.session.get(Assignment, known.assignment_a))
    assert [r.org.name for r in report.rows] == ["第一支部"]


def test_item_analysis_matches_hand_computed_values(app, known, ctx):
    organiser = db.session.get(User, known.user["org_a"])
    stats = {s.question.key: s for s in items.item_analysis(scope_for(organiser), db.session.get(Assignment, known.assignment_a))}
    first, third = stats["t01-001"], stats["t01-003"]
    assert (first.answered, first.right, first.facility) == (3, 2, 0.67)
    # scores: 党员甲一 100 (upper group), 书记甲一 40 (lower group), 党员甲二 60
    assert first.discrimination == 0.0 and third.discrimination == 1.0
    assert first.choices[1] == 2 and sum(first.choices.values()) == 3  # 十八岁 (stored index 1) chosen twice
    assert not first.suspect  # fewer than 20 answers: not judged


def test_fixing_a_key_regrades_and_is_recorded(app, known, ctx):
    organiser = db.session.get(User, known.user["admin"])  # the test bank is built-in: admins correct it
    question = db.session.scalar(select(Question).filter_by(key="t01-003", is_current=True))  # 预备期一年: 对
    correction = key_corrections.correct_key(question, "错", "测试：假设原答案有误", organiser)
    assert correction.attempts_regraded == 3 and correction.by_id == organiser.id
    assert correction.old_answer == [True] and correction.new_answer == [False]
    m_a1 = db.session.get(MemberResult, (known.assignment_a, known.user["m_a1"]))
    sec_a1 = db.session.get(MemberResult, (known.assignment_a, known.user["sec_a1"]))
    assert m_a1.score == 80.0 and sec_a1.score == 60.0  # 书记甲一 answered 错 on it: now right
    assert db.session.scalar(select(KeyCorrection)).reason == "测试：假设原答案有误"


def test_items_page_and_key_fix_through_the_pages(app, known, login):
    organiser = login(known.login["org_a"])  # may not correct a built-in key: told whom to ask
    page = organiser.get(f"/reports/assignments/{known.assignment_a}/items").get_data(as_text=True)
    assert "难度系数" in page and "区分度" in page and "改正并重新评分" not in page and "这道题属于内置题库" in page
    admin = login(known.login["admin"])
    assert "改正并重新评分" in admin.get(f"/reports/assignments/{known.assignment_a}/items").get_data(as_text=True)
    with app.app_context():
        qid = db.session.scalar(select(Question.id).filter_by(key="t01-003", is_current=True))
    r = admin.post(f"/reports/questions/{qid}/fix-key", data={"answer": "错", "reason": "核对后更正", "back": known.assignment_a},
                   follow_redirects=True)
    assert "重新评分 3 份试卷" in r.get_data(as_text=True)
    secretary = login(known.login["sec_a1"])
    assert "改正并重新评分" not in secretary.get(f"/reports/assignments/{known.assignment_a}/items").get_data(as_text=True)
    assert secretary.post(f"/reports/questions/{qid}/fix-key", data={"answer": "对", "reason": "x"}).status_code == 403


def test_report_page_names_weak_branches_and_draws_charts(app, known, login):
    page = login(known.login["org_a"]).get(f"/reports/assignments/{known.assignment_a}").get_data(as_text=True)
    weak = page.split('id="weak-units"')[1].split("</div>")[0]
    assert "第二支部" in weak and "入党条件 0.0%" in weak and "第一支部" in weak and "预备期 50.0%" in weak
    bars = page.split('class="list card bars"')[1].split("</ul>")[0]
    assert "机关党总支" in bars and "60%" in bars and 'class="heat"' in page


def test_branch_page_has_reminder_weak_points_and_recheck(app, known, login):
    c = login(known.login["sec_a1"])
    page = c.get(f"/reports/assignments/{known.assignment_a}/units/{known.org['a1']}").get_data(as_text=True)
    reminder = page.split('id="reminder"')[1].split("</textarea>")[0]
    assert "党员甲一乙" in reminder and "截止" in reminder and "已完成 2/3 人" in reminder and "党员甲一、" not in reminder
    weakest = page.split('id="weakest"')[1].split("</div>")[0]
    assert weakest.index("预备期") < weakest.index("入党条件")
    url = f"/reports/assignments/{known.assignment_a}/units/{known.org['a1']}/recheck"
    assert f'href="{url}"' in weakest
    # The button opens a form (tested in test_recheck.py); sending it as prefilled publishes the re-check.
    form = c.get(url).get_data(as_text=True)
    fields = dict(re.findall(r'name="(count|closes_at|title)"[^>]*value="([^"]*)"', form))
    fields["points"] = re.findall(r'name="points" value="(\d+)" checked', form)
    r = c.post(url, data=fields, follow_redirects=True)
    assert "薄弱知识点复测" in r.get_data(as_text=True)
    with app.app_context():
        recheck = db.session.scalar(select(Assignment).where(Assignment.title.like("第一支部薄弱知识点复测%")))
        assert recheck.org_id == known.org["a1"] and recheck.draw_rules
    assert "薄弱知识点复测" in login(known.login["m_a1b"]).get("/").get_data(as_text=True)
    assert "薄弱知识点复测" not in login(known.login["m_a2"]).get("/").get_data(as_text=True)


def test_csv_has_a_bom_and_is_logged(app, known, login):
    r = login(known.login["sec_a1"]).get(f"/reports/assignments/{known.assignment_a}/units/{known.org['a1']}/export.csv")
    assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbf")
    text = r.data.decode("utf-8-sig")
    assert "导出人：书记甲一" in text and "党员编号,姓名" in text and "党员甲一" in text and "党员甲二" not in text
    with app.app_context():
        log = db.session.scalar(select(ExportLog))
        assert log.kind == "branch.csv" and log.user_id == known.user["sec_a1"]


def test_rollup_workbook_has_weak_points_and_item_sheet(app, known, login):
    r = login(known.login["org_a"]).get(f"/reports/assignments/{known.assignment_a}/export.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    assert {"汇总", "未完成名单", "第一支部", "题目分析"} <= set(book.sheetnames)
    summary = {row[0].strip("　"): row for row in book["汇总"].iter_rows(min_row=5, values_only=True)}
    assert "入党条件" in (summary["第二支部"][9] or "")
    members = {row[1]: row for row in book["第一支部"].iter_rows(min_row=5, values_only=True)}
    assert "预备期" in members["书记甲一"][9]
    assert book["题目分析"].max_row == 4 + 5


def test_cli_report_weak(app, known, runner, tmp_path):
    out = tmp_path / "weak.xlsx"
    result = runner.invoke(args=["report", "weak", "--org", "a", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "branches flagged" in result.output and "第二支部" in result.output
    assert openpyxl.load_workbook(out).sheetnames[0] == "汇总"
    assert runner.invoke(args=["report", "weak", "--org", "nope", "-o", str(out)]).exit_code != 0


def test_exports_read_in_batches_lose_nobody(app, known, login, monkeypatch):
    from learnhub.services.reports import completion as reports

    monkeypatch.setattr(reports, "EXPORT_BATCH", 2)
    text = login(known.login["org_a"]).get(f"/reports/assignments/{known.assignment_a}/export.csv").data.decode("utf-8-sig")
    names = {line.split(",")[1] for line in text.splitlines()[3:]}
    assert names == {"管理员", "组织员甲", "书记甲一", "书记甲二", "党员甲一", "党员甲一乙", "党员甲二", "党员甲三"}
    # Each batch reads its own members' missed points: none lost or given to a neighbour.
    weak = {row[1]: row[9] for row in csv.reader(io.StringIO(text)) if len(row) == 10}
    assert weak["书记甲一"] == "预备期" and weak["党员甲二"] == "入党条件"
    assert weak["党员甲一"] == weak["党员甲一乙"] == weak["组织员甲"] == ""


def test_many_branches_go_on_one_sheet(app, known, login, monkeypatch):
    from learnhub.services.reports import exports

    monkeypatch.setattr(exports, "MAX_BRANCH_SHEETS", 2)
    book = openpyxl.load_workbook(io.BytesIO(login(known.login["org_a"]).get(f"/reports/assignments/{known.assignment_a}/export.xlsx").data))
    assert "成绩" in book.sheetnames and "第一支部" not in book.sheetnames
    rows = {row[2]: row for row in book["成绩"].iter_rows(min_row=5, values_only=True)}
    assert rows["党员甲一"][0] == "第一支部" and rows["党员甲二"][0] == "第二支部" and len(rows) == 8
