"""Secretaries add, edit and import members; imports are all-or-nothing and name every bad row."""

from __future__ import annotations

import io

import openpyxl
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import MemberCategory, User

from ..factories import PASSWORD

HEADER = ["姓名", "党员编号", "手机号", "所在支部", "党员类别"]


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, name: str, data: bytes):
    """Upload a member list: the preview, or the page naming what is wrong."""
    return client.post("/admin/members/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def import_file(client, name: str, data: bytes, password="init1234"):
    """Upload, see the preview, confirm with the first password."""
    preview = upload(client, name, data)
    assert "确认导入" in preview.get_data(as_text=True), preview.get_data(as_text=True)
    return client.post("/admin/members/import/confirm", data={"password": password})


def test_secretary_adds_a_member_who_must_change_the_first_password(app, world, login):
    c = login(world.login["sec_a1"])
    r = c.post("/admin/members/new", data={
        "name": "新党员", "member_no": "N001", "phone": "13700000001", "org_id": world.org["a1"],
        "category": "probationary", "password": "first123",
    })
    assert r.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.member_no == "N001"))
        assert user.category is MemberCategory.PROBATIONARY and user.must_change_password and user.org_id == world.org["a1"]
    new = app.test_client()
    r = new.post("/auth/login", data={"identifier": "13700000001", "password": "first123"})
    assert r.location.endswith("/auth/change-password")


def test_secretary_cannot_add_a_member_to_another_branch(app, world, login):
    c = login(world.login["sec_a1"])
    r = c.post("/admin/members/new", data={
        "name": "越权", "member_no": "N002", "org_id": world.org["b1"], "category": "full", "password": "first123",
    })
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "不是有效的选择" in page, page
    with app.app_context():
        assert db.session.scalar(select(User).where(User.member_no == "N002")) is None


def test_duplicate_member_number_is_refused_with_a_message(world, login):
    c = login(world.login["sec_a1"])
    r = c.post("/admin/members/new", data={
        "name": "重复", "member_no": "ma1", "org_id": world.org["a1"], "category": "full", "password": "first123",
    })
    assert "党员编号 ma1 已被使用" in r.get_data(as_text=True)


def test_edit_member_details(app, world, login):
    c = login(world.login["sec_a1"])
    r = c.post(f"/admin/members/{world.user['m_a1b']}/edit", data={
        "name": "改名了", "member_no": "ma1b", "phone": "", "org_id": world.org["a1"], "category": "full",
    })
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(User, world.user["m_a1b"]).name == "改名了"


def test_reset_password_shows_a_temporary_one_and_forces_a_change(app, world, login):
    member = login(world.login["m_a1"])
    c = login(world.login["sec_a1"])
    page = c.post(f"/admin/members/{world.user['m_a1']}/reset-password", follow_redirects=True).get_data(as_text=True)
    temporary = page.split("的临时密码：")[1].split("（")[0]
    assert member.get("/").status_code == 302  # the old session is gone
    fresh = app.test_client()
    assert fresh.post("/auth/login", data={"identifier": "ma1", "password": PASSWORD}).status_code == 200
    r = fresh.post("/auth/login", data={"identifier": "ma1", "password": temporary})
    assert r.location.endswith("/auth/change-password")


def test_import_good_xlsx_creates_everyone(app, world, login):
    c = login(world.login["org_a"])
    data = xlsx([HEADER, ["李一", "A100", "13600000001", "第一支部", "正式"], ["李二", 1002, None, "a2", "预备"]])
    r = import_file(c, "members.xlsx", data)
    assert r.status_code == 302
    with app.app_context():
        li2 = db.session.scalar(select(User).where(User.member_no == "1002"))
        assert li2.org_id == world.org["a2"] and li2.category is MemberCategory.PROBATIONARY and li2.must_change_password


def test_import_good_csv_in_gbk(app, world, login):
    c = login(world.login["sec_a1"])
    text = "姓名,党员编号,手机号,所在支部,党员类别\n王五,C100,13600000005,第一支部,正式党员\n"
    r = import_file(c, "members.csv", text.encode("gbk"))
    assert r.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User).where(User.member_no == "C100")).name == "王五"


