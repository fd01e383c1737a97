"""Rate-limit counters that every server process shares: in Redis when configured, else in the database.

Flask-Limiter's `memory://` storage counts per process: with two workers a "30 per minute" limit let
57 of 70 posts through. So there is no per-process choice: RATELIMIT_STORAGE_URI is either a Redis URI,
or empty (the default), in which case the counters are rows of the app's own database (`rate_counter`),
through a storage the limits library (under Flask-Limiter) uses like any other. `memory://`, the old
default, means the database too, with a warning in the log.

The app keeps its own handle on the same storage for the failed-login counts
(`app.extensions["learnhub.counters"]`, services/auth/login.py): they apply whether or not Flask-Limiter's
request limits are switched on.
"""

from __future__ import annotations

import logging
import time
from typing import ClassVar

from flask import Flask, current_app
from limits.storage import Storage, storage_from_string
from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.exc import SQLAlchemyError

from .models import RateCounter

DATABASE_URI = "learnhub+db://"
FALLBACK_URI = "learnhub+fallback://"
_REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://", "redis+sentinel://", "redis+cluster://")
_PURGE_EVERY = 60.0  # seconds between deletions of expired counters, per process
_RETRY_PRIMARY = 30.0  # seconds a process counts in the database before it tries Redis again
_REDIS_TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}  # a dead Redis costs half a second, once
log = logging.getLogger(__name__)

# One statement adds to the counter, or starts a new window when the old one is over. Text, because
# the syntax is the same on SQLite (3.35+) and PostgreSQL and SQLAlchemy does not cache dialect upserts.
_INCR = text(
    "INSERT INTO rate_counter (name, hits, expires_at) VALUES (:name, :amount, :expires) "
    "ON CONFLICT (name) DO UPDATE SET "
    "hits = CASE WHEN rate_counter.expires_at > :now THEN rate_counter.hits + excluded.hits ELSE excluded.hits END, "
    "expires_at = CASE WHEN rate_counter.expires_at > :now THEN rate_counter.expires_at ELSE excluded.expires_at END "
    "RETURNING hits"
).bindparams(*(bindparam(name, type_=RateCounter.expires_at.type) for name in ("now", "expires")))
_GET = select(RateCounter.hits, RateCounter.expires_at).where(
    RateCounter.name == bindparam("name"), RateCounter.expires_at > bindparam("now")
)


def now() -> float:
    """Seconds since the epoch, the limits library's clock (tests move it)."""
    return time.time()


class DatabaseStorage(Storage):
    """A limits storage (fixed windows) in the app's database: one row per counter, shared by every process.

    Each call runs on a connection of its own, in autocommit on PostgreSQL. On SQLite it writes under the
    app's writer lock, which a thread holds while its ORM session writes: so callers count before their
    own transaction writes (services/auth/login.py does), never in the middle of it.
    """

    STORAGE_SCHEME: ClassVar[list[str]] = ["learnhub+db"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._next_purge = 0.0

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    @staticmethod
    def _engine():
        return current_app.extensions["learnhub.autocommit_engine"]

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        at = now()
        with self._engine().connect() as conn:
            hits = conn.execute(_INCR, {"name": key, "amount": amount, "now": at, "expires": at + expiry}).scalar_one()
            if at >= self._next_purge:
                self._next_purge = at + _PURGE_EVERY
                conn.execute(delete(RateCounter).where(RateCounter.expires_at <= at))
            conn.commit()
        return hits

    def _row(self, key: str):
        with self._engine().connect() as conn:
            return conn.execute(_GET, {"name": key, "now": now()}).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return row.hits if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row.expires_at if row else now()

    def check(self) -> bool:
        with self._engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    def reset(self) -> int | None:
        with self._engine().connect() as conn:
            deleted = conn.execute(delete(RateCounter)).rowcount
            conn.commit()
        return deleted

    def clear(self, key: str) -> None:
        with self._engine().connect() as conn:
            conn.execute(delete(RateCounter).where(RateCounter.name == key))
            conn.commit()


class FallbackStorage(Storage):
    """Redis while it answers, the database while it does not: a Redis outage is never a 500.

    A configured Redis that is down (stopped, restarting, unreachable) would otherwise fail every login
    and every limited request. Instead each process counts in the database (shared by every process,
    like Redis) from the first error, logs it, and tries Redis again after `_RETRY_PRIMARY` seconds.
    Counts made during the outage stay in the database: a limit is at worst applied afresh, never lifted
    for good. `/healthz` still reports Redis as down, so monitoring sees it.
    """

    STORAGE_SCHEME: ClassVar[list[str]] = ["learnhub+fallback"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, *, primary: str, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.primary = storage_from_string(primary, **{**_REDIS_TIMEOUTS, **options})
        self.fallback = DatabaseStorage(DATABASE_URI)
        self._down_until = 0.0

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def _call(self, name: str, *args):
        if now() >= self._down_until:
            try:
                return getattr(self.primary, name)(*args)
            except self.primary.base_exceptions as exc:
                self._down_until = now() + _RETRY_PRIMARY
                log.warning("rate-limit counters: Redis unreachable (%s); counting in the database for %ds",
                            exc, _RETRY_PRIMARY)
        return getattr(self.fallback, name)(*args)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._call("incr", key, expiry, amount)

    def get(self, key: str) -> int:
        return self._call("get", key)

    def get_expiry(self, key: str) -> float:
        return self._call("get_expiry", key)

    def check(self) -> bool:
        """Whether Redis itself answers (for /healthz), not whether counting works."""
        try:
            return bool(self.primary.check())
        except self.primary.base_exceptions:
            return False

    def reset(self) -> int | None:
        return self._call("reset")

    def clear(self, key: str) -> None:
        self._call("clear", key)


def storage_uri(configured: str | None, logger=None) -> str:
    """The storage every process can share: a Redis URI as given, otherwise the database."""
    configured = (configured or "").strip()
    if configured.startswith(_REDIS_SCHEMES) or configured == DATABASE_URI:
        return configured
    if configured in ("", "database"):
        return DATABASE_URI
    if configured.startswith("memory://"):
        if logger is not None:
            logger.warning("RATELIMIT_STORAGE_URI=memory:// would count per process: counting in the database instead")
        return DATABASE_URI
    raise RuntimeError(
        f"RATELIMIT_STORAGE_URI={configured!r} is not supported: use redis://host:port, or leave it empty "
        "to keep the counters in the database"
    )


def init_app(app: Flask) -> None:
    """Point Flask-Limiter at the shared storage and give the app its own counters over it (call first)."""
    uri = storage_uri(app.config.get("RATELIMIT_STORAGE_URI"), app.logger)
    options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    if uri.startswith(_REDIS_SCHEMES):  # Redis behind a fallback to the database (FallbackStorage)
        app.config["LEARNHUB_REDIS_URI"] = uri
        uri, options = FALLBACK_URI, {"primary": uri, **options}
    app.config["RATELIMIT_STORAGE_URI"], app.config["RATELIMIT_STORAGE_OPTIONS"] = uri, options
    app.extensions["learnhub.counters"] = storage_from_string(uri, **options)
