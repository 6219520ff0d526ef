"""Deliver one outbox message; sweep messages left pending."""

import logging
from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import Message, MessageStatus
from ..models.base import utcnow
from . import enqueue
from .providers import provider_for

log = logging.getLogger(__name__)
SWEEP_AFTER = timedelta(minutes=2)


def deliver_message(message_id: int) -> str | None:
    """Send a pending message once. Returns its new status (None if nothing to do)."""
    message = db.session.execute(
        select(Message).where(Message.id == message_id).with_for_update()
    ).scalar_one_or_none()
    if message is None or message.status != MessageStatus.PENDING:
        db.session.rollback()
        return None
    message.attempts += 1
    try:
        result = provider_for(message.channel).send(message)
    except Exception as exc:  # an unknown provider or a bug: keep the reason, do not loop
        log.exception("message %s failed", message_id)
        message.status = MessageStatus.FAILED
        message.last_error = str(exc)[:1000]
    else:
        message.status = result.status
        message.provider = result.provider
        message.last_error = result.error
        if result.status in (MessageStatus.SENT, MessageStatus.LOGGED):
            message.sent_at = utcnow()
    db.session.commit()
    return message.status


def sweep_pending_messages() -> int:
    """Re-enqueue messages still pending a while after they were written."""
    cutoff = utcnow() - SWEEP_AFTER
    ids = db.session.scalars(
        select(Message.id)
        .where(Message.status == MessageStatus.PENDING, Message.updated_at < cutoff)
        .order_by(Message.id)
        .limit(1000)
    ).all()
    for message_id in ids:
        enqueue(deliver_message, message_id)
    db.session.commit()  # dispatches the jobs
    return len(ids)