def test_import_with_bad_rows_imports_nothing_and_names_every_row(app, world, login):
    c = login(world.login["sec_a1"])
    before = count_users(app)
    data = xlsx([
        HEADER,
        ["好人", "G100", "13600000011", "第一支部", "正式"],
        ["", "G101", "", "第一支部", "正式"],
        ["重号", "ma1", "", "第一支部", "正式"],
        ["坏手机", "G103", "12345", "第一支部", "正式"],
        ["外支部", "G104", "", "第二支部", "正式"],
        ["怪类别", "G105", "", "第一支部", "群众"],
        ["表内重复", "G100", "", "第一支部", "正式"],
    ])
    page = upload(c, "members.xlsx", data).get_data(as_text=True)
    assert count_users(app) == before
    assert "导入未执行" in page
    for expected in (
        "第 3 行「姓名」：不能为空", "第 4 行「党员编号」：「ma1」已被系统中的党员用作编号", "第 5 行「手机号」",
        "第 6 行「所在支部」：「第二支部」不是你管理范围内的组织", "第 7 行「党员类别」", "第 8 行「党员编号」：「G100」与第 2 行重复",
    ):
        assert expected in page, expected


def test_ambiguous_branch_name_asks_for_the_code(app, world, login):
    c = login(world.login["admin"])
    page = upload(c, "m.xlsx", xlsx([HEADER, ["同名", "H1", "", "第一支部", ""]])).get_data(as_text=True)
    assert "有多个同名组织" in page


def test_import_rejects_wrong_type_corrupt_file_and_missing_header(app, world, login):
    c = login(world.login["sec_a1"])
    before = count_users(app)
    assert "不支持的文件类型（.txt）" in upload(c, "m.txt", b"hello").get_data(as_text=True)
    assert "文件已损坏" in upload(c, "m.xlsx", b"PK\x03\x04 not really a zip").get_data(as_text=True)
    assert "没有找到表头：需要 姓名、党员编号、所在支部 列" in upload(c, "m.csv", "名字,编号\n张,1\n".encode()).get_data(as_text=True)
    assert count_users(app) == before


def test_cli_members_import(app, world, runner, tmp_path):
    good = tmp_path / "m.csv"
    good.write_text("姓名,党员编号,手机号,所在支部,党员类别\n赵六,CLI1,,第三支部,正式\n", encoding="utf-8-sig")
    result = runner.invoke(args=["members", "import", str(good), "--org", "a", "--password", "init1234"])
    assert result.exit_code == 0 and "1 members imported" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,党员编号,手机号,所在支部,党员类别\n赵七,CLI2,,第二支部,正式\n", encoding="utf-8")
    result = runner.invoke(args=["members", "import", str(bad), "--org", "b1", "--password", "init1234"])
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(User).where(User.member_no == "CLI2")) is None


def test_the_edit_form_shows_the_members_category_so_saving_keeps_it(app, world, login):
    with app.app_context():
        db.session.get(User, world.user["m_a1"]).category = MemberCategory.PROBATIONARY
        db.session.commit()
    html = login(world.login["sec_a1"]).get(f"/admin/members/{world.user['m_a1']}/edit").get_data(as_text=True)
    assert '<option selected value="probationary">' in html


def test_member_numbers_differing_only_in_case_are_one_number(app, world, login):
    # A login finds d4002 as D4002: an import must not add a second account behind the same number.
    c = login(world.login["sec_a1"])
    before = count_users(app)
    page = upload(c, "members.xlsx", xlsx([
        HEADER, ["大写", "MA1", "", "第一支部", "正式"], ["小写", "g300", "", "第一支部", "正式"],
        ["又大写", "G300", "", "第一支部", "正式"],
    ])).get_data(as_text=True)
    assert count_users(app) == before
    assert "第 2 行「党员编号」：「MA1」已被系统中的党员用作编号" in page
    assert "第 4 行「党员编号」：「G300」与第 3 行重复" in page
