"""Signed-in devices: each login is a row on the server, so logging out, or out of every device, really ends it.

A login gets a random session key (kept in the signed session cookie) and, with 保持登录, a random
remember-me token (its own cookie); the database keeps only their SHA-256 digests (DeviceSession). A
request is signed in while its device's row exists and has not expired. The remember-me token signs a
device back in once its session cookie is gone, and is replaced (with the session key) each time it
does; deleting the row ends both.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from ...extensions import db
from ...models import DeviceSession, User, utcnow
from .. import ServiceError


def _new_key() -> str:
    """A session key: 128 random bits (OWASP asks 64), short because every request's cookie carries it."""
    return secrets.token_urlsafe(16)


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a session key or a remember-me token is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Issued:
    """The secrets a device receives (only ever here, never stored in clear)."""

    device_id: int
    session_key: str
    remember_token: str | None
    expires_at: datetime


def start(user: User, user_agent: str, remember: bool, lifetime: timedelta, now: datetime | None = None) -> Issued:
    """Record a new login of the user on a device; forget their expired ones. Does not commit (the login does)."""
    now = now or utcnow()
    db.session.execute(
        delete(DeviceSession).where(DeviceSession.user_id == user.id, DeviceSession.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    key, token = _new_key(), secrets.token_urlsafe(32) if remember else None
    row = DeviceSession(
        user_id=user.id, key_hash=digest(key), remember_hash=digest(token) if token else None,
        created_at=now, last_used_at=now, expires_at=now + lifetime, user_agent=summarise(user_agent),
    )
    db.session.add(row)
    db.session.flush()
    return Issued(row.id, key, token, row.expires_at)


def signed_in_user(user_id: int, session_version: int, session_key: str) -> User | None:
    """The user a session cookie names, if its device is still signed in and nothing signed it out since."""
    return user_of_device(user_id, session_version, digest(session_key))


def user_of_device(user_id: int, session_version: int, key_hash: str) -> User | None:
    """The user, if the device login stored as `key_hash` is still theirs and signed in, and their
    session version still `session_version` (a password change or 退出所有设备 moves it on)."""
    user = db.session.scalar(
        select(User).join(DeviceSession, DeviceSession.user_id == User.id)
        .where(User.id == user_id, DeviceSession.key_hash == key_hash, DeviceSession.expires_at > utcnow())
    )
    if user is None or user.session_version != session_version or not user.active:
        return None
    return user


def restore(remember_token: str, user_agent: str, now: datetime | None = None) -> tuple[User, Issued] | None:
    """Sign a device back in with its remember-me token; the token and the session key are replaced. Commits.

    A token already replaced, revoked or expired signs nothing in. Two requests racing with the same
    token: the row is read FOR UPDATE, so the second finds the token already replaced.
    """
    now = now or utcnow()
    row = db.session.scalar(
        select(DeviceSession).where(DeviceSession.remember_hash == digest(remember_token)).with_for_update()
    )
    if row is None or row.expires_at <= now or not row.user.active:
        db.session.rollback()
        return None
    key, token = _new_key(), secrets.token_urlsafe(32)
    row.key_hash, row.remember_hash, row.last_used_at = digest(key), digest(token), now
    if user_agent:
        row.user_agent = summarise(user_agent)
    issued = Issued(row.id, key, token, row.expires_at)
    user = row.user
    db.session.commit()
    return user, issued


def end(session_key: str | None, remember_token: str | None) -> None:
    """Log one device out: its session key and its remember-me token stop working. Commits."""
    names = [DeviceSession.key_hash == digest(session_key)] if session_key else []
    if remember_token:
        names.append(DeviceSession.remember_hash == digest(remember_token))
    if names:
        db.session.execute(delete(DeviceSession).where(or_(*names)).execution_options(synchronize_session=False))
    db.session.commit()


def end_all(user: User, keep_key: str | None = None) -> None:
    """End every login of the user (but the device holding `keep_key`) and bump the session version.

    Does not commit: password changes, resets and disabling call it inside their own use case.
    """
    query = delete(DeviceSession).where(DeviceSession.user_id == user.id)
    if keep_key:
        query = query.where(DeviceSession.key_hash != digest(keep_key))
    db.session.execute(query.execution_options(synchronize_session=False))
    # In SQL: two of these at once (a reset racing a password change) both count.
    user.session_version = User.session_version + 1


def sign_out_everywhere(user: User) -> None:
    """Sign the user out of every device, this one included, and revoke every remember-me token. Commits."""
    end_all(user)
    db.session.commit()


def devices(user: User) -> list[DeviceSession]:
    """The user's signed-in devices, the most recently used first."""
    return list(db.session.scalars(
        select(DeviceSession).where(DeviceSession.user_id == user.id, DeviceSession.expires_at > utcnow())
        .order_by(DeviceSession.last_used_at.desc(), DeviceSession.id.desc())
    ))


def current_device_id(user: User, session_key: str | None) -> int | None:
    """The id of the device row the session key belongs to (to mark "本设备")."""
    if not session_key:
        return None
    return db.session.scalar(
        select(DeviceSession.id).where(DeviceSession.user_id == user.id, DeviceSession.key_hash == digest(session_key))
    )


def revoke(user: User, device_id: int) -> None:
    """Sign one of the user's own devices out (its remember-me token too). Commits.

    :raise ServiceError: the device is not (or no longer) one of theirs.
    """
    if not 0 < device_id < 2**31:  # no such row, and PostgreSQL's integer would refuse the number
        raise ServiceError("没有找到这台设备，它可能已经退出登录")
    deleted = db.session.execute(
        delete(DeviceSession).where(DeviceSession.id == device_id, DeviceSession.user_id == user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not deleted:
        db.session.rollback()
        raise ServiceError("没有找到这台设备，它可能已经退出登录")
    db.session.commit()


_SYSTEMS = [("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("HarmonyOS", "鸿蒙"),
            ("Windows", "Windows"), ("Macintosh", "Mac"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]
_BROWSERS = [("MicroMessenger", "微信"), ("DingTalk", "钉钉"), ("Edg", "Edge"), ("Firefox", "Firefox"),
             ("Chrome", "Chrome"), ("Safari", "Safari")]


def summarise(user_agent: str) -> str:
    """A short, human name for a device from its User-Agent ("Android · 微信"); never the raw string."""
    system = next((name for token, name in _SYSTEMS if re.search(rf"\b{token}", user_agent or "")), "")
    browser = next((name for token, name in _BROWSERS if token in (user_agent or "")), "")
    return " · ".join(part for part in (system, browser) if part) or "未知设备"
