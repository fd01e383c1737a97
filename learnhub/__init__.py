"""LearnHub: Party Constitution study and quizzes for Party organisations."""

from __future__ import annotations

import os

from flask import Flask, request

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(config_class=None) -> Flask:
    """Create and wire the application: config, extensions, blueprints, errors, CLI."""
    from config import CONFIGS

    app = Flask(__name__, instance_relative_config=True)
    if config_class is None:
        config_class = CONFIGS[os.environ.get("LEARNHUB_CONFIG", "production")]
    app.config.from_object(config_class)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY") and app.config.get("SECRET_KEY_FILE"):
        app.config["SECRET_KEY"] = _checkout_secret(os.path.join(app.instance_path, app.config["SECRET_KEY_FILE"]))
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY is not set: export SECRET_KEY (see README, Configuration)")
    from . import inputs

    inputs.init_app(app)  # before any route exists: their <int:...> segments use its converter
    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    _configure_extensions(app)
    _register_blueprints(app)
    from .meetings.unchanged import UnchangedPolls

    app.wsgi_app = UnchangedPolls(app.wsgi_app, app)  # phones' unchanged polls, before Flask

    from . import cli, errors, health, security, static_urls

    static_urls.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    health.init_app(app)
    cli.init_app(app)
    return app


def _checkout_secret(path: str) -> str:
    """The development key of this checkout: read from `path`, or made at random and kept there (mode 0600).

    A fixed key in the code would let anyone who has read it forge a session on a demo left on a LAN.
    Several server processes may start at once: the key is written whole to a temporary file and
    linked into place, so all of them end up reading the one that won.
    """
    import secrets

    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    with open(path, encoding="ascii") as fh:
        key = fh.read().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable secret key: delete it to have a new one made")
    return key


def _configure_extensions(app: Flask) -> None:
    from . import counters
    from .extensions import (
        autocommit_engine, babel, compress, configure_idle_ping, configure_sqlite, csrf, db, limiter, login_manager,
        migrate,
    )

    db.init_app(app)
    migrate.init_app(
        app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True, render_item=_render_migration_type
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=lambda: "zh_Hans_CN")
    counters.init_app(app)  # before the limiter: it picks the storage every process shares
    limiter.init_app(app)
    _only_decorated_limits(app, limiter)
    compress.init_app(app)

    @app.after_request  # registered after Flask-Compress, so it runs before it
    def buffer_static_files(response):
        """Read a (small) static file into the response, so the compressor sees a body rather than
        a stream: its streaming path leaves the file open and cannot use gzip."""
        if request.endpoint == "static" and response.direct_passthrough and response.status_code == 200:
            response.direct_passthrough = False
            response.get_data()
        return response

    login_manager.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"], app.config["SQLITE_SYNCHRONOUS"])
        configure_idle_ping(db.engine, app.config["DB_PING_IDLE_SECONDS"])
        saves = app.extensions["learnhub.autocommit_engine"] = autocommit_engine(
            db.engine, app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        )
        if saves is not db.engine:  # PostgreSQL: the second pool is checked after idling too
            configure_idle_ping(saves, app.config["DB_PING_IDLE_SECONDS"])


def _only_decorated_limits(app: Flask, limiter) -> None:
    """Drop Flask-Limiter's before-request pass while no limit needs it.

    That pass checks the default and application-wide limits (and limits put on whole blueprints)
    before every request. LearnHub has none: its one limit, on login posts, is a decorator on the
    view, which checks itself when the view is called. The pass found nothing to check and still
    cost 7 % of an answer save's instructions (callgrind). Configure a default or application limit
    and the pass stays.
    """
    if any(app.config.get(key) for key in ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")):
        return
    app.before_request_funcs[None] = [f for f in app.before_request_funcs[None] if f != limiter._check_request_limit]


def _render_migration_type(type_, obj, autogen_context):
    """Write our UTC column type into migrations as the plain SQL type it stores."""
    from .models.types import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _register_blueprints(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .meetings import bp as meetings_bp
    from .practice import bp as practice_bp
    from .quiz import bp as quiz_bp
    from .reports import bp as reports_bp
    from .study import bp as study_bp

    for bp in (auth_bp, study_bp, quiz_bp, practice_bp, reports_bp, admin_bp, meetings_bp):
        app.register_blueprint(bp)
