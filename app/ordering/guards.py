"""The workflow's guards: each checks one condition of an action and raises a translated
ValidationError when it does not hold. A guard changes nothing; what it has checked and
parsed (a driver, an amount, refused quantities) it leaves in `ctx.checked` for the
action's effects (ordering/effects.py) to use."""

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from app.catalog.pricing import money
from app.extensions import db
from app.members.models import StaffKind, StaffProfile
from app.ordering import edits, refunds
from app.ordering.lines import held_quantity
from app.ordering.states import (
    OVERRIDE_TARGETS,
    Delivery,
    Pay,
    PaymentStatus,
    ShipMethod,
    State,
)
from app.platform import ids
from app.platform.errors import ValidationError


def parse_amount(value, field_name) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount > Decimal("99999999"):
        raise ValidationError(_l("Please enter a valid amount."), field_name)
    return money(amount)


def _whole(value) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isascii() and text.lstrip("-").isdigit() and len(text) <= 9 \
        else None


def clean(text) -> str | None:
    text = (str(text) if text is not None else "").strip()
    return text[:500] or None


def paid_first(ctx):
    order = ctx.order
    if order.pay_before_shipping and order.payment_status != PaymentStatus.PAID:
        raise ValidationError(_l("This order must be paid before it ships."), "payment")


def driver_ok(ctx):
    driver_id = ids.parse_id(ctx.data["driver_id"])
    driver = db.session.get(StaffProfile, driver_id) if driver_id else None
    if driver is None or driver.kind != StaffKind.DRIVER or not driver.active or \
            ctx.order.region_id not in {r.id for r in driver.regions}:
        raise ValidationError(_l("Please choose an active driver of the order's region."),
                              "driver_id")
    if ctx.order.driver_id == driver.id and ctx.action.name == "change_driver":
        raise ValidationError(_l("The order already has this driver."), "driver_id")
    ctx.checked["driver"] = driver


def ship_ok(ctx):
    method = ctx.data["ship_method"]
    if method not in ShipMethod.ALL:
        raise ValidationError(_l("Please choose how it is shipped."), "ship_method")
    ctx.checked["ship"] = (method, clean(ctx.data["note"])[:255])


def is_pickup(ctx):
    if ctx.order.delivery_method != Delivery.PICKUP:
        raise ValidationError(_l("Only self-pickup orders can be made ready for pickup."),
                              "delivery_method")


def has_photo(ctx):
    if not ctx.order.photos:
        raise ValidationError(_l("Please upload at least one photo of the signed delivery "
                                 "note first."), "photos")


def door_ok(ctx):
    """Lines refused or short at the door, and cash collected on cash on delivery."""
    order = ctx.order
    lines = {line.id: line for line in order.lines}
    refused, named = [], set()
    for item in ctx.data.get("refused") or []:
        line = lines.get(ids.parse_id(item.get("line_id")))
        qty = _whole(item.get("quantity"))
        if line is None or qty is None or qty < 0 or qty > held_quantity(line):
            raise ValidationError(_l("A refused quantity is not possible for that line."),
                                  "refused")
        if line.id in named:  # twice the same line would refuse more than it holds
            raise ValidationError(_l("Each line may be named only once among the refused "
                                     "lines."), "refused")
        named.add(line.id)
        if qty:
            refused.append((line, qty, clean(item.get("reason"))))
    ctx.checked["refused"] = refused
    cash = ctx.data.get("cash_collected")
    if cash not in (None, ""):
        if order.payment_method != Pay.COD:
            raise ValidationError(_l("Cash is recorded only for cash-on-delivery orders."),
                                  "cash_collected")
        ctx.checked["cash"] = parse_amount(cash, "cash_collected")


def override_ok(ctx):
    target = ctx.data["target"]
    if target not in OVERRIDE_TARGETS:
        raise ValidationError(_l("Customer service may set an order to closed, out for "
                                 "delivery or received."), "target")
    if target == ctx.order.state:
        raise ValidationError(_l("The order already has this status."), "target")
    ctx.checked["from_state"] = ctx.order.state  # an order opened again may owe again


def unpaid(ctx):
    if ctx.order.state == State.CLOSED:
        raise ValidationError(_l("This order is closed."), "state")
    if ctx.order.payment_status != PaymentStatus.UNPAID:
        raise ValidationError(_l("This order is already paid."), "payment")
    # By default what is still due: a part paid already (a voucher) or a refund approved
    # before payment is not paid twice.
    given = ctx.data.get("amount")
    amount = parse_amount(given or refunds.still_due(ctx.order), "amount")
    if amount <= 0:
        raise ValidationError(_l("Please enter a valid amount.") if given
                              else _l("Nothing is due on this order."), "amount")
    ctx.checked["amount"] = amount


def has_lines(ctx):
    if not [line for line in ctx.order.lines if not line.out_of_stock]:
        raise ValidationError(_l("Every line is out of stock: close the order instead."),
                              "lines")


def refund_request_ok(ctx):
    order = ctx.order
    if refunds.waiting(order) is not None:
        raise ValidationError(_l("A refund request for this order is already waiting."),
                              "refund")
    lines = {line.id: line for line in order.lines}
    asked: dict[int, int] = {}  # a line named twice counts once, with both quantities
    for item in ctx.data["lines"]:
        line = lines.get(ids.parse_id(item.get("line_id")))
        qty = _whole(item.get("quantity"))
        if line is None or qty is None or qty < 0:
            raise ValidationError(_l("You cannot return more than was delivered."), "lines")
        asked[line.id] = asked.get(line.id, 0) + qty
    wanted = []
    for line_id, qty in asked.items():
        if qty > refunds.returnable_quantity(order, lines[line_id]):
            raise ValidationError(_l("You cannot return more than was delivered."), "lines")
        if qty:
            wanted.append({"line_id": line_id, "quantity": qty})
    if not wanted:
        raise ValidationError(_l("Please choose what to return and how many."), "lines")
    ctx.checked["refund_lines"] = wanted


def refund_decision_ok(ctx):
    order = ctx.order
    refund = refunds.waiting(order)
    if refund is None:
        raise ValidationError(_l("There is no refund request waiting."), "refund")
    approve = str(ctx.data["approve"]).lower() in ("1", "true", "yes", "on")
    if approve:
        amount = parse_amount(ctx.data.get("amount"), "amount")
        if amount > refunds.refundable_amount(order):
            raise ValidationError(
                _l("The refund cannot be more than %(amount)s: the order total less the "
                   "refunds already approved.", amount=f"¥{refunds.refundable_amount(order)}"),
                "amount")
        ctx.checked["refund_amount"] = amount
    elif not ctx.remark:
        raise ValidationError(_l("Please give a reason."), "reason")
    ctx.checked["refund"] = refund
    ctx.checked["approve"] = approve


def edit_op(ctx):
    """A known change; its own inputs are checked as it is made (ordering/edits.py: a
    quantity against the stock is checked by the conditional update that takes it)."""
    if ctx.data.get("op") not in edits.OPS:
        raise ValidationError(_l("Unknown change."), "op")


GUARDS = {
    "paid_first": paid_first, "driver_ok": driver_ok, "ship_ok": ship_ok,
    "is_pickup": is_pickup, "has_photo": has_photo, "door_ok": door_ok,
    "override_ok": override_ok, "unpaid": unpaid, "has_lines": has_lines,
    "refund_request_ok": refund_request_ok, "refund_decision_ok": refund_decision_ok,
    "edit_op": edit_op,
}
