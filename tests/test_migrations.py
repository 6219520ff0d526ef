"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL.

Each test makes its own app on its own empty database (never the session `app`),
runs `flask db upgrade` (flask_migrate.upgrade), then asks Alembic's autogenerate
for the difference between the models and the migrated schema: it must be empty,
or somebody changed a model without writing its migration.
"""

import logging

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.platform.security import ROLE_NAMES, sync_roles
from tests.conftest import TEST_DATABASE_URL, app_config, need


@pytest.fixture(autouse=True)
def _keep_logging():
    """migrations/env.py runs logging.config.fileConfig, which disables every existing
    logger and replaces the root handlers; put logging back so later tests (caplog)
    see what they expect."""
    manager = logging.Logger.manager
    root = logging.getLogger()
    saved_root = (root.level, list(root.handlers), root.disabled)
    saved = {name: (lg.level, list(lg.handlers), lg.disabled, lg.propagate)
             for name, lg in manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    yield
    root.setLevel(saved_root[0])
    root.handlers[:] = saved_root[1]
    root.disabled = saved_root[2]
    for name, lg in list(manager.loggerDict.items()):
        if not isinstance(lg, logging.Logger):
            continue
        if name in saved:
            lg.level, handlers, lg.disabled, lg.propagate = saved[name]
            lg.handlers[:] = handlers
        else:
            lg.disabled = False
    manager._clear_cache()


def upgrade(revision="head"):
    try:
        flask_migrate.upgrade(revision=revision)
    except SystemExit as exc:  # Flask-Migrate logs an Alembic CommandError and exits
        pytest.fail(f"flask db upgrade {revision} failed (exit {exc.code}); see the log")


def downgrade(revision):
    try:
        flask_migrate.downgrade(revision=revision)
    except SystemExit as exc:
        pytest.fail(f"flask db downgrade {revision} failed (exit {exc.code}); see the log")


def script_heads() -> list[str]:
    config = current_app.extensions["migrate"].migrate.get_config()
    return list(ScriptDirectory.from_config(config).get_heads())


def current_revisions() -> set[str]:
    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def schema_diff() -> list:
    """What `flask db migrate` would write now: must be nothing."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def schema_snapshot() -> dict:
    insp = inspect(db.engine)
    return {t: sorted(c["name"] for c in insp.get_columns(t)) for t in insp.get_table_names()}


def check_migrated_schema(app) -> None:
    with app.app_context():
        heads = script_heads()
        assert len(heads) == 1, f"the migrations have several heads, merge them: {heads}"
        assert current_revisions() == set()

        upgrade()
        assert current_revisions() == set(heads)
        diff = schema_diff()
        assert diff == [], ("models and migrations differ; run `flask db migrate` and "
                            "review the new migration:\n" + "\n".join(map(repr, diff)))
        model_tables = {t.name for t in db.metadata.sorted_tables}
        assert model_tables <= set(inspect(db.engine).get_table_names())

        # Roles and permissions can be written on the migrated schema, twice.
        first = sync_roles(app.appbuilder)
        db.session.commit()
        assert first == sync_roles(app.appbuilder)
        db.session.commit()
        sm = app.appbuilder.sm
        assert all(sm.find_role(name) is not None for name in ROLE_NAMES)
        db.session.remove()

        # A second upgrade is a no-op: same revision, same schema, rows kept.
        before = schema_snapshot()
        upgrade()
        assert current_revisions() == set(heads)
        assert schema_snapshot() == before
        assert schema_diff() == []
        roles = db.metadata.tables["ab_role"]
        with db.engine.connect() as connection:
            names = set(connection.scalars(select(roles.c.name)))
        assert set(ROLE_NAMES) <= names
        db.session.remove()


