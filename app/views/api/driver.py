"""The driver's end over the API: the tabs with counts, the order as a driver sees it (no
prices: only the cash to collect, ordering.delivery.driver_money), start the delivery,
complete it with the lines refused or short at the door and the cash collected."""


from flask import request
from flask.views import MethodView
from flask_jwt_extended import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.ordering import delivery, queries, scope, workflow
from app.ordering.states import STAFF_LABELS
from app.platform import ids
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


class DriverOrderSchema(Schema):
    order_no = fields.String(required=True)
    state = fields.String(required=True)
    state_label = fields.String(required=True)
    shop_name = fields.String(required=True)
    address = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    remark = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(PackedLineSchema), required=True)
    photos = fields.List(fields.Nested(DeliveryPhotoSchema), required=True,
                         metadata={"description": "photos of the signed delivery note"})
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
    cash_collected = fields.String(validate=validate.Length(max=20))


def _order(order) -> dict:
    cash = delivery.driver_money(order, current_user)
    return {"order_no": order.order_no, "state": order.state,
            "state_label": str(STAFF_LABELS.get(order.state, order.state)),
            "shop_name": order.member.shop_name,
            "address": order.pickup_address or order.address_line() or None,
            "contact": order.contact, "phone": order.phone, "remark": order.remark,
            "lines": order.lines, "photos": [_photo(p) for p in order.photos],
            "cash_to_collect": cash.collect, "cash_collected": cash.collected,
            "actions": workflow.allowed_actions(order, current_user)}


@blp.route("/orders")
class DriverOrders(MethodView):
    @drivers_only
    @blp.arguments(DriverQuerySchema, location="query")
    @blp.response(200, DriverPageSchema)
    @blp.doc(security=SECURED)
    def get(self, query):
        """My orders to load, out for delivery, delivered today, or waiting for a driver
        in my regions, with each tab's count."""
        rows, next_before = queries.driver_orders(current_user, query["tab"],
                                                  ids.parse_cursor(query.get("before")))
        return {"items": [_order(o) for o in rows], "next_before": next_before,
                "counts": queries.driver_tab_counts(current_user)}


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
    @blp.arguments(CompleteSchema)
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
    @blp.arguments(PhotoFormSchema, location="form")
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
