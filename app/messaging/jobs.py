"""Deliver one outbox message through its provider; sweep messages left behind.

A message is sent at most once by the gateway's own account of it:

1. The job claims the message with one conditional UPDATE (pending and due ->
   sending) and commits, so a retry job, the sweep and a duplicate RQ job can never
   call the provider for the same message at the same time.
2. It calls the provider outside any database transaction.
3. It records the outcome: sent (never sent again), failed (a person must look),
   uncertain (the request went out and no answer came; only a person resends), or
   pending again with a later due time when the provider certainly did not send it
   (exponential backoff, up to MESSAGE_MAX_ATTEMPTS).

A worker that dies between 1 and 3 leaves the message "sending"; the sweep marks it
uncertain after MESSAGE_SENDING_STALE, because the provider may have accepted it. A
worker that dies before 1 leaves it pending, and the sweep sends it.

The database may drop the connection at any step (a restart, a failover): each step is
tried again on a fresh connection, so that a claim whose commit was lost is found again,
a message not yet handed over goes back to pending, and an outcome the gateway gave is
recorded rather than left for a person to guess.
"""

import logging
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from app.extensions import db
from app.jobs import enqueue, get_queue
from app.messaging.models import Message, MessageStatus
from app.messaging.outbox import fall_back, forget_secrets, outgoing_for
from app.messaging.providers import Outcome, ProviderResult, provider_for
from app.platform.time import utcnow

log = logging.getLogger(__name__)

# Our own reasons, stored in English and translated when shown (the log view).
NO_ANSWER = "The worker stopped while sending; the outcome is unknown."
GAVE_UP = "Not sent after the maximum number of attempts."

CLOCK_TOLERANCE = 5.0  # seconds a message may look early to a worker and still be claimed
DATABASE_RETRY_WAITS = (0.2, 0.5, 1.0, 2.0)  # seconds between tries of one database step


def _retrying(step, *args):
    """Run one short database step, again after a dropped connection (the pool checks the
    next one before use). Other errors, and the last failure, are raised."""
    for wait in (*DATABASE_RETRY_WAITS, None):
        try:
            return step(*args)
        except DBAPIError as exc:
            db.session.rollback()
            if wait is None or not _connection_lost(exc):
                raise
            log.warning("database connection lost in %s; trying again in %.1f s",
                        step.__name__, wait)
            time.sleep(wait)
    return None


def _connection_lost(exc: DBAPIError) -> bool:
    return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)


def backoff(attempts: int, config=None) -> float:
    """Seconds to wait after the `attempts`-th "not sent" answer."""
    config = config or current_app.config
    return min(config["MESSAGE_RETRY_BASE"] * 2 ** max(attempts - 1, 0),
               config["MESSAGE_RETRY_MAX"])


def _claim(message_id: int):
    """Pending and due -> sending, in one conditional UPDATE, committed. Returns the claim
    time (which later writes must find unchanged), or None if another job, the sweep or
    a person has the message, or it is not due."""
    now = utcnow()
    try:
        return _claim_at(message_id, now)
    except DBAPIError as exc:
        db.session.rollback()
        if not _connection_lost(exc):
            raise
    # The commit may have reached the database before the connection went: look.
    status, claimed_at = _retrying(_state_of, message_id)
    if status == MessageStatus.SENDING and claimed_at == now:
        return now  # it did: the claim is this job's
    return _retrying(_claim_at, message_id, utcnow())


def _state_of(message_id: int):
    return db.session.execute(select(Message.status, Message.claimed_at)
                              .where(Message.id == message_id)).one()


def _claim_at(message_id: int, now):
    # Clocks of web and worker machines differ a little: a message stamped "due now" by
    # one must not look early to the other.
    due_by = now + timedelta(seconds=CLOCK_TOLERANCE)
    claimed = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == MessageStatus.PENDING,
               or_(Message.due_at.is_(None), Message.due_at <= due_by))
        .values(status=MessageStatus.SENDING, attempts=Message.attempts + 1,
                claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return now if claimed == 1 else None


def deliver_message(message_id: int) -> str | None:
    """Send one due pending message. Returns its new status (None: nothing to do)."""
    claim = _claim(message_id)
    if claim is None:
        return None
    config = current_app.config
    try:
        message = db.session.get(Message, message_id)
        provider = provider_for(message.channel)
        outgoing = outgoing_for(message)
        db.session.commit()  # no transaction stays open while the gateway is called
    except DBAPIError as exc:  # nothing went out yet: give the message back
        db.session.rollback()
        if not _connection_lost(exc):
            raise
        _retrying(_release, message_id, claim)
        schedule_retry(message_id, DATABASE_RETRY_WAITS[-1])
        return MessageStatus.PENDING
    except Exception as exc:  # a bad setting or template: nothing went out; a person looks
        log.exception("message %s could not be handed to its provider", message_id)
        db.session.rollback()
        return _retrying(_record, message_id, claim, ProviderResult(
            Outcome.FAILED, "", error=f"{type(exc).__name__}: {exc}"), config)
    try:
        result = provider.send(outgoing, config)
    except Exception as exc:  # the request may have gone out: only a person may resend
        log.exception("provider %s raised while sending message %s", provider.NAME,
                      message_id)
        result = ProviderResult(Outcome.UNCERTAIN, provider.NAME,
                                error=f"{type(exc).__name__}: {exc}")
    return _retrying(_record, message_id, claim, result, config)


def _release(message_id: int, claim) -> None:
    """Sending -> pending for an attempt that never reached the provider."""
    db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == MessageStatus.SENDING,
               Message.claimed_at == claim)
        .values(status=MessageStatus.PENDING, claimed_at=None, attempts=Message.attempts - 1,
                updated_at=utcnow())
        .execution_options(synchronize_session=False))
    db.session.commit()


