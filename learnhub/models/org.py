"""Organisations, members (the login users) and grants of authority over a subtree."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint, false, func, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class OrgKind(enum.Enum):
    """What an organisation is. Reports count members under their nearest branch (`is_branch`):
    党支部, 联合党支部 and 临时党支部 alike; committees and 党总支 roll branches up; a 党小组 sits in a branch."""

    COMMITTEE = "committee"  # 党委
    WORKING_COMMITTEE = "working_committee"  # 党工委
    ORGAN_COMMITTEE = "organ_committee"  # 机关党委
    GENERAL_BRANCH = "general_branch"  # 党总支
    BRANCH = "branch"  # 党支部
    JOINT_BRANCH = "joint_branch"  # 联合党支部
    TEMPORARY_BRANCH = "temporary_branch"  # 临时党支部
    GROUP = "group"  # 党小组

    @property
    def label(self) -> str:
        return ORG_KIND_LABELS[self]

    @property
    def is_branch(self) -> bool:
        """A 党支部 of any sort: the unit reports count members under."""
        return self in BRANCH_KINDS


ORG_KIND_LABELS = {
    OrgKind.COMMITTEE: "党委",
    OrgKind.WORKING_COMMITTEE: "党工委",
    OrgKind.ORGAN_COMMITTEE: "机关党委",
    OrgKind.GENERAL_BRANCH: "党总支",
    OrgKind.BRANCH: "党支部",
    OrgKind.JOINT_BRANCH: "联合党支部",
    OrgKind.TEMPORARY_BRANCH: "临时党支部",
    OrgKind.GROUP: "党小组",
}
BRANCH_KINDS = frozenset({OrgKind.BRANCH, OrgKind.JOINT_BRANCH, OrgKind.TEMPORARY_BRANCH})


class MemberCategory(enum.Enum):
    FULL = "full"  # 正式党员
    PROBATIONARY = "probationary"  # 预备党员

    @property
    def label(self) -> str:
        return "正式党员" if self is MemberCategory.FULL else "预备党员"


class Role(enum.Enum):
    SECRETARY = "secretary"  # 支部书记 / 组织委员: a branch
    ORGANISER = "organiser"  # 党委组织部门: a committee and everything beneath it

    @property
    def label(self) -> str:
        return "支部书记" if self is Role.SECRETARY else "党委组织员"


def _enum(cls):
    return Enum(cls, values_callable=lambda e: [m.value for m in e], native_enum=False, length=20)


class Organisation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[OrgKind] = mapped_column(_enum(OrgKind))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Materialised path such as '/1/7/42/': "everything under X" is one indexed prefix query.
    path: Mapped[str] = mapped_column(
        String(255).with_variant(String(255, collation="C"), "postgresql"), index=True, default=""
    )
    position: Mapped[int] = mapped_column(default=0)
    # A disabled organisation (and everything beneath it) keeps its members and their history, but
    # they no longer count in any figure (services/reports/counting.py) and it is offered nowhere new.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id])

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def is_within(self, other: Organisation) -> bool:
        """True if this organisation is `other` or lies beneath it."""
        return self.path.startswith(other.path)

    def __repr__(self) -> str:
        return f"<Organisation {self.code} {self.name}>"


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    member_no: Mapped[str] = mapped_column(String(32), unique=True)
    # Not unique: a family may share one phone, and a refusal would tell a secretary that the number
    # is registered in some other organisation. A phone login picks the account whose password matches.
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(50))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    category: Mapped[MemberCategory] = mapped_column(_enum(MemberCategory), default=MemberCategory.FULL)
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on sign-out-everywhere, password change and disabling (which also end every DeviceSession).
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # 大字模式: every page drawn in large type, with larger targets and stronger contrast (auth/display.py).
    large_type: Mapped[bool] = mapped_column(default=False, server_default=false())

    org: Mapped[Organisation] = relationship()
    grants: Mapped[list[Grant]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.member_no} {self.name}>"


# A login finds a member number whatever its case (d4002 is D4002): upper(member_no) is indexed, on
# SQLite and PostgreSQL alike. Not unique: older data may hold numbers that differ only in case, and a
# login then tries each of them by password, as for a shared phone.
Index("ix_user_member_no_upper", func.upper(User.member_no))


class Grant(db.Model):
    __table_args__ = (UniqueConstraint("user_id", "org_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role))

    user: Mapped[User] = relationship(back_populates="grants")
    org: Mapped[Organisation] = relationship()

    def __repr__(self) -> str:
        return f"<Grant {self.role.value} user={self.user_id} org={self.org_id}>"
