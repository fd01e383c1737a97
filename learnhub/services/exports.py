"""Excel workbooks of scores, built with XlsxWriter; every text cell is neutralised against formulas."""

from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import xlsxwriter

from ..models import Assignment, User
from .reports import AssignmentReport, MemberRow, UnitRow

_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

MEMBER_HEADERS = ["党员编号", "姓名", "党员类别", "所在组织", "状态", "得分", "是否合格", "完成时间", "作答次数"]
UNIT_HEADERS = ["组织", "应完成人数", "免学", "已完成", "完成率(%)", "合格人数", "合格率(%)", "平均分"]


def neutralise(value):
    """Make a text value inert in a spreadsheet: a leading = + - @ (or a control char) gets a quote."""
    if isinstance(value, str) and value.startswith(_DANGEROUS_START):
        return "'" + value
    return value


def _sheet_name(name: str, used: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub("_", name).strip("'")[:28] or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in used:
        candidate, n = f"{base[:25]}({n})", n + 1
    used.add(candidate.lower())
    return candidate


class _Book:
    def __init__(self, tz: str):
        self.buffer = io.BytesIO()
        self.book = xlsxwriter.Workbook(
            self.buffer,
            {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
        )
        self.tz = ZoneInfo(tz)
        self.bold = self.book.add_format({"bold": True})
        self.used: set[str] = set()

    def sheet(self, name: str, title: str, stamp: str, headers: list[str], widths: list[int]):
        ws = self.book.add_worksheet(_sheet_name(name, self.used))
        ws.write_string(0, 0, neutralise(title), self.bold)
        ws.write_string(1, 0, neutralise(stamp))
        for col, (header, width) in enumerate(zip(headers, widths, strict=True)):
            ws.write_string(3, col, header, self.bold)
            ws.set_column(col, col, width)
        ws.freeze_panes(4, 0)
        return ws

    def row(self, ws, row: int, values: list) -> None:
        for col, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                ws.write_number(row, col, value)
            else:
                ws.write_string(row, col, neutralise(str(value)))

    def local(self, when: datetime | None) -> str:
        return when.astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if when else ""

    def close(self) -> bytes:
        self.book.close()
        return self.buffer.getvalue()


def _stamp(book: _Book, viewer: User, now: datetime) -> str:
    return f"导出人：{viewer.name}（{viewer.member_no}）  导出时间：{book.local(now)}"


def _member_values(book: _Book, row: MemberRow) -> list:
    return [
        row.user.member_no, row.user.name, row.user.category.label, row.user.org.name, row.status,
        row.score, ("合格" if row.passed else "不合格") if row.finished_at and row.expected else "",
        book.local(row.finished_at),
        row.attempts,
    ]


def _unit_values(row: UnitRow) -> list:
    return [
        row.org.name, row.expected, row.exempt, row.finished, row.finished_rate, row.passed, row.passed_rate,
        row.average,
    ]


def _write_members(book: _Book, name: str, title: str, stamp: str, rows: list[MemberRow]) -> None:
    ws = book.sheet(name, title, stamp, MEMBER_HEADERS, [12, 10, 10, 22, 8, 8, 8, 17, 8])
    for i, row in enumerate(rows, start=4):
        book.row(ws, i, _member_values(book, row))


def branch_workbook(assignment: Assignment, unit_name: str, rows: list[MemberRow], viewer: User, now: datetime, tz: str) -> bytes:
    """One sheet: every member of a branch with status, score and when they finished."""
    book = _Book(tz)
    _write_members(book, unit_name, f"{assignment.title} — {unit_name} 成绩", _stamp(book, viewer, now), rows)
    return book.close()


def rollup_workbook(
    report: AssignmentReport, members_by_unit: dict[int, list[MemberRow]], viewer: User, now: datetime, tz: str
) -> bytes:
    """A summary sheet (one row per branch, with totals), then one sheet per branch."""
    book = _Book(tz)
    stamp = _stamp(book, viewer, now)
    ws = book.sheet("汇总", f"{report.assignment.title} — 各支部完成情况", stamp, UNIT_HEADERS, [24, 10, 6, 8, 10, 8, 10, 8])
    for i, unit in enumerate(report.units, start=4):
        book.row(ws, i, _unit_values(unit))
    if report.total is not None:
        book.row(ws, 4 + len(report.units), ["合计", *_unit_values(report.total)[1:]])
    for unit in report.units:
        _write_members(
            book, unit.org.name, f"{report.assignment.title} — {unit.org.name} 成绩", stamp,
            members_by_unit.get(unit.org.id, []),
        )
    return book.close()
