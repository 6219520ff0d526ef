"""WeChat Pay's rules, in one place: what an order still owes and whether it can be paid
online, whether WeChat's word about a payment matches our attempt, and how much of each
paid attempt may still go back through WeChat's refund API."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l

from app.catalog.pricing import money
from app.ordering.states import Pay, PaymentStatus, State
from app.payments.wechat_pay.models import PayAttempt, RefundState
from app.platform.errors import ValidationError

ZERO = Decimal("0.00")
MAX_TRANSACTION_ID = 32
# 在线支付 orders, and 款到发货 ones (paid before shipping: WeChat Pay is one way to).
PAYABLE_ONLINE = (Pay.ONLINE, Pay.PREPAY)


class AlreadyRecorded(ValidationError):
    """The attempt's payment was recorded before (a replay, a resend, the periodic query
    and a notification at once): nothing is to change."""


def amount_due(order) -> Decimal:
    """What the order still owes: its total less what was paid (any method)."""
    paid = sum((Decimal(p.amount) for p in order.payments), ZERO)
    return max(money(Decimal(order.total or 0)) - paid, ZERO)


def check_payable(order) -> Decimal:
    """The amount due of an order the customer may pay with WeChat Pay now, or why not."""
    if order.payment_method not in PAYABLE_ONLINE:
        raise ValidationError(_l("This order is not paid online."), "payment")
    if order.state == State.CLOSED:
        raise ValidationError(_l("This order is closed."), "state")
    if order.payment_status != PaymentStatus.UNPAID:
        raise ValidationError(_l("This order is already paid."), "payment")
    due = amount_due(order)
    if due <= 0:
        raise ValidationError(_l("Nothing is left to pay on this order."), "payment")
    return due


def can_pay(order) -> bool:
    """Whether the order's page offers 去支付."""
    try:
        check_payable(order)
    except ValidationError:
        return False
    return True


def mismatch(settings, attempt: PayAttempt, transaction: dict) -> str | None:
    """Why WeChat's transaction (a notification's resource or a query's answer) is not the
    payment of our attempt, or None when it is: paid, at our mchid and the attempt's
    appid, for exactly its amount in fen."""
    if not isinstance(transaction, dict):
        return "not a transaction"
    if transaction.get("out_trade_no") != attempt.out_trade_no:
        return "out_trade_no differs"
    if transaction.get("mchid") != settings.mchid:
        return f"mchid {str(transaction.get('mchid'))[:32]!r} is not ours"
    if transaction.get("appid") != attempt.appid:
        return f"appid {str(transaction.get('appid'))[:32]!r} is not the attempt's"
    if transaction.get("trade_state") != "SUCCESS":
        return f"trade_state {str(transaction.get('trade_state'))[:16]!r}"
    amount = transaction.get("amount")
    total = amount.get("total") if isinstance(amount, dict) else None
    if not isinstance(total, int) or isinstance(total, bool) or total != attempt.amount_fen:
        return f"amount {str(total)[:16]} fen, the attempt is {attempt.amount_fen} fen"
    if (amount.get("currency") or "CNY") != "CNY":
        return "currency is not CNY"
    transaction_id = transaction.get("transaction_id")
    if not isinstance(transaction_id, str) or not 0 < len(transaction_id) <= MAX_TRANSACTION_ID:
        return "no transaction_id"
    return None


def refundable_fen(attempt: PayAttempt) -> int:
    """What of a paid attempt may still be refunded through WeChat: its amount less the
    refunds that are not known to have failed (pending ones count: they may succeed)."""
    taken = sum(r.amount_fen for r in attempt.refunds if r.status not in RefundState.NOT_REFUNDED)
    return max(attempt.amount_fen - taken, 0)


def refund_plan(attempts, fen: int) -> list[tuple[PayAttempt, int]]:
    """Split a refund of `fen` over the paid attempts, oldest first (each WeChat refund
    goes back against one transaction)."""
    plan = []
    for attempt in attempts:
        if fen <= 0:
            break
        take = min(fen, refundable_fen(attempt))
        if take > 0:
            plan.append((attempt, take))
            fen -= take
    return plan
