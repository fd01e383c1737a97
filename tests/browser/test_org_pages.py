"""The organisation pages on a phone: import a tree (preview, then confirm), browse it, move a branch;
and the member import's preview with a new branch."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Organisation, User

from ..admin.sheets import csv_bytes, xlsx
from .test_phone_flows import log_in, no_horizontal_scroll

pytestmark = pytest.mark.browser

TREE = [
    ["某某市党组织名册"],
    ["组织名称", "组织编码", "组织类型", "上级组织", "书记"],
    ["城关镇第一党支部", "CG-1", "党支部", "CG", "ma3"],
    ["城关镇党委", "CG", "党委", "a", ""],
    ["城关镇第二联合党支部", "CG-2", "联合党支部", "城关镇党委", ""],
    ["社区第一党小组", "", "党小组", "CG-1", ""],
]


def test_an_organiser_imports_a_tree_checks_the_preview_and_confirms(app, world, live_server, phone, tmp_path):
    page = phone
    log_in(page, live_server, "orga")
    page.goto(f"{live_server}/admin/orgs/import")
    assert no_horizontal_scroll(page)
    page.shot("00-org-import")
    path = tmp_path / "名册.xlsx"
    path.write_bytes(xlsx(("名册", TREE)))
    page.set_input_files("#file", str(path))
    page.click("text=预览")
    page.wait_for_selector("#confirm-import")
    preview = page.locator(".preview-tree")
    assert preview.get_by_text("城关镇党委").is_visible() and preview.get_by_text("社区第一党小组").is_visible()
    assert page.locator(".stat", has_text="新建").inner_text().startswith("4")
    assert no_horizontal_scroll(page)
    page.shot("01-org-preview")
    with app.app_context():
        assert db.session.scalar(select(Organisation).filter_by(code="CG")) is None  # not before confirming
    page.click("#confirm-import")
    page.wait_for_url(f"{live_server}/admin/orgs")
    assert page.get_by_text("导入完成：新建 4 个组织").is_visible()
    assert page.get_by_text("城关镇第二联合党支部").is_visible()
    assert no_horizontal_scroll(page)
    page.shot("02-org-tree")
    with app.app_context():
        town, first = (db.session.scalar(select(Organisation).filter_by(code=c)) for c in ("CG", "CG-1"))
        assert town.parent_id == world.org["a"] and first.parent_id == town.id

    # Move 第一支部 under the new 城关镇党委 from its page, and see the tree follow.
    page.goto(f"{live_server}/admin/orgs/{world.org['a1']}")
    page.shot("03-org-detail")
    assert no_horizontal_scroll(page)
    page.select_option("#parent_id", label="　城关镇党委")
    page.click("form[action$='/move'] button[type=submit]")
    assert page.get_by_text("已移动").is_visible()
    with app.app_context():
        assert db.session.get(Organisation, world.org["a1"]).parent_id == town.id


def test_a_bad_tree_names_every_row_and_keeps_nothing(app, world, live_server, phone, tmp_path):
    page = phone
    log_in(page, live_server, "orga")
    page.goto(f"{live_server}/admin/orgs/import")
    path = tmp_path / "坏.csv"
    path.write_bytes(csv_bytes([["组织名称", "组织编码", "上级组织"], ["甲支部", "X1", "X2"], ["乙支部", "X2", "X1"],
                                ["丙支部", "X3", "不存在"]], "gbk"))
    page.set_input_files("#file", str(path))
    page.click("text=预览")
    errors = page.locator("#import-errors")
    assert errors.get_by_text("第 2 行「上级组织」：上下级关系形成循环", exact=False).is_visible()
    assert errors.get_by_text("第 4 行「上级组织」：找不到「不存在」", exact=False).is_visible()
    page.shot("01-org-errors")


def test_member_import_preview_lists_the_branch_it_will_create(app, world, live_server, phone, tmp_path):
    page = phone
    log_in(page, live_server, "orga")
    page.goto(f"{live_server}/admin/members/import")
    assert no_horizontal_scroll(page)
    page.shot("00-member-import")
    path = tmp_path / "名单.xlsx"
    path.write_bytes(xlsx(("名单", [["花名册"], ["姓名", "编号", "手机号码", "支部"], ["新人甲", "NB1", "１３６００００００９９", "第九党支部"],
                                   ["新人乙", "NB2", "", "第一支部"]])))
    page.set_input_files("#file", str(path))
    page.select_option("#parent", label="党委A")
    page.click("text=预览")
    page.wait_for_selector("#new-branches")
    assert page.locator("#new-branches").get_by_text("第九党支部").is_visible()
    assert no_horizontal_scroll(page)
    page.shot("01-member-preview")
    page.fill("#password", "init1234")
    page.click("#confirm-import")
    page.wait_for_url(f"{live_server}/admin/members")
    assert page.get_by_text("已导入 2 名党员，新建支部 1 个").is_visible()
    with app.app_context():
        member = db.session.scalar(select(User).filter_by(member_no="NB1"))
        assert member.phone == "13600000099" and member.org.name == "第九党支部"
