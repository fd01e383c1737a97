"""Member lists as they come: every file shape, header synonyms, full-width digits, new branches created
under a chosen parent (shown in the preview first), a template to download, and every bad row named."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import MemberCategory, Organisation, OrgKind, User
from learnhub.services.orgs import members
from learnhub.services.sheets import tables
from learnhub.services.orgs import edit, scope_for

from .sheets import csv_bytes, ods, xlsx

TITLE = ["第一支部党员花名册（2024年12月）"]
SYNONYMS = ["序号", "姓名", "性别", "编号", "手机号码", "所属支部", "类别"]
ROWS = [
    [1, "李一", "男", "Ａ１００", "１３６ ００００ ０００１", "第一支部", "正式党员"],
    [2, "李二", "女", "A101", "136-0000-0002", "a1", "预备"],
    [3, "李三", "男", "A102", "", "第一支部", ""],
]


def upload(client, name: str, data: bytes, parent: int | None = None):
    fields = {"file": (io.BytesIO(data), name)}
    if parent is not None:
        fields["parent"] = str(parent)
    return client.post("/admin/members/import", data=fields, content_type="multipart/form-data")


def confirm(client, password: str = "init1234"):
    return client.post("/admin/members/import/confirm", data={"password": password})


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(User)),
                db.session.scalar(select(func.count()).select_from(Organisation)))


SHAPES = {
    "xlsx with a title row": lambda: ("名册.xlsx", xlsx(("花名册", [TITLE, SYNONYMS, *ROWS]))),
    "xlsx after an instruction sheet": lambda: ("名册.xlsx", xlsx(("填写说明", [["请勿修改表头"]]), ("名单", [SYNONYMS, *ROWS]))),
    "ods": lambda: ("名册.ods", ods(("名单", [TITLE, SYNONYMS, *ROWS]))),
    "gbk csv": lambda: ("名册.csv", csv_bytes([TITLE, SYNONYMS, *ROWS], "gbk")),
    "utf-16 csv": lambda: ("名册.csv", b"\xff\xfe" + csv_bytes([SYNONYMS, *ROWS], "utf-16-le")),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_previews_then_imports_with_numbers_made_half_width(app, world, login, shape):
    c = login(world.login["sec_a1"])
    name, data = SHAPES[shape]()
    before = counts(app)
    page = upload(c, name, data).get_data(as_text=True)
    assert "导入预览" in page and "<b>3</b>新增党员" in page and "13600000001" in page
    assert counts(app) == before  # nothing stored before the confirmation
    assert confirm(c).status_code == 302
    with app.app_context():
        li1 = db.session.scalar(select(User).filter_by(member_no="A100"))
        li2 = db.session.scalar(select(User).filter_by(member_no="A101"))
        assert (li1.name, li1.phone, li1.org_id, li1.category) == ("李一", "13600000001", world.org["a1"], MemberCategory.FULL)
        assert (li2.phone, li2.category) == ("13600000002", MemberCategory.PROBATIONARY)
        assert li1.must_change_password and li1.password_hash == li2.password_hash  # one shared first hash


def test_an_organiser_may_create_missing_branches_under_a_chosen_parent(app, world, login):
    c = login(world.login["org_a"])
    rows = [["姓名", "党员编号", "所在支部"], ["王一", "W1", "第四党支部"], ["王二", "W2", "第四党支部"],
            ["王三", "W3", "离退休临时党支部"], ["王四", "W4", "第三支部"]]
    before = counts(app)
    page = upload(c, "名单.xlsx", xlsx(("名单", rows)), parent=world.org["a"]).get_data(as_text=True)
    assert "将在「党委A」下新建的支部" in page
    assert "第四党支部" in page and "离退休临时党支部" in page and "首见于第 2 行" in page
    assert counts(app) == before
    r = confirm(c)
    assert r.status_code == 302
    with app.app_context():
        fourth = db.session.scalar(select(Organisation).filter_by(name="第四党支部"))
        retired = db.session.scalar(select(Organisation).filter_by(name="离退休临时党支部"))
        assert fourth.parent_id == world.org["a"] and fourth.kind is OrgKind.BRANCH
        assert retired.kind is OrgKind.TEMPORARY_BRANCH and retired.path.startswith(db.session.get(Organisation, world.org["a"]).path)
        assert {u.member_no for u in db.session.scalars(select(User).filter_by(org_id=fourth.id))} == {"W1", "W2"}
        assert db.session.scalar(select(User).filter_by(member_no="W4")).org_id == world.org["a3"]
    assert counts(app) == (before[0] + 4, before[1] + 2)


def test_without_a_parent_an_unknown_branch_is_an_error_and_secretaries_create_none(app, world, login):
    rows = [["姓名", "党员编号", "所在支部"], ["王一", "W1", "第四党支部"]]
    org_a = login(world.login["org_a"])
    page = upload(org_a, "名单.csv", csv_bytes(rows)).get_data(as_text=True)
    assert "第 2 行「所在支部」：「第四党支部」不是你管理范围内的组织（如需新建，请选择新支部建在哪个组织之下）" in page
    secretary = login(world.login["sec_a1"])
    assert "新支部建在" not in secretary.get("/admin/members/import").get_data(as_text=True)
    before = counts(app)
    page = upload(secretary, "名单.csv", csv_bytes(rows), parent=world.org["a1"]).get_data(as_text=True)
    assert "导入预览" not in page
    assert counts(app) == before
    with app.app_context():
        scope = scope_for(db.session.get(User, world.user["sec_a1"]))
        with pytest.raises(members.ServiceError, match="只有组织员可以在导入时新建支部"):
            members.plan(scope, members.read_file("名单.csv", csv_bytes(rows)), db.session.get(Organisation, world.org["a1"]))


def test_every_bad_row_is_named_and_nothing_is_stored(app, world, login):
    with app.app_context():
        edit.set_active(scope_for(db.session.get(User, world.user["admin"])), db.session.get(Organisation, world.org["a2"]), False)
    c = login(world.login["org_a"])
    rows = [
        ["党员花名册"], ["姓名", "党员编号", "手机号", "所在支部", "党员类别"],
        ["好人", "G100", "13600000011", "第一支部", "正式"],  # 3
        ["", "G101", "", "第一支部", ""],  # 4
        ["手机当编号", "１３６００００００１２", "", "第一支部", ""],  # 5
        ["坏手机", "G103", "1360000", "第一支部", ""],  # 6
        ["停用支部", "G104", "", "第二支部", ""],  # 7
        ["外委员会", "G105", "", "b1", ""],  # 8
        ["群众", "G106", "", "第一支部", "入党积极分子"],  # 9
        ["重复", "Ｇ１００", "", "第一支部", ""],  # 10
    ]
    before = counts(app)
    page = upload(c, "坏.xlsx", xlsx(("名单", rows))).get_data(as_text=True)
    for expected in (
        "第 4 行「姓名」：不能为空", "第 5 行「党员编号」：「13600000012」是手机号", "第 6 行「手机号」：「1360000」不是有效的 11 位手机号",
        "第 7 行「所在支部」：「第二支部」已停用", "第 8 行「所在支部」：「b1」不是你管理范围内的组织",
        "第 9 行「党员类别」：「入党积极分子」应为“正式”或“预备”", "第 10 行「党员编号」：「G100」与第 3 行重复",
    ):
        assert expected in page, expected
    assert "<li>第 3 行" not in page  # the good row is not named
    assert counts(app) == before


def test_a_weak_password_keeps_the_preview_and_a_good_one_imports(app, world, login):
    c = login(world.login["sec_a1"])
    upload(c, "名单.csv", csv_bytes([["姓名", "党员编号", "所在支部"], ["张一", "Z1", "第一支部"]]))
    r = confirm(c, "12345678")
    assert r.status_code == 400 and "这个密码太常见" in r.get_data(as_text=True)
    assert "确认导入" in r.get_data(as_text=True)
    assert confirm(c, "init1234").status_code == 302
    again = c.post("/admin/members/import/confirm", data={"password": "init1234"}, follow_redirects=True)
    assert "没有待导入的文件" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).filter_by(member_no="Z1")) == 1


def test_a_member_number_taken_between_preview_and_confirm_is_named(app, world, login):
    c = login(world.login["sec_a1"])
    upload(c, "名单.csv", csv_bytes([["姓名", "党员编号", "所在支部"], ["张一", "Z1", "第一支部"]]))
    login(world.login["sec_a1"]).post("/admin/members/new", data={
        "name": "先到", "member_no": "Z1", "org_id": world.org["a1"], "category": "full", "password": "Lh-2026-xq"})
    page = confirm(c).get_data(as_text=True)
    assert "第 2 行「党员编号」：「Z1」已被系统中的党员用作编号" in page
    with app.app_context():
        assert db.session.scalar(select(User).filter_by(member_no="Z1")).name == "先到"


@pytest.mark.parametrize(("role", "branches"), [("sec_a1", {"第一支部"}), ("org_a", {"第一支部", "第二支部", "第三支部"})])
def test_the_template_lists_the_branches_in_scope_and_imports_once_filled(app, world, login, role, branches):
    c = login(world.login[role])
    response = c.get("/admin/members/import/template")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheets = {s.name: s for s in tables.read_sheets("模板.xlsx", response.data)}
    assert sheets["党员名单"].rows[0][1] == ["姓名", "党员编号", "手机号", "所在支部", "党员类别"]
    assert {values[0] for _, values in sheets["支部名称"].rows[1:]} == branches
    assert "填写说明" in sheets
    filled = xlsx(("党员名单", [["姓名", "党员编号", "手机号", "所在支部", "党员类别"], ["新人", "T1", "", "第一支部", "正式"]]),
                  ("支部名称", [["支部名称"], *[[b] for b in sorted(branches)]]))
    assert "导入预览" in upload(c, "模板.xlsx", filled).get_data(as_text=True)
    assert confirm(c).status_code == 302


def test_cli_import_creates_branches_under_the_given_parent(app, world, runner, tmp_path):
    path = tmp_path / "名单.csv"
    path.write_bytes(csv_bytes([["姓名", "工号", "支部"], ["赵一", "C1", "新建党支部"], ["赵二", "C2", "第三支部"]], "gbk"))
    result = runner.invoke(args=["members", "import", str(path), "--org", "a", "--new-branches", "a", "--password", "init1234"])
    assert result.exit_code == 0, result.output
    assert "2 members imported, 1 branches created" in result.output
    with app.app_context():
        made = db.session.scalar(select(Organisation).filter_by(name="新建党支部"))
        assert made.parent_id == world.org["a"] and made.code.startswith("org")


def test_an_imported_member_is_an_ordinary_account_that_must_change_the_first_password(app, world, login):
    c = login(world.login["sec_a1"])
    upload(c, "名单.csv", csv_bytes([["姓名", "党员编号", "所在支部"], ["张一", "Z1", "第一支部"]]))
    assert confirm(c, "first1234").status_code == 302
    with app.app_context():
        member = db.session.scalar(select(User).filter_by(member_no="Z1"))
        assert (member.active, member.is_admin, member.session_version, member.grants) == (True, False, 1, [])
    fresh = app.test_client()
    r = fresh.post("/auth/login", data={"identifier": "Z1", "password": "first1234"})
    assert r.status_code == 302 and r.location.endswith("/auth/change-password")
