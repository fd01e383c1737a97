"""GET /healthz for load balancers: 200 with a small JSON body when the database answers."""

from __future__ import annotations

from flask import Flask, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db, limiter


def init_app(app: Flask) -> None:
    @app.get("/healthz")
    @limiter.exempt
    def healthz():
        """Report whether the app can reach its database."""
        try:
            db.session.execute(text("SELECT 1"))
        except SQLAlchemyError:
            db.session.rollback()
            return jsonify(status="error", database=False), 503
        return jsonify(status="ok", database=True)
