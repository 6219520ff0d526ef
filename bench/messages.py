"""Message delivery through RQ: our outbox + delivery job (log provider) beside plain RQ jobs
that do nothing, in the same run, on the same Redis and the same number of workers.

    .venv/bin/python bench/messages.py [--messages 1000] [--workers 2]
        [--database-url postgresql+psycopg://postgres@127.0.0.1/pifa_bench]
        [--redis-url redis://127.0.0.1:6379/14]

Both runs start their workers first, then a producer commits one message per transaction
(as a real order or approval does) or enqueues one no-op job, as fast as it can. Printed:
throughput (items done per second, first commit to last done) and commit->sent latency
p50/p95, for each, and ours/baseline ratios: the ratio is our overhead (the outbox row,
the claim, the provider call and the result, each in its own transaction; the fork of a
work horse per job is RQ's and is in both).
Default database: a fresh SQLite file (SQLite serialises writers; use PostgreSQL for
figures that matter).
"""

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
os.environ.setdefault("PIFA_ENV", "development")


def noop(enqueued_at: float, key: str) -> None:
    """The baseline job: record when it ran, nothing else."""
    from rq import get_current_job

    get_current_job().connection.hset(key, str(enqueued_at), repr(time.time()))


def _percentile(values, q):
    values = sorted(values)
    return values[min(int(round(q * (len(values) - 1))), len(values) - 1)]


def _start_workers(n, argv, env, log):
    return [subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=log)
            for _ in range(n)]


def _stop(workers):
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()


def baseline(args, env, log):
    from redis import Redis
    from rq import Queue

    conn = Redis.from_url(args.redis_url)
    name = f"bench-noop-{uuid.uuid4().hex[:6]}"
    key = f"bench:{name}:done"
    queue = Queue(name, connection=conn)
    workers = _start_workers(args.workers, [sys.executable, "-m", "rq.cli", "worker",
                                            "--url", args.redis_url, name], env, log)
    time.sleep(2.0)  # let them register and start listening
    try:
        started = time.time()
        for _ in range(args.messages):
            queue.enqueue("bench.messages.noop", time.time(), key)
        while conn.hlen(key) < args.messages:
            time.sleep(0.05)
        done = {float(k): float(v) for k, v in conn.hgetall(key).items()}
    finally:
        _stop(workers)
        conn.delete(key, *conn.keys(f"rq:*{name}*") or ["-"])
    latencies = [end - start for start, end in done.items()]
    return args.messages / (max(done.values()) - started), latencies


def ours(args, env, log):
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import Channel, Message, MessageStatus
    from app.services import messaging

    name = f"bench-msg-{uuid.uuid4().hex[:6]}"
    app = create_app({"DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url,
                      "RQ_QUEUE": name, "SMS_PROVIDER": "log", "SECRET_KEY": "bench",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        db.create_all()
        db.session.execute(Message.__table__.delete())
        db.session.commit()
    worker_env = dict(env, DATABASE_URL=args.database_url, REDIS_URL=args.redis_url,
                      RQ_QUEUE=name, SMS_PROVIDER="log", SECRET_KEY="bench")
    workers = _start_workers(args.workers, [sys.executable, "-m", "flask", "--app",
                                            "app:create_app", "pifa", "worker"],
                             worker_env, log)
    time.sleep(3.0)
    committed = {}
    try:
        with app.app_context():
            started = time.time()
            for n in range(args.messages):
                message = messaging.write_message("new_order", Channel.SMS, "13800138000",
                                                  {"order_no": f"B{n:06d}"})
                db.session.commit()
                committed[message.id] = time.time()
            while db.session.scalar(select(func.count(Message.id)).where(
                    Message.status == MessageStatus.LOGGED)) < args.messages:
                db.session.rollback()
                time.sleep(0.05)
            sent = dict(db.session.execute(select(Message.id, Message.sent_at)).all())
    finally:
        _stop(workers)
        from redis import Redis

        conn = Redis.from_url(args.redis_url)
        conn.delete(*conn.keys(f"rq:*{name}*") or ["-"])
    # sent_at is naive UTC from the worker's clock, the same machine's.
    sent_ts = {k: v.replace(tzinfo=datetime.UTC).timestamp()
               for k, v in sent.items()}
    latencies = [sent_ts[k] - committed[k] for k in committed]
    return args.messages / (max(sent_ts.values()) - started), latencies


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL",
                                                              "redis://127.0.0.1:6379/14"))
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="pifa-bench-")
    if not args.database_url:
        args.database_url = f"sqlite:///{tmp}/bench.db"
    env = dict(os.environ, PYTHONPATH=ROOT, PIFA_ENV="development")
    with open(os.path.join(tmp, "workers.log"), "ab") as log:
        base_rate, base_lat = baseline(args, env, log)
        our_rate, our_lat = ours(args, env, log)
    print(f"messages: {args.messages}, workers: {args.workers}, database: "
          f"{args.database_url.split(':', 1)[0]}, redis: {args.redis_url}")
    rows = [("plain RQ no-op jobs", base_rate, base_lat), ("our messages (log)", our_rate,
                                                           our_lat)]
    print(f"{'':24} {'per second':>11} {'p50 ms':>9} {'p95 ms':>9}")
    for label, rate, lat in rows:
        print(f"{label:24} {rate:11.1f} {_percentile(lat, .5) * 1000:9.1f} "
              f"{_percentile(lat, .95) * 1000:9.1f}")
    print(f"ratio ours/baseline: throughput {our_rate / base_rate:.2f}, "
          f"p50 latency {_percentile(our_lat, .5) / _percentile(base_lat, .5):.2f}, "
          f"p95 latency {_percentile(our_lat, .95) / _percentile(base_lat, .95):.2f}")
    print(f"worker output: {tmp}/workers.log")


if __name__ == "__main__":
    main()
