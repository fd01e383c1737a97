"""Keys and transport: a random development key per checkout, HTTPS by default in production
(Secure cookies, HSTS), and TRUSTED_HOSTS enforced when set."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from flask.sessions import SecureCookieSessionInterface

from config import DevelopmentConfig
from learnhub import create_app
from learnhub.extensions import db

from .conftest import login_with_token

ROOT = Path(__file__).resolve().parents[2]
# The key `make run` used before: public, since it was in the repository.
OLD_PUBLIC_KEY = "dev-only-secret-key-change-me"


def _config_values(env: dict, expr: str) -> list[str]:
    """Evaluate `expr` on a freshly imported config module with `env` as the environment."""
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "LEARNHUB_HTTPS", "SESSION_COOKIE_SECURE")}
    out = subprocess.run([sys.executable, "-c", f"import config; print({expr})"], cwd=ROOT, env={**clean, **env},
                         capture_output=True, text=True, check=True)
    return out.stdout.split()


_APPS: list = []


@pytest.fixture(autouse=True)
def _close_apps():
    """Apps made here with create_app hold pooled connections: close them (PostgreSQL warns otherwise)."""
    yield
    while _APPS:
        app = _APPS.pop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
            app.extensions["learnhub.autocommit_engine"].dispose()


def _create(config):
    app = create_app(config)
    _APPS.append(app)
    return app


def _dev_app(database_url: str, key_file: Path):
    config = type("Dev", (DevelopmentConfig,), {"SECRET_KEY": None, "SECRET_KEY_FILE": str(key_file),
                                                 "SQLALCHEMY_DATABASE_URI": database_url})
    return _create(config)


def test_development_has_no_key_in_the_code():
    assert _config_values({}, "config.DevelopmentConfig.SECRET_KEY") == ["None"]


def test_each_checkout_gets_its_own_random_key_kept_private(tmp_path, database_url):
    first = _dev_app(database_url, tmp_path / "secret_key")
    again = _dev_app(database_url, tmp_path / "secret_key")
    other = _dev_app(database_url, tmp_path / "other_key")
    assert first.secret_key == again.secret_key, "a restart must keep sessions valid"
    assert first.secret_key != other.secret_key and len(first.secret_key) >= 64
    assert OLD_PUBLIC_KEY not in (first.secret_key, other.secret_key)
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600, oct(mode)
    assert not list(tmp_path.glob("secret_key.*")), "no temporary files left behind"


def test_a_cookie_forged_with_the_old_public_key_opens_nothing(tmp_path, database_url, world):
    app = _dev_app(database_url, tmp_path / "secret_key")
    forger = _create(type("Forger", (DevelopmentConfig,), {"SECRET_KEY": OLD_PUBLIC_KEY,
                                                              "SQLALCHEMY_DATABASE_URI": database_url}))
    admin = login_with_token(app.test_client(), world.login["admin"])
    assert admin.get("/reports/").status_code == 200  # the control: this checkout's own cookie opens the page
    payload = SecureCookieSessionInterface().get_signing_serializer(app).loads(admin.get_cookie("session").value)
    forged = SecureCookieSessionInterface().get_signing_serializer(forger).dumps(payload)
    client = app.test_client()
    client.set_cookie("session", forged)
    response = client.get("/reports/")
    assert response.status_code == 302 and "/auth/login" in response.location


def test_production_defaults_to_secure_cookies_and_hsts():
    expr = "config.ProductionConfig.SESSION_COOKIE_SECURE, config.ProductionConfig.REMEMBER_COOKIE_SECURE, " \
           "config.ProductionConfig.HSTS_SECONDS"
    assert _config_values({}, expr) == ["True", "True", "31536000"]
    # The explicit setting for a plain-HTTP intranet turns all three off.
    assert _config_values({"LEARNHUB_HTTPS": "false"}, expr) == ["False", "False", "0"]


def test_hsts_header_when_https(make_app, app):
    secure = make_app(HSTS_SECONDS=31536000)
    response = secure.test_client().get("/auth/login", base_url="https://learnhub.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in app.test_client().get("/auth/login").headers


def test_plain_http_on_an_https_site_says_why_login_will_not_stick(make_app, app):
    secure = make_app(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    warning = "现在是普通 HTTP 连接"
    assert warning in secure.test_client().get("/auth/login").get_data(as_text=True)
    assert warning not in secure.test_client().get("/auth/login", base_url="https://x.example").get_data(as_text=True)
    assert warning not in app.test_client().get("/auth/login").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/auth/login", "/healthz", "/static/css/app.css"])
def test_trusted_hosts_refuses_other_host_names(make_app, app, path):
    strict = make_app(TRUSTED_HOSTS=["learnhub.example", ".dangwei.example"])
    client = strict.test_client()
    assert client.get(path, base_url="http://learnhub.example").status_code == 200
    assert client.get(path, base_url="http://zb1.dangwei.example").status_code == 200
    refused = client.get(path, base_url="http://evil.example")
    assert refused.status_code == 400
    assert "evil.example" not in refused.get_data(as_text=True)
