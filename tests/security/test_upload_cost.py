"""Uploads cost a bounded amount of CPU: a workbook's declared size and cell count are checked before it is
parsed, text bank files are capped in lines, questions and answer markers, and a legitimate file near the
upload limit still imports. Import previews nobody confirms expire and are deleted.

Speed is asserted structurally (the sheet was never handed to the parser) or with CPU-time budgets far
above what the code needs (a few times what a shared, loaded CI machine takes; an unbounded parse of these
files takes minutes), so a busy machine does not turn them red. `python -m bench uploadcost` measures.
"""

from __future__ import annotations

import functools
import io
import os
import random
import resource
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Question, User
from learnhub.services.bank import formats as bank_formats, question_bank
from learnhub.services.sheets import package_check, tables, uploads
from learnhub.services.bank.files import BankQuestion
from learnhub.services.bank.formats import export_excel
from learnhub.services.bank.formats.common import MAX_LINES, MAX_QUESTIONS

from .conftest import count_rows
from .test_uploads import CJK, HEADER, NS, _messages, _post_bank, _post_members, minimal_xlsx, sheet

SHEET = "xl/worksheets/sheet1.xml"


def _worksheet(body: str, dimension: str | None = None, prefix: str = "") -> str:
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns{":" + prefix if prefix else ""}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    dim = f'<{p}dimension ref="{dimension}"/>' if dimension else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet {xmlns}>{dim}<{p}sheetData>{body}</{p}sheetData></{p}worksheet>'


@functools.cache
def empty_cells_bomb(dimension: str | None = "A1:XFD14000") -> bytes:
    """The reported file: 14.5 million empty cells (58 MB of XML, under the unpacked-size cap) in ~60 KB."""
    data = minimal_xlsx(_worksheet("<row>" + "<c/>" * 14_500_000 + "</row>", dimension))
    assert len(data) < 100_000
    return data


@functools.cache
def prefixed_cells_bomb() -> bytes:
    """The same with namespace-prefixed cells (`<x:c/>`), which a count of `<c` alone would miss."""
    return minimal_xlsx(_worksheet("<x:row>" + "<x:c/>" * 9_000_000 + "</x:row>", prefix="x"))


@functools.cache
def shared_strings_bomb() -> bytes:
    """A one-cell sheet whose shared-strings table holds 10 million empty entries."""
    base = minimal_xlsx(sheet([HEADER]))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(b"</Relationships>", (
                    b'<Relationship Id="rId9" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings"/></Relationships>'))
            target.writestr(entry, content)
        target.writestr("xl/sharedStrings.xml", f"<sst {NS}>" + "<si/>" * 10_000_000 + "</sst>")
    return out.getvalue()


@pytest.fixture
def parsed_parts(monkeypatch) -> list[str]:
    """The workbooks handed to the parser (calamine, in its child process): SHEET for each."""
    seen: list[str] = []
    original = tables._read_in_child

    def recording(*args):
        seen.append(SHEET)
        return original(*args)

    monkeypatch.setattr(tables, "_read_in_child", recording)
    return seen


