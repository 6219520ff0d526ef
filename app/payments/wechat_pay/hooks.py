"""What WeChat Pay adds to the order workflow: the guards and effects its table names
(registered into app.ordering.guards.GUARDS and app.ordering.effects.EFFECTS when this
package is imported). Each runs inside `workflow.apply`, under the order's row lock, in
the action's one transaction; a WeChat API call is never made here: effects enqueue it
(app.jobs.enqueue), and it runs after the commit."""

from datetime import UTC, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.jobs import enqueue
from app.ordering.effects import EFFECTS
from app.ordering.guards import GUARDS
from app.ordering.models import Payment
from app.ordering.states import Pay, PaymentStatus, RefundStatus, State
from app.payments import paybacks
from app.payments.wechat_pay import gateway, rules
from app.payments.wechat_pay import refunds as online_refunds
from app.payments.wechat_pay.models import (
    AttemptStatus,
    AutoReason,
    OnlineRefund,
    PayAttempt,
    RefundKind,
    RefundState,
)
from app.platform import ids
from app.platform.errors import ValidationError
from app.platform.time import utcnow

SEND_REFUND = "app.payments.wechat_pay.refunds.send_refund"
CLOSE_ATTEMPT = "app.payments.wechat_pay.tasks.close_attempt"


# ---- pay_online -----------------------------------------------------------------------

def online_payment_ok(ctx):
    """The attempt is this order's, not recorded yet (read again under the order lock),
    and WeChat's transaction matches it. Leaves what the payment becomes: the order's
    payment, or, for a closed or already paid order, money to send back."""
    attempt = db.session.get(PayAttempt, ids.parse_id(ctx.data["attempt_id"]),
                             populate_existing=True, with_for_update=True)
    if attempt is None or attempt.order_id != ctx.order.id:
        raise ValidationError(_l("This payment is not for this order."), "attempt_id")
    if attempt.transaction_id is not None:
        raise rules.AlreadyRecorded(_l("This payment is recorded already."), "attempt_id")
    transaction = ctx.data.get("transaction")
    if rules.mismatch(gateway.settings(), attempt, transaction):
        raise ValidationError(_l("This payment does not match the order."), "transaction")
    order = ctx.order
    if order.state == State.CLOSED:
        give_back = AutoReason.ORDER_CLOSED
    elif order.payment_status != PaymentStatus.UNPAID:
        give_back = AutoReason.ALREADY_PAID
    else:
        give_back = None
    ctx.checked["online"] = (attempt, transaction, give_back)


def record_online_payment(ctx):
    """The attempt is paid. For an open, unpaid order the money is the order's payment
    (method online; paid when the payments cover the total); for a closed or already paid
    order it goes back at once: an automatic refund, sent after the commit."""
    order = ctx.order
    attempt, transaction, give_back = ctx.checked["online"]
    attempt.status = AttemptStatus.PAID
    attempt.transaction_id = transaction["transaction_id"]
    payer = transaction.get("payer") if isinstance(transaction.get("payer"), dict) else {}
    attempt.payer_openid = str(payer.get("openid") or "")[:128] or None
    attempt.paid_at = _utc(transaction.get("success_time")) or utcnow()
    attempt.settled_by = str(ctx.data.get("source") or "")[:8] or None
    amount = gateway.from_fen(attempt.amount_fen)
    ctx.event_data["amount"] = str(amount)
    ctx.event_data["transaction_id"] = attempt.transaction_id
    if give_back is None:
        payment = Payment(order=order, amount=amount, method=Pay.ONLINE,
                          note=attempt.transaction_id)  # WeChat's number of the payment
        db.session.add(payment)
        db.session.flush()
        attempt.payment_id = payment.id
        if sum((Decimal(p.amount) for p in order.payments), Decimal("0")) >= order.total:
            order.payment_status = PaymentStatus.PAID
        ctx.outcome = "paid"
        return
    send_back(order, attempt, attempt.amount_fen, RefundKind.AUTOMATIC, "A", reason=give_back)
    ctx.event_data["refunded_automatically"] = give_back
    ctx.outcome = "refund"


def _utc(text) -> datetime | None:
    """WeChat's RFC 3339 time (2026-12-03T10:34:56+08:00) as naive UTC."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None)


def send_back(order, attempt, fen: int, kind: str, suffix: str, **extra) -> OnlineRefund:
    """An online refund of `fen` of a paid attempt, sent through WeChat's refund API after
    the commit. Its out_refund_no is the attempt's out_trade_no and `suffix`, derived from
    what it refunds, so a resend can never refund twice."""
    row = OnlineRefund(kind=kind, order_id=order.id, attempt=attempt, amount_fen=fen,
                       out_refund_no=f"{attempt.out_trade_no}-{suffix}", **extra)
    db.session.add(row)
    db.session.flush()
    enqueue(SEND_REFUND, row.id)
    return row


# ---- decide_refund ----------------------------------------------------------------------

def paid_attempts(order) -> list[PayAttempt]:
    """The order's attempts that became its payments (automatic refunds excluded)."""
    return list(db.session.scalars(select(PayAttempt).where(
        PayAttempt.order_id == order.id, PayAttempt.payment_id.isnot(None))
        .order_by(PayAttempt.id)))


