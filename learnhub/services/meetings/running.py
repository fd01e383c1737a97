"""Running a meeting on the server's clock: open the next question, close it (at its deadline or early),
save answers while it is open, end the meeting.

A question takes answers until its deadline plus GRACE_SECONDS (a phone's answer may be a moment in
flight), unless the secretary closed it early. The wall (its key) shows only once it takes none.
Opening, closing and saving lock the question's row (FOR UPDATE; an answer FOR SHARE), so a close is
wholly before or after any save: nothing is accepted after the key is shown.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from ...extensions import db
from ...models import Meeting, MeetingAnswer, MeetingAttendance, MeetingQuestion, Question, QuestionKind, User, utcnow
from ..exam.grading import is_correct
from . import MeetingError, QuestionClosed, clocks

GRACE_SECONDS = 3


class Phase(enum.Enum):
    LOBBY = "lobby"  # no question shown yet
    OPEN = "open"  # the current question takes answers, counting down
    CLOSING = "closing"  # its time is up; answers already in flight are still taken, the key is not shown
    CLOSED = "closed"  # it takes no more answers: the wall shows the results and the key
    ENDED = "ended"


def question_phase(mq: MeetingQuestion, now: datetime) -> Phase:
    if mq.opened_at is None:
        return Phase.LOBBY
    if mq.closed_at is not None or now > mq.closes_at + timedelta(seconds=GRACE_SECONDS):
        return Phase.CLOSED
    return Phase.OPEN if now <= mq.closes_at else Phase.CLOSING


def current_question(meeting: Meeting) -> MeetingQuestion | None:
    return meeting.questions[meeting.current - 1] if meeting.current else None


def phase_of(meeting: Meeting, now: datetime) -> Phase:
    """Where the meeting stands now."""
    if not meeting.is_open:
        return Phase.ENDED
    mq = current_question(meeting)
    return Phase.LOBBY if mq is None else question_phase(mq, now)


def _locked(meeting: Meeting) -> Meeting:
    """The meeting row, locked for a change, read afresh."""
    db.session.execute(select(Meeting.id).where(Meeting.id == meeting.id).with_for_update())
    db.session.refresh(meeting)
    return meeting


def _lock_question(meeting_id: int, position: int, read: bool = False) -> MeetingQuestion | None:
    stmt = select(MeetingQuestion).where(MeetingQuestion.meeting_id == meeting_id, MeetingQuestion.position == position)
    return db.session.scalar(stmt.with_for_update(read=read).execution_options(populate_existing=True))


def _close(meeting: Meeting, now: datetime) -> None:
    mq = current_question(meeting)
    if mq is not None:
        mq = _lock_question(meeting.id, mq.position)
        if question_phase(mq, now) is not Phase.CLOSED:
            mq.closed_at = now


def open_next(meeting: Meeting, now: datetime | None = None) -> MeetingQuestion:
    """Close the current question (if still open) and open the next, with its deadline. Commits."""
    now = now or utcnow()
    meeting = _locked(meeting)
    if not meeting.is_open:
        raise MeetingError("会议测验已经结束")
    if meeting.current >= len(meeting.questions):
        raise MeetingError("已经是最后一题")
    _close(meeting, now)
    meeting.current += 1
    mq = _lock_question(meeting.id, meeting.current)
    mq.opened_at, mq.closes_at = now, now + timedelta(seconds=meeting.seconds)
    meeting.version += 1
    db.session.commit()
    clocks.changed()
    return mq


def close_current(meeting: Meeting, now: datetime | None = None) -> None:
    """Stop taking answers to the current question now, so the wall shows its results. Commits."""
    now = now or utcnow()
    meeting = _locked(meeting)
    if meeting.is_open and meeting.current:
        _close(meeting, now)
        meeting.version += 1
    db.session.commit()
    clocks.changed()


def end_meeting(meeting: Meeting, now: datetime | None = None) -> None:
    """Close the current question, end the meeting and free its code. Commits."""
    now = now or utcnow()
    meeting = _locked(meeting)
    if meeting.is_open:
        _close(meeting, now)
        meeting.ended_at, meeting.code = now, None
        meeting.version += 1
    db.session.commit()
    clocks.changed()


def decode(question: Question, raw) -> list:
    """The phone's answer as canonical JSON (option indexes, or [true]/[false]); MeetingError if malformed."""
    values = raw if isinstance(raw, list) else [raw]
    if not values or len(values) > 10:
        raise MeetingError("请先选择答案")
    if question.kind is QuestionKind.TRUEFALSE:
        if len(values) != 1 or str(values[0]).lower() not in ("true", "false"):
            raise MeetingError("答案格式不正确")
        return [str(values[0]).lower() == "true"]
    try:
        picked = sorted({int(v) for v in values if type(v) in (int, str) and str(v).isdigit()})
    except ValueError:
        picked = []
    if len(picked) != len(values) or any(i >= len(question.options) for i in picked):
        raise MeetingError("答案格式不正确")
    if question.kind is QuestionKind.SINGLE and len(picked) != 1:
        raise MeetingError("单选题只能选一项")
    return picked


def _upsert(values: dict):
    dialect = db.session.get_bind().dialect.name
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(MeetingAnswer).values(**values)
    return stmt.on_conflict_do_update(
        index_elements=["meeting_id", "position", "user_id"],
        set_={k: stmt.excluded[k] for k in ("answer", "is_correct", "seq", "saved_at")},
        where=MeetingAnswer.seq < stmt.excluded.seq,
    )


def record_answer(meeting: Meeting, user: User, position: int, raw, seq: int, now: datetime | None = None) -> bool:
    """Save a present member's answer to an open question; a later answer (higher seq) replaces an earlier
    one, a stale or repeated one changes nothing. True if stored. QuestionClosed once it takes no answers.
    Commits."""
    now = now or utcnow()
    if db.session.get(MeetingAttendance, (meeting.id, user.id)) is None:
        raise MeetingError("请先加入会议测验")
    if not 1 <= position <= len(meeting.questions):
        raise MeetingError("题号不正确")
    question = meeting.questions[position - 1].question
    answer = decode(question, raw)
    mq = _lock_question(meeting.id, position, read=True)
    db.session.refresh(meeting, ["ended_at"])
    if not meeting.is_open or mq.opened_at is None or question_phase(mq, now) is Phase.CLOSED:
        db.session.rollback()
        raise QuestionClosed("这道题已经结束，答案没有保存")
    stored = db.session.execute(_upsert(dict(
        meeting_id=meeting.id, position=position, user_id=user.id, question_id=question.id,
        point_id=question.point_id, org_id=user.org_id, answer=answer, is_correct=is_correct(question, answer),
        seq=seq, saved_at=now,
    )).returning(MeetingAnswer.seq)).first() is not None
    db.session.commit()
    return stored
