"""`flask pifa ...`: role sync, demo data, the worker and periodic tasks."""

import time

import click
from flask import current_app
from flask.cli import AppGroup
from rq import SimpleWorker, Worker
from rq.logutils import setup_loghandlers

from app.demo.seed import seed_demo
from app.extensions import db
from app.jobs import get_queue, set_worker_app
from app.jobs.periodic import run_due
from app.jobs.scheduler import worker_scheduler
from app.platform import accounts
from app.platform.errors import DomainError
from app.platform.security import ADMIN, sync_roles

pifa_cli = AppGroup("pifa", help="Pifa maintenance commands.")


@pifa_cli.command("sync-roles")
def sync_roles_command():
    """Create the roles and permissions declared in app/platform/security.py (idempotent)."""
    counts = sync_roles(current_app.appbuilder)
    db.session.commit()
    for role, n in counts.items():
        click.echo(f"{role}: {n} permissions")


@pifa_cli.command("seed-demo")
def seed_demo_command():
    """Load the demo distributor (idempotent: a second run changes nothing)."""
    created = seed_demo()
    click.echo(f"demo data: {created} new rows" if created else "demo data: already loaded")


@pifa_cli.command("create-admin")
@click.option("--mobile", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_admin_command(mobile, name, password):
    """Create an Admin account signed in by its mobile number."""
    try:
        accounts.create_account(mobile, name, password, [ADMIN])
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from exc
    db.session.commit()
    click.echo(f"admin {mobile} created")


@pifa_cli.command("periodic")
@click.option("--loop", is_flag=True, help="Stay up and run each task when it is due.")
@click.option("--interval", default=30, show_default=True, help="Seconds between checks.")
def periodic_command(loop, interval):
    """Run the periodic tasks (outbox sweep, ...): once, or forever with --loop."""
    while True:
        for name, result in run_due(force=not loop).items():
            click.echo(f"{name}: {result}")
        if not loop:
            return
        time.sleep(interval)


@pifa_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--fork/--no-fork", default=True,
              help="Run each job in a forked work horse (RQ's default) or in the worker "
                   "process itself, keeping its database connections (faster).")
def worker_command(burst, fork):
    """Run an RQ worker for this app's queue (needs REDIS_URL).

    With its scheduler, a thread of this process (app/jobs/scheduler.py): delayed message
    retries (backoff) are moved to the queue when due, by one worker at a time.
    """

    queue = get_queue()
    if queue is None:
        raise click.ClickException("REDIS_URL is not set: jobs run inline, no worker needed.")
    app = current_app._get_current_object()
    set_worker_app(app)
    try:
        scheduler = worker_scheduler(app, queue)
    except ValueError as exc:  # RQ_SCHEDULER_LOCK_TTL and RQ_SCHEDULER_INTERVAL do not fit
        raise click.ClickException(str(exc)) from exc
    # The scheduler's lines in the worker's log, as RQ's own (unless logging is configured).
    setup_loghandlers("INFO", name="app.jobs.scheduler")
    worker_class = Worker if fork else SimpleWorker
    worker = worker_class([queue], connection=queue.connection)
    if burst:
        scheduler.run_once()  # due jobs are moved once, before the queue is worked off
        worker.work(burst=True)
        return
    scheduler.start()
    try:
        worker.work()
    finally:
        scheduler.stop()  # releases the lock: another worker takes over at once
