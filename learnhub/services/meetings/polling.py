"""The phones' poll made cheap, and paced so that one server carries hundreds of meetings at once.

A phone polls its meeting's state every few seconds; 500 meetings of 30 phones polling every 1.5 s
would be 10,000 requests a second, more than a 2-core server answers for an empty endpoint. Two
things keep it affordable (bench/README.md, "Meetings"):

- `seen_tag`: a poll that carries its answer page's token (meetings/access.py) and whose ETag still
  matches the meeting as this process last read it (clocks.py, at most a second ago) is a 304 without
  a query: it tells nothing but that nothing has moved.
- `tag_parts`: any other poll with the token is answered by one query that checks the login exactly
  as a session would (the device still signed in, the session version current, the account active,
  no first password pending) and that the member is in the meeting, and returns what the phone's ETag
  is made of with the member's own parts of the state (their answer; whether they sit an exam, when a
  question may have to be withheld). The shared part is built once per meeting phase (wall.py).
- `poll_after`: how long a client waits before its next poll, from the number of phones in meetings
  in progress and the budget MEETING_POLLS_PER_SECOND: 1.5 s for a phone (1 s for a projector) while
  few meetings run, longer when many do (up to 10 s; 5 s for a projector), so that all of them together
  stay near the budget.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from flask import current_app
from sqlalchemy import String, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import aliased

from ...models import (
    DeviceSession, Meeting, MeetingAnswer, MeetingAttendance, MeetingGuest, Organisation, User,
)
from ..exam.secrecy import papers_unseen
from . import clocks
from .running import Phase, question_phase

if TYPE_CHECKING:  # the web layer's type; services do not import it
    from ...security import SessionToken

PHONE_MS, SCREEN_MS, LONGEST_MS = 1500, 1000, 10_000
_COUNT_TTL_S = 10.0  # how often a process recounts the phones in meetings
_ACTIVE_HOURS = 12  # a meeting left open longer than this no longer counts as in progress

def may_join_clause(meeting_org_id, user):
    """SQL: `user` (a User entity in the query) may be in the meeting of organisation `meeting_org_id`: a
    member of it or of an organisation beneath it, or an invited guest (setup.may_join, in the query)."""
    member_org, meeting_org = aliased(Organisation), aliased(Organisation)
    beneath = (select(member_org.id).select_from(member_org).join(meeting_org, meeting_org.id == meeting_org_id)
               .where(member_org.id == user.org_id, member_org.path >= meeting_org.path,
                      member_org.path < func.substr(meeting_org.path, 1, func.length(meeting_org.path) - 1,
                                                      type_=String) + "0"))
    return or_(exists(beneath), exists().where(MeetingGuest.meeting_id == bindparam("meeting_id"),
                                               MeetingGuest.user_id == user.id))


def _mine(column):
    return (select(column).where(MeetingAnswer.meeting_id == Meeting.id, MeetingAnswer.position == Meeting.current,
                                 MeetingAnswer.user_id == User.id)
            .correlate(Meeting, User).scalar_subquery())


_TAG_PARTS = (
    clocks.CLOCK
    .add_columns(_mine(MeetingAnswer.answer).label("mine"), _mine(MeetingAnswer.seq).label("mine_seq"),
                 papers_unseen(User.id, bindparam("now")).label("sitting"))
    .join(MeetingAttendance, and_(MeetingAttendance.meeting_id == Meeting.id,
                                  MeetingAttendance.user_id == bindparam("user_id")))
    .join(User, and_(User.id == MeetingAttendance.user_id, User.session_version == bindparam("session_version"),
                     User.active, ~User.must_change_password))
    .join(DeviceSession, and_(DeviceSession.key_hash == bindparam("device"), DeviceSession.user_id == User.id,
                              DeviceSession.expires_at > bindparam("now")))
    .where(Meeting.id == bindparam("meeting_id"), may_join_clause(Meeting.org_id, User))
)


def tag_of(meeting_id: int, version: int, phase: Phase) -> str:
    """A phone's ETag: the meeting's version and where it stands (the phase moves on with the clock).
    The few seconds of CLOSING (time is up, answers in flight still taken) are the phone's own
    countdown at zero ("时间到"): they are not a change a phone polls for, so every phone of a meeting
    does not fetch the state once more for them."""
    shown = Phase.OPEN if phase is Phase.CLOSING else phase
    return f"p{meeting_id}.{version}.{shown.value}"


class TagParts(NamedTuple):
    version: int
    phase: Phase
    created_at: datetime  # with the id, names this very meeting (a process keeps state by it: wall.py)
    mine: tuple | None = None  # the member's answer to the current question and its seq
    sitting: bool = False  # the member has a paper whose keys they may not see yet


def _phase(row, now: datetime) -> Phase:
    if row.ended_at is not None:
        return Phase.ENDED
    if not row.current or row.opened_at is None:
        return Phase.LOBBY
    return question_phase(row, now)


def seen_tag(meeting_id: int, now: datetime) -> str | None:
    """The phone's ETag for the meeting as this process last read it (clocks.py), without a query; None
    if it has no copy of it (not open, or just opened)."""
    row = clocks.seen(meeting_id)
    return None if row is None else tag_of(meeting_id, row.version, _phase(row, now))


def tag_parts(meeting_id: int, claim: SessionToken, now: datetime) -> TagParts | None:
    """The meeting's version and phase, and the member's own parts, if `claim`'s login is valid and the
    member is in the meeting; else None (the caller then takes the full path, which answers as it always
    has)."""
    engine = current_app.extensions["learnhub.autocommit_engine"]
    with engine.connect() as conn:
        row = conn.execute(_TAG_PARTS, {"meeting_id": meeting_id, "user_id": claim.user_id, "now": now,
                                        "session_version": claim.session_version, "device": claim.device}).first()
    if row is None:
        return None
    mine = None if row.mine_seq is None else (row.mine, row.mine_seq)
    return TagParts(row.version, _phase(row, now), row.created_at, mine, bool(row.sitting))


class _PhoneCount:
    """The number of phones in meetings in progress, recounted by each process at most every 10 s."""

    def __init__(self):
        self.lock = threading.Lock()
        self.value, self.expires, self.engine = 0, 0.0, None

    def get(self, now: datetime) -> int:
        engine = current_app.extensions["learnhub.autocommit_engine"]
        if time.monotonic() < self.expires and self.engine is engine:
            return self.value
        with self.lock:
            if time.monotonic() >= self.expires or self.engine is not engine:
                with engine.connect() as conn:
                    self.value = conn.execute(
                        select(func.count()).select_from(MeetingAttendance)
                        .join(Meeting, Meeting.id == MeetingAttendance.meeting_id)
                        .where(Meeting.ended_at.is_(None), Meeting.created_at > now - timedelta(hours=_ACTIVE_HOURS))
                    ).scalar_one()
                self.expires, self.engine = time.monotonic() + _COUNT_TTL_S, engine
        return self.value


_phones = _PhoneCount()


def poll_after(screen: bool, now: datetime) -> int:
    """Milliseconds a phone (or a projector) should wait before its next poll."""
    budget = max(1.0, float(current_app.config["MEETING_POLLS_PER_SECOND"]))
    # Every phone and a projector for every 30 phones at the paced interval fill the budget. A projector
    # polls as often as its phones (its countdown runs by itself, its secretary's buttons redraw it at
    # once): its poll, by the session and with the live counts, costs as much as twenty phones' 304s.
    phones = _phones.get(now)
    paced = 1000 * phones * (1 + 1 / 30) / budget
    if screen:
        return int(min(LONGEST_MS // 2, max(SCREEN_MS, paced)))
    return int(min(LONGEST_MS, max(PHONE_MS, paced)))
