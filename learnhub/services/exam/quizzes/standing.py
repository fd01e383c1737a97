"""Where a member stands on an assignment, as their pages say it: finished or not, passed or not, how
many tries are left and whether one may start now, and whether the time ran out on the last paper.

An attempt whose time ran out but which nobody has closed yet (the member closed the page) is closed
here, with what was saved, as opening it would: a page never says 答题中 / 继续答题 for a paper whose
time is up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ....extensions import db
from ....models import Assignment, Attempt, AttemptState, MemberResult, Organisation, User, utcnow
from .handin import close_if_overdue
from .papers import assignments_for, attempts_of, open_attempt, result_of


@dataclass
class Standing:
    assignment: Assignment
    result: MemberResult | None
    attempts: list[Attempt]  # in order, the open one (if any) last
    now: datetime

    @property
    def open_attempt(self) -> Attempt | None:
        return next((a for a in self.attempts if not a.is_finished), None)

    @property
    def finished(self) -> bool:
        return self.result is not None and self.result.finished_at is not None

    @property
    def passed(self) -> bool:
        return self.finished and bool(self.result.passed)

    @property
    def tries_left(self) -> int | None:
        """Attempts the member may still start (None: no limit)."""
        limit = self.assignment.max_attempts
        return None if not limit else max(0, limit - len(self.attempts))

    @property
    def can_start(self) -> bool:
        """A new attempt may start now: a quiz, none open, the window open, a try left."""
        a = self.assignment
        return (a.has_quiz and self.open_attempt is None and a.opens_at <= self.now < a.closes_at
                and self.tries_left != 0)

    @property
    def retry_offered(self) -> bool:
        """Finished without passing, and may try again now: the pages say so and offer 再答一次."""
        return self.finished and not self.passed and self.can_start

    @property
    def timed_out(self) -> bool:
        """The member's last finished paper was handed in by the clock: 时间已到，已自动交卷."""
        done = [a for a in self.attempts if a.is_finished]
        return bool(done) and done[-1].timed_out


def close_if_overdue_for(assignment: Assignment, user: User, grace_seconds: int, now: datetime | None = None) -> bool:
    """Close the member's open attempt on the assignment if its time and grace have run out. Commits."""
    attempt = open_attempt(assignment, user)
    return attempt is not None and close_if_overdue(attempt, grace_seconds, now)


def standing(assignment: Assignment, user: User, grace_seconds: int, now: datetime | None = None) -> Standing:
    """The member's standing on one assignment, after closing a paper whose time ran out. May commit."""
    now = now or utcnow()
    close_if_overdue_for(assignment, user, grace_seconds, now)
    return Standing(assignment, result_of(assignment, user), attempts_of(assignment, user), now)


def standings(user: User, grace_seconds: int, now: datetime | None = None) -> list[Standing]:
    """The member's standing on each assignment given to them, newest first (their home page)."""
    now = now or utcnow()
    return [standing(a, user, grace_seconds, now) for a in assignments_for(user)]


def close_time_up(assignment_ids: list[int], where, grace_seconds: int, now: datetime | None = None) -> int:
    """Close, as `attempts close-overdue` would, every paper of these assignments whose time and grace ran
    out, of members matching `where` (SQL over User and Organisation: the viewer's scope, a branch).

    The staff pages and exports call it before counting: a paper whose time is up is then handed in by
    the clock (时间已到，已自动交卷) and scored with what was saved, never shown as 答题中. Commits each
    one closed; returns how many.
    """
    if not assignment_ids:
        return 0
    now = now or utcnow()
    ids = db.session.scalars(
        select(Attempt.id).join(User, User.id == Attempt.user_id).join(Organisation, Organisation.id == User.org_id)
        .where(Attempt.assignment_id.in_(assignment_ids), Attempt.state == AttemptState.IN_PROGRESS,
               Attempt.deadline < now - timedelta(seconds=grace_seconds), where)
    ).all()
    return sum(close_if_overdue(db.session.get(Attempt, i), grace_seconds, now) for i in ids)
