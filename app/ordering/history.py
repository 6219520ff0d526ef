"""An order's history as each audience reads it: the one place that words it.

The customer sees every entry meant for them in their own words (the state labels of
their order page: 已收货, not the staff's 已送达) with what changed: quantities, removed
and out-of-stock lines, gifts, prices with their reason, delivery and payment changes,
the driver, lines refused at the door, payments and refund decisions. Staff see every
entry, with the move between their state labels and who acted in which role.
"""

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.ordering.states import (
    CUSTOMER_LABELS,
    DELIVERY_LABELS,
    PAYBACK_METHOD_LABELS,
    PAYMENT_LABELS,
    SHIP_METHOD_LABELS,
    STAFF_LABELS,
)
from app.ordering.workflow import TABLE

CUSTOMER, STAFF = "customer", "staff"

# The acting roles of the workflow table (workflow.CUSTOMER, SALES, ...), as people read them.
ROLE_LABELS = {"customer": _l("Customer"), "salesman": _l("Salesman"),
               "driver": _l("Driver"), "cs": _l("Customer service"), "system": _l("System")}
# What the customer reads for an action that does not move the order.
CUSTOMER_ACTION_LABELS = {
    "submit": _l("Order submitted"),
    "edit": _l("Your order was changed"),
    "change_driver": _l("Your driver changed"),
    "mark_paid": _l("Payment received"),
    "request_refund": _l("Refund requested"),
    "decide_refund": _l("Refund decided"),
    "submit_voucher": _l("Transfer voucher uploaded"),
    "confirm_voucher": _l("Payment received"),
    "reject_voucher": _l("Transfer voucher not accepted"),
    "pay_online": _l("Paid with WeChat Pay"),
    "refund_paid_back": _l("Refund paid back through WeChat Pay"),
    "pay_back_by_hand": _l("Money paid back to you"),
}


@dataclass
class Entry:
    event: object
    title: str
    details: list[str] = field(default_factory=list)
    who: str = ""
    role: str = ""
    moved: tuple[str, str] | None = None  # (from, to) in the staff's words
    remark: str | None = None

    @property
    def at(self) -> datetime:
        return self.event.created_at


def history(order, audience: str) -> list[Entry]:
    """Entries oldest first; the customer's only those meant for them."""
    entries = []
    for event in order.events:
        if audience == CUSTOMER and not event.customer_visible:
            continue
        action = TABLE.get(event.action)
        who, role = _actor(event)
        moved = event.from_state != event.to_state and event.from_state is not None
        if audience == CUSTOMER:
            title = CUSTOMER_ACTION_LABELS.get(event.action) if not moved else None
            title = title or CUSTOMER_LABELS.get(event.to_state) or \
                (action.label if action else event.action)
        else:
            title = action.label if action else event.action
        entries.append(Entry(
            event=event, title=str(title), details=details(event, audience), who=who,
            role=role,
            moved=(str(STAFF_LABELS.get(event.from_state, event.from_state)),
                   str(STAFF_LABELS.get(event.to_state, event.to_state)))
            if moved and audience == STAFF else None,
            remark=None if (event.data or {}).get("ship") else event.remark))
    return entries


def _actor(event) -> tuple[str, str]:
    """(name, role label) of who acted; the system has no name."""
    return event.actor_name or "", str(ROLE_LABELS.get(event.actor_role, event.actor_role or ""))


def details(event, audience: str) -> list[str]:
    """What an entry changed or recorded, one short line each."""
    data = event.data or {}
    lines = []
    if data.get("op"):
        lines.append(_edit_detail(data))
    if data.get("driver"):
        driver = data["driver"]
        lines.append(_("Driver: %(driver)s", driver=" · ".join(
            str(p) for p in (driver.get("name"), driver.get("plate")) if p)))
    if data.get("ship"):
        ship = data["ship"]
        lines.append(_("%(method)s: %(note)s", method=SHIP_METHOD_LABELS.get(
            ship.get("method"), ship.get("method")), note=ship.get("note") or ""))
    for item in data.get("refused") or []:
        name, unit = _line_of(event, item)
        lines.append(_("%(line)s: %(quantity)s refused at the door", line=name,
                       quantity=f"{item.get('quantity')} {unit}".strip())
                     + (f" ({item['reason']})" if item.get("reason") else ""))
    if data.get("cash_collected"):
        lines.append(_("Cash collected ¥%(amount)s", amount=data["cash_collected"]))
    if data.get("amount") and event.action in ("mark_paid", "pay_online"):
        lines.append(_("Amount ¥%(amount)s", amount=data["amount"]))
    if data.get("voucher", {}).get("amount"):
        lines.append(_("Amount ¥%(amount)s", amount=data["voucher"]["amount"]))
    if data.get("refunded_automatically"):
        lines.append(_("The order was closed or already paid: this payment goes back to the "
                       "payer automatically."))
    if data.get("paid_back"):
        lines.append(_("Amount ¥%(amount)s", amount=data["paid_back"]))
    if data.get("payback_method") in PAYBACK_METHOD_LABELS:
        lines.append(str(PAYBACK_METHOD_LABELS[data["payback_method"]]))
    if data.get("wechat_refund"):
        lines.append(_("¥%(amount)s goes back through WeChat Pay", amount=data["wechat_refund"]))
    if data.get("lines") and event.action == "request_refund":
        lines.append(ngettext("%(num)d line to return", "%(num)d lines to return",
                              len(data["lines"])))
    if data.get("refund"):
        refund = data["refund"]
        lines.append(_("Refund approved: ¥%(amount)s", amount=refund.get("amount"))
                     if refund.get("approved") else _("Refund rejected"))
    if data.get("override") and audience == STAFF:
        lines.append(_("Set to “%(state)s”",
                       state=STAFF_LABELS.get(data["override"], data["override"])))
    return lines


def _line_of(event, item) -> tuple[str, str]:
    """(product name, base unit) of the line an entry names."""
    line = next((ln for ln in event.order.lines if ln.id == item.get("line_id")), None)
    return (line.product_name, line.base_unit) if line is not None else \
        (f"#{item.get('line_id')}", "")


def _edit_detail(data) -> str:
    op, line = data.get("op"), data.get("line", "")
    before, after = data.get("before"), data.get("after")
    if op == "set_quantity":
        unit = data.get("unit", "")
        return _("%(line)s: quantity %(before)s → %(after)s", line=line,
                 before=f"{before} {unit}".strip(), after=f"{after} {unit}".strip())
    if op == "remove_line":
        return _("%(line)s removed", line=line)
    if op == "out_of_stock":
        return _("%(line)s marked out of stock", line=line)
    if op == "add_gift":
        return _("Gift added: %(line)s × %(n)s", line=line, n=data.get("quantity"))
    if op == "set_price":
        return _("%(line)s: price ¥%(before)s → ¥%(after)s", line=line, before=before,
                 after=after)
    if op == "set_delivery":
        return _("Delivery: %(before)s → %(after)s", before=DELIVERY_LABELS.get(before, before),
                 after=DELIVERY_LABELS.get(after, after))
    if op == "set_payment":
        return _("Payment: %(before)s → %(after)s", before=PAYMENT_LABELS.get(before, before),
                 after=PAYMENT_LABELS.get(after, after))
    return str(op)
