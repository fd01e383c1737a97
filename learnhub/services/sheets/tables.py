"""Read an uploaded table (.xlsx, .xls, .ods or .csv) as rows under a header found by its column names.

Pure Python, no Flask. Any import built on a spreadsheet (questions, members, organisations) calls
`read_table(filename, data, columns, required)`: the header is looked for in the first HEADER_ROWS
non-empty rows of each visible sheet in turn (title rows and instruction sheets are passed over), its
cells matched against each column's names, and the rows below it come back with the row number Excel
shows and their cells as text as shown (1.0 is "1", a date 2024-05-01; control characters removed).

Spreadsheets are parsed by calamine in a child process capped in memory and CPU (sheet_child.py), after a
zip package has passed the cheap checks of package_check.py; CSV is decoded here (UTF-8 with or without
BOM, UTF-16 with BOM, GBK/GB18030) and its delimiter (, tab ; |) found from the first lines.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .. import ServiceError
from .package_check import PackageRefused, check_package
from .sheet_child import MAX_CELL_CHARS, clean

SUPPORTED = (".xlsx", ".xls", ".ods", ".csv")
MAX_ROWS = 20_000  # data rows under the header
MAX_COLUMNS = 64
HEADER_ROWS = 10
MAX_CELLS = 400_000  # non-empty cells in all sheets read
# The child's caps: far above what a legitimate file within MAX_CELLS needs (a 20,000-row bank: ~60 MB, 1 s).
CHILD_MEMORY_MB = 640
CHILD_CPU_SECONDS = 10
CHILD_WALL_SECONDS = 30
_CHILD = Path(__file__).with_name("sheet_child.py")
_DELIMITERS = (",", "\t", ";", "|")


class TableError(ServiceError):
    """The file cannot be read as a table; the message (Chinese) says why and what to do."""


@dataclass(frozen=True)
class Row:
    """One data row: its number as the spreadsheet shows it, and its cells by canonical column name."""

    number: int
    cells: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass
class Table:
    """The rows under the header found, and where that header was."""

    sheet: str  # the sheet's name; "" for CSV
    header_row: int
    columns: dict[str, int]  # canonical column -> 0-based index
    headers: dict[str, str]  # canonical column -> the header text as written in the file
    rows: list[Row] = field(default_factory=list)


@dataclass
class Sheet:
    """A sheet's non-empty rows, each (row number, cells as text); trailing blank cells dropped."""

    name: str
    visible: bool
    rows: list[tuple[int, list[str]]]


