"""The driver's end over the API: the tabs with counts, the loading list 装车单, the order
as a driver sees it (no prices: only the cash to collect, ordering.delivery.driver_money),
start the delivery, complete it with the lines refused or short at the door and the cash
collected."""


from flask import request
from flask.views import MethodView
from flask_jwt_extended import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.ordering import delivery, queries, scope, workflow
from app.ordering.lines import held_quantity
from app.ordering.states import STAFF_LABELS
from app.platform import ids, maps
from app.platform.ids import MAX_ID
from app.platform.security import DRIVER_END
from app.views.api.errors import holding
from app.views.api.order_shapes import PackedLineSchema, PhotoSchema, money, photo_link

drivers_only = holding(DRIVER_END)
blp = Blueprint("api_driver", __name__, description="The driver's end (司机端)")
SECURED = [{"bearer": []}]


class DeliveryPhotoSchema(PhotoSchema):
    upload_id = fields.String(allow_none=True)


def _photo(photo) -> dict:
    return {**photo_link(photo), "upload_id": photo.upload_id}


class DriverLineSchema(PackedLineSchema):
    """A line as the driver loads and hands it over: packs, what is still to deliver."""
    outer_unit = fields.String(required=True)
    outer_qty = fields.Integer(required=True)
    packs = fields.String(required=True, metadata={
        "description": "the quantity as cartons, boxes and units: 2 箱 3 盒 = 860 把"})
    to_deliver = fields.Integer(required=True, metadata={
        "description": "base units that leave the warehouse (not out of stock, not "
                       "refused): the most that can be refused at the door"})
    out_of_stock = fields.Boolean(required=True)
    refused_reason = fields.String(allow_none=True)


class DriverOrderSchema(Schema):
    order_no = fields.String(required=True)
    state = fields.String(required=True)
    state_label = fields.String(required=True)
    payment_method = fields.String(required=True)
    payment_status = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    delivered_at = fields.DateTime(allow_none=True)
    shop_name = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    map_url = fields.String(allow_none=True, metadata={
        "description": "the address in the phone's map app (Amap)"})
    contact = fields.String(allow_none=True, metadata={
        "description": "the delivery contact (the shop's contact when the order has none)"})
    phone = fields.String(allow_none=True, metadata={
        "description": "the delivery contact's phone (the shop's when the order has none)"})
    shop_phone = fields.String(allow_none=True)
    remark = fields.String(allow_none=True)
    mine = fields.Boolean(required=True, metadata={
        "description": "assigned to me; otherwise waiting for a driver, to look at only"})
    can_add_photos = fields.Boolean(required=True)
    lines = fields.List(fields.Nested(DriverLineSchema), required=True)
    photos = fields.List(fields.Nested(DeliveryPhotoSchema), required=True,
                         metadata={"description": "photos of the signed delivery note "
                                                  "(of my own orders only)"})
    cash_to_collect = money(allow_none=True, metadata={
        "description": "cash on delivery still due; absent from every other order"})
    cash_collected = money(allow_none=True)
    actions = fields.List(fields.String(), required=True)


class PhotoFormSchema(Schema):
    upload_id = fields.String(required=True, validate=validate.Length(max=64), metadata={
        "description": "the client's id for this photo (8-64 of A-Z a-z 0-9 - _): a retry "
                       "with the same id is stored once"})


