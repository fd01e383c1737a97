"""Upgrades without stopping an exam (issue 18): migrations are written expand-then-contract, so the
previous release keeps serving while `flask db upgrade` runs and until its servers are replaced.

The previous release is the code on main just before the newest migration landed (the first parent of
the last first-parent commit that touched migrations/versions): exactly the code still running while
that migration is applied. Its answer save and hand-in run, in a process of their own, against a
database the current migrations built; then the current code reads the paper back. A migration that
drops or renames what the previous code writes, or adds a NOT NULL column without a default, fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Attempt, AttemptState, OrgKind, Question, Response
from learnhub.services.bank import question_bank

from ..conftest import DATA
from ..factories import PASSWORD, make_assignment, make_org, make_user

ROOT = Path(__file__).resolve().parents[2]


def _git(*args: str) -> bytes:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True).stdout


def previous_release() -> str:
    """The commit of main just before the newest migration, or skip where the history is not here."""
    try:
        last = _git("log", "--first-parent", "-n", "1", "--format=%H", "HEAD", "--", "migrations/versions").decode().strip()
        return _git("rev-parse", "--verify", f"{last}^1").decode().strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"the previous release's code needs the git history (a full clone): {exc}")


@pytest.fixture
def old_code(tmp_path) -> Path:
    """The previous release's application code, unpacked beside the test."""
    commit = previous_release()
    target = tmp_path / f"release-{commit[:10]}"
    with tarfile.open(fileobj=BytesIO(_git("archive", "--format=tar", commit, "learnhub", "config.py"))) as tar:
        tar.extractall(target, filter="data")
    return target


@pytest.fixture
def migrated_app(make_app):
    """An app whose schema comes from the migrations alone (not create_all), with a member and an exam."""
    app = make_app()
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        question_bank.import_dir(DATA / "bank")
        committee = make_org("党委", OrgKind.COMMITTEE, code="up")
        branch = make_org("第一支部", OrgKind.BRANCH, committee, code="up1")
        make_user(branch, "up1", "党员")
        questions = list(db.session.scalars(select(Question).where(Question.is_current).order_by(Question.key)))[:5]
        assignment = make_assignment(committee, questions, title="升级中的考试", max_attempts=3)
        db.session.commit()
        app.assignment_id = assignment.id
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def test_the_previous_release_saves_and_hands_in_on_the_new_schema(migrated_app, old_code, database_url):
    script = Path(__file__).with_name("previous_release_exam.py")
    env = {**os.environ, "PYTHONPATH": "", "LEARNHUB_CONFIG": "testing"}
    run = subprocess.run(
        [sys.executable, str(script), str(old_code), database_url, "up1", PASSWORD, str(migrated_app.assignment_id)],
        capture_output=True, text=True, env=env, cwd=old_code, timeout=120,
    )
    assert run.returncode == 0, f"the previous release failed on the new schema:\n{run.stderr[-3000:]}"
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["saves"] and all(status == 200 and ok for status, ok in result["saves"]), result
    assert result["submit"] in (200, 302), result
    with migrated_app.app_context():  # the current code reads what the previous one wrote
        attempt = db.session.get(Attempt, result["attempt"])
        assert attempt.state is AttemptState.FINISHED and attempt.score is not None
        stored = db.session.scalars(select(Response).where(Response.attempt_id == attempt.id)).all()
        assert len(stored) == len(result["answers"]) == 5
