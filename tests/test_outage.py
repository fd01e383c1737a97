"""The database goes away in the middle of an exam: every page is a page in Chinese (503, Retry-After),
never a blank 500; saves answer 503 so the phone keeps the answer and retries; /healthz says 503 with or
without a session cookie; and when the database is back, the exam carries on with nothing lost.

On PostgreSQL the outage is real: the test database stops accepting connections and the app's
connections are killed (what a restart or a crash does to it). On SQLite the database file vanishes
from under the app (a directory stands in its place, so it cannot even be created again).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from learnhub.extensions import db

from .quiz.helpers import paper, shown_answer
from .quiz.test_taking import save, start


@contextmanager
def database_down(app):
    """The database is unavailable inside the block, and back after it."""
    with app.app_context():
        engines = [db.engine, app.extensions["learnhub.autocommit_engine"]]
        url = db.engine.url
    if url.get_backend_name() == "postgresql":
        name = url.database
        admin = create_engine(make_url(url.render_as_string(hide_password=False)).set(database="postgres"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        try:
            yield
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            admin.dispose()
    else:
        path = Path(url.database)
        aside = path.with_name(path.name + ".away")
        for engine in engines:
            engine.dispose()
        wal = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
        os.rename(path, aside)
        moved = [(w, w.with_name(w.name + ".away")) for w in wal if w.exists()]
        for src, dst in moved:
            os.rename(src, dst)
        path.mkdir()  # nothing can open or create the database file now
        try:
            yield
        finally:
            path.rmdir()
            os.rename(aside, path)
            for src, dst in moved:
                os.rename(dst, src)


def test_a_database_outage_mid_exam_is_a_page_then_the_exam_carries_on(app, world, login):
    phone = login(world.login["m_a1"])
    attempt_id = start(phone, world.assignment_a)
    items = paper(app, attempt_id)
    (pos1, q1, perm1), (pos2, q2, perm2) = items[:2]
    assert save(phone, attempt_id, pos1, shown_answer(q1, perm1), 1).json["saved"] is True

    with database_down(app):
        for url in (f"/quiz/attempts/{attempt_id}", "/", "/practice/", f"/quiz/{world.assignment_a}"):
            page = phone.get(url)
            body = page.get_data(as_text=True)
            assert page.status_code == 503, (url, page.status_code)
            assert page.headers["Retry-After"].isdigit()
            assert "暂时连不上数据库" in body and "答案不会丢失" in body, url
        saved = save(phone, attempt_id, pos2, shown_answer(q2, perm2), 2)
        assert saved.status_code == 503 and saved.headers["Retry-After"].isdigit()
        assert saved.json["ok"] is False and saved.json["retry"] is True and "手机上" in saved.json["error"]
        for client in (phone, app.test_client()):  # with the member's session cookie, and without
            health = client.get("/healthz")
            assert health.status_code == 503 and health.json == {"status": "error", "database": False}
        hand_in = phone.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": ""})
        assert hand_in.status_code == 503 and "暂时连不上数据库" in hand_in.get_data(as_text=True)

    # Back: the phone resends what it kept, the page opens, and the hand-in grades both answers.
    assert save(phone, attempt_id, pos2, shown_answer(q2, perm2), 2).json["saved"] is True
    assert phone.get("/healthz").status_code == 200
    assert phone.get(f"/quiz/attempts/{attempt_id}").status_code == 200
    result = phone.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": ""}, follow_redirects=True)
    assert result.status_code == 200
    with app.app_context():
        from learnhub.models import Attempt

        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.is_finished and attempt.correct_count == 2


def test_a_page_whose_error_page_fails_too_is_still_a_page(app, world, login, monkeypatch):
    """A bug that breaks both the view and the error template still answers a Chinese page, not a blank."""
    from learnhub import errors

    def broken(*_args, **_kwargs):
        raise RuntimeError("template broken")

    phone = login(world.login["m_a1"])
    monkeypatch.setattr("learnhub.study.views.render_template", broken)
    monkeypatch.setattr(errors, "render_template", broken)
    page = phone.get("/")
    assert page.status_code == 500 and "服务器出了点问题" in page.get_data(as_text=True)
