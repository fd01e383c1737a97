"""Read the first sheet of an uploaded .xlsx as rows of values, at a cost known before parsing starts.

Anyone who may import (a secretary, an organiser) can upload a workbook, so its cost must not depend
on what it claims. Before any XML is parsed:

1. the zip: number of parts and their declared unpacked sizes (zipfile stops reading a part at its
   declared size and then fails the CRC check, so a lie about sizes only makes the file "corrupt");
2. every part that will be parsed (the workbook, its relationships, the shared strings, the first
   sheet) is streamed out of the zip once and its markup counted: tags (`<`), and in the sheet the
   cells (`<c`) and the declared `<dimension ref>`. A DOCTYPE is refused (no entities, no DTDs).

Only then is it parsed, by expat with a handful of callbacks, and the parser stops at the same cell
budget. openpyxl is not used to read: it spent ~3 µs per empty cell (a 62 KB file of 14.5 million
`<c/>` took 30 s of CPU) and ~14 µs per real cell (a 5.7 MB, 170,000-cell question bank: 2.4 s);
this reader takes about a quarter of that, so a file within the budgets below parses in well under
2 s of CPU even on a busy two-core server (bench: `python -m bench uploadcost`).
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from xml.parsers import expat

MAX_ZIP_ENTRIES = 2_000
MAX_UNPACKED_BYTES = 60 * 1024 * 1024
# 20,000 rows of 17 columns (the question-bank template, full) is 340,000 cells.
MAX_CELLS = 300_000
# Tags per parsed part: a cell is 2 (empty) to 6 (inline string) tags, a shared string 2 to 4.
MAX_TAGS = 2_000_000
# Excel itself keeps at most 32,767 characters in a cell: a longer one was not written by Excel.
MAX_CELL_CHARS = 32_767
_CHUNK = 1 << 20
_CELL_STARTS = (b"<c ", b"<c>", b"<c/", b"<c\t", b"<c\n", b"<c\r")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s[^>]*?\bref\s*=\s*[\"']([^\"']{1,40})[\"']")
_REF = re.compile(r"([A-Z]{1,3})?(\d{1,7})?")
_OFFICE_DOCUMENT = "/officeDocument"
_WORKSHEET = "/worksheet"
_SHARED_STRINGS = "/sharedStrings"

CORRUPT = "文件已损坏，或不是 Excel（.xlsx）文件；旧版 .xls 请在 Excel 中另存为 .xlsx"


class XlsxRefused(Exception):
    """A workbook refused before or while it was read; the message is shown to the uploader."""


class TooManyRows(XlsxRefused):
    """The sheet has (or declares) rows beyond the limit."""


def too_many_rows(max_rows: int) -> TooManyRows:
    return TooManyRows(f"表格超过 {max_rows - 1} 行（不含表头），请拆分成几个文件再导入")


def read_first_sheet(data: bytes, max_rows: int, max_columns: int) -> list[tuple[int, list]]:
    """Return the non-empty rows of the first worksheet as (row number, values), values by column.

    Values are what Excel shows as stored: str, int, float or bool; empty cells are None. Columns from
    `max_columns` on are ignored; a non-empty row numbered above `max_rows` refuses the file.
    :raise XlsxRefused: with a message in Chinese, for a corrupt, hostile or oversized workbook.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            package = _Package(archive)
            sheet, strings_part = _locate_first_sheet(package)
            package.scan(sheet, max_rows=max_rows)
            if strings_part:
                package.scan(strings_part)
            strings = _read_strings(package, strings_part) if strings_part else []
            return _read_rows(package, sheet, strings, max_rows, max_columns)
    except XlsxRefused:
        raise
    # zipfile, zlib and expat fail in many ways on a damaged file (RuntimeError and its subclasses cover an
    # unknown compression method and a newer zip version).
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error, expat.ExpatError, OSError, ValueError,
            EOFError, KeyError, IndexError, RuntimeError, UnicodeError) as exc:
        raise XlsxRefused(CORRUPT) from exc


