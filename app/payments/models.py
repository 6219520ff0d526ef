"""Receivables ledger, transfer vouchers and drivers' cash hand-ins."""

from flask_appbuilder import Model
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from app.platform.time import utcnow


class EntryKind:
    DELIVERY = "delivery"  # goods delivered or received: the member owes the order total
    DELIVERY_REVERSAL = "delivery_reversal"  # the order left delivered/received (override)
    PAYMENT = "payment"  # money received
    REFUND = "refund"  # an approved refund: the member owes that much less
    PAYBACK = "payback"  # money paid back to the member (a refund sent through WeChat Pay)

    ALL = (DELIVERY, DELIVERY_REVERSAL, PAYMENT, REFUND, PAYBACK)


class LedgerEntry(Model):
    """One line of a member's receivables account, never changed or deleted once written.

    `amount` is signed: positive, the member owes more (a delivery); negative, less (a
    payment, a refund). The balance is the sum. Each entry names its source: the order
    (deliveries and their reversals), the payment, or the refund; a payment and a refund
    are posted once (unique)."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_entry_member_created", "member_id", "created_at", "id"),
        CheckConstraint("amount <> 0", name="ck_ledger_entry_amount_not_zero"),
    )
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False)
    kind = Column(String(20), nullable=False)
    amount = Column(Numeric(12, 2), nullable=False)
    order_id = Column(Integer, ForeignKey("order.id"), nullable=False, index=True)
    payment_id = Column(Integer, ForeignKey("payment.id"), unique=True)
    refund_id = Column(Integer, ForeignKey("refund.id"), unique=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    order = relationship("Order")
    member = relationship("Member")


class VoucherStatus:
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"

    ALL = (PENDING, CONFIRMED, REJECTED)


class Voucher(Model):
    """A transfer voucher (银行/微信/支付宝转账 screenshot) a customer uploaded for an order:
    confirmed by staff it becomes the order's payment; rejected, the customer sees why."""

    __tablename__ = "voucher"
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("order.id", ondelete="CASCADE"), nullable=False,
                      index=True)
    photo = Column(String(255), nullable=False)  # private media key
    image_hash = Column(String(64), nullable=False, index=True)  # sha256 of the upload
    amount = Column(Numeric(12, 2), nullable=False)
    paid_on = Column(Date, nullable=False)
    remark = Column(String(255))
    status = Column(String(12), nullable=False, default=VoucherStatus.PENDING, index=True)
    reject_reason = Column(String(255))
    payment_id = Column(Integer, ForeignKey("payment.id"), unique=True)
    uploaded_by_id = Column(Integer, ForeignKey("ab_user.id"))
    decided_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    decided_at = Column(DateTime)

    order = relationship("Order")


class CashHandIn(Model):
    """司机交款: cash a driver handed in to the office, clearing the orders chosen. A
    difference between what was counted and what the orders say stays on the hand-in
    until someone explains it."""

    __tablename__ = "cash_hand_in"
    id = Column(Integer, primary_key=True)
    driver_id = Column(Integer, ForeignKey("staff_profile.id"), nullable=False, index=True)
    expected = Column(Numeric(12, 2), nullable=False)  # the cash the chosen orders collected
    received = Column(Numeric(12, 2), nullable=False)  # what was counted
    note = Column(String(255))
    explanation = Column(String(255))  # why received differs from expected
    recorded_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    explained_at = Column(DateTime)

    driver = relationship("StaffProfile")
    lines = relationship("CashHandInLine", back_populates="hand_in",
                         cascade="all, delete-orphan")

    @property
    def difference(self):
        return self.received - self.expected


class CashHandInLine(Model):
    """One cash payment (货到付款 collected at the door) a hand-in cleared; once only."""

    __tablename__ = "cash_hand_in_line"
    id = Column(Integer, primary_key=True)
    hand_in_id = Column(Integer, ForeignKey("cash_hand_in.id", ondelete="CASCADE"),
                        nullable=False, index=True)
    payment_id = Column(Integer, ForeignKey("payment.id"), nullable=False, unique=True)

    hand_in = relationship("CashHandIn", back_populates="lines")
    payment = relationship("Payment")


class StatementStatus:
    ISSUED = "issued"  # waiting for the member
    CONFIRMED = "confirmed"  # 对账确认: the month is locked
    DISPUTED = "disputed"  # the member disagrees (their remark says why)

    ALL = (ISSUED, CONFIRMED, DISPUTED)


class Statement(Model):
    """对账单: one member's month, an immutable numbered snapshot of its ledger. Only the
    member's answer (confirm or dispute, with a remark) is written later."""

    __tablename__ = "statement"
    __table_args__ = (UniqueConstraint("member_id", "period", name="uq_statement_member_period"),)
    id = Column(Integer, primary_key=True)
    number = Column(String(24), nullable=False, unique=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False)
    period = Column(Date, nullable=False, index=True)  # the month's first day
    opening = Column(Numeric(12, 2), nullable=False)
    debits = Column(Numeric(12, 2), nullable=False)  # what the month added
    credits = Column(Numeric(12, 2), nullable=False)  # what the month paid or refunded (< 0)
    closing = Column(Numeric(12, 2), nullable=False)
    aged_0_30 = Column(Numeric(12, 2), nullable=False)
    aged_31_60 = Column(Numeric(12, 2), nullable=False)
    aged_61_90 = Column(Numeric(12, 2), nullable=False)
    aged_over_90 = Column(Numeric(12, 2), nullable=False)
    status = Column(String(12), nullable=False, default=StatementStatus.ISSUED, index=True)
    member_remark = Column(String(500))
    responded_at = Column(DateTime)
    responded_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(DateTime, nullable=False, default=utcnow)

    member = relationship("Member")
    lines = relationship("StatementLine", order_by="StatementLine.id",
                         cascade="all, delete-orphan", back_populates="statement")

    @property
    def aging(self):
        return [self.aged_0_30, self.aged_31_60, self.aged_61_90, self.aged_over_90]


class StatementLine(Model):
    """One ledger entry of the month, as the statement shows it."""

    __tablename__ = "statement_line"
    id = Column(Integer, primary_key=True)
    statement_id = Column(Integer, ForeignKey("statement.id", ondelete="CASCADE"),
                          nullable=False, index=True)
    entry_id = Column(Integer, ForeignKey("ledger_entry.id"), nullable=False, unique=True)
    posted_at = Column(DateTime, nullable=False)
    kind = Column(String(20), nullable=False)
    order_no = Column(String(24), nullable=False)
    amount = Column(Numeric(12, 2), nullable=False)
    balance = Column(Numeric(12, 2), nullable=False)  # running, after this line

    statement = relationship("Statement", back_populates="lines")
