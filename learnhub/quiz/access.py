"""Who an answer save, a hand-in or a paper's state read comes from: the paper's own token, or the session.

A quiz page may stay open longer than the session cookie lives (SESSION_HOURS, and saves do not slide
it): a paper left open over lunch would otherwise never save again. So the page carries a token signed
with the app's secret that names the attempt, the member, their session version and the device's login
(services/auth/sessions.py). A request that carries it is checked exactly as a session would be (the device
still signed in, the version current, the account active) and needs no CSRF token: the token is itself a
secret only the page holds, and it is good for that one attempt only. A request without it (a page from
before, a form posted without JavaScript) goes through the session and Flask-WTF's CSRF check as ever.
"""

from __future__ import annotations

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from ..extensions import csrf
from ..security import ATTEMPT_TOKEN_HEADER, SessionToken, session_token

HEADER = ATTEMPT_TOKEN_HEADER
FIELD = "attempt_token"
_SALT = "learnhub.attempt"
_serializers: dict[tuple, URLSafeSerializer] = {}


def _serializer() -> URLSafeSerializer:
    app = current_app
    keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
    found = _serializers.get(keys)
    if found is None:
        _serializers.clear()
        found = _serializers[keys] = URLSafeSerializer(list(reversed(keys)), salt=_SALT)
    return found


def issue(attempt_id: int) -> str | None:
    """The token for the page of `attempt_id`, for the login this request comes with (None: no device login)."""
    token = session_token()
    if token is None:
        return None
    return _serializer().dumps([attempt_id, token.user_id, token.session_version, token.device])


def claim(attempt_id: int) -> SessionToken | None:
    """Who the request claims to be for `attempt_id`: from its attempt token, else from the session after
    the CSRF check (which raises CSRFError: a plain 400). The caller checks the claim against the database."""
    raw = request.headers.get(HEADER)
    if raw is None and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raw = request.form.get(FIELD)
    found = _read(raw) if raw else None
    if found is not None and found[0] == attempt_id:
        return SessionToken(*found[1:])
    if request.method not in ("GET", "HEAD") and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()
    return session_token()


def _read(raw: str) -> tuple[int, int, int, str] | None:
    try:
        value = _serializer().loads(raw)
    except (BadSignature, ValueError, TypeError):
        return None
    if (isinstance(value, list) and len(value) == 4 and all(type(v) is int for v in value[:3])
            and isinstance(value[3], str)):
        return tuple(value)
    return None
