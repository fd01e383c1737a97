"""Taking a quiz: starting an attempt, saving each answer as it is given, submitting and grading.

Rules that hold here whatever the client does: the deadline is the server's; a resend of an answer
is harmless and an older one never overwrites a newer one (per-attempt sequence numbers); a submit
that arrives twice, or from two tabs, finishes the attempt once.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from sqlalchemy import Integer, String, and_, bindparam, func, select, text, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    Assignment,
    KnowledgePoint,
    Attempt,
    AttemptState,
    DeviceSession,
    MemberResult,
    Question,
    QuestionKind,
    Response,
    Scoring,
    ShowAnswers,
    User,
    utcnow,
)
from . import ServiceError, mistakes, tallies
from .grading import is_correct
from .orgs import ancestor_ids

KIND_ORDER = [QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TRUEFALSE, QuestionKind.FILL]


class QuizError(ServiceError):
    pass


class AttemptClosed(QuizError):
    pass


@dataclass
class PaperItem:
    """A question as this member sees it: options in their shuffled order, their saved answer."""

    position: int
    question: Question
    options: list[str]  # in shown order
    answer: list | None  # in shown form: shown option indexes, [True/False], or blank texts
    seq: int
    is_correct: bool = False
    right: list | None = None  # the right answer in shown form (first accepted spelling per blank)


@dataclass
class SaveResult:
    saved: bool  # False when a newer answer was already stored (this one was stale), or it was final
    last_seq: int
    feedback: dict | None = None  # for immediate feedback: right or not, the key as shown, the explanation


def assignments_for(user: User) -> list[Assignment]:
    """Assignments given to the member's organisation or any organisation above it, newest first."""
    return list(
        db.session.scalars(
            select(Assignment)
            .where(Assignment.org_id.in_(ancestor_ids(user.org)))
            .order_by(Assignment.closes_at.desc(), Assignment.id.desc())
        )
    )


def is_assigned(assignment: Assignment, user: User) -> bool:
    """True if the assignment was given to the member's organisation or one above it."""
    return assignment.org_id in ancestor_ids(user.org)


def result_of(assignment: Assignment, user: User) -> MemberResult | None:
    return db.session.get(MemberResult, (assignment.id, user.id))


def open_attempt(assignment: Assignment, user: User) -> Attempt | None:
    """The member's attempt in progress on this assignment, if any."""
    return db.session.scalar(
        select(Attempt).where(
            Attempt.assignment_id == assignment.id,
            Attempt.user_id == user.id,
            Attempt.state == AttemptState.IN_PROGRESS,
        )
    )


def attempts_of(assignment: Assignment, user: User) -> list[Attempt]:
    return list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.assignment_id == assignment.id, Attempt.user_id == user.id)
            .order_by(Attempt.number)
        )
    )


def start_attempt(assignment: Assignment, user: User, now: datetime | None = None, rng: random.Random | None = None) -> Attempt:
    """Return the member's attempt in progress, or start a new one with its own paper. Commits."""
    now = now or utcnow()
    if not is_assigned(assignment, user):
        raise QuizError("这项任务没有布置给你")
    existing = open_attempt(assignment, user)
    if existing is not None:
        return existing
    if not assignment.has_quiz:
        raise QuizError("这项任务没有测验题")
    if now < assignment.opens_at:
        raise QuizError("测验还没有开始")
    if now >= assignment.closes_at:
        raise QuizError("测验已经截止")
    done = len(attempts_of(assignment, user))
    if assignment.max_attempts and done >= assignment.max_attempts:
        raise QuizError(f"已用完 {assignment.max_attempts} 次作答机会")
    deadline = assignment.closes_at
    if assignment.time_limit_minutes:
        deadline = min(deadline, now + timedelta(minutes=assignment.time_limit_minutes))
    attempt = Attempt(
        assignment=assignment, user=user, number=done + 1, started_at=now, deadline=deadline,
    )
    rng = rng or random.SystemRandom()
    attempt.paper = build_paper(draw_questions(assignment, rng), rng)
    attempt.total = len(attempt.paper)
    if not attempt.paper:
        raise QuizError("题库中没有符合抽题规则的题目，请联系组织员")
    db.session.add(attempt)
    try:
        db.session.commit()
    except IntegrityError:
        # Two taps on "start" at once: the other request created it.
        db.session.rollback()
        existing = open_attempt(assignment, user)
        if existing is None:
            raise
        return existing
    return attempt


