"""GET /healthz for load balancers: 200 with a small JSON body when the database (and Redis, if configured) answer."""

from __future__ import annotations

from flask import Flask, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db, limiter


def init_app(app: Flask) -> None:
    @app.get("/healthz")
    @limiter.exempt
    def healthz():
        """Report whether the app can reach its database and, when one is configured, its Redis.

        The app keeps working without Redis (counters.FallbackStorage counts in the database), but a
        Redis that is down is a fault to see: 503 names it.
        """
        report = {"database": True}
        try:
            db.session.execute(text("SELECT 1"))
        except SQLAlchemyError:
            db.session.rollback()
            report["database"] = False
        if current_app.config.get("LEARNHUB_REDIS_URI"):
            report["redis"] = current_app.extensions["learnhub.counters"].check()
        healthy = all(report.values())
        return jsonify(status="ok" if healthy else "error", **report), 200 if healthy else 503
