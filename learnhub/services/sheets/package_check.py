"""Check a zipped spreadsheet (.xlsx, .ods) before it is parsed, at a cost known in advance.

Anyone who may import (a secretary, an organiser) can upload a workbook, so its cost must not depend on
what it claims. Before calamine sees the file (in a capped child process, see sheet_child.py):

1. the zip: number of parts and their declared unpacked sizes (zipfile stops reading a part at its
   declared size and then fails the CRC check, so a lie about sizes only makes the file "corrupt");
2. every XML part is streamed out of the zip once and its markup counted: tags (`<`), and in each
   worksheet the cells (`<c`) and the declared `<dimension ref>`. A DOCTYPE or ENTITY is refused.

The common bombs (millions of empty cells in a few KB, a sheet claiming A1:XFD14000, ten million
shared strings) are refused here with a message that says what to fix, in a fraction of a second;
whatever gets past (a shared string copied into every cell, a binary .xls) meets the child's limits.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib

MAX_ZIP_ENTRIES = 2_000
MAX_UNPACKED_BYTES = 60 * 1024 * 1024
# 20,000 rows of 15 columns: a full question bank; the reader refuses more rows anyway.
MAX_CELLS = 300_000
# Tags in the whole package: a cell is 2 (empty) to 6 (inline string) tags, a shared string 2 to 4.
MAX_TAGS = 2_000_000
_CHUNK = 1 << 20
_CELL_STARTS = (b"<c ", b"<c>", b"<c/", b"<c\t", b"<c\n", b"<c\r")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s[^>]*?\bref\s*=\s*[\"']([^\"']{1,40})[\"']")
_REF = re.compile(r"([A-Z]{1,3})?(\d{1,7})?")
_WORKSHEET = re.compile(r"xl/worksheets/[^/]+\.xml", re.IGNORECASE)

CORRUPT = "文件已损坏，或不是它的扩展名所说的表格文件（.xlsx、.xls、.ods）；请用 Excel 或 WPS 打开后另存为 .xlsx 再导入"


class PackageRefused(Exception):
    """A workbook refused before it was read; the message is shown to the uploader."""


def too_many_rows(max_rows: int) -> PackageRefused:
    return PackageRefused(f"表格超过 {max_rows} 行（不含表头），请拆分成几个文件再导入")


def check_package(data: bytes, max_row: int, budget: int = 1) -> None:
    """Refuse a zipped workbook that is damaged, hostile or too large, without parsing it.

    `max_row`: the last row number a worksheet may declare in its dimension. `budget` multiplies the
    size caps (unpacked bytes, cells, tags) for a trusted caller such as a command-line import.
    :raise PackageRefused: with a message in Chinese.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise PackageRefused(f"文件内部有 {len(entries)} 个部件，超过上限 {MAX_ZIP_ENTRIES}，不像正常的表格文件")
            unpacked = sum(entry.file_size for entry in entries)
            if unpacked > MAX_UNPACKED_BYTES * budget:
                raise PackageRefused(
                    f"文件解压后约 {unpacked // 2**20} MB，超过上限 {MAX_UNPACKED_BYTES * budget // 2**20} MB，请拆分后再导入"
                )
            counter = _Counter(budget)
            for entry in entries:
                if entry.filename.lower().endswith((".xml", ".rels")):
                    counter.scan(archive, entry.filename, max_row if _WORKSHEET.fullmatch(entry.filename) else None)
    except PackageRefused:
        raise
    # zipfile and zlib fail in many ways on a damaged file (RuntimeError and its subclasses cover an
    # unknown compression method and a newer zip version).
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error, OSError, ValueError,
            EOFError, KeyError, IndexError, RuntimeError, UnicodeError) as exc:
        raise PackageRefused(CORRUPT) from exc


class _Counter:
    """Tags counted over every part scanned so far: the budget is for the whole file."""

    def __init__(self, budget: int = 1) -> None:
        self.tags = 0
        self.max_cells, self.max_tags = MAX_CELLS * budget, MAX_TAGS * budget

    def scan(self, archive: zipfile.ZipFile, name: str, max_row: int | None) -> None:
        """Stream one part and count its tags; with `max_row` it is a worksheet: cells and dimension too."""
        tail, cells, dimension_seen = b"", 0, max_row is None
        with archive.open(name) as stream:
            while chunk := stream.read(_CHUNK):
                # A pattern split across two chunks is found in tail + chunk (the DOCTYPE and dimension
                # checks are yes/no, so the 8-byte tail may repeat; cells count with a tail shorter than
                # their pattern, so none is counted twice).
                window = tail + chunk
                if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                    raise PackageRefused(CORRUPT)
                if not dimension_seen:  # it comes before the cells, if at all
                    if match := _DIMENSION.search(window):
                        _check_dimension(match[1].decode("ascii", "replace"), max_row, self.max_cells)
                    dimension_seen = bool(match) or b"sheetData" in window
                if max_row is not None:
                    cells += sum((tail[-2:] + chunk).count(p) for p in _CELL_STARTS)
                    if cells > self.max_cells:
                        raise PackageRefused(f"表格中的单元格超过 {self.max_cells} 个，请删除多余的行列或拆分后再导入")
                self.tags += chunk.count(b"<")
                if self.tags > self.max_tags:
                    raise PackageRefused(f"文件结构异常（超过 {self.max_tags} 个 XML 标记），不像正常的表格文件，已拒绝")
                tail = window[-8:]


def _check_dimension(ref: str, max_row: int, max_cells: int = MAX_CELLS) -> None:
    """Refuse a sheet that declares more rows, or a larger area, than the limits allow."""
    rows, columns = _extent(ref)
    if rows > max_row:
        raise PackageRefused(f"表格的已用范围是 {ref}，超过上限 {max_row} 行；请删除多余的空行后另存，或拆分成几个文件再导入")
    if rows * columns > max_cells:
        raise PackageRefused(
            f"表格的已用范围是 {ref}（约 {rows * columns} 个单元格），超过上限 {max_cells}；"
            "如果实际数据没有这么多，请在 Excel 中删除多余的空行和空列后另存，再导入"
        )


def _extent(ref: str) -> tuple[int, int]:
    """(last row, last column's number) of a range such as A1:XFD14000 (14000, 16384); (0, 0) if unreadable."""
    corners = [_REF.fullmatch(part.strip().replace("$", "").upper()) for part in ref.split(":")[:2]]
    if not all(corners):
        return 0, 0
    rows = [int(c[2]) for c in corners if c[2]]
    columns = [_column_index(c[1]) for c in corners if c[1]]
    return max(rows, default=0), max(columns, default=0) + 1


def _column_index(letters: str) -> int:
    """0 for A, 25 for Z, 26 for AA ... (at most three letters, as in Excel)."""
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1
