"""Application factory."""

import os
from importlib import import_module

from flask import Flask
from sqlalchemy import event

from app.extensions import csrf, db, migrate
from app.platform.ids import IdConverter
from app.platform.requests import PifaRequest


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says what to change."""


def _load_config(app: Flask, overrides: dict | None) -> None:
    app.config.from_object("config")
    # instance/config.py: per-machine settings, never committed.
    app.config.from_pyfile(os.path.join(app.instance_path, "config.py"), silent=True)
    for key, parse in app.config["ENV_KEYS"].items():
        value = os.environ.get(key)
        if value is not None and value != "":
            app.config[key] = parse(value)
    if overrides:
        app.config.update(overrides)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "pifa.db")
    if not app.config["MEDIA_ROOT"]:
        app.config["MEDIA_ROOT"] = os.path.join(app.instance_path, "media")
    # FAB's /download/<filename> routes read UPLOAD_FOLDER; we keep no FAB file columns.
    app.config.setdefault("UPLOAD_FOLDER", os.path.join(app.instance_path, "fab-uploads", ""))
    if app.config.get("DATABASE_URL"):
        url = app.config["DATABASE_URL"]
        # Heroku-style URLs and plain postgresql:// both use psycopg 3.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                url = "postgresql+psycopg://" + url[len(prefix) :]
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    production = app.config["PIFA_ENV"] == "production"
    insecure_key = app.config["SECRET_KEY"] in ("", app.config["INSECURE_SECRET_KEY"])
    if production and not app.testing and insecure_key:
        raise ConfigError(
            "SECRET_KEY is not set. In production set the SECRET_KEY environment "
            "variable to a long random value (python -c 'import secrets; "
            "print(secrets.token_hex(32))'), or run with PIFA_ENV=development."
        )
    if not app.config["RATELIMIT_STORAGE_URI"]:
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or "memory://"
    if production and not app.testing and \
            app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        raise ConfigError(
            "Rate limits (sign-in, SMS codes) need shared storage in production: with "
            "several web workers, counts kept in each process's memory let an attacker "
            "try passwords per worker. Set REDIS_URL (or RATELIMIT_STORAGE_URI, e.g. "
            "redis://127.0.0.1:6379/1), or run with PIFA_ENV=development.")
    if app.config["SESSION_COOKIE_SECURE"] is None:  # auto: Secure cookies in production
        app.config["SESSION_COOKIE_SECURE"] = production
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)


def _sqlite_foreign_keys(engine) -> None:
    """SQLite enforces foreign keys (ON DELETE rules included) only when asked to."""
    if engine.dialect.name != "sqlite":
        return
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


# Each domain owns its models; all of them are on the metadata before Flask-AppBuilder maps
# its user model (which our tables reference) and before Alembic compares the schema.
MODEL_MODULES = ("app.platform.models", "app.members.models", "app.catalog.models",
                 "app.content.models", "app.messaging.models", "app.ordering.models",
                 "app.payments.models", "app.payments.wechat_pay.models")


def _import_models() -> None:
    for name in MODEL_MODULES:
        import_module(name)


def create_app(config: dict | None = None) -> Flask:
    # PIFA_INSTANCE_DIR moves instance/ (its config.py and the SQLite file) elsewhere.
    instance = os.environ.get("PIFA_INSTANCE_DIR") or os.path.join(
        os.path.dirname(__file__), "..", "instance")
    app = Flask(__name__, instance_path=os.path.abspath(instance))
    _load_config(app, config)

    # Before any route is added: every <int:...> is an id the database can hold.
    app.url_map.converters["int"] = IdConverter
    app.request_class = PifaRequest

    _import_models()
    # Imported once the models are loaded, not at the top: every module of the app loads
    # this package first, and importing the views from here would load all of them.
    from app.jobs import init_jobs
    from app.platform.security import PifaAppBuilder
    from app.views import register_blueprints, register_views

    db.init_app(app)
    with app.app_context():
        _sqlite_foreign_keys(db.engine)
    migrate.init_app(app, db, directory=os.path.abspath(
        os.path.join(app.root_path, "..", "migrations")))
    csrf.init_app(app)  # before AppBuilder, or FAB's API logins fail (FAB-NOTES section 9)
    with app.app_context():
        appbuilder = PifaAppBuilder()
        appbuilder.init_app(app, db.session)
        # FAB's default login_view does not exist as an endpoint; ours is the mobile page.
        appbuilder.sm.lm.login_view = "auth.login"
        register_views(appbuilder)
    register_blueprints(app)
    init_jobs(app)

    from app.cli import pifa_cli

    app.cli.add_command(pifa_cli)
    return app
