"""大字模式 (large type): every page in type of 20 px and more, with larger targets and stronger contrast.

The choice is kept on the member's account (User.large_type), so it follows them to every device they
sign in on, and in a cookie of this device, so the login page keeps it once they have signed out; a
choice made there, before signing in, is kept on the account they sign in to. Pages carry it as the
class `large` on <html> (base.html); the rules are the "large type" block at the end of app.css.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, jsonify, redirect, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from ..inputs import local_path
from ..services.auth import accounts
from . import bp
from .forms import LargeTypeForm

COOKIE = "lh_large"
COOKIE_DAYS = 400  # the longest a browser keeps a cookie (Chrome caps expiry at 400 days)


def large_type_on() -> bool:
    """Whether this request's page is drawn in large type: the account's choice, or this device's."""
    if current_user.is_authenticated:
        return current_user.large_type
    return device_choice()


def device_choice() -> bool:
    """大字模式 was last switched on on this device (the cookie)."""
    return request.cookies.get(COOKIE) == "1"


@bp.app_context_processor
def display_helpers():
    return {"large_type": large_type_on}


def _back() -> str:
    """The page the switch was pressed on, if it is a page of this site a GET can show; else home.

    Read from the Referer, which a same-origin post carries (Referrer-Policy: same-origin), rather than a
    field holding the page's address: a page would then echo its own query (a `next=` among it) back.
    """
    referrer = urlsplit(request.referrer or "")
    path = None
    if referrer.netloc == request.host:
        path = local_path(referrer.path + (f"?{referrer.query}" if referrer.query else ""))
    if path:
        try:
            current_app.create_url_adapter(request).match(urlsplit(path).path, method="GET")
        except HTTPException as exc:  # a RequestRedirect (a missing trailing slash) still leads to a page
            if getattr(exc, "new_url", None) is None:
                path = None
    return path or url_for("study.index")


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.post("/large-type")
def large_type():
    """Switch 大字模式 on or off: on the account when signed in, and on this device either way."""
    form = LargeTypeForm()
    if not form.validate_on_submit():
        message = "无法切换字号，请刷新页面后再试"
        if _wants_json():
            return jsonify(ok=False, error=message), 400
        flash(message, "error")
        return redirect(_back())
    on = form.large.data == "1"
    if current_user.is_authenticated:
        accounts.set_large_type(current_user, on)
    response = jsonify(ok=True, large=on) if _wants_json() else redirect(_back())
    config = current_app.config
    response.set_cookie(COOKIE, "1" if on else "0", max_age=COOKIE_DAYS * 86400, httponly=True,
                        secure=config["SESSION_COOKIE_SECURE"], samesite="Lax", path="/")
    return response
