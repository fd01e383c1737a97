"""The meeting's records: who joined (its attendance) and the workbook for the branch's files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import IO

from sqlalchemy import func, select

from ...extensions import db
from ...models import Meeting, MeetingAnswer, MeetingAttendance, Organisation, User
from ..bank.places import place_of, question_source
from ..reports.exports import _Book, _local
from .wall import WITHHELD, summary

ATTENDANCE_HEADERS = ["党员编号", "姓名", "所在组织", "身份", "加入时间", "作答题数", "答对题数"]
ATTENDANCE_WIDTHS = [12, 10, 22, 8, 17, 10, 10]
QUESTION_HEADERS = ["序号", "题目编号", "题型", "题干", "出处", "知识点", "作答人数", "答对人数"]
QUESTION_WIDTHS = [6, 14, 8, 50, 12, 20, 10, 10]


@dataclass
class AttendanceRow:
    member_no: str
    name: str
    org_name: str
    guest: bool
    joined_at: datetime
    answered: int
    right: int


def attendance(meeting: Meeting) -> list[AttendanceRow]:
    """Everyone who joined, in the order they joined, with how many questions they answered and got right."""
    answered = (select(MeetingAnswer.user_id, func.count().label("n"),
                       func.count().filter(MeetingAnswer.is_correct.is_(True)).label("c"))
                .where(MeetingAnswer.meeting_id == meeting.id).group_by(MeetingAnswer.user_id).subquery())
    rows = db.session.execute(
        select(User.member_no, User.name, Organisation.name, MeetingAttendance.guest, MeetingAttendance.joined_at,
               func.coalesce(answered.c.n, 0), func.coalesce(answered.c.c, 0))
        .join(User, User.id == MeetingAttendance.user_id)
        .join(Organisation, Organisation.id == MeetingAttendance.org_id)
        .outerjoin(answered, answered.c.user_id == MeetingAttendance.user_id)
        .where(MeetingAttendance.meeting_id == meeting.id)
        .order_by(MeetingAttendance.joined_at, User.member_no)
    )
    return [AttendanceRow(*r) for r in rows]


def question_rows(meeting: Meeting) -> list[tuple]:
    """(position, question, answered, right) per question asked."""
    counts = {p: (n, c) for p, n, c in db.session.execute(
        select(MeetingAnswer.position, func.count(), func.count().filter(MeetingAnswer.is_correct.is_(True)))
        .where(MeetingAnswer.meeting_id == meeting.id).group_by(MeetingAnswer.position))}
    return [(mq.position, mq.question, *counts.get(mq.position, (0, 0))) for mq in meeting.questions]


def write_workbook(out: IO[bytes], meeting: Meeting, stamp_text: str, tz: str, sealed: frozenset[str]) -> int:
    """Attendance, the questions and the points' rates, one sheet each; text cells made formula-safe; the
    questions of an exam the viewer sits are not listed. Returns the number of attendees."""
    book = _Book(out)
    title = f"{meeting.title}（{meeting.kind.label}） {meeting.org.name}  会议日期：{_local(meeting.created_at, tz)[:10]}"
    ws = book.sheet("出勤", title, stamp_text, ATTENDANCE_HEADERS, ATTENDANCE_WIDTHS)
    rows = attendance(meeting)
    for i, r in enumerate(rows, start=1):
        book.row(ws, 3 + i, [r.member_no, r.name, r.org_name, "受邀" if r.guest else "本支部", _local(r.joined_at, tz),
                             r.answered, r.right])
    ws = book.sheet("题目", title, stamp_text, QUESTION_HEADERS, QUESTION_WIDTHS)
    for i, (position, question, answered, right) in enumerate(question_rows(meeting), start=1):
        if question.key in sealed:
            book.row(ws, 3 + i, [position, "", question.kind.label, WITHHELD, "", question.point.name, answered, right])
        else:
            book.row(ws, 3 + i, [position, question.key, question.kind.label, question.stem, question_source(question),
                                 question.point.name, answered, right])
    ws = book.sheet("知识点", title, stamp_text, ["知识点", "科目", "部分", "会前首次答对率(%)", "会前作答次数",
                                                  "本次答对率(%)", "本次作答次数"], [24, 16, 18, 18, 14, 16, 14])
    for i, r in enumerate(summary(meeting), start=1):
        place = place_of(r.point)
        book.row(ws, 3 + i, [r.point.name, place.subject_name, place.part_name, r.before.rate, r.before.answered,
                             r.now.rate, r.now.answered])
    book.close()
    return len(rows)
