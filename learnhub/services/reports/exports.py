"""Excel and CSV exports of scores. Rows stream from the database and are written in constant memory
(XlsxWriter `constant_memory` into a temporary file; CSV as a generator). Every text cell is
neutralised against formulas; every file says who exported it and when; every export is logged."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO
from zoneinfo import ZoneInfo

import xlsxwriter

from ...extensions import db
from ...models import ExportLog, User
from ..bank.places import place_of, subject_label
from .items import ItemStats, shown_key
from .mastery import MasteryReport, Tally
from .completion import ExportRow

_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

MEMBER_HEADERS = ["党员编号", "姓名", "党员类别", "所在组织", "状态", "得分", "是否合格", "完成时间", "作答次数", "薄弱知识点"]
MEMBER_WIDTHS = [12, 10, 10, 22, 12, 8, 8, 17, 8, 30]
UNIT_HEADERS = ["组织", "应完成人数", "免学", "已完成", "完成率(%)", "合格人数", "合格率(%)", "平均分", "掌握率(%)", "薄弱知识点"]
UNFINISHED_HEADERS = ["所在支部", "党员编号", "姓名", "状态"]
MAX_BRANCH_SHEETS = 100
ITEM_HEADERS = ["题目编号", "题型", "题干", "科目", "部分", "条文", "知识点", "作答次数", "难度系数", "区分度", "答案", "可能有误"]
POINT_HEADERS = ["科目", "部分", "条文", "知识点", "作答次数", "首次答对率(%)", "低于标准的支部数"]


def neutralise(value):
    """Make a text value inert in a spreadsheet: a leading = + - @ (or a control char) gets a quote."""
    if isinstance(value, str) and value.startswith(_DANGEROUS_START):
        return "'" + value
    return value


def log_export(viewer: User, kind: str, detail: str, rows: int = 0) -> None:
    """Record who downloaded what. Commits."""
    db.session.add(ExportLog(user_id=viewer.id, kind=kind, detail=detail[:300], rows=rows))
    db.session.commit()


def stamp(viewer: User, now: datetime, tz: str) -> str:
    return f"导出人：{viewer.name}（{viewer.member_no}）  导出时间：{_local(now, tz)}"


def _local(when: datetime | None, tz: str) -> str:
    return when.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if when else ""


def member_values(row: ExportRow, tz: str) -> list:
    passed = "" if row.exempt or row.finished_at is None else ("合格" if row.passed else "不合格")
    status = row.status + ("（代录）" if row.proxy and row.finished_at else "")
    return [row.member_no, row.name, row.category, row.org_name, status, row.score, passed,
            _local(row.finished_at, tz), row.attempts, "、".join(row.weak[:5])]


class _Book:
    """An XlsxWriter workbook in constant-memory mode with our formats and sheet naming."""

    def __init__(self, out: IO[bytes]):
        self.book = xlsxwriter.Workbook(out, {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False, "tmpdir": None,
        })
        self.bold = self.book.add_format({"bold": True})
        self.used: set[str] = set()

    def sheet(self, name: str, title: str, stamp_text: str, headers: list[str], widths: list[int], note: str = ""):
        ws = self.book.add_worksheet(self._name(name))
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)
        ws.write_string(0, 0, neutralise(title), self.bold)
        ws.write_string(1, 0, neutralise(stamp_text))
        if note:
            ws.write_string(2, 0, neutralise(note))
        for col, header in enumerate(headers):
            ws.write_string(3, col, header, self.bold)
        ws.freeze_panes(4, 0)
        return ws

    def _name(self, name: str) -> str:
        base = _SHEET_FORBIDDEN.sub("_", name).strip("'")[:28] or "Sheet"
        candidate, n = base, 2
        while candidate.lower() in self.used:
            candidate, n = f"{base[:25]}({n})", n + 1
        self.used.add(candidate.lower())
        return candidate

    @staticmethod
    def row(ws, row: int, values: list) -> None:
        # Called for every row of a 100,000-member export: exact type checks and bound methods.
        write_number, write_string = ws.write_number, ws.write_string
        for col, value in enumerate(values):
            if value is None or value == "":
                continue
            kind = type(value)
            if kind is int or kind is float:
                write_number(row, col, value)
            else:
                write_string(row, col, neutralise(value if kind is str else str(value)))

    def close(self) -> None:
        self.book.close()


def write_members_workbook(out: IO[bytes], title: str, stamp_text: str, rows: Iterable[ExportRow], tz: str) -> int:
    """One sheet: every member with status, score, finished at and weak points. Returns the row count."""
    book = _Book(out)
    ws = book.sheet("成绩", title, stamp_text, MEMBER_HEADERS, MEMBER_WIDTHS)
    count = 0
    for count, row in enumerate(rows, start=1):
        book.row(ws, 3 + count, member_values(row, tz))
    book.close()
    return count


def write_rollup_workbook(
    out: IO[bytes], report: MasteryReport, rows: Iterable[ExportRow], unit_of_path: Callable[[str], str | None],
    items: list[ItemStats], stamp_text: str, tz: str,
) -> int:
    """汇总 (the tree with completion, mastery and weak points), 知识点掌握 (each required point with its
    subject and part), 未完成名单, a sheet per branch (or one sheet of everyone above MAX_BRANCH_SHEETS
    branches), 题目分析. Every sheet names the assignment's subjects; with a subject chosen (report.subject),
    mastery and weak points are that subject's."""
    title = report.assignment.title
    book = _Book(out)
    note = subjects_note(report)
    summary = book.sheet("汇总", f"{title} — 各级组织完成与掌握情况", stamp_text, UNIT_HEADERS, [26, 10, 6, 8, 10, 8, 10, 8, 10, 40], note)
    many = len(report.subjects) > 1 and report.subject is None
    for i, r in enumerate(report.rows, start=4):
        c = r.counts
        book.row(summary, i, ["　" * r.depth + r.name, c.expected, c.exempt, c.finished, c.finished_rate, c.passed,
                              c.passed_rate, c.average, r.mastery, "、".join(_weak(p, many) for p in r.weak_points)])
    _points_sheet(book, report, stamp_text, note)
    waiting = book.sheet("未完成名单", f"{title} — 未完成名单", stamp_text, UNFINISHED_HEADERS, [22, 12, 10, 12])
    # A sheet per branch reads well for a 党委 with dozens of branches; with hundreds, every sheet costs
    # memory and Excel grows unusable, so all members go on one sheet with their branch in the first column.
    per_branch = sum(1 for r in report.rows if r.is_unit) <= MAX_BRANCH_SHEETS
    one_sheet = None if per_branch else [
        book.sheet("成绩", f"{title} — 全部党员成绩", stamp_text, ["所在支部", *MEMBER_HEADERS], [22, *MEMBER_WIDTHS]), 4
    ]
    sheets: dict[str, list] = {}
    waiting_row, count = 4, 0
    for count, row in enumerate(rows, start=1):
        unit = unit_of_path(row.org_path) or row.org_name  # members directly in a 党委 or 总支
        values = member_values(row, tz)
        if per_branch and unit not in sheets:
            sheets[unit] = [book.sheet(unit, f"{title} — {unit}", stamp_text, MEMBER_HEADERS, MEMBER_WIDTHS), 4]
        ws_row = sheets[unit] if per_branch else one_sheet
        book.row(ws_row[0], ws_row[1], values if per_branch else [unit, *values])
        ws_row[1] += 1
        if row.finished_at is None and not row.exempt:
            book.row(waiting, waiting_row, [unit, row.member_no, row.name, row.status])
            waiting_row += 1
    if items:
        sheet = book.sheet("题目分析", f"{title} — 题目分析", stamp_text, ITEM_HEADERS, [12, 8, 50, 12, 16, 10, 18, 8, 8, 8, 10, 8], note)
        for i, s in enumerate(items, start=4):
            q = s.question
            place = place_of(q.point)
            book.row(sheet, i, [q.key, q.kind.label, q.stem, place.subject_name, place.part_name, q.article, q.point.name,
                                s.answered, s.facility, s.discrimination, shown_key(q), "是" if s.suspect else ""])
    book.close()
    return count


