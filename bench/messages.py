"""Message delivery through RQ: our outbox + delivery job (log provider) beside plain RQ jobs
that do nothing, in the same run, on the same Redis and the same number of workers.

    .venv/bin/python bench/messages.py [--messages 1000] [--latency-samples 100]
        [--workers 2] [--no-fork]
        [--database-url postgresql+psycopg://postgres@127.0.0.1/pifa_bench]
        [--redis-url redis://127.0.0.1:6379/14]

For each side, workers are started first; then
- latency: one item at a time, nothing queued ahead. The clock starts at the same point
  on both sides, just before the item is handed over: before `commit` for ours (the
  outbox row is already flushed; the commit makes it durable and enqueues its job), before
  `enqueue` for the baseline; it stops at the time the job itself records at its end
  (`sent_at`, written in the job's last transaction, for ours; the time the no-op writes
  for the baseline);
- throughput: a producer commits one message per transaction (as an order or an approval
  does) or enqueues one no-op job, as fast as it can; items done per second from just
  before the first item is produced to the last one done.
The ratios ours/baseline are our overhead: the outbox row, the claim, the provider call
and the result, each in its own transaction. With forking workers (RQ's default) both
sides fork a work horse per job; --no-fork runs both with RQ's SimpleWorker. PASS when
our throughput is at least a fifth of the baseline's.
Default database: a fresh SQLite file (SQLite serialises writers; use PostgreSQL for
figures that matter). A database that already holds rows is refused before anything is
written; the bench deletes nothing, so drop the database afterwards.
"""

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
import uuid

# Ours does three short transactions per message (claim, read, record) where the
# baseline writes one Redis hash: below a fifth of its rate, something got slower.
THRESHOLD = 0.20
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
os.environ.setdefault("PIFA_ENV", "development")


def noop(enqueued_at: float, key: str) -> None:
    """The baseline job: record when it ran, nothing else."""
    from rq import get_current_job

    get_current_job().connection.hset(key, repr(enqueued_at), repr(time.time()))


def _percentile(values, q):
    values = sorted(values)
    return values[min(int(round(q * (len(values) - 1))), len(values) - 1)]


def _start_workers(n, argv, env, log):
    workers = [subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=log)
               for _ in range(n)]
    time.sleep(3.0)  # let them register and start listening
    return workers


def _stop(workers):
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()


def _wait_until(predicate, timeout=600):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out: see the worker log")
        time.sleep(0.002)


def baseline(args, env, log):
    from redis import Redis
    from rq import Queue

    conn = Redis.from_url(args.redis_url)
    name = f"bench-noop-{uuid.uuid4().hex[:6]}"
    key = f"bench:{name}:done"
    queue = Queue(name, connection=conn)
    worker_class = "rq.worker.SimpleWorker" if args.no_fork else "rq.worker.Worker"
    workers = _start_workers(args.workers, [sys.executable, "-m", "rq.cli", "worker",
                                            "--url", args.redis_url, "-w", worker_class,
                                            name], env, log)
    try:
        latencies = []
        for _ in range(args.latency_samples):
            start = time.time()
            queue.enqueue("bench.messages.noop", start, key)
            _wait_until(lambda s=start: conn.hexists(key, repr(s)))
            latencies.append(float(conn.hget(key, repr(start))) - start)
        conn.delete(key)
        started = time.time()
        for _ in range(args.messages):
            queue.enqueue("bench.messages.noop", time.time(), key)
        _wait_until(lambda: conn.hlen(key) >= args.messages)
        finished = max(float(v) for v in conn.hvals(key))
    finally:
        _stop(workers)
        queue.delete(delete_jobs=True)  # its jobs, and its name in rq:queues
        conn.delete(key, *conn.keys(f"rq:*{name}*") or ["-"])
    return args.messages / (finished - started), latencies


