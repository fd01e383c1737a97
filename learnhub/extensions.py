"""Extensions, created unbound and attached in create_app()."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time

from flask import current_app, has_request_context, request
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase

from .inputs import page_number

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class _SQLAlchemy(SQLAlchemy):
    def paginate(self, select, *, page=None, **kwargs):
        """Flask-SQLAlchemy's paginate, the page number from the query string bounded (inputs.page_number):
        a page far past the end is empty, never an OFFSET that overflows the database's integer."""
        if page is None and has_request_context():
            page = page_number()
        return super().paginate(select, page=page, **kwargs)


db = _SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()


class _CSRFProtect(CSRFProtect):
    """Flask-WTF's CSRF protection, looking first in the headers of a JSON request.

    Flask-WTF looks for the token in the form before the headers, so each answer save (JSON, token
    in X-CSRFToken) was first parsed as a form, for nothing: 7 % of a save's instructions
    (callgrind). A JSON body holds no form fields, so the order changes no outcome; the token is
    checked by Flask-WTF as before.
    """

    def _get_csrf_token(self):
        if request.is_json:
            for header in current_app.config["WTF_CSRF_HEADERS"]:
                if token := request.headers.get(header):
                    return token
        return super()._get_csrf_token()


csrf = _CSRFProtect()
babel = Babel()
compress = Compress()
limiter = Limiter(key_func=get_remote_address)


