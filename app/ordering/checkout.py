"""Cart -> order: the cart as it stands now, addresses, and the one-transaction submit.

Submitting twice with the same checkout form (double tap, a retry after a timeout, two
tabs) creates one order: each form carries an idempotency key, unique per customer.
Stock is taken with conditional UPDATEs, so concurrent checkouts never oversell.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.catalog import pricing
from app.catalog.models import Product, Spec
from app.catalog.pricing import money
from app.extensions import db
from app.members.models import Member
from app.ordering import cart, freight, lines, options, workflow
from app.ordering.lines import recompute_totals, take_stock
from app.ordering.models import Address, CartLine, Order, OrderLine
from app.ordering.states import Delivery, PaymentStatus, State
from app.platform import accounts, ids
from app.platform.errors import PermissionDenied, ValidationError
from app.platform.settings import get_settings
from app.platform.time import SHANGHAI
from app.platform.transactions import atomic

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass
class CartRow:
    line: CartLine
    spec: Spec
    unit_price: Decimal | None
    problems: list = field(default_factory=list)  # texts shown on the cart
    blocking: bool = False  # must be corrected before checkout

    @property
    def subtotal(self) -> Decimal | None:
        return money(self.unit_price * self.line.quantity) if self.unit_price is not None \
            else None


@dataclass
class CartView:
    rows: list[CartRow]

    @property
    def total(self) -> Decimal:
        return money(sum((r.subtotal or 0) for r in self.rows))

    @property
    def can_checkout(self) -> bool:
        return bool(self.rows) and not any(r.blocking for r in self.rows)


def cart_view(user, member: Member | None = None, lock: bool = False) -> CartView:
    """The cart with every change since adding shown (price, packing, stock, shelf).

    `lock` (checkout): the lines are locked until the order commits, so a phone of the
    same shop changing a line meanwhile waits and then finds it ordered (PostgreSQL)."""
    access = pricing.member_access(member) if member else pricing.price_access(user)
    query = (select(CartLine)
             .options(joinedload(CartLine.spec).joinedload(Spec.product),
                      joinedload(CartLine.spec).joinedload(Spec.pack_unit))
             .where(CartLine.user_id == user.id).order_by(CartLine.id))
    if lock:
        query = query.with_for_update(of=CartLine)
    lines = db.session.scalars(query).all()
    prices = pricing.unit_prices([ln.spec for ln in lines], access)
    rows = []
    for line in lines:
        spec = line.spec
        row = CartRow(line, spec, prices.get(spec.id))
        moq = cart.moq(spec)
        if not spec.active or not spec.product.on_shelf:
            row.problems.append(_l("No longer on sale: please remove it."))
            row.blocking = True
        if line.quantity % moq:
            row.problems.append(_l("The packing changed: it is now sold by %(n)d %(unit)s. "
                                   "Please correct the quantity.", n=moq,
                                   unit=spec.pack_unit.base_unit))
            row.blocking = True
        elif moq != line.moq_at_add:
            row.problems.append(_l("The packing changed since you added it."))
        if line.quantity > spec.stock:
            row.problems.append(_l("Only %(n)d %(unit)s in stock.", n=spec.stock,
                                   unit=spec.pack_unit.base_unit))
            row.blocking = True
        if row.unit_price is not None and line.unit_price_at_add is not None and \
                row.unit_price != line.unit_price_at_add:
            row.problems.append(_l("The price changed from ¥%(old)s to ¥%(new)s.",
                                   old=line.unit_price_at_add, new=row.unit_price))
        rows.append(row)
    return CartView(rows)


@atomic
def set_cart_quantity(user, line_id, raw) -> None:
    line = db.session.scalar(select(CartLine).where(CartLine.id == ids.parse_id(line_id),
                                                    CartLine.user_id == user.id))
    if line is None:
        raise ValidationError(_l("That line is not in your cart."), "line")
    quantity = cart.parse_quantity(raw)
    if quantity == 0:
        db.session.delete(line)
    else:
        cart.check_quantity(line.spec, quantity)
        line.quantity = quantity
        line.moq_at_add = cart.moq(line.spec)
        access = pricing.price_access(user)
        line.unit_price_at_add = pricing.unit_price(line.spec, access)
    try:
        db.session.commit()
    except StaleDataError:  # ordered or removed on another phone meanwhile
        db.session.rollback()
        raise ValidationError(_l("That line is not in your cart any more: it was ordered "
                                 "or removed on another device."), "line") from None


@atomic
def remove_cart_line(user, line_id) -> None:
    db.session.execute(delete(CartLine).where(CartLine.id == ids.parse_id(line_id),
                                              CartLine.user_id == user.id))
    db.session.commit()


# ---- addresses ----------------------------------------------------------------------

ADDRESS_FIELDS = {"province": 32, "city": 32, "district": 32, "street": 255, "contact": 64}


def addresses(user) -> list[Address]:
    return db.session.scalars(select(Address).where(Address.user_id == user.id)
                              .order_by(Address.is_default.desc(), Address.id.desc())).all()


def save_address(user, data: dict, make_default=False) -> Address:
    values = {}
    for key, size in ADDRESS_FIELDS.items():
        value = (data.get(key) or "").strip()
        if not value and key != "district":
            raise ValidationError(_l("Please fill in the whole address."), key)
        values[key] = value[:size] or None
    values["phone"] = accounts.normalize_mobile(data.get("phone"))
    address = Address(user_id=user.id, **values)
    if make_default or not addresses(user):
        for other in addresses(user):
            other.is_default = False
        address.is_default = True
    db.session.add(address)
    db.session.flush()
    return address


def default_address_values(member: Member) -> dict:
    """A first address from the profile: the region's city, and the profile's address
    (without a leading province or city it already names) as the street."""
    province = current_app.config["DEFAULT_PROVINCE"]  # editable on the form
    city = (member.region.name + "市") if member.region else ""
    street = member.address or ""
    for prefix in (province, city):
        if prefix and street.startswith(prefix):
            street = street[len(prefix):].lstrip()
    return {"province": province, "city": city, "district": "", "street": street,
            "contact": member.contact_name or "", "phone": member.phone or ""}


# ---- submit -------------------------------------------------------------------------

@atomic
def submit(customer, actor, data: dict) -> Order:
    """Turn the customer's cart into one pending order. `actor` is the customer, or a
    salesman ordering on the customer's behalf."""
    key = str(data.get("idempotency_key") or "")
    if not KEY_RE.match(key):
        raise ValidationError(_l("The checkout form has expired. Please open it again."),
                              "idempotency_key")
    existing = _existing(customer, key)
    if existing is not None:
        return existing
    member = db.session.scalar(select(Member).where(Member.user_id == customer.id))
    access = pricing.member_access(member) if member else pricing.NO_PRICES
    if not access.can_order:
        raise PermissionDenied(_l("Only approved members can order."))
    view = cart_view(customer, member, lock=True)
    # A twin of this form (a double tap) may have ordered these lines while we waited
    # for their lock: it is the same order.
    existing = _existing(customer, key)
    if existing is not None:
        return existing
    if not view.rows:
        raise ValidationError(_l("Your cart is empty."), "cart")
    if not view.can_checkout:
        raise ValidationError(_l("Please correct the lines marked in your cart first."),
                              "cart")
    delivery, payment = data.get("delivery"), data.get("payment")
    paid_first = options.check_delivery_payment(delivery, payment, member)
    order = Order(user_id=customer.id, member_id=member.id, region_id=member.region_id,
                  placed_by_id=actor.id, state=State.DRAFT, idempotency_key=key,
                  delivery_method=delivery, payment_method=payment,
                  pay_before_shipping=paid_first,
                  payment_status=PaymentStatus.UNPAID, order_no=f"TMP{key[:20]}",
                  remark=_text(data.get("remark"), 500),
                  invoice_title=_text(data.get("invoice_title"), 128),
                  tax_number=_text(data.get("tax_number"), 32))
    if delivery == Delivery.PICKUP:
        order.pickup_address = get_settings().pickup_address
    else:
        address = _address_for(customer, data)
        for name in ("province", "city", "district", "street", "contact", "phone"):
            setattr(order, name, getattr(address, name))
    for row in view.rows:
        order.lines.append(lines.line_for(row.spec, row.line.quantity,
                                                   row.unit_price))
    recompute_totals(order)
    order.freight = freight.freight(delivery, order.region_id, order.province,
                                           order.goods_total, order.total_weight_kg)
    recompute_totals(order)
    expected = str(data.get("expected_total") or "").strip()
    if expected and expected != str(order.total):
        raise ValidationError(_l("Prices or freight changed: the total is now ¥%(total)s. "
                                 "Please check and submit again.", total=order.total),
                              "expected_total")
    try:
        db.session.add(order)
        db.session.flush()  # the unique idempotency key stops a concurrent twin here
    except IntegrityError:
        db.session.rollback()
        existing = _existing(customer, key)
        if existing is not None:
            return existing
        raise
    for line in order.lines:
        if not take_stock(line.spec_id, line.quantity):
            db.session.rollback()
            raise ValidationError(_l("Sorry, %(name)s has just sold out. Please check your "
                                     "cart.", name=line.product_name), "stock")
    # Date-based and unique by construction: the Shanghai date and the row id.
    local = order.created_at.replace(tzinfo=UTC).astimezone(SHANGHAI)
    order.order_no = f"{local:%Y%m%d}{order.id:06d}"
    # Only the lines ordered: one another phone added meanwhile stays in the cart.
    db.session.execute(delete(CartLine).where(
        CartLine.id.in_([row.line.id for row in view.rows]))
        .execution_options(synchronize_session=False))
    return workflow.apply(order, "submit", actor)


