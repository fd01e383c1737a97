"""Who is logged in, what every response carries, and the first-password gate.

A login is a device row on the server (services/auth/sessions.py): the session cookie carries the user id,
the session version and the device's random key; the remember-me cookie (REMEMBER_COOKIE, our own, not
Flask-Login's) a random token that signs the device back in once the session cookie is gone, and is
replaced each time it does. Logging out deletes the row: both cookies, replayed, then get the login page.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import NamedTuple

from flask import Flask, after_this_request, current_app, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import format_datetime
from flask_login import current_user, login_user, logout_user
from itsdangerous import URLSafeTimedSerializer

from .auth.decorators import current_scope
from .extensions import login_manager
from .lazy_session import LazySession
from .models import User
from .services.auth import login as logins
from .services.auth import sessions

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Endpoints a member who must change their password may still reach.
_OPEN_WHILE_CHANGING = {"auth.change_password", "auth.logout", "auth.large_type", "static", "healthz"}


# Endpoints that check the session themselves, in the query they need anyway (see session_token).
_SELF_CHECKED = {"quiz.save", "quiz.state", "meetings.phone_state", "meetings.answer"}
ATTEMPT_TOKEN_HEADER = "X-Attempt-Token"  # a paper's own token, sent by quiz.js (quiz/access.py)
MEETING_TOKEN_HEADER = "X-Meeting-Token"  # a meeting answer page's own token, sent by meeting.js (meetings/access.py)
_PAGE_TOKEN_HEADERS = (ATTEMPT_TOKEN_HEADER, MEETING_TOKEN_HEADER)
DEVICE_KEY = "_device"  # the session's entry holding the device's session key
REMEMBER_COOKIE = "remember_device"
_LEGACY_REMEMBER_COOKIE = "remember_token"  # Flask-Login's own, from before: no longer honoured, deleted


class SessionToken(NamedTuple):
    user_id: int
    session_version: int
    device: str  # the digest of the device's session key, as stored


def parse_token(token) -> tuple[int, int] | None:
    """(user id, session version) from the id Flask-Login keeps in the session ("id:version")."""
    try:
        user_id, version = (int(x) for x in str(token).split(":", 1))
    except ValueError:
        return None
    return user_id, version


def session_token() -> SessionToken | None:
    """Who the request claims to be, without loading the user: the answer-save path's first step.

    The claim is checked by the caller's own query (version, active, first password, device still
    signed in). A request without a session id or device key (only a remember-me cookie, or none)
    goes through Flask-Login as usual.
    """
    current = session._get_current_object()  # one proxy lookup, not one per entry: the hottest path
    token, key = parse_token(current.get("_user_id", "")), current.get(DEVICE_KEY)
    if token is not None and key:
        return SessionToken(*token, sessions.digest(key))
    if current_user.is_authenticated and (key := session.get(DEVICE_KEY)):  # e.g. just signed back in
        return SessionToken(current_user.id, current_user.session_version, sessions.digest(key))
    return None


def device_key() -> str | None:
    """This device's session key (what services/auth/sessions.py knows it by), if it is signed in."""
    return session.get(DEVICE_KEY)


def sign_in_device(user: User, issued: sessions.Issued, fresh: bool = True) -> None:
    """Put a login into this response's cookies: the session (user, version, device key) and remember-me."""
    login_user(user, remember=False, fresh=fresh)
    session.permanent = True
    session[DEVICE_KEY] = issued.session_key
    if issued.remember_token:
        _set_remember_cookie((issued.remember_token, issued.expires_at))


def sign_out_device() -> None:
    """Forget this device's login in the response: session entries and the remember-me cookie."""
    logout_user()
    session.pop(DEVICE_KEY, None)
    _set_remember_cookie(None)


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

    def open_session(self, app: Flask, request):
        """The session. For a request that carries its paper's token (quiz.js's saves, hand-ins and state
        reads), decoded from the cookie only when something first reads or writes it (lazy_session.py)."""
        headers = request.headers
        if not any(h in headers for h in _PAGE_TOKEN_HEADERS) or self.get_signing_serializer(app) is None:
            return super().open_session(app, request)
        return LazySession(functools.partial(self._decoded, app, request))

    def _decoded(self, app: Flask, request) -> dict:
        return dict(super().open_session(app, request) or {})

    def save_session(self, app: Flask, session, response) -> None:
        # Nothing read or changed an unloaded session. On these endpoints Flask would then neither
        # re-send the cookie (should_set_cookie) nor add Vary: Cookie (not accessed): skip the decoding.
        if isinstance(session, LazySession) and not session.loaded and _keeps_cookie(request.endpoint):
            return
        super().save_session(app, session, response)

    def should_set_cookie(self, app: Flask, session) -> bool:
        # A static file never changes the session: re-sending it could overwrite, with a copy read
        # before, a cookie a script's POST set meanwhile (its flash message lost).
        if not session.modified and _keeps_cookie(request.endpoint):
            return False
        return super().should_set_cookie(app, session)


