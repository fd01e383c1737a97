"""The organisation tree from a spreadsheet: previewed, stored all or nothing, every bad row named,
idempotent, in any row order, in every file shape a committee sends."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Grant, Organisation, OrgKind, Role, User
from learnhub.services.sheets.import_errors import ImportRejected
from learnhub.services.orgs import Scope, importing, storing

from .sheets import csv_bytes, ods, xlsx

HEADER = ["组织名称", "组织编码", "组织类型", "上级组织", "书记", "组织员"]
# A city committee as its organisation department keeps it: children listed before their parents,
# parents named by code or by name, kinds in every spelling.
CITY = [
    ["机关第一党支部", "S-J1", "党支部", "S-JG", "ma1", ""],
    ["机关第二党支部", "", "", "市直机关工委", "", ""],
    ["市直机关工委", "S-JG", "党工委", "S-00", "", ""],
    ["某某市委", "S-00", "党委", "", "", "orga"],
    ["市委办公室机关党委", "S-BG", "机关党委", "某某市委", "", ""],
    ["联合支部", "S-LH", "联合党支部", "S-BG", "ma2、MA3", ""],  # numbers in any case
    ["抗洪临时党支部", "S-LS", "", "S-BG", "", ""],
    ["第一党小组", "", "党小组", "S-J1", "", ""],
    ["教育党总支", "S-JY", "党总支", "S-00", "", ""],
]


def upload(client, name: str, data: bytes):
    return client.post("/admin/orgs/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def org_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Organisation))


def by_code(code: str) -> Organisation:
    return db.session.scalar(select(Organisation).filter_by(code=code))


def by_name(name: str) -> Organisation:
    return db.session.scalar(select(Organisation).filter_by(name=name))


def admin_scope() -> Scope:
    return Scope(user=None, is_admin=True)


def records(rows, header=HEADER) -> list[tuple[int, dict[str, str]]]:
    """Rows as the reader gives them (numbered from 2, under the header), through a real CSV."""
    return importing.read_file("orgs.csv", csv_bytes([header, *rows]))


def test_preview_shows_the_tree_and_stores_nothing_until_confirmed(app, world, login):
    c = login(world.login["admin"])
    before = org_count(app)
    data = xlsx(("组织", [["某某市党组织名册（2024年）"], [], HEADER, *CITY]))
    page = upload(c, "名册.xlsx", data).get_data(as_text=True)
    assert "导入预览" in page and "确认导入" in page
    assert page.index("某某市委") < page.index("市直机关工委") < page.index("机关第一党支部") < page.index("第一党小组")
    assert "<b>9</b>新建" in page and "<b>4</b>新增授权" in page
    assert org_count(app) == before
    r = c.post("/admin/orgs/import/confirm", follow_redirects=True)
    assert "导入完成：新建 9 个组织，更新 0 个，未变 0 个，新增授权 4 项" in r.get_data(as_text=True)
    with app.app_context():
        top, gw, j1 = by_code("S-00"), by_code("S-JG"), by_code("S-J1")
        assert top.parent_id is None and gw.parent_id == top.id and j1.parent_id == gw.id
        assert j1.path == f"{top.path}{gw.id}/{j1.id}/"
        assert by_name("机关第二党支部").parent_id == gw.id and by_name("机关第二党支部").kind is OrgKind.BRANCH
        assert by_name("第一党小组").parent_id == j1.id and by_name("第一党小组").kind is OrgKind.GROUP
        kinds = {code: by_code(code).kind for code in ("S-JG", "S-BG", "S-LH", "S-LS", "S-JY")}
        assert kinds == {"S-JG": OrgKind.WORKING_COMMITTEE, "S-BG": OrgKind.ORGAN_COMMITTEE, "S-LH": OrgKind.JOINT_BRANCH,
                         "S-LS": OrgKind.TEMPORARY_BRANCH, "S-JY": OrgKind.GENERAL_BRANCH}
        granted = {(g.user.member_no, g.org.code, g.role) for g in db.session.scalars(select(Grant)).all()
                   if g.org.code.startswith("S-")}
        assert granted == {("ma1", "S-J1", Role.SECRETARY), ("ma2", "S-LH", Role.SECRETARY),
                           ("ma3", "S-LH", Role.SECRETARY), ("orga", "S-00", Role.ORGANISER)}


@pytest.mark.parametrize("shape", ["xlsx", "ods", "gbk", "utf-16", "synonyms"])
def test_every_file_shape_builds_the_same_tree(app, world, runner, tmp_path, shape):
    header = ["名称", "代码", "类型", "上级党组织", "支部书记", "组织委员"] if shape == "synonyms" else HEADER
    rows = [["说明：本表由组织部填写"], header, *CITY]
    data, suffix = {
        "xlsx": lambda: (xlsx(("填写说明", [["每行一个组织"]]), ("名单", rows)), ".xlsx"),
        "ods": lambda: (ods(("名单", rows)), ".ods"),
        "gbk": lambda: (csv_bytes(rows, "gbk"), ".csv"),
        "utf-16": lambda: (b"\xff\xfe" + csv_bytes(rows, "utf-16-le"), ".csv"),
        "synonyms": lambda: (xlsx(("名单", rows)), ".xlsx"),
    }[shape]()
    path = tmp_path / f"orgs{suffix}"
    path.write_bytes(data)
    result = runner.invoke(args=["orgs", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "9 created, 0 updated, 0 unchanged, 4 grants added" in result.output
    with app.app_context():
        assert by_code("S-J1").parent_id == by_code("S-JG").id


def test_importing_the_same_file_again_creates_nothing(app, world, runner, tmp_path):
    path = tmp_path / "orgs.csv"
    path.write_bytes(csv_bytes([HEADER, *CITY]))
    assert runner.invoke(args=["orgs", "import", str(path)]).exit_code == 0
    before = org_count(app)
    with app.app_context():
        paths = {o.id: o.path for o in db.session.scalars(select(Organisation))}
        grants = db.session.scalar(select(func.count()).select_from(Grant))
    result = runner.invoke(args=["orgs", "import", str(path)])
    assert "0 created, 0 updated, 9 unchanged, 0 grants added" in result.output
    assert org_count(app) == before
    with app.app_context():
        assert {o.id: o.path for o in db.session.scalars(select(Organisation))} == paths
        assert db.session.scalar(select(func.count()).select_from(Grant)) == grants


def test_the_downloaded_organisation_table_imports_back_unchanged(app, world, login):
    c = login(world.login["org_a"])
    template = c.get("/admin/orgs/import/template")
    assert template.status_code == 200 and template.mimetype.endswith("spreadsheetml.sheet")
    page = upload(c, "组织.xlsx", template.data).get_data(as_text=True)
    assert "导入预览" in page
    r = c.post("/admin/orgs/import/confirm", follow_redirects=True)
    assert "新建 0 个组织，更新 0 个，未变 5 个，新增授权 0 项" in r.get_data(as_text=True)


def test_a_reimport_renames_and_moves_with_members(app, world, ctx):
    first = [["党委A", "a", "党委", "", "", ""], ["第三支部", "a3", "党支部", "a", "", ""],
             ["机关党总支", "a-g", "党总支", "a", "", ""], ["第二支部", "a2", "党支部", "a-g", "", ""]]
    storing.apply(admin_scope(), records(first))
    changed = [["党委A", "a", "党委", "", "", ""], ["第三党支部", "a3", "党支部", "第二支部", "", ""],
               ["机关党总支", "a-g", "党总支", "a", "", ""], ["第二支部", "a2", "党支部", "a", "", ""]]
    plan = importing.plan(admin_scope(), records(changed))
    assert {r.name: r.changes for r in plan.rows if r.status == "changed"} == {
        "第三党支部": ["名称：第三支部 → 第三党支部", "上级：党委A → 第二支部"],
        "第二支部": ["上级：机关党总支 → 党委A"],
    }
    result = storing.apply(admin_scope(), records(changed))
    assert (result.created, result.updated, result.unchanged) == (0, 2, 2)
    db.session.expire_all()
    a, a2, a3 = by_code("a"), by_code("a2"), by_code("a3")
    assert a2.parent_id == a.id and a3.parent_id == a2.id and a3.name == "第三党支部"
    assert a3.path == f"{a.path}{a2.id}/{a3.id}/"
    assert db.session.get(User, world.user["m_a3"]).org_id == a3.id  # members moved with their branch


def test_rows_without_codes_match_by_name_under_their_parent(app, world, ctx):
    rows = [["某县委", "", "党委", "", "", ""], ["城关镇党委", "", "", "某县委", "", ""], ["第一党支部", "", "", "城关镇党委", "", ""]]
    storing.apply(admin_scope(), records(rows))
    codes = {o.name: o.code for o in db.session.scalars(select(Organisation).where(Organisation.name.in_(["某县委", "城关镇党委"])))}
    assert all(code.startswith("org") for code in codes.values())
    again = storing.apply(admin_scope(), records(rows))
    assert (again.created, again.unchanged) == (0, 3)
    # The same name under another parent is another organisation.
    more = storing.apply(admin_scope(), records([["第一党支部", "", "", "a", "", ""]]))
    assert more.created == 1


def test_every_bad_row_is_named_and_nothing_is_stored(app, world, login):
    c = login(world.login["admin"])
    rows = [
        HEADER,
        ["好党委", "G-1", "党委", "", "", ""],  # 2: fine
        ["", "G-2", "党支部", "G-1", "", ""],  # 3: no name
        ["支部三", "G-1", "党支部", "好党委", "", ""],  # 4: code of row 2 again
        ["支部四", "G-4", "党支部", "不存在的党委", "", ""],  # 5: unknown parent
        ["甲", "G-5", "党支部", "G-6", "", ""],  # 6: a loop with row 7
        ["乙", "G-6", "党支部", "G-5", "", ""],  # 7
        ["支部八", "G-8", "党组", "G-1", "", ""],  # 8: no such kind
        ["支部九", "G-9", "党支部", "G-1", "nobody", ""],  # 9: unknown member number
        ["支部十", "G-10", "", "G-1", "", ""],  # 10: kind neither given nor in the name
        ["第一组", "G-11", "党小组", "第一支部", "", ""],  # 11: two organisations named 第一支部
    ]
    before = org_count(app)
    response = upload(c, "坏.csv", csv_bytes(rows))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "导入未执行" in page
    for expected in (
        "第 3 行「组织名称」：不能为空", "第 4 行「组织编码」：「G-1」与第 2 行重复",
        "第 5 行「上级组织」：找不到「不存在的党委」", "第 6 行「上级组织」：上下级关系形成循环",
        "第 8 行「组织类型」：「党组」不是可识别的组织类型", "第 9 行「书记」：找不到党员编号「nobody」",
        "第 10 行「组织类型」：不能为空（名称也看不出类型",
        "第 11 行「上级组织」：「第一支部」有 2 个同名组织，请改填上级的组织编码",
    ):
        assert expected in page, expected
    assert org_count(app) == before
    with app.app_context():
        assert db.session.scalar(select(Organisation).filter_by(code="G-1")) is None


def test_a_kind_neither_given_nor_in_the_name_is_asked_for(ctx, world):
    with pytest.raises(ImportRejected) as caught:
        importing.plan(admin_scope(), records([["支部十", "G-10", "", "a", "", ""]]))
    assert caught.value.errors == ["第 2 行「组织类型」：不能为空（名称也看不出类型；可填：党委、党工委、机关党委、党总支、党支部、联合党支部、临时党支部、党小组）"]


def test_a_cycle_through_stored_organisations_is_refused(ctx, world):
    with pytest.raises(ImportRejected) as caught:
        importing.plan(admin_scope(), records([["机关党总支", "a-g", "党总支", "a1", "", ""]]))
    assert caught.value.errors == ["第 2 行「上级组织」：「a1」在「机关党总支」的下级之中：上下级会形成循环"]


def test_same_name_twice_under_one_parent_is_refused(ctx, world):
    rows = [["新支部", "", "党支部", "a", "", ""], ["新支部", "", "党支部", "a", "", ""]]
    with pytest.raises(ImportRejected) as caught:
        importing.plan(admin_scope(), records(rows))
    assert "第 3 行「组织名称」：「新支部」与第 2 行同名且上级相同" in caught.value.errors


def test_an_organiser_imports_only_inside_their_committee(app, world, login):
    c = login(world.login["org_a"])
    rows = [HEADER, ["新支部", "N-1", "党支部", "党委B", "", ""], ["借用编码", "b1", "党支部", "a", "", ""],
            ["新党委", "N-3", "党委", "", "", ""], ["授权外人", "N-4", "党支部", "a", "mb1", ""]]
    page = upload(c, "x.csv", csv_bytes(rows)).get_data(as_text=True)
    for expected in ("第 2 行「上级组织」：找不到「党委B」", "第 3 行「组织编码」：「b1」已被你管理范围以外的组织使用",
                     "第 4 行「上级组织」：不能为空：只有系统管理员可以新建顶层组织", "第 5 行「书记」：找不到党员编号「mb1」"):
        assert expected in page, expected
    # The control: inside the committee, the same organiser's file imports.
    upload(c, "ok.csv", csv_bytes([HEADER, ["新支部", "N-1", "党支部", "a", "ma3", ""]]))
    assert "新建 1 个组织" in c.post("/admin/orgs/import/confirm", follow_redirects=True).get_data(as_text=True)
    with app.app_context():
        assert by_code("N-1").parent_id == world.org["a"]


def test_nothing_new_under_a_disabled_organisation(ctx, world):
    from learnhub.services.orgs import edit

    edit.set_active(admin_scope(), db.session.get(Organisation, world.org["a3"]), False)
    with pytest.raises(ImportRejected) as caught:
        importing.plan(admin_scope(), records([["第一党小组", "", "党小组", "a3", "", ""]]))
    assert caught.value.errors == ["第 2 行「上级组织」：「第三支部」已停用，不能在它下面新建或移入组织"]


def test_confirm_without_a_preview_or_twice_stores_nothing(app, world, login):
    c = login(world.login["admin"])
    r = c.post("/admin/orgs/import/confirm", follow_redirects=True)
    assert "没有待导入的文件" in r.get_data(as_text=True)
    upload(c, "a.csv", csv_bytes([HEADER, ["新支部", "N-1", "党支部", "a", "", ""]]))
    assert c.post("/admin/orgs/import/confirm").status_code == 302
    before = org_count(app)
    assert "没有待导入的文件" in c.post("/admin/orgs/import/confirm", follow_redirects=True).get_data(as_text=True)
    assert org_count(app) == before


def test_a_file_without_the_header_or_of_another_type_is_refused_in_chinese(world, login):
    c = login(world.login["admin"])
    assert "没有找到表头：需要 组织名称 列" in upload(c, "a.csv", "名字,上级\n甲,乙\n".encode()).get_data(as_text=True)
    assert "不支持的文件类型" in upload(c, "a.docx", b"PK").get_data(as_text=True)



def assert_paths_consistent() -> None:
    """Every organisation's path is its parent's path and its own id: the tree and its paths agree."""
    db.session.expire_all()
    orgs = {o.id: o for o in db.session.scalars(select(Organisation))}
    wrong = [o.name for o in orgs.values()
             if o.path != f"{orgs[o.parent_id].path if o.parent_id else '/'}{o.id}/"]
    assert not wrong, f"paths out of step with parents: {wrong}"


def test_one_file_creates_parents_moves_stored_branches_under_them_and_adds_below(app, world, ctx):
    rows = [
        ["新党委", "N", "党委", "a", "", ""],
        ["第一支部", "a1", "党支部", "N", "", ""],  # a stored branch moves under the new committee
        ["新小组", "", "党小组", "a1", "", ""],  # and gets a new group, two levels below the new row
        ["机关党总支", "a-g", "党总支", "a3", "", ""],  # a stored 党总支 moves, carrying 第二支部 along
        ["二支部小组", "", "党小组", "a2", "", ""],  # new, under a branch the move carries
    ]
    result = storing.apply(admin_scope(), records(rows))
    assert (result.created, result.updated) == (3, 2)
    assert_paths_consistent()
    n, a1, ga, a3 = by_code("N"), by_code("a1"), by_code("a-g"), by_code("a3")
    assert a1.parent_id == n.id and ga.parent_id == a3.id
    assert by_name("新小组").parent_id == a1.id and by_name("二支部小组").path.startswith(ga.path)
    assert db.session.get(User, world.user["m_a1"]).org.is_within(n)
