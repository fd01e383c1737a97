"""Error pages in Chinese; JSON for the quiz's background requests. No request ends in a bare 500."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, SecurityError

from .extensions import db

# Seconds a phone or a load balancer is asked to wait before trying again while the database is away.
RETRY_AFTER = 5
UNAVAILABLE = "服务器暂时连不上数据库，请稍等片刻再试"
UNAVAILABLE_SAVE = "服务器暂时无法保存，答案已留在手机上，稍后自动重发"

MESSAGES = {
    400: "请求有误，请返回后重试",
    403: "你没有权限访问这个页面",
    404: "页面不存在，或你无权查看",
    405: "不支持这种操作方式",
    413: "上传的文件太大",
    429: "操作太频繁，请稍后再试",
    500: "服务器出了点问题，请稍后再试；你已保存的答案不会丢失",
}


class Refusal(HTTPException):
    """An error status with a message of its own, when the generic one would not say why (e.g. 403 for a
    secretary who sits the exam whose item analysis they open)."""

    def __init__(self, code: int, message: str):
        super().__init__(description=message)
        self.code = code


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _render(code: int, message: str):
    if _wants_json():
        return jsonify(ok=False, error=message), code
    return render_template("errors/error.html", code=code, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_exc):
        return _render(400, "页面已过期，请刷新后再提交")

    @app.errorhandler(SecurityError)
    def untrusted_host(_exc):
        # A Host outside TRUSTED_HOSTS: no URL can be built for it, so no page with links either.
        return "请求的主机名不被本站接受", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(Refusal)
    def refusal(exc: Refusal):
        return _render(exc.code, exc.description)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        return _render(code, MESSAGES.get(code, exc.description or MESSAGES[400]))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        try:
            db.session.rollback()
        except Exception:  # the connection may be gone with the database: the page must still go out
            app.logger.warning("rollback failed after an error", exc_info=True)
        if database_unavailable(exc):
            app.logger.warning("database unavailable: %s", exc.__class__.__name__)
            return unavailable()
        app.logger.exception("unhandled error", exc_info=exc)
        try:
            return _render(500, MESSAGES[500])
        except Exception:
            app.logger.exception("the error page failed too")
            return _bare(500, MESSAGES[500])


def database_unavailable(exc: BaseException) -> bool:
    """A database that is down, restarting, unreachable or locked, rather than a bug in a query."""
    if isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def unavailable():
    """503 with Retry-After, rendered without touching the database (the page would fail again)."""
    headers = {"Retry-After": str(RETRY_AFTER)}
    if _wants_json():
        return jsonify(ok=False, retry=True, error=UNAVAILABLE_SAVE), 503, headers
    try:
        again = request.full_path if request.method == "GET" else "/"
        # Straight from the environment: render_template's context processors would load the user.
        template = current_app.jinja_env.get_template("errors/unavailable.html")
        page = template.render(message=UNAVAILABLE, retry=RETRY_AFTER, again=again)
        return page, 503, headers
    except Exception:
        return _bare(503, UNAVAILABLE, headers)


def _bare(code: int, message: str, headers: dict | None = None):
    """The last resort: a page in Chinese from a string, with no template, session or database."""
    body = (f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{code}</title><h1>{message}</h1></html>')
    return body, code, {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
