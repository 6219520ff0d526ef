"""The database drops the connection at each step of a delivery: no message is lost,
sent twice or left for a person to guess about when the job could know the answer."""

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.extensions import db
from app.messaging import jobs as delivery
from app.messaging import outbox
from app.messaging.models import Channel, Message, MessageStatus
from app.messaging.providers import log as log_provider


def _dropped(statement="COMMIT"):
    return OperationalError(statement, {}, Exception("server closed the connection "
                                                     "unexpectedly"),
                            connection_invalidated=True)


@pytest.fixture
def message_id(app, ctx, monkeypatch):
    """A pending message whose job has not run yet (it is run by the test)."""
    monkeypatch.setattr(delivery, "DATABASE_RETRY_WAITS", (0.0, 0.0), raising=False)
    message = outbox.write_message("new_order", Channel.SMS, "13800138000",
                                      {"order_no": "N1"})
    db.session.info.pop("pifa_pending_jobs", None)  # no job dispatched on commit
    db.session.commit()
    return message.id


@pytest.fixture
def sends(monkeypatch):
    calls = []
    real = log_provider.send

    def counting(outgoing, config):
        calls.append(outgoing)
        return real(outgoing, config)

    monkeypatch.setattr(log_provider, "send", counting)
    return calls


def _once(target, name, fail):
    """Listen for `name` on `target`; `fail(*args)` decides, the first time it says so
    the listener raises a dropped connection."""
    state = {"raised": False}

    def listener(*args, **kwargs):
        if not state["raised"] and fail(*args):
            state["raised"] = True
            raise _dropped()

    event.listen(target, name, listener)
    return state, lambda: event.remove(target, name, listener)


def _status(message_id):
    db.session.expire_all()
    return db.session.get(Message, message_id)


def test_a_claim_whose_commit_answer_was_lost_is_still_this_jobs(message_id, sends,
                                                                 monkeypatch):
    # The commit reaches the database, then the connection dies before the answer.
    dialect, raised = db.engine.dialect, []
    real = dialect.do_commit

    def commit_then_drop(dbapi_connection):
        real(dbapi_connection)
        if not raised:
            raised.append(1)
            raise dialect.loaded_dbapi.OperationalError("server closed the connection "
                                                        "unexpectedly")

    monkeypatch.setattr(dialect, "do_commit", commit_then_drop)
    assert delivery.deliver_message(message_id) == MessageStatus.LOGGED
    monkeypatch.setattr(dialect, "do_commit", real)
    assert raised
    message = _status(message_id)
    assert message.status == MessageStatus.LOGGED and message.attempts == 1
    assert len(sends) == 1


def test_a_message_not_yet_handed_over_goes_back_to_pending(message_id, sends):
    commits = []
    # The second commit of the job is the one just before the provider is called.
    state, stop = _once(Session, "before_commit",
                        lambda _session: commits.append(1) or len(commits) == 2)
    try:
        assert delivery.deliver_message(message_id) == MessageStatus.PENDING
    finally:
        stop()
    assert state["raised"]
    message = _status(message_id)
    assert message.status == MessageStatus.PENDING and message.claimed_at is None
    assert message.attempts == 0 and sends == []
    assert delivery.deliver_message(message_id) == MessageStatus.LOGGED
    assert len(sends) == 1


def test_an_outcome_the_gateway_gave_is_recorded_after_a_dropped_connection(message_id,
                                                                            sends):
    def outcome_update(_conn, _cursor, statement, params, *_rest):
        return statement.startswith("UPDATE message") and "claimed_at" in statement and \
            MessageStatus.LOGGED in (params.values() if isinstance(params, dict) else params)

    state, stop = _once(db.engine, "before_cursor_execute", outcome_update)
    try:
        assert delivery.deliver_message(message_id) == MessageStatus.LOGGED
    finally:
        stop()
    assert state["raised"]
    message = _status(message_id)
    assert message.status == MessageStatus.LOGGED and message.claimed_at is None
    assert len(sends) == 1  # recorded, not left "sending" for a person to resend


def test_a_database_that_stays_away_leaves_the_message_for_the_sweep(message_id, sends):
    def always(*_args):
        raise _dropped()

    event.listen(Session, "before_commit", always)
    try:
        with pytest.raises(OperationalError):
            delivery.deliver_message(message_id)
    finally:
        event.remove(Session, "before_commit", always)
    db.session.rollback()
    message = _status(message_id)
    assert message.status == MessageStatus.PENDING and sends == []