def _process_and_children_cpu() -> float:
    """CPU of this process and of the children it waited for: spreadsheets are parsed in a child process."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _cpu(action) -> tuple[float, object]:
    started = _process_and_children_cpu()
    try:
        result = action()
    except Exception as exc:  # noqa: BLE001 - the caller looks at what came back
        result = exc
    return _process_and_children_cpu() - started, result


# --- workbooks: refused before parsing --------------------------------------------------------------------


HOSTILE_WORKBOOKS = {
    "14.5 M empty cells declaring A1:XFD14000": (lambda: empty_cells_bomb(), "A1:XFD14000"),
    "14.5 M empty cells, no dimension": (lambda: empty_cells_bomb(None), "单元格超过"),
    "9 M prefixed cells": (prefixed_cells_bomb, "XML 标记"),
    "10 M shared strings": (shared_strings_bomb, "XML 标记"),
}


@pytest.mark.parametrize("case", list(HOSTILE_WORKBOOKS))
def test_hostile_workbooks_are_refused_before_the_sheet_is_parsed(parsed_parts, case):
    build, words = HOSTILE_WORKBOOKS[case]
    data = build()
    spent, result = _cpu(lambda: uploads.read_table("名单.xlsx", data))
    assert isinstance(result, uploads.UploadError), result
    assert words in str(result) and CJK.search(str(result))
    assert SHEET not in parsed_parts and "xl/sharedStrings.xml" not in parsed_parts
    assert spent < 3.0, f"{case}: {spent:.2f} s of CPU to refuse"


def test_the_reported_file_is_refused_by_both_imports_in_chinese(app, world, login, folder):
    """The 62 KB file of the report, through the secretary's member import and the organiser's bank import."""
    data = empty_cells_bomb()
    with app.app_context():
        users, questions = count_rows(User), count_rows(Question)
    for client, post, name in ((login(world.login["sec_a1"]), _post_members, "名单.xlsx"),
                               (login(world.login["org_a"]), _post_bank, "题库.xlsx")):
        spent, response = _cpu(lambda: post(client, name, data))  # noqa: B023 - called at once
        message = _messages(response.get_data(as_text=True))
        assert response.status_code == 200 and "A1:XFD14000" in message and "超过上限" in message, message
        assert spent < 3.0, f"{name}: {spent:.2f} s of CPU"
    with app.app_context():
        assert (count_rows(User), count_rows(Question)) == (users, questions)


def test_the_cell_limit_is_exact(parsed_parts):
    """One cell under the limit is read; one over it is refused, before parsing."""
    def workbook(cells: int) -> bytes:
        return minimal_xlsx(_worksheet('<row r="1"><c t="inlineStr"><is><t>姓名</t></is></c>' + "<c/>" * (cells - 1) + "</row>"))

    assert uploads.read_table("名单.xlsx", workbook(package_check.MAX_CELLS)) == [["姓名"]]
    assert SHEET in parsed_parts
    parsed_parts.clear()
    with pytest.raises(uploads.UploadError, match="单元格超过"):
        uploads.read_table("名单.xlsx", workbook(package_check.MAX_CELLS + 1))
    assert SHEET not in parsed_parts


def test_a_declared_row_count_over_the_limit_is_refused_before_parsing(parsed_parts):
    last = uploads.MAX_ROWS + tables.HEADER_ROWS  # title rows and the header may come before MAX_ROWS rows
    data = minimal_xlsx(sheet([HEADER], dimension=f"A1:E{last + 1}"))
    with pytest.raises(uploads.UploadError, match=f"超过上限 {last} 行"):
        uploads.read_table("名单.xlsx", data)
    assert SHEET not in parsed_parts


def test_a_cell_longer_than_excel_allows_is_refused():
    data = minimal_xlsx(sheet([HEADER, ["x" * (tables.MAX_CELL_CHARS + 1)]]))
    with pytest.raises(uploads.UploadError, match="32767"):
        uploads.read_table("名单.xlsx", data)


def test_what_excel_stores_is_read_as_before():
    """Shared strings with rich text and phonetic guides, numbers, booleans, formulas' cached results, gaps."""
    strings = (f'<sst {NS}><si><t>张三</t></si><si><r><t>第一</t></r><r><t>支部</t></r>'
               '<rPh sb="0" eb="1"><t>ダイイチ</t></rPh></si></sst>')
    body = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>'
            '<row r="3"><c r="A3"><v>13800000001</v></c><c r="B3"><v>1.5</v></c><c r="C3" t="b"><v>1</v></c>'
            '<c r="D3" t="str"><f>A1&amp;"x"</f><v>张三x</v></c><c r="AF3"><v>9</v></c></row>')
    base = minimal_xlsx(_worksheet(body))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(b"</Relationships>", (
                    b'<Relationship Id="rId9" Target="/xl/sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings"/></Relationships>'))
            target.writestr(entry, content)
        target.writestr("xl/sharedStrings.xml", strings)
    sheets = tables.read_sheets("名单.xlsx", out.getvalue(), max_rows=10, max_columns=40)
    assert [s.rows for s in sheets] == [[(1, ["张三", "", "第一支部"]), (3, ["13800000001", "1.5", "TRUE", "张三x", *[""] * 27, "9"])]]
    assert uploads.read_table("名单.xlsx", out.getvalue()) == [["张三", "", "第一支部"], ["13800000001", "1.5", "TRUE", "张三x"]]


