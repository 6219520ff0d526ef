"""The outbox: write messages in the caller's transaction; pick recipients.

Nothing here commits. The caller commits its change and its messages together; the
delivery job is enqueued for after that commit (app/jobs).
"""

from ..extensions import db
from ..models import Channel, Message, MessageStatus


def write_message(event: str, channel: str, recipient: str, body: str, *,
                  user_id: int | None = None, template: str | None = None,
                  params: dict | None = None) -> Message:
    """Add one outbox row to the current transaction and schedule its delivery."""
    from ..jobs import enqueue
    from ..jobs.messages import deliver_message

    if channel not in Channel.ALL:
        raise ValueError(f"unknown channel {channel!r}")
    message = Message(event=event, channel=channel, recipient=str(recipient), body=body,
                      user_id=user_id, template=template, params=params or {},
                      status=MessageStatus.PENDING)
    db.session.add(message)
    db.session.flush()
    enqueue(deliver_message, message.id)
    return message
