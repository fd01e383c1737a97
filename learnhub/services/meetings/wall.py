"""What the projector and the phones poll, and the figures on the wall. No key leaves here for a question
that still takes answers; phones never get a key at all (the room reads it on the wall)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import NamedTuple

from flask import current_app
from sqlalchemy import func, select

from ...extensions import db
from ...models import (
    KnowledgePoint, Meeting, MeetingAnswer, MeetingAttendance, MeetingQuestion, PointTally, Question, QuestionKind,
)
from ..bank.places import question_source
from ..exam import secrecy
from ..reports.mastery import Tally
from .polling import tag_of
from .running import Phase, current_question, phase_of
from .setup import branch_point_tallies

LETTERS = "ABCDEFGHIJ"
WITHHELD = "你正在参加含有这道题的考试，交卷前不显示这道题。"


def option_labels(question: Question) -> list[str]:
    """What the buttons say: A, B, C... or 对 / 错."""
    if question.kind is QuestionKind.TRUEFALSE:
        return ["对", "错"]
    return [LETTERS[i] for i in range(len(question.options))]


def _answer_index(question: Question, answer: list) -> list[int]:
    """Stored answer -> positions of the buttons it names."""
    if question.kind is QuestionKind.TRUEFALSE:
        return [0 if answer and answer[0] else 1]
    return [int(i) for i in answer]


def question_view(question: Question, sealed: frozenset[str]) -> dict:
    """The question as shown while it is asked: no key, no explanation, no article. Withheld whole from a
    viewer who sits an exam with it (its options' order is part of what they may not see yet)."""
    view = {"kind": question.kind.value, "kind_label": question.kind.label, "labels": option_labels(question)}
    if question.key in sealed:
        return {**view, "withheld": True, "stem": WITHHELD, "options": ["" for _ in view["labels"]]}
    return {**view, "stem": question.stem, "options": list(question.options)}


def joined_count(meeting_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting_id))


def _seconds_left(mq: MeetingQuestion, now: datetime) -> float:
    return max(0.0, round((mq.closes_at - now).total_seconds(), 1))


class Counts(NamedTuple):
    joined: int
    answered: int  # to the current question


def screen_counts(meeting: Meeting) -> Counts:
    """Who joined and how many answered the current question, in one query (a projector polls every few
    seconds: its ETag and its state both show them)."""
    joined = select(func.count()).select_from(MeetingAttendance).where(
        MeetingAttendance.meeting_id == meeting.id).scalar_subquery()
    answered = select(func.count()).select_from(MeetingAnswer).where(
        MeetingAnswer.meeting_id == meeting.id, MeetingAnswer.position == meeting.current).scalar_subquery()
    return Counts(*db.session.execute(select(joined, answered)).one())


def screen_tag(meeting: Meeting, now: datetime, counts: Counts | None = None) -> str:
    """The projector's ETag: changes with anything it shows (the phase, who joined, how many answered)."""
    phase = phase_of(meeting, now)
    counts = counts or screen_counts(meeting)
    answered = counts.answered if phase in (Phase.OPEN, Phase.CLOSING) else 0
    return f"s{meeting.id}.{meeting.version}.{phase.value}.{counts.joined}.{answered}"


def phone_tag(meeting: Meeting, now: datetime) -> str:
    return tag_of(meeting.id, meeting.version, phase_of(meeting, now))


def results(meeting: Meeting, mq: MeetingQuestion, sealed: frozenset[str], present: int | None = None) -> dict:
    """A closed question on the wall: share answered, choices per option, and (unless the viewer sits a
    paper with it) the right answer, explanation and article. Never names."""
    question = mq.question
    answers = list(db.session.scalars(select(MeetingAnswer.answer).where(
        MeetingAnswer.meeting_id == meeting.id, MeetingAnswer.position == mq.position)))
    labels = option_labels(question)
    counts = [0] * len(labels)
    for answer in answers:
        for i in _answer_index(question, answer):
            if 0 <= i < len(counts):
                counts[i] += 1
    present = joined_count(meeting.id) if present is None else present
    out = {"answered": len(answers), "present": present,
           "share": round(100.0 * len(answers) / present) if present else 0, "counts": counts}
    if question.key in sealed:
        out["withheld"] = True
    else:
        out.update(right=_answer_index(question, question.answer), explanation=question.explanation,
                   article=question.article, point=question.point.name, source=question_source(question))
    return out


@dataclass
class PointRow:
    point: KnowledgePoint
    before: Tally
    now: Tally


def summary(meeting: Meeting) -> list[PointRow]:
    """Per knowledge point asked: the class's first-try rate in this meeting, beside the branch's rate
    before (first tries on every quiz its members took, from the tallies)."""
    now_rows = db.session.execute(
        select(MeetingAnswer.point_id, func.count(), func.count().filter(MeetingAnswer.is_correct.is_(True)))
        .where(MeetingAnswer.meeting_id == meeting.id).group_by(MeetingAnswer.point_id)
    ).all()
    now = {pid: Tally(n, c) for pid, n, c in now_rows}
    point_ids = list(dict.fromkeys(mq.question.point_id for mq in meeting.questions))
    before = {pid: Tally(int(n), int(c)) for pid, n, c in db.session.execute(
        branch_point_tallies(meeting.org).where(PointTally.point_id.in_(point_ids)))}
    points = {p.id: p for p in db.session.scalars(select(KnowledgePoint).where(KnowledgePoint.id.in_(point_ids)))}
    return [PointRow(points[pid], before.get(pid, Tally()), now.get(pid, Tally())) for pid in point_ids]


