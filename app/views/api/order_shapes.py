"""How an order looks over the API, for the customer and for staff: the same fields,
the state and history in each audience's words."""

from marshmallow import Schema, fields, validate

from app.ordering import history, workflow
from app.ordering.states import CUSTOMER_LABELS, STAFF_LABELS, Pay
from app.payments import vouchers as transfer_vouchers
from app.payments.models import VoucherStatus
from app.platform import uploads


def money(**kwargs):
    return fields.Decimal(as_string=True, places=2, **kwargs)


class PackedLineSchema(Schema):
    """A line as goods: what and how much, in base units and packs; no money."""
    id = fields.Integer(required=True)
    product_name = fields.String(required=True)
    model = fields.String(allow_none=True)
    spec = fields.String(allow_none=True, attribute="spec_text")
    base_unit = fields.String(required=True)
    inner_unit = fields.String(required=True)
    inner_qty = fields.Integer(required=True)
    quantity = fields.Integer(required=True)
    refused_qty = fields.Integer(required=True, metadata={
        "description": "refused or short at the door"})
    is_gift = fields.Boolean(required=True)


class OrderLineSchema(PackedLineSchema):
    unit_price = money(required=True)
    amount = money(required=True)


class OrderSchema(Schema):
    order_no = fields.String(required=True)
    state = fields.String(required=True)
    state_label = fields.String(required=True)
    delivery_method = fields.String(required=True)
    payment_method = fields.String(required=True)
    payment_status = fields.String(required=True)
    goods_total = money(required=True)
    freight = money(required=True)
    total = money(required=True)
    created_at = fields.DateTime(required=True)
    lines = fields.List(fields.Nested(OrderLineSchema), required=True)


class HistorySchema(Schema):
    at = fields.DateTime(required=True)
    title = fields.String(required=True)
    details = fields.List(fields.String(), required=True)


class DriverSchema(Schema):
    name = fields.String(required=True)
    phone = fields.String(required=True)
    plate = fields.String(allow_none=True)


class SignedPhotoSchema(Schema):
    """A private photo as signed paths, for a client that sends no cookie."""

    url = fields.String(required=True, metadata={
        "description": "a signed path, valid MEDIA_URL_TTL seconds (default 10 minutes)"})
    thumb_url = fields.String(required=True)


class PhotoSchema(SignedPhotoSchema):
    id = fields.Integer(required=True)


def signed_photo(key: str) -> dict:
    return {"url": uploads.signed_media_url(key),
            "thumb_url": uploads.signed_media_url(key, thumb=True)}


def photo_link(photo) -> dict:
    return {"id": photo.id, **signed_photo(photo.key)}


def photo_links(photos) -> list[dict]:
    return [photo_link(photo) for photo in photos]


class VoucherSchema(Schema):
    """A transfer voucher (付款凭证) the customer uploaded, and what staff decided."""

    id = fields.Integer(required=True)
    amount = money(required=True)
    paid_on = fields.Date(required=True)
    remark = fields.String(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(VoucherStatus.ALL))
    reject_reason = fields.String(allow_none=True, metadata={
        "description": "why it was rejected (shown to the customer)"})
    photo = fields.Nested(SignedPhotoSchema, required=True)
    used_on_other_orders = fields.List(fields.String(), metadata={
        "description": "staff only: orders whose vouchers are the same image"})


class OrderDetailSchema(OrderSchema):
    address = fields.String(allow_none=True)
    remark = fields.String(allow_none=True)
    ship_note = fields.String(allow_none=True)
    driver = fields.Nested(DriverSchema, allow_none=True)
    history = fields.List(fields.Nested(HistorySchema), required=True)
    photos = fields.List(fields.Nested(PhotoSchema), required=True,
                         metadata={"description": "the signed delivery note (签收单)"})
    actions = fields.List(fields.String(), required=True,
                          metadata={"description": "what the customer may do now"})
    vouchers = fields.List(fields.Nested(VoucherSchema), required=True, metadata={
        "description": "transfer vouchers (bank, WeChat or Alipay transfer orders)"})


class StaffOrderSchema(OrderSchema):
    shop_name = fields.String(required=True)


class StaffOrderDetailSchema(OrderDetailSchema):
    shop_name = fields.String(required=True)
    contact = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


LABELS = {history.CUSTOMER: CUSTOMER_LABELS, history.STAFF: STAFF_LABELS}


def order_summary(order, audience=history.CUSTOMER) -> dict:
    body = {"order_no": order.order_no, "state": order.state,
            "state_label": str(LABELS[audience].get(order.state, order.state)),
            "delivery_method": order.delivery_method, "payment_method": order.payment_method,
            "payment_status": order.payment_status, "goods_total": order.goods_total,
            "freight": order.freight, "total": order.total, "created_at": order.created_at,
            "lines": order.lines}
    if audience == history.STAFF:
        body["shop_name"] = order.member.shop_name
    return body


def order_detail(order, user, audience=history.CUSTOMER) -> dict:
    body = order_summary(order, audience)
    body.update(
        address=order.pickup_address or order.address_line() or None, remark=order.remark,
        ship_note=order.ship_note,
        driver={"name": order.driver.name, "phone": order.driver.phone,
                "plate": order.driver.plate} if order.driver else None,
        history=[{"at": entry.at, "title": entry.title, "details": entry.details}
                 for entry in history.history(order, audience)],
        photos=photo_links(order.photos), actions=workflow.allowed_actions(order, user),
        vouchers=voucher_links(order, staff=audience == history.STAFF))
    if audience == history.STAFF:
        body.update(contact=order.contact, phone=order.phone)
    return body


def voucher_links(order, staff: bool) -> list[dict]:
    """The order's vouchers; only transfer orders can have any (no query for the rest)."""
    if order.payment_method not in Pay.TRANSFER:
        return []
    found = transfer_vouchers.of_order(order)
    reused = transfer_vouchers.used_elsewhere(found) if staff else {}
    return [{"id": v.id, "amount": v.amount, "paid_on": v.paid_on, "remark": v.remark,
             "status": v.status, "reject_reason": v.reject_reason,
             "photo": signed_photo(v.photo),
             **({"used_on_other_orders": reused.get(v.id, [])} if staff else {})}
            for v in found]
