"""GIFT and Aiken files through the upload page, on SQLite and PostgreSQL: what arrives is what is stored."""

from __future__ import annotations

import codecs
import io
import re
from pathlib import Path

from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Question

IMPORTS = Path(__file__).parent.parent / "data" / "imports"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff]")


def post(client, name: str, data: bytes, point: str = ""):
    return client.post("/admin/questions/import", data={"file": (io.BytesIO(data), name), "point": point},
                       content_type="multipart/form-data")


def listed(page: str, box: str) -> list[str]:
    """The items of the error list (`import-errors`) or the skipped list (`import-skipped`) of an import page."""
    found = re.search(rf'id="{box}".*?<ul[^>]*>(.*?)</ul>', page, re.DOTALL)
    return re.findall(r"<li>(.*?)</li>", found[1], re.DOTALL) if found else []


def question_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Question))


def stored(app, title: str) -> Question:
    """The current question imported from a file, found by its stem."""
    with app.app_context():
        question = db.session.scalar(select(Question).where(Question.stem == title, Question.is_current.is_(True)))
        assert question is not None, title
        db.session.expunge(question)
        return question


def test_a_nul_byte_is_refused_with_its_lines_and_nothing_is_stored(app, world, login, tmp_path):
    """PostgreSQL cannot store NUL in text: this used to be a psycopg.DataError at the confirmation."""
    app.instance_path = str(tmp_path)  # this test's own preview folder
    c = login(world.login["org_a"])
    before = question_count(app)
    utf16 = codecs.BOM_UTF16_LE + "$CATEGORY: 入党条件\n\n党员\x00须履行义务吗？{T}\n".encode("utf-16-le")
    for name, data in (("nul-byte.gift", (IMPORTS / "nul-byte.gift").read_bytes()), ("nul-utf16.gift", utf16)):
        response = post(c, name, data)
        assert response.status_code == 200
        errors = listed(response.get_data(as_text=True), "import-errors")
        assert len(errors) == 1 and "行有空字符（NUL）" in errors[0], (name, errors)
    assert "第 3、7 行" in listed(post(c, "nul-byte.gift", (IMPORTS / "nul-byte.gift").read_bytes())
                                 .get_data(as_text=True), "import-errors")[0]
    r = c.post("/admin/questions/import/confirm", follow_redirects=True)
    assert "没有待导入的文件" in r.get_data(as_text=True)
    assert question_count(app) == before
    assert not (tmp_path / "uploads").exists() or not list((tmp_path / "uploads").iterdir())


def test_utf16_files_with_a_bom_import_their_chinese_text(app, world, login):
    c = login(world.login["org_a"])
    for name in ("utf16le-bom.gift", "utf16be-bom.gift"):
        page = post(c, name, (IMPORTS / name).read_bytes()).get_data(as_text=True)
        assert "导入预览" in page and "预备党员的预备期从何时算起？" in page, listed(page, "import-errors")
    r = c.post("/admin/questions/import/confirm", follow_redirects=True)
    assert "新增 1 题" in r.get_data(as_text=True)
    question = stored(app, "预备党员的预备期从何时算起？")
    assert question.options == ["提交入党申请之日", "支部大会通过其为预备党员之日", "上级党委批准之日"]
    assert question.explanation == "党章第七条。"


def test_control_characters_never_reach_the_database(app, world, login):
    c = login(world.login["org_a"])
    page = post(c, "control-chars.gift", (IMPORTS / "control-chars.gift").read_bytes()).get_data(as_text=True)
    assert "导入预览" in page, listed(page, "import-errors")
    assert "新增 2 题" in c.post("/admin/questions/import/confirm", follow_redirects=True).get_data(as_text=True)
    first, second = stored(app, "党员缴纳党费的依据是什么？"), stored(app, "党员可以不交党费。")
    assert first.options == ["个人意愿", "党章规定", "支部决定"] and second.explanation == "党章第三条。"
    assert not CONTROL.search(first.stem + "".join(first.options) + second.stem + second.explanation)


def test_a_moodle_html_export_is_stored_as_plain_text(app, world, login):
    c = login(world.login["org_a"])
    page = post(c, "moodle-html-export.gift", (IMPORTS / "moodle-html-export.gift").read_bytes()).get_data(as_text=True)
    assert "导入预览" in page and "&lt;p" not in page, listed(page, "import-errors")
    assert "新增 5 题" in c.post("/admin/questions/import/confirm", follow_redirects=True).get_data(as_text=True)
    question = stored(app, "申请入党的人最低要年满多少岁？")
    assert question.options == ["十八岁", "十六岁", "二十岁"] and question.explanation == "党章第一条：年满十八岁。"
    with app.app_context():
        texts = db.session.scalars(select(Question.stem).where(Question.source == "moodle-html-export.gift")).all()
    assert len(texts) == 5 and not any(re.search(r"<p|&nbsp;|&amp;|\\=", t) for t in texts)


def test_the_preview_lists_what_is_skipped_with_its_lines(app, world, login):
    c = login(world.login["org_a"])
    text = ("$CATEGORY: $course$/top/入党条件\n\n::论述::谈谈你对入党条件的认识。{}\n\n"
            "::新题::预备党员有表决权吗？{F####党章第七条。}\n\n::匹配::对应起来。{=甲 -> 乙 =丙 -> 丁}\n")
    page = post(c, "混合.gift", text.encode()).get_data(as_text=True)
    assert "导入预览" in page and "预备党员有表决权吗？" in page
    assert listed(page, "import-skipped") == ["第 3 行（第 1 题 ::论述::）：论述题，LearnHub 没有这种题型，已跳过",
                                              "第 7 行（第 3 题 ::匹配::）：匹配题，LearnHub 没有这种题型，已跳过"]
    assert "新增 1 题" in c.post("/admin/questions/import/confirm", follow_redirects=True).get_data(as_text=True)


def test_a_partial_credit_short_answer_is_refused_by_line_and_nothing_is_stored(app, world, login):
    c = login(world.login["org_a"])
    before = question_count(app)
    page = post(c, "partial-credit.gift", (IMPORTS / "partial-credit.gift").read_bytes()).get_data(as_text=True)
    errors = listed(page, "import-errors")
    assert len(errors) == 1 and errors[0].startswith("第 8 行（第 2 题 ::部分得分填空::）：答案「十七岁」（25%）只得部分分")
    assert question_count(app) == before


def test_aiken_errors_name_lines_on_the_page(app, world, login):
    c = login(world.login["org_a"])
    text = "预备党员有几项权利？\nA. 一项\nB. 两项\nC. 三项\nANSWER: Ｚ\n"
    errors = listed(post(c, "题库.txt", text.encode("gb18030"), point="预备期").get_data(as_text=True), "import-errors")
    assert errors == ["第 1 行（第 1 题）：答案「Z」不在选项 ABC 之中"]


def test_the_command_line_import_lists_what_it_skips(app, runner, world, tmp_path):
    path = tmp_path / "混合.gift"
    path.write_text("::论述::谈谈你的认识。{}\n\n::新题::预备党员有表决权吗？{F}\n", encoding="utf-16")
    result = runner.invoke(args=["questions", "import", str(path), "--point", "预备期"])
    assert result.exit_code == 0, result.output
    assert "skipped: 混合.gift: 第 1 行（第 1 题 ::论述::）：论述题，LearnHub 没有这种题型，已跳过" in result.output
    assert "1 created" in result.output
    with app.app_context():
        question = db.session.scalar(select(Question).where(Question.stem == "预备党员有表决权吗？"))
        assert question.point.name == "预备期"
