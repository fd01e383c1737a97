"""The import pages: upload, a preview showing what will be stored (options, keys, points, skipped rows),
choices applied by previewing again, nothing stored before 确认导入, and the template to download."""

from __future__ import annotations

import io
import re
from pathlib import Path

import python_calamine
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import KnowledgePoint, PointLevel, Question

DATA = Path(__file__).parent.parent / "data" / "imports"
CSV = ("题型,题干,选项A,选项B,选项C,答案,知识点\n"
       "单选,党的最高领导机关是？,党的全国代表大会,中央委员会,中央政治局,A,党的中央组织\n"
       "判断,入党宣誓在党旗下进行。,,,,√,入党的条件\n"
       "简答,简述党的性质。,,,,略,党的性质\n")


def rows_of(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Question)),
                db.session.scalar(select(func.count()).select_from(KnowledgePoint)))


def upload(client, data: bytes, name: str = "题库.csv", **fields):
    return client.post("/admin/questions/import", data={"file": (io.BytesIO(data), name), "point": "", **fields},
                       content_type="multipart/form-data")


def test_the_preview_shows_options_keys_points_and_skips_and_stores_nothing(app, world, login):
    c = login(world.login["org_a"])
    before = rows_of(app)
    page = upload(c, CSV.encode("gbk")).get_data(as_text=True)
    assert "导入预览" in page and "<b>2</b>新增" in page and "<b>1</b>跳过" in page and "<b>2</b>新知识点" in page
    assert re.search(r'<li class="right">党的全国代表大会 ✓</li>\s*<li>中央委员会</li>', page)
    assert '答案：<span class="right">A</span>' in page and '答案：<span class="right">对</span>' in page
    assert "第 4 行：「简答」题型不支持，已跳过" in page
    assert 'name="map:党的中央组织"' in page and 'name="map:入党的条件"' in page
    assert 'value="题库"' in page  # the new part, named after the file
    assert rows_of(app) == before  # nothing stored by the preview
    c.post("/admin/questions/import/preview", data={"part": "new", "part_name": "题库"})
    assert rows_of(app) == before  # nor by previewing again
    done = c.post("/admin/questions/import/confirm", data={"part": "new", "part_name": "题库"}, follow_redirects=True)
    assert "导入完成：新增 2 题" in done.get_data(as_text=True) and "新建知识点 2 个" in done.get_data(as_text=True)
    assert rows_of(app) == (before[0] + 2, before[1] + 3)  # the part and two points (no article in a committee's subject)


def test_mapping_a_name_to_an_existing_point_is_previewed_then_confirmed(app, world, login):
    c = login(world.login["org_a"])
    upload(c, CSV.encode())
    choices = {"part": "new", "part_name": "题库", "map:入党的条件": "入党条件", "map:党的中央组织": ""}
    page = c.post("/admin/questions/import/preview", data=choices).get_data(as_text=True)
    assert "<b>1</b>新知识点" in page and "归入已有" in page and 'value="入党条件"' in page
    c.post("/admin/questions/import/confirm", data=choices, follow_redirects=True)
    with app.app_context():
        q = db.session.scalar(select(Question).filter_by(stem="入党宣誓在党旗下进行。"))
        assert q.point.name == "入党条件" and q.point.owner_org_id is None
        assert db.session.scalar(select(KnowledgePoint).filter_by(name="入党的条件")) is None


def test_a_confirmation_with_choices_not_previewed_shows_the_new_preview_and_stores_nothing(app, world, login):
    c = login(world.login["org_a"])
    upload(c, CSV.encode())
    before = rows_of(app)
    page = c.post("/admin/questions/import/confirm", data={"part": "new", "part_name": "别的名字"}).get_data(as_text=True)
    assert "选择有改动" in page and 'value="别的名字"' in page
    assert rows_of(app) == before
    done = c.post("/admin/questions/import/confirm", data={"part": "new", "part_name": "别的名字"}, follow_redirects=True)
    assert "导入完成" in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(KnowledgePoint).filter_by(level=PointLevel.PART, name="别的名字")) is not None


