"""Meeting quizzes: the secretary's pages and the projector (staff_views), and the phones (phone_views)."""

from flask import Blueprint

from ..models import utcnow
from ..services.meetings import polling

bp = Blueprint("meetings", __name__)


def tagged(response, tag: str):
    """A poll's answer with its ETag; revalidated every time (a 304 when nothing changed)."""
    response.set_etag(tag)
    response.headers["Cache-Control"] = "no-cache"
    return response


def paced(response, screen: bool = False):
    """Tell the client when to poll next (X-Poll-After, ms): longer while many meetings run (polling.py)."""
    response.headers["X-Poll-After"] = str(polling.poll_after(screen, utcnow()))
    return response


from . import phone_views, staff_views  # noqa: E402,F401
