"""Saving answers as they are given: the hottest request of an exam (one per answer).

Rules that hold here whatever the client does: the deadline is the server's; a resend of an answer
is harmless and an older one never overwrites a newer one (per-attempt sequence numbers); an answer
arriving after the hand-in is refused, never half-stored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Integer, String, and_, bindparam, func, select, text

from ....extensions import db
from ....models import (
    Assignment,
    Attempt,
    AttemptState,
    DeviceSession,
    Question,
    QuestionKind,
    Response,
    ShowAnswers,
    User,
    utcnow,
)
from ..grading import is_correct
from . import group_commit
from .papers import (
    AttemptClosed,
    NotYourAttempt,
    PasswordChangeRequired,
    QuizError,
    SessionEnded,
    _to_shown,
    decode_answer,
)


@dataclass
class SaveResult:
    saved: bool  # False when a newer answer was already stored (this one was stale), or it was final
    last_seq: int
    feedback: dict | None = None  # for immediate feedback: right or not, the key as shown, the explanation


@dataclass(frozen=True)
class _Graded:
    """What decoding and grading need of a question, read with one small query instead of the ORM."""

    id: int
    kind: QuestionKind
    answer: list
    explanation: str
    article: str


# The save path is the hottest request of an exam (one per answer given): Core statements, built
# once and compiled once per dialect, instead of ORM loads. The save reads without a lock, checks
# everything in Python, then writes with one statement that itself re-checks, at the moment it
# writes, that the attempt is still open (_GUARDED_WRITES): a submit is either before it (nothing is
# written, the member is told the paper was handed in) or after it (the answer is graded). Nothing
# is held while Python runs: on SQLite the write lock covers one statement, on PostgreSQL the save
# is two round trips in autocommit.
def _max_seq(attempt_id):
    return select(func.coalesce(func.max(Response.seq), 0)).where(Response.attempt_id == attempt_id)


_LAST_SEQ = _max_seq(Attempt.id).scalar_subquery()
_SAVE_CONTEXT = (
    select(
        Attempt.user_id, Attempt.paper, Attempt.state, Attempt.deadline, Attempt.started_at,
        _LAST_SEQ.label("last_seq"), Assignment.show_answers, User.session_version, User.active, User.must_change_password,
        DeviceSession.expires_at.label("device_expires"),
    )
    .join(Assignment, Assignment.id == Attempt.assignment_id)
    .join(User, User.id == Attempt.user_id)
    # The device the save comes from must still be signed in (services/auth/sessions.py): logged out, no save.
    .outerjoin(DeviceSession, and_(DeviceSession.user_id == Attempt.user_id,
                                   DeviceSession.key_hash == bindparam("device", type_=String)))
    .where(Attempt.id == bindparam("attempt_id", type_=Integer))
)
# The page sends the question's id with its position: then the question comes in the same round
# trip (the paper still decides: a wrong or missing id falls back to the paper's own question).
_SAVE_CONTEXT_WITH_QUESTION = _SAVE_CONTEXT.add_columns(
    Question.id.label("question_id"), Question.kind, Question.answer, Question.explanation, Question.article,
).outerjoin(Question, Question.id == bindparam("question_id", type_=Integer))
_QUESTION = select(Question.kind, Question.answer, Question.explanation, Question.article).where(
    Question.id == bindparam("question_id", type_=Integer)
)
_STORED = select(Response.answer, Response.is_correct).where(
    Response.attempt_id == bindparam("attempt_id", type_=Integer),
    Response.question_id == bindparam("question_id", type_=Integer),
)
_STATE = select(Attempt.state).where(Attempt.id == bindparam("attempt_id", type_=Integer))


def last_seq(attempt_id: int) -> int:
    """The highest sequence number stored for the attempt: a page (or a second phone) continues above it."""
    return db.session.scalar(_max_seq(attempt_id))


def record_answer(
    attempt_id: int, user_id: int, position: int, raw, seq: int, grace_seconds: int,
    now: datetime | None = None, session_version: int | None = None, question_id: int | None = None,
    device: str | None = None,
) -> SaveResult:
    """Store one answer unless a newer one (higher `seq`) is already stored. Commits.

    `session_version`: when given, the member's session is checked in the same query (stale version,
    disabled account, or `device` (the digest of the session's device key) logged out or expired:
    SessionEnded; first password not changed: PasswordChangeRequired), so the save needs no separate
    load of the user. Someone else's attempt: NotYourAttempt. `question_id`:
    the id the page showed at that position, a hint that saves a query when it matches the paper.
    """
    args = (attempt_id, user_id, position, raw, seq, grace_seconds, now or utcnow(), session_version, question_id,
            device)
    # Called amid other work (the demo data, tests): in its transaction. A request's save creates
    # no ORM session at all (has() does not create one).
    if db.session.registry.has() and (session := db.session()).in_transaction():
        result = _record(session.connection(), *args)
        session.commit()
        return result
    # A request's save: a connection of its own, without the ORM session's bookkeeping; on
    # PostgreSQL from a pool kept in autocommit, so a save is one or two round trips, no BEGIN/COMMIT.
    # On SQLite a known attempt's one statement joins the saves arriving with it in one transaction
    # (group_commit.py: one writer lock and one fsync for them all).
    engine = current_app.extensions["learnhub.autocommit_engine"]
    known = _known_write(*args)
    if known is not None and engine.dialect.name == "sqlite":
        row = group_commit.writer(engine).write(_KNOWN_WRITES["sqlite"], known)
        if row is not None:
            return SaveResult(saved=True, last_seq=max(seq, row[0]))
        known = None  # it wrote nothing: the full path finds out why
    with engine.connect() as conn:
        if known is not None:
            row = conn.execute(_KNOWN_WRITES[conn.dialect.name], known).first()
            result = SaveResult(saved=True, last_seq=max(seq, row[0])) if row is not None else None
        else:
            result = None
        result = result or _record(conn, *args)
        conn.commit()
    return result


def _record(conn, attempt_id: int, user_id: int, position: int, raw, seq: int, grace_seconds: int, now: datetime,
            session_version: int | None, question_id: int | None, device: str | None) -> SaveResult:
    if question_id is None:
        row = conn.execute(_SAVE_CONTEXT, {"attempt_id": attempt_id, "device": device}).first()
    else:
        row = conn.execute(
            _SAVE_CONTEXT_WITH_QUESTION, {"attempt_id": attempt_id, "question_id": question_id, "device": device}
        ).first()
    if row is None or row.user_id != user_id:
        raise NotYourAttempt("没有找到这次答题")
    if session_version is not None:
        signed_in = row.device_expires is not None and row.device_expires > now
        if row.session_version != session_version or not row.active or not signed_in:
            raise SessionEnded("请重新登录")
        if row.must_change_password:
            raise PasswordChangeRequired("请先修改初始密码")
    if row.state is not AttemptState.IN_PROGRESS:
        raise AttemptClosed(_CLOSED)
    if row.deadline is not None and now > row.deadline + timedelta(seconds=grace_seconds):
        raise AttemptClosed("答题时间已到，这个答案没有保存")
    if not 1 <= position <= len(row.paper):
        raise QuizError("题号不正确")
    entry = row.paper[position - 1]
    if question_id is not None and row.question_id == entry["q"]:
        question = _Graded(entry["q"], row.kind, row.answer, row.explanation, row.article)
    else:
        question = _Graded(entry["q"], *conn.execute(_QUESTION, {"question_id": entry["q"]}).one())
    answer = decode_answer(question, entry["perm"], raw)
    # In immediate mode an answer, once given and shown its key, is final: it is only ever inserted.
    final = row.show_answers is ShowAnswers.IMMEDIATE
    if session_version is not None:
        _known().remember(attempt_id, _Known(row.user_id, row.started_at, row.paper, final), question)
    if final and not answer:
        raise QuizError("请先作答再确定")
    keys = {"attempt_id": attempt_id, "question_id": question.id}
    stored = conn.execute(_STORED, keys).first() if final else None
    saved = stored is None and _guarded_write(conn, _response_values(attempt_id, question, answer, seq, now), final)
    if not saved and conn.execute(_STATE, {"attempt_id": attempt_id}).scalar() is not AttemptState.IN_PROGRESS:
        raise AttemptClosed(_CLOSED)  # handed in (or closed) between the read and the write
    result = SaveResult(saved=saved, last_seq=max(seq, row.last_seq) if saved else row.last_seq)
    if final:
        kept = stored or conn.execute(_STORED, keys).one()
        result.feedback = _feedback(question, entry["perm"], kept.answer, kept.is_correct)
    return result


_CLOSED = "本次答题已经交卷，答案不能再修改"


# ---- saves of an attempt this process has seen: one statement instead of two
#
# A member's later saves need from the database only what can change while the attempt is open: is it
# still in progress and before its deadline, is the session still valid. What cannot change (whose
# attempt, the paper, the mode) and the questions' grading data are kept per process after a first
# save has read them, and the write checks the rest itself (_KNOWN_WRITES). When it writes nothing,
# the full path runs and finds out why, with the same answers as ever. Kept for KNOWN_SECONDS at most:
# a corrected key reaches in-progress answers here within a minute, and grading at hand-in
# recomputes every answer from the current key in any case. Immediate mode, where the key is shown
# at once, always takes the full path.

KNOWN_SECONDS = 60.0
_KNOWN_LIMIT = 50_000  # attempts (and questions) per process before the store starts again


@dataclass(frozen=True)
class _Known:
    user_id: int
    started_at: datetime  # with the id, names this very attempt row in the write's check
    paper: list
    final: bool


class _KnownStore:
    """Per app and process: attempt id -> (_Known, when read); question id -> (_Graded, when read)."""

    def __init__(self):
        self.attempts: dict[int, tuple[_Known, float]] = {}
        self.questions: dict[int, tuple[_Graded, float]] = {}

    def remember(self, attempt_id: int, known: _Known, question: _Graded) -> None:
        now = time.monotonic()
        for store, key, value in ((self.attempts, attempt_id, known), (self.questions, question.id, question)):
            if len(store) >= _KNOWN_LIMIT:
                store.clear()
            store[key] = (value, now)

    def get(self, store: dict, key: int):
        found = store.get(key)
        return found[0] if found and time.monotonic() - found[1] < KNOWN_SECONDS else None


def _known() -> _KnownStore:
    return current_app.extensions.setdefault("learnhub.known_attempts", _KnownStore())


def _known_write(attempt_id: int, user_id: int, position: int, raw, seq: int, grace_seconds: int, now: datetime,
                 session_version: int | None, question_id: int | None, device: str | None) -> dict | None:
    """The values of the save's one statement (_KNOWN_WRITES) when this process knows the attempt and the
    question; None: take the full path."""
    store = _known()
    known = store.get(store.attempts, attempt_id)
    if known is None or known.final or known.user_id != user_id or session_version is None or device is None:
        return None
    if question_id is None or not 1 <= position <= len(known.paper) or known.paper[position - 1]["q"] != question_id:
        return None
    question = store.get(store.questions, question_id)
    if question is None:
        return None
    try:
        answer = decode_answer(question, known.paper[position - 1]["perm"], raw)
    except QuizError:
        return None  # the full path gives the error, after the checks that come first
    values = _response_values(attempt_id, question, answer, seq, now)
    values.update(user_id=user_id, started_at=known.started_at, session_version=session_version, device=device,
                  late_limit=now - timedelta(seconds=grace_seconds))
    return values


def save_answer(attempt: Attempt, position: int, raw, seq: int, grace_seconds: int, now: datetime | None = None) -> SaveResult:
    """record_answer for an Attempt already at hand (the demo data and tests). Commits."""
    return record_answer(attempt.id, attempt.user_id, position, raw, seq, grace_seconds, now)


def _response(attempt_id: int, question_id: int) -> Response | None:
    return db.session.scalar(
        select(Response).where(Response.attempt_id == attempt_id, Response.question_id == question_id)
    )


def _feedback(question, perm: list[int], answer: list, correct: bool) -> dict:
    """What a member sees at once in immediate mode: right or not, the key as shown, why, and where from."""
    right = [alts[0] for alts in question.answer] if question.kind is QuestionKind.FILL else _to_shown(question, perm, question.answer)
    return {
        "correct": correct, "right": right, "explanation": question.explanation,
        "article": question.article, "answer": _to_shown(question, perm, answer),
    }


# Update the (attempt, question) row only if the stored seq is older. Written as text
# because SQLAlchemy does not cache the compiled form of dialect upserts (on_conflict_do_update):
# compiling it took a third of a save. The syntax is the same on SQLite (3.35+) and PostgreSQL;
# RETURNING, not rowcount, tells whether it wrote (psycopg reports -1 for upserts).
_ON_CONFLICT_UPDATE = (
    "ON CONFLICT (attempt_id, question_id) DO UPDATE SET answer = excluded.answer, "
    "is_correct = excluded.is_correct, seq = excluded.seq, saved_at = excluded.saved_at "
    "WHERE response.seq < excluded.seq"
)
_RESPONSE_PARAMS = [bindparam(c.name, type_=c.type) for c in Response.__table__.c if c.name != "id"]


def _guarded_insert(dialect: str, exists: str, conflict: str, returning: str, *params):
    """INSERT the answer only if `exists` (a subquery over the attempt) holds as it writes. On
    PostgreSQL the subquery takes a share lock on the attempt, which waits for a submit holding it and
    then sees the attempt finished; on SQLite the statement runs under the database's one write lock,
    so a submit is wholly before or after it."""
    cast = "CAST(:answer AS JSON)" if dialect == "postgresql" else ":answer"
    share = " FOR SHARE OF attempt" if dialect == "postgresql" else ""
    return text(
        "INSERT INTO response (attempt_id, question_id, answer, is_correct, seq, saved_at) "
        f"SELECT :attempt_id, :question_id, {cast}, :is_correct, :seq, :saved_at "
        f"WHERE EXISTS ({exists}{share}) {conflict} RETURNING {returning}"
    ).bindparams(*_RESPONSE_PARAMS, bindparam("open", AttemptState.IN_PROGRESS, type_=Attempt.__table__.c.state.type),
                 *params)


# The full path's write: only while the attempt is in progress. Immediate mode inserts only (final).
_GUARDED_WRITES = {
    (d, final): _guarded_insert(
        d, "SELECT 1 FROM attempt WHERE attempt.id = :attempt_id AND attempt.state = :open",
        "ON CONFLICT (attempt_id, question_id) DO NOTHING" if final else _ON_CONFLICT_UPDATE, "id",
    )
    for d in ("sqlite", "postgresql") for final in (False, True)
}
# A known attempt's write also checks what its save did not read: the same attempt row, not past
# its deadline and grace, the member's session still valid and its device still signed in (a unique
# index lookup: logged out, no save). The device's expiry (a login's 14-day cap) is left to the full
# path, which a process takes again at least every KNOWN_SECONDS. Returns the attempt's highest seq.
_KNOWN_WRITES = {
    d: _guarded_insert(
        d,
        'SELECT 1 FROM attempt JOIN "user" ON "user".id = attempt.user_id '
        "JOIN device_session ON device_session.key_hash = :device AND device_session.user_id = attempt.user_id "
        "WHERE attempt.id = :attempt_id AND attempt.user_id = :user_id AND attempt.started_at = :started_at "
        "AND attempt.state = :open AND (attempt.deadline IS NULL OR attempt.deadline >= :late_limit) "
        'AND "user".session_version = :session_version AND "user".active AND NOT "user".must_change_password',
        _ON_CONFLICT_UPDATE,
        "(SELECT coalesce(max(r.seq), 0) FROM response AS r WHERE r.attempt_id = :attempt_id)",
        bindparam("user_id", type_=Integer), bindparam("session_version", type_=Integer),
        bindparam("device", type_=String), bindparam("started_at", type_=Attempt.__table__.c.started_at.type),
        bindparam("late_limit", type_=Attempt.__table__.c.deadline.type),
    )
    for d in ("sqlite", "postgresql")
}


def _guarded_write(conn, values: dict, final: bool) -> bool:
    """Write the answer if the attempt is still open and no newer answer is stored; True if written."""
    return conn.execute(_GUARDED_WRITES[conn.dialect.name, final], values).first() is not None


def _response_values(attempt_id: int, question, answer: list, seq: int, now: datetime) -> dict:
    return dict(
        attempt_id=attempt_id, question_id=question.id, answer=answer,
        is_correct=is_correct(question, answer), seq=seq, saved_at=now,
    )


# A hand-in's answer: written unless a newer one is stored; an equal seq is the page's own answer,
# changed without a save (services/exam/quizzes/handin.py).
_HAND_IN_UPSERT = text(
    "INSERT INTO response (attempt_id, question_id, answer, is_correct, seq, saved_at) "
    "VALUES (:attempt_id, :question_id, :answer, :is_correct, :seq, :saved_at) "
    + _ON_CONFLICT_UPDATE.replace("response.seq < excluded.seq", "response.seq <= excluded.seq")
    + " RETURNING id"
).bindparams(*_RESPONSE_PARAMS)


def _hand_in_response(attempt_id: int, question, answer: list, seq: int, now: datetime) -> bool:
    """Store a handed-in answer unless a newer one is stored; True if it was written. On the session's
    connection (the hand-in holds the attempt's lock), as Core."""
    values = _response_values(attempt_id, question, answer, seq, now)
    return db.session.connection().execute(_HAND_IN_UPSERT, values).first() is not None
