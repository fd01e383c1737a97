"""Practice outside assignments, the mistake book, exemptions and members' reports of faulty questions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .content import Question
from .org import User, _enum
from .types import UTCDateTime, utcnow


class PracticeMode(enum.Enum):
    DAILY = "daily"  # 每日一练
    CHAPTER = "chapter"  # 章节练习
    REVIEW = "review"  # 错题复习
    EARLY = "early"  # a mistake practised before its review day: a wrong answer counts, a right one waits


def _key_of_question(context) -> str:
    """Default for PracticeAnswer.question_key: the stable key of the answered revision."""
    question_id = context.get_current_parameters()["question_id"]
    return context.connection.scalar(select(Question.key).where(Question.id == question_id))


class PracticeAnswer(db.Model):
    """One answer given in practice, with instant feedback; `first_try` marks the member's first go at that question.

    Exactly one answer per member and question key is the first try: a partial unique index holds it
    even when two pages of the member answer the same question at once (another revision included).
    """

    __table_args__ = (
        Index("ix_practice_answer_user_time", "user_id", "answered_at"),
        Index("uq_practice_answer_first_try", "user_id", "question_key", unique=True,
              sqlite_where=text("first_try"), postgresql_where=text("first_try")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    question_key: Mapped[str] = mapped_column(String(64), default=_key_of_question)  # the question's stable key
    mode: Mapped[PracticeMode] = mapped_column(_enum(PracticeMode))
    answer: Mapped[list] = mapped_column(JSON)
    is_correct: Mapped[bool] = mapped_column(default=False)
    first_try: Mapped[bool] = mapped_column(default=False)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    question: Mapped[Question] = relationship()


class PracticeServed(db.Model):
    """A question the server showed a member in practice. Practice grades only these, never a question id
    from the request: the form carries this row's id, and the question and mode come from the row."""

    __table_args__ = (Index("ix_practice_served_user_question", "user_id", "question_id", "mode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    mode: Mapped[PracticeMode] = mapped_column(_enum(PracticeMode))
    served_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The answer it received; set once, so a second submit of the same page shows the same feedback.
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("practice_answer.id", ondelete="CASCADE"))

    question: Mapped[Question] = relationship()
    answer: Mapped[PracticeAnswer | None] = relationship()


class MistakeCard(db.Model):
    """A question the member got wrong, scheduled for spaced review (FSRS) until answered right a few times."""

    __table_args__ = (
        UniqueConstraint("user_id", "question_key"),
        Index("ix_mistake_card_user_due", "user_id", "cleared_at", "due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(64))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    card: Mapped[dict] = mapped_column(JSON)
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    right_streak: Mapped[int] = mapped_column(default=0)
    lapses: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    question: Mapped[Question] = relationship()


class ExemptionReason(enum.Enum):
    LEAVE = "leave"
    SICK = "sick"
    AWAY = "away"
    NO_PHONE = "no_phone"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"leave": "请假", "sick": "生病", "away": "外出务工", "no_phone": "无智能手机", "other": "其他"}[self.value]


class Exemption(db.Model):
    """免学: a member excused from an assignment, with who decided it and why. Revoked rows are kept for audit."""

    __table_args__ = (
        Index("ix_exemption_assignment_user", "assignment_id", "user_id"),
        # One active exemption per member and assignment: a double tap cannot list a member twice.
        Index("uq_exemption_active", "assignment_id", "user_id", unique=True,
              sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    reason: Mapped[ExemptionReason] = mapped_column(_enum(ExemptionReason))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class ReportStatus(enum.Enum):
    OPEN = "open"
    RESOLVED = "resolved"


class QuestionReport(db.Model):
    """题目有误: a member's note that a question looks wrong, queued for the organisers."""

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(Text, default="")
    # The option texts in the order the member saw them (options are shuffled per paper), so that their
    # "选项B" can be read; None when filed without a paper (practice shows the stored order).
    shown_options: Mapped[list | None] = mapped_column(JSON)
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus), default=ReportStatus.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str] = mapped_column(String(200), default="")

    question: Mapped[Question] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
