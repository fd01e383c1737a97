"""A real installation upgraded: the previous release builds its demo (the bank, the notes, the demo 党委
with its members, exams and answers) with its own migrations and `flask bootstrap`; then the current
migrations run on that database. Every row stays (each table's count, every response's answer), the
bank keeps its tree, and the current `flask bootstrap` runs on the upgraded database (its demo additions
land beside the old ones; nothing is seeded twice)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import inspect, text

from learnhub.extensions import db

from .test_previous_release import _git, previous_release


@pytest.fixture
def old_release(tmp_path) -> Path:
    commit = previous_release()
    target = tmp_path / f"release-{commit[:10]}"
    archive = _git("archive", "--format=tar", commit, "learnhub", "config.py", "migrations", "questions")
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def _counts(tables) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}


def _answers() -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT r.id, r.attempt_id, r.question_id, r.is_correct, q.key, q.point_id FROM response r "
            "JOIN question q ON q.id = r.question_id ORDER BY r.id"))]


def test_the_previous_releases_demo_survives_the_upgrade(bare_app, old_release, database_url):
    env = {**os.environ, "PYTHONPATH": str(old_release), "FLASK_APP": "learnhub", "LEARNHUB_CONFIG": "development",
           "DATABASE_URL": database_url, "SECRET_KEY": "upgrade-test", "ARGON2_TIME_COST": "1",
           "ARGON2_MEMORY_COST": "1024"}
    for step in (["db", "upgrade"], ["bootstrap"]):
        run = subprocess.run([sys.executable, "-m", "flask", *step], cwd=old_release, env=env,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, f"the previous release's `flask {' '.join(step)}` failed:\n{run.stderr[-3000:]}"

    with bare_app.app_context():
        tables = [t for t in inspect(db.engine).get_table_names() if t != "alembic_version"]
        before, answers = _counts(tables), _answers()
        assert before["response"] > 100 and before["user"] > 30, before  # a demo worth the name
        upgrade()
        assert _counts(tables) == before
        assert _answers() == answers
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM knowledge_point WHERE subject_id IS NULL")).scalar() == 0

    runner = bare_app.test_cli_runner()
    result = runner.invoke(args=["bootstrap"])
    assert result.exit_code == 0, result.output
    with bare_app.app_context():
        after = _counts(tables)
        for table in ("response", "attempt", "member_result", "organisation", "user"):
            assert after[table] >= before[table], table  # the current demo adds, never replaces
        again = runner.invoke(args=["bootstrap"])
        assert again.exit_code == 0, again.output
        assert _counts(tables) == after  # idempotent
