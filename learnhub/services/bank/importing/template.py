"""The question template an organiser downloads from the import page: the header, two example rows, and a
second sheet listing the knowledge points their bank may use."""

from __future__ import annotations

import io

import xlsxwriter

from ....models import Organisation
from ..access import point_owners
from ..files import LETTERS
from ..formats.excel import EXAMPLE
from ..question_bank import db_points

HEADER = ("题型", "题干", *(f"选项{letter}" for letter in LETTERS[:4]), "答案", "解析", "知识点", "难度")
EXAMPLES = (
    ("单选题", f"{EXAMPLE}党的最高领导机关是（　）。", "党的全国代表大会和它所产生的中央委员会",
     "中央政治局", "中央书记处", "中央军事委员会", "A", "党章第十条。", "", "易"),
    ("填空题", f"{EXAMPLE}预备党员的预备期为（　）。", "", "", "", "", "一年", "党章第七条。", "", "易"),
)
NOTES = (
    "题型：单选、多选、判断、填空（“单选题（1分）”“单项选择题”“是非题”等写法也可以）；简答、论述等题型会被跳过。",
    ("答案：选择题写字母，如 A 或 ABD（a,b、A、B 也可以）；判断题写 对/错（√/×、正确/错误也可以）；"
     "填空题在题干中用（　）或 ____ 表示空，多个空的答案用；分隔，同一空的不同写法用 | 分隔。"),
    ("知识点：可填“知识点”表中已有的知识点，也可以填新的名称：预览时会列出将新建的知识点，并可改为对应已有的知识点。"
     "不填则归入导入时选择的知识点。"),
    "难度：易、中、难（或 1、2、3），不填为易。选项最多到 F，可在“选项D”之后加“选项E”“选项F”列。",
)


def question_template(owners: list[Organisation | None]) -> bytes:
    """The template workbook, listing the points usable in the banks of `owners`."""
    usable: set[int | None] = set()
    for owner in owners:
        usable |= point_owners(owner)
    points = sorted(db_points(usable).values(), key=lambda p: (p.part, p.article, p.name))
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False})
    bold = book.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet = book.add_worksheet("题库")
    sheet.write_row(0, 0, HEADER, bold)
    for row, values in enumerate(EXAMPLES, start=1):
        sheet.write_row(row, 0, values, wrap)
    sheet.data_validation(1, 0, 20_000, 0, {"validate": "list", "source": ["单选题", "多选题", "判断题", "填空题"],
                                            "error_type": "warning"})
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, 0, 10)
    sheet.set_column(1, 1, 48)
    sheet.set_column(2, 5, 18)
    sheet.set_column(7, 8, 24)
    listing = book.add_worksheet("知识点")
    listing.write_row(0, 0, ("章节", "条文", "知识点"), bold)
    for row, point in enumerate(points, start=1):
        listing.write_row(row, 0, (point.part, point.article, point.name))
    listing.set_column(0, 0, 26)
    listing.set_column(2, 2, 30)
    notes = book.add_worksheet("填写说明")
    notes.set_column(0, 0, 100)
    for i, note in enumerate(NOTES):
        notes.write_string(i, 0, note, wrap)
    book.close()
    return buffer.getvalue()
