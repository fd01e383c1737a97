"""A key correction over many handed-in papers: how long it takes, how long at a time it holds the
database for writing, and how long a member's answer save waits meanwhile.

  python -m bench keyfix [--papers N] [--postgres]

A scratch database (bench/out/keyfix.sqlite, or with --postgres a scratch PostgreSQL database,
dropped afterwards): one branch, N members who handed in a 20-question paper of the built-in bank
with every answer right, one member answering. The admin corrects the key of a true/false question
on the paper (every score drops by 5) while that member saves an answer every 5 ms.

"Longest hold": SQLite's write lock, from taking it to giving it back; on PostgreSQL each of the
correction's transactions from its first write (or read FOR UPDATE: the row locks) to its end.
"""

from __future__ import annotations

import statistics
import threading
import time
from datetime import timedelta

from . import OUT, ROOT
from .common import bench_app, create_pg_database, drop_pg_database

QUESTIONS = 20


def run(papers: int, postgres: bool) -> dict:
    name = f"learnhub_keyfix_{int(time.time())}"
    if postgres:
        url = create_pg_database(name)
    else:
        OUT.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-writer.lock"):
            (OUT / f"keyfix.sqlite{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{OUT / 'keyfix.sqlite'}"
    try:
        app = bench_app(url)
        with app.app_context():
            import flask_migrate

            from learnhub.extensions import db, enable_wal

            flask_migrate.upgrade()
            enable_wal(db.engine)
            question_id, saver = _papers(papers)
        result = _correct(app, question_id, saver)
        result["papers"] = papers
        result["database"] = "postgresql" if postgres else "sqlite"
        with app.app_context():
            from learnhub.extensions import db

            db.session.remove()
            db.engine.dispose()
            app.extensions["learnhub.autocommit_engine"].dispose()
        return result
    finally:
        if postgres:
            drop_pg_database(name)


def _papers(n: int) -> tuple[int, tuple[int, int, object]]:
    """n members with a handed-in paper, all right; one member in the middle of theirs.
    Returns the id of the question to correct and (attempt id, member id, an answer to save)."""
    from sqlalchemy import insert, select

    from learnhub.extensions import db
    from learnhub.models import (
        Assignment, AssignmentKind, AssignmentQuestion, Attempt, AttemptState, MemberResult, OrgKind, Question,
        QuestionKind, Response, User, utcnow,
    )
    from learnhub.services.bank import question_bank
    from learnhub.services.exam import quizzes
    from learnhub.services.reports import tallies
    from learnhub.services.orgs import create_org

    question_bank.import_dir(ROOT / "questions")
    questions = list(db.session.scalars(select(Question).where(Question.is_current.is_(True)).order_by(Question.key)))
    tf = next(q for q in questions if q.kind is QuestionKind.TRUEFALSE)
    chosen = [tf] + [q for q in questions if q.id != tf.id][:QUESTIONS - 1]
    branch = create_org("第一支部", OrgKind.BRANCH, None, "keyfix")
    now = utcnow()
    exam = Assignment(title="党章测验", kind=AssignmentKind.EXAM, org_id=branch.id, opens_at=now - timedelta(days=1),
                      closes_at=now + timedelta(days=7), pass_mark=60)
    exam.questions = [AssignmentQuestion(question=q, position=i) for i, q in enumerate(chosen)]
    db.session.add(exam)
    db.session.flush()
    db.session.execute(insert(User), [dict(member_no=f"k{i:06d}", name=f"党员{i}", org_id=branch.id, password_hash="x",
                                           must_change_password=False) for i in range(n + 1)])
    users = db.session.scalars(select(User.id).where(User.org_id == branch.id).order_by(User.id)).all()
    paper = [{"q": q.id, "perm": list(range(len(q.options)))} for q in chosen]
    db.session.execute(insert(Attempt), [
        dict(assignment_id=exam.id, user_id=u, number=1, state=AttemptState.FINISHED, started_at=now, finished_at=now,
             paper=paper, correct_count=QUESTIONS, total=QUESTIONS, score=100.0, passed=True) for u in users[:n]])
    attempts = dict(db.session.execute(select(Attempt.user_id, Attempt.id).where(Attempt.assignment_id == exam.id)).all())
    right = {q.id: [alts[0] for alts in q.answer] if q.kind is QuestionKind.FILL else list(q.answer) for q in chosen}
    for start in range(0, n, 500):
        db.session.execute(insert(Response), [
            dict(attempt_id=attempts[u], question_id=q, answer=right[q], is_correct=True, seq=1, saved_at=now)
            for u in users[start:start + 500] for q in right])
    db.session.execute(insert(MemberResult), [
        dict(assignment_id=exam.id, user_id=u, attempts=1, score=100.0, passed=True, counted_attempt_id=attempts[u],
             finished_at=now) for u in users[:n]])
    tallies.rebuild(exam.id)
    db.session.commit()
    member = db.session.get(User, users[n])
    attempt = quizzes.start_attempt(db.session.get(Assignment, exam.id), member)
    entry = attempt.paper[0]
    first = db.session.get(Question, entry["q"])
    answer = [entry["perm"].index(first.answer[0])] if first.kind is QuestionKind.SINGLE else "true"
    saver = (attempt.id, member.id, answer[0] if isinstance(answer, list) else answer)
    db.session.commit()
    return tf.id, saver


def _correct(app, question_id: int, saver: tuple[int, int, object]) -> dict:
    from sqlalchemy import event

    from learnhub import extensions
    from learnhub.extensions import db
    from learnhub.models import Question, User
    from learnhub.services.exam import key_corrections, quizzes

    holds: list[float] = []
    since: dict[int, float] = {}
    correcting = threading.current_thread().ident

    def start():
        if threading.get_ident() == correcting:
            since.setdefault(correcting, time.perf_counter())

    def stop():
        if threading.get_ident() == correcting and correcting in since:
            holds.append(time.perf_counter() - since.pop(correcting))

    with app.app_context():
        engine = db.engine
    restore = None
    if engine.dialect.name == "sqlite":
        acquire, release = extensions._WriterLock.acquire, extensions._WriterLock.release
        extensions._WriterLock.acquire = lambda lock: (acquire(lock), start())[0]
        extensions._WriterLock.release = lambda lock: (stop(), release(lock))[1]

        def restore():
            extensions._WriterLock.acquire, extensions._WriterLock.release = acquire, release
    else:
        def statement(conn, cursor, sql, *args):
            if not sql.lstrip().upper().startswith("SELECT") or "FOR UPDATE" in sql:
                start()
        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine, "commit", lambda conn: stop())
        event.listen(engine, "rollback", lambda conn: stop())

    waits: list[float] = []
    done = threading.Event()

    def save_meanwhile():
        attempt_id, user_id, answer = saver
        with app.app_context():
            seq = 1
            while not done.is_set():
                seq += 1
                began = time.perf_counter()
                quizzes.record_answer(attempt_id, user_id, 1, answer, seq, 60)
                waits.append(time.perf_counter() - began)
                time.sleep(0.005)

    saving = threading.Thread(target=save_meanwhile)
    saving.start()
    try:
        with app.app_context():
            question, admin = db.session.get(Question, question_id), db.session.scalar(db.select(User).limit(1))
            began = time.perf_counter()
            fixed = key_corrections.correct_key(question, "错" if question.answer == [True] else "对", "基准测试", admin)
            took = time.perf_counter() - began
            regraded = fixed.attempts_regraded
    finally:
        done.set()
        saving.join()
        if restore:
            restore()
    return {
        "regraded": regraded, "correction_s": round(took, 2), "lock_holds": len(holds),
        "longest_hold_ms": round(1000 * max(holds), 1), "median_hold_ms": round(1000 * statistics.median(holds), 1),
        "saves_meanwhile": len(waits), "longest_save_wait_ms": round(1000 * max(waits), 1),
        "median_save_ms": round(1000 * statistics.median(waits), 1),
    }
