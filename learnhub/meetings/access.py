"""Who a phone's poll or answer comes from: the answer page's own token, or the session.

The answer page carries a token (page_tokens.py) naming the meeting, the member and their device's
login. meeting.js sends it with every poll and answer: the poll is then answered by one query that
checks that login (services/meetings/polling.py) without decoding the session cookie or loading the
user, and an answer needs no CSRF token (the token is a secret only the page holds, good for that one
meeting). Without it (an older page) both go through the session, and a POST through Flask-WTF's CSRF
check, as before.
"""

from __future__ import annotations

from flask import current_app, request

from ..extensions import csrf
from ..page_tokens import PageToken
from ..security import MEETING_TOKEN_HEADER, SessionToken

_TOKENS = PageToken("learnhub.meeting")


def issue(meeting_id: int) -> str | None:
    """The token for the answer page of `meeting_id`, for this request's login (None: no device login)."""
    return _TOKENS.issue(meeting_id)


def token_claim(meeting_id: int) -> SessionToken | None:
    """The login the request's meeting token names, if it carries a good one for `meeting_id`."""
    return claim_of(request.headers.get(MEETING_TOKEN_HEADER), meeting_id)


def claim_of(raw: str | None, meeting_id: int) -> SessionToken | None:
    """The login a meeting token names, if it is a good one for `meeting_id` (needs an app context)."""
    return _TOKENS.read(raw, meeting_id)


def check_csrf_unless_token(meeting_id: int) -> SessionToken | None:
    """For a POST: the token's login, or (no good token) Flask-WTF's CSRF check (CSRFError: a plain 400)."""
    found = token_claim(meeting_id)
    if found is None and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()
    return found
