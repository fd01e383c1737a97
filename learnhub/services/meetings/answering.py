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

A question that already takes no answers (closed, past its deadline and grace, not yet opened, the
meeting ended) is refused at once with the full path's QuestionClosed, before any write: it is closed
for whoever asks. When the write stores nothing for another reason (stale, not joined, signed out...),
the caller takes the full path, which says why exactly as before.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import Integer, String, bindparam, select, text

from ...models import Meeting, MeetingAnswer, MeetingQuestion, Question
from ..exam.grading import is_correct
from ..exam.quizzes import group_commit
from . import QuestionClosed
from .running import GRACE_SECONDS, Phase, decode, question_phase

if TYPE_CHECKING:  # the web layer's type; services do not import it
    from ...security import SessionToken

_QUESTION = (
    select(Question.id, Question.kind, Question.options, Question.answer, Question.point_id,
           MeetingQuestion.opened_at, MeetingQuestion.closes_at, MeetingQuestion.closed_at, Meeting.ended_at)
    .join(MeetingQuestion, MeetingQuestion.question_id == Question.id)
    .join(Meeting, Meeting.id == MeetingQuestion.meeting_id)
    .where(MeetingQuestion.meeting_id == bindparam("meeting_id"), MeetingQuestion.position == bindparam("position"))
)


# Written as text, as the exam's save (exam/quizzes/saving.py) is: SQLAlchemy does not cache the
# compiled form of dialect upserts (on_conflict_do_update), and compiling this one cost 5 ms of CPU,
# more than the rest of the request. The branch rule is polling.may_join_clause's, spelled in SQL: the
# member's organisation is the meeting's or beneath it (its materialised path starts with the
# meeting's), or the member is an invited guest. SQLite needs the WHERE before ON CONFLICT (its
# parsing rule for INSERT ... SELECT); PostgreSQL reads the question FOR SHARE against a close.
_GUARDED_SQL = (
    "INSERT INTO meeting_answer (meeting_id, position, user_id, question_id, point_id, org_id, answer, "
    "is_correct, seq, saved_at) "
    "SELECT mq.meeting_id, mq.position, u.id, mq.question_id, :point_id, u.org_id, {answer}, :is_correct, :seq, :now "
    "FROM meeting_question AS mq "
    "JOIN meeting AS m ON m.id = mq.meeting_id "
    "JOIN meeting_attendance AS ma ON ma.meeting_id = m.id AND ma.user_id = :user_id "
    'JOIN "user" AS u ON u.id = ma.user_id AND u.session_version = :session_version '
    "AND u.active AND NOT u.must_change_password "
    "WHERE mq.meeting_id = :meeting_id AND mq.position = :position AND mq.question_id = :question_id "
    "AND mq.opened_at IS NOT NULL AND mq.closed_at IS NULL AND mq.closes_at >= :late_limit AND m.ended_at IS NULL "
    "AND (EXISTS (SELECT 1 FROM organisation AS mo JOIN organisation AS uo ON uo.id = u.org_id "
    "WHERE mo.id = m.org_id AND uo.path >= mo.path AND uo.path < (substr(mo.path, 1, length(mo.path) - 1) || '0')) "
    "OR EXISTS (SELECT 1 FROM meeting_guest AS g WHERE g.meeting_id = m.id AND g.user_id = u.id)) "
    "AND EXISTS (SELECT 1 FROM device_session AS d WHERE d.key_hash = :device AND d.user_id = u.id "
    "AND d.expires_at > :now){share} "
    "ON CONFLICT (meeting_id, position, user_id) DO UPDATE SET answer = excluded.answer, "
    "is_correct = excluded.is_correct, seq = excluded.seq, saved_at = excluded.saved_at "
    "WHERE meeting_answer.seq < excluded.seq RETURNING seq"
)
_ANSWER = MeetingAnswer.__table__.c
_PARAMS = (
    *(bindparam(name, type_=Integer) for name in ("meeting_id", "position", "question_id", "point_id", "user_id",
                                                   "session_version")),
    bindparam("answer", type_=_ANSWER.answer.type), bindparam("is_correct", type_=_ANSWER.is_correct.type),
    bindparam("seq", type_=_ANSWER.seq.type), bindparam("now", type_=_ANSWER.saved_at.type),
    bindparam("late_limit", type_=_ANSWER.saved_at.type), bindparam("device", type_=String),
)
_WRITES = {
    "sqlite": text(_GUARDED_SQL.format(answer=":answer", share="")).bindparams(*_PARAMS),
    "postgresql": text(_GUARDED_SQL.format(answer="CAST(:answer AS JSON)", share=" FOR SHARE OF mq"))
    .bindparams(*_PARAMS),
}


def quick_answer(meeting_id: int, claim: SessionToken, position: int, raw, seq: int, now: datetime) -> bool:
    """True if the answer was stored by the one guarded statement; False: the caller takes the full path
    (which stores it or says why not). QuestionClosed if the question takes no answers (the full path's
    refusal, without its work); MeetingError (from `decode`) for an answer malformed for its question.
    On PostgreSQL the read and the write share one pooled connection; on SQLite the read's goes back to
    the pool before the write joins the group commit's."""
    engine = current_app.extensions["learnhub.autocommit_engine"]
    with engine.connect() as conn:
        values = _values(conn, meeting_id, claim, position, raw, seq, now)
        if values is None or engine.dialect.name == "sqlite":
            conn.rollback()
        else:
            stored = conn.execute(_WRITES[engine.dialect.name], values).first()
            conn.commit()
            return stored is not None
    return values is not None and group_commit.writer(engine).write(_WRITES["sqlite"], values) is not None


def _values(conn, meeting_id: int, claim: SessionToken, position: int, raw, seq: int, now: datetime) -> dict | None:
    """The guarded write's parameters, from the question at that position (None if there is none)."""
    row = conn.execute(_QUESTION, {"meeting_id": meeting_id, "position": position}).first()
    if row is None:
        return None
    if row.ended_at is not None or row.opened_at is None or question_phase(row, now) is Phase.CLOSED:
        # Closed for everyone, whoever asks: said at once (a token only its page holds names the meeting),
        # not after the full path's nine statements — late answers pile up just when a server is busiest.
        raise QuestionClosed("这道题已经结束，答案没有保存")
    question = SimpleNamespace(kind=row.kind, options=row.options, answer=row.answer)
    answer = decode(question, raw)  # MeetingError: malformed, the same message as the full path's
    return {
        "meeting_id": meeting_id, "position": position, "question_id": row.id, "point_id": row.point_id,
        "user_id": claim.user_id, "session_version": claim.session_version, "device": claim.device,
        "answer": answer, "is_correct": is_correct(question, answer), "seq": seq, "now": now,
        "late_limit": now - timedelta(seconds=GRACE_SECONDS),
    }
