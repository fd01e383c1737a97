"""SQLite's durability and its files: answers are synced to disk at commit (synchronous=FULL), and the
writer lock file beside the database can be used by another user of the database's group."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text

from learnhub.extensions import db

from .conftest import PG_URL

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="SQLite files: the suite runs on PostgreSQL")


def _synchronous(app) -> int:
    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(text("PRAGMA synchronous")).scalar()


def test_answers_are_on_disk_at_commit(app, make_app):
    assert _synchronous(app) == 2, "synchronous=FULL: a power cut cannot take back an acknowledged save"
    assert _synchronous(make_app(SQLITE_SYNCHRONOUS="NORMAL")) == 1  # the documented opt-out works
    with pytest.raises(ValueError, match="SQLITE_SYNCHRONOUS"):
        make_app(SQLITE_SYNCHRONOUS="HALF")


def test_the_writer_lock_file_is_group_writable_whatever_the_umask(make_app, tmp_path):
    old = os.umask(0o077)
    try:
        app = make_app()
        with app.app_context():
            db.create_all()  # a write: takes the writer lock, creating its file
    finally:
        os.umask(old)
    (lock,) = tmp_path.glob("*-writer.lock")
    assert stat.S_IMODE(lock.stat().st_mode) == 0o660
