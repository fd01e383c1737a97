"""An organiser imports a question file on a phone: upload, check the preview (options, keys, new points),
map a point, confirm."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Question

from .test_phone_flows import log_in, no_horizontal_scroll

pytestmark = pytest.mark.browser
CSV = ("题型,题干,选项A,选项B,选项C,选项D,答案,解析,知识点\n"
       "单选题（1分）,党的最高领导机关是（　）。,党的全国代表大会和它所产生的中央委员会,中央政治局,中央书记处,"
       "中央军事委员会,A,党章第十条规定，党的最高领导机关是党的全国代表大会和它所产生的中央委员会。,党的中央组织\n"
       "多项选择,党的纪律处分包括（　）。,警告,严重警告,撤销党内职务,留党察看,A、B、C、D,,党的纪律\n"
       "是非题,入党宣誓在党旗下进行。,,,,,√,,入党的条件\n"
       "填空,预备党员的预备期为（ ）。,,,,,一年,,预备期\n"
       "简答题,简述党的性质。,,,,,略,,党的性质\n")


def test_upload_preview_map_and_confirm_on_a_phone(app, world, live_server, phone, tmp_path):
    page = phone
    path = tmp_path / "党建题库.csv"
    path.write_bytes(CSV.encode("gbk"))
    log_in(page, live_server, "orga")
    page.goto(f"{live_server}/admin/questions/import")
    assert page.get_by_text("下载导入模板").is_visible()
    page.set_input_files("#file", str(path))
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.locator("li.right", has_text="党的全国代表大会和它所产生的中央委员会").is_visible()
    assert page.get_by_text("第 6 行：「简答题」题型不支持，已跳过").is_visible()
    assert no_horizontal_scroll(page)
    page.shot("01-preview")
    page.fill("input[name='map:入党的条件']", "入党条件")
    with page.expect_navigation():
        page.click("text=按以上选择更新预览")
    assert page.locator("#new-points").get_by_text("归入已有").is_visible()
    with app.app_context():
        assert db.session.scalar(select(Question).filter_by(stem="入党宣誓在党旗下进行。")) is None
    page.shot("02-mapped")
    page.click("#confirm")
    page.wait_for_url("**/admin/questions")
    assert page.get_by_text("导入完成：新增 4 题").is_visible()
    assert no_horizontal_scroll(page)
    with app.app_context():
        q = db.session.scalar(select(Question).filter_by(stem="入党宣誓在党旗下进行。"))
        assert q.point.name == "入党条件" and q.owner_org_id == world.org["a"]
        assert db.session.scalar(select(Question).filter_by(stem="预备党员的预备期为____。")).answer == [["一年"]]
    assert Path(page.artifacts / "01-preview.png").exists()
