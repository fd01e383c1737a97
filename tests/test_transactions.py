"""Transactions under concurrency, on SQLite as on PostgreSQL (see configure_sqlite).

A request that only reads never holds the write lock; a read-then-write that reads FOR UPDATE never
loses an update and never fails with "database is locked"; a failed write gives the lock back.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select, update

from learnhub.extensions import db

THREADS = 6
ROUNDS = 40

meta = MetaData()
counter = Table("tx_counter", meta, Column("id", Integer, primary_key=True), Column("n", Integer, nullable=False))


@pytest.fixture
def table(app):
    with app.app_context():
        meta.create_all(db.engine)
        with db.engine.begin() as conn:
            conn.execute(counter.insert().values(id=1, n=0))
    yield
    with app.app_context():
        db.session.remove()
        meta.drop_all(db.engine)


def run_threads(app, work) -> list[BaseException]:
    """Run `work()` in THREADS threads, each inside its own app context; return what they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def body():
        with app.app_context():
            start.wait()
            try:
                work()
            except BaseException as exc:  # reported to the test, not lost in the thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=body) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def value(app) -> int:
    with app.app_context():
        return db.session.scalar(select(counter.c.n).where(counter.c.id == 1))


def test_read_for_update_then_write_loses_nothing(app, table):
    """Read the count FOR UPDATE, add one in Python, write it back: every increment survives."""

    def work():
        for _ in range(ROUNDS):
            n = db.session.execute(select(counter.c.n).where(counter.c.id == 1).with_for_update()).scalar_one()
            db.session.execute(update(counter).where(counter.c.id == 1).values(n=n + 1))
            db.session.commit()

    assert run_threads(app, work) == []
    assert value(app) == THREADS * ROUNDS


def test_plain_read_then_write_never_fails_locked(app, table):
    """Read first without FOR UPDATE, then write in SQL: no "database is locked", no lost increment."""

    def work():
        for _ in range(ROUNDS):
            db.session.execute(select(counter.c.n).where(counter.c.id == 1)).scalar_one()
            db.session.execute(update(counter).where(counter.c.id == 1).values(n=counter.c.n + 1))
            db.session.commit()

    assert run_threads(app, work) == []
    assert value(app) == THREADS * ROUNDS


def test_an_open_read_does_not_block_a_writer(app, table):
    """A long page or report (an open read transaction) leaves writers free."""
    with app.app_context():
        reader = db.engine.connect()
        try:
            assert reader.execute(select(counter.c.n)).scalar_one() == 0  # the read transaction stays open
            done = threading.Event()

            def write():
                with app.app_context():
                    db.session.execute(update(counter).values(n=7))
                    db.session.commit()
                    db.session.remove()
                done.set()

            writer = threading.Thread(target=write)
            writer.start()
            assert done.wait(timeout=10), "the writer waited for a transaction that only read"
            writer.join()
            assert reader.execute(select(counter.c.n)).scalar_one() in (0, 7)
        finally:
            reader.close()
    assert value(app) == 7


def test_a_failed_write_gives_the_lock_back(app, table):
    """A write transaction that ends in an error is rolled back and the next writer goes at once."""
    with app.app_context():
        db.session.execute(update(counter).values(n=1))
        with pytest.raises(ZeroDivisionError):
            try:
                1 / 0
            finally:
                db.session.rollback()
        db.session.remove()

    with app.app_context():  # a leaked lock would make this wait out the busy timeout and fail
        db.session.execute(update(counter).values(n=2))
        db.session.commit()
        db.session.remove()
    assert value(app) == 2


def test_a_connection_returned_mid_write_gives_the_lock_back(app, table):
    """A session removed without commit or rollback (an error page, a killed request) releases too."""
    with app.app_context():
        db.session.execute(update(counter).values(n=5))
        db.session.remove()  # no commit: the pool resets the connection
    with app.app_context():
        db.session.execute(update(counter).values(n=6))
        db.session.commit()
        db.session.remove()
    assert value(app) == 6
