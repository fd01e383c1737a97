"""Who is logged in, what every response carries, and the first-password gate."""

from __future__ import annotations

from flask import Flask, redirect, request, url_for
from flask_babel import format_datetime
from flask_login import current_user

from .auth.decorators import current_scope
from .extensions import db, login_manager
from .models import User

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Endpoints a member who must change their password may still reach.
_OPEN_WHILE_CHANGING = {"auth.change_password", "auth.logout", "static", "healthz"}


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """Load the user from the session; a stale session version (logout elsewhere, reset) logs out."""
    try:
        user_id, version = (int(x) for x in token.split(":", 1))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not user.active:
        return None
    return user


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @app.before_request
    def force_new_password():
        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint not in _OPEN_WHILE_CHANGING
        ):
            return redirect(url_for("auth.change_password"))
        return None

    @app.context_processor
    def template_helpers():
        def is_staff() -> bool:
            return current_user.is_authenticated and current_scope().is_staff

        return {"is_staff": is_staff}

    # A global, not a context variable: imported macros see globals but not the context.
    app.jinja_env.globals["format_datetime"] = format_datetime

    @app.after_request
    def set_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if request.endpoint != "static":
            # Pages and exports hold personal data: never kept by a browser or proxy cache.
            response.headers["Cache-Control"] = "no-store"
        return response
