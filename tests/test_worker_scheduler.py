"""The worker's scheduler (a thread of `flask pifa worker`) with real processes and Redis.

Delayed jobs (message retries with backoff) must be moved to the queue on time after a
worker is SIGKILLed and after Redis goes away and comes back, and two workers must never
both schedule. The sweep (MESSAGE_SWEEP_AFTER, 2 min) is the only other way a lost retry
is sent, so "on time" here means within a few seconds of the due time.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from rq import Queue
from rq.scheduler import RQScheduler

from tests.conftest import CI

pytestmark = pytest.mark.redis

LOCK_TTL = 4  # seconds; production keeps the default (config.py)
INTERVAL = 0.5
TAG = "PIFA_TEST_WORKER_TAG"  # in a worker's environment: finds every process it started


def record_run(path: str) -> None:
    """The delayed job: notes when it ran (the worker imports it from this module)."""
    with open(path, "a") as f:
        f.write(f"{time.time()}\n")


def _runs(path) -> list[float]:
    try:
        with open(path) as f:
            return [float(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def _wait(predicate, timeout, what, worker=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    detail = f"\nworker log:\n{worker.output()}" if worker else ""
    pytest.fail(f"timed out waiting for {what}{detail}")


def _tagged(tag: str) -> list[int]:
    """Live (not zombie) processes whose environment carries `tag`: the worker started with
    it and anything it forked, even once reparented to init."""
    needle = f"{TAG}={tag}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(entry))
        except (OSError, IndexError):
            continue
    return found


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class WorkerProcess:
    """`flask pifa worker` in a session of its own, tagged so that its processes are found."""

    def __init__(self, env: dict, log_path, args=()):
        self.tag = uuid.uuid4().hex
        self.env = dict(env, **{TAG: self.tag})
        self.log_path, self.args, self.proc = log_path, list(args), None

    def start(self):
        log = open(self.log_path, "ab")  # noqa: SIM115  (closed with the process)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app:create_app", "pifa", "worker",
             *self.args], env=self.env, stdout=log, stderr=log, start_new_session=True)
        log.close()
        return self

    def kill_main(self):
        """SIGKILL to the worker's own pid only, as the OOM killer or a supervisor does."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for pid in _tagged(self.tag):  # strays of a failed test: only processes we started
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def output(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")[-4000:]


@pytest.fixture
def rig(redis_url, tmp_path):
    """A queue of its own on the shared Redis (DB 14) and workers to start on it."""
    queue_name = f"pifa-test-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, PIFA_ENV="development", SECRET_KEY="test-secret",
               DATABASE_URL=f"sqlite:///{tmp_path / 'worker.db'}",
               PIFA_INSTANCE_DIR=str(tmp_path / "instance"), REDIS_URL=redis_url,
               RQ_QUEUE=queue_name, RQ_SCHEDULER_LOCK_TTL=str(LOCK_TTL),
               RQ_SCHEDULER_INTERVAL=str(INTERVAL))
    workers, job_ids = [], []
    connection = Redis.from_url(redis_url)

    class Rig:
        queue = Queue(queue_name, connection=connection)
        lock_key = RQScheduler.get_locking_key(queue_name)
        marker = tmp_path / "ran.txt"

        @staticmethod
        def worker(*args, **extra):
            worker = WorkerProcess(dict(env, **extra), tmp_path / f"worker{len(workers)}.log",
                                   args)
            workers.append(worker)
            return worker.start()

        @staticmethod
        def schedule(queue, in_seconds: float) -> float:
            """The delayed job, due `in_seconds` from now; returns its due time."""
            due = datetime.now(UTC) + timedelta(seconds=in_seconds)
            job = queue.enqueue_at(due, record_run, str(Rig.marker))
            job_ids.append(job.id)
            return due.timestamp()

    yield Rig
    for worker in workers:
        worker.stop()
    with contextlib.suppress(Exception):
        keys = connection.keys(f"rq:*{queue_name}*")
        keys += [f"rq:{kind}:{job_id}" for job_id in job_ids for kind in ("job", "results")]
        connection.delete(*keys)
    connection.close()


def _lock_owner(connection, key) -> bytes | None:
    try:
        return connection.get(key)
    except Exception:
        return None


def test_killed_worker_leaves_no_process_and_a_new_worker_runs_the_retry_on_time(rig):
    first = rig.worker()  # RQ's default: each job in a forked work horse
    connection = rig.queue.connection
    _wait(lambda: _lock_owner(connection, rig.lock_key), 30, "the first worker's lock",
          worker=first)
    old_owner = connection.get(rig.lock_key)
    due = rig.schedule(rig.queue, 8.0)
    before = _children(first.proc.pid)
    first.kill_main()

    second = rig.worker("--no-fork")
    _wait(lambda: _runs(rig.marker), 25, "the delayed job", worker=second)
    ran_at = _runs(rig.marker)[0]
    # RQ keeps due times in whole seconds: a job may go up to a second early.
    assert due - 1.5 <= ran_at <= due + 3.0, (ran_at - due, second.output())
    owner = connection.get(rig.lock_key)
    assert owner and owner != old_owner  # the new worker schedules, not a leftover
    time.sleep(1.0)
    assert len(_runs(rig.marker)) == 1
    # Nothing of the killed worker is left running (RQ's forked scheduler was).
    assert [pid for pid in before if _alive(pid)] == []
    assert _tagged(first.tag) == []
    assert second.proc.poll() is None and _tagged(second.tag) == [second.proc.pid]
    second.stop()  # SIGTERM: the lock is released, for a restarted worker to take at once
    assert second.proc.returncode == 0 and connection.get(rig.lock_key) is None


