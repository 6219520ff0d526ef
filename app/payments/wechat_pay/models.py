"""What WeChat Pay keeps: each prepay attempt of an order, each verified notification,
and each refund sent back through WeChat Pay. Amounts are whole fen (WeChat's unit);
orders keep yuan as Decimal (ordering/models.py) and money.py converts between them."""

from flask_appbuilder import Model
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from app.platform.time import utcnow


class TradeType:
    JSAPI = "JSAPI"  # mini program and WeChat's browser (official account)
    NATIVE = "NATIVE"  # a QR code scanned with WeChat
    ALL = (JSAPI, NATIVE)


class Channel:
    """Where the customer pays, which decides the appid, the openid and the trade type."""

    MINIPROGRAM = "miniprogram"  # wx.requestPayment in our mini program
    OFFICIAL = "official"  # WeixinJSBridge in WeChat's browser (official account)
    NATIVE = "native"  # a QR code, anywhere else
    ALL = (MINIPROGRAM, OFFICIAL, NATIVE)


class AttemptStatus:
    NEW = "new"  # written, the prepay request not answered yet
    OPEN = "open"  # WeChat gave a prepay_id / code_url: the customer can pay it
    PAID = "paid"  # WeChat says paid (notification or query); transaction_id is set
    CLOSING = "closing"  # we asked WeChat to close it and have no answer yet
    CLOSED = "closed"  # closed at WeChat, or expired: it can never be paid
    FAILED = "failed"  # WeChat refused the prepay: nothing to pay
    ALL = (NEW, OPEN, PAID, CLOSING, CLOSED, FAILED)
    UNSETTLED = (NEW, OPEN, CLOSING)  # what the periodic query looks at


class PayAttempt(Model):
    """One prepay of an order (统一下单): our out_trade_no, unique per attempt, for one amount
    at one appid. An order whose amount due changed gets a new attempt (WeChat refuses the
    same out_trade_no with another amount); an attempt is paid at most once."""

    __tablename__ = "wechat_pay_attempt"
    __table_args__ = (
        Index("ix_wechat_pay_attempt_status_created", "status", "created_at"),
        CheckConstraint("amount_fen > 0", name="ck_wechat_pay_attempt_amount"),
    )
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("order.id", ondelete="CASCADE"), nullable=False,
                      index=True)
    out_trade_no = Column(String(32), nullable=False, unique=True)
    appid = Column(String(32), nullable=False)
    channel = Column(String(16), nullable=False)  # Channel
    trade_type = Column(String(8), nullable=False)  # TradeType
    amount_fen = Column(Integer, nullable=False)
    openid = Column(String(128))  # the payer we asked for (JSAPI)
    prepay_id = Column(String(64))
    code_url = Column(String(255))
    status = Column(String(12), nullable=False, default=AttemptStatus.NEW)
    error = Column(String(255))  # WeChat's code and message when it refused
    transaction_id = Column(String(32), unique=True)  # WeChat's, once paid
    payer_openid = Column(String(128))  # who paid, as WeChat says
    paid_at = Column(DateTime)
    settled_by = Column(String(8))  # notify | query: how we learnt it was paid
    payment_id = Column(Integer, ForeignKey("payment.id"), unique=True)  # the order's Payment
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)  # the time_expire sent to WeChat
    checked_at = Column(DateTime)  # last query by out_trade_no
    closed_at = Column(DateTime)

    order = relationship("Order")
    refunds = relationship("OnlineRefund", back_populates="attempt", order_by="OnlineRefund.id")


class NotificationKind:
    PAYMENT = "payment"
    REFUND = "refund"


class NotificationOutcome:
    RECORDED = "recorded"  # it paid an attempt (or settled a refund)
    DUPLICATE = "duplicate"  # what it says was recorded already: nothing changed
    IGNORED = "ignored"  # an event we do not act on
    UNKNOWN = "unknown"  # names an out_trade_no / out_refund_no we never made
    MISMATCH = "mismatch"  # amount, appid or mchid differ from our attempt: refused
    ERROR = "error"  # our side failed; WeChat sends it again
    FINAL = (RECORDED, DUPLICATE, IGNORED)  # answered 2xx: WeChat stops sending it


