"""Reading uploaded member lists safely: .xlsx through the bounded reader, .csv with row and size caps."""

from __future__ import annotations

import csv
import io

from . import ServiceError, xlsx

MAX_ROWS = 20000
MAX_COLUMNS = 30


class UploadError(ServiceError):
    pass


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """Return the rows of an uploaded .xlsx or .csv as lists of stripped text."""
    name = (filename or "").lower()
    if name.endswith(".csv"):
        return _read_csv(data)
    if name.endswith(".xlsx"):
        return _read_xlsx(data)
    raise UploadError("只支持 .xlsx 或 .csv 文件")


def _read_csv(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UploadError("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV")
    if "\0" in text:
        raise UploadError("文件不是文本格式的 CSV")
    rows = []
    try:
        # newline="": the csv module handles \r, \n and \r\n (Excel for Mac writes bare \r).
        for i, row in enumerate(csv.reader(io.StringIO(text, newline=""))):
            if i > MAX_ROWS:
                raise UploadError(f"文件超过 {MAX_ROWS} 行，请分批导入")
            rows.append([_cell_text(c) for c in row[:MAX_COLUMNS]])
    except csv.Error:
        raise UploadError("CSV 文件格式不正确（可能有未闭合的引号或超长的单元格），请用 Excel 另存后重试") from None
    return rows


def _read_xlsx(data: bytes) -> list[list[str]]:
    try:
        found = xlsx.read_first_sheet(data, max_rows=MAX_ROWS + 1, max_columns=MAX_COLUMNS)
    except xlsx.XlsxRefused as exc:
        raise UploadError(str(exc)) from None
    return [[_cell_text(c) for c in values] for _, values in found]
