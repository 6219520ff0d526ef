"""Delivery, payment and freight rules, and the order-line snapshot of a spec."""

import math
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.catalog.models import Spec
from app.catalog.pricing import money
from app.extensions import db
from app.models import (
    DeliveryMethodSetting,
    FreightTemplate,
    OrderLine,
    PaymentMethodSetting,
    RegionDeliveryFee,
)
from app.platform.errors import ValidationError
from app.services.orders_common import DEFAULT_DELIVERY_PAYMENTS, DEFAULT_PAYMENTS, Delivery, Pay


def payment_settings() -> dict[str, PaymentMethodSetting]:
    rows = {r.code: r for r in db.session.scalars(select(PaymentMethodSetting))}
    for code, (enabled, before) in DEFAULT_PAYMENTS.items():
        rows.setdefault(code, PaymentMethodSetting(code=code, enabled=enabled,
                                                   pay_before_shipping=before))
    return rows


def delivery_settings() -> dict[str, DeliveryMethodSetting]:
    rows = {r.code: r for r in db.session.scalars(select(DeliveryMethodSetting))}
    for code, payments in DEFAULT_DELIVERY_PAYMENTS.items():
        rows.setdefault(code, DeliveryMethodSetting(code=code, enabled=True,
                                                    allowed_payments=list(payments)))
    return rows


def options_for(member, payments=None) -> dict[str, list[str]]:
    """{delivery code: [payment codes]} this member may choose, in display order."""
    payments = payments or payment_settings()
    deliveries = delivery_settings()
    result = {}
    for code in Delivery.ALL:
        setting = deliveries[code]
        if not setting.enabled:
            continue
        allowed = [p for p in Pay.ALL if p in (setting.allowed_payments or [])
                   and payments[p].enabled
                   and (p != Pay.MONTHLY or (member is not None and member.monthly_settlement))]
        if allowed:
            result[code] = allowed
    return result


def check_delivery_payment(delivery: str, payment: str, member) -> bool:
    """Raise unless this member may pay so for this delivery; returns whether the
    payment method must be paid before shipping."""
    payments = payment_settings()
    options = options_for(member, payments)
    if delivery not in options:
        raise ValidationError(_l("This delivery option is not available."), "delivery")
    if payment == Pay.MONTHLY and not (member is not None and member.monthly_settlement):
        raise ValidationError(_l("Monthly settlement is only for members allowed it."),
                              "payment")
    if payment not in options[delivery]:
        raise ValidationError(_l("This payment method is not available with this delivery "
                                 "option."), "payment")
    return bool(payments[payment].pay_before_shipping)


def express_template(province: str | None) -> FreightTemplate | None:
    templates = db.session.scalars(select(FreightTemplate).order_by(FreightTemplate.id)).all()
    for template in templates:
        if province and province in (template.provinces or []):
            return template
    return None


def freight(delivery: str, region_id, province, goods_total, weight_kg) -> Decimal:
    """Freight of an order; raises ValidationError when express cannot reach the province."""
    goods_total = Decimal(goods_total or 0)
    if delivery == Delivery.DRIVER:
        row = db.session.get(RegionDeliveryFee, region_id) if region_id else None
        if row is None:
            return Decimal("0.00")
        if row.free_above is not None and goods_total >= row.free_above:
            return Decimal("0.00")
        return money(row.fee)
    if delivery == Delivery.EXPRESS:
        template = express_template(province)
        if template is None:
            raise ValidationError(_l("Express delivery does not reach %(province)s yet.",
                                     province=province or "—"), "delivery")
        if template.free_above is not None and goods_total >= template.free_above:
            return Decimal("0.00")
        weight = Decimal(weight_kg or 0)
        extra = max(Decimal("0"), weight - Decimal(template.first_kg))
        return money(Decimal(template.first_fee)
                     + Decimal(math.ceil(extra)) * Decimal(template.extra_kg_fee))
    return Decimal("0.00")  # pickup; logistics freight is paid at the terminal


def freight_for(order) -> Decimal:
    return freight(order.delivery_method, order.region_id, order.province, order.goods_total,
                   order.total_weight_kg)


