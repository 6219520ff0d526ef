"""Changes a salesman or customer service makes to a pending order (the `edit` action).

Called only from workflow.apply, inside its transaction: quantities follow the MOQ and
stock rules, stock moves atomically, totals and freight are recomputed, and the change
is described in the event the customer sees.
"""

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from app.catalog.models import Spec
from app.catalog.pricing import money
from app.extensions import db
from app.ordering import cart, freight, lines, options
from app.ordering.lines import held_quantity, recompute_totals, return_stock, take_stock
from app.ordering.models import OrderLine
from app.ordering.states import Delivery, Pay
from app.platform import ids
from app.platform.errors import ValidationError


def _line(ctx):
    line_id = ids.parse_id(ctx.data.get("line_id"))
    line = next((ln for ln in ctx.order.lines if ln.id == line_id), None)
    if line is None:
        raise ValidationError(_l("That line is not in this order."), "line_id")
    return line


def _quantity_for(spec: Spec | None, line: OrderLine, raw) -> int:
    quantity = cart.parse_quantity(raw)
    step = line.inner_qty
    if quantity <= 0 or quantity % step:
        raise ValidationError(_l("The quantity must be a positive multiple of %(n)d %(unit)s.",
                                 n=step, unit=line.base_unit), "quantity")
    return quantity


def _set_quantity(ctx):
    line = _line(ctx)
    quantity = _quantity_for(line.spec, line, ctx.data.get("quantity"))
    before = held_quantity(line)
    delta = quantity - line.quantity
    if delta > 0 and not line.out_of_stock and not take_stock(line.spec_id, delta):
        raise ValidationError(_l("Not enough stock for %(name)s.", name=line.product_name),
                              "quantity")
    if delta < 0 and not line.out_of_stock:
        return_stock(line.spec_id, -delta)
    line.quantity = quantity
    ctx.event_data.update(op="set_quantity", line=line.product_name, before=before,
                          after=quantity, unit=line.base_unit)


def _remove_line(ctx):
    line = _line(ctx)
    if len([ln for ln in ctx.order.lines if not ln.is_gift]) <= 1 and not line.is_gift:
        raise ValidationError(_l("An order needs at least one line: close it instead."),
                              "line_id")
    return_stock(line.spec_id, held_quantity(line))
    ctx.order.lines.remove(line)
    ctx.event_data.update(op="remove_line", line=line.product_name, quantity=line.quantity)


def _out_of_stock(ctx):
    line = _line(ctx)
    if line.out_of_stock:
        raise ValidationError(_l("That line is already marked out of stock."), "line_id")
    return_stock(line.spec_id, held_quantity(line))
    line.out_of_stock = True
    ctx.event_data.update(op="out_of_stock", line=line.product_name)


def _add_gift(ctx):
    spec_id = ids.parse_id(ctx.data.get("spec_id"))
    spec = db.session.get(Spec, spec_id) if spec_id else None
    if spec is None:
        raise ValidationError(_l("That spec does not exist."), "spec_id")
    quantity = cart.check_quantity(spec, cart.parse_quantity(ctx.data.get("quantity")))
    if not take_stock(spec.id, quantity):
        raise ValidationError(_l("Not enough stock for %(name)s.", name=spec.product.name),
                              "quantity")
    line = lines.line_for(spec, quantity, Decimal("0"))
    line.is_gift = True
    ctx.order.lines.append(line)
    ctx.event_data.update(op="add_gift", line=spec.product.name, quantity=quantity)


def _set_price(ctx):
    line = _line(ctx)
    reason = (ctx.data.get("reason") or "").strip()
    if not reason:
        raise ValidationError(_l("Please give the reason for the new price."), "reason")
    try:
        price = Decimal(str(ctx.data.get("price")).strip())
    except (InvalidOperation, TypeError):
        price = None
    if price is None or not price.is_finite() or price < 0 or price > Decimal("9999999"):
        raise ValidationError(_l("Please enter a valid price."), "price")
    before = line.unit_price
    line.unit_price = money(price)
    line.price_note = reason[:255]
    ctx.remark = reason[:500]
    ctx.event_data.update(op="set_price", line=line.product_name, before=str(before),
                          after=str(line.unit_price))


def _set_delivery(ctx):
    method = ctx.data.get("method")
    if method not in Delivery.ALL:
        raise ValidationError(_l("Please choose a delivery option."), "method")
    options.check_delivery_payment(method, ctx.order.payment_method, ctx.order.member)
    before = ctx.order.delivery_method
    ctx.order.delivery_method = method
    ctx.event_data.update(op="set_delivery", before=before, after=method)


def _set_payment(ctx):
    method = ctx.data.get("method")
    if method not in Pay.ALL:
        raise ValidationError(_l("Please choose a payment method."), "method")
    paid_first = options.check_delivery_payment(ctx.order.delivery_method, method,
                                                       ctx.order.member)
    before = ctx.order.payment_method
    ctx.order.payment_method = method
    ctx.order.pay_before_shipping = paid_first
    ctx.event_data.update(op="set_payment", before=before, after=method)


OPS = {"set_quantity": _set_quantity, "remove_line": _remove_line,
       "out_of_stock": _out_of_stock, "add_gift": _add_gift, "set_price": _set_price,
       "set_delivery": _set_delivery, "set_payment": _set_payment}


def apply_edit(ctx) -> None:
    op = OPS.get(ctx.data.get("op"))
    if op is None:
        raise ValidationError(_l("Unknown change."), "op")
    op(ctx)
    db.session.flush()
    recompute_totals(ctx.order)
    ctx.order.freight = freight.freight_for(ctx.order)
    recompute_totals(ctx.order)