def _record(message_id: int, claim, result: ProviderResult, config) -> str | None:
    """Write the outcome of the attempt that claimed the message at `claim`, only if the
    message is still that attempt's (a person or the sweep may have taken it since)."""
    values = {"provider": result.provider or None, "claimed_at": None,
              "last_error": result.error[:1000] if result.error else None,
              "updated_at": utcnow()}
    retry_in = None
    message = db.session.get(Message, message_id)
    attempts = message.attempts
    if result.outcome in (Outcome.SENT, Outcome.LOGGED):
        values.update(status=result.outcome, sent_at=utcnow(),
                      provider_ref=(result.provider_ref or "")[:64] or None)
    elif result.outcome == Outcome.UNCERTAIN:
        values.update(status=MessageStatus.UNCERTAIN)
    elif result.outcome == Outcome.RETRY and attempts < config["MESSAGE_MAX_ATTEMPTS"]:
        retry_in = backoff(attempts, config)
        values.update(status=MessageStatus.PENDING,
                      due_at=utcnow() + timedelta(seconds=retry_in))
    else:
        values.update(status=MessageStatus.FAILED)
        if result.outcome == Outcome.RETRY:
            values["last_error"] = f"{GAVE_UP} {values['last_error'] or ''}".strip()
    changed = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == MessageStatus.SENDING,
               Message.claimed_at == claim)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        log.warning("message %s was taken from this attempt before it ended (%s: %s); "
                    "its outcome is left to whoever has it now", message_id,
                    result.outcome, result.error)
        return None
    # `message` was read before the UPDATE: its event, channel, recipient and params are
    # unchanged; only what these two write is flushed.
    status = values["status"]
    if status == MessageStatus.SENT:
        forget_secrets(message)  # a verification code is not kept once the gateway has it
    elif status == MessageStatus.FAILED:
        fall_back(message)  # e.g. WeChat refused -> the customer gets an SMS instead
    db.session.commit()
    if retry_in is not None:
        schedule_retry(message_id, retry_in)
    return status


def schedule_retry(message_id: int, seconds: float) -> None:
    """A delayed RQ job (the worker runs with its scheduler); without Redis, or if Redis
    refuses, the periodic sweep picks the message up once it is due."""
    queue = get_queue()
    if queue is None:
        return
    try:
        queue.enqueue_in(timedelta(seconds=seconds), "app.jobs.run_job",
                         f"{__name__}.deliver_message", message_id)
    except Exception:
        log.exception("could not schedule the retry of message %s; left for the sweep",
                      message_id)


def sweep_pending_messages(now=None) -> int:
    """Re-enqueue due messages whose job was lost (Redis or the worker was down), and mark
    uncertain those whose worker vanished while sending. Returns how many were queued."""
    config = current_app.config
    now = now or utcnow()
    stale = now - timedelta(seconds=config["MESSAGE_SENDING_STALE"])
    db.session.execute(
        update(Message)
        .where(Message.status == MessageStatus.SENDING, Message.claimed_at < stale)
        .values(status=MessageStatus.UNCERTAIN, last_error=NO_ANSWER, claimed_at=None)
        .execution_options(synchronize_session=False))
    cutoff = now - timedelta(seconds=config["MESSAGE_SWEEP_AFTER"])
    ids = db.session.scalars(
        select(Message.id).where(job_lost(cutoff)).order_by(Message.id).limit(1000)).all()
    if ids:
        # Due again from now: a slow queue gets one more job per message per
        # MESSAGE_SWEEP_AFTER, not one per sweep.
        db.session.execute(
            update(Message).where(Message.id.in_(ids), Message.status == MessageStatus.PENDING)
            .values(due_at=utcnow()).execution_options(synchronize_session=False))
    for message_id in ids:
        enqueue(deliver_message, message_id)
    db.session.commit()  # dispatches the jobs
    return len(ids)


def job_lost(cutoff):
    """Pending messages due (or written) before `cutoff`: their job should have run."""
    return (Message.status == MessageStatus.PENDING) & or_(
        Message.due_at <= cutoff, Message.due_at.is_(None) & (Message.updated_at < cutoff))