def line_for(spec: Spec, quantity: int, unit_price: Decimal) -> OrderLine:
    """An order line carrying the name, packing and price of this moment."""
    unit = spec.pack_unit
    return OrderLine(spec_id=spec.id, product_name=spec.product.name, model=spec.model,
                     spec_text=spec.spec, base_unit=unit.base_unit, inner_unit=unit.inner_unit,
                     inner_qty=unit.inner_qty, outer_unit=unit.outer_unit,
                     outer_qty=unit.outer_qty, weight_kg=spec.weight_kg or 0,
                     unit_price=money(unit_price), quantity=quantity,
                     amount=money(Decimal(unit_price) * quantity))


def save_order_settings(payments: dict[str, dict], deliveries: dict[str, dict]) -> None:
    """Write payment methods (enabled, paid before shipping) and delivery options
    (enabled, allowed payments) from the back-office form; all or nothing."""
    for code in payments:
        if code not in Pay.ALL:
            raise ValidationError(_l("Unknown payment method."), "payments")
    for code, values in deliveries.items():
        if code not in Delivery.ALL:
            raise ValidationError(_l("Unknown delivery option."), "deliveries")
        unknown = set(values.get("allowed") or []) - set(Pay.ALL)
        if unknown:
            raise ValidationError(_l("Unknown payment method."), "deliveries")
        if values.get("enabled") and not values.get("allowed"):
            raise ValidationError(_l("An enabled delivery option needs at least one payment "
                                     "method."), "deliveries")
    if not any(v.get("enabled") for v in payments.values()):
        raise ValidationError(_l("At least one payment method must stay on."), "payments")
    if not any(v.get("enabled") for v in deliveries.values()):
        raise ValidationError(_l("At least one delivery option must stay on."), "deliveries")
    for order, code in enumerate(Pay.ALL):
        values = payments.get(code, {})
        row = db.session.get(PaymentMethodSetting, code) or PaymentMethodSetting(code=code)
        row.enabled = bool(values.get("enabled"))
        row.pay_before_shipping = bool(values.get("pay_before_shipping"))
        row.sort_order = order
        db.session.add(row)
    for order, code in enumerate(Delivery.ALL):
        values = deliveries.get(code, {})
        row = db.session.get(DeliveryMethodSetting, code) or DeliveryMethodSetting(code=code)
        row.enabled = bool(values.get("enabled"))
        row.allowed_payments = [p for p in Pay.ALL if p in (values.get("allowed") or [])]
        row.sort_order = order
        db.session.add(row)
    db.session.commit()


def validate_freight_template(template: FreightTemplate, provinces_text: str | None) -> None:
    template.name = (template.name or "").strip()
    if not template.name:
        raise ValidationError(_l("Please enter a name."), "name")
    if provinces_text is not None:
        names = [p.strip() for p in provinces_text.replace("，", ",").replace("、", ",")
                 .split(",") if p.strip()]
        template.provinces = names
    if not template.provinces:
        raise ValidationError(_l("Please list at least one province."), "provinces")
    taken = {p for t in db.session.scalars(select(FreightTemplate).where(
        FreightTemplate.id != (template.id or 0))) for p in (t.provinces or [])}
    clash = sorted(taken & set(template.provinces))
    if clash:
        raise ValidationError(_l("These provinces already have a template: %(names)s",
                                 names=", ".join(clash)), "provinces")
    for name in ("first_kg", "first_fee", "extra_kg_fee", "free_above"):
        value = getattr(template, name)
        if value is not None and Decimal(value) < 0:
            raise ValidationError(_l("Amounts cannot be negative."), name)
    if template.first_kg is None or Decimal(template.first_kg) <= 0:
        raise ValidationError(_l("The first weight must be more than 0 kg."), "first_kg")


def validate_region_fee(row: RegionDeliveryFee) -> None:
    for name in ("fee", "free_above"):
        value = getattr(row, name)
        if value is not None and Decimal(value) < 0:
            raise ValidationError(_l("Amounts cannot be negative."), name)
    if row.fee is None:
        raise ValidationError(_l("Please enter the delivery fee."), "fee")
