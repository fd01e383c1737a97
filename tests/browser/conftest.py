"""Browser tests: Debian's Chromium driven by Playwright, a phone-sized window, against a live server.

Without Chromium they skip with a clear reason; with LEARNHUB_REQUIRE_BROWSER=1 (set by .ci/run) a
missing browser fails instead, so CI never silently skips them.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from learnhub.extensions import db
from learnhub.services.study import materials

from ..conftest import DATA

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results" / "browser"
PHONE = {"width": 390, "height": 844}
SMALL = {"width": 360, "height": 640}  # the narrowest common Android screen


@pytest.fixture
def live_server(world, make_app):
    """Serve the world's database with CSRF on, as in production, on a free localhost port."""
    app = make_app(WTF_CSRF_ENABLED=True, QUESTIONS_DIR=str(DATA / "bank"), NOTES_DIR=str(DATA / "notes"))
    with app.app_context():
        materials.import_notes(DATA / "notes")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.session.remove()


@pytest.fixture
def phone(browser, request):
    """A phone-sized, touch, zh-CN browser context; screenshots go under test-results/browser/<test>/."""
    out = ARTIFACTS / request.node.name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN",
        accept_downloads=True,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "Failed to load resource" not in msg.text else None)

    def shot(name: str) -> Path:
        path = out / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    page.shot = shot
    page.artifacts = out
    yield page
    context.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture
def small(browser, request):
    """A 360×640 touch phone, zh-CN; page.shot(name) saves a screenshot; no script errors allowed."""
    out = ARTIFACTS / request.node.name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=SMALL, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    # full=False: what the phone's screen shows now (where a page scrolled to); a sticky bar drawn over
    # the middle of a full-page picture is only where the screen was.
    page.shot = lambda name, full=True: page.screenshot(path=str(out / f"{name}.png"), full_page=full)
    yield page
    context.close()
    assert not errors, f"errors in the page: {errors}"
