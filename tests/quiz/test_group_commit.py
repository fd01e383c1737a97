"""Group commit of answer saves on SQLite (services/exam/quizzes/group_commit.py): saves that arrive while
another save of the process is writing share the next transaction, each is answered only after that
transaction committed, and one bad save in a shared transaction costs the others nothing."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError

from learnhub.extensions import configure_sqlite, enable_wal
from learnhub.services.exam.quizzes import group_commit

INSERT = text("INSERT INTO answer (member, seq) VALUES (:member, :seq) RETURNING seq")


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'saves.sqlite'}")
    configure_sqlite(engine, busy_timeout_ms=5000)
    enable_wal(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE answer (member INTEGER PRIMARY KEY, seq INTEGER NOT NULL CHECK (seq > 0))"))
    yield engine
    engine.dispose()


def _stored(engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT member, seq FROM answer")).all())


def _saves_while_one_writes(engine, values: list[dict], statement=INSERT) -> tuple[list, list[int]]:
    """The first save writes, held up until all the others wait behind it; returns each save's outcome
    (its row's seq, or the error it raised) and the number of rows each COMMIT wrote."""
    writer = group_commit.GroupCommit(engine)
    commits, in_transaction = [], []
    event.listen(engine, "commit", lambda conn: (commits.append(len(in_transaction)), in_transaction.clear()))
    event.listen(engine, "after_execute", lambda *args: in_transaction.append(1))
    first_running, release = threading.Event(), threading.Event()
    original = writer._run

    def held_first(batch):
        if not first_running.is_set():
            first_running.set()
            release.wait(10)
        original(batch)

    writer._run = held_first
    outcomes = [None] * len(values)

    def save(i):
        try:
            outcomes[i] = writer.write(statement, values[i])[0]
        except (IntegrityError, OperationalError) as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=save, args=(0,))]
    threads[0].start()
    assert first_running.wait(10)
    threads += [threading.Thread(target=save, args=(i,)) for i in range(1, len(values))]
    for t in threads[1:]:
        t.start()
    deadline = time.monotonic() + 10
    while len(writer.queue) < len(values) - 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(writer.queue) == len(values) - 1  # all waiting behind the first
    release.set()
    for t in threads:
        t.join(10)
    return outcomes, commits


def test_saves_arriving_together_share_one_transaction_and_each_is_answered(engine):
    values = [{"member": n, "seq": 10 + n} for n in range(1, 7)]
    outcomes, commits = _saves_while_one_writes(engine, values)
    assert outcomes == [11, 12, 13, 14, 15, 16]
    assert _stored(engine) == {n: 10 + n for n in range(1, 7)}
    assert commits == [1, 5]  # the first alone, then the five that waited in one COMMIT


def test_a_bad_save_in_a_shared_transaction_fails_alone(engine):
    values = [{"member": n, "seq": 10 + n} for n in range(1, 7)]
    values[3]["seq"] = -1  # breaks the table's CHECK
    outcomes, _ = _saves_while_one_writes(engine, values)
    assert isinstance(outcomes[3], IntegrityError)
    assert [o for i, o in enumerate(outcomes) if i != 3] == [11, 12, 13, 15, 16]
    assert _stored(engine) == {1: 11, 2: 12, 3: 13, 5: 15, 6: 16}


def test_a_save_alone_raises_its_own_error_and_the_next_one_writes(engine):
    writer = group_commit.GroupCommit(engine)
    with pytest.raises(IntegrityError):
        writer.write(INSERT, {"member": 1, "seq": 0})
    assert writer.write(INSERT, {"member": 1, "seq": 3})[0] == 3
    assert _stored(engine) == {1: 3} and not writer.writing and not writer.queue


def test_when_the_database_fails_a_shared_transaction_every_save_of_it_fails_at_once(engine):
    """Not retried one by one: a database locked past the busy timeout would make each wait that long again."""
    statements = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, *args: statements.append(statement))
    broken = text("INSERT INTO no_such_table (member, seq) VALUES (:member, :seq) RETURNING seq")
    outcomes, _ = _saves_while_one_writes(engine, [{"member": n, "seq": n} for n in range(1, 7)], broken)
    assert all(isinstance(o, OperationalError) for o in outcomes)
    assert sum("no_such_table" in s for s in statements) == 2  # the first save alone, then the five together once
    assert _stored(engine) == {}