def screen_state(meeting: Meeting, now: datetime, sealed: frozenset[str], counts: Counts | None = None) -> dict:
    """The projector's poll: the phase, the question being asked, the countdown, and after it the wall."""
    phase = phase_of(meeting, now)
    counts = counts or screen_counts(meeting)
    state = {"phase": phase.value, "position": meeting.current, "total": len(meeting.questions),
             "joined": counts.joined, "code": meeting.code}
    mq = current_question(meeting)
    if mq is not None and phase is not Phase.ENDED:
        state["question"] = question_view(mq.question, sealed)
        if phase in (Phase.OPEN, Phase.CLOSING):
            state["seconds_left"] = _seconds_left(mq, now)
            state["answered"] = counts.answered
        else:
            state["results"] = results(meeting, mq, sealed, counts.joined)
    if phase is Phase.ENDED:
        state["summary"] = [{"point": r.point.name, "before": r.before.rate, "before_n": r.before.answered,
                             "now": r.now.rate, "now_n": r.now.answered} for r in summary(meeting)]
    return state


# What every phone of a meeting is shown at one (version, phase), whoever asks: built once per process and
# kept (per app), since nothing shown changes without the version or the phase moving on (questions are
# never edited in place; no key is shown to a phone). The member's own parts (a question withheld from one
# who sits an exam with it, their own answer, the seconds left) are added per request.
_SHARED_LIMIT = 20_000


def _shared_store() -> dict:
    return current_app.extensions.setdefault("learnhub.meeting_phone_states", {})


def _shared_state(meeting: Meeting, now: datetime) -> tuple[dict, dict | None, Phase]:
    phase = phase_of(meeting, now)
    state = {"phase": phase.value, "position": meeting.current, "total": len(meeting.questions)}
    mq = current_question(meeting)
    current = None
    if mq is not None and phase is not Phase.ENDED:
        question = mq.question
        state["question"] = question_view(question, frozenset())
        current = {"position": mq.position, "key": question.key, "kind": question.kind, "closes_at": mq.closes_at,
                   "withheld": question_view(question, frozenset({question.key}))}
    return state, current, phase


def quick_phone_state(meeting_id: int, claim, parts, now: datetime) -> tuple[str, dict]:
    """A phone's full poll with its page's token, once polling.tag_parts has checked the login and the
    attendance and read the meeting's version and phase and the member's own parts (`parts`): the shared
    part of the state from this process's copy for that version and phase, then the member's own.
    Returns (ETag, state). No query unless this process has no copy yet or the member sits an exam."""
    store = _shared_store()
    key = (meeting_id, parts.created_at, parts.version, parts.phase.value)
    shared = store.get(key)
    version, phase_value = parts.version, parts.phase.value
    if shared is None:
        meeting = db.session.get(Meeting, meeting_id)
        state, current, phase = _shared_state(meeting, now)
        shared = (state, current)
        version, phase_value = meeting.version, phase.value
        if (version, phase_value) == key[2:]:  # unchanged since the check: keep it for the next phones
            if len(store) >= _SHARED_LIMIT:
                store.clear()
            store[key] = shared
    state, current = dict(shared[0]), shared[1]
    if current is not None:
        if parts.sitting and current["key"] in secrecy.sealed_keys(SimpleNamespace(id=claim.user_id), now):
            state["question"] = current["withheld"]
        if state["phase"] in (Phase.OPEN.value, Phase.CLOSING.value):
            state["seconds_left"] = max(0.0, round((current["closes_at"] - now).total_seconds(), 1))
        if parts.mine is not None and version == parts.version:  # read for this very question
            answer, seq = parts.mine
            state["mine"] = {"answer": _answer_index(SimpleNamespace(kind=current["kind"]), answer), "seq": seq}
    return tag_of(meeting_id, version, Phase(phase_value)), state


def phone_state(meeting: Meeting, user_id: int, now: datetime, sealed: frozenset[str]) -> dict:
    """A phone's poll: the question being asked (without its key) and this member's own answer to it."""
    phase = phase_of(meeting, now)
    state = {"phase": phase.value, "position": meeting.current, "total": len(meeting.questions)}
    mq = current_question(meeting)
    if mq is not None and phase is not Phase.ENDED:
        state["question"] = question_view(mq.question, sealed)
        if phase in (Phase.OPEN, Phase.CLOSING):
            state["seconds_left"] = _seconds_left(mq, now)
        mine = db.session.execute(select(MeetingAnswer.answer, MeetingAnswer.seq).where(
            MeetingAnswer.meeting_id == meeting.id, MeetingAnswer.position == mq.position,
            MeetingAnswer.user_id == user_id)).first()
        if mine is not None:
            state["mine"] = {"answer": _answer_index(mq.question, mine.answer), "seq": mine.seq}
    return state