def subjects_note(report: MasteryReport) -> str:
    """科目：党章、支部工作 (and which one mastery counts, if one was chosen)."""
    if not report.subjects:
        return ""
    note = "科目：" + "、".join(subject_label(s) for s in report.subjects)
    if report.subject is not None and len(report.subjects) > 1:
        note += f"（掌握率和薄弱知识点只统计「{subject_label(report.subject)}」）"
    return note


def _weak(score, with_subject: bool) -> str:
    """A weak point as the summary lists it: 入党条件(45%), or 支部工作·三会一课(45%) beside other subjects."""
    name = score.point.name
    if with_subject:
        name = f"{place_of(score.point).subject_name}·{name}"
    return f"{name}({score.rate:g}%)"


def _points_sheet(book: _Book, report: MasteryReport, stamp_text: str, note: str) -> None:
    """知识点掌握: each required point with its subject, part and article, the whole report's first-try rate
    on it, and how many branches are weak on it."""
    if not report.points:
        return
    ws = book.sheet("知识点掌握", f"{report.assignment.title} — 各知识点掌握情况", stamp_text, POINT_HEADERS,
                    [14, 20, 10, 24, 10, 14, 16], note)
    totals: dict[int, Tally] = {}
    weak_in: dict[int, int] = {}
    for row in report.rows:
        if row.depth == 0 and not row.direct:  # the viewer's top organisations: every row beneath adds up to them
            for pid, score in row.points.items():
                totals.setdefault(pid, Tally()).add(score.answered, score.right)
        if row.is_unit:
            for score in row.weak_points:
                weak_in[score.point.id] = weak_in.get(score.point.id, 0) + 1
    for i, point in enumerate(report.points, start=4):
        place, total = place_of(point), totals.get(point.id, Tally())
        book.row(ws, i, [place.subject_name, place.part_name, place.article, point.name, total.answered, total.rate,
                         weak_in.get(point.id, 0)])


def csv_lines(title: str, stamp_text: str, rows: Iterable[ExportRow], tz: str) -> Iterator[str]:
    """CSV for Excel users: UTF-8 with a BOM (or Chinese shows as mojibake), one line at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([neutralise(v) if isinstance(v, str) else ("" if v is None else v) for v in values])
        return buffer.getvalue()

    yield "\ufeff" + line([title])
    yield line([stamp_text])
    yield line(MEMBER_HEADERS)
    for row in rows:
        yield line(member_values(row, tz))
