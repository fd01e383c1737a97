"""Before Flask: a phone's poll that finds its meeting unchanged is answered 304 at the WSGI layer.

Of the requests 500 meetings at once send, most are phones asking "anything new?" and hearing "no"
(bench/README.md, "Meetings"). When the poll carries its answer page's token (access.py) and an ETag
the meeting still has, as this process last read every open meeting's clock (at most a second ago:
services/meetings/clocks.py), the answer is a 304: it tells the page, which already holds the state,
only that nothing has moved. That needs neither the session, nor the database, nor Flask's request
handling, and skipping them made such a poll several times cheaper. It carries the headers every
response of the app carries (security.fixed_headers) and the poll pacing (X-Poll-After).

Everything else goes on to the app, which answers as it always has: no token or a bad one, an ETag
the meeting no longer has (the login is then checked before anything is shown), a meeting this process
has no clock for, and any error here (logged).
"""

from __future__ import annotations

import re

from werkzeug.http import parse_etags, quote_etag

from ..inputs import DB_INT_MAX
from ..models import utcnow
from ..security import MEETING_TOKEN_HEADER, fixed_headers
from ..services.meetings import polling
from . import access

_PATH = re.compile(r"/meetings/([1-9][0-9]{0,9})/phone/state")
_TOKEN = "HTTP_" + MEETING_TOKEN_HEADER.upper().replace("-", "_")


class UnchangedPolls:
    """WSGI middleware around the app's own `wsgi_app`."""

    def __init__(self, wsgi_app, app):
        self.wsgi_app, self.app = wsgi_app, app
        self.headers = [*fixed_headers(app), ("Cache-Control", "no-store")]

    def __call__(self, environ, start_response):
        found = (environ.get("REQUEST_METHOD") == "GET" and environ.get("HTTP_IF_NONE_MATCH")
                 and environ.get(_TOKEN) and _PATH.fullmatch(environ.get("PATH_INFO", "")))
        if found:
            headers = self._unchanged(int(found.group(1)), environ)
            if headers is not None:
                start_response("304 NOT MODIFIED", headers)
                return []
        return self.wsgi_app(environ, start_response)

    def _unchanged(self, meeting_id: int, environ) -> list[tuple[str, str]] | None:
        """The 304's headers if the token is good for this meeting and the ETag still current; else None."""
        if meeting_id > DB_INT_MAX:
            return None
        try:
            with self.app.app_context():
                if access.claim_of(environ[_TOKEN], meeting_id) is None:
                    return None
                now = utcnow()
                tag = polling.seen_tag(meeting_id, now)
                if tag is None or not parse_etags(environ["HTTP_IF_NONE_MATCH"]).contains_weak(tag):
                    return None
                return [("ETag", quote_etag(tag)), ("X-Poll-After", str(polling.poll_after(False, now))),
                        *self.headers]
        except Exception:  # e.g. the database down: the app's own path answers (and says so)
            self.app.logger.exception("meeting poll: answered by the app instead")
            return None
