"""Group commit of answer saves on SQLite: the saves that arrive together share one transaction.

SQLite has one writer at a time, and each transaction ends with an fsync of the WAL
(`synchronous=FULL`: an acknowledged answer survives a power cut). Under load that serial section,
not the CPU, bounds the saves a second (bench/README.md, "What a save costs"): one writer lock and
one fsync per answer. Here the saves of one server process that find another save of that process
writing wait for it, and the next writer then takes every waiting save into one transaction: one
writer lock, one BEGIN IMMEDIATE, one COMMIT and one fsync for all of them (the classic group commit
of databases' own logs).

Nothing about a save changes: each is its own guarded statement with its own checks, run in arrival
order, and each thread answers only after the COMMIT that holds its statement has returned, so an
acknowledged answer is on disk as before. If one statement of a shared transaction fails on its own
(a constraint, bad data), each save of it is retried alone, so the bad one costs the others nothing;
if the database fails it (locked past the busy timeout, an I/O error), every save of it gets that
error at once, as each would have alone. An error is raised in the thread whose save it was. PostgreSQL, whose saves run in autocommit and whose own log commits
concurrent transactions together, does not use it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError

_MAX_BATCH = 64


@dataclass
class _Save:
    statement: object
    values: dict
    row: object = None
    error: BaseException | None = None
    done: bool = False


@dataclass
class GroupCommit:
    """The saves of one engine in this process: a queue, and whether some thread is writing it."""

    engine: Engine
    cv: threading.Condition = field(default_factory=threading.Condition)
    queue: list = field(default_factory=list)
    writing: bool = False

    def write(self, statement, values: dict):
        """Run `statement` with `values` in a committed transaction, maybe shared; its first row (or None)."""
        save = _Save(statement, values)
        with self.cv:
            self.queue.append(save)
            while self.writing and not save.done:
                self.cv.wait()
            if not save.done:  # no one is writing: this thread takes everything waiting, its own save included
                self.writing = True
                batch, self.queue = self.queue[:_MAX_BATCH], self.queue[_MAX_BATCH:]
        if not save.done:
            try:
                self._run(batch)
            finally:
                with self.cv:
                    for item in batch:
                        item.done = True
                    self.writing = False
                    self.cv.notify_all()
        if save.error is not None:
            raise save.error
        return save.row

    def _run(self, batch: list[_Save]) -> None:
        try:
            with self.engine.connect() as conn:
                rows = [conn.execute(item.statement, item.values).first() for item in batch]
                conn.commit()
        except (IntegrityError, DataError) as exc:  # one statement's own fault
            if len(batch) == 1:
                batch[0].error = exc
                return
            for item in batch:  # the shared transaction was rolled back: each alone, so only the bad one fails
                self._run([item])
            return
        except BaseException as exc:  # the database's (locked past the busy timeout, I/O): all of them, once
            for item in batch:
                item.error = exc
            return
        for item, row in zip(batch, rows):
            item.row = row


_writers: dict[int, GroupCommit] = {}
_writers_lock = threading.Lock()


def writer(engine: Engine) -> GroupCommit:
    """This process's group commit for `engine`."""
    found = _writers.get(id(engine))
    if found is None or found.engine is not engine:
        with _writers_lock:
            found = _writers.get(id(engine))
            if found is None or found.engine is not engine:
                found = _writers[id(engine)] = GroupCommit(engine)
    return found