class Notification(Model):
    """One verified notification (signature, timestamp and decryption checked), recorded
    once by WeChat's notification id; WeChat's resends of it count in `times`."""

    __tablename__ = "wechat_pay_notification"
    id = Column(Integer, primary_key=True)
    notification_id = Column(String(64), nullable=False, unique=True)
    kind = Column(String(8), nullable=False)  # NotificationKind
    event_type = Column(String(32), nullable=False)
    out_trade_no = Column(String(32), index=True)
    out_refund_no = Column(String(64), index=True)
    transaction_id = Column(String(32), index=True)
    outcome = Column(String(12), nullable=False)
    detail = Column(String(255))
    times = Column(Integer, nullable=False, default=1)
    received_at = Column(DateTime, nullable=False, default=utcnow)
    last_received_at = Column(DateTime, nullable=False, default=utcnow)


class RefundKind:
    APPROVED = "approved"  # customer service approved the customer's refund request
    AUTOMATIC = "automatic"  # a payment for a closed or already paid order goes back
    ORDER_CLOSED = "order_closed"  # the order was closed after it was paid: its payment goes back
    ON_THE_ORDER = (APPROVED, ORDER_CLOSED)  # the money was the order's: paid back shows on it


class RefundState:
    PENDING = "pending"  # to send (again) to WeChat with the same out_refund_no
    PROCESSING = "processing"  # WeChat accepted it (退款处理中)
    SUCCESS = "success"  # the money is back with the payer
    CLOSED = "closed"  # WeChat closed it: not refunded
    ABNORMAL = "abnormal"  # WeChat could not pay it back (e.g. the card was cancelled)
    FAILED = "failed"  # WeChat refused the request: a person has to look
    SETTLED = "settled"  # a person gave the money back another way (handled_*)
    ALL = (PENDING, PROCESSING, SUCCESS, CLOSED, ABNORMAL, FAILED, SETTLED)
    OPEN = (PENDING, PROCESSING)  # what the periodic task still looks at
    NEEDS_A_PERSON = (CLOSED, ABNORMAL, FAILED)
    NOT_REFUNDED = (CLOSED, FAILED)  # the money stayed with us: may be refunded again


class AutoReason:
    ORDER_CLOSED = "order_closed"
    ALREADY_PAID = "already_paid"
    CLOSED_AFTER_PAYMENT = "closed_after_payment"


class OnlineRefund(Model):
    """Money sent back through WeChat Pay's refund API for one paid attempt. out_refund_no
    is derived from what it refunds (an approved Refund and the attempt, or the attempt for
    an automatic refund), so a retry can never refund twice: WeChat answers the same
    out_refund_no with the same refund."""

    __tablename__ = "wechat_pay_refund"
    __table_args__ = (
        UniqueConstraint("refund_id", "attempt_id", name="uq_wechat_pay_refund_refund_attempt"),
        Index("ix_wechat_pay_refund_status_created", "status", "created_at"),
        CheckConstraint("amount_fen > 0", name="ck_wechat_pay_refund_amount"),
    )
    id = Column(Integer, primary_key=True)
    kind = Column(String(12), nullable=False)  # RefundKind
    reason = Column(String(32))  # AutoReason for automatic refunds
    order_id = Column(Integer, ForeignKey("order.id", ondelete="CASCADE"), nullable=False,
                      index=True)
    attempt_id = Column(Integer, ForeignKey("wechat_pay_attempt.id", ondelete="CASCADE"),
                        nullable=False, index=True)
    refund_id = Column(Integer, ForeignKey("refund.id", ondelete="CASCADE"))  # ordering's
    # Once WeChat paid an approved refund out: the order's Payment of minus the amount.
    payment_id = Column(Integer, ForeignKey("payment.id", ondelete="SET NULL"), unique=True)
    out_refund_no = Column(String(64), nullable=False, unique=True)
    amount_fen = Column(Integer, nullable=False)
    status = Column(String(12), nullable=False, default=RefundState.PENDING)
    wechat_refund_id = Column(String(64), unique=True)
    error = Column(String(255))
    tries = Column(Integer, nullable=False, default=0)  # refund API requests sent
    created_at = Column(DateTime, nullable=False, default=utcnow)
    sent_at = Column(DateTime)  # WeChat accepted it
    settled_at = Column(DateTime)  # WeChat's final status arrived
    # When WeChat did not pay it back: who settled it another way, when, and how.
    handled_by_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))
    handled_at = Column(DateTime)
    handled_note = Column(String(255))
    checked_at = Column(DateTime)

    order = relationship("Order")
    attempt = relationship("PayAttempt", back_populates="refunds")
    refund = relationship("Refund")