def draw_questions(assignment: Assignment, rng: random.Random) -> list[Question]:
    """The assignment's fixed paper, or a paper drawn for one member by its rules (no question twice)."""
    if not assignment.draw_rules:
        return [aq.question for aq in assignment.questions]
    return draw_by_rules(assignment.draw_rules, rng)


def draw_by_rules(rules: list[dict], rng: random.Random) -> list[Question]:
    """Draw questions by rules, skipping any a previous rule already drew."""
    chosen: dict[str, Question] = {}
    for rule in rules:
        pool = [q for q in rule_pool(rule) if q.key not in chosen]
        for q in rng.sample(pool, min(int(rule["count"]), len(pool))):
            chosen[q.key] = q
    return list(chosen.values())


def rule_pool(rule: dict) -> list[Question]:
    """Current, unretired questions a draw rule picks from: under a knowledge point or a whole part."""
    point_ids = _point_ids_under(int(rule.get("point_id") or rule.get("part_id")))
    stmt = (
        select(Question)
        .where(Question.is_current.is_(True), Question.retired.is_(False), Question.point_id.in_(point_ids))
        .order_by(Question.key)
    )
    if rule.get("difficulty"):
        stmt = stmt.where(Question.difficulty == int(rule["difficulty"]))
    return list(db.session.scalars(stmt))


def _point_ids_under(node_id: int) -> list[int]:
    """The node itself and every knowledge-point node beneath it (the tree is three levels deep)."""
    ids, frontier = [node_id], [node_id]
    while frontier:
        frontier = list(db.session.scalars(select(KnowledgePoint.id).where(KnowledgePoint.parent_id.in_(frontier))))
        ids.extend(frontier)
    return ids


def build_paper(questions: list[Question], rng: random.Random) -> list[dict]:
    """Order questions by kind, shuffle within each kind, and shuffle each question's options."""
    by_kind = {kind: [q for q in questions if q.kind is kind] for kind in KIND_ORDER}
    paper = []
    for kind in KIND_ORDER:
        group = by_kind[kind]
        rng.shuffle(group)
        for q in group:
            perm = list(range(len(q.options)))
            rng.shuffle(perm)
            paper.append({"q": q.id, "perm": perm})
    return paper


def _questions_of(attempt: Attempt) -> dict[int, Question]:
    ids = [entry["q"] for entry in attempt.paper]
    return {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids)))}


def paper_items(attempt: Attempt) -> list[PaperItem]:
    """The attempt's questions in the member's order, with saved answers shown in that order."""
    questions = _questions_of(attempt)
    responses = {
        r.question_id: r for r in db.session.scalars(select(Response).where(Response.attempt_id == attempt.id))
    }
    items = []
    for position, entry in enumerate(attempt.paper, start=1):
        q = questions[entry["q"]]
        perm = entry["perm"]
        saved = responses.get(q.id)
        shown = None
        if saved is not None:
            shown = _to_shown(q, perm, saved.answer)
        right = [alts[0] for alts in q.answer] if q.kind is QuestionKind.FILL else _to_shown(q, perm, q.answer)
        items.append(
            PaperItem(
                position, q, [q.options[i] for i in perm], shown, saved.seq if saved else 0,
                is_correct=bool(saved and saved.is_correct), right=right,
            )
        )
    return items


def _to_shown(question: Question, perm: list[int], answer: list) -> list:
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return sorted(perm.index(i) for i in answer)
    return list(answer)


def decode_answer(question: Question, perm: list[int], raw) -> list:
    """Turn what the page sent (shown option indexes, 'true'/'false', blank texts) into canonical form.

    Raises QuizError for anything malformed; an empty list means "no answer".
    """
    values = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
    try:
        if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            shown = sorted({int(v) for v in values})
            if any(not 0 <= s < len(perm) for s in shown):
                raise ValueError
            if question.kind is QuestionKind.SINGLE and len(shown) > 1:
                raise ValueError
            return sorted(perm[s] for s in shown)
        if question.kind is QuestionKind.TRUEFALSE:
            if not values:
                return []
            if len(values) != 1 or str(values[0]).lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return [str(values[0]).lower() in ("true", "1")]
        texts = [str(v).strip()[:200] for v in values]
        if len(texts) > len(question.answer):
            raise ValueError
        return texts if any(texts) else []
    except (TypeError, ValueError):
        raise QuizError("答案格式不正确") from None


