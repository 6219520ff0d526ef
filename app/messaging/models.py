"""The outbox: every message the product sends is first a row here.

A row is written in the same transaction as the change that causes it, then
delivered by a job after commit (app/messaging/jobs.py).
"""

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from app.platform.time import utcnow


class Channel:
    SMS = "sms"
    WECHAT = "wechat"
    INAPP = "inapp"
    ALL = (SMS, WECHAT, INAPP)


class MessageStatus:
    PENDING = "pending"  # written, not yet handed to a provider (or due for a retry)
    SENDING = "sending"  # claimed by one job, the provider is being called
    SENT = "sent"  # accepted by the provider
    LOGGED = "logged"  # no provider configured: kept, not sent (embedded default)
    FAILED = "failed"  # refused for good; shown in the log
    UNCERTAIN = "uncertain"  # outcome unknown; only a person may resend
    ALL = (PENDING, SENDING, SENT, LOGGED, FAILED, UNCERTAIN)
    RETRYABLE_BY_HAND = (FAILED, UNCERTAIN)


class Message(Model):
    __tablename__ = "message"
    # The log pages newest first by id whatever the filter, so each filter has an index
    # that ends in id (or a range: dates, search); bench/message_log.py measures them.
    __table_args__ = (
        Index("ix_message_status_id", "status", "id"),
        Index("ix_message_event_id", "event", "id"),
        Index("ix_message_status_due", "status", "due_at"),  # the sweep
        Index("ix_message_created_id", "created_at", "id"),  # date filters page by it
        # Search: a recipient by its beginning (LIKE 'q%': pattern ops on PostgreSQL
        # whatever the collation), the content anywhere (a trigram index on PostgreSQL
        # serves LIKE '%q%'; a plain index elsewhere).
        Index("ix_message_recipient", "recipient",
              postgresql_ops={"recipient": "varchar_pattern_ops"}),
        Index("ix_message_body_trgm", "body", postgresql_using="gin",
              postgresql_ops={"body": "gin_trgm_ops"}),
    )
    id = Column(Integer, primary_key=True)
    channel = Column(String(16), nullable=False)
    recipient = Column(String(64), nullable=False)  # phone, openid, or user id for in-app
    user_id = Column(Integer, ForeignKey("ab_user.id"), index=True)
    event = Column(String(32), nullable=False)
    template = Column(String(64))
    params = Column(JSON, nullable=False, default=dict)
    body = Column(Text, nullable=False, default="")
    status = Column(String(16), nullable=False, default=MessageStatus.PENDING)
    provider = Column(String(16))
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text)
    provider_ref = Column(String(64))  # the gateway's id (BizId, SerialNo, msgid)
    due_at = Column(DateTime)  # when a pending message is next to be tried
    claimed_at = Column(DateTime)  # when the job that is sending it claimed it
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    sent_at = Column(DateTime)
    read_at = Column(DateTime)  # in-app messages
    # Why a customer's news went by this channel (outbox.ROUTES): the log shows it.
    route = Column(String(32))

    user = relationship("User")

    def status_label(self):
        labels = {MessageStatus.PENDING: _l("Pending"), MessageStatus.SENDING: _l("Sending"),
                  MessageStatus.SENT: _l("Sent"),
                  MessageStatus.LOGGED: _l("Logged, not sent"),
                  MessageStatus.FAILED: _l("Failed"), MessageStatus.UNCERTAIN: _l("Uncertain")}
        return labels.get(self.status, self.status)


class MessageTemplate(Model):
    """The wording and provider template of one event on one channel, edited in the back
    office. Events without a row use the defaults in app/messaging/events.py."""

    __tablename__ = "message_template"
    __table_args__ = (UniqueConstraint("event", "channel", name="uq_message_template_event"),)
    id = Column(Integer, primary_key=True)
    event = Column(String(32), nullable=False)
    channel = Column(String(16), nullable=False)
    text = Column(Text, nullable=False)  # "{order_no}" style placeholders
    template_code = Column(String(64), nullable=False, default="")  # SMS code / WeChat id
    param_map = Column(Text, nullable=False, default="")  # "provider_var=param" per line
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    updated_by_id = Column(Integer, ForeignKey("ab_user.id",
                                               name="fk_message_template_updated_by_id"))


class SubscribeAcceptance(Model):
    """One "allow" a person tapped in the mini program's subscribe prompt
    (`wx.requestSubscribeMessage`) for one template: it lets us send that template to
    them once (WeChat's rule for one-time subscribe messages). Used by the message that
    spent it."""

    __tablename__ = "subscribe_acceptance"
    __table_args__ = (Index("ix_subscribe_acceptance_unused", "user_id", "template_id",
                            "used_at"),)
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    template_id = Column(String(64), nullable=False)
    accepted_at = Column(DateTime, nullable=False, default=utcnow)
    used_at = Column(DateTime)
    message_id = Column(Integer, ForeignKey("message.id", name="fk_subscribe_acceptance_message"))
