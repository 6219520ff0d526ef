"""The worker's scheduler: a thread of `flask pifa worker` that moves due delayed jobs
(message retries with backoff, `enqueue_in` / `enqueue_at`) onto their queue.

RQ's own scheduler (`work(with_scheduler=True)`) is a forked child process holding a lock
for interval + 60 s: a SIGKILLed worker leaves it running as an orphan, and one that
died while Redis was down is only restarted by the worker's maintenance every 10 minutes.
This one is a daemon thread, so it cannot outlive its worker, and it survives any error:

- every tick (RQ_SCHEDULER_INTERVAL, 1 s) it takes or refreshes RQ's own lock for the
  queue (`rq:scheduler-lock:<queue>`, RQ_SCHEDULER_LOCK_TTL, 10 s), so that of several
  workers exactly one schedules, and while it holds the lock moves the due jobs;
- an error (Redis down, a timeout) is logged once per outage and the next tick tries
  again, so scheduling resumes within a tick of Redis coming back;
- a normal stop releases the lock (a restarted worker takes over at once); after a
  SIGKILL the lock runs out by its TTL.
"""

import logging
import math
import os
import threading
import time

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry
from rq.scheduler import RQScheduler
from rq.scripts import acquire_or_refresh_lock, release_lock
from rq.utils import now

log = logging.getLogger(__name__)

METADATA_EVERY = 30.0  # seconds between refreshes of RQ's scheduler hash (it lives 61 s)


def scheduler_connection(url: str, lock_ttl: int) -> Redis:
    """A client of the scheduler's own. The worker raises its connection's socket timeout
    to over 400 s (for its blocking pop); a scheduler call must fail long before its lock
    runs out, and without redis-py's retries (the next tick is the retry)."""
    timeout = lock_ttl / 8
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                          retry=Retry(NoBackoff(), 0))


class WorkerScheduler(threading.Thread):
    """Moves due jobs of `queue_names` to their queues while holding RQ's lock for them."""

    def __init__(self, queue_names, connection: Redis, lock_ttl: int = 10,
                 interval: float = 1.0, serializer=None):
        lock_ttl = int(lock_ttl)
        if interval <= 0 or lock_ttl < 2 * interval + 1:
            # A lease shorter than two ticks would lapse between refreshes and change hands.
            raise ValueError(f"the scheduler lock TTL ({lock_ttl} s) must be at least "
                             f"twice the tick interval ({interval} s) plus one second")
        super().__init__(name="pifa-scheduler", daemon=True)
        self.queue_names = sorted(set(queue_names))
        self.lock_ttl, self.interval = lock_ttl, interval
        # RQ's scheduler object gives us its job mover and its name as the lock's owner
        # token; it builds a connection pool of its own from `connection`'s settings. Its
        # interval only sets its hash's TTL (interval + 60), which Redis takes in whole seconds.
        self._rq = RQScheduler(self.queue_names, connection=connection,
                               interval=math.ceil(interval), serializer=serializer)
        self.token = self._rq.name
        self._held: frozenset[str] = frozenset()
        self._stopping = threading.Event()
        self._failing = 0  # ticks failed in a row
        self._redis_down = False  # what the first of them was
        self._metadata_at: float | None = None  # when RQ's scheduler hash was last written

    @property
    def held(self) -> frozenset[str]:
        """The queues whose lock the last tick held (empty: another worker schedules)."""
        return self._held

    @property
    def connection(self) -> Redis:
        return self._rq.connection

    def tick(self) -> None:
        """Take or refresh the locks; move the due jobs of the queues held. May raise."""
        lease_from = time.monotonic()
        held = set()
        for name in self.queue_names:
            outcome = acquire_or_refresh_lock(self.connection, RQScheduler.get_locking_key(name),
                                              self.token, self.lock_ttl)
            if outcome == "taken":
                continue
            held.add(name)
            if name not in self._held:
                log.info("scheduler: took the lock of queue %s (pid %s)", name, os.getpid())
        for name in self._held - held:
            log.info("scheduler: queue %s is scheduled by another worker now", name)
        self._held = frozenset(held)
        if not held:
            return
        # Each call waits at most lock_ttl / 8 (scheduler_connection) and moving makes four,
        # so a lease confirmed within its first eighth still holds while the jobs move; a
        # slower one waits for the next tick rather than risk two workers moving a job.
        if time.monotonic() - lease_from > self.lock_ttl / 8:
            return
        self._rq.prepare_registries(sorted(held))
        self._rq.enqueue_scheduled_jobs()
        self._save_metadata()

    def _save_metadata(self) -> None:
        """RQ's scheduler hash, by which `Queue.scheduler_pid` names the worker that schedules."""
        if self._metadata_at is not None and \
                time.monotonic() - self._metadata_at < METADATA_EVERY:
            return
        self._rq.pid = os.getpid()
        self._rq.last_heartbeat = now()
        self._rq.save()
        self._metadata_at = time.monotonic()

    def run(self) -> None:
        log.info("scheduler for %s started in pid %s", ", ".join(self.queue_names), os.getpid())
        while not self._stopping.is_set():
            self._safe_tick()
            self._stopping.wait(self.interval)
        self.release()

    def _safe_tick(self) -> None:
        try:
            self.tick()
        except Exception as exc:
            self._held = frozenset()  # unknown until Redis answers again
            self._failing += 1
            if self._failing == 1:  # once per outage, not every tick
                self._redis_down = isinstance(exc, RedisError)
                if self._redis_down:
                    log.error("scheduler: Redis unreachable (%s: %s); delayed jobs wait and "
                              "the scheduler retries every %s s", type(exc).__name__, exc,
                              self.interval)
                else:
                    log.exception("scheduler: tick failed; retrying every %s s", self.interval)
            return
        if self._failing:
            log.warning("scheduler: %s after %d failed ticks; scheduling resumed",
                        "Redis is back" if self._redis_down else "working again", self._failing)
            self._failing = 0

    def release(self) -> None:
        """Give up the locks still ours, so that another worker takes over at once. Every
        queue's: after a failed tick a lock may be ours without `held` knowing it (the
        release is checked against the token, never deleting another worker's lock)."""
        self._held = frozenset()
        try:
            for name in self.queue_names:
                release_lock(self.connection, RQScheduler.get_locking_key(name), self.token)
            if self._metadata_at is not None:
                self._rq.register_death()
        except RedisError as exc:  # the lock runs out by its TTL instead
            log.warning("scheduler: could not release its lock (%s)", exc)

    def run_once(self) -> None:
        """Burst mode: move the due jobs once, if no other worker schedules (may raise)."""
        try:
            self.tick()
        finally:
            self.release()

    def stop(self, timeout: float | None = None) -> None:
        """End the loop and release the locks (waits for the tick under way)."""
        self._stopping.set()
        if self.is_alive():
            self.join(self.lock_ttl if timeout is None else timeout)


def worker_scheduler(app, queue) -> WorkerScheduler:
    """The scheduler of `flask pifa worker` for `queue`, from the app's settings (not
    started). Raises ValueError when RQ_SCHEDULER_LOCK_TTL and RQ_SCHEDULER_INTERVAL do
    not fit together."""
    lock_ttl = int(app.config["RQ_SCHEDULER_LOCK_TTL"])
    return WorkerScheduler(
        [queue.name], scheduler_connection(app.config["REDIS_URL"], lock_ttl),
        lock_ttl=lock_ttl, interval=float(app.config["RQ_SCHEDULER_INTERVAL"]),
        serializer=queue.serializer)