def _lock(attempt: Attempt) -> Attempt:
    """Re-read the attempt with a row lock, so saves and the submit of one attempt run one at a time."""
    return db.session.scalars(
        select(Attempt).where(Attempt.id == attempt.id).with_for_update().execution_options(populate_existing=True)
    ).one()


class NotYourAttempt(QuizError):
    """No such attempt, or another member's: the page answers 404."""


class SessionEnded(QuizError):
    """The session's version is stale or the account is disabled: treated as signed out."""


class PasswordChangeRequired(QuizError):
    """The member must change the first password before doing anything else."""


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
    # The device the save comes from must still be signed in (services/sessions.py): logged out, no save.
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
    with current_app.extensions["learnhub.autocommit_engine"].connect() as conn:
        result = _record_known(conn, *args) or _record(conn, *args)
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


def _record_known(conn, attempt_id: int, user_id: int, position: int, raw, seq: int, grace_seconds: int, now: datetime,
                  session_version: int | None, question_id: int | None, device: str | None) -> SaveResult | None:
    """The save in one statement when this process knows the attempt and the question; None: take the full path."""
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
    row = conn.execute(_KNOWN_WRITES[conn.dialect.name], values).first()
    return None if row is None else SaveResult(saved=True, last_seq=max(seq, row[0]))


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


# Insert or update the (attempt, question) row only if the stored seq is older. Written as text
# because SQLAlchemy does not cache the compiled form of dialect upserts (on_conflict_do_update):
# compiling it took a third of a save. The syntax is the same on SQLite (3.35+) and PostgreSQL;
# RETURNING, not rowcount, tells whether it wrote (psycopg reports -1 for upserts).
_ON_CONFLICT_UPDATE = (
    "ON CONFLICT (attempt_id, question_id) DO UPDATE SET answer = excluded.answer, "
    "is_correct = excluded.is_correct, seq = excluded.seq, saved_at = excluded.saved_at "
    "WHERE response.seq < excluded.seq"
)
_RESPONSE_PARAMS = [bindparam(c.name, type_=c.type) for c in Response.__table__.c if c.name != "id"]
_UPSERT = text(
    "INSERT INTO response (attempt_id, question_id, answer, is_correct, seq, saved_at) "
    f"VALUES (:attempt_id, :question_id, :answer, :is_correct, :seq, :saved_at) {_ON_CONFLICT_UPDATE} RETURNING id"
).bindparams(*_RESPONSE_PARAMS)


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


def _upsert_response(attempt_id: int, question, answer: list, seq: int, now: datetime) -> bool:
    """Insert or update the (attempt, question) row only if `seq` is newer; True if it was written.

    Executed on the session's connection as Core, not through the ORM's bulk-insert path.
    """
    values = _response_values(attempt_id, question, answer, seq, now)
    return db.session.connection().execute(_UPSERT, values).first() is not None


def submit_attempt(
    attempt: Attempt,
    answers: dict[int, object] | None,
    grace_seconds: int,
    now: datetime | None = None,
) -> tuple[Attempt, str | None]:
    """Store the answers sent with the submit (the no-JavaScript form), then finish and grade. Commits.

    Returns the attempt and a notice for the member (e.g. the submit came too late and only the
    answers saved before the deadline were graded). A second submit returns the first result.
    """
    now = now or utcnow()
    attempt = _lock(attempt)
    if attempt.is_finished:
        return attempt, None
    notice = None
    late = attempt.deadline is not None and now > attempt.deadline + timedelta(seconds=grace_seconds)
    if answers and not late:
        seq = last_seq(attempt.id) + 1
        final = attempt.assignment.show_answers is ShowAnswers.IMMEDIATE
        for position, raw in answers.items():
            if 1 <= position <= len(attempt.paper):
                entry = attempt.paper[position - 1]
                question = db.session.get(Question, entry["q"])
                if final and _response(attempt.id, question.id) is not None:
                    continue  # in immediate mode an answer, once given and shown its key, is final
                try:
                    answer = decode_answer(question, entry["perm"], raw)
                except QuizError:
                    continue
                _upsert_response(attempt.id, question, answer, seq, now)
    elif answers and late:
        notice = "交卷时已超过答题截止时间，按截止前已保存的答案评分"
    _finish(attempt, min(now, attempt.deadline) if late and attempt.deadline else now)
    db.session.commit()
    return attempt, notice


