"""Organisers browse, edit, retire and import questions; exports and imports round-trip through the database."""

from __future__ import annotations

import io
import random

import openpyxl
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Assignment, Question, User
from learnhub.services.bank import question_bank
from learnhub.services.exam import quizzes
from learnhub.services.bank.formats import export_excel


def current(app, key: str) -> Question:
    with app.app_context():
        q = db.session.scalar(select(Question).filter_by(key=key, is_current=True))
        db.session.expunge(q)
        return q


def test_browse_and_filter_the_bank(app, world, login):
    c = login(world.login["org_a"])
    page = c.get("/admin/questions").get_data(as_text=True)
    assert "共 6 题" in page
    assert "共 1 题" in c.get("/admin/questions?kind=multiple").get_data(as_text=True)
    assert "共 1 题" in c.get("/admin/questions?q=党徽").get_data(as_text=True)
    with app.app_context():
        part_id = db.session.scalar(select(Question).filter_by(key="t11-001")).point.parent.parent_id
    assert "共 1 题" in c.get(f"/admin/questions?part={part_id}").get_data(as_text=True)


def test_editing_an_answered_question_makes_a_new_revision(app, world, login):
    old = current(app, "t01-001")  # on assignment A's paper, so it counts as used
    c = login(world.login["admin"])  # the test bank is built-in: admins edit it
    form = c.get(f"/admin/questions/{old.id}").get_data(as_text=True)
    assert "申请入党的最低年龄是多少？" in form and 'value="B"' in form
    r = c.post(f"/admin/questions/{old.id}", data={
        "kind": "single", "stem": "按照党章，申请入党须年满多少岁？", "option_a": "十六岁", "option_b": "十八岁",
        "option_c": "二十岁", "option_d": "二十二岁", "answer": "B", "explanation": "党章第一条。",
        "article": "第一条", "point": "入党条件", "difficulty": "1",
    }, follow_redirects=True)
    assert "已保存为新版本" in r.get_data(as_text=True)
    new = current(app, "t01-001")
    assert new.id != old.id and new.revision == 2 and new.stem.startswith("按照党章")
    with app.app_context():
        assert db.session.get(Question, old.id).stem == "申请入党的最低年龄是多少？"


def test_an_invalid_edit_says_why_and_changes_nothing(app, world, login):
    old = current(app, "t01-001")
    c = login(world.login["admin"])
    r = c.post(f"/admin/questions/{old.id}", data={
        "kind": "single", "stem": "题干", "option_a": "甲", "option_b": "乙", "option_c": "丙", "answer": "E",
        "explanation": "解析", "article": "第一条", "point": "入党条件", "difficulty": "1",
    })
    assert "答案「E」不在选项 ABC 之中" in r.get_data(as_text=True)
    assert current(app, "t01-001").stem == old.stem


def test_retired_questions_leave_draws_and_practice(app, world, login):
    q = current(app, "t11-001")
    c = login(world.login["admin"])
    c.post(f"/admin/questions/{q.id}/retire")
    assert current(app, "t11-001").retired
    with app.app_context():
        part_id, org = db.session.get(Question, q.id).point.parent.parent_id, db.session.get(User, world.user["m_a1"]).org
        assert q.id not in [x.id for x in quizzes.rule_pool({"part_id": part_id}, org)]
    c.post(f"/admin/questions/{q.id}/retire")
    assert not current(app, "t11-001").retired


def test_secretaries_cannot_change_the_bank(world, login):
    c = login(world.login["sec_a1"])
    assert c.get("/admin/questions").status_code == 403
    assert c.post("/admin/questions/1/retire").status_code == 403


def excel_with(app, changes: dict[str, str], extra_row: list | None = None) -> bytes:
    with app.app_context():
        questions = [question_bank.to_bank_question(q) for q in question_bank.current_questions()]
    data = export_excel(questions)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        key = row[header.index("题目编号")].value
        if key in changes:
            row[header.index("题干")].value = changes[key]
    if extra_row:
        sheet.append(extra_row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_previews_then_commits(app, world, login):
    c = login(world.login["admin"])  # into the built-in bank, the first choice for an admin
    data = excel_with(app, {"t01-002": "入党须做到下列哪些？"})
    r = c.post("/admin/questions/import", data={"file": (io.BytesIO(data), "bank.xlsx"), "point": "", "owner": ""},
               content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert "导入预览" in page and "入党须做到下列哪些？" in page and "原题干" in page
    assert current(app, "t01-002").stem == "申请入党须做到哪些？"  # nothing written yet
    r = c.post("/admin/questions/import/confirm", follow_redirects=True)
    assert "修订 1 题，未变 5 题" in r.get_data(as_text=True)
    assert current(app, "t01-002").stem == "入党须做到下列哪些？"
    assert c.post("/admin/questions/import/confirm", follow_redirects=True).status_code == 200  # nothing pending


def test_import_with_a_bad_row_imports_nothing(app, world, login):
    c = login(world.login["admin"])
    bad = ["", "多选", "新题", "甲", "乙", "丙", "丁", "", "", "Z", "解析", "入党条件", "第一条", "2", "2022"]
    data = excel_with(app, {"t01-002": "入党须做到下列哪些？"}, extra_row=bad)
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Question))
    page = c.post("/admin/questions/import", data={"file": (io.BytesIO(data), "bank.xlsx"), "point": ""},
                  content_type="multipart/form-data").get_data(as_text=True)
    assert "没有导入任何题目" in page and "第 8 行" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == before
    assert current(app, "t01-002").stem == "申请入党须做到哪些？"


def test_cli_export_then_import_changes_nothing(app, runner, world, tmp_path):
    for fmt in ("xlsx", "gift", "aiken"):
        out = tmp_path / f"bank.{fmt}"
        result = runner.invoke(args=["questions", "export", "--format", fmt, "-o", str(out)])
        assert result.exit_code == 0 and out.exists(), result.output
    assert "6 questions written" in runner.invoke(args=["questions", "export", "--format", "xlsx", "-o", str(tmp_path / "b.xlsx")]).output
    for name, extra in (("bank.xlsx", []), ("bank.gift", [])):
        result = runner.invoke(args=["questions", "import", str(tmp_path / name), *extra])
        assert result.exit_code == 0 and "0 created, 0 revised, 0 updated" in result.output, (name, result.output)
    aiken = tmp_path / "bank.txt"
    (tmp_path / "bank.aiken").rename(aiken)
    result = runner.invoke(args=["questions", "import", str(aiken), "--point", "入党条件"])
    assert result.exit_code == 0, result.output


def test_a_paper_in_progress_keeps_the_revision_it_was_drawn_with(app, world, ctx):
    member = db.session.get(User, world.user["m_a1"])
    attempt = quizzes.start_attempt(db.session.get(Assignment, world.assignment_a), member, rng=random.Random(3))
    old = db.session.scalar(select(Question).filter_by(key="t01-001", is_current=True))
    position = next(i for i, e in enumerate(attempt.paper, start=1) if e["q"] == old.id)
    perm = attempt.paper[position - 1]["perm"]
    question_bank.edit_question(old, {
        "type": "single", "stem": "改过的题干", "options": ["十六岁", "十八岁", "二十岁"], "answer": "A",
        "explanation": "改过的解析", "article": "第一条", "point": "入党条件", "difficulty": 1,
    })
    quizzes.save_answer(attempt, position, perm.index(1), 1, 60)  # 十八岁, right in the revision drawn
    attempt, _ = quizzes.submit_attempt(attempt, None, 60)
    assert attempt.correct_count == 1
    assert db.session.scalar(select(Question).filter_by(key="t01-001", is_current=True)).revision == 2
