"""Write the binary fixtures of this folder: a .xls as WPS and old Excel save it, and an .ods as LibreOffice does.

Not run by the tests (they read the committed files). To make them again, in a throw-away venv:
    python -m venv /tmp/gen && /tmp/gen/bin/pip install xlwt==1.3.0 odfpy==1.4.1
    /tmp/gen/bin/python tests/data/imports/make_fixtures.py
xlwt writes BIFF8 (Excel 97-2003), numbers as floats; odfpy writes an OpenDocument spreadsheet.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent

# A competition bank with a title row, 序号 and 目录 columns, exam-system spellings of types and answers,
# a （ ） blank, a 简答 row to skip, and a full-width answer letter.
XLS_ROWS = [
    ["党章知识竞赛题库（2024年版）"],
    [],
    ["序号", "目录", "题型", "题干", "正确答案", "A", "B", "C", "D", "答案解析"],
    [1, "入党条件", "单选题（1分）", "党章规定，年满几岁的中国工人、农民可以申请加入中国共产党？", "B", "十六岁", "十八岁", "二十岁", "二十二岁", "党章第一条。"],
    [2, "党员的义务", "多项选择", "党员必须履行的义务包括（ ）。", "a、b、c", "认真学习", "贯彻执行党的基本路线", "维护党的团结", "谋取个人私利", ""],
    [3, "预备期", "是非题", "预备党员的义务同正式党员一样。", "√", "", "", "", "", "党章第七条。"],
    [4, "预备期", "填空", "预备党员的预备期为（ ）。", "一年", "", "", "", "", ""],
    [5, "入党条件", "简答题", "简述入党的条件。", "略", "", "", "", "", ""],
    [6, "党的纪律", "单项选择题", "党的纪律处分有几种？", "Ｃ", "三种", "四种", "五种", "六种", "党章第四十条。"],
]

ODS_NOTES = [["填写说明"], ["1. 试题类型填 单选、多选、判断（正误）、填空。"], ["2. 每道题一行，选项填在 选项一 至 选项四。"]]
ODS_ROWS = [
    ["试题类型", "试题内容", "选项一", "选项二", "选项三", "选项四", "参考答案", "试题解析", "难易程度", "所属章节"],
    ["单选", "党的最高领导机关是（　）。", "党的全国代表大会和它所产生的中央委员会", "中央政治局", "中央书记处", "中央军事委员会",
     "A", "党章第十条。", "易", "党的组织制度"],
    ["多选题", "党的纪律处分包括（　）。", "警告", "严重警告", "撤销党内职务", "留党察看", "ABCD", "", "中", "党的纪律"],
    ["正误题", "党员有权在党的会议上批评党的任何组织和任何党员。", "", "", "", "", "正确", "", "难", "党员的权利"],
    ["填空题", "党的基层组织每届任期____年至____年。", "", "", "", "", "三；五", "", 2, "党的基层组织"],
    ["论述题", "论述党的自我革命。", "", "", "", "", "", "", "", "党的建设"],
    ["不定项选择题", "下列属于党的中央组织的是（　）。", "全国代表大会", "中央委员会", "中央纪律检查委员会", "村党支部",
     "ABC", "", "", "党的中央组织"],
]


def write_xls(path: Path) -> None:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("题库")
    for r, row in enumerate(XLS_ROWS):
        for c, value in enumerate(row):
            sheet.write(r, c, float(value) if isinstance(value, int) else value)
    book.save(str(path))


def write_ods(path: Path) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, rows in (("填写说明", ODS_NOTES), ("试题", ODS_ROWS)):
        table = Table(name=name)
        for row in rows:
            tr = TableRow()
            for value in row:
                if isinstance(value, int):
                    cell = TableCell(valuetype="float", value=value)
                else:
                    cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
                tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    doc.save(str(path))


if __name__ == "__main__":
    write_xls(HERE / "竞赛题库-标题行.xls")
    write_ods(HERE / "题库-说明页在前.ods")