def online_refund_ok(ctx):
    """After refund_decision_ok: an approved refund of an order paid with WeChat Pay goes
    back through it, never more than was paid that way less what went back already. An
    order paid only online may not refund more; with other payments too, the rest is
    theirs to settle."""
    if not ctx.checked.get("approve"):
        return
    fen = gateway.to_fen(ctx.checked["refund_amount"])
    attempts = paid_attempts(ctx.order)
    if not attempts or fen <= 0:
        return
    available = sum(rules.refundable_fen(a) for a in attempts)
    only_online = all(p.method == Pay.ONLINE for p in ctx.order.payments)
    if fen > available and only_online:
        raise ValidationError(
            _l("The refund cannot be more than %(amount)s: what was paid with WeChat Pay "
               "less what went back through it already.",
               amount=f"¥{gateway.from_fen(available)}"), "amount")
    # Never more than the order owes back once this refund is approved: money paid back
    # by hand (payments/paybacks.py) is not sent again.
    owed = gateway.to_fen(paybacks.owed_back(ctx.order, approving=ctx.checked["refund_amount"]))
    ctx.checked["online_refund"] = rules.refund_plan(attempts, min(fen, available, owed))


def start_online_refund(ctx):
    """After decide_refund approved: one online refund per paid attempt it draws on, its
    out_refund_no derived from the attempt's out_trade_no and the Refund's id (a retry
    sends the same number and WeChat refunds once); the API call after the commit."""
    if ctx.outcome != RefundStatus.APPROVED:
        return
    refund = ctx.checked["refund"]
    sent = 0
    for attempt, fen in ctx.checked.get("online_refund") or []:
        send_back(ctx.order, attempt, fen, RefundKind.APPROVED, f"R{refund.id}",
                  refund_id=refund.id)
        sent += fen
    if sent:
        ctx.event_data["wechat_refund"] = str(gateway.from_fen(sent))


# ---- refund_paid_back -------------------------------------------------------------------

def online_payback_ok(ctx):
    """The online refund is this order's, an approved one, paid out by WeChat and not
    recorded yet (read again under the order's lock: a notification and the periodic
    query at once record it once)."""
    row = db.session.get(OnlineRefund, ids.parse_id(ctx.data["online_refund_id"]),
                         populate_existing=True, with_for_update=True)
    if row is None or row.order_id != ctx.order.id or row.kind not in RefundKind.ON_THE_ORDER \
            or row.status != RefundState.SUCCESS:
        raise ValidationError(_l("This refund has not been paid back."), "online_refund_id")
    if row.payment_id is not None:
        raise rules.AlreadyRecorded(_l("This refund is recorded already."), "online_refund_id")
    ctx.checked["payback"] = row


def record_payback(ctx):
    """The money went back to the payer: the order's payments are less by that much (a
    Payment of minus the amount, so the account shows it paid out: ledger.post_order)."""
    row = ctx.checked["payback"]
    amount = gateway.from_fen(row.amount_fen)
    payment = Payment(order=ctx.order, amount=-amount, method=Pay.ONLINE,
                      note=row.wechat_refund_id or row.out_refund_no)
    db.session.add(payment)
    db.session.flush()
    row.payment_id = payment.id
    ctx.event_data["paid_back"] = str(amount)
    paybacks.settle_payment_status(ctx.order)
    if paybacks.owed_back(ctx.order) <= 0:  # an earlier refund WeChat could not pay is done
        online_refunds.settle_when_nothing_owed(ctx.order, None, row.out_refund_no)


# ---- close / cancel -------------------------------------------------------------------

def close_wechat_prepay(ctx):
    """An order that is now closed can no longer be paid: each prepay still payable is
    closed at WeChat after the commit (the periodic task retries those left `closing`).
    What was paid on it with WeChat Pay goes back to the payer, through the refund API
    after the commit (a reopened order closed again sends only what is left)."""
    if ctx.order.state != State.CLOSED:
        return
    for attempt in db.session.scalars(select(PayAttempt).where(
            PayAttempt.order_id == ctx.order.id,
            PayAttempt.status.in_([AttemptStatus.NEW, AttemptStatus.OPEN]))):
        attempt.status = AttemptStatus.CLOSING
        enqueue(CLOSE_ATTEMPT, attempt.id)
    back = 0
    owed = gateway.to_fen(paybacks.owed_back(ctx.order))  # less what went back by hand
    for attempt in paid_attempts(ctx.order):
        fen = min(rules.refundable_fen(attempt), owed - back)
        if fen <= 0:
            continue
        closed_before = sum(1 for r in attempt.refunds if r.kind == RefundKind.ORDER_CLOSED)
        send_back(ctx.order, attempt, fen, RefundKind.ORDER_CLOSED, f"C{closed_before + 1}",
                  reason=AutoReason.CLOSED_AFTER_PAYMENT)
        back += fen
    if back:
        ctx.event_data["wechat_refund"] = str(gateway.from_fen(back))


GUARDS.update({"online_payment_ok": online_payment_ok, "online_refund_ok": online_refund_ok,
               "online_payback_ok": online_payback_ok})
EFFECTS.update({"record_online_payment": record_online_payment, "record_payback": record_payback,
                "start_online_refund": start_online_refund,
                "close_wechat_prepay": close_wechat_prepay})
