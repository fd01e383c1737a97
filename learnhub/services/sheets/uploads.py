"""Reading uploaded member lists: the first sheet of a spreadsheet or a CSV, through services/sheets/tables.py."""

from __future__ import annotations

from .. import ServiceError
from . import tables

MAX_ROWS = 20000
MAX_COLUMNS = 30


class UploadError(ServiceError):
    pass


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """Return the non-empty rows of an uploaded .xlsx, .xls, .ods or .csv's first sheet as lists of text."""
    try:
        sheets = tables.read_sheets(filename or "", data, max_rows=MAX_ROWS, max_columns=MAX_COLUMNS)
    except tables.TableError as exc:
        raise UploadError(str(exc)) from None
    return [values for _, values in sheets[0].rows] if sheets else []
