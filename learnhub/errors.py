"""Error pages in Chinese; JSON for the quiz's background requests. No request ends in a bare 500."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db

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

    @app.errorhandler(Refusal)
    def refusal(exc: Refusal):
        return _render(exc.code, exc.description)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        return _render(code, MESSAGES.get(code, exc.description or MESSAGES[400]))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error", exc_info=exc)
        return _render(500, MESSAGES[500])
