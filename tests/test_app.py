"""Cross-cutting behaviour: health check, headers, error pages, CSRF, config safety."""

from __future__ import annotations

import pytest

from config import ProductionConfig
from learnhub import create_app


def test_healthz_reports_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json == {"status": "ok", "database": True}


def test_security_headers_on_every_response(client):
    for url in ("/auth/login", "/healthz", "/nowhere"):
        r = client.get(url)
        csp = r.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_lax(world, client):
    r = client.post("/auth/login", data={"identifier": "ma1", "password": "pass1234"})
    cookie = r.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_404_is_a_chinese_page(client):
    r = client.get("/nowhere")
    assert r.status_code == 404 and "页面不存在" in r.get_data(as_text=True)


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_forms_and_autosave_refuse_requests_without_csrf_token(make_app, world):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    r = client.post("/auth/login", data={"identifier": "ma1", "password": "pass1234"})
    assert r.status_code == 400 and "页面已过期" in r.get_data(as_text=True)
    r = client.post("/quiz/attempts/1/answers", json={"position": 1, "answer": 0, "seq": 1})
    assert r.status_code == 400 and r.json["ok"] is False


def test_upload_over_the_size_limit_gets_a_clear_message(make_app, world):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    client = app.test_client()
    client.post("/auth/login", data={"identifier": "seca1", "password": "pass1234"})
    import io

    r = client.post("/admin/members/import", data={"file": (io.BytesIO(b"x" * 5000), "m.csv"), "password": "init1234"},
                    content_type="multipart/form-data")
    assert r.status_code == 413 and "文件太大" in r.get_data(as_text=True)