def _keeps_cookie(endpoint: str | None) -> bool:
    """Endpoints whose response re-sends the session cookie only when they changed the session."""
    return endpoint in _SELF_CHECKED or endpoint == "static"


def _unless_session_unread(hook):
    """Flask-Login's after-request hook acts on a "_remember" entry, which only a request that wrote it
    puts in the session (the hook removes it in that same request): with the session never loaded,
    there is none, and the hook would only decode the cookie to find that out."""

    @functools.wraps(hook)
    def update_remember_cookie(response):
        current = session._get_current_object()
        if isinstance(current, LazySession) and not current.loaded:
            return response
        return hook(response)

    return update_remember_cookie


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """Load the user from the session, if its device is still signed in and its version current."""
    parsed, key = parse_token(token), session.get(DEVICE_KEY)
    if parsed is None or not key:
        return None
    return sessions.signed_in_user(*parsed, key)


@login_manager.request_loader
def load_remembered_user(req) -> User | None:
    """Sign the device back in from its remember-me cookie (no session, or an ended one); rotates the token."""
    token = req.cookies.get(REMEMBER_COOKIE)
    if not token:
        return None
    restored = sessions.restore(token, req.headers.get("User-Agent", ""))
    if restored is None:
        _set_remember_cookie(None)  # revoked, replaced or expired: the browser may as well forget it
        return None
    user, issued = restored
    sign_in_device(user, issued, fresh=False)
    return user


def _set_remember_cookie(value: tuple[str, datetime] | None) -> None:
    """Set (token, expiry) or delete (None) the remember-me cookie on this request's response.

    A hook for this request only (after_this_request), so the other requests, answer saves above all,
    pay nothing for it.
    """

    @after_this_request
    def update(response):
        config = current_app.config
        options = {"domain": config.get("REMEMBER_COOKIE_DOMAIN"), "path": config.get("REMEMBER_COOKIE_PATH", "/"),
                   "secure": config["REMEMBER_COOKIE_SECURE"], "httponly": config["REMEMBER_COOKIE_HTTPONLY"],
                   "samesite": config["REMEMBER_COOKIE_SAMESITE"]}
        if value is None:
            response.delete_cookie(REMEMBER_COOKIE, **options)
        else:
            response.set_cookie(REMEMBER_COOKIE, value[0], expires=value[1], **options)
        if _LEGACY_REMEMBER_COOKIE in request.cookies:  # Flask-Login's own, from before: it would shadow ours
            response.delete_cookie(_LEGACY_REMEMBER_COOKIE, **options)
        return response


def fixed_headers(app) -> list[tuple[str, str]]:
    """The headers every response carries (the policy first: a page may set its own); pages and
    exports also get Cache-Control: no-store (set_headers, below)."""
    headers = [("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
               ("Referrer-Policy", "same-origin"), ("X-Frame-Options", "DENY")]
    if app.config.get("HSTS_SECONDS"):
        headers.append(("Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}"))
    return headers


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    hooks = app.after_request_funcs.setdefault(None, [])
    hooks[:] = [_unless_session_unread(f) if f == login_manager._update_remember_cookie else f for f in hooks]
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    # Parsed once, so a mistyped LOGIN_*_LIMITS setting stops the app at start, not at the first login.
    app.extensions["learnhub.login_rules"] = logins.LoginRules.from_config(app.config)

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

    (policy, _), *always = fixed_headers(app)

    @app.after_request
    def set_headers(response):
        response.headers.setdefault(policy, CSP)
        for name, value in always:
            response.headers[name] = value
        own_cache = request.endpoint == "study.attachment" and response.status_code in (200, 206, 304)
        if request.endpoint != "static" and not own_cache:
            # Pages and exports hold personal data: never kept by a browser or proxy cache. (An attachment
            # keeps its own: private to the browser, under an address that never changes its bytes.)
            response.headers["Cache-Control"] = "no-store"
        return response
