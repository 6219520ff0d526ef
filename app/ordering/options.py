"""Delivery options and payment methods: which are switched on, which payments each
delivery allows (统一结算 only for members allowed it), which must be paid first."""


from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.ordering.models import DeliveryMethodSetting, PaymentMethodSetting
from app.ordering.states import DEFAULT_DELIVERY_PAYMENTS, DEFAULT_PAYMENTS, Delivery, Pay
from app.platform.errors import ValidationError


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
