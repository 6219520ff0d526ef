"""Delivery through real Redis and real `rq` worker processes, with faults.

Sends are counted at the SMS gateway stand-in (Aliyun's, checking signatures), never in
our own tables: a message the gateway accepted twice is a message sent twice.
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.jobs import get_queue
from app.messaging import events, outbox, templates
from app.messaging.jobs import NO_ANSWER, sweep_pending_messages
from app.messaging.models import Channel, Message, MessageStatus
from app.platform.time import utcnow
from tests.conftest import CI, app_config, csrf_token, login
from tests.order_factory import World
from tests.standins.aliyun_sms import AliyunSmsStandIn

pytestmark = pytest.mark.redis

KEY_ID, SECRET, SIGN = "LTAI5tPifaTest", "pifa-test-secret-0123456789", "批发商城"
TEMPLATES = {"SMS_900001": {"order_no"}, "SMS_900002": {"order_no"}}


@pytest.fixture
def gateway():
    with AliyunSmsStandIn(access_key_id=KEY_ID, access_key_secret=SECRET,
                          sign_names={SIGN}, templates=TEMPLATES) as standin:
        yield standin


def sms_settings(gateway) -> dict:
    return {"SMS_PROVIDER": "aliyun", "ALIYUN_SMS_ACCESS_KEY_ID": KEY_ID,
            "ALIYUN_SMS_ACCESS_KEY_SECRET": SECRET, "ALIYUN_SMS_SIGN_NAME": SIGN,
            "ALIYUN_SMS_ENDPOINT": gateway.url, "MESSAGE_RETRY_BASE": 0.3,
            "MESSAGE_CONNECT_TIMEOUT": 2.0, "MESSAGE_READ_TIMEOUT": 30.0}


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Worker:
    """`flask pifa worker` (with its scheduler) in a process group of its own."""

    def __init__(self, env: dict, log_path):
        self.env, self.log_path, self.proc = env, log_path, None

    def start(self):
        log = open(self.log_path, "ab")  # noqa: SIM115  (closed with the process)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app:create_app", "pifa", "worker"],
            env=self.env, stdout=log, stderr=log, start_new_session=True)
        log.close()
        return self

    def kill(self):
        """SIGKILL to the worker, its work horse and its scheduler: no clean-up runs.
        (RQ puts the work horse in a session of its own, so the group is not enough.)"""
        if self.proc and self.proc.poll() is None:
            for pid in [*_descendants(self.proc.pid), self.proc.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)  # warm shutdown: finishes its job
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")[-3000:]


@pytest.fixture
def rig(app, redis_url, gateway, tmp_path_factory, tmp_path):
    """An app on Redis with a queue of its own, the gateway, and workers to start."""
    queue_name = f"pifa-test-{uuid.uuid4().hex[:8]}"
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    settings = sms_settings(gateway)
    on_redis = create_app(app_config(tmp_path_factory, DATABASE_URL=uri, REDIS_URL=redis_url,
                                     RQ_QUEUE=queue_name, **settings))
    env = dict(os.environ, PIFA_ENV="development", SECRET_KEY="test-secret",
               DATABASE_URL=uri, REDIS_URL=redis_url, RQ_QUEUE=queue_name,
               **{k: str(v) for k, v in settings.items()})
    workers = []

    class Rig:
        app = on_redis

        @staticmethod
        def worker(redis=None, **extra):
            worker = Worker(dict(env, REDIS_URL=redis or redis_url, **extra),
                            tmp_path / f"worker{len(workers)}.log")
            workers.append(worker)
            return worker.start()

    with on_redis.app_context():
        for event, code in (("new_order", "SMS_900001"), ("order_submitted", "SMS_900002")):
            templates.save_template(event, Channel.SMS, events.EVENTS[event].text, code,
                                    "order_no=order_no", actor=None)
    yield Rig
    for worker in workers:
        worker.stop()
    with on_redis.app_context():
        queue = get_queue()
        with contextlib.suppress(Exception):
            keys = queue.connection.keys(f"rq:*{queue_name}*")
            if keys:
                queue.connection.delete(*keys)


def _write(app, number: str, phone: str = "13800138000") -> int:
    with app.app_context():
        message = outbox.write_message("new_order", Channel.SMS, phone,
                                          {"order_no": number})
        db.session.commit()
        return message.id


def _row(app, message_id: int) -> Message:
    with app.app_context():
        row = db.session.get(Message, message_id)
        db.session.expunge(row)
        return row


def _wait(predicate, timeout=30.0, what="condition", worker=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    detail = f"\nworker log:\n{worker.output()}" if worker else ""
    pytest.fail(f"timed out waiting for {what}{detail}")


def _sweep(app, later_by: float) -> int:
    with app.app_context():
        return sweep_pending_messages(now=utcnow() + timedelta(seconds=later_by))


# ---- the quality bars -------------------------------------------------------------------

def test_committed_message_is_delivered_once_and_rolled_back_one_never(rig, gateway):
    kept = _write(rig.app, "A0001")
    with rig.app.app_context():
        outbox.write_message("new_order", Channel.SMS, "13800138001", {"order_no": "B0001"})
        db.session.rollback()
    worker = rig.worker()
    _wait(lambda: _row(rig.app, kept).status == MessageStatus.SENT, what="sent",
          worker=worker)
    time.sleep(1.0)  # anything else queued would have gone by now
    assert [(a["phone"], a["params"]) for a in gateway.accepted] == \
        [("13800138000", {"order_no": "A0001"})]
    row = _row(rig.app, kept)
    assert row.attempts == 1 and row.provider == "aliyun" and row.provider_ref


def test_gateway_failing_twice_then_accepting_sends_exactly_once(rig, gateway):
    gateway.plan("unavailable", "throttle")
    message_id = _write(rig.app, "A0002")
    worker = rig.worker()
    _wait(lambda: _row(rig.app, message_id).status == MessageStatus.SENT, what="sent",
          worker=worker)
    time.sleep(1.5)  # a stray duplicate retry would arrive within this
    sends = [r for r in gateway.requests if r["method"] == "POST"]
    assert len(sends) == 3  # two refusals, one acceptance
    assert len(gateway.accepted) == 1
    assert _row(rig.app, message_id).attempts == 3


@contextlib.contextmanager
def _row_locked(uri: str, message_id: int):
    """Hold the message's row (PostgreSQL) or the whole database (SQLite) for writing."""
    if uri.startswith("sqlite"):
        conn = sqlite3.connect(uri.split("///", 1)[1], timeout=30, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
    else:
        import psycopg

        with psycopg.connect(uri.replace("postgresql+psycopg://", "postgresql://")) as conn:
            conn.execute("SELECT id FROM message WHERE id = %s FOR UPDATE", (message_id,))
            yield
            conn.rollback()


def test_worker_killed_before_the_provider_call_sends_once_after_restart(rig, gateway, app):
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    message_id = _write(rig.app, "A0003")
    with rig.app.app_context():
        started = get_queue().started_job_registry
    with _row_locked(uri, message_id):
        worker = rig.worker()  # it takes the job and waits on the lock to claim the message
        _wait(lambda: started.count == 1, what="the job to start", worker=worker)
        time.sleep(0.5)
        worker.kill()
    assert gateway.requests == [] and gateway.accepted == []
    assert _row(rig.app, message_id).status == MessageStatus.PENDING
    rig.worker()
    assert _sweep(rig.app, later_by=300) == 1
    _wait(lambda: _row(rig.app, message_id).status == MessageStatus.SENT, what="sent")
    time.sleep(1.0)
    assert len(gateway.accepted) == 1


def test_worker_killed_after_the_gateway_accepted_never_sends_again(rig, gateway):
    gateway.plan(("hold", 60))  # the gateway accepts, and its answer never comes back
    message_id = _write(rig.app, "A0004")
    worker = rig.worker()
    assert gateway.wait_accepted(1, timeout=30), worker.output()
    worker.kill()
    gateway.release()
    assert _row(rig.app, message_id).status == MessageStatus.SENDING
    rig.worker()
    assert _sweep(rig.app, later_by=300) == 0  # not pending: nobody may send it again
    time.sleep(1.5)
    assert len(gateway.accepted) == 1
    _sweep(rig.app, later_by=3600)  # long after: the outcome is unknown, a person decides
    row = _row(rig.app, message_id)
    assert row.status == MessageStatus.UNCERTAIN and row.last_error == NO_ANSWER
    time.sleep(0.5)
    assert len(gateway.accepted) == 1


def test_read_timeout_after_sending_is_uncertain_and_not_retried(rig, gateway):
    gateway.plan(("hold", 30))
    message_id = _write(rig.app, "A0005")
    worker = rig.worker(MESSAGE_READ_TIMEOUT="1.0")
    _wait(lambda: _row(rig.app, message_id).status == MessageStatus.UNCERTAIN,
          what="uncertain", worker=worker)
    gateway.release()
    assert _sweep(rig.app, later_by=300) == 0
    time.sleep(1.0)
    assert len(gateway.accepted) == 1


def test_wrong_secret_fails_at_once_and_is_not_retried(rig, gateway):
    gateway.access_key_secret = "a-different-secret"  # the gateway refuses our signature
    message_id = _write(rig.app, "A0006")
    worker = rig.worker()
    _wait(lambda: _row(rig.app, message_id).status == MessageStatus.FAILED, what="failed",
          worker=worker)
    time.sleep(1.0)
    row = _row(rig.app, message_id)
    assert row.attempts == 1 and "SignatureDoesNotMatch" in (row.last_error or "")
    assert gateway.accepted == [] and len(gateway.requests) == 1


# ---- Redis itself goes away ------------------------------------------------------------

class OwnRedis:
    """A redis-server of this test's own, on a free port, that the test may stop."""

    def __init__(self):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from redis import Redis

        client = Redis.from_url(self.url)
        _wait(lambda: _pings(client), timeout=10, what="redis-server")
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


def test_orders_submit_with_redis_down_and_the_sweep_delivers_once_it_is_back(
        rig, gateway, app, make, tmp_path_factory):
    if shutil.which("redis-server") is None:
        if CI:
            pytest.fail("CI=true and redis-server is not installed")
        pytest.skip("redis-server is not installed")
    own = OwnRedis().start()
    try:
        with app.app_context():
            world = World(app, make)
        uri = app.config["SQLALCHEMY_DATABASE_URI"]
        shop = create_app(app_config(tmp_path_factory, DATABASE_URL=uri, REDIS_URL=own.url,
                                     RQ_QUEUE=rig.app.config["RQ_QUEUE"],
                                     **sms_settings(gateway)))
        own.stop()  # Redis is gone before anyone orders
        client = shop.test_client()
        login(client, world.customer.mobile)
        placed = []
        for _ in range(2):
            token = csrf_token(client, "/cart")
            client.post("/cart/add", data={"csrf_token": token, "product_id": "1",
                                           f"qty_{world.spec_id}": str(world.moq)})
            html = client.get("/checkout").get_data(as_text=True)
            fields = dict(re.findall(r'name="(csrf_token|idempotency_key|expected_total)"'
                                     r'[^>]*value="([^"]*)"', html))
            resp = client.post("/checkout", data={
                **fields, "delivery": "delivery", "payment": "cod", "address_id": "new",
                "province": "海南省", "city": "海口市", "district": "美兰区",
                "street": "海甸岛 1 号", "contact": "黄经理", "phone": "13912345678"})
            assert resp.status_code == 302 and "/orders/" in resp.headers["Location"]
            placed.append(resp.headers["Location"].rsplit("/", 1)[1])
        with shop.app_context():
            sms = db.session.scalars(select(Message).where(
                Message.channel == Channel.SMS)).all()
            assert len(sms) == 4 and {m.status for m in sms} == {MessageStatus.PENDING}
        assert gateway.requests == []

        own.start()  # Redis is back (empty: every queued job was lost with it)
        worker = rig.worker(redis=own.url)
        with shop.app_context():
            assert sweep_pending_messages(now=utcnow() + timedelta(seconds=300)) >= 4
        _wait(lambda: len(gateway.accepted) >= 4, what="four sends", worker=worker)
        time.sleep(1.5)
        with shop.app_context():
            assert sweep_pending_messages(now=utcnow() + timedelta(seconds=300)) == 0
        time.sleep(0.5)
        sent = sorted((a["phone"], a["template"], a["params"]["order_no"])
                      for a in gateway.accepted)
        salesman_phone = world.salesman.mobile
        expected = sorted([(salesman_phone, "SMS_900001", no) for no in placed]
                          + [(world.customer.mobile, "SMS_900002", no) for no in placed])
        assert sent == expected  # every message once, none twice
    finally:
        own.stop()