class _Package:
    """The zip, checked as a whole when opened, and the parts read from it, each counted before it is parsed."""

    def __init__(self, archive: zipfile.ZipFile):
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise XlsxRefused(f"文件内部有 {len(entries)} 个部件，超过上限 {MAX_ZIP_ENTRIES}，不像正常的 Excel 文件")
        unpacked = sum(entry.file_size for entry in entries)
        if unpacked > MAX_UNPACKED_BYTES:
            raise XlsxRefused(
                f"文件解压后约 {unpacked // 2**20} MB，超过上限 {MAX_UNPACKED_BYTES // 2**20} MB，请拆分后再导入"
            )
        self.archive = archive
        self.tags = 0  # in every part scanned so far: the budget is for the whole file

    def scan(self, name: str, max_rows: int | None = None) -> None:
        """Stream one part out of the zip and count its tags; refuse DTDs and a file over the tag budget.

        With `max_rows` the part is the sheet: its declared dimension and its cells are checked too.
        """
        tail, cells, dimension_seen = b"", 0, max_rows is None
        with self.archive.open(name) as stream:
            while chunk := stream.read(_CHUNK):
                # A pattern split across two chunks is found in tail + chunk (the DOCTYPE and dimension
                # checks are yes/no, so the 8-byte tail may repeat; cells count with a tail shorter than
                # their pattern, so none is counted twice).
                window = tail + chunk
                if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                    raise XlsxRefused(CORRUPT)
                if not dimension_seen:  # it comes before the cells, if at all
                    if match := _DIMENSION.search(window):
                        _check_dimension(match[1].decode("ascii", "replace"), max_rows)
                    dimension_seen = bool(match) or b"sheetData" in window
                if max_rows is not None:
                    cells += sum((tail[-2:] + chunk).count(p) for p in _CELL_STARTS)
                    if cells > MAX_CELLS:
                        raise XlsxRefused(f"表格中的单元格超过 {MAX_CELLS} 个，请删除多余的行列或拆分后再导入")
                self.tags += chunk.count(b"<")
                if self.tags > MAX_TAGS:
                    raise XlsxRefused(f"文件结构异常（超过 {MAX_TAGS} 个 XML 标记），不像正常的 Excel 文件，已拒绝")
                tail = window[-8:]

    def parse(self, name: str, start, end, text) -> None:
        """Parse one part with expat (no DTDs, no entities), streaming it out of the zip."""
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartDoctypeDeclHandler = _refuse_dtd
        parser.EntityDeclHandler = _refuse_dtd
        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
        with self.archive.open(name) as stream:
            while chunk := stream.read(_CHUNK):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)


def _refuse_dtd(*_args) -> None:
    raise XlsxRefused(CORRUPT)