# --- a legitimate file near the upload limit -----------------------------------------------------------------


@functools.cache
def large_bank_workbook() -> bytes:
    """About 4.5 MB of real-looking questions: long Chinese stems, options and explanations."""
    rnd = random.Random(12)
    alphabet = [chr(c) for c in range(0x4E00, 0x9FA5)]

    def words(n: int) -> str:
        return "".join(rnd.choices(alphabet, k=n))

    questions = [
        BankQuestion(key=f"load-{i:05d}", kind="single", stem=words(60) + "？", options=tuple(words(12) for _ in range(4)),
                     answer=(i % 4,), explanation=words(90), article="第一条", point="入党条件", difficulty=1 + i % 3,
                     version="2022", source="")
        for i in range(9_000)
    ]
    data = export_excel(questions)
    assert 4 * 2**20 < len(data) < 5 * 2**20 - 4096, len(data)  # under the 5 MB upload limit with the form
    return data


def test_a_legitimate_workbook_near_the_upload_limit_still_imports(app, world, login, folder):
    data = large_bank_workbook()
    spent, bank = _cpu(lambda: bank_formats.parse_file("题库.xlsx", data, _points(app)))
    assert bank.problems == [] and len(bank.questions) == 9_000
    assert spent < 5.0, f"{spent:.2f} s of CPU to read {len(data) // 1024} KB"
    c = login(world.login["org_a"])
    page = _post_bank(c, "题库.xlsx", data).get_data(as_text=True)
    assert "导入预览" in page and "<b>9000</b>新增" in page
    assert c.post("/admin/questions/import/confirm", follow_redirects=True).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question).where(Question.key.like("load-%"))) == 9_000


def _points(app):
    with app.app_context():
        return question_bank.db_points()


# --- text formats ------------------------------------------------------------------------------------------


def test_text_bank_files_are_capped_in_lines_questions_and_markers(app, world):
    points = _points(app)
    gift_question = "// learnhub: point=入党条件\n::q::题{T}\n\n"
    cases = {
        "GIFT, too many lines": ("题库.gift", "x\n" * (MAX_LINES + 1), "行"),
        "Aiken, too many lines": ("题库.txt", "A. x\r" * (MAX_LINES + 1), "行"),
        "GIFT, too many questions": ("题库.gift", "::q::题{T}\n\n" * (MAX_QUESTIONS + 1), f"超过 {MAX_QUESTIONS} 道"),
        "Aiken, too many questions": ("题库.txt", "题\nA. 甲\nB. 乙\nANSWER: A\n" * (MAX_QUESTIONS + 1), "道"),
        "GIFT, one question with a million options": ("题库.gift", "题{" + "~a " * 1_000_000 + "=b}", "= ~ #"),
        "GIFT, many questions with many options": ("题库.gift", ("题{" + "~a " * 150 + "=b}\n\n") * 2000, "= ~ #"),
        "GIFT, 5 MB of answer markers": ("题库.gift", gift_question + "题{" + "~" * 5_000_000 + "}", "= ~ #"),
    }
    for case, (name, text, words) in cases.items():
        spent, bank = _cpu(lambda: bank_formats.parse_file(name, text.encode(), points, "入党条件"))  # noqa: B023
        messages = " ".join(p.message for p in bank.problems)
        assert words in messages and CJK.search(messages) and not bank.questions, (case, messages)
        assert spent < 3.0, f"{case}: {spent:.2f} s of CPU"


@pytest.mark.parametrize("name, text", [("题库.gift", "// learnhub: point=入党条件\n::q::党员\x00须履行义务吗？{T}\n"),
                                        ("题库.txt", "题\x00干\nA. 甲\nB. 乙\nC. 丙\nANSWER: A\n")])
