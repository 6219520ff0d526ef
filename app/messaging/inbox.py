"""The in-app message list on "我的": a member's in-app outbox rows."""

from sqlalchemy import func, select, update

from app.extensions import db
from app.messaging.models import Channel, Message
from app.platform.paging import keyset
from app.platform.time import utcnow

PER_PAGE = 20


def _mine(user):
    return (Message.channel == Channel.INAPP, Message.user_id == user.id)


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return db.session.scalar(select(func.count(Message.id)).where(
        *_mine(user), Message.read_at.is_(None))) or 0


def page(user, before_id: int | None = None) -> tuple[list[Message], int | None]:
    """Newest first; returns (messages, the `before` of the next page or None)."""
    return keyset(select(Message).where(*_mine(user)), Message.id, before_id, PER_PAGE)


def mark_all_read(user) -> None:
    db.session.execute(update(Message).where(*_mine(user), Message.read_at.is_(None))
                       .values(read_at=utcnow()))
    db.session.commit()
