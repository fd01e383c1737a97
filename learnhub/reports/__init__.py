from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from . import key_views, member_views, recheck_views, views  # noqa: E402,F401
