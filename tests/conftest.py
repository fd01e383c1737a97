"""Fixtures: a fresh app and database per test (SQLite file, or PostgreSQL when
LEARNHUB_TEST_DATABASE_URL is set), a small question bank, and a standard organisation world."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from flask.testing import FlaskClient

from config import TestingConfig
from learnhub import create_app
from learnhub.extensions import db, enable_wal

DATA = Path(__file__).parent / "data"
PG_URL = os.environ.get("LEARNHUB_TEST_DATABASE_URL", "")

pytest_plugins = ["tests.world"]


@pytest.fixture(scope="session")
def pg_database():
    """Create one throw-away PostgreSQL database for the run, and drop it at the end."""
    if not PG_URL:
        yield None
        return
    server = make_url(PG_URL)
    name = f"learnhub_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(tmp_path, pg_database) -> str:
    return pg_database or f"sqlite:///{tmp_path / 'test.sqlite'}"


class BufferedClient(FlaskClient):
    """A test client that reads and closes every response, as a browser would (no open temp files)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app on the test database; keyword arguments override config values. Each test's apps
    share an instance folder of their own (import previews wait there): none is left in the checkout."""
    apps = []

    def _make(**overrides):
        config = type("Config", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": database_url, **overrides})
        app = create_app(config)
        app.instance_path = str(tmp_path / "instance")
        app.test_client_class = BufferedClient
        apps.append(app)
        return app

    yield _make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
            app.extensions["learnhub.autocommit_engine"].dispose()


@pytest.fixture
def app(make_app):
    app = make_app(QUESTIONS_DIR=str(DATA / "bank"), NOTES_DIR=str(DATA / "notes"))
    with app.app_context():
        enable_wal(db.engine)
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()


@pytest.fixture
def bare_app(make_app):
    """An app whose database is empty: no create_all, only migrations."""
    app = make_app()
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


@pytest.fixture
def ctx(app):
    """An app context for service and model tests."""
    with app.app_context():
        yield db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# One Chromium for the whole run, whichever folder's tests use it first (tests/browser, tests/deploy):
# Playwright's sync API allows one instance per thread, so a second session fixture imported elsewhere
# would fail. Without Chromium, browser tests skip with the reason; with LEARNHUB_REQUIRE_BROWSER=1
# (.ci/run) they fail instead.
CHROMIUM = os.environ.get("LEARNHUB_CHROMIUM", "/usr/bin/chromium")


def _browser_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium fonts-wqy-microhei)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make install-dev)"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _browser_missing()
    if reason:
        if os.environ.get("LEARNHUB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required here but cannot run: {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()
