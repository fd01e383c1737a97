"""The CPU an upload costs to read: hostile files at the limits, and a legitimate file near the upload size.

  python -m bench uploadcost [--rounds N]

No database and no server: the readers behind the member and bank imports are called directly. Printed
per file: its size, what the reader answered (rows, questions, or the refusal), and the CPU time of this
process and of the spreadsheet reader's child process, best and worst of N rounds. Every file should take under 2 s of CPU, refused or not (issue 12).
"""

from __future__ import annotations

import io
import random
import resource
import time
import zipfile

SHEET_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PARTS = {
    "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
    "_rels/.rels": f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   f'<Relationship Id="r1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<workbook {SHEET_NS} xmlns:r="{_REL}"><sheets><sheet name="1" sheetId="1" r:id="r1"/>'
                       "</sheets></workbook>",
    "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                                  f'<Relationship Id="r1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
                                  f'<Relationship Id="r2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
                                  "</Relationships>",
}


def workbook(rows_xml: str, strings: list[str] | None = None, dimension: str = "") -> bytes:
    """A one-sheet workbook around `rows_xml` (and a shared-strings table)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        dim = f'<dimension ref="{dimension}"/>' if dimension else ""
        archive.writestr("xl/worksheets/sheet1.xml", f"<worksheet {SHEET_NS}>{dim}<sheetData>{rows_xml}</sheetData></worksheet>")
        archive.writestr("xl/sharedStrings.xml", f"<sst {SHEET_NS}>" + "".join(f"<si><t>{s}</t></si>" for s in strings or []) + "</sst>")
    return buffer.getvalue()


def cases() -> dict[str, tuple[str, bytes]]:
    """Name -> (upload file name, content)."""
    from learnhub.services.sheets import package_check
    from learnhub.services.bank.files import BankQuestion
    from learnhub.services.bank.formats import export_excel
    from learnhub.services.bank.formats.common import MAX_QUESTIONS

    n = package_check.MAX_CELLS
    inline = "".join(f'<row r="{r + 1}">' + '<c t="inlineStr"><is><t>x</t></is></c>' * 15 + "</row>" for r in range(n // 15))
    shared = "".join(f'<row r="{r + 1}">' + "".join(f'<c t="s"><v>{r * 12 + i}</v></c>' for i in range(12)) + "</row>"
                     for r in range(n * 8 // 10 // 12))
    rnd = random.Random(1)
    alphabet = [chr(c) for c in range(0x4E00, 0x9FA5)]

    def words(k: int) -> str:
        return "".join(rnd.choices(alphabet, k=k))

    bank = [BankQuestion(f"b-{i}", "single", words(60), tuple(words(12) for _ in range(4)), (0,), words(90), "第一条",
                         "入党条件", 1, "2022", "") for i in range(9_000)]
    gift = "".join(f"// learnhub: point=入党条件\n::q{i}::第 {i} 题？{{=甲 ~乙 ~丙 ~丁####解析}}\n\n" for i in range(MAX_QUESTIONS))
    return {
        "14.5 M empty cells, A1:XFD14000": ("a.xlsx", workbook("<row>" + "<c/>" * 14_500_000 + "</row>", dimension="A1:XFD14000")),
        "14.5 M empty cells, no dimension": ("a.xlsx", workbook("<row>" + "<c/>" * 14_500_000 + "</row>")),
        f"{n:,} inline-string cells": ("a.xlsx", workbook(inline)),
        f"{n * 8 // 10:,} cells + as many shared strings": ("a.xlsx", workbook(shared, [str(i) for i in range(n * 8 // 10)])),
        "junk tags up to the tag budget": ("a.xlsx", workbook("<row>" + "<x/>" * (package_check.MAX_TAGS - 50) + "</row>")),
        "cells at A1 and XFD1048576 (calamine: 512 GB)": ("a.xlsx", workbook(
            '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')),
        "20,000 cells sharing a 30,000-char string": ("a.xlsx", workbook("".join(
            f'<row r="{r}">' + '<c t="s"><v>0</v></c>' * 10 + "</row>" for r in range(1, 2001)), ["x" * 30_000])),
        "bank template, 9,000 questions": ("a.xlsx", export_excel(bank)),
        f"GIFT, {MAX_QUESTIONS:,} questions": ("a.gift", gift.encode()),
        "CSV, 5 MB of commas": ("a.csv", b"," * 5 * 2**20),
    }


def read(name: str, data: bytes) -> str:
    """Read an upload as the imports do; say what came of it."""
    from learnhub.services.bank import formats as bank_formats
    from learnhub.services.sheets import uploads
    from learnhub.services.bank.files import BankPoint

    if name.endswith(".csv"):
        try:
            return f"{len(uploads.read_table(name, data))} rows"
        except uploads.UploadError as exc:
            return f"refused: {exc}"
    points = {"入党条件": BankPoint("入党条件", "第一章 党员", "第一条", "")}
    bank = bank_formats.parse_file(name, data, points)
    refused = [p.message for p in bank.problems if not p.key]
    return f"refused: {refused[0]}" if refused and not bank.questions else f"{len(bank.questions)} questions"


def _cpu() -> float:
    """CPU time of this process and of the children it waited for (the spreadsheet reader runs in one)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def run(rounds: int = 3) -> list[dict]:
    """Time each case; print one line per case."""
    out = []
    for label, (name, data) in cases().items():
        times = []
        for _ in range(rounds):
            started = _cpu()
            answer = read(name, data)
            times.append(_cpu() - started)
        mark = "✓" if max(times) < 2.0 else "✗"
        print(f"{mark} {label:42} {len(data) / 1024:8.0f} KB  {min(times):5.2f}–{max(times):5.2f} s CPU  {answer[:70]}",
              flush=True)
        out.append({"case": label, "bytes": len(data), "cpu_s": times, "answer": answer})
    return out
