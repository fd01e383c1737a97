"""Records kept for audit: who exported what, and who corrected a question's key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .content import Question
from .org import User
from .types import UTCDateTime, utcnow


class ExportLog(db.Model):
    """One download of members' data: what, by whom, over which organisation."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(300), default="")
    rows: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()


class KeyCorrection(db.Model):
    """A wrong answer key corrected on one revision, or a correction reverted (`reverts_id`): who, when,
    why, the keys before and after, and what the regrade changed (`orgs`: [[name, papers, members], ...]
    per organisation the exam was given to).

    The key changes first; the papers are then regraded in batches, each committed with the counts so
    far and `progress` (services/exam/key_regrade.py). `finished_at` is empty until the last batch: a regrade
    cut short (a crash, a restart) is finished from `progress` by resuming it.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    old_answer: Mapped[list] = mapped_column(JSON)
    new_answer: Mapped[list] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(300), default="")
    attempts_regraded: Mapped[int] = mapped_column(default=0)  # finished papers holding the question
    members: Mapped[int] = mapped_column(default=0)  # members with such a paper
    scores_changed: Mapped[int] = mapped_column(default=0)  # papers whose score changed
    passes_changed: Mapped[int] = mapped_column(default=0)  # papers that went from fail to pass or back
    orgs: Mapped[list] = mapped_column(JSON, default=list)
    reverts_id: Mapped[int | None] = mapped_column(ForeignKey("key_correction.id"))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the regrade's last batch committed
    # While regrading: {"through": last member id whose papers are done (null: none yet), "practice":
    # last practice answer id done, "orgs": {org id: [papers, members]}}. Null once finished.
    progress: Mapped[dict | None] = mapped_column(JSON)

    by: Mapped[User | None] = relationship()
    question: Mapped[Question] = relationship()
    reverts: Mapped[KeyCorrection | None] = relationship(remote_side=[id])
