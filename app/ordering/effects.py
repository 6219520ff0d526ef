"""What the workflow's actions do, each a named function the table lists (in the spirit of
django-oscar's EventHandler beside its pipeline). An effect runs after every guard of its
action passed and the state moved, inside the action's one transaction; it uses what the
guards checked (`ctx.checked`) and records what the history shows (`ctx.event_data`).
"""

from app.extensions import db
from app.ordering import edits, refunds
from app.ordering.guards import clean
from app.ordering.lines import held_quantity, recompute_totals, return_stock
from app.ordering.models import Payment, Refund
from app.ordering.states import Pay, PaymentStatus, RefundStatus, State
from app.platform.time import utcnow


def set_driver(ctx):
    driver = ctx.checked["driver"]
    ctx.order.driver = driver
    ctx.event_data["driver"] = {"id": driver.id, "name": driver.name, "plate": driver.plate}


def set_shipping(ctx):
    method, note = ctx.checked["ship"]
    ctx.order.ship_method, ctx.order.ship_note = method, note
    ctx.remark = note
    ctx.event_data["ship"] = {"method": method, "note": note}


def record_door(ctx):
    """Lines refused or short at the door go back to stock and out of the totals; cash
    collected on cash on delivery is a payment (the order is paid when it covers it)."""
    order = ctx.order
    refused = []
    for line, qty, reason in ctx.checked.get("refused", []):
        line.refused_qty = (line.refused_qty or 0) + qty
        line.refused_reason = reason
        return_stock(line.spec_id, qty)
        refused.append({"line_id": line.id, "quantity": qty, "reason": reason})
    if refused:
        recompute_totals(order)
        ctx.event_data["refused"] = refused
    amount = ctx.checked.get("cash")
    if amount is not None:
        order.cash_collected = amount
        ctx.event_data["cash_collected"] = str(amount)
        if amount >= order.total:
            order.payment_status = PaymentStatus.PAID
        # No note: the method (cash on delivery) and the driver say what it was.
        db.session.add(Payment(order=order, amount=amount, method=Pay.COD,
                               recorded_by_id=ctx.actor.id))


def release_stock(ctx):
    """A closed order gives back what it still held (cancel, close, an override to closed)."""
    if ctx.order.state != State.CLOSED:
        return
    for line in ctx.order.lines:
        return_stock(line.spec_id, held_quantity(line))


def record_payment(ctx):
    order, amount, note = ctx.order, ctx.checked["amount"], clean(ctx.data["note"])
    order.payment_status = PaymentStatus.PAID
    db.session.add(Payment(order=order, amount=amount, method=order.payment_method,
                           note=note[:255] if note else None, recorded_by_id=ctx.actor.id))
    ctx.remark = note
    ctx.event_data["amount"] = str(amount)


def add_refund_request(ctx):
    order = ctx.order
    wanted = ctx.checked["refund_lines"]
    db.session.add(Refund(order=order, reason=ctx.remark, lines=wanted,
                          photos=list(ctx.data.get("photos") or []),
                          requested_by_id=ctx.actor.id))
    order.refund_status = RefundStatus.REQUESTED
    ctx.event_data["lines"] = wanted


def decide_refund(ctx):
    order, refund = ctx.order, ctx.checked["refund"]
    refund.decided_by_id, refund.decided_at = ctx.actor.id, utcnow()
    refund.decision_note = ctx.remark
    if ctx.checked["approve"]:
        refund.amount = ctx.checked["refund_amount"]
        refund.restock = str(ctx.data.get("restock", "")).lower() in ("1", "true", "yes", "on")
        if refund.restock:
            lines = {line.id: line for line in order.lines}
            for item in refund.lines:
                line = lines.get(item["line_id"])
                if line is not None:
                    return_stock(line.spec_id, item["quantity"])
        refund.status = order.refund_status = RefundStatus.APPROVED
        if order.payment_status == PaymentStatus.PAID and \
                refunds.refundable_amount(order) <= 0:
            order.payment_status = PaymentStatus.REFUNDED  # every yuan of it went back
    else:
        refund.status = order.refund_status = RefundStatus.REJECTED
    ctx.outcome = refund.status  # which of the action's messages go out
    ctx.event_data["refund"] = {"approved": ctx.checked["approve"],
                                "amount": str(refund.amount or "")}


EFFECTS = {
    "set_driver": set_driver, "set_shipping": set_shipping, "record_door": record_door,
    "release_stock": release_stock, "record_payment": record_payment,
    "add_refund_request": add_refund_request, "decide_refund": decide_refund,
    "apply_edit": edits.apply_edit,
}
