"""Who is logged in, what every response carries, and the first-password gate."""

from __future__ import annotations

from flask import Flask, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import format_datetime
from flask_login import current_user
from itsdangerous import URLSafeTimedSerializer

from .auth.decorators import current_scope
from .extensions import db, login_manager
from .models import User

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Endpoints a member who must change their password may still reach.
_OPEN_WHILE_CHANGING = {"auth.change_password", "auth.logout", "static", "healthz"}


# Endpoints that check the session themselves, in the query they need anyway (see session_token).
_SELF_CHECKED = {"quiz.save"}


def parse_token(token) -> tuple[int, int] | None:
    """(user id, session version) from the id Flask-Login keeps in the session ("id:version")."""
    try:
        user_id, version = (int(x) for x in str(token).split(":", 1))
    except ValueError:
        return None
    return user_id, version


def session_token() -> tuple[int, int] | None:
    """Who the request claims to be, without loading the user: the answer-save path's first step.

    The claim is checked by the caller's own query (version, active, first password). A request
    without a session id (only a remember-me cookie, or none) goes through Flask-Login as usual.
    """
    token = parse_token(session.get("_user_id", ""))
    if token is not None:
        return token
    if current_user.is_authenticated:
        return current_user.id, current_user.session_version
    return None


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus the refresh on answer saves, with one serializer per key.

    A permanent session is re-signed and re-sent on every response so that it slides; the quiz
    page and every other page still do that, but an answer save, a phone's most frequent request,
    neither spends the signing nor sends the ~300-byte cookie back over a weak signal.

    Flask builds a new signing serializer (keys, salt, a trial serialisation) on every request: 3 %
    of an answer save's instructions (callgrind). It holds no per-request state, so one is kept for
    as long as the secret key and its fallbacks stay the same.
    """

    def __init__(self):
        self._serializer: tuple[tuple, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._serializer
        if cached is None or cached[0] != keys:
            cached = self._serializer = (keys, super().get_signing_serializer(app))
        return cached[1]

    def should_set_cookie(self, app: Flask, session) -> bool:
        if not session.modified and request.endpoint in _SELF_CHECKED:
            return False
        return super().should_set_cookie(app, session)


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """Load the user from the session; a stale session version (logout elsewhere, reset) logs out."""
    parsed = parse_token(token)
    if parsed is None:
        return None
    user_id, version = parsed
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not user.active:
        return None
    return user


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @app.before_request
    def force_new_password():
        # The endpoint first: /healthz and the save must not load the user (nor fail with the database).
        if (
            request.endpoint not in _SELF_CHECKED
            and request.endpoint not in _OPEN_WHILE_CHANGING
            and current_user.is_authenticated
            and current_user.must_change_password
        ):
            return redirect(url_for("auth.change_password"))
        return None

    @app.context_processor
    def template_helpers():
        def is_staff() -> bool:
            return current_user.is_authenticated and current_scope().is_staff

        def https_expected() -> bool:
            """Cookies are Secure but this request came over plain HTTP: the login cannot stick."""
            return bool(app.config.get("SESSION_COOKIE_SECURE")) and not request.is_secure

        return {"is_staff": is_staff, "https_expected": https_expected}

    # A global, not a context variable: imported macros see globals but not the context.
    app.jinja_env.globals["format_datetime"] = format_datetime

    hsts = f"max-age={app.config['HSTS_SECONDS']}" if app.config.get("HSTS_SECONDS") else ""

    @app.after_request
    def set_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if hsts:
            response.headers["Strict-Transport-Security"] = hsts
        if request.endpoint != "static":
            # Pages and exports hold personal data: never kept by a browser or proxy cache.
            response.headers["Cache-Control"] = "no-store"
        return response
