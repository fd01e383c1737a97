"""Question files as they come, through plan_import / apply_plan: every spreadsheet shape, points that do
not exist yet, skipped and bad rows, and re-imports that add nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import xlsxwriter
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import KnowledgePoint, Organisation, PointLevel, Question
from learnhub.services.bank import importing as bank_import, question_bank
from learnhub.services.bank.question_bank import BankError

DATA = Path(__file__).parent.parent / "data" / "imports"


def sheet(rows: list[list], *, before: tuple[str, list[list]] | None = None) -> bytes:
    """An .xlsx: optionally an instruction sheet first, then the rows."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    if before:
        extra = book.add_worksheet(before[0])
        for r, row in enumerate(before[1]):
            extra.write_row(r, 0, row)
    main = book.add_worksheet("题库")
    for r, row in enumerate(rows):
        main.write_row(r, 0, row)
    book.close()
    return buffer.getvalue()


def org(code: str) -> Organisation:
    return db.session.scalar(select(Organisation).filter_by(code=code))


def count(model=Question) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def plan(name: str, data: bytes, owner: str | None = "a", **options) -> bank_import.Plan:
    return bank_import.plan_import(name, data, org(owner) if owner else None, bank_import.Options(**options))


def stored(plan_: bank_import.Plan) -> dict[str, Question]:
    bank_import.apply_plan(plan_)
    return {q.stem: q for q in db.session.scalars(select(Question).where(Question.is_current.is_(True)))}


def test_an_xls_with_a_title_row_synonyms_and_exam_system_spellings(ctx, world):
    p = plan("竞赛题库-标题行.xls", (DATA / "竞赛题库-标题行.xls").read_bytes())
    assert p.problems == [] and [s.message for s in p.skipped] == ["第 8 行：「简答题」题型不支持，已跳过"]
    by_row = {m.question.label: m.question for m in p.matches}
    assert (by_row["第 4 行"].kind, by_row["第 4 行"].answer, by_row["第 4 行"].point) == ("single", (1,), "入党条件")
    assert (by_row["第 5 行"].kind, by_row["第 5 行"].answer) == ("multiple", (0, 1, 2))
    assert (by_row["第 6 行"].kind, by_row["第 6 行"].answer, by_row["第 6 行"].explanation) == ("truefalse", (True,), "党章第七条。")
    assert (by_row["第 7 行"].stem, by_row["第 7 行"].answer) == ("预备党员的预备期为____。", (("一年",),))
    assert by_row["第 9 行"].answer == (2,)  # Ｃ
    assert {new.name for new, _ in p.new_points} == {"党员的义务", "党的纪律"}  # 入党条件 and 预备期 exist
    assert p.part.name == "竞赛题库-标题行" and p.part.part_id is None
    questions = stored(p)
    assert len([q for q in questions.values() if q.owner_org_id == world.org["a"]]) == 5
    duty = db.session.scalar(select(KnowledgePoint).filter_by(level=PointLevel.POINT, name="党员的义务"))
    # In 党委A's own subject (made by the import): the point hangs on its part, no article between.
    assert duty.owner_org_id == world.org["a"] and duty.parent.name == "竞赛题库-标题行"
    assert duty.parent.owner_org_id == world.org["a"] and duty.parent.level is PointLevel.PART
    assert duty.subject.owner_org_id == world.org["a"] and duty.parent.subject_id == duty.subject_id


def test_an_ods_whose_questions_follow_an_instruction_sheet(ctx, world):
    p = plan("题库.ods", (DATA / "题库-说明页在前.ods").read_bytes())
    assert p.problems == [] and [s.message for s in p.skipped] == ["第 6 行：「论述题」题型不支持，已跳过"]
    kinds = {m.question.label: (m.question.kind, m.question.answer, m.question.difficulty) for m in p.matches}
    assert kinds == {
        "第 2 行": ("single", (0,), 1), "第 3 行": ("multiple", (0, 1, 2, 3), 2), "第 4 行": ("truefalse", (True,), 3),
        "第 5 行": ("fill", (("三",), ("五",)), 2), "第 7 行": ("multiple", (0, 1, 2), 1),
    }
    assert len(p.new_points) == 5  # not 党的建设, whose only row is skipped


@pytest.mark.parametrize("encoding", ["gbk", "utf-16"])
def test_csv_in_gbk_and_utf16_with_blanks_written_every_way(ctx, world, encoding):
    rows = ["题目类型\t题目内容\t标准答案\t知识点",
            "填空\t党的基层组织每届任期（）年。\t三\t基层组织",
            "填空\t党员的预备期为＿＿。\t一年\t预备期",
            "填空\t党的纪律处分共有【 】种。\t五\t党的纪律",
            "填空题（2分）\t入党宣誓在____举行。\t党旗下\t入党仪式"]
    p = plan("题库.csv", "\r\n".join(rows).encode(encoding))
    assert p.problems == []
    assert [m.question.stem for m in p.matches] == [
        "党的基层组织每届任期____年。", "党员的预备期为____。", "党的纪律处分共有____种。", "入党宣誓在____举行。"]