def test_a_text_bank_file_with_a_nul_character_is_refused(app, world, login, folder, name, text):
    """PostgreSQL refuses NUL in text: the import would have failed with a 500 at the confirmation."""
    c = login(world.login["org_a"])
    with app.app_context():
        before = count_rows(Question)
    message = _messages(_post_bank(c, name, text.encode()).get_data(as_text=True))
    assert "空字符" in message, message
    assert not folder.exists() or not list(folder.iterdir())
    with app.app_context():
        assert count_rows(Question) == before


def test_a_text_bank_file_at_the_question_limit_is_read_in_bounded_time(app, world):
    text = "".join(f"// learnhub: point=入党条件\n::q{i}::第 {i} 题：党员须履行义务吗？{{T####党章第三条。}}\n\n"
                   for i in range(MAX_QUESTIONS))
    spent, bank = _cpu(lambda: bank_formats.parse_file("题库.gift", text.encode(), _points(app)))
    assert bank.problems == [] and len(bank.questions) == MAX_QUESTIONS
    assert spent < 5.0, f"{spent:.2f} s of CPU"


def test_a_five_megabyte_csv_costs_little(app):
    for data in (b"," * 5 * 2**20, b"\n" * 5 * 2**20, "姓名,党员编号\n".encode() + b"a,b\n" * (5 * 2**18)):
        spent, result = _cpu(lambda: uploads.read_table("名单.csv", data))  # noqa: B023
        assert isinstance(result, (list, uploads.UploadError))
        assert spent < 3.0, f"{spent:.2f} s of CPU"


# --- previews that nobody confirms --------------------------------------------------------------------------


@pytest.fixture
def folder(app, tmp_path) -> Path:
    """This test's own instance folder, so previews of other tests do not show up."""
    app.instance_path = str(tmp_path)
    return tmp_path / "uploads"


def _good_bank_file(app) -> bytes:
    with app.app_context():
        questions = [question_bank.to_bank_question(q) for q in db.session.scalars(select(Question))]
    return export_excel(questions)


def _age(path: Path, seconds: float) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def test_a_confirmation_after_the_preview_expired_asks_to_upload_again(app, world, login, folder):
    c = login(world.login["admin"])  # the built-in bank's export: only admins import it
    assert "导入预览" in _post_bank(c, "题库.xlsx", _good_bank_file(app)).get_data(as_text=True)
    (kept,) = list(folder.iterdir())
    _age(kept, 61 * 60)
    with app.app_context():
        before = db.session.scalar(select(func.max(Question.id)))
    page = c.post("/admin/questions/import/confirm", follow_redirects=True).get_data(as_text=True)
    assert "已过期" in page and "请重新上传" in page
    assert not kept.exists()
    with app.app_context():
        assert db.session.scalar(select(func.max(Question.id))) == before


def test_a_confirmation_within_the_hour_still_imports(app, world, login, folder):
    c = login(world.login["admin"])  # the built-in bank's export: only admins import it
    _post_bank(c, "题库.xlsx", _good_bank_file(app))
    (kept,) = list(folder.iterdir())
    _age(kept, 59 * 60)
    assert "导入完成" in c.post("/admin/questions/import/confirm", follow_redirects=True).get_data(as_text=True)
    assert not kept.exists()


def test_every_upload_sweeps_expired_previews(app, world, login, folder):
    folder.mkdir(parents=True, exist_ok=True)
    stale = [folder / f"{n:032x}" for n in range(5)]
    for path in stale:
        path.write_bytes(b"x" * 5 * 2**20)
        _age(path, 2 * 3600)
    fresh = folder / f"{99:032x}"
    fresh.write_bytes(b"still waiting")
    c = login(world.login["org_a"])
    _post_bank(c, "题库.exe", b"not even a bank file")  # refused, and still sweeps
    assert not any(p.exists() for p in stale) and fresh.exists()


def test_the_sweep_command_deletes_expired_previews(app, runner, folder):
    folder.mkdir(parents=True, exist_ok=True)
    old, new = folder / f"{1:032x}", folder / f"{2:032x}"
    for path in (old, new):
        path.write_bytes(b"x")
    _age(old, 3 * 3600)
    result = runner.invoke(args=["uploads", "sweep"])
    assert result.exit_code == 0 and "1 expired import previews deleted" in result.output
    assert not old.exists() and new.exists()
