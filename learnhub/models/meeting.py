"""Meeting quizzes (会议测验): a live quiz in a branch meeting, its questions, attendance and answers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .content import Question
from .org import Organisation, User, _enum
from .types import UTCDateTime, utcnow


class MeetingKind(enum.Enum):
    GENERAL = "general"  # 支部党员大会
    LECTURE = "lecture"  # 党课
    THEME_DAY = "theme_day"  # 主题党日
    GROUP = "group"  # 党小组会
    OTHER = "other"  # 其他

    @property
    def label(self) -> str:
        return MEETING_KIND_LABELS[self]


MEETING_KIND_LABELS = {
    MeetingKind.GENERAL: "支部党员大会",
    MeetingKind.LECTURE: "党课",
    MeetingKind.THEME_DAY: "主题党日",
    MeetingKind.GROUP: "党小组会",
    MeetingKind.OTHER: "其他",
}


class Meeting(db.Model):
    """A live quiz for one branch. `code` is the short code phones type: set while the meeting is open,
    cleared when it ends, so it is unique among open meetings (a unique column allows many NULLs).
    `version` goes up at every change the projector and phones must see (a question opened or closed,
    a guest added, the end), so their polls compare one number."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[MeetingKind] = mapped_column(_enum(MeetingKind))
    code: Mapped[str | None] = mapped_column(String(8), unique=True)
    seconds: Mapped[int] = mapped_column(default=60)  # time per question
    current: Mapped[int] = mapped_column(default=0)  # position of the question shown; 0 before the first
    version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    org: Mapped[Organisation] = relationship()
    questions: Mapped[list[MeetingQuestion]] = relationship(
        order_by="MeetingQuestion.position", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.title}>"


class MeetingQuestion(db.Model):
    """A question of a meeting, in order: waiting (not opened), open until `closes_at`, or closed."""

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the server's deadline
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # closed early by the secretary

    question: Mapped[Question] = relationship()


class MeetingGuest(db.Model):
    """A member from outside the branch, invited by member number."""

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)

    user: Mapped[User] = relationship()


class MeetingAttendance(db.Model):
    """Who joined: the meeting's attendance. `org_id` is where the member belonged when they joined."""

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    guest: Mapped[bool] = mapped_column(default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class MeetingAnswer(db.Model):
    """A member's answer to a meeting question: one row per (meeting, position, member); a later answer
    replaces it while the question is open (by `seq`). It is a first-try response given in a meeting:
    `point_id` and `org_id` are kept so mastery can count it per branch and knowledge point."""

    __table_args__ = (Index("ix_meeting_answer_point_org", "point_id", "org_id"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    point_id: Mapped[int] = mapped_column(ForeignKey("knowledge_point.id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    answer: Mapped[list] = mapped_column(JSON)
    is_correct: Mapped[bool] = mapped_column(default=False)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
