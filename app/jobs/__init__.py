"""Background jobs: enqueue after commit, on RQ when REDIS_URL is set, inline otherwise.

`enqueue(fn, *ids)` only records the job on the current database session. When that
session's transaction commits the job is dispatched; when it rolls back the job is
dropped. Jobs take ids, never objects (RQ's advice), and look their rows up again.

Inline mode runs the job in a fresh application context, so it gets a database
session of its own and sees exactly what was committed.
"""

import logging
import os

from flask import current_app, has_app_context
from redis import Redis
from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.utils import import_string

from app.extensions import db

log = logging.getLogger(__name__)
_PENDING_KEY = "pifa_pending_jobs"
_worker_app = None
_engine_pid = os.getpid()


def _path(fn) -> str:
    return fn if isinstance(fn, str) else f"{fn.__module__}.{fn.__qualname__}"


def enqueue(fn, *args) -> None:
    """Run `fn(*args)` after the current transaction commits (never if it rolls back)."""
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        transaction = session.begin()
    chain = []
    while transaction is not None:  # a savepoint's rollback drops what it enqueued
        chain.append(transaction)
        transaction = transaction.parent
    session.info.setdefault(_PENDING_KEY, []).append((_path(fn), args, chain))


def redis_connection(app=None):
    """The app's Redis client (one connection pool per app and process), or None."""
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    client = app.extensions.get("pifa.redis")
    if client is None:
        client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        app.extensions["pifa.redis"] = client
    return client


def get_queue(app=None):
    app = app or current_app
    conn = redis_connection(app)
    return Queue(app.config["RQ_QUEUE"], connection=conn) if conn else None


def dispatch(app, path: str, args: tuple) -> bool:
    """Hand one job to RQ, or run it now in its own app context (embedded default).
    Returns False when Redis refused it (the periodic sweep picks the work up later)."""
    queue = get_queue(app)
    if queue is not None:
        try:
            queue.enqueue("app.jobs.run_job", path, *args)
        except Exception:
            log.exception("could not enqueue %s%r; left for the sweep", path, args)
            return False
        return True
    with app.app_context():
        try:
            import_string(path)(*args)
        except Exception:  # the caller's transaction is committed; a job must not undo it
            log.exception("inline job %s%r failed", path, args)
            db.session.rollback()
    return True


def run_job(path: str, *args):
    """Entry point of every RQ job: run `path(*args)` inside the application."""
    global _worker_app, _engine_pid
    app = _worker_app
    if app is None:
        if has_app_context():
            app = current_app._get_current_object()
        else:
            # A worker process builds its app here; app/__init__.py imports this module.
            from app import create_app

            app = create_app()
        _worker_app = app
    with app.app_context():
        if os.getpid() != _engine_pid:
            # A forked work horse must not reuse the parent's pooled connections.
            db.engine.dispose(close=False)
            _engine_pid = os.getpid()
        try:
            return import_string(path)(*args)
        finally:
            db.session.remove()


def set_worker_app(app) -> None:
    global _worker_app
    _worker_app = app


def _on_commit(session):
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released (SQLAlchemy 2.1 reports it too); wait for the root
    jobs = session.info.pop(_PENDING_KEY, None)
    if not jobs:
        return
    app = current_app._get_current_object()
    for n, (path, args, _chain) in enumerate(jobs):
        if not dispatch(app, path, args):
            # Redis is down: don't wait out a connect timeout per job; the sweep has them.
            log.error("Redis unreachable: %d more job(s) left for the sweep", len(jobs) - n - 1)
            break


def _on_soft_rollback(session, previous_transaction):
    jobs = session.info.get(_PENDING_KEY)
    if jobs:
        session.info[_PENDING_KEY] = [job for job in jobs if previous_transaction not in job[2]]


_listening = False


def init_jobs(app) -> None:
    global _listening
    if not _listening:  # listeners are process-wide; several apps may be created in tests
        event.listen(Session, "after_commit", _on_commit)
        event.listen(Session, "after_soft_rollback", _on_soft_rollback)
        _listening = True
