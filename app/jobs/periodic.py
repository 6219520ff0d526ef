"""Periodic tasks: one registry, run by `flask pifa periodic` (from cron, or with --loop).

We chose a CLI command over rq's cron scheduler so that the embedded set-up (no Redis)
and production use the same mechanism. Run once (cron, every minute) it runs every
task; with --loop it stays up and runs each task when its interval has passed. Tasks
are idempotent, so an extra run is harmless.
"""

import logging
import time
from dataclasses import dataclass

from flask import current_app
from werkzeug.utils import import_string

from app.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    path: str  # dotted path of a function taking no arguments
    every_seconds: int


TASKS: list[PeriodicTask] = [
    PeriodicTask("sweep-messages", "app.messaging.jobs.sweep_pending_messages", 60),
    PeriodicTask("auto-receive", "app.ordering.workflow.auto_receive_shipped", 3600),
    # Last month's 对账单 on the 1st; idempotent, so the hourly run on other days adds none.
    PeriodicTask("issue-statements", "app.payments.statements.issue_due", 3600),
    # WeChat Pay: what no notification told us, prepays to close, refunds to send or ask.
    PeriodicTask("wechat-pay", "app.payments.wechat_pay.tasks.reconcile", 120),
]

_last_run: dict[str, float] = {}


def run_due(tasks=None, now=None, force=False) -> dict[str, object]:
    """Run every task whose interval has passed; returns {task name: its result}."""
    tasks = TASKS if tasks is None else tasks
    now = time.time() if now is None else now
    results = {}
    for task in tasks:
        last = _last_run.get(task.name, 0.0)
        if not force and now - last < task.every_seconds:
            continue
        _last_run[task.name] = now
        try:
            results[task.name] = import_string(task.path)()
        except Exception as exc:
            log.exception("periodic task %s failed", task.name)
            results[task.name] = exc
            db.session.rollback()
    current_app.logger.debug("periodic: %s", results)
    return results