def _finish(attempt: Attempt, when: datetime) -> bool:
    """Mark the attempt finished exactly once, grade it and update the member's result."""
    done = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.state == AttemptState.IN_PROGRESS)
        .values(state=AttemptState.FINISHED, finished_at=when)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(attempt)
    if done != 1:
        return False
    _grade(attempt)
    tallies.record_attempt(attempt)
    update_result(attempt)
    return True


def _grade(attempt: Attempt) -> None:
    questions = _questions_of(attempt)
    responses = list(db.session.scalars(select(Response).where(Response.attempt_id == attempt.id)))
    # Every question on a finished paper gets a row, unanswered ones as wrong: reports then count in SQL.
    answered = {r.question_id for r in responses}
    for qid in questions.keys() - answered:
        blank = Response(attempt_id=attempt.id, question_id=qid, answer=[], is_correct=False, seq=0,
                         saved_at=attempt.finished_at)
        db.session.add(blank)
        responses.append(blank)
    correct = 0
    for r in responses:
        r.is_correct = is_correct(questions[r.question_id], r.answer)
        correct += r.is_correct
    attempt.correct_count = correct
    attempt.total = len(attempt.paper)
    right = {r.question_id for r in responses if r.is_correct}
    mistakes.record_mistakes(attempt.user_id, [q for qid, q in questions.items() if qid not in right], attempt.finished_at)
    attempt.score = round(100.0 * correct / attempt.total, 1) if attempt.total else 0.0
    attempt.passed = attempt.score >= attempt.assignment.pass_mark


def update_result(attempt: Attempt) -> None:
    """Recompute the member's standing on the assignment from their finished attempts (does not commit)."""
    assignment = attempt.assignment
    finished = [a for a in attempts_of(assignment, attempt.user) if a.is_finished]
    if assignment.scoring is Scoring.LATEST:
        counted = max(finished, key=lambda a: a.number)
    else:
        counted = max(finished, key=lambda a: (a.score or 0, -a.number))
    result = db.session.get(MemberResult, (assignment.id, attempt.user_id))
    if result is None:
        result = MemberResult(assignment_id=assignment.id, user_id=attempt.user_id)
        db.session.add(result)
    result.attempts = len(finished)
    result.score = counted.score
    result.passed = bool(counted.passed)
    result.counted_attempt_id = counted.id
    result.finished_at = counted.finished_at


def close_if_overdue(attempt: Attempt, grace_seconds: int, now: datetime | None = None) -> bool:
    """Finish and grade an attempt whose deadline and grace have passed, with what was saved. Commits."""
    now = now or utcnow()
    if attempt.is_finished or attempt.deadline is None:
        return False
    if now <= attempt.deadline + timedelta(seconds=grace_seconds):
        return False
    attempt = _lock(attempt)
    closed = _finish(attempt, attempt.deadline)
    db.session.commit()
    return closed


def close_overdue(grace_seconds: int, now: datetime | None = None) -> int:
    """Close every attempt whose deadline and grace have passed; return how many. Commits each."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=grace_seconds)
    ids = db.session.scalars(
        select(Attempt.id).where(Attempt.state == AttemptState.IN_PROGRESS, Attempt.deadline < cutoff)
    ).all()
    db.session.rollback()
    return sum(close_if_overdue(db.session.get(Attempt, i), grace_seconds, now) for i in ids)


def answers_visible(attempt: Attempt, now: datetime | None = None) -> bool:
    """Whether the member may see the right answers and explanations for a finished attempt."""
    if not attempt.is_finished:
        return False
    if attempt.assignment.show_answers is ShowAnswers.AFTER_CLOSE:
        return (now or utcnow()) >= attempt.assignment.closes_at
    return True


def seconds_left(attempt: Attempt, now: datetime | None = None) -> int | None:
    """Seconds until the attempt's deadline, as the server counts them (None: no deadline)."""
    if attempt.deadline is None:
        return None
    return max(0, int((attempt.deadline - (now or utcnow())).total_seconds()))
