"""Shared helpers: the app bound to a benchmark database, scratch PostgreSQL databases, timing."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from . import OUT

DEFAULT_SQLITE_URL = f"sqlite:///{OUT / 'bench.sqlite'}"
PG_SERVER = "host=127.0.0.1 port=5432 user=postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
BENCH_SECRET = "bench-only-secret-not-for-production"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs (the app's pinned driver); leave others alone."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def dialect_of(url: str) -> str:
    """'sqlite' or 'postgresql'."""
    return make_url(url).get_backend_name()


def sqlite_path(url: str) -> str:
    """The file behind a sqlite:/// URL."""
    return make_url(url).database


# In-process requests are plain HTTP (in production nginx ends TLS): cookies must not be Secure-only.
PLAIN_HTTP = {"SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False, "HSTS_SECONDS": 0}


def bench_app(url: str):
    """The production configuration of the app, bound to `url`, for in-process work."""
    from config import ProductionConfig
    from learnhub import create_app

    overrides = {"SQLALCHEMY_DATABASE_URI": normalise_url(url), "SECRET_KEY": BENCH_SECRET, "RATELIMIT_ENABLED": False,
                 **PLAIN_HTTP}
    return create_app(type("BenchConfig", (ProductionConfig,), overrides))


def pg_admin():
    """An autocommit connection to the server's maintenance database."""
    import psycopg

    return psycopg.connect(f"{PG_SERVER} dbname=postgres", autocommit=True)


def ensure_pg_database(url: str) -> None:
    """Create the database a PostgreSQL URL names, if it does not exist yet."""
    from psycopg import sql

    name = make_url(url).database
    with pg_admin() as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def create_pg_database(name: str) -> str:
    """Create an empty PostgreSQL database (dropping a leftover of the same name); return its URL."""
    from psycopg import sql

    with pg_admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return PG_URL.format(name=name)


def drop_pg_database(name: str) -> None:
    """Drop a PostgreSQL database created by the benchmark."""
    from psycopg import sql

    with pg_admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def exclusive_run():
    """Hold bench/out/bench.lock for the whole command: two benchmark runs on one machine (and one
    SQLite file) would measure each other — a report's transaction blocks every answer save."""
    import fcntl

    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "bench.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            print(f"waiting for another benchmark run to finish ({lock.read().strip() or 'pid unknown'})", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}")
        lock.flush()
        yield


def pin_to_one_core() -> int:
    """Run this process (and threads it starts) on a single CPU; return which."""
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


@contextmanager
def phase(label: str, sink: dict):
    """Announce a phase, time it into `sink[label]`, say how long it took."""
    print(f"\n== {label} (load average {os.getloadavg()[0]:.2f})", flush=True)
    start = time.perf_counter()
    try:
        yield
    finally:
        sink[label] = time.perf_counter() - start
        print(f"  [{label}: {sink[label]:.0f} s]", flush=True)
