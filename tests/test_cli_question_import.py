"""`flask questions import FILE` without prompts: points created under a part named after the file unless
--part/--point say otherwise, --org picks the bank, --skip-invalid leaves out bad rows and lists them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import KnowledgePoint, PointLevel, Question
from learnhub.services.bank.subjects import part_of

DATA = Path(__file__).parent / "data" / "imports"


def question(app, stem: str) -> tuple[str, str, int | None]:
    """(point, part, owner) of the current question with this stem."""
    with app.app_context():
        q = db.session.scalar(select(Question).filter_by(stem=stem, is_current=True))
        return q.point.name, part_of(q.point).name, q.owner_org_id


def test_new_points_go_under_a_part_named_after_the_file(app, world, runner):
    result = runner.invoke(args=["questions", "import", str(DATA / "竞赛题库-标题行.xls"), "--org", "a"])
    assert result.exit_code == 0, result.output
    assert "5 created, 0 revised" in result.output and "2 knowledge point(s) created under 竞赛题库-标题行" in result.output
    assert "skipped: 竞赛题库-标题行.xls: 第 8 行：「简答题」题型不支持，已跳过" in result.output
    assert question(app, "党的纪律处分有几种？") == ("党的纪律", "竞赛题库-标题行", world.org["a"])
    again = runner.invoke(args=["questions", "import", str(DATA / "竞赛题库-标题行.xls"), "--org", "a"])
    assert "0 created, 0 revised, 0 updated, 5 unchanged" in again.output and "knowledge point" not in again.output


def test_part_and_point_options(app, world, runner, tmp_path):
    aiken = tmp_path / "选择题.txt"
    aiken.write_text("党的最高领导机关是？\nA. 全国代表大会和中央委员会\nB. 中央政治局\nC. 中央书记处\nANSWER: A\n", encoding="utf-8")
    result = runner.invoke(args=["questions", "import", str(aiken), "--part", "第一章 党员", "--point", "组织制度"])
    assert result.exit_code == 0, result.output
    assert question(app, "党的最高领导机关是？") == ("组织制度", "第一章 党员", None)
    with app.app_context():
        chapter = db.session.scalar(select(KnowledgePoint).filter_by(level=PointLevel.PART, name="第一章 党员"))
        assert chapter.owner_org_id is None and len(list(db.session.scalars(
            select(KnowledgePoint).filter_by(level=PointLevel.PART, name="选择题")))) == 0


def test_skip_invalid_imports_the_valid_rows_and_lists_the_rest(app, world, runner, tmp_path):
    path = tmp_path / "题库.csv"
    path.write_text("题型,题干,选项A,选项B,选项C,答案\n单选,好题？,甲,乙,丙,A\n单选,坏题？,甲,乙,丙,Z\n", encoding="gbk")
    refused = runner.invoke(args=["questions", "import", str(path)])
    assert refused.exit_code != 0 and "第 3 行：答案「Z」不在选项 ABC 之中" in refused.output
    with app.app_context():
        assert db.session.scalar(select(Question).filter_by(stem="好题？")) is None
    result = runner.invoke(args=["questions", "import", str(path), "--skip-invalid"])
    assert result.exit_code == 0 and "1 created" in result.output
    assert "skipped: 题库.csv: 第 3 行：答案「Z」不在选项 ABC 之中" in result.output