class DriverPageSchema(Schema):
    items = fields.List(fields.Nested(DriverOrderSchema), required=True)
    next_before = fields.Integer(allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class DriverQuerySchema(Schema):
    tab = fields.String(load_default="to_load",
                        validate=validate.OneOf(list(queries.DRIVER_TAB_KEYS)))
    before = fields.Integer(validate=validate.Range(1, MAX_ID))


class RefusedLineSchema(Schema):
    line_id = fields.Integer(required=True, validate=validate.Range(1, MAX_ID))
    quantity = fields.Integer(required=True, validate=validate.Range(0, 10_000_000))
    reason = fields.String(load_default="", validate=validate.Length(max=255))


class CompleteSchema(Schema):
    refused = fields.List(fields.Nested(RefusedLineSchema), load_default=list,
                          validate=validate.Length(max=500),
                          metadata={"description": "lines refused or short at the door"})
    cash_collected = fields.String(validate=validate.Length(max=20), metadata={
        "description": "cash on delivery only: the cash collected, e.g. 123.50"})


class PacksSchema(Schema):
    outer = fields.Integer(required=True)
    inner = fields.Integer(required=True)
    loose = fields.Integer(required=True)


class LoadRowSchema(Schema):
    """One product, spec and packing, summed over my orders to load."""
    product_name = fields.String(required=True)
    model = fields.String(allow_none=True)
    spec = fields.String(allow_none=True, attribute="spec_text")
    base_unit = fields.String(required=True)
    inner_unit = fields.String(required=True)
    inner_qty = fields.Integer(required=True)
    outer_unit = fields.String(required=True)
    outer_qty = fields.Integer(required=True)
    quantity = fields.Integer(required=True, metadata={"description": "in base units"})
    packs = fields.Nested(PacksSchema, required=True, metadata={
        "description": "the quantity as outer packs, inner packs and loose base units"})
    text = fields.String(required=True, metadata={"description": "2 箱 3 盒 = 860 把"})
    order_nos = fields.List(fields.String(), required=True)


class LoadOrderSchema(Schema):
    order_no = fields.String(required=True)
    shop_name = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    line_count = fields.Integer(required=True)
    cash_to_collect = money(allow_none=True)


class LoadingListSchema(Schema):
    rows = fields.List(fields.Nested(LoadRowSchema), required=True)
    orders = fields.List(fields.Nested(LoadOrderSchema), required=True)


def _people(order) -> dict:
    """Whom to hand the goods to, as the web's driver pages show it."""
    member = order.member
    return {"shop_name": member.shop_name or order.contact or member.phone,
            "contact": order.contact or member.contact_name or None,
            "phone": order.phone or member.phone or None}


LINE_FIELDS = ("id", "product_name", "model", "spec_text", "base_unit", "inner_unit",
               "inner_qty", "outer_unit", "outer_qty", "quantity", "refused_qty", "is_gift",
               "refused_reason")


def _line(line) -> dict:
    return {**{name: getattr(line, name) for name in LINE_FIELDS},
            "packs": delivery.line_packs(line), "to_deliver": held_quantity(line),
            "out_of_stock": bool(line.out_of_stock)}


def _order(order) -> dict:
    cash = delivery.driver_money(order, current_user)
    mine = delivery.is_my_order(order, current_user)
    address = order.pickup_address or order.address_line() or None
    people, shop_phone = _people(order), order.member.phone
    return {"order_no": order.order_no, "state": order.state,
            "state_label": str(STAFF_LABELS.get(order.state, order.state)),
            "payment_method": order.payment_method, "payment_status": order.payment_status,
            "created_at": order.created_at, "delivered_at": order.delivered_at,
            **people, "address": address,
            "map_url": maps.address_link(address) if address else None,
            "shop_phone": shop_phone if shop_phone and shop_phone != people["phone"] else None,
            "remark": order.remark, "mine": mine,
            "can_add_photos": delivery.may_add_photos(order, current_user),
            "lines": [_line(line) for line in order.lines],
            "photos": [_photo(p) for p in order.photos] if mine else [],
            "cash_to_collect": cash.collect, "cash_collected": cash.collected,
            "actions": workflow.allowed_actions(order, current_user)}


def _load_order(order) -> dict:
    return {"order_no": order.order_no, **_people(order),
            "address": order.address_line() or None, "line_count": len(order.lines),
            "cash_to_collect": delivery.driver_money(order, current_user).collect}


def _load_row(row) -> dict:
    outer, inner, loose = row.packs
    return {**vars(row), "packs": {"outer": outer, "inner": inner, "loose": loose},
            "text": row.text}


@blp.route("/orders")
class DriverOrders(MethodView):
    @drivers_only
    @blp.arguments(DriverQuerySchema(), location="query")
    @blp.response(200, DriverPageSchema)
    @blp.doc(security=SECURED)
    def get(self, query):
        """My orders to load, out for delivery, delivered today, or waiting for a driver
        in my regions, with each tab's count."""
        rows, next_before = queries.driver_orders(current_user, query["tab"],
                                                  ids.parse_cursor(query.get("before")))
        return {"items": [_order(o) for o in rows], "next_before": next_before,
                "counts": queries.driver_tab_counts(current_user)}


@blp.route("/loading")
class DriverLoadingList(MethodView):
    @drivers_only
    @blp.response(200, LoadingListSchema)
    @blp.doc(security=SECURED)
    def get(self):
        """The loading list 装车单: the goods of every order assigned to me and not yet out,
        added up by product, spec and packing, and those orders."""
        load = delivery.loading_list(current_user)
        return {"rows": [_load_row(row) for row in load.rows],
                "orders": [_load_order(order) for order in load.orders]}


@blp.route("/orders/<order_no>")
class DriverOrder(MethodView):
    @drivers_only
    @blp.response(200, DriverOrderSchema)
    @blp.doc(security=SECURED)
    def get(self, order_no):
        """An order as its driver sees it."""
        return _order(scope.get_order(current_user, order_no=order_no))


@blp.route("/orders/<order_no>/start")
class StartDelivery(MethodView):
    @drivers_only
    @blp.response(200, DriverOrderSchema)
    @blp.doc(security=SECURED)
    def post(self, order_no):
        """Start the delivery of an order assigned to me."""
        order = scope.get_order(current_user, order_no=order_no)
        return _order(workflow.apply(order, "start_delivery", current_user))


@blp.route("/orders/<order_no>/complete")
class CompleteDelivery(MethodView):
    @drivers_only
    @blp.arguments(CompleteSchema())
    @blp.response(200, DriverOrderSchema)
    @blp.doc(security=SECURED)
    def post(self, body, order_no):
        """Complete the delivery (photos of the signed note first), with the lines
        refused or short at the door and, for cash on delivery, the cash collected."""
        order = scope.get_order(current_user, order_no=order_no)
        refused = [{"line_id": r["line_id"], "quantity": str(r["quantity"]),
                    "reason": r["reason"]} for r in body["refused"] if r["quantity"]]
        return _order(workflow.apply(order, "complete_delivery", current_user,
                                     refused=refused,
                                     cash_collected=body.get("cash_collected") or None))


@blp.route("/orders/<order_no>/photos")
class DeliveryPhotos(MethodView):
    @drivers_only
    @blp.arguments(PhotoFormSchema(), location="form")
    @blp.response(201, DeliveryPhotoSchema)
    @blp.doc(security=SECURED, description="multipart/form-data: the image as `photo` "
             "(JPEG, PNG or WebP), and `upload_id`.")
    def post(self, form, order_no):
        """Add one photo of the signed delivery note (while the order is assigned to me
        or out for delivery)."""
        order = scope.get_order(current_user, order_no=order_no)
        return _photo(delivery.add_delivery_photo_once(order, request.files.get("photo"),
                                                       current_user, form["upload_id"]))


@blp.route("/orders/<order_no>/photos/<int:photo_id>")
class DeliveryPhoto(MethodView):
    @drivers_only
    @blp.response(204)
    @blp.doc(security=SECURED)
    def delete(self, order_no, photo_id):
        """Remove a wrong photo before completing the delivery."""
        order = scope.get_order(current_user, order_no=order_no)
        delivery.remove_delivery_photo(order, photo_id, current_user)