def _existing(customer, key) -> Order | None:
    return db.session.scalar(select(Order).where(Order.user_id == customer.id,
                                                 Order.idempotency_key == key))


def _address_for(customer, data) -> Address:
    address_id = ids.parse_id(data.get("address_id"))
    if address_id:
        address = db.session.scalar(select(Address).where(Address.id == address_id,
                                                          Address.user_id == customer.id))
        if address is None:
            raise ValidationError(_l("Please choose an address."), "address_id")
        return address
    return save_address(customer, data)


def _text(value, size) -> str | None:
    return (str(value or "").strip()[:size]) or None


# ---- repeat orders --------------------------------------------------------------------

@atomic
def reorder(user, order: Order) -> int:
    """"再来一单": put the order's lines back in the cart (changes show on the cart)."""
    quantities = {}
    for line in order.lines:
        if line.spec_id and not line.is_gift:
            quantities[line.spec_id] = quantities.get(line.spec_id, 0) + line.quantity
    if not quantities:
        raise ValidationError(_l("Nothing from this order can be ordered again."), "order")
    specs = {s.id: s for s in db.session.scalars(select(Spec).options(
        selectinload(Spec.product)).where(Spec.id.in_(quantities)))}
    usable = {sid: q for sid, q in quantities.items()
              if sid in specs and specs[sid].active and specs[sid].product.on_shelf}
    if not usable:
        raise ValidationError(_l("None of these products is on sale any more."), "order")
    existing = {ln.spec_id: ln for ln in db.session.scalars(
        select(CartLine).where(CartLine.user_id == user.id))}
    access = pricing.price_access(user)
    prices = pricing.unit_prices(list(specs.values()), access)
    for spec_id, quantity in usable.items():
        line = existing.get(spec_id)
        if line is None:
            line = CartLine(user_id=user.id, spec_id=spec_id, quantity=0)
            db.session.add(line)
        # Kept as ordered: a changed packing or stock is flagged on the cart, not fixed here.
        line.quantity += quantity
        line.moq_at_add = cart.moq(specs[spec_id])
        line.unit_price_at_add = prices.get(spec_id)
    db.session.commit()
    return len(usable)


