"""What the job queue is doing, read from Redis for the back office (our rq-dashboard).

`queue_state(app)` only reads: it runs no registry cleanup, moves no job, and never
raises. Redis unreachable (or any other failure while reading) gives a state with
`reachable: False` and the reason, so the page that shows it cannot fail with a 500.
"""

import logging

from flask import current_app
from rq import Queue, Worker
from rq.job import Job

from app.jobs import redis_connection

log = logging.getLogger(__name__)

FAILED_SHOWN = 10  # the most recent failed jobs listed
RUN_JOB = "app.jobs.run_job"  # every job of ours goes through it: show what it runs


def queue_state(app=None, failed_limit: int = FAILED_SHOWN) -> dict:
    """The RQ queue of `app` (REDIS_URL, RQ_QUEUE) as a plain dict.

    {"configured": False} without REDIS_URL (jobs run inline after commit); otherwise
    {"configured": True, "reachable": bool, "error": str | None, "queue": {...},
     "failed_jobs": [...], "workers": [...]}.
    """

    app = app or current_app
    queue_name = app.config.get("RQ_QUEUE") or "default"
    state = {"configured": bool(app.config.get("REDIS_URL")), "reachable": False,
             "error": None, "queue": None, "failed_jobs": [], "workers": []}
    if not state["configured"]:
        return state
    try:
        connection = redis_connection(app)
        state.update(read_queue(connection, queue_name, failed_limit))
        state["reachable"] = True
    except Exception as exc:  # Redis down, refused, timed out, or data we cannot read
        log.warning("could not read the job queue %r: %s", queue_name, exc)
        state.update(reachable=False, error=f"{type(exc).__name__}: {exc}"[:300],
                     queue=None, failed_jobs=[], workers=[])
    return state


def read_queue(connection, queue_name: str, failed_limit: int = FAILED_SHOWN) -> dict:
    """Counts of one queue, its latest failed jobs and its workers (may raise)."""
    connection.ping()
    queue = Queue(queue_name, connection=connection)
    failed = queue.failed_job_registry
    counts = {
        "name": queue_name,
        "queued": queue.count,
        "scheduled": queue.scheduled_job_registry.get_job_count(cleanup=False),
        "started": queue.started_job_registry.get_job_count(cleanup=False),
        "deferred": queue.deferred_job_registry.get_job_count(cleanup=False),
        "failed": failed.get_job_count(cleanup=False),
    }
    ids = failed.get_job_ids(0, failed_limit - 1, desc=True, cleanup=False) \
        if failed_limit > 0 else []
    jobs = [job_row(job_id, job) for job_id, job in
            zip(ids, Job.fetch_many(ids, connection=connection), strict=True)]
    workers = [worker_row(worker) for worker in Worker.all(queue=queue)]
    workers.sort(key=lambda w: w["name"])
    return {"queue": counts, "failed_jobs": jobs, "workers": workers}


def describe_call(job) -> str:
    """`app.messaging.jobs.deliver_message(12)` rather than `app.jobs.run_job(...)`."""
    try:
        func, args, kwargs = job.func_name, list(job.args or ()), dict(job.kwargs or {})
    except Exception as exc:  # a payload this process cannot unpickle
        return f"? ({type(exc).__name__})"
    if func == RUN_JOB and args and isinstance(args[0], str):
        func, args = args[0], args[1:]
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{func}({', '.join(parts)})"


def last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def job_row(job_id: str, job) -> dict:
    if job is None:  # the registry still names it, its data has expired
        return {"id": job_id, "call": "", "enqueued_at": None, "ended_at": None,
                "error": "", "missing": True}
    error = ""
    try:
        result = job.latest_result()
        error = last_line(getattr(result, "exc_string", None))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    return {"id": job_id, "call": describe_call(job), "enqueued_at": job.enqueued_at,
            "ended_at": job.ended_at, "error": error, "missing": False}


def worker_row(worker) -> dict:
    try:
        current = worker.get_current_job_id()
    except Exception:
        current = None
    return {"name": worker.name, "state": worker.get_state(), "current_job": current,
            "hostname": worker.hostname, "pid": worker.pid,
            "last_heartbeat": worker.last_heartbeat, "birth": worker.birth_date,
            "successful": worker.successful_job_count, "failed": worker.failed_job_count,
            "queues": [q.name for q in worker.queues or []]}
