"""Who an answer save, a hand-in or a paper's state read comes from: the paper's own token, or the session.

A quiz page may stay open longer than the session cookie lives (SESSION_HOURS, and saves do not slide
it): a paper left open over lunch would otherwise never save again. So the page carries a token signed
with the app's secret that names the attempt, the member, their session version and the device's login
(services/auth/sessions.py, page_tokens.py). A request that carries it is checked exactly as a session
would be (the device still signed in, the version current, the account active) and needs no CSRF token:
the token is itself a secret only the page holds, and it is good for that one attempt only. A request
without it (a page from before, a form posted without JavaScript) goes through the session and
Flask-WTF's CSRF check as ever.
"""

from __future__ import annotations

from flask import current_app, request

from ..extensions import csrf
from ..page_tokens import PageToken
from ..security import ATTEMPT_TOKEN_HEADER, SessionToken, session_token

HEADER = ATTEMPT_TOKEN_HEADER
FIELD = "attempt_token"
_TOKENS = PageToken("learnhub.attempt")


def issue(attempt_id: int) -> str | None:
    """The token for the page of `attempt_id`, for the login this request comes with (None: no device login)."""
    return _TOKENS.issue(attempt_id)


def claim(attempt_id: int) -> SessionToken | None:
    """Who the request claims to be for `attempt_id`: from its attempt token, else from the session after
    the CSRF check (which raises CSRFError: a plain 400). The caller checks the claim against the database."""
    raw = request.headers.get(HEADER)
    if raw is None and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raw = request.form.get(FIELD)
    found = _TOKENS.read(raw, attempt_id)
    if found is not None:
        return found
    if request.method not in ("GET", "HEAD") and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()
    return session_token()
