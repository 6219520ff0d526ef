"""An order's lines and the stock: totals, what a line holds, stock taken and returned
atomically, the snapshot of a spec a new line carries."""

from decimal import Decimal

from sqlalchemy import update

from app.catalog.models import Spec
from app.catalog.pricing import money
from app.extensions import db
from app.ordering.models import Order, OrderLine


def recompute_totals(order: Order) -> None:
    goods = Decimal("0")
    weight = Decimal("0")
    for line in order.lines:
        delivered_qty = 0 if line.out_of_stock else line.quantity - (line.refused_qty or 0)
        line.amount = money(Decimal(line.unit_price) * delivered_qty)
        if not line.is_gift:
            goods += line.amount
        weight += Decimal(line.weight_kg or 0) * delivered_qty
    order.goods_total = money(goods)
    order.total_weight_kg = weight
    order.total = money(order.goods_total + Decimal(order.freight or 0))


def take_stock(spec_id: int, quantity: int) -> bool:
    """Take base units atomically (a conditional UPDATE): never below zero."""
    if quantity <= 0:
        return True
    result = db.session.execute(update(Spec).where(Spec.id == spec_id, Spec.stock >= quantity)
                                .values(stock=Spec.stock - quantity)
                                .execution_options(synchronize_session=False))
    return result.rowcount == 1


def return_stock(spec_id: int | None, quantity: int) -> None:
    if spec_id is None or quantity <= 0:
        return
    db.session.execute(update(Spec).where(Spec.id == spec_id)
                       .values(stock=Spec.stock + quantity)
                       .execution_options(synchronize_session=False))


def held_quantity(line) -> int:
    """Base units of a line that left (or will leave) the warehouse."""
    return 0 if line.out_of_stock else line.quantity - (line.refused_qty or 0)


def line_for(spec: Spec, quantity: int, unit_price: Decimal) -> OrderLine:
    """An order line carrying the name, packing and price of this moment."""
    unit = spec.pack_unit
    return OrderLine(spec_id=spec.id, product_name=spec.product.name, model=spec.model,
                     spec_text=spec.spec, base_unit=unit.base_unit, inner_unit=unit.inner_unit,
                     inner_qty=unit.inner_qty, outer_unit=unit.outer_unit,
                     outer_qty=unit.outer_qty, weight_kg=spec.weight_kg or 0,
                     unit_price=money(unit_price), quantity=quantity,
                     amount=money(Decimal(unit_price) * quantity))