def prepare(args):
    """Our app on the database, its schema created; a database holding rows is refused
    before anything is written (nobody's data is measured over, mixed in or deleted)."""
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from bench.web import table_with_rows

    name = f"bench-msg-{uuid.uuid4().hex[:6]}"
    app = create_app({"DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url,
                      "RQ_QUEUE": name, "SMS_PROVIDER": "log", "SECRET_KEY": "bench",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        used = table_with_rows(db.engine)
        if used:
            sys.exit(f"refusing to run on a database that already holds data (table {used}); "
                     "give an empty database")
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            db.session.commit()
        db.create_all()
    return app, name


def ours(args, env, log, app, name):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.messaging import outbox
    from app.messaging.models import Channel, Message, MessageStatus

    worker_env = dict(env, DATABASE_URL=args.database_url, REDIS_URL=args.redis_url,
                      RQ_QUEUE=name, SMS_PROVIDER="log", SECRET_KEY="bench")
    argv = [sys.executable, "-m", "flask", "--app", "app:create_app", "pifa", "worker"]
    workers = _start_workers(args.workers, argv + (["--no-fork"] if args.no_fork else []),
                             worker_env, log)

    def write(n):
        """(message id, when it was handed over: just before the commit that enqueues)."""
        message = outbox.write_message("new_order", Channel.SMS, "13800138000",
                                          {"order_no": f"B{n:06d}"})
        handed_over = time.time()
        db.session.commit()  # the job is enqueued after this commit
        return message.id, handed_over

    def sent_at(ids):
        rows = db.session.execute(select(Message.id, Message.sent_at)
                                  .where(Message.id.in_(ids))).all()
        db.session.rollback()
        # sent_at is naive UTC from the worker's clock, the same machine's.
        return {k: v.replace(tzinfo=datetime.UTC).timestamp() for k, v in rows if v}

    def logged_count():
        count = db.session.scalar(select(func.count(Message.id)).where(
            Message.status == MessageStatus.LOGGED))
        db.session.rollback()
        return count

    try:
        with app.app_context():
            latencies = []
            for n in range(args.latency_samples):
                message_id, handed_over = write(n)
                _wait_until(lambda i=message_id: sent_at([i]))
                latencies.append(sent_at([message_id])[message_id] - handed_over)
            base = logged_count()
            started = time.time()
            ids = [write(n)[0] for n in range(args.messages)]
            _wait_until(lambda: logged_count() >= base + args.messages)
            finished = max(sent_at(ids).values())
    finally:
        _stop(workers)
        from redis import Redis
        from rq import Queue

        conn = Redis.from_url(args.redis_url)
        Queue(name, connection=conn).delete(delete_jobs=True)
        conn.delete(*conn.keys(f"rq:*{name}*") or ["-"])
    return args.messages / (finished - started), latencies


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--latency-samples", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-fork", action="store_true")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL",
                                                              "redis://127.0.0.1:6379/14"))
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="pifa-bench-")
    if not args.database_url:
        args.database_url = f"sqlite:///{tmp}/bench.db"
    env = dict(os.environ, PYTHONPATH=ROOT, PIFA_ENV="development")
    app, name = prepare(args)
    with open(os.path.join(tmp, "workers.log"), "ab") as log:
        base_rate, base_lat = baseline(args, env, log)
        our_rate, our_lat = ours(args, env, log, app, name)
    print(f"messages: {args.messages}, latency samples: {args.latency_samples}, workers: "
          f"{args.workers} ({'SimpleWorker' if args.no_fork else 'forking Worker'}), "
          f"database: {args.database_url.split(':', 1)[0]}")
    print(f"{'':24} {'per second':>11} {'p50 ms':>9} {'p95 ms':>9}")
    for label, rate, lat in (("plain RQ no-op jobs", base_rate, base_lat),
                             ("our messages (log)", our_rate, our_lat)):
        print(f"{label:24} {rate:11.1f} {_percentile(lat, .5) * 1000:9.1f} "
              f"{_percentile(lat, .95) * 1000:9.1f}")
    ratio = our_rate / base_rate
    p50 = _percentile(our_lat, .5) / _percentile(base_lat, .5)
    p95 = _percentile(our_lat, .95) / _percentile(base_lat, .95)
    print(f"ratio ours/baseline: throughput {ratio:.2f}, p50 latency {p50:.2f}, "
          f"p95 latency {p95:.2f}")
    print(f"worker output: {tmp}/workers.log")
    ok = ratio >= THRESHOLD
    print(f"SUMMARY messages: throughput ratio {ratio:.2f} (threshold {THRESHOLD:.2f}), "
          f"latency p50 x{p50:.2f} p95 x{p95:.2f} {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
