"""Templates to download from the import pages (XlsxWriter): the organisation list, filled with the
viewer's tree so it can be edited and imported again, and the member list with the branches in scope
on a second sheet."""

from __future__ import annotations

import io

import xlsxwriter
from sqlalchemy import select

from ...extensions import db
from ...models import Grant, OrgKind, Role, User
from ..reports.exports import neutralise
from . import Scope, orgs_in_scope, usable_orgs
from .kinds import accepted_kinds

_OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
ORG_HEADER = ["组织名称", "组织编码", "组织类型", "上级组织", "书记", "组织员"]
MEMBER_HEADER = ["姓名", "党员编号", "手机号", "所在支部", "党员类别"]
BRANCH_SHEET = "支部名称"


def _book() -> tuple[io.BytesIO, xlsxwriter.Workbook]:
    buffer = io.BytesIO()
    return buffer, xlsxwriter.Workbook(buffer, _OPTIONS)


def _write_rows(book, sheet, header: list[str], rows: list[list[str]], widths: list[int]) -> None:
    bold = book.add_format({"bold": True, "bg_color": "#F0F2F4"})
    text = book.add_format({"num_format": "@"})  # numbers such as member numbers stay text when typed in
    for column, (title, width) in enumerate(zip(header, widths, strict=True)):
        sheet.write_string(0, column, title, bold)
        sheet.set_column(column, column, width, text)
    for r, values in enumerate(rows, start=1):
        for column, value in enumerate(values):
            sheet.write_string(r, column, neutralise(value or ""))
    sheet.freeze_panes(1, 0)


def _notes(book, lines: list[str]) -> None:
    sheet = book.add_worksheet("填写说明")
    sheet.set_column(0, 0, 100)
    for r, line in enumerate(lines):
        sheet.write_string(r, 0, line)


def _done(buffer: io.BytesIO, book) -> io.BytesIO:
    book.close()
    buffer.seek(0)
    return buffer


def org_template(scope: Scope) -> io.BytesIO:
    """The organisation list: one row per organisation in scope (edit it and import it again), then notes."""
    orgs = orgs_in_scope(scope)
    ids = [o.id for o in orgs]
    people: dict[tuple[int, Role], list[str]] = {}
    if ids:
        for org_id, role, number in db.session.execute(
            select(Grant.org_id, Grant.role, User.member_no).join(User, User.id == Grant.user_id)
            .where(Grant.org_id.in_(ids)).order_by(User.member_no)
        ):
            people.setdefault((org_id, role), []).append(number)
    codes = {o.id: o.code for o in orgs}
    rows = [
        [o.name, o.code, o.kind.label, codes.get(o.parent_id, ""),
         "、".join(people.get((o.id, Role.SECRETARY), [])), "、".join(people.get((o.id, Role.ORGANISER), []))]
        for o in orgs
    ]
    buffer, book = _book()
    _write_rows(book, book.add_worksheet("组织"), ORG_HEADER, rows, [28, 14, 12, 18, 16, 16])
    _notes(book, [
        "每行一个组织。表头须保留；行的先后不限（下级可写在上级之前）。",
        "组织名称：必填。组织编码：可不填，不填时系统自动编号；填了编码的行按编码对应已有组织。",
        f"组织类型：{accepted_kinds()}；不填时按名称结尾判断（如“第一党支部”为党支部）。",
        "上级组织：填上级的组织编码或名称（文件中的或系统中已有的）；有同名组织时请填编码。",
        "已有组织的上级组织不填，表示位置不变；只有系统管理员可以新建顶层组织。",
        "书记、组织员：填党员编号，多人用顿号分隔；只增加授权，不会撤销表中未列出的授权。",
        "导入前会先显示预览；任何一行有误，整个文件都不导入。再次导入同一文件不会重复创建。",
    ])
    return _done(buffer, book)


def member_template(scope: Scope) -> io.BytesIO:
    """The member list's header, notes, and the branches the viewer may put members in."""
    branches = [o for o in usable_orgs(scope) if o.kind.is_branch or o.kind is OrgKind.GROUP]
    names = [o.name for o in branches]
    buffer, book = _book()
    sheet = book.add_worksheet("党员名单")
    _write_rows(book, sheet, MEMBER_HEADER, [], [10, 14, 14, 24, 10])
    if branches:
        source = f"='{BRANCH_SHEET}'!$A$2:$A${len(branches) + 1}"
        # A suggestion list, not a rule: a code or a branch to be created is allowed too.
        sheet.data_validation(1, 3, 20000, 3, {"validate": "list", "source": source, "show_error": False})
        sheet.data_validation(1, 4, 20000, 4, {"validate": "list", "source": ["正式", "预备"], "show_error": False})
    listing = book.add_worksheet(BRANCH_SHEET)
    parents = {o.id: o.name for o in orgs_in_scope(scope)}
    rows = [[o.name, o.code, o.kind.label, parents.get(o.parent_id, "")] for o in branches]
    _write_rows(book, listing, ["支部名称", "组织编码", "组织类型", "上级组织"], rows, [28, 14, 12, 28])
    duplicated = len(set(names)) < len(names)
    _notes(book, [
        "“党员名单”表：每行一名党员。姓名、党员编号、所在支部必填；手机号可空；党员类别填“正式”或“预备”（空着视为正式）。",
        f"“所在支部”填“{BRANCH_SHEET}”表中的支部名称或组织编码"
        + ("（有同名支部，请填组织编码）。" if duplicated else "。"),
        "表中没有的支部，可在导入页选择“新支部建在哪个组织之下”后自动新建，预览中会列出。",
        "手机号、党员编号中的全角数字会自动转为半角。导入前会先显示预览；任何一行有误，整个文件都不导入。",
    ])
    return _done(buffer, book)