def test_migrations_match_models_on_sqlite(tmp_path_factory):
    folder = tmp_path_factory.mktemp("migr")
    app = create_app(app_config(tmp_path_factory, DATABASE_URL=f"sqlite:///{folder / 'm.db'}"))
    try:
        check_migrated_schema(app)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_migrations_downgrade_to_base_and_up_again_on_sqlite(tmp_path_factory):
    folder = tmp_path_factory.mktemp("migr")
    app = create_app(app_config(tmp_path_factory, DATABASE_URL=f"sqlite:///{folder / 'd.db'}"))
    try:
        with app.app_context():
            upgrade()
            downgrade("base")
            assert current_revisions() == set()
            left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
            assert left == set(), f"downgrade to base left tables behind: {sorted(left)}"
            upgrade()
            assert schema_diff() == []
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.postgres
def test_migrations_match_models_on_postgresql(tmp_path_factory):
    need(bool(TEST_DATABASE_URL),
         "TEST_DATABASE_URL is not set (the migrations are checked on PostgreSQL with it)")
    import psycopg
    from psycopg import sql

    url = make_url(TEST_DATABASE_URL)
    base_name = url.database or "pifa_test"
    name = f"{base_name}_migr"
    admin = {"host": url.host or "127.0.0.1", "port": url.port or 5432,
             "user": url.username or "postgres", "dbname": "postgres", "autocommit": True}
    if url.password:
        admin["password"] = url.password

    def run(statement):
        with psycopg.connect(**admin) as conn:
            conn.execute(statement)

    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    run(drop)  # left over from an interrupted run
    run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        migr_url = url.set(database=name).render_as_string(hide_password=False)
        app = create_app(app_config(tmp_path_factory, DATABASE_URL=migr_url))
        try:
            with app.app_context():
                assert db.engine.dialect.name == "postgresql"
                with db.engine.connect() as connection:
                    assert connection.scalar(text("SELECT current_database()")) == name
            check_migrated_schema(app)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    finally:
        run(drop)



def test_the_actor_of_existing_history_entries_becomes_columns(tmp_path_factory):
    """order_event.actor_label ('王建国 (salesman)', 'system') is split into actor_name and
    actor_role by the migration, and joined again by its downgrade."""
    folder = tmp_path_factory.mktemp("migr")
    app = create_app(app_config(tmp_path_factory, DATABASE_URL=f"sqlite:///{folder / 'a.db'}"))
    before, after = "19adfc7dc21a", "b408fd627daa"
    try:
        with app.app_context():
            upgrade(before)
            with db.engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO ab_user (id, first_name, last_name, username, email, active) "
                    "VALUES (1, 'a', 'b', '13800000001', 'a@x.invalid', 1)"))
                connection.execute(text(
                    "INSERT INTO member (id, user_id, status, monthly_settlement, created_at) "
                    "VALUES (1, 1, 'approved', 0, '2026-01-01')"))
                connection.execute(text(
                    "INSERT INTO \"order\" (id, order_no, user_id, member_id, state, "
                    "idempotency_key, delivery_method, payment_method, pay_before_shipping, "
                    "payment_status, goods_total, freight, total, total_weight_kg, "
                    "created_at, updated_at) VALUES (1, 'N1', 1, 1, 'pending', 'k', "
                    "'delivery', 'cod', 0, 'unpaid', 0, 0, 0, 0, '2026-01-01', '2026-01-01')"))
                for event_id, label in ((1, "王建国 (salesman)"), (2, "system"),
                                        (3, "黄经理 (customer)"), (4, None)):
                    connection.execute(text(
                        "INSERT INTO order_event (id, order_id, actor_label, action, data, "
                        "customer_visible, created_at) VALUES (:id, 1, :label, 'confirm', "
                        "'{}', 1, '2026-01-01')"), {"id": event_id, "label": label})
            upgrade(after)
            with db.engine.connect() as connection:
                rows = connection.execute(text(
                    "SELECT id, actor_name, actor_role FROM order_event ORDER BY id")).all()
            assert [tuple(r) for r in rows] == [(1, "王建国", "salesman"), (2, None, "system"),
                                                (3, "黄经理", "customer"), (4, None, None)]
            downgrade(before)
            with db.engine.connect() as connection:
                labels = connection.scalars(text(
                    "SELECT actor_label FROM order_event ORDER BY id")).all()
            assert labels == ["王建国 (salesman)", "system", "黄经理 (customer)", None]
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