def test_bad_rows_refuse_the_file_each_named_and_may_be_left_out(ctx, world):
    rows = [["题型", "题干", "选项A", "选项B", "选项C", "答案"],
            ["单选", "好题一？", "甲", "乙", "丙", "A"],
            ["单选", "答案越界？", "甲", "乙", "丙", "E"],
            ["阅读题", "不认识的题型？", "", "", "", "甲"],
            ["判断", "好题二。", "", "", "", "错"]]
    refused = plan("题库.xlsx", sheet(rows))
    assert [p.message for p in refused.problems] == [
        "第 3 行：答案「E」不在选项 ABC 之中", "第 4 行「题型」：无法识别「阅读题」，应为单选、多选、判断或填空"]
    assert refused.skippable and refused.valid == 2 and not refused.importable
    with pytest.raises(BankError):
        bank_import.apply_plan(refused)
    assert count() == 6
    kept = plan("题库.xlsx", sheet(rows), skip_invalid=True)
    assert kept.importable and [p.message for p in kept.left_out] == [p.message for p in refused.problems]
    assert sorted(m.question.stem for m in kept.matches) == ["好题一？", "好题二。"]
    bank_import.apply_plan(kept)
    assert count() == 8


def test_a_file_of_only_unsupported_types_imports_nothing_and_says_so(ctx, world):
    p = plan("题库.csv", "题型,题干,答案\n简答题,简述。,略\n材料分析题,分析。,略\n".encode())
    assert [x.message for x in p.problems] == ["文件中没有可导入的题目（所有题目的题型都不支持）"]
    assert len(p.skipped) == 2 and not p.skippable


def test_new_points_may_go_under_a_chosen_part_or_be_mapped_to_existing_points(ctx, world):
    rows = [["题型", "题干", "答案", "知识点"], ["判断", "甲。", "对", "入党的条件"], ["判断", "乙。", "错", "全新的点"]]
    chapter = db.session.scalar(select(KnowledgePoint).filter_by(level=PointLevel.PART, name="第一章 党员"))
    p = plan("题库.xlsx", sheet(rows), part_id=chapter.id, mapping={"入党的条件": "入党条件"})
    assert [(r.asked, r.target, r.count) for r in p.point_rows] == [("入党的条件", "入党条件", 1), ("全新的点", "", 1)]
    questions = stored(p)
    assert questions["甲。"].point.name == "入党条件" and questions["甲。"].article == "第一条"
    new = questions["乙。"].point
    assert new.parent.name == "第一章 党员（其他）" and new.parent.parent_id == chapter.id and questions["乙。"].article == ""
    assert db.session.get(KnowledgePoint, chapter.id).owner_org_id is None  # the built-in chapter is not taken over


def test_no_point_column_takes_the_files_point_and_a_taken_name_is_qualified(ctx, world):
    b_point = plan("乙.csv", "题型,题干,答案,知识点\n判断,乙的题。,对,学习制度\n".encode(), owner="b")
    stored(b_point)
    p = plan("甲.csv", "题型,题干,答案\n判断,没有知识点的题。,对\n".encode(), point="学习制度")
    # 学习制度 is 党委B's: 党委A neither sees nor uses it; its own point is named apart.
    assert [(new.asked, new.name) for new, _ in p.new_points] == [("学习制度", "学习制度（党委A）")]
    assert stored(p)["没有知识点的题。"].point.owner_org_id == world.org["a"]


def test_an_organisations_import_never_changes_built_in_or_foreign_nodes(ctx, world):
    before = {(n.id, n.name, n.parent_id, n.owner_org_id) for n in db.session.scalars(select(KnowledgePoint))}
    stored(plan("题库.csv", "题型,题干,答案,知识点\n判断,甲。,对,入党条件\n判断,乙。,对,新点\n".encode()))
    after = {(n.id, n.name, n.parent_id, n.owner_org_id) for n in db.session.scalars(select(KnowledgePoint))}
    assert before <= after and {a[3] for a in after - before} == {world.org["a"]}


