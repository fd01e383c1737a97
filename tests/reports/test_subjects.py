"""Reports for every subject: a subject of 党委A's own (支部工作: 组织生活 -> 三会一课, 主题党日; 党员管理 ->
党费收缴; no articles), on an exam that also draws from the 党章's 第一章.

Known answers on the subject's questions (every 党章 question answered right):
  第一支部: 党员甲一 all right; 书记甲一 only 三会一课 right.  -> 三会一课 4/4, 主题党日 2/4, 党费收缴 2/4
  第二支部: 党员甲二 only 党费收缴 right.                      -> 三会一课 0/2, 主题党日 0/2, 党费收缴 2/2
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Assignment, KnowledgePoint, Organisation, PracticeMode, Question, User, utcnow
from learnhub.services.bank import places
from learnhub.services.orgs import scope_for
from learnhub.services.reports import mastery, trends

from ..factories import practise
from ..quiz.helpers import shown_answer
from ..subject_world import WORK, build_subject, builtin_part, keys_on, subject_assignment, take_paper


@pytest.fixture
def work(app, world, monkeypatch):
    """The subject, the exam (6 of its questions and 2 of 第一章) and the known answers."""
    monkeypatch.setattr(mastery, "MIN_MEMBERS", 1)
    monkeypatch.setattr(mastery, "MIN_ANSWERS", 1)
    with app.app_context():
        a = db.session.get(Organisation, world.org["a"])
        ids = build_subject(a, "支部工作", WORK, "zb")
        exam = subject_assignment(a, ids.subject, 6, extra_rules=[{"part_id": builtin_part().id, "count": 2}])
        db.session.commit()
        builtin = set(db.session.scalars(select(Question.key).where(Question.owner_org_id.is_(None))))
        user = lambda k: db.session.get(User, world.user[k])  # noqa: E731
        take_paper(exam, user("m_a1"), right=builtin | set(ids.questions))
        take_paper(exam, user("sec_a1"), right=builtin | keys_on({"三会一课"}, ids))
        take_paper(exam, user("m_a2"), right=builtin | keys_on({"党费收缴"}, ids))
        return world, ids, exam.id


def _scores(row) -> dict[str, tuple[int, int]]:
    return {s.point.name: (s.right, s.answered) for s in row.points.values()}


def test_a_subject_rule_covers_the_subjects_points_in_tree_order_without_articles(app, work, ctx):
    world, ids, exam_id = work
    exam = db.session.get(Assignment, exam_id)
    subject_points = mastery.required_points(exam, ids.subject)
    assert [p.name for p in subject_points] == ["三会一课", "主题党日", "党费收缴"]
    every = mastery.required_points(exam)
    assert [p.subject_id for p in every][-3:] == [ids.subject] * 3 and every[0].subject_id == 1  # the 党章 first
    assert [s.name for s in mastery.assignment_subjects(exam)] == ["中国共产党章程（2022年修订）", "支部工作"]
    place = places.place_of(subject_points[0])
    assert (place.subject_name, place.part_name, place.article, place.where) == ("支部工作", "组织生活", "", "支部工作 · 组织生活")
    constitution = places.place_of(every[0])
    assert constitution.subject_name == "党章" and constitution.part_name == "第一章 党员" and constitution.article.startswith("第")


def test_grouping_by_part_works_for_both_tree_shapes(app, work, ctx):
    world, ids, exam_id = work
    groups = places.group_by_part(mastery.required_points(db.session.get(Assignment, exam_id)))
    labels = [(g.label, [p.name for p in g.points]) for g in groups]
    assert labels[0][0] == "党章 · 第一章 党员"
    assert labels[1:] == [("支部工作 · 组织生活", ["三会一课", "主题党日"]), ("支部工作 · 党员管理", ["党费收缴"])]


def test_mastery_per_point_and_weak_branches_on_the_committee_subject(app, work, ctx):
    world, ids, exam_id = work
    scope = scope_for(db.session.get(User, world.user["org_a"]))
    report = mastery.mastery_report(scope, db.session.get(Assignment, exam_id), subject_id=ids.subject)
    assert [p.name for p in report.points] == ["三会一课", "主题党日", "党费收缴"] and report.subject.id == ids.subject
    rows = {r.name: r for r in report.rows}
    assert _scores(rows["第一支部"]) == {"三会一课": (4, 4), "主题党日": (2, 4), "党费收缴": (2, 4)}
    assert _scores(rows["第二支部"]) == {"三会一课": (0, 2), "主题党日": (0, 2), "党费收缴": (2, 2)}
    assert _scores(rows["机关党总支"]) == {"三会一课": (4, 6), "主题党日": (2, 6), "党费收缴": (4, 6)}
    assert [p.point.name for p in rows["第一支部"].weak_points] == ["主题党日", "党费收缴"]
    assert [p.point.name for p in rows["第二支部"].weak_points] == ["三会一课", "主题党日"]
    assert rows["第一支部"].mastery == 66.7  # 8 of 12 on the subject's points only
    # Over every subject the 党章 questions (all right) count too.
    whole = {r.name: r for r in mastery.mastery_report(scope, db.session.get(Assignment, exam_id)).rows}
    assert whole["第一支部"].mastery > rows["第一支部"].mastery
    # A branch's own scores, one subject at a time.
    a2 = db.session.get(Organisation, world.org["a2"])
    unit = mastery.unit_point_scores(scope, db.session.get(Assignment, exam_id), a2, ids.subject)
    assert [(s.point.name, s.rate) for s in unit][:2] == [("三会一课", 0.0), ("主题党日", 0.0)]


def test_weak_branch_page_names_the_subjects_and_filters_by_one(app, work, login):
    world, ids, exam_id = work
    c = login(world.login["org_a"])
    page = c.get(f"/reports/assignments/{exam_id}").get_data(as_text=True)
    assert "科目：党章、支部工作" in page and 'id="subjects"' in page
    assert f"subject={ids.subject}" in page
    assert "支部工作 · 组织生活" in page and "党章 · 第一章 党员 · 第" in page  # each point's subject and part
    chosen = c.get(f"/reports/assignments/{exam_id}?subject={ids.subject}").get_data(as_text=True)
    assert "支部工作 · 组织生活" in chosen and "党章 · 第一章 党员 · 第" not in chosen
    assert "只统计「支部工作」的知识点" in chosen and 'aria-current="page">支部工作<' in chosen
    # The branch page names the assignment's subjects and each weak point's subject and part.
    unit = c.get(f"/reports/assignments/{exam_id}/units/{world.org['a2']}").get_data(as_text=True)
    assert "科目：党章、支部工作" in unit and "支部工作 · 组织生活" in unit
    # The reports list names each assignment's subjects and filters by one.
    listing = c.get("/reports/").get_data(as_text=True)
    assert "科目：党章、支部工作" in listing and "科目：党章<" in listing  # 党委A测验 is the 党章's only
    only = c.get(f"/reports/?subject={ids.subject}").get_data(as_text=True)
    assert "支部工作测验" in only and "党委A测验" not in only


def test_items_page_and_exports_name_subject_and_part(app, work, login):
    world, ids, exam_id = work
    c = login(world.login["org_a"])
    items = c.get(f"/reports/assignments/{exam_id}/items").get_data(as_text=True)
    assert "科目：党章、支部工作" in items and "支部工作 · 组织生活" in items and "党章第" in items
    book = openpyxl.load_workbook(io.BytesIO(c.get(f"/reports/assignments/{exam_id}/export.xlsx").data))
    assert book["汇总"]["A3"].value == "科目：党章、支部工作"
    points = [row for row in book["知识点掌握"].iter_rows(min_row=5, values_only=True)]
    subject_rows = [r for r in points if r[0] == "支部工作"]
    assert [r[:4] for r in subject_rows] == [("支部工作", "组织生活", None, "三会一课"), ("支部工作", "组织生活", None, "主题党日"),
                                            ("支部工作", "党员管理", None, "党费收缴")]
    assert [(r[4], r[5]) for r in subject_rows] == [(6, 66.7), (6, 33.3), (6, 66.7)]
    assert all(r[0] == "党章" and r[2] for r in points if r not in subject_rows)  # the 党章's keep their article
    header = [c.value for c in book["题目分析"][4]]
    assert header[3:7] == ["科目", "部分", "条文", "知识点"]
    analysed = {r[0]: r for r in book["题目分析"].iter_rows(min_row=5, values_only=True)}
    assert analysed["zb-001"][3:7] == ("支部工作", "组织生活", None, "三会一课")
    summary = {r[0].strip("　"): r for r in book["汇总"].iter_rows(min_row=5, values_only=True) if r[0]}
    assert "支部工作·主题党日(0%)" in summary["第二支部"][9]  # beside the 党章, weak points name their subject
    # One subject's export: mastery of that subject only.
    one = openpyxl.load_workbook(io.BytesIO(c.get(f"/reports/assignments/{exam_id}/export.xlsx?subject={ids.subject}").data))
    assert "只统计「支部工作」" in one["汇总"]["A3"].value
    assert {r[0] for r in one["知识点掌握"].iter_rows(min_row=5, values_only=True)} == {"支部工作"}
    lines = list(csv.reader(io.StringIO(c.get(f"/reports/assignments/{exam_id}/export.csv").get_data(as_text=True))))
    assert "科目：党章、支部工作" in lines[0][0]


def test_trends_per_subject_name_each_points_subject_and_part(app, work, login):
    world, ids, exam_id = work
    with app.app_context():
        member = db.session.get(User, world.user["m_a1"])
        for key in ("zb-001", "zb-003"):
            q = db.session.scalar(select(Question).filter_by(key=key, is_current=True))
            practise(member, q, shown_answer(q, list(range(len(q.options))), key == "zb-001"), PracticeMode.DAILY)
        a1 = db.session.get(Organisation, world.org["a1"])
        scope = scope_for(db.session.get(User, world.user["org_a"]))
        now = utcnow() + timedelta(minutes=1)
        rows = trends.point_trend(scope, a1, now, "Asia/Shanghai", subject_id=ids.subject).rows
        assert [r.label for r in rows] == ["三会一课", "主题党日", "党费收缴"]
        assert {r.where for r in rows} == {"支部工作 · 组织生活", "支部工作 · 党员管理"}
        every = trends.point_trend(scope, a1, now, "Asia/Shanghai").rows
        assert every[0].where.startswith("党章 · 第一章 党员") and len(every) > 3
        branch = {r.label: r for r in trends.branch_trend(scope, now, "Asia/Shanghai", subject_id=ids.subject).rows}
        month = next(iter(branch["第一支部"].cells))
        # 党员甲一 all 6 right and 书记甲一 2 of 6 in the exam, and one first try right of two in practice.
        assert (branch["第一支部"].cells[month].answered, branch["第一支部"].cells[month].right) == (14, 9)
    c = login(world.login["org_a"])
    page = c.get(f"/reports/trends?unit={world.org['a1']}&subject={ids.subject}").get_data(as_text=True)
    assert "支部工作 · 组织生活" in page and 'aria-current="page">支部工作<' in page and "入党条件" not in page
    assert c.get(f"/reports/trends?subject={ids.subject}").status_code == 200


def test_another_committee_never_sees_the_subject_in_reports(app, work, login):
    world, ids, exam_id = work
    c = login(world.login["org_b"])
    assert c.get(f"/reports/trends?subject={ids.subject}").status_code == 404
    assert c.get(f"/reports/?subject={ids.subject}").status_code == 404
    assert c.get(f"/reports/assignments/{exam_id}").status_code == 404
    for url in ("/reports/", "/reports/trends", f"/reports/assignments/{world.assignment_b}",
                f"/reports/assignments/{world.assignment_b}/export.xlsx"):
        body = c.get(url).get_data()
        assert "支部工作".encode() not in body and "三会一课".encode() not in body, url
    with app.app_context():
        assert db.session.get(KnowledgePoint, ids.points["三会一课"]).subject_id == ids.subject
