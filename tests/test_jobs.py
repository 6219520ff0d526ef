"""Jobs run after commit and never for a rolled-back transaction; periodic tasks run."""

import os
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.jobs import enqueue, get_queue
from app.jobs.periodic import PeriodicTask, run_due
from app.messaging.models import Channel, Message, MessageStatus
from app.messaging.outbox import write_message
from app.platform.time import utcnow
from tests import jobs_probe
from tests.conftest import app_config


@pytest.fixture(autouse=True)
def _reset_probe():
    jobs_probe.CALLS.clear()


def test_inline_job_runs_after_commit_only(app, ctx):
    enqueue(jobs_probe.record, 1)
    assert jobs_probe.CALLS == []  # not before the commit
    db.session.commit()
    assert jobs_probe.CALLS == [1]


def test_inline_job_of_a_rolled_back_transaction_never_runs(app, ctx):
    enqueue(jobs_probe.record, 2)
    db.session.rollback()
    db.session.commit()
    assert jobs_probe.CALLS == []


def test_job_of_a_released_savepoint_runs_at_the_outer_commit(app, ctx):
    with db.session.begin_nested():
        enqueue(jobs_probe.record, 3)
    assert jobs_probe.CALLS == []
    db.session.commit()
    assert jobs_probe.CALLS == [3]


def test_outbox_message_is_delivered_by_the_log_provider_after_commit(app, ctx):
    message = write_message("test", Channel.SMS, "13800000001", body="你好")
    assert message.status == MessageStatus.PENDING
    db.session.commit()
    db.session.expire_all()
    message = db.session.get(Message, message.id)
    assert message.status == MessageStatus.LOGGED and message.attempts == 1
    assert message.sent_at is not None


def test_in_app_message_is_delivered_as_sent(app, ctx):
    message = write_message("test", Channel.INAPP, "1", body="站内信")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Message, message.id).status == MessageStatus.SENT


def test_rolled_back_message_does_not_exist(app, ctx):
    write_message("test", Channel.SMS, "13800000001", body="不会发送")
    db.session.rollback()
    assert db.session.scalar(select(Message)) is None


def test_periodic_task_runs_when_due(app, ctx):
    tasks = [PeriodicTask("probe", "tests.jobs_probe.tick", 60)]
    assert run_due(tasks, now=1_000_000.0) == {"probe": "ticked"}
    assert run_due(tasks, now=1_000_030.0) == {}  # not due yet
    assert run_due(tasks, now=1_000_061.0) == {"probe": "ticked"}
    assert jobs_probe.CALLS == ["tick", "tick"]


def test_periodic_cli_runs_the_registered_sweep(app):
    result = app.test_cli_runner().invoke(args=["pifa", "periodic"])
    assert result.exit_code == 0, result.output
    assert "sweep-messages: 0" in result.output


def test_message_left_pending_when_redis_is_down_is_delivered_by_the_sweep(app,
                                                                           tmp_path_factory):
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    down = create_app(app_config(tmp_path_factory, DATABASE_URL=uri,
                                 REDIS_URL="redis://127.0.0.1:1/0"))
    with down.app_context():
        message = write_message("test", Channel.SMS, "13800000001", body="Redis 停了")
        db.session.commit()  # the enqueue fails, the change and its message are kept
        message_id = message.id
        assert db.session.get(Message, message_id).status == MessageStatus.PENDING
    with app.app_context():
        row = db.session.get(Message, message_id)
        row.due_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["pifa", "periodic"])
        assert "sweep-messages: 1" in result.output
        db.session.expire_all()
        assert db.session.get(Message, message_id).status == MessageStatus.LOGGED


@pytest.mark.redis
def test_real_worker_delivers_committed_not_rolled_back(app, tmp_path_factory, redis_url):
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    queue_name = f"pifa-test-{uuid.uuid4().hex[:8]}"
    on_redis = create_app(app_config(tmp_path_factory, DATABASE_URL=uri, REDIS_URL=redis_url,
                                     RQ_QUEUE=queue_name))
    with on_redis.app_context():
        queue = get_queue()
        try:
            kept = write_message("test", Channel.SMS, "13800000001", body="提交后发送")
            db.session.commit()
            kept_id = kept.id
            write_message("test", Channel.SMS, "13800000002", body="回滚")
            db.session.rollback()
            assert queue.count == 1  # only the committed one was queued
            assert db.session.get(Message, kept_id).status == MessageStatus.PENDING
            env = dict(os.environ, PIFA_ENV="development", SECRET_KEY="test-secret",
                       DATABASE_URL=uri, REDIS_URL=redis_url, RQ_QUEUE=queue_name)
            done = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "app:create_app", "pifa", "worker",
                 "--burst"], env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr[-2000:]
            db.session.expire_all()
            row = db.session.get(Message, kept_id)
            assert row.status == MessageStatus.LOGGED and row.attempts == 1
            assert db.session.scalar(select(Message).where(Message.recipient == "13800000002")) \
                is None
            assert queue.count == 0 and queue.failed_job_registry.count == 0
        finally:
            queue.empty()
            queue.connection.delete(*queue.connection.keys(f"rq:*{queue_name}*") or ["-"])


def test_job_of_a_rolled_back_savepoint_never_runs(app, ctx):
    enqueue(jobs_probe.record, "outer")
    savepoint = db.session.begin_nested()
    enqueue(jobs_probe.record, "inner")
    savepoint.rollback()
    db.session.commit()
    assert jobs_probe.CALLS == ["outer"]


def test_job_of_a_released_savepoint_dies_with_its_outer_rollback(app, ctx):
    with db.session.begin_nested():
        enqueue(jobs_probe.record, "inner")
    db.session.rollback()
    db.session.commit()
    assert jobs_probe.CALLS == []
