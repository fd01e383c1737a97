"""Configuration classes. Every setting can come from an environment variable.

`LEARNHUB_CONFIG` picks the class (development, testing, production); the default is production,
which refuses to start without a SECRET_KEY.
"""

from __future__ import annotations

import os
from datetime import timedelta


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.lower() in ("1", "true", "yes", "on")


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///learnhub.sqlite")
    # No ping on every checkout: a connection idle this long is checked before use (extensions.py).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    DB_PING_IDLE_SECONDS = float(os.environ.get("DB_PING_IDLE_SECONDS", "10"))
    QUESTIONS_DIR = os.environ.get(
        "LEARNHUB_QUESTIONS_DIR", os.path.join(os.path.dirname(__file__), "questions")
    )
    NOTES_DIR = os.environ.get(
        "LEARNHUB_NOTES_DIR", os.path.join(os.path.dirname(__file__), "learnhub", "content", "notes")
    )
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "30000"))
    # FULL: a commit is on disk before "已保存" is answered, power cut included. NORMAL in WAL mode
    # survives a crashed process but may lose the last commits to a power cut (SQLite's documentation).
    SQLITE_SYNCHRONOUS = os.environ.get("SQLITE_SYNCHRONOUS", "FULL").upper()

    # A quiz page may stay open longer than Flask-WTF's default hour: the token lives with the session.
    WTF_CSRF_TIME_LIMIT = None
    # Served over HTTPS (directly or behind nginx): cookies only travel encrypted and browsers are told
    # to use HTTPS for a year (HSTS). LEARNHUB_HTTPS=false for a plain-HTTP intranet (README: what it costs).
    HTTPS = _bool("LEARNHUB_HTTPS", True)
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "31536000")) if HTTPS else 0
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", HTTPS)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # How long 保持登录 keeps a device signed in, and the longest any login lasts (services/auth/sessions.py).
    REMEMBER_COOKIE_DURATION = timedelta(days=int(os.environ.get("REMEMBER_DAYS", "14")))
    PERMANENT_SESSION_LIFETIME = timedelta(hours=int(os.environ.get("SESSION_HOURS", "12")))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "5")) * 1024 * 1024
    # Attachments of study materials (images, PDF, audio): kept on disk in this folder, beside the database
    # by default (instance/attachments); back it up with the database. Each kind has its size limit; only
    # the attachment upload may exceed MAX_CONTENT_LENGTH, up to the largest of them (admin/material_views.py).
    ATTACHMENTS_DIR = os.environ.get("LEARNHUB_ATTACHMENTS_DIR", "")
    ATTACHMENT_IMAGE_MB = float(os.environ.get("ATTACHMENT_IMAGE_MB", "5"))
    ATTACHMENT_PDF_MB = float(os.environ.get("ATTACHMENT_PDF_MB", "20"))
    ATTACHMENT_AUDIO_MB = float(os.environ.get("ATTACHMENT_AUDIO_MB", "30"))
    # Meeting quizzes: how many polls a second (phones and projectors together) one server should spend on
    # the meetings in progress. Phones poll every 1.5 s while few are in meetings; with more, every phone
    # waits longer (up to 10 s) so that all of them together stay near this budget (bench/README.md,
    # "Meetings"). Set it to what `python -m bench meetings` shows your server carries: 1,000 kept a 2-core
    # server under its limit with 500 meetings of 30 phones (their polls then every 10 s).
    MEETING_POLLS_PER_SECOND = float(os.environ.get("MEETING_POLLS_PER_SECOND", "1000"))
    # An uploaded bank file waits this long for the organiser to confirm its preview, then is deleted.
    IMPORT_PREVIEW_MINUTES = int(os.environ.get("IMPORT_PREVIEW_MINUTES", "60"))
    TRUSTED_HOSTS = [h for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h] or None
    # Proxies in front of the app (nginx: 1). Their X-Forwarded-For and -Proto are then believed, so
    # the per-address login limit sees the phone's address, not the proxy's. 0: headers ignored.
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("LEARNHUB_TIMEZONE", "Asia/Shanghai")

    # argon2id at the OWASP ASVS minimum (19 MiB, 2 passes, 1 lane): see ENGINEERING.md.
    ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", "2"))
    ARGON2_MEMORY_COST = int(os.environ.get("ARGON2_MEMORY_COST", "19456"))
    ARGON2_PARALLELISM = int(os.environ.get("ARGON2_PARALLELISM", "1"))
    # Failed logins (services/auth/login.py): per login name and address, in growing windows (progressive
    # delay); per address, over all names; per login name, over all addresses (a ceiling).
    LOGIN_FAILURE_LIMITS = os.environ.get("LOGIN_FAILURE_LIMITS", "5 per 15 minutes; 10 per hour; 20 per day")
    LOGIN_ADDRESS_FAILURE_LIMITS = os.environ.get("LOGIN_ADDRESS_FAILURE_LIMITS", "50 per 15 minutes")
    LOGIN_ACCOUNT_FAILURE_LIMITS = os.environ.get("LOGIN_ACCOUNT_FAILURE_LIMITS", "100 per hour")

    # Empty: the counters live in the database, shared by every process; or redis://host:port (counters.py).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = False
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "30 per minute")

    # Pages, CSS, JS and SVG charts go out compressed (gzip, or brotli where the phone offers it):
    # a weak signal pays for bytes. Exports are not listed (xlsx is already a zip).
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/javascript", "application/javascript",
                          "application/json", "image/svg+xml"]

    # Seconds after the deadline during which a slow network may still deliver a submit.
    ATTEMPT_GRACE_SECONDS = int(os.environ.get("ATTEMPT_GRACE_SECONDS", "60"))


class _PlainHTTP:
    """The development server and the tests speak plain HTTP on localhost."""

    HTTPS = False
    HSTS_SECONDS = 0
    SESSION_COOKIE_SECURE = REMEMBER_COOKIE_SECURE = False


class DevelopmentConfig(_PlainHTTP, Config):
    DEBUG = False
    # Without SECRET_KEY, a random key is made once per checkout and kept in instance/ (create_app).
    SECRET_KEY_FILE = "secret_key"


class ProductionConfig(Config):
    pass


class TestingConfig(_PlainHTTP, Config):
    TESTING = True
    SECRET_KEY = "test"
    SQLALCHEMY_DATABASE_URI = os.environ.get("LEARNHUB_TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    # Cheap hashing keeps the suite fast; production cost is tested separately.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 64


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}
