"""Backups that restore: deploy/backup.py (what learnhub-backup.timer runs) backs up the test database
while the app could be serving, restores it into a fresh database, and every table comes back whole."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, table, text
from sqlalchemy.engine import make_url

from learnhub.extensions import db
from learnhub.models import Assignment, Response, User
from learnhub.services import ServiceError
from learnhub.services.exam import quizzes

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "backup.py"
sys.path.insert(0, str(SCRIPT.parent))
import backup as backup_script  # noqa: E402  deploy/backup.py, for its retention rule


def run_script(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LEARNHUB_CONFIG": "production", "SECRET_KEY": "b" * 40, "DATABASE_URL": database_url}
    env.pop("RATELIMIT_STORAGE_URI", None)
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def fresh_database_url(database_url, tmp_path):
    """An empty database of the same kind as the test database, dropped afterwards."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"
        return
    name = f"learnhub_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def answer_everything(app, world) -> None:
    """Four members start 党委A测验 and answer every question; two of them hand in."""
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        for n, member in enumerate(("m_a1", "m_a1b", "m_a2", "m_a3")):
            attempt = quizzes.start_attempt(assignment, db.session.get(User, world.user[member]))
            for position in range(1, len(attempt.paper) + 1):
                for raw in (n % 2, [0, 1], ["一年"]):  # a choice, a multiple choice, a blank filled in
                    try:
                        quizzes.save_answer(attempt, position, raw, position, 60)
                        break
                    except ServiceError:
                        db.session.rollback()
            if n % 2:
                quizzes.submit_attempt(attempt, None, 60)


def contents(url: str) -> tuple[dict[str, int], list[tuple]]:
    """Every table's row count, and every answer (attempt, question, answer, sequence number, correct)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            counts = {name: conn.scalar(select(func.count()).select_from(table(name)))
                      for name in inspect(conn).get_table_names()}
            answers = [tuple(row) for row in conn.execute(
                select(Response.attempt_id, Response.question_id, Response.answer, Response.seq, Response.is_correct)
                .order_by(Response.attempt_id, Response.question_id))]
    finally:
        engine.dispose()
    return counts, answers


def test_a_backup_restores_every_table_and_answer_into_a_fresh_database(app, world, database_url, fresh_database_url,
                                                                        tmp_path):
    answer_everything(app, world)
    with app.app_context():
        db.session.remove()
    made = run_script(database_url, "backup", "--dir", str(tmp_path / "backups"), "--keep", "3")
    assert made.returncode == 0, made.stderr
    backup_file = Path(made.stdout.strip())
    assert backup_file.parent == tmp_path / "backups" and backup_file.stat().st_size > 0

    restored = run_script(fresh_database_url, "restore", str(backup_file))
    assert restored.returncode == 0, restored.stderr

    counts, answers = contents(database_url)
    assert counts["response"] >= 20 and counts["attempt"] == 4 and counts["question"] > 0 and counts["user"] == 11
    assert contents(fresh_database_url) == (counts, answers)

    with pytest.raises(SystemExit, match="already has tables"):  # never over a live database
        backup_script.restore(backup_file, make_url(fresh_database_url))
    assert contents(fresh_database_url) == (counts, answers)


def test_only_the_newest_backups_are_kept_and_an_unfinished_one_never_counts(tmp_path):
    names = [f"learnhub-2026120{day}T023000000000Z.dump" for day in range(1, 6)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "learnhub-20261206T023000000000Z.dump.partial").write_bytes(b"half")
    (tmp_path / "notes.txt").write_text("not a backup")
    deleted = backup_script.prune(tmp_path, 2)
    assert sorted(p.name for p in deleted) == names[:3]
    kept = [*names[3:], "learnhub-20261206T023000000000Z.dump.partial", "notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