def _check_dimension(ref: str, max_rows: int) -> None:
    """Refuse a sheet that declares more rows, or a larger area, than the limits allow."""
    rows, columns = _extent(ref)
    if rows > max_rows:
        raise too_many_rows(max_rows)
    if rows * columns > MAX_CELLS:
        raise XlsxRefused(
            f"表格的已用范围是 {ref}（约 {rows * columns} 个单元格），超过上限 {MAX_CELLS}；"
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


# ---- parsing ----------------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag[tag.find(":") + 1:]


def _relationships(package: _Package, part: str) -> dict[str, tuple[str, str]]:
    """Id -> (type, part name) of a part's relationships (the `_rels/<name>.rels` beside it)."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", name + ".rels")
    found: dict[str, tuple[str, str]] = {}

    def start(tag: str, attrs: dict) -> None:
        if _local(tag) == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), path)

    package.scan(rels_name)
    package.parse(rels_name, start, None, None)
    return found


def _locate_first_sheet(package: _Package) -> tuple[str, str | None]:
    """The part names of the first worksheet (in the workbook's order) and of the shared strings."""
    book = next((p for t, p in _relationships(package, "").values() if t.endswith(_OFFICE_DOCUMENT)), None)
    if book is None:
        raise XlsxRefused(CORRUPT)
    rels = _relationships(package, book)
    order: list[str] = []

    def start(tag: str, attrs: dict) -> None:
        if _local(tag) == "sheet":
            order.extend(v for k, v in attrs.items() if _local(k) == "id")

    package.scan(book)
    package.parse(book, start, None, None)
    sheet = next((rels[i][1] for i in order if i in rels and rels[i][0].endswith(_WORKSHEET)), None)
    if sheet is None:
        raise XlsxRefused(CORRUPT)
    strings = next((p for t, p in rels.values() if t.endswith(_SHARED_STRINGS)), None)
    return sheet, strings


# What the readers below look for, by local name; any other tag is skipped at the cost of one dict lookup.
_CELL, _ROW, _TEXT, _PHONETIC, _ENTRY = 1, 2, 3, 4, 5
_CODES = {"c": _CELL, "row": _ROW, "v": _TEXT, "t": _TEXT, "rPh": _PHONETIC, "si": _ENTRY}


class _Tags(dict):
    """Tag name (perhaps prefixed, `x:c`) -> code; remembers at most a few hundred names."""

    def __missing__(self, tag: str) -> int:
        code = _CODES.get(_local(tag), 0)
        if len(self) < 512:
            self[tag] = code
        return code


def _read_strings(package: _Package, part: str) -> list[str]:
    """The shared strings table: each entry's text runs joined, phonetic guides (rPh) left out."""
    strings: list[str] = []
    tags = _Tags()
    parts: list[str] = []
    collecting, skip = False, 0

    def start(tag: str, _attrs) -> None:
        nonlocal parts, collecting, skip
        code = tags[tag]
        if code == _TEXT:
            collecting = not skip
        elif code == _ENTRY:
            parts = []
        elif code == _PHONETIC:
            skip += 1

    def end(tag: str) -> None:
        nonlocal collecting, skip
        code = tags[tag]
        if code == _TEXT:
            collecting = False
        elif code == _ENTRY:
            strings.append(_checked("".join(parts)))
            if len(strings) > MAX_CELLS:
                raise XlsxRefused(f"文件中的文本超过 {MAX_CELLS} 条，超过上限，请拆分后再导入")
        elif code == _PHONETIC:
            skip -= 1

    def text(data: str) -> None:
        if collecting:
            parts.append(data)

    package.parse(part, start, end, text)
    return strings


def _read_rows(package: _Package, part: str, strings: list[str], max_rows: int, max_columns: int):
    """The sheet's non-empty rows as (row number, values), within the row, column and cell limits."""
    rows: list[tuple[int, list]] = []
    tags = _Tags()
    values: dict[int, object] = {}
    parts: list[str] = []
    cells = row_number = skip = 0
    column, kind, in_cell, collecting = -1, "n", False, False

    def start(tag: str, attrs: dict) -> None:
        nonlocal cells, row_number, skip, column, kind, in_cell, collecting, values, parts
        code = tags[tag]
        if code == _CELL:
            cells += 1
            if cells > MAX_CELLS:  # the scan counted unprefixed cells; this counts every one
                raise XlsxRefused(f"表格中的单元格超过上限 {MAX_CELLS}，请删除多余的行列或拆分后再导入")
            ref = attrs.get("r")
            column = _cell_column(ref) if ref else column + 1
            kind, in_cell, parts = attrs.get("t", "n"), True, []
        elif code == _TEXT:
            collecting = in_cell and not skip
        elif code == _ROW:
            number = attrs.get("r", "")
            row_number = int(number) if number.isdigit() and len(number) <= 9 else row_number + 1
            values, column = {}, -1
        elif code == _PHONETIC:
            skip += 1

    def end(tag: str) -> None:
        nonlocal skip, in_cell, collecting
        code = tags[tag]
        if code == _TEXT:
            collecting = False
        elif code == _CELL:
            in_cell = False
            if 0 <= column < max_columns:
                value = _cell_value(kind, _checked("".join(parts)), strings)
                if value is not None and value != "":
                    values[column] = value
        elif code == _ROW:
            if values:
                if row_number > max_rows:
                    raise too_many_rows(max_rows)
                rows.append((row_number, [values.get(i) for i in range(max(values) + 1)]))
        elif code == _PHONETIC:
            skip -= 1

    def text(data: str) -> None:
        if collecting:
            parts.append(data)

    package.parse(part, start, end, text)
    return rows


def _checked(text: str) -> str:
    """The text of a cell or shared string, refused if no Excel could have written it."""
    if len(text) > MAX_CELL_CHARS:
        raise XlsxRefused(f"有单元格超过 {MAX_CELL_CHARS} 个字符（Excel 单元格的上限），文件可能已损坏或被改动过")
    return text


def _cell_value(kind: str, text: str, strings: list[str]):
    """A cell's value by its type, as Excel stored it (a formula's cached result, not the formula)."""
    if kind == "s":
        if not text.strip():
            return None
        index = int(text)
        if index < 0:
            raise IndexError(index)
        return strings[index]
    if kind == "b":
        return text.strip() in ("1", "true")
    if kind in ("inlineStr", "str", "e", "d"):
        return text
    text = text.strip()
    if not text:
        return None
    try:
        return float(text) if any(ch in text for ch in ".eEnN") else int(text)
    except ValueError:
        return text


def _cell_column(ref: str) -> int:
    """The column index of a cell reference (C5 -> 2); a reference beyond XFD gives a column past any limit."""
    letters = ref.rstrip("0123456789").upper()
    if not letters or len(letters) > 3 or not letters.isascii() or not letters.isalpha():
        return 1 << 20
    return _column_index(letters)
