from flask import Blueprint

bp = Blueprint("quiz", __name__, url_prefix="/quiz")

from . import check_views, views  # noqa: E402,F401
