"""Reading uploaded spreadsheets safely: size and zip-bomb checks, then rows of text."""

from __future__ import annotations

import csv
import io
import zipfile

from . import ServiceError

MAX_ROWS = 20000
MAX_COLUMNS = 30
MAX_UNZIPPED = 60 * 1024 * 1024
MAX_ENTRIES = 2000


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
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    # RuntimeError covers zipfile refusing a newer zip version it cannot read.
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        raise UploadError("文件已损坏或不是有效的 .xlsx 文件") from None
    if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_UNZIPPED:
        raise UploadError("文件解压后过大，已拒绝（可能是恶意文件）")
    import openpyxl  # imported lazily: only imports need it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a malformed workbook
        raise UploadError("文件已损坏或不是有效的 .xlsx 文件") from None
    try:
        sheet = book.worksheets[0]
        rows = []
        # max_col: a sheet may claim 16,384 columns and openpyxl would pad every row to that width.
        for i, row in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)):
            if i > MAX_ROWS:
                raise UploadError(f"文件超过 {MAX_ROWS} 行，请分批导入")
            rows.append([_cell_text(c) for c in row])
        return rows
    except UploadError:
        raise
    except Exception:
        raise UploadError("文件已损坏或不是有效的 .xlsx 文件") from None
    finally:
        book.close()
