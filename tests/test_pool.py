"""Server connections: checked before use after sitting idle, not on every request (PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from learnhub.extensions import db


@pytest.fixture
def pg_url(database_url):
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("pooled server connections: PostgreSQL only (run with LEARNHUB_TEST_DATABASE_URL)")
    return database_url


def kill_app_connections(url: str) -> int:
    """Terminate every other backend on the test database, as a database restart would."""
    admin = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )).scalar()
    admin.dispose()
    return killed


def test_a_connection_that_died_while_idle_is_replaced_before_use(make_app, pg_url):
    app = make_app(DB_PING_IDLE_SECONDS=0)
    with app.app_context():
        assert db.session.execute(text("SELECT 1")).scalar() == 1
        db.session.remove()  # back to the pool
        assert kill_app_connections(pg_url) >= 1
        assert db.session.execute(text("SELECT 2")).scalar() == 2  # checked, found dead, replaced
        db.session.remove()
    with app.test_client() as client:
        assert client.get("/healthz").status_code == 200


def test_a_connection_in_steady_use_is_not_pinged(make_app, pg_url):
    """The trade-off, stated: within the idle window there is no check, so a restart fails the
    request in flight once; the pool then discards its old connections."""
    app = make_app(DB_PING_IDLE_SECONDS=3600)
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        kill_app_connections(pg_url)
        with pytest.raises(OperationalError):
            db.session.execute(text("SELECT 1"))
        db.session.remove()
        assert db.session.execute(text("SELECT 3")).scalar() == 3


def test_answer_saves_survive_a_database_restart_while_idle(app, world, login, pg_url, monkeypatch):
    """Saves have a pool of their own (kept in autocommit): it too checks a connection that sat idle,
    so the first answer of the morning after a night-time restart is saved, not a 500."""
    from types import SimpleNamespace

    from learnhub import extensions
    from learnhub.models import Response

    from .quiz.helpers import paper
    from .quiz.test_taking import hinted_save, start

    phone = login(world.login["m_a1"])
    attempt_id = start(phone, world.assignment_a)
    items = paper(app, attempt_id)

    assert hinted_save(phone, attempt_id, items[0], 1).json["saved"] is True
    assert kill_app_connections(pg_url) >= 1
    later = extensions.time.monotonic() + 3600  # the night passes for the idle check
    monkeypatch.setattr(extensions, "time", SimpleNamespace(monotonic=lambda: later))
    response = hinted_save(phone, attempt_id, items[1], 2)
    assert response.status_code == 200 and response.json["saved"] is True
    with app.app_context():
        stored = db.session.scalars(select(Response.question_id).where(Response.attempt_id == attempt_id)).all()
    assert sorted(stored) == sorted([items[0][1].id, items[1][1].id])