class OwnRedis:
    """A redis-server of the test's own on a free port, keeping its data in an
    append-only file so that a scheduled job survives a restart on the same port."""

    def __init__(self, data_dir):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.data_dir, self.proc = data_dir, None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.data_dir), "--save", "", "--appendonly", "yes",
             "--appendfsync", "always"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = Redis.from_url(self.url)
        _wait(lambda: _pings(client), 10, "redis-server")
        client.close()
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def _pings(client) -> bool:
    try:
        return client.ping()
    except Exception:
        return False


def test_scheduler_keeps_working_after_a_redis_outage(rig, tmp_path):
    if shutil.which("redis-server") is None:
        if CI:
            pytest.fail("CI=true and redis-server is not installed")
        pytest.skip("redis-server is not installed")
    own = OwnRedis(tmp_path).start()
    connection = Redis.from_url(own.url)
    worker = rig.worker(REDIS_URL=own.url)
    try:
        queue = Queue(rig.queue.name, connection=connection)
        _wait(lambda: _lock_owner(connection, rig.lock_key), 30, "the worker's lock",
              worker=worker)
        due = rig.schedule(queue, 10.0)
        own.stop()
        time.sleep(5.0)  # the scheduler fails every tick meanwhile
        own.start()  # same port, same data: the schedule is still there
        assert queue.scheduled_job_registry.get_job_ids() != []
        _wait(lambda: _runs(rig.marker), 20, "the delayed job", worker=worker)
        ran_at = _runs(rig.marker)[0]
        assert due - 1.5 <= ran_at <= due + 3.0, (ran_at - due, worker.output())
        assert worker.proc.poll() is None  # the same worker, never restarted
        time.sleep(1.0)
        assert len(_runs(rig.marker)) == 1
        log = worker.output()
        assert log.count("scheduler: Redis unreachable") == 1, log  # once, not every tick
        assert "scheduler: Redis is back" in log, log
    finally:
        worker.stop()  # before its Redis, so that it stops cleanly
        connection.close()
        own.stop()


def test_burst_worker_moves_due_jobs_before_working(rig):
    rig.schedule(rig.queue, -1.0)  # already due, still in the scheduled registry
    assert rig.queue.scheduled_job_registry.count == 1
    worker = rig.worker("--burst")
    assert worker.proc.wait(60) == 0, worker.output()
    assert len(_runs(rig.marker)) == 1
    assert rig.queue.connection.get(rig.lock_key) is None  # released for the others


def _threads(connection, queue_name, count, lock_ttl=2, interval=0.05):
    from app.jobs.scheduler import WorkerScheduler

    return [WorkerScheduler([queue_name], connection, lock_ttl=lock_ttl, interval=interval)
            for _ in range(count)]


def test_two_scheduler_threads_never_both_hold_the_lock(redis_url):
    connection = Redis.from_url(redis_url)
    queue_name = f"pifa-test-{uuid.uuid4().hex[:8]}"
    queue = Queue(queue_name, connection=connection)
    key = RQScheduler.get_locking_key(queue_name)
    first, second = _threads(connection, queue_name, 2)
    jobs = [queue.enqueue_at(datetime.now(UTC) - timedelta(seconds=1), record_run, "-")
            for _ in range(20)]
    try:
        first.start()
        second.start()
        holders = set()
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            held = [s for s in (first, second) if s.held]
            assert len(held) <= 1
            holders.update(held)
            time.sleep(0.005)
        assert len(holders) == 1  # one took it and kept it while refreshing
        holder = holders.pop()
        other = second if holder is first else first
        assert connection.get(key) == holder.token.encode()
        # Every due job moved exactly once, by the holder.
        assert sorted(queue.get_job_ids()) == sorted(job.id for job in jobs)
        assert queue.scheduled_job_registry.count == 0

        holder.stop()  # a normal stop releases the lock: the other takes over at once
        assert not holder.is_alive() and not holder.held
        _wait(lambda: other.held, 1.0, "the other scheduler to take over")
        assert connection.get(key) == other.token.encode()
    finally:
        first.stop()
        second.stop()
        connection.delete(key, *connection.keys(f"rq:*{queue_name}*"),
                          *[f"rq:job:{job.id}" for job in jobs])
        connection.close()


def test_a_dead_holders_lock_is_taken_only_once_its_ttl_ran_out(redis_url):
    connection = Redis.from_url(redis_url)
    queue_name = f"pifa-test-{uuid.uuid4().hex[:8]}"
    key = RQScheduler.get_locking_key(queue_name)
    dead, alive = _threads(connection, queue_name, 2, lock_ttl=2)
    try:
        dead.tick()  # ticks by hand, in turn: each sees what the other left
        alive.tick()
        assert dead.held and not alive.held
        # `dead` stops ticking without releasing (a SIGKILL): nobody takes the lock early.
        while connection.pttl(key) > 150:
            alive.tick()
            assert not alive.held and connection.get(key) == dead.token.encode()
            time.sleep(0.05)
        _wait(lambda: alive.tick() or alive.held, 1.0, "the lock to expire")
        assert connection.get(key) == alive.token.encode()
        dead.tick()  # had it come back, it finds the lock taken and schedules nothing
        assert not dead.held
    finally:
        connection.delete(key, *[f"rq:scheduler:{s.token}" for s in (dead, alive)])
        connection.close()
