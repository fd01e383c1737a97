"""Tokens a page carries so that its own scripted requests need neither the session cookie decoded nor a
CSRF token: a quiz page's paper token (quiz/access.py) and a meeting answer page's token
(meetings/access.py). Each names the login it was issued to — user, session version and the digest of
the device's session key — and the thing it is good for; the endpoint checks that login against the
database in the query it runs anyway, exactly as a session would be checked.

Signed with the app's secret key (verified with its fallbacks too, so a key rotation does not break an
open page), one salt per kind, so a token of one kind is worthless as another. A token once verified is
remembered (per process, for the same keys): a meeting's phones send theirs with every poll, and
checking the signature was a quarter of an unchanged poll's cost.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from .security import SessionToken, session_token


_VERIFIED_LIMIT = 100_000


class PageToken:
    """Issue and read tokens of one kind: [thing id, user id, session version, device digest]."""

    def __init__(self, salt: str):
        self.salt = salt
        self._cached: tuple[tuple, URLSafeSerializer, dict] | None = None

    def _signer(self) -> tuple[URLSafeSerializer, dict]:
        """The serializer for the app's keys, and the tokens it has verified (raw -> value)."""
        app = current_app
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._cached
        if cached is None or cached[0] != keys:
            cached = self._cached = (keys, URLSafeSerializer(list(reversed(keys)), salt=self.salt), {})
        return cached[1], cached[2]

    def _serializer(self) -> URLSafeSerializer:
        return self._signer()[0]

    def issue(self, thing_id: int) -> str | None:
        """The token for `thing_id`, for the login this request comes with (None: no device login)."""
        token = session_token()
        if token is None:
            return None
        return self._serializer().dumps([thing_id, token.user_id, token.session_version, token.device])

    def read(self, raw: str | None, thing_id: int) -> SessionToken | None:
        """The login a token names, if it is well signed and for `thing_id`; else None."""
        if not raw:
            return None
        serializer, verified = self._signer()
        value = verified.get(raw)
        if value is None:
            try:
                value = serializer.loads(raw)
            except (BadSignature, ValueError, TypeError):
                return None
            if len(verified) >= _VERIFIED_LIMIT:
                verified.clear()
            verified[raw] = value
        if (isinstance(value, list) and len(value) == 4 and all(type(v) is int for v in value[:3])
                and isinstance(value[3], str) and value[0] == thing_id):
            return SessionToken(*value[1:])
        return None
