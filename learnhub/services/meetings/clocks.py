"""Where each open meeting stands, as this process read it at most a second ago: its version and the
clock of its current question, for every open meeting in one query.

A phone's poll whose ETag still matches what this copy makes of the meeting is answered 304 without
touching the database (polling.seen_tag). The copy may be up to CLOCK_TTL_S behind a change made in
another process (a phone then sees the change one poll later, as if it had polled a second later); a
change made in this process is seen at once (`changed`). A 304 gives nothing away: it tells a page that
already holds the state that nothing has moved. Anything with a body goes through the full check.
"""

from __future__ import annotations

import threading
import time

from flask import current_app
from sqlalchemy import and_, select

from ...models import Meeting, MeetingQuestion

CLOCK_TTL_S = 1.0

# A meeting's clock: its version, its end, and the times of the question it shows (polling.py reads
# the same columns for one meeting with the member's login and own parts).
CLOCK = (
    select(Meeting.id, Meeting.version, Meeting.created_at, Meeting.ended_at, Meeting.current,
           MeetingQuestion.opened_at, MeetingQuestion.closes_at, MeetingQuestion.closed_at)
    .select_from(Meeting)
    .outerjoin(MeetingQuestion, and_(MeetingQuestion.meeting_id == Meeting.id,
                                     MeetingQuestion.position == Meeting.current))
)
_OPEN_CLOCKS = CLOCK.where(Meeting.code.isnot(None))  # open meetings hold a code (the unique index finds them)


class _Clocks:
    def __init__(self):
        self.lock = threading.Lock()
        self.copy: tuple = (None, {})  # (the engine it was read from, meeting id -> row)
        self.expires = 0.0
        self.generation = 0  # moves on at every change made in this process

    def get(self, meeting_id: int):
        """The meeting's row (version, created_at, ended_at, current and its question's times), or None if
        it is not open (or was opened after the last read)."""
        engine = current_app.extensions["learnhub.autocommit_engine"]
        if self.copy[0] is not engine or time.monotonic() >= self.expires:
            # One thread reads; the others go on with the copy they have (unless it is another app's).
            if self.lock.acquire(blocking=self.copy[0] is not engine):
                try:
                    if self.copy[0] is not engine or time.monotonic() >= self.expires:
                        self._read(engine)
                finally:
                    self.lock.release()
        read_from, rows = self.copy
        return rows.get(meeting_id) if read_from is engine else None

    def _read(self, engine) -> None:
        generation = self.generation
        with engine.connect() as conn:
            rows = {row.id: row for row in conn.execute(_OPEN_CLOCKS)}
        self.copy = (engine, rows)
        # A change made while reading may be missing from this copy: read again at the next poll.
        self.expires = time.monotonic() + CLOCK_TTL_S if generation == self.generation else 0.0

    def changed(self) -> None:
        self.generation += 1
        self.expires = 0.0


_clocks = _Clocks()
seen = _clocks.get
changed = _clocks.changed
