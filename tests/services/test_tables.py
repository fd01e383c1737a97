"""The generic table reader: header found under title rows and past instruction sheets, synonyms, CSV
encodings and delimiters, cells as shown, and hostile workbooks refused cleanly and cheaply."""

from __future__ import annotations

import datetime as dt
import io
import resource
import zipfile

import pytest
import xlsxwriter

from learnhub.services.sheets import tables

COLUMNS = {
    "stem": ["题干", "题目", "试题内容"],
    "type": ["题型", "题目类型"],
    "answer": ["答案", "正确答案", "参考答案"],
    "point": ["知识点", "章节", "目录"],
}
REQUIRED = ["type", "stem", "answer"]
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def workbook(*sheets: tuple[str, list[list]], hidden: str = "") -> bytes:
    """An .xlsx written by XlsxWriter: (sheet name, rows) in order; None leaves a cell empty."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets:
        sheet = book.add_worksheet(name)
        if name == hidden:
            sheet.hide()
        elif hidden:
            sheet.activate()  # Excel cannot hide the active sheet
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.datetime):
                    sheet.write_datetime(r, c, value, dates)
                elif value is not None:
                    sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


def test_header_under_a_title_row_on_the_sheet_after_the_instructions():
    data = workbook(
        ("填写说明", [["请按下表填写"], ["题型可填：单选、多选"]]),
        ("题库", [["党章知识竞赛题库（2024年版）"], [], ["目录", "题型", "试题内容", "正确答案"],
                 ["入党条件", "单选题（1分）", "年满几岁？", 18.0], [None], ["预备期", "判断", "预备期一年。", "对"]]),
    )
    table = tables.read_table("题库.xlsx", data, COLUMNS, REQUIRED)
    assert (table.sheet, table.header_row) == ("题库", 3)
    assert table.headers == {"point": "目录", "type": "题型", "stem": "试题内容", "answer": "正确答案"}
    assert [(r.number, r["point"], r["type"], r["answer"]) for r in table.rows] == [
        (4, "入党条件", "单选题（1分）", "18"), (6, "预备期", "判断", "对")]


def test_a_preferred_name_wins_over_a_synonym_whatever_the_order():
    table = tables.read_table("a.csv", "章节,题型,题干,答案,知识点\n第一章,判断,题。,对,入党条件\n".encode(), COLUMNS, REQUIRED)
    assert table.columns["point"] == 4 and table.rows[0]["point"] == "入党条件"


def test_header_cells_are_matched_loosely():
    data = "＊题 型 ,题干（必填）,答案:\n判断,题。,对\n".encode()
    table = tables.read_table("a.csv", data, COLUMNS, REQUIRED)
    assert table.rows[0].cells == {"type": "判断", "stem": "题。", "answer": "对"}


def test_no_header_names_what_is_needed_and_the_nearest_row():
    data = workbook(("Sheet1", [["标题"], ["题型", "题干", "选项A"], ["单选", "题？", "甲"]]))
    with pytest.raises(tables.TableError) as caught:
        tables.read_table("a.xlsx", data, COLUMNS, REQUIRED)
    assert str(caught.value) == "在前 10 行中没有找到表头：需要 题型、题干、答案 列（最接近的是「Sheet1」表第 2 行，缺少：答案）"


def test_a_header_below_the_tenth_row_or_on_a_hidden_sheet_is_not_found():
    late = [["说明"]] * 10 + [["题型", "题干", "答案"], ["判断", "题。", "对"]]
    with pytest.raises(tables.TableError, match="在前 10 行中没有找到表头"):
        tables.read_table("a.xlsx", workbook(("Sheet1", late)), COLUMNS, REQUIRED)
    hidden = workbook(("隐藏", [["题型", "题干", "答案"], ["判断", "题。", "对"]]), ("空", [["无"]]), hidden="隐藏")
    with pytest.raises(tables.TableError, match="没有找到表头"):
        tables.read_table("a.xlsx", hidden, COLUMNS, REQUIRED)


def test_cells_read_as_shown_with_control_characters_removed():
    data = workbook(("S", [["题型", "题干", "答案", "知识点"],
                           ["填空", "a\x00b\x07c\r\nd", 0.1 + 0.2, dt.datetime(2024, 5, 1)],
                           ["判断", "  题  ", True, 13800000001.0]]))
    rows = tables.read_table("a.xlsx", data, COLUMNS, REQUIRED).rows
    assert [r.cells for r in rows] == [
        {"type": "填空", "stem": "abc\nd", "answer": "0.3", "point": "2024-05-01"},
        {"type": "判断", "stem": "题", "answer": "TRUE", "point": "13800000001"},
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_in_every_encoding_a_chinese_office_writes(encoding):
    text = "题型,题干,答案\r\n单选,党的最高领导机关是？,A\r\n"
    table = tables.read_table("题库.csv", text.encode(encoding), COLUMNS, REQUIRED)
    assert [(r.number, r["stem"]) for r in table.rows] == [(2, "党的最高领导机关是？")]


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_csv_delimiter_is_sniffed(delimiter):
    lines = [["题型", "题干", "答案"], ["单选", "甲,乙;丙|丁", "A"], ["判断", "对吗", "对"]]
    text = "\n".join(delimiter.join(f'"{c}"' if delimiter in c else c for c in line) for line in lines)
    table = tables.read_table("a.csv", text.encode("utf-16") if delimiter == "\t" else text.encode(), COLUMNS, REQUIRED)
    assert [r["stem"] for r in table.rows] == ["甲,乙;丙|丁", "对吗"]


def test_an_undecodable_csv_is_refused_in_chinese():
    with pytest.raises(tables.TableError, match="无法识别 CSV 文件的编码"):
        tables.read_table("a.csv", b"\x81\x30\xff\xfe\xff" * 3 + b"\x80", COLUMNS, REQUIRED)


@pytest.mark.parametrize("name, data, words", [
    ("a.xlsx", b"PK\x03\x04 not a zip", "文件已损坏"),
    ("a.xls", b"\xd0\xcf\x11\xe0 not a compound file", "文件已损坏"),
    ("a.ods", b"plain text", "文件已损坏"),
    ("a.xlsx", b"", "文件已损坏"),
    ("a.docx", b"PK", "不支持的文件类型（.docx）"),
])
def test_unreadable_files_are_refused_in_chinese(name, data, words):
    with pytest.raises(tables.TableError, match=words):
        tables.read_sheets(name, data)


def _minimal_xlsx(sheet_xml: str) -> bytes:
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr("_rels/.rels", f'<Relationships xmlns="{pkg}"><Relationship Id="r1" '
                                        f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        archive.writestr("xl/workbook.xml", f'<workbook {NS} xmlns:r="{rel}"><sheets><sheet name="S" sheetId="1" r:id="r1"/>'
                                            "</sheets></workbook>")
        archive.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{pkg}"><Relationship Id="r1" '
                                                       f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        archive.writestr("xl/worksheets/sheet1.xml", f"<worksheet {NS}><sheetData>{sheet_xml}</sheetData></worksheet>")
    return buffer.getvalue()


def test_a_two_cell_file_calamine_would_grow_to_512_gb_is_refused_without_harm():
    """Cells at A1 and XFD1048576: calamine asks for the whole grid and aborts its process, here the child's."""
    data = _minimal_xlsx('<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with pytest.raises(tables.TableError, match="内存或时间上限"):
        tables.read_sheets("a.xlsx", data)
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss <= max(before, tables.CHILD_MEMORY_MB * 1024)


def test_a_shared_string_copied_into_every_cell_is_refused():
    """20,000 cells sharing one 30,000-character string: 1.1 GB inside calamine, from 7 KB."""
    rows = "".join(f'<row r="{r}">' + '<c t="s"><v>0</v></c>' * 10 + "</row>" for r in range(1, 2001))
    data = _minimal_xlsx(rows)
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(b"</Relationships>", (
                    b'<Relationship Id="r2" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings"/></Relationships>'))
            target.writestr(entry, content)
        target.writestr("xl/sharedStrings.xml", f"<sst {NS}><si><t>{'x' * 30_000}</t></si></sst>")
    assert len(buffer.getvalue()) < 20_000
    with pytest.raises(tables.TableError, match="内存或时间上限"):
        tables.read_sheets("a.xlsx", buffer.getvalue())


def test_a_zip_bomb_is_refused_before_any_parser_sees_it(monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", bytes(100 * 2**20))
    monkeypatch.setattr(tables, "_read_in_child", lambda *a: pytest.fail("the bomb reached the parser"))
    with pytest.raises(tables.TableError, match="解压后约 100 MB"):
        tables.read_sheets("a.xlsx", buffer.getvalue())


def test_rows_beyond_the_limit_refuse_the_file():
    rows = [["题型", "题干", "答案"]] + [["判断", f"题{i}。", "对"] for i in range(6)]
    assert len(tables.read_table("a.xlsx", workbook(("S", rows)), COLUMNS, REQUIRED, max_rows=6).rows) == 6
    with pytest.raises(tables.TableError, match="表格超过 5 行（不含表头）"):
        tables.read_table("a.xlsx", workbook(("S", rows)), COLUMNS, REQUIRED, max_rows=5)
    text = "\n".join(",".join(r) for r in rows).encode()
    with pytest.raises(tables.TableError, match="超过 5 行"):
        tables.read_table("a.csv", text, COLUMNS, REQUIRED, max_rows=5)


def test_a_server_that_cannot_start_the_reader_says_so_in_chinese(monkeypatch):
    monkeypatch.setattr(tables.sys, "executable", "/nonexistent/python")
    with pytest.raises(tables.TableError, match="服务器暂时无法读取表格文件"):
        tables.read_sheets("a.xlsx", workbook(("S", [["题型"]])))
