"""The two bare baselines the app's answer save is measured against, served as the app is.

  python -m bench.baseline {echo|upsert} --port P [--database PATH]   (started by bench/load.py)

Both are Flask apps served through `learnhub.server.serve` (granian, the same processes and threads as
`make run`), so what they leave out is exactly what the app adds:

- `echo`: POST JSON, parsed by Flask, answered with a small JSON object. No database, no session, no
  CSRF, no extensions: the floor of a Flask request on this server.
- `upsert`: the same request, then one answer stored in SQLite as the app stores it: the answer row
  upserted (`ON CONFLICT ... WHERE seq < excluded.seq ... RETURNING`) in a transaction opened with
  `BEGIN IMMEDIATE`, committed with the app's `SQLITE_SYNCHRONOUS` (config.py; FULL by default: the
  WAL is synced before the answer is acknowledged) and busy timeout, WAL mode. A connection per
  thread, kept. Writers of a process queue on a thread lock and the processes on an flock beside the
  file, as the app's writers do (learnhub/extensions.py), rather than in SQLite's sleeping busy
  handler. No session, no CSRF, no ORM, no check of who is saving.

The requests are the app's answer saves as wrk sends them (bench/lua/scenario.lua, mode "save"), to
`/echo/<attempt>` and `/upsert/<attempt>`.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sqlite3
import threading
from datetime import datetime, timezone

from flask import Flask, jsonify, request

DATABASE_ENV = "BENCH_UPSERT_DATABASE"

SCHEMA = """
CREATE TABLE IF NOT EXISTS response (
    id INTEGER PRIMARY KEY,
    attempt_id INTEGER NOT NULL,
    question_id INTEGER NOT NULL,
    answer JSON NOT NULL,
    is_correct BOOLEAN NOT NULL,
    seq BIGINT NOT NULL,
    saved_at DATETIME NOT NULL,
    UNIQUE (attempt_id, question_id)
)
"""
UPSERT = (
    "INSERT INTO response (attempt_id, question_id, answer, is_correct, seq, saved_at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (attempt_id, question_id) DO UPDATE SET answer = excluded.answer, is_correct = excluded.is_correct, "
    "seq = excluded.seq, saved_at = excluded.saved_at WHERE response.seq < excluded.seq RETURNING seq"
)


def create_database(path: str) -> None:
    """A fresh file with the answer table, in WAL mode (as `flask bootstrap` leaves the app's)."""
    for suffix in ("", "-wal", "-shm", "-writer.lock"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(SCHEMA)


echo = Flask("bench.baseline.echo")


@echo.post("/echo/<int:attempt_id>")
def echo_save(attempt_id: int):
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(ok=False), 400
    return jsonify(ok=True, saved=True, last_seq=data.get("seq"), feedback=None)


upsert = Flask("bench.baseline.upsert")
_local = threading.local()
_thread_lock = threading.Lock()
_flock: dict[int, int] = {}  # pid -> file descriptor of the writer lock file


def _connection() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        from config import Config

        conn = sqlite3.connect(os.environ[DATABASE_ENV], isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(Config.SQLITE_BUSY_TIMEOUT_MS)}")
        conn.execute(f"PRAGMA synchronous = {Config.SQLITE_SYNCHRONOUS}")
        _local.conn = conn
    return conn


def _lock_fd() -> int:
    fd = _flock.get(os.getpid())
    if fd is None:
        fd = _flock[os.getpid()] = os.open(os.environ[DATABASE_ENV] + "-writer.lock", os.O_RDWR | os.O_CREAT, 0o660)
    return fd


@upsert.post("/upsert/<int:attempt_id>")
def upsert_save(attempt_id: int):
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(ok=False), 400
    answer = json.dumps(data.get("answer"))  # stored as given: no decoding against a paper, no grading
    row = (attempt_id, data.get("q"), answer, False, data.get("seq"), datetime.now(timezone.utc).isoformat(" "))
    conn = _connection()
    with _thread_lock:
        fcntl.flock(_lock_fd(), fcntl.LOCK_EX)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                stored = conn.execute(UPSERT, row).fetchone()
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            fcntl.flock(_lock_fd(), fcntl.LOCK_UN)
    return jsonify(ok=True, saved=stored is not None, last_seq=data.get("seq"), feedback=None)


def main(argv: list[str] | None = None) -> None:
    from learnhub.server import serve

    parser = argparse.ArgumentParser(prog="python -m bench.baseline")
    parser.add_argument("app", choices=("echo", "upsert"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", help="the upsert's SQLite file (created afresh)")
    args = parser.parse_args(argv)
    if args.app == "upsert":
        if not args.database:
            parser.error("upsert needs --database")
        create_database(args.database)
        os.environ[DATABASE_ENV] = args.database
    serve(f"bench.baseline:{args.app}", args.host, args.port)


if __name__ == "__main__":
    main()