def normalise_header(text: str) -> str:
    """Fold a header cell for matching: width, case, spaces, `*`, a trailing colon and notes in brackets."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[(\[【].*?[)\]】]", "", text)
    return re.sub(r"[\s*:]+", "", text)


def read_table(filename: str, data: bytes, columns: Mapping[str, Sequence[str]], required: Sequence[str],
               max_rows: int = MAX_ROWS, budget: int = 1) -> Table:
    """Find the header and return the rows under it.

    `columns`: canonical name -> the header texts that mean it, the preferred (shown in messages) first;
    where two columns of a header mean the same, the one whose name comes earlier in the list wins.
    `required`: the canonical names a header must have. `budget` multiplies the size caps (cells, the
    package checks, the child's memory and CPU) for a trusted caller: a command-line import of a large roster.
    :raise TableError: unreadable, too large, or no header in the first HEADER_ROWS rows of any sheet.
    """
    sheets = read_sheets(filename, data, max_rows=max_rows, budget=budget)
    names: dict[str, tuple[str, int]] = {}  # folded header text -> (column, rank); the first column named wins
    for column, aliases in columns.items():
        for rank, alias in enumerate(aliases):
            names.setdefault(normalise_header(alias), (column, rank))
    best: tuple[int, str, int, list[str]] | None = None
    for sheet in sheets:
        if not sheet.visible:
            continue
        for number, values in sheet.rows[:HEADER_ROWS]:
            found = _match_header(values, names)
            missing = [c for c in required if c not in found]
            if not missing:
                return _table(sheet, number, values, found, max_rows)
            score = len(required) - len(missing)
            if score and (best is None or score > best[0]):
                best = (score, sheet.name, number, missing)
    need = "、".join(columns[c][0] for c in required)
    hint = ""
    if best is not None:
        where = f"「{best[1]}」表" if best[1] else ""
        hint = f"（最接近的是{where}第 {best[2]} 行，缺少：{'、'.join(columns[c][0] for c in best[3])}）"
    raise TableError(f"在前 {HEADER_ROWS} 行中没有找到表头：需要 {need} 列{hint}")


def _match_header(values: list[str], names: dict[str, tuple[str, int]]) -> dict[str, tuple[int, int]]:
    """Canonical column -> (index, rank of the name matched), the best-ranked (then leftmost) cell for each."""
    found: dict[str, tuple[int, int]] = {}
    for index, value in enumerate(values):
        hit = names.get(normalise_header(value)) if value else None
        if hit is not None and (hit[0] not in found or hit[1] < found[hit[0]][1]):
            found[hit[0]] = (index, hit[1])
    return found


def _table(sheet: Sheet, number: int, header: list[str], found: dict[str, tuple[int, int]], max_rows: int) -> Table:
    indexes = {column: index for column, (index, _) in found.items()}
    table = Table(sheet=sheet.name, header_row=number, columns=indexes,
                  headers={column: header[index] for column, index in indexes.items()})
    for row_number, values in sheet.rows:
        if row_number <= number:
            continue
        cells = {column: values[i] if i < len(values) else "" for column, i in indexes.items()}
        if any(cells.values()):
            table.rows.append(Row(row_number, cells))
    if len(table.rows) > max_rows:
        raise TableError(f"表格超过 {max_rows} 行（不含表头），请拆分成几个文件再导入")
    return table


def read_sheets(filename: str, data: bytes, max_rows: int = MAX_ROWS, max_columns: int = MAX_COLUMNS,
                budget: int = 1) -> list[Sheet]:
    """Every sheet of a spreadsheet (a CSV is one sheet named ""), rows as text as shown.

    A row numbered beyond max_rows + HEADER_ROWS refuses the file, as does a file over the cell caps.
    :raise TableError: with a message in Chinese.
    """
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    max_row = max_rows + HEADER_ROWS
    if suffix == ".csv":
        return [Sheet("", True, _read_csv(data, max_row, max_columns, MAX_CELLS * budget))]
    if suffix not in SUPPORTED:
        shown = suffix or "无扩展名"
        raise TableError(f"不支持的文件类型（{shown}）：请上传 .xlsx、.xls、.ods 或 .csv 文件")
    if suffix in (".xlsx", ".ods"):
        try:
            check_package(data, max_row, budget)
        except PackageRefused as exc:
            raise TableError(str(exc)) from None
    return _read_in_child(suffix, data, max_row, max_columns, budget)


_CHILD_ERRORS = {
    "corrupt": "文件已损坏，或不是它的扩展名所说的表格文件（.xlsx、.xls、.ods）；请用 Excel 或 WPS 打开后另存为 .xlsx 再导入",
    "encrypted": "文件设置了打开密码，无法读取：请在 Excel 或 WPS 中取消密码后另存，再导入",
    "cells": f"表格中的单元格超过 {MAX_CELLS} 个，请删除多余的行列或拆分后再导入",
    "memory": "读取表格超出了内存或时间上限（已用范围过大，或大量单元格重复同一段长文本）："
              "请在 Excel 中删除多余的空行和空列后另存，或拆分成几个文件再导入",
}


def _read_in_child(suffix: str, data: bytes, max_row: int, max_columns: int, budget: int = 1) -> list[Sheet]:
    """Run sheet_child.py on the file; a child killed by its limits refuses the file."""
    args = [sys.executable, "-I", str(_CHILD), suffix, str(max_row), str(max_columns), str(MAX_CELLS * budget),
            str(CHILD_MEMORY_MB * budget), str(CHILD_CPU_SECONDS * budget)]
    try:
        done = subprocess.run(args, input=data, capture_output=True, timeout=CHILD_WALL_SECONDS * budget, check=False)
        out = json.loads(done.stdout) if done.returncode == 0 else {"error": "memory"}
    except subprocess.TimeoutExpired:
        out = {"error": "memory"}
    except OSError:  # no interpreter to start (a broken install): say so rather than fail the request
        raise TableError("服务器暂时无法读取表格文件，请稍后再试；如果一直如此，请联系系统管理员") from None
    except ValueError:  # no JSON: the child died while writing
        out = {"error": "memory"}
    error = out.get("error")
    if error == "rows":
        raise TableError(f"「{out.get('sheet')}」表超过 {max_row} 行，请拆分成几个文件再导入")
    if error == "cell":
        raise TableError(f"「{out.get('sheet')}」表第 {out.get('row')} 行有单元格超过 {MAX_CELL_CHARS} 个字符"
                         "（Excel 单元格的上限），文件可能已损坏或被改动过")
    if error:
        raise TableError(_CHILD_ERRORS.get(error, _CHILD_ERRORS["corrupt"]))
    return [Sheet(s["name"], s["visible"], [(n, values) for n, values in s["rows"]]) for s in out["sheets"]]


# ---- CSV ---------------------------------------------------------------------------------------------------


def decode_csv(data: bytes) -> str:
    """Decode CSV bytes: a BOM decides (UTF-8, UTF-16); else UTF-8, else GB18030 (which covers GBK).

    :raise TableError: no encoding fits.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    elif b"\0" in data:  # no text CSV holds NUL: UTF-16 without a BOM (the NUL is ASCII's other half)
        little = data[1::2].count(0) >= data[0::2].count(0)
        encodings = ["utf-16-le", "utf-16-be"] if little else ["utf-16-be", "utf-16-le"]
        encodings += ["utf-8", "gb18030"]
    else:
        encodings = ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("无法识别 CSV 文件的编码，请另存为 UTF-8 或 GBK 编码的 CSV，或直接上传 Excel 文件")


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number (>1) of fields most often; "," if none."""
    sample = text[:64 * 1024].split("\n")[:20]
    if len(sample) > 1:
        sample = sample[:-1]  # perhaps cut off mid-line
    best, best_score = ",", (0, 0)
    for delimiter in _DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(sample, delimiter=delimiter) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        wide = [n for n in counts if n > 1]
        if not wide:
            continue
        mode = max(set(wide), key=lambda n: (wide.count(n), n))
        score = (wide.count(mode), mode)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_csv(data: bytes, max_row: int, max_columns: int, max_cells: int = MAX_CELLS) -> list[tuple[int, list[str]]]:
    text = decode_csv(data)
    rows: list[tuple[int, list[str]]] = []
    cells = 0
    try:
        # newline="": the csv module handles \r, \n and \r\n (Excel for Mac writes bare \r).
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
        for number, record in enumerate(reader, start=1):
            values = [clean(c) for c in record[:max_columns]]
            while values and not values[-1]:
                values.pop()
            # Blank lines past the limit are passed over, but not millions of them.
            if number > max_row and (values or number > 2 * max_row):
                raise TableError(f"文件超过 {max_row} 行，请拆分成几个文件再导入")
            if not values:
                continue
            if any(len(v) > MAX_CELL_CHARS for v in values):
                raise TableError(f"第 {number} 行有单元格超过 {MAX_CELL_CHARS} 个字符，请检查文件")
            cells += len(values)
            if cells > max_cells:
                raise TableError(f"表格中的单元格超过 {max_cells} 个，请删除多余的列或拆分后再导入")
            rows.append((number, values))
    except csv.Error:
        raise TableError("CSV 文件格式不正确（可能有未闭合的引号或超长的单元格），请用 Excel 另存后重试") from None
    return rows
