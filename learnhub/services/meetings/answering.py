"""A phone's answer in one guarded statement: what 500 meetings at once need of the answer path.

`running.record_answer` loads the member, the meeting, its questions and the attendance, then locks the
question's row and writes: nine statements, the last four inside SQLite's one write lock. An answer that
comes with its page's token (meetings/access.py) instead reads the question (decoding and grading need
its kind and key) and then writes with one statement that checks, at the moment it writes, everything
the full path checks:

- the login the token names: the device still signed in, the session version current, the account
  active, no first password pending (as an exam's answer save does);
- the member is in the meeting (joined it) and still may be (of the branch or beneath it, or a guest);
- the meeting has not ended, the question is the one at that position, has been opened, was not closed
  by the secretary and its deadline plus GRACE_SECONDS has not passed;
- a later answer (higher seq) replaces an earlier one, a stale one changes nothing.

Against a close, the statement holds the question's row as the full path does: on PostgreSQL it reads
it FOR SHARE, so a close (FOR UPDATE) is wholly before it (the statement then sees it closed and writes
nothing) or after it; on SQLite the statement runs under the one write lock. On SQLite it joins the
answers arriving with it in one transaction (exam/quizzes/group_commit.py).

When it writes nothing (stale, closed, not joined, signed out...), the caller takes the full path, which
says why exactly as before.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import Integer, String, and_, bindparam, exists, select, true
from sqlalchemy.dialects import postgresql, sqlite

from ...models import DeviceSession, Meeting, MeetingAnswer, MeetingAttendance, MeetingQuestion, Question, User
from ..exam.grading import is_correct
from ..exam.quizzes import group_commit
from .polling import may_join_clause
from .running import GRACE_SECONDS, decode

if TYPE_CHECKING:  # the web layer's type; services do not import it
    from ...security import SessionToken

_QUESTION = (
    select(Question.id, Question.kind, Question.options, Question.answer, Question.point_id)
    .join(MeetingQuestion, MeetingQuestion.question_id == Question.id)
    .where(MeetingQuestion.meeting_id == bindparam("meeting_id"), MeetingQuestion.position == bindparam("position"))
)


def _guarded_write(dialect: str):
    mq = MeetingQuestion.__table__
    guard = (
        select(
            bindparam("meeting_id", type_=Integer), bindparam("position", type_=Integer), User.id, mq.c.question_id,
            bindparam("point_id", type_=Integer), User.org_id,
            bindparam("answer", type_=MeetingAnswer.__table__.c.answer.type),
            bindparam("is_correct", type_=MeetingAnswer.__table__.c.is_correct.type),
            bindparam("seq", type_=MeetingAnswer.__table__.c.seq.type),
            bindparam("now", type_=MeetingAnswer.__table__.c.saved_at.type),
        )
        .select_from(mq)
        .join(Meeting, Meeting.id == mq.c.meeting_id)
        .join(MeetingAttendance, and_(MeetingAttendance.meeting_id == Meeting.id,
                                      MeetingAttendance.user_id == bindparam("user_id", type_=Integer)))
        .join(User, and_(User.id == MeetingAttendance.user_id,
                         User.session_version == bindparam("session_version", type_=Integer),
                         User.active, ~User.must_change_password))
        .where(
            mq.c.meeting_id == bindparam("meeting_id"), mq.c.position == bindparam("position"),
            mq.c.question_id == bindparam("question_id", type_=Integer),
            mq.c.opened_at.is_not(None), mq.c.closed_at.is_(None),
            mq.c.closes_at >= bindparam("late_limit", type_=mq.c.closes_at.type),
            Meeting.ended_at.is_(None), may_join_clause(Meeting.org_id, User),
            exists().where(DeviceSession.key_hash == bindparam("device", type_=String),
                           DeviceSession.user_id == User.id,
                           DeviceSession.expires_at > bindparam("now")),
            true(),
        )
    )
    if dialect == "postgresql":
        guard = guard.with_for_update(read=True, of=mq)
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(MeetingAnswer)
    stmt = insert.from_select(
        ["meeting_id", "position", "user_id", "question_id", "point_id", "org_id", "answer", "is_correct", "seq",
         "saved_at"], guard)
    return stmt.on_conflict_do_update(
        index_elements=["meeting_id", "position", "user_id"],
        set_={k: stmt.excluded[k] for k in ("answer", "is_correct", "seq", "saved_at")},
        where=MeetingAnswer.seq < stmt.excluded.seq,
    ).returning(MeetingAnswer.seq)


_WRITES = {dialect: _guarded_write(dialect) for dialect in ("sqlite", "postgresql")}


def quick_answer(meeting_id: int, claim: SessionToken, position: int, raw, seq: int, now: datetime) -> bool:
    """True if the answer was stored by the one guarded statement; False: the caller takes the full path
    (which stores it or says why not). MeetingError (from `decode`) for an answer malformed for its question."""
    engine = current_app.extensions["learnhub.autocommit_engine"]
    with engine.connect() as conn:
        row = conn.execute(_QUESTION, {"meeting_id": meeting_id, "position": position}).first()
        conn.rollback()
    if row is None:
        return False
    question = SimpleNamespace(kind=row.kind, options=row.options, answer=row.answer)
    answer = decode(question, raw)  # MeetingError: malformed, the same message as the full path's
    values = {
        "meeting_id": meeting_id, "position": position, "question_id": row.id, "point_id": row.point_id,
        "user_id": claim.user_id, "session_version": claim.session_version, "device": claim.device,
        "answer": answer, "is_correct": is_correct(question, answer), "seq": seq, "now": now,
        "late_limit": now - timedelta(seconds=GRACE_SECONDS),
    }
    if engine.dialect.name == "sqlite":
        return group_commit.writer(engine).write(_WRITES["sqlite"], values) is not None
    with engine.connect() as conn:
        stored = conn.execute(_WRITES[engine.dialect.name], values).first()
        conn.commit()
    return stored is not None