def test_points_an_import_creates_are_measured_by_the_mastery_report(ctx, world, monkeypatch):
    from learnhub.models import User
    from learnhub.services.reports import mastery
    from learnhub.services.exam import quizzes
    from learnhub.services.orgs import scope_for

    from ..factories import make_assignment
    from ..quiz.helpers import shown_answer

    monkeypatch.setattr(mastery, "MIN_MEMBERS", 1)
    monkeypatch.setattr(mastery, "MIN_ANSWERS", 1)
    stored(plan("专题.csv", "题型,题干,答案,知识点\n判断,甲。,对,新点甲\n判断,乙。,错,新点乙\n".encode()))
    questions = list(db.session.scalars(select(Question).where(Question.stem.in_(["甲。", "乙。"]))))
    assignment = make_assignment(org("a"), questions, title="专题测验")
    db.session.commit()
    attempt = quizzes.start_attempt(assignment, db.session.get(User, world.user["m_a1"]))
    for pos, entry in enumerate(attempt.paper, start=1):
        q = db.session.get(Question, entry["q"])
        quizzes.save_answer(attempt, pos, shown_answer(q, entry["perm"], q.stem == "甲。"), pos, 60)
    quizzes.submit_attempt(attempt, None, 60)
    report = mastery.mastery_report(scope_for(db.session.get(User, world.user["org_a"])), assignment)
    assert sorted(p.name for p in report.points) == ["新点乙", "新点甲"]
    branch = next(r for r in report.rows if r.org.code == "a1")
    assert {s.point.name: (s.right, s.answered) for s in branch.points.values()} == {"新点甲": (1, 1), "新点乙": (0, 1)}
    assert [p.point.name for p in branch.weak_points] == ["新点乙"]


# ---- re-import -------------------------------------------------------------------------------------------


def _bank_export(fmt: str) -> bytes:
    from learnhub.services.bank import formats as bank_formats

    questions = [question_bank.to_bank_question(q) for q in question_bank.current_questions()]
    if fmt == "xlsx":
        return bank_formats.export_excel(questions)
    if fmt == "gift":
        return bank_formats.export_gift(questions).encode()
    return bank_formats.export_aiken(questions)[0].encode()


@pytest.mark.parametrize("fmt, name", [("xlsx", "题库.xlsx"), ("gift", "题库.gift"), ("aiken", "题库.txt")])
def test_export_strip_comments_import_adds_nothing(ctx, world, fmt, name):
    data = _bank_export(fmt)
    if fmt == "gift":  # a trip through Moodle drops our comments
        data = b"\n".join(line for line in data.split(b"\n") if not line.startswith(b"//"))
    before = count()
    p = plan(name, data, owner=None)
    assert p.problems == [], [str(x) for x in p.problems]
    assert p.count("new") == 0 and p.count("changed") == 0, [(m.question.key, m.changes) for m in p.matches]
    bank_import.apply_plan(p)
    assert count() == before


def test_a_changed_question_is_matched_by_stem_and_options_and_revised(ctx, world):
    rows = [["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析"],
            ["单选", "申请入党的最低年龄是多少？", "十六岁", "十八岁", "二十岁", "二十二岁", "B", "新的解析。"]]
    p = plan("题库.xlsx", sheet(rows), owner=None)
    (m,) = p.matches
    assert (m.status, m.question.key, m.changes) == ("changed", "t01-001", ["解析"])
    bank_import.apply_plan(p)
    current = db.session.scalar(select(Question).filter_by(key="t01-001", is_current=True))
    assert current.revision == 2 and current.explanation == "新的解析。"  # it is on a paper: a new revision
    again = plan("题库.xlsx", sheet(rows), owner=None)
    assert [x.status for x in again.matches] == ["unchanged"]


def test_a_committee_reimporting_its_file_adds_nothing_and_never_matches_another_bank(ctx, world):
    data = (DATA / "竞赛题库-标题行.xls").read_bytes()
    stored(plan("竞赛题库-标题行.xls", data))
    again = plan("竞赛题库-标题行.xls", data)
    assert {m.status for m in again.matches} == {"unchanged"} and again.new_points == []
    assert again.part.part_id is not None  # the part named after the file is reused
    other = plan("竞赛题库-标题行.xls", data, owner="b")
    assert {m.status for m in other.matches} == {"new"}


def test_an_option_past_f_refuses_its_row_instead_of_vanishing(ctx, world):
    rows = [["题型", "题干", "A", "B", "C", "D", "E", "F", "G", "答案"],
            ["单选", "七个选项的题？", "甲", "乙", "丙", "丁", "戊", "己", "庚", "G"],
            ["单选", "三个选项的题？", "甲", "乙", "丙", "", "", "", "", "A"]]
    p = plan("题库.xlsx", sheet(rows))
    assert [x.message for x in p.problems] == ["第 2 行：选项超过 6 个（选项 F 之后的选项无法导入）"]
    assert p.valid == 1


def test_a_fill_in_asked_outright_gets_its_blank_at_the_end(ctx, world):
    p = plan("题库.csv", "题型,题干,答案\n填空,党员的预备期是多长？,一年\n".encode())
    assert [(m.question.stem, m.question.answer) for m in p.matches] == [("党员的预备期是多长？____", (("一年",),))]
