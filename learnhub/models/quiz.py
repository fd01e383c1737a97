"""Assignments (study tasks and exams), attempts, responses and each member's result."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, String, Table, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .content import Material, Question
from .org import Organisation, User, _enum
from .types import UTCDateTime, utcnow


class AssignmentKind(enum.Enum):
    STUDY = "study"  # 学习任务
    EXAM = "exam"  # 考试

    @property
    def label(self) -> str:
        return "学习任务" if self is AssignmentKind.STUDY else "考试"


class Scoring(enum.Enum):
    HIGHEST = "highest"
    LATEST = "latest"


class ShowAnswers(enum.Enum):
    IMMEDIATE = "immediate"  # each answer is final once given, and its key and explanation show at once
    AFTER_SUBMIT = "after_submit"
    AFTER_CLOSE = "after_close"


class AttemptState(enum.Enum):
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"


assignment_material = Table(
    "assignment_material",
    db.metadata,
    Column("assignment_id", ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True),
    Column("material_id", ForeignKey("material.id", ondelete="CASCADE"), primary_key=True),
)


class Assignment(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AssignmentKind] = mapped_column(_enum(AssignmentKind), default=AssignmentKind.STUDY)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pass_mark: Mapped[int] = mapped_column(default=60)
    time_limit_minutes: Mapped[int | None] = mapped_column()
    max_attempts: Mapped[int] = mapped_column(default=1)
    scoring: Mapped[Scoring] = mapped_column(_enum(Scoring), default=Scoring.HIGHEST)
    show_answers: Mapped[ShowAnswers] = mapped_column(_enum(ShowAnswers), default=ShowAnswers.AFTER_SUBMIT)
    # Draw rules for a paper drawn per member: [{"point_id"|"part_id"|"subject_id": id, "count": n,
    # "difficulty": 1-3|null}] ("subject_id": a whole subject).
    # Empty: everyone gets the fixed list in `questions` (in their own shuffled order).
    draw_rules: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Withdrawn before anyone started it: kept for the record, gone from every task list and report.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # "Read these materials, then take this quiz": a member starts the quiz once every material is read.
    read_first: Mapped[bool] = mapped_column(default=False, server_default=false())

    org: Mapped[Organisation] = relationship()
    materials: Mapped[list[Material]] = relationship(secondary=assignment_material, order_by=Material.position)
    questions: Mapped[list[AssignmentQuestion]] = relationship(
        order_by="AssignmentQuestion.position", cascade="all, delete-orphan"
    )

    @property
    def has_quiz(self) -> bool:
        """A fixed paper, or rules to draw one per member."""
        return bool(self.questions or self.draw_rules)

    @property
    def paper_size(self) -> int:
        """Questions on a paper (at most, for drawn papers: a small pool may give fewer)."""
        return sum(int(r["count"]) for r in self.draw_rules) if self.draw_rules else len(self.questions)

    def __repr__(self) -> str:
        return f"<Assignment {self.id} {self.title}>"


class AssignmentQuestion(db.Model):
    """A question on an assignment's fixed paper, in order."""

    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)

    question: Mapped[Question] = relationship()


class Attempt(db.Model):
    """One member's go at an assignment's quiz. The paper and the deadline live here, on the server."""

    __table_args__ = (
        UniqueConstraint("assignment_id", "user_id", "number"),
        Index("ix_attempt_user_assignment", "user_id", "assignment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(default=1)
    state: Mapped[AttemptState] = mapped_column(_enum(AttemptState), default=AttemptState.IN_PROGRESS)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # [{"q": question_id, "perm": [shown position -> stored option index]}, ...]
    paper: Mapped[list] = mapped_column(JSON, default=list)
    correct_count: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    score: Mapped[float | None] = mapped_column()
    passed: Mapped[bool | None] = mapped_column()
    # 代录: a paper result recorded by a secretary for a member without a phone.
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    entry_note: Mapped[str] = mapped_column(String(200), default="")

    assignment: Mapped[Assignment] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])

    @property
    def is_finished(self) -> bool:
        return self.state is AttemptState.FINISHED

    @property
    def timed_out(self) -> bool:
        """Handed in by the clock: finished at or after its deadline (closed with what was saved, or sent
        by the page when the countdown ran out). Never a 代录."""
        return (self.is_finished and self.entered_by_id is None and self.deadline is not None
                and self.finished_at is not None and self.finished_at >= self.deadline)

    def __repr__(self) -> str:
        return f"<Attempt {self.id} a={self.assignment_id} u={self.user_id} #{self.number}>"


class Response(db.Model):
    """One answer per (attempt, question): a resend updates it, a stale resend loses by `seq`."""

    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    # Canonical, in the stored option order (not the shuffled order the member saw).
    answer: Mapped[list] = mapped_column(JSON)
    is_correct: Mapped[bool] = mapped_column(default=False)
    # When the answer was given, as the page numbers it: server milliseconds x 1000 + the page's id
    # (quiz.js), so that answers from two pages of one paper order by time and never tie.
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    question: Mapped[Question] = relationship()


class MemberResult(db.Model):
    """A member's standing on an assignment, kept up to date at each submit, so reports aggregate rows."""

    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    score: Mapped[float | None] = mapped_column()
    passed: Mapped[bool] = mapped_column(default=False)
    counted_attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempt.id", ondelete="SET NULL"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class PointTally(db.Model):
    """First-try answers per (assignment, member's organisation, knowledge point): what the weak-branch
    report counts, kept up to date as attempts are graded (services/reports/tallies.py) so the report reads a
    few rows per branch instead of every response. Counts members' first finished self-taken attempts
    (number 1, not 代录), active members only, under the organisation they belong to now."""

    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("knowledge_point.id", ondelete="CASCADE"), primary_key=True)
    answered: Mapped[int] = mapped_column(default=0)
    correct: Mapped[int] = mapped_column(default=0)
