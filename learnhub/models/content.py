"""What members learn from: the knowledge-point tree, study materials and questions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .org import Organisation, _enum
from .types import UTCDateTime, utcnow


class PointLevel(enum.Enum):
    PART = "part"  # 总纲 or a chapter
    ARTICLE = "article"  # 第X条, or a section of the general programme
    POINT = "point"  # what questions and materials hang on


BUILTIN_SUBJECT_ID = 1  # the Party Constitution (2022): made by the migration that brought subjects (i15s)
BUILTIN_SUBJECT_NAME = "中国共产党章程（2022年修订）"
BUILTIN_SUBJECT_DESCRIPTION = "党的二十大通过的党章：总纲和十一章，按条文和知识点组织。"


class Subject(db.Model):
    """What members study, as parts and knowledge points: the built-in 党章 (owner NULL, admins edit it) or a
    subject an organisation adds (visible to its subtree, edited by its organisers)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    owner_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Retired: gone from lists and forms; its questions stay on the papers that hold them.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[Organisation | None] = relationship()

    @property
    def is_builtin(self) -> bool:
        return self.owner_org_id is None

    def __repr__(self) -> str:
        return f"<Subject {self.id} {self.name}>"


class KnowledgePoint(db.Model):
    """A node of a subject's tree: a part (总纲, a chapter, or an organisation's own part), for the 党章 an
    article, and the knowledge points questions and materials hang on. Names are unique per level within a
    subject; a node belongs to its parent's subject."""

    __table_args__ = (UniqueConstraint("subject_id", "level", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subject.id"), index=True, default=BUILTIN_SUBJECT_ID, server_default=str(BUILTIN_SUBJECT_ID)
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_point.id"), index=True)
    level: Mapped[PointLevel] = mapped_column(_enum(PointLevel))
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    # The organisation whose import created this node (its bank's questions hang on it), or NULL: built-in.
    owner_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Retired (a point): gone from lists and forms; its questions stay on the papers that hold them.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    parent: Mapped[KnowledgePoint | None] = relationship(remote_side=[id])
    subject: Mapped[Subject] = relationship()

    def __init__(self, **kwargs):
        # A node belongs to its parent's subject unless told otherwise.
        parent = kwargs.get("parent")
        if parent is not None and "subject_id" not in kwargs and "subject" not in kwargs:
            if parent.subject is not None:
                kwargs["subject"] = parent.subject
            else:
                kwargs["subject_id"] = parent.subject_id if parent.subject_id is not None else BUILTIN_SUBJECT_ID
        super().__init__(**kwargs)

    def __repr__(self) -> str:
        return f"<KnowledgePoint {self.level.value} {self.name}>"


@event.listens_for(Subject.__table__, "after_create")
def _builtin_subject_row(table, connection, **kw):
    """`db.create_all()` (tests, a first install without migrations) gets the built-in subject as the
    migration makes it: nodes default to it."""
    connection.execute(table.insert().values(id=BUILTIN_SUBJECT_ID, name=BUILTIN_SUBJECT_NAME,
                                             description=BUILTIN_SUBJECT_DESCRIPTION,
                                             position=0, created_at=utcnow()))
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT setval(pg_get_serial_sequence('subject', 'id'), 1)"))


material_point = Table(
    "material_point",
    db.metadata,
    Column("material_id", ForeignKey("material.id", ondelete="CASCADE"), primary_key=True),
    Column("point_id", ForeignKey("knowledge_point.id", ondelete="CASCADE"), primary_key=True),
)


class Material(db.Model):
    """A study material of a subject, tied to its knowledge points. The built-in notes are the built-in
    subject's materials owned by the installation (owner NULL: admins edit them); an organisation's
    materials are edited by its organisers and read by its subtree (services/study/material_access.py).
    `title` and `body_md` are the current version's (models/study.py: MaterialVersion keeps every one)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    part: Mapped[str] = mapped_column(String(100), default="")
    body_md: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subject.id"), index=True, default=BUILTIN_SUBJECT_ID, server_default=str(BUILTIN_SUBJECT_ID)
    )
    owner_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # The current version's number (material_version.number); 1 for a material never edited.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Retired: gone from lists and new assignments; readings and old assignments keep it.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    points: Mapped[list[KnowledgePoint]] = relationship(secondary=material_point)
    subject: Mapped[Subject] = relationship()
    owner: Mapped[Organisation | None] = relationship()

    @property
    def is_builtin(self) -> bool:
        return self.owner_org_id is None

    def __repr__(self) -> str:
        return f"<Material {self.slug}>"


class QuestionKind(enum.Enum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUEFALSE = "truefalse"
    FILL = "fill"

    @property
    def label(self) -> str:
        return {"single": "单选题", "multiple": "多选题", "truefalse": "判断题", "fill": "填空题"}[self.value]


class Question(db.Model):
    """One revision of a question. Editing a question that is on any paper (or answered in practice,
    reported, corrected) adds a revision, so nothing a member has seen changes under them.

    `owner_org_id`: the organisation whose bank it is (its organisers edit it; it is visible to that
    organisation's subtree), or NULL for the built-in bank that only admins edit. Every revision of a
    key has the same owner.

    `answer` is canonical JSON: option indexes for choice questions, [true]/[false] for
    true/false, and a list of accepted spellings per blank for fill-in.
    """

    __table_args__ = (
        UniqueConstraint("key", "revision"),
        Index("ix_question_current_point", "is_current", "point_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    revision: Mapped[int] = mapped_column(default=1)
    is_current: Mapped[bool] = mapped_column(default=True)
    retired: Mapped[bool] = mapped_column(default=False)
    kind: Mapped[QuestionKind] = mapped_column(_enum(QuestionKind))
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[list] = mapped_column(JSON, default=list)
    answer: Mapped[list] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text, default="")
    article: Mapped[str] = mapped_column(String(20))
    point_id: Mapped[int] = mapped_column(ForeignKey("knowledge_point.id"), index=True)
    difficulty: Mapped[int] = mapped_column(default=1)
    version: Mapped[str] = mapped_column(String(10), default="2022")
    source: Mapped[str] = mapped_column(String(100), default="")
    owner_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    point: Mapped[KnowledgePoint] = relationship()
    owner: Mapped[Organisation | None] = relationship()

    def __repr__(self) -> str:
        return f"<Question {self.key} r{self.revision}>"