def frequent_specs(user, limit=12) -> list[tuple[Product, Spec, int]]:
    """常购清单: the specs this member orders most, with how many times."""

    rows = db.session.execute(
        select(OrderLine.spec_id, func.count(OrderLine.id).label("n"))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.user_id == user.id, Order.state != State.CLOSED,
               OrderLine.is_gift.is_(False), OrderLine.spec_id.isnot(None))
        .group_by(OrderLine.spec_id).order_by(func.count(OrderLine.id).desc()).limit(limit)
    ).all()
    specs = {s.id: s for s in db.session.scalars(
        select(Spec).options(selectinload(Spec.product))
        .where(Spec.id.in_([r[0] for r in rows])))}
    return [(specs[sid].product, specs[sid], n) for sid, n in rows if sid in specs
            and specs[sid].active and specs[sid].product.on_shelf]


def frequent_products(user, limit=6) -> list[Product]:
    """The products of 常购清单, most ordered first, each once (代客下单's suggestions)."""
    seen = []
    for product, _spec, _n in frequent_specs(user):
        if product not in seen:
            seen.append(product)
    return seen[:limit]


@dataclass
class Quote:
    goods_total: Decimal
    freight: Decimal | None  # None: this delivery cannot reach the address
    total: Decimal | None
    weight_kg: Decimal
    error: object = None


def quote(customer, delivery: str | None, province: str | None) -> Quote:
    """What the checkout page shows before submitting; writes nothing."""
    member = db.session.scalar(select(Member).where(Member.user_id == customer.id))
    view = cart_view(customer, member)
    goods = money(sum((r.subtotal or 0) for r in view.rows))
    weight = sum((Decimal(r.spec.weight_kg or 0) * r.line.quantity for r in view.rows),
                 Decimal("0"))
    try:
        fee = freight.freight(delivery, member.region_id if member else None, province,
                                     goods, weight)
    except ValidationError as exc:
        return Quote(goods, None, None, weight, exc.message)
    return Quote(goods, fee, money(goods + fee), weight)


def form_state(customer, member, values: dict) -> dict:
    """What a checkout form shows for these submitted or default values: the delivery
    options, the chosen delivery and payment, the addresses, the new-address fields and
    the quote. Shared by the customer's checkout and the salesman's 代客下单."""
    offered = options.options_for(member)
    delivery = values.get("delivery") if values.get("delivery") in offered else \
        next(iter(offered), None)
    payments = offered.get(delivery, [])
    payment = values.get("payment") if values.get("payment") in payments else \
        (payments[0] if payments else None)
    saved = addresses(customer)
    address_id = values.get("address_id") or (str(saved[0].id) if saved else "")
    chosen = next((a for a in saved if str(a.id) == str(address_id)), None)
    new_address = values if not chosen else {}
    if not saved and not values.get("street"):
        new_address = default_address_values(member)
    province = chosen.province if chosen else new_address.get("province")
    return {"options": offered, "delivery": delivery, "payments": payments,
            "payment": payment, "addresses": saved, "chosen": chosen,
            "new_address": new_address, "quote": quote(customer, delivery, province)}