def configure_idle_ping(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled server connection before use only if it sat idle for `idle_seconds` or more.

    SQLAlchemy's pool_pre_ping checks on every checkout: one extra round trip on every request,
    a sixth of an answer save on PostgreSQL. A connection in steady use does not need it; one that
    waited through a quiet night (or a database restart) is checked and, if dead, replaced before
    the request sees it. A restart in the middle of traffic still fails the requests then in flight;
    SQLAlchemy then discards the pool's old connections.
    """
    if engine.dialect.name == "sqlite":
        return

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection is gone") from exc


def autocommit_engine(engine: Engine, options: dict) -> Engine:
    """The engine answer saves use: on PostgreSQL a second pool whose connections stay in autocommit.

    A save is one statement that needs no transaction around it. Switching a shared pooled
    connection to autocommit and back on every checkout cost a tenth of a save's CPU; connections
    that are in autocommit from the moment they connect do not pay it. On SQLite, the app's engine.
    """
    if engine.dialect.name != "postgresql":
        return engine
    return create_engine(engine.url, **{**options, "isolation_level": "AUTOCOMMIT"})


SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")


def configure_sqlite(engine: Engine, busy_timeout_ms: int, synchronous: str = "FULL") -> None:
    """Make SQLite safe and quick under concurrent requests (see ENGINEERING.md and README).

    Transactions start as plain (deferred) BEGIN and only read: a page, a report or a login's
    password check never holds the write lock, and readers in WAL mode never wait. Before the
    first statement that writes (or a SELECT .. FOR UPDATE, the code's way of saying "I read in
    order to write"), the read transaction, which wrote nothing, is committed and a write
    transaction starts with BEGIN IMMEDIATE. So every write transaction starts with BEGIN IMMEDIATE
    (a read lock is never upgraded, which fails at once with "database is locked"), and SQLite then
    behaves as PostgreSQL's READ COMMITTED does: what must not change between a read and a write
    is read FOR UPDATE, on both databases.

    Writers of one database file queue on an OS file lock (flock) beside it, not in SQLite's
    busy handler, which polls with sleeps of up to 100 ms: under many threads that made the wait,
    not the work, the cost of a save. The lock is taken just before BEGIN IMMEDIATE and released
    when the transaction ends. busy_timeout still covers writers outside the app.

    `synchronous` FULL (the default) syncs the WAL at every commit, so an answer acknowledged as
    saved survives a power cut; the fsync is paid inside the write lock (bench/README.md says what
    it costs). The lock file is group-writable, so cron or an operator running as another user of
    the same group can write too.
    """
    if engine.dialect.name != "sqlite":
        return
    if synchronous not in SYNCHRONOUS_LEVELS:
        raise ValueError(f"SQLITE_SYNCHRONOUS must be one of {', '.join(SYNCHRONOUS_LEVELS)}, not {synchronous!r}")
    database = engine.url.database
    lock = _WriterLock(f"{database}-writer.lock", busy_timeout_ms / 1000) if database not in (None, "", ":memory:") else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record):
        # Let SQLAlchemy, not the sqlite3 module, emit BEGIN (SQLAlchemy's SQLite dialect docs).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.close()
        record.info["sqlite_writing"] = True  # outside a transaction: nothing to upgrade

    # BEGIN waits for the transaction's first statement: a read starts a plain BEGIN before it (SQLite
    # takes its snapshot at the first read anyway), a write goes straight to BEGIN IMMEDIATE. An answer
    # save, whose one statement writes, so spends no BEGIN and COMMIT of an empty read transaction.
    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.info["sqlite_writing"] = False
        conn.info["sqlite_begin_pending"] = True

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(conn, cursor, statement, parameters, context, executemany):
        info = conn.info
        if info.get("sqlite_writing", True):
            return
        dbapi_connection = conn.connection.dbapi_connection
        pending = info.pop("sqlite_begin_pending", False)
        if not _writes(statement, context):
            if pending:
                dbapi_connection.execute("BEGIN")
            return
        if not pending and dbapi_connection.in_transaction:
            dbapi_connection.execute("COMMIT")  # the read part wrote nothing: end it before queueing
        if lock is not None:
            lock.acquire()
            conn.info["holds_writer_lock"] = True
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn.info)
            raise
        conn.info["sqlite_writing"] = True

    def _end(conn, action: str) -> None:
        dbapi_connection = conn.connection.dbapi_connection
        try:
            if dbapi_connection.in_transaction:
                dbapi_connection.execute(action)  # SQLAlchemy's own commit/rollback then finds none open
        finally:
            conn.info["sqlite_writing"] = True  # outside a transaction: nothing to upgrade
            conn.info.pop("sqlite_begin_pending", None)
            _release(conn.info)

    @event.listens_for(engine, "commit")
    def _on_commit(conn):
        _end(conn, "COMMIT")

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn):
        _end(conn, "ROLLBACK")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        # Returned to the pool, its transaction reset by the pool itself (no commit/rollback event).
        record.info["sqlite_writing"] = True
        record.info.pop("sqlite_begin_pending", None)
        _release(record.info)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi_connection, record, _exception):
        _release(record.info)  # the record's info is cleared with the connection

    def _release(info: dict) -> None:
        if info.pop("holds_writer_lock", False):
            lock.release()


_READS = ("SELECT", "PRAGMA", "EXPLAIN")


def _writes(statement: str, context) -> bool:
    """Whether a statement needs the write transaction: anything but a plain read."""
    head = statement.lstrip()[:8].upper()
    if not head.startswith(_READS):
        return True
    compiled = getattr(context, "compiled", None)
    return getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is not None


class _WriterLock:
    """The right to write one SQLite file: a thread lock within the process, a flock across them.

    Threads of a process queue on the thread lock (a real blocking wait); one thread per process at
    a time then takes the flock, polling it every 0.2–2 ms (flock has no timeout), so waiting costs
    well under a millisecond instead of SQLite's busy-handler sleeps. Gives up, as SQLite would,
    with "database is locked" after the busy timeout.
    """

    def __init__(self, path: str, timeout_s: float):
        self.path, self.timeout_s = path, timeout_s
        self.thread_lock = threading.Lock()
        self.fd: int | None = None
        self.pid: int | None = None

    def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        if not self.thread_lock.acquire(timeout=self.timeout_s):
            raise sqlite3.OperationalError("database is locked")
        try:
            if self.pid != os.getpid():  # first use in this (possibly forked) process
                self.fd, self.pid = _open_lock_file(self.path), os.getpid()
            pause = 0.0002
            while True:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise sqlite3.OperationalError("database is locked") from None
                    time.sleep(pause)
                    pause = min(pause * 2, 0.002)
        except BaseException:
            self.thread_lock.release()
            raise

    def release(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.thread_lock.release()


def _open_lock_file(path: str) -> int:
    """Open (or create) the writer lock file so that any user of the database's group can take it.

    Created mode 0660 whatever the umask (the directory's group owns it, as the database file);
    a lock file another user made read-only still works, since flock needs no write access.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o660)
    except FileExistsError:
        try:
            return os.open(path, os.O_RDWR)
        except PermissionError:
            return os.open(path, os.O_RDONLY)
    os.fchmod(fd, 0o660)
    return fd


def enable_wal(engine: Engine) -> None:
    """Switch a file database to WAL once, at upgrade time (the mode persists in the file)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA journal_mode = WAL")
    finally:
        raw.close()