def test_bad_rows_are_named_and_the_valid_questions_may_be_imported_alone(app, world, login):
    c = login(world.login["org_a"])
    data = "题型,题干,选项A,选项B,选项C,答案\n单选,好题？,甲,乙,丙,A\n单选,坏题？,甲,乙,丙,Z\n判断,又一道好题。,,,,错\n"
    page = upload(c, data.encode()).get_data(as_text=True)
    assert "没有导入任何题目" in page and "第 3 行：答案「Z」不在选项 ABC 之中" in page and 'id="confirm"' not in page
    page = c.post("/admin/questions/import/preview", data={"part": "new", "part_name": "题库", "skip_invalid": "1"}
                  ).get_data(as_text=True)
    assert "有问题、不导入的行（1 处）" in page and "第 3 行：答案「Z」不在选项 ABC 之中" in page and 'id="confirm"' in page
    before = rows_of(app)[0]
    done = c.post("/admin/questions/import/confirm", data={"part": "new", "part_name": "题库", "skip_invalid": "1"},
                  follow_redirects=True)
    assert "导入完成：新增 2 题" in done.get_data(as_text=True) and rows_of(app)[0] == before + 2


def test_the_template_lists_the_points_the_organiser_may_use_and_imports_back(app, world, login):
    c_b = login(world.login["org_b"])
    upload(c_b, "题型,题干,答案,知识点\n判断,乙的题。,对,乙委的秘密知识点\n".encode())
    c_b.post("/admin/questions/import/confirm", follow_redirects=True)
    c = login(world.login["org_a"])
    response = c.get("/admin/questions/import/template.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(response.data))
    assert book.sheet_names == ["题库", "知识点", "填写说明"]
    header, *examples = book.get_sheet_by_name("题库").to_python()
    assert header[:2] == ["题型", "题干"] and len(examples) == 2
    points = [row[2] for row in book.get_sheet_by_name("知识点").to_python()[1:]]
    assert "入党条件" in points and "乙委的秘密知识点" not in points
    page = upload(c, response.data, "题库导入模板.xlsx").get_data(as_text=True)
    assert "文件中没有可导入的题目" in page  # the examples are skipped


def test_another_committees_parts_are_not_shown_to_members_or_organisers(app, world, login):
    c = login(world.login["org_b"])
    upload(c, "题型,题干,答案,知识点\n判断,乙的题。,对,乙的点\n".encode(), name="乙委专题.csv")
    c.post("/admin/questions/import/confirm", follow_redirects=True)
    assert "乙委专题" in login(world.login["m_b1"]).get("/practice/").get_data(as_text=True)
    assert "乙委专题" not in login(world.login["m_a1"]).get("/practice/").get_data(as_text=True)
    assert "乙委专题" not in login(world.login["org_a"]).get("/admin/questions").get_data(as_text=True)
    assert "乙委专题" not in login(world.login["org_a"]).get("/admin/assignments/new").get_data(as_text=True)


def test_an_xls_and_an_ods_import_through_the_page(app, world, login):
    c = login(world.login["org_a"])
    for name, expected in (("竞赛题库-标题行.xls", "<b>5</b>新增"), ("题库-说明页在前.ods", "<b>5</b>新增")):
        page = upload(c, (DATA / name).read_bytes(), name).get_data(as_text=True)
        assert expected in page and "<b>1</b>跳过" in page, name
        assert "导入完成" in c.post("/admin/questions/import/confirm", follow_redirects=True).get_data(as_text=True)


def test_a_large_file_previews_the_first_hundred_questions_and_all_on_request(app, world, login):
    c = login(world.login["org_a"])
    before = rows_of(app)
    lines = ["题型,题干,选项A,选项B,选项C,答案,知识点"] + [f"单选题,批量题干第{i:03d}号,甲,乙,丙,A,批量知识点" for i in range(150)]
    page = upload(c, "\n".join(lines).encode()).get_data(as_text=True)
    assert page.count('class="card review"') == 100 and "批量题干第099号" in page and "批量题干第100号" not in page
    assert "另有 50 道未列出" in page and "<b>150</b>新增" in page
    everything = c.post("/admin/questions/import/preview", data={"part": "new", "part_name": "题库", "all": "1"})
    assert everything.get_data(as_text=True).count('class="card review"') == 150
    assert rows_of(app) == before
    done = c.post("/admin/questions/import/confirm", data={"part": "new", "part_name": "题库"}, follow_redirects=True)
    assert "导入完成：新增 150 题" in done.get_data(as_text=True)
