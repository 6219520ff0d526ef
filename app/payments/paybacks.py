"""Money paid back by hand (退款登记): what an order owes its customer, and customer
service recording that it went back by bank, WeChat or Alipay transfer or in cash.

WeChat Pay pays back what was paid through it by itself (wechat_pay/: a payment of minus
the amount once WeChat has paid out). Money paid any other way, a transfer or cash at the
door, goes back by hand; until it is recorded here the account shows the customer a
credit that is not theirs any more. Recorded the same way: a payment of minus the amount
(ledger.post_order posts it as a 'payback' debit).
"""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app.catalog.pricing import money
from app.extensions import db
from app.ordering import refunds
from app.ordering.guards import clean, parse_amount
from app.ordering.models import Payment
from app.ordering.states import PAYBACK_METHOD_LABELS, Pay, PaymentStatus, State
from app.payments.wechat_pay import refunds as online_refunds
from app.payments.wechat_pay.models import OnlineRefund, RefundKind, RefundState
from app.platform.errors import ValidationError

ZERO = Decimal("0.00")
METHODS = tuple(PAYBACK_METHOD_LABELS)  # a transfer, or cash


def _on_its_way_online(order) -> Decimal:
    """What WeChat Pay is sending back for this order or has sent and not yet recorded:
    not to be paid back by hand as well."""
    if not any(p.method == Pay.ONLINE for p in order.payments):
        return ZERO
    fen = db.session.scalars(select(OnlineRefund.amount_fen).where(
        OnlineRefund.order_id == order.id, OnlineRefund.kind.in_(RefundKind.ON_THE_ORDER),
        or_(OnlineRefund.status.in_(RefundState.OPEN),
            (OnlineRefund.status == RefundState.SUCCESS) & OnlineRefund.payment_id.is_(None))
    )).all()
    return money(Decimal(sum(fen)) / 100)


def owed_back(order, approving: Decimal = ZERO) -> Decimal:
    """What the customer paid on this order and must get back: what was paid, net of what
    went back already, less what the order still costs them (refunds.cost_to_customer;
    `approving`: a refund being approved now), less what WeChat Pay is sending. Every way
    money goes back (by hand, WeChat Pay's refunds of an approved refund or of a closed
    order) is capped by it, so no yuan goes back twice."""
    if not _paid_anything(order):
        return ZERO
    return max(money(refunds.net_paid(order) - refunds.cost_to_customer(order, approving)
                     - _on_its_way_online(order)), ZERO)


def can_pay_back(order) -> bool:
    return owed_back(order) > 0


def settle_payment_status(order) -> None:
    """The payment status after money went back, or after the order was opened again:
    refunded once every yuan paid went back and the order costs nothing (closed, or
    refunded in full); unpaid while an open order has less paid than it costs (opened
    again after money went back: it may be marked paid, or paid, once more)."""
    if not _paid_anything(order):
        return
    net, costs = refunds.net_paid(order), refunds.cost_to_customer(order)
    if net <= 0 and costs <= 0:
        order.payment_status = PaymentStatus.REFUNDED
    elif order.state != State.CLOSED and net < costs:
        order.payment_status = PaymentStatus.UNPAID
    elif order.payment_status == PaymentStatus.REFUNDED:
        order.payment_status = PaymentStatus.PAID


def _paid_anything(order) -> bool:
    return any(p.amount > 0 for p in order.payments)


def reopened_payment_status(ctx):
    """After customer service's override out of closed (or of an order paid back)."""
    if ctx.checked.get("from_state") == State.CLOSED or \
            ctx.order.payment_status == PaymentStatus.REFUNDED:
        settle_payment_status(ctx.order)


# ---- the workflow's pay_back_by_hand (registered in payments/hooks.py) ------------------

def pay_back_ok(ctx):
    """Something is owed back, the amount (default: all of it) is not more, and the way
    it went back is one of METHODS. Read under the order's lock, so two people recording
    the same money at once record it once."""
    owed = owed_back(ctx.order)
    if owed <= 0:
        raise ValidationError(_l("Nothing on this order is owed back to the customer."),
                              "amount")
    amount = parse_amount(ctx.data.get("amount") or owed, "amount")
    if amount <= 0:
        raise ValidationError(_l("Please enter a valid amount."), "amount")
    if amount > owed:
        raise ValidationError(_l("At most ¥%(amount)s is owed back on this order.",
                                 amount=owed), "amount")
    method = ctx.data.get("method") or Pay.BANK
    if method not in METHODS:
        raise ValidationError(_l("Choose how the money went back."), "method")
    ctx.checked["payback"] = (amount, method)


def record_payback_by_hand(ctx):
    order = ctx.order
    amount, method = ctx.checked["payback"]
    note = clean(ctx.data["note"])
    db.session.add(Payment(order=order, amount=-amount, method=method,
                           note=note[:255] if note else None, recorded_by_id=ctx.actor.id))
    db.session.flush()
    ctx.remark = note
    ctx.event_data["paid_back"] = str(amount)
    ctx.event_data["payback_method"] = method
    settle_payment_status(order)
    if owed_back(order) <= 0:  # they leave 财务 → 微信支付退款's list needing a person
        online_refunds.settle_when_nothing_owed(order, ctx.actor, note)
