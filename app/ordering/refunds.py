"""Refund rules: how much of an order may still be returned or paid back.

Approved refunds add up: together they never pay back more than the order's total, and
no line is returned more often than it was delivered. Used by the workflow's guards and
by every screen that suggests an amount (one place for the arithmetic).
"""

from decimal import Decimal

from app.catalog.pricing import money
from app.ordering.lines import held_quantity
from app.ordering.states import RefundStatus, State


def waiting(order):
    """The refund request of this order that waits for a decision, or None."""
    return next((r for r in order.refunds if r.status == RefundStatus.REQUESTED), None)


def latest_decided(order):
    """The refund decided last (the one a decision message is about)."""
    decided = [r for r in order.refunds if r.status != RefundStatus.REQUESTED]
    return max(decided, key=lambda r: (r.decided_at or r.created_at, r.id)) if decided else None


def refunded_amount(order) -> Decimal:
    return money(sum((Decimal(r.amount or 0) for r in order.refunds
                      if r.status == RefundStatus.APPROVED), Decimal("0")))


def refundable_amount(order) -> Decimal:
    """What may still be paid back: the total less the refunds already approved."""
    return max(money(Decimal(order.total or 0)) - refunded_amount(order), Decimal("0.00"))


def net_paid(order) -> Decimal:
    """What was paid on the order, less what went back (a payback is a negative payment)."""
    return sum((Decimal(p.amount) for p in order.payments), Decimal("0"))


def cost_to_customer(order, approving: Decimal = Decimal("0")) -> Decimal:
    """What the order costs its customer now: nothing once closed; otherwise its total
    less the approved refunds (and less `approving`, a refund being approved now)."""
    if order.state == State.CLOSED:
        return Decimal("0.00")
    return max(money(Decimal(order.total or 0)) - refunded_amount(order) - approving,
               Decimal("0.00"))


def still_due(order) -> Decimal:
    """What the customer still has to pay: what the order costs less what was paid."""
    return max(money(cost_to_customer(order) - net_paid(order)), Decimal("0.00"))


def returned_quantity(order, line_id: int) -> int:
    return sum(int(item["quantity"]) for r in order.refunds if r.status == RefundStatus.APPROVED
               for item in r.lines if item.get("line_id") == line_id)


def returnable_quantity(order, line) -> int:
    """Base units of a line that were delivered and not yet returned by a refund."""
    return max(held_quantity(line) - returned_quantity(order, line.id), 0)


def suggested_amount(order, refund) -> Decimal:
    """The value of the lines asked back, never more than may still be paid back."""
    lines = {line.id: line for line in order.lines}
    value = sum((Decimal(lines[item["line_id"]].unit_price) * int(item["quantity"])
                 for item in refund.lines if item.get("line_id") in lines), Decimal("0"))
    return min(money(value), refundable_amount(order))
