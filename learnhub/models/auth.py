"""Signed-in devices (so that logging out ends something on the server) and shared rate-limit counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .org import User
from .types import UTCDateTime, utcnow


class DeviceSession(db.Model):
    """One login on one device. The session cookie carries a random key and, with 保持登录, the remember-me
    cookie a random token; only their SHA-256 digests are kept here. Deleting the row ends both."""

    # Unique on the key with the user after it: an answer save's check (services/exam/quizzes.py) reads this
    # index alone, not the table (each page a save touches costs it, as SQLite rereads pages after writes).
    __table_args__ = (UniqueConstraint("key_hash", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    remember_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The login, or the last time the remember-me token signed the device back in (and was rotated);
    # not touched by ordinary requests, which never write.
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A login lasts at most this long, whatever its cookies say (REMEMBER_DAYS after the login).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(String(60), default="")  # a summary: "Android · 微信"

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<DeviceSession {self.id} user={self.user_id}>"


class RateCounter(db.Model):
    """A fixed-window counter of the rate limits, when no Redis is configured (learnhub/counters.py).

    `name` holds the scope, the key and the window length (e.g. "LIMITER/login-pair/<who>/<address>/5/15/minute");
    the window ends at `expires_at` (seconds since the epoch, as the limits library counts), when the count
    starts again from zero.
    """

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[float] = mapped_column(index=True)

    def __repr__(self) -> str:
        return f"<RateCounter {self.name} {self.hits}>"
