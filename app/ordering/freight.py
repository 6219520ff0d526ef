"""Freight: the driver-delivery fee of each region (free above an amount) and express
freight by province and weight (first kg, each further started kg, free above)."""

import math
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.catalog.pricing import money
from app.extensions import db
from app.ordering.models import FreightTemplate, RegionDeliveryFee
from app.ordering.states import Delivery
from app.platform.errors import ValidationError


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
