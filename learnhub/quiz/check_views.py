"""测试一下你的手机: a page that checks, in a few seconds, that this phone can take an exam.

JavaScript on, storage for unsent answers, cookies, a test answer sent the way a save is (session, CSRF
token, JSON) and acknowledged by the server, the clock's difference to the server's, and the WeChat
browser recognised; each with what to do in plain Chinese when it fails. The test answer is echoed, not
stored: it exercises the network path a save takes, not the member's record.
"""

from __future__ import annotations

import time

from flask import jsonify, render_template, request
from flask_login import login_required

from ..inputs import SEQ_MAX, accepts_json, bounded_int
from . import bp


@bp.get("/check")
@login_required
def phone_check():
    """The phone check page; the checks themselves run in the browser (static/js/phone-check.js)."""
    return render_template("quiz/phone_check.html")


@bp.post("/check/echo")
@login_required
@accepts_json
def phone_check_echo():
    """Acknowledge a test answer as a save would (same session and CSRF check) and give the server's clock."""
    body = request.get_json(silent=True)
    try:
        number = bounded_int(body.get("n") if isinstance(body, dict) else None, 0, SEQ_MAX)
    except (TypeError, ValueError):
        return jsonify(ok=False, error="测试数据无效"), 400
    return jsonify(ok=True, n=number, server_ms=int(time.time() * 1000))
