"""The salesman's end over the API (业务端), the web's business end (app/views/sales) for
clients without cookies: orders of my regions by tab with counts; the order page with
what I have to decide (the drivers of its region, the refund request waiting, with its
photos as signed paths); every action the business end offers, each through
workflow.apply; my customers; ordering on a customer's behalf (代客下单); my QR code; my
performance.

As on the web, an order is found only through scope.get_order and a customer to order
for only through scope.customer_to_order_for: outside my regions they do not exist (404).
"""

from decimal import Decimal

from flask.views import MethodView
from flask_jwt_extended import current_user
from flask_smorest import Blueprint
from marshmallow import (
    Schema,
    fields,
    pre_load,
    validate,
)

from app.catalog import pricing, storefront
from app.ordering import (
    cart,
    edits,
    history,
    options,
    queries,
    refunds,
    scope,
    workflow,
)
from app.ordering.states import Delivery, Pay, ShipMethod
from app.platform import accounts, ids, maps
from app.platform.ids import MAX_ID
from app.platform.security import SALES_END
from app.views.api.catalog import ProductSchema, product_item
from app.views.api.errors import holding
from app.views.api.order_shapes import (
    OrderLineSchema,
    SignedPhotoSchema,
    StaffOrderDetailSchema,
    StaffOrderSchema,
    money,
    order_detail,
    order_summary,
    signed_photo,
)

salesmen_only = holding(SALES_END)
blp = Blueprint("api_sales", __name__, description="The salesman's end (业务端)")
SECURED = [{"bearer": []}]
TAB_KEYS = list(queries.SALES_TAB_KEYS)
# As many as the web's pages show.
GIFT_RESULTS = 8
ID = validate.Range(1, MAX_ID)
QUANTITY = validate.Range(0, cart.MAX_QUANTITY)


class Whole(fields.Integer):
    """An integer, or its digits as text (as the web's forms send it); 1.5 is refused,
    not cut to 1 (marshmallow's Integer would act on line 1)."""

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._validated(value)


def text(max_length: int, **kwargs):
    """Free text with a bound; NUL refused here (PostgreSQL cannot store it), as the web
    refuses it in every form."""
    return fields.String(validate=[validate.Length(max=max_length),
                                   validate.Regexp(r"^[^\x00]*$")], **kwargs)


# ---- schemas: orders ---------------------------------------------------------------------

class SalesQuerySchema(Schema):
    tab = fields.String(load_default="pending", validate=validate.OneOf(TAB_KEYS))
    before = Whole(validate=ID)


class SalesPageSchema(Schema):
    items = fields.List(fields.Nested(StaffOrderSchema), required=True)
    next_before = fields.Integer(allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class DriverChoiceSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    phone = fields.String(required=True)
    plate = fields.String(allow_none=True)
    load = fields.Integer(required=True, metadata={"description": "orders on the way now"})


class SalesLineSchema(OrderLineSchema):
    spec_id = fields.Integer(allow_none=True)
    out_of_stock = fields.Boolean(required=True)
    price_note = fields.String(allow_none=True, metadata={
        "description": "why the price was changed"})
    refused_reason = fields.String(allow_none=True)


class PaymentSchema(Schema):
    at = fields.DateTime(required=True, attribute="created_at")
    amount = money(required=True, metadata={
        "description": "negative: money paid back to the customer"})
    method = fields.String(required=True, metadata={
        "description": "how it was paid, or paid back (a payment method; cod: cash)"})
    note = fields.String(allow_none=True)


class RefundLineSchema(Schema):
    line_id = fields.Integer(required=True)
    product_name = fields.String(allow_none=True)
    base_unit = fields.String(allow_none=True)
    quantity = fields.Integer(required=True)


class RefundRequestSchema(Schema):
    id = fields.Integer(required=True)
    reason = fields.String(required=True)
    requested_at = fields.DateTime(required=True)
    lines = fields.List(fields.Nested(RefundLineSchema), required=True)
    photos = fields.List(fields.Nested(SignedPhotoSchema), required=True)
    suggested_amount = money(required=True, metadata={
        "description": "the value of the lines asked back, within what may still be "
                       "refunded"})
    refundable_amount = money(required=True, metadata={
        "description": "the total less the refunds already approved"})


class SalesOrderSchema(StaffOrderDetailSchema):
    lines = fields.List(fields.Nested(SalesLineSchema), required=True)
    region = fields.String(allow_none=True)
    member_level = fields.String(allow_none=True)
    placed_by = fields.String(allow_none=True, metadata={
        "description": "who placed the order, when not the customer (代客下单)"})
    pay_before_shipping = fields.Boolean(required=True)
    refund_status = fields.String(allow_none=True)
    ship_method = fields.String(allow_none=True)
    map_url = fields.String(allow_none=True, metadata={"description": "the address in Amap"})
    payments = fields.List(fields.Nested(PaymentSchema), required=True)
    drivers = fields.List(fields.Nested(DriverChoiceSchema), required=True,
                          metadata={"description": "who may be assigned (active drivers of "
                                                   "the order's region), when assigning is "
                                                   "possible"})
    edit_options = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()), required=True,
        metadata={"description": "{delivery: [payments it allows]} for the edits "
                                 "set_delivery and set_payment; empty unless editable"})
    gifts = fields.List(fields.Nested(ProductSchema), required=True, metadata={
        "description": "products matching gift_q, without prices: a spec id for the edit "
                       "add_gift"})
    refund = fields.Nested(RefundRequestSchema, allow_none=True, metadata={
        "description": "the refund request waiting for my decision (decide_refund)"})


class SalesOrderQuerySchema(Schema):
    gift_q = text(50, metadata={"description": "search products to add as a gift"})


class SalesActionSchema(Schema):
    """The action and the fields of the web's forms; which action takes which field is
    workflow.BUSINESS_END_ACTIONS, and the workflow's guards check them."""

    action = fields.String(required=True,
                           validate=validate.OneOf(list(workflow.BUSINESS_END_ACTIONS)))
    op = fields.String(validate=validate.OneOf(list(edits.OPS)), metadata={
        "description": "edit: set_quantity, set_price, remove_line, out_of_stock (line_id); "
                       "add_gift (spec_id, quantity); set_delivery, set_payment (method)"})
    line_id = Whole(validate=ID, metadata={"description": "edit"})
    quantity = Whole(validate=QUANTITY, metadata={
        "description": "edit: base units, a multiple of the line's pack"})
    # The bounds again as numbers in metadata: apispec writes a Decimal's as strings.
    price = fields.Decimal(validate=validate.Range(0, 9_999_999), metadata={
        "description": "edit set_price: per base unit", "minimum": 0,
        "maximum": 9_999_999})
    reason = text(500, metadata={"description": "edit set_price, close, decide_refund "
                                                "(required to reject), reject_voucher"})
    spec_id = Whole(validate=ID, metadata={"description": "edit add_gift"})
    method = fields.String(validate=validate.OneOf(Delivery.ALL + Pay.ALL), metadata={
        "description": "edit set_delivery / set_payment"})
    driver_id = Whole(validate=ID, metadata={"description": "assign_driver"})
    ship_method = fields.String(validate=validate.OneOf(ShipMethod.ALL),
                                metadata={"description": "ship"})
    note = text(255, metadata={"description": "ship (company and tracking number), "
                                              "mark_paid"})
    amount = fields.Decimal(validate=validate.Range(0, 99_999_999), metadata={
        "description": "mark_paid (what is still due if absent), decide_refund", "minimum": 0,
        "maximum": 99_999_999})
    approve = fields.Boolean(metadata={"description": "decide_refund"})
    restock = fields.Boolean(metadata={"description": "decide_refund: goods back in stock"})
    voucher_id = Whole(validate=ID, metadata={
        "description": "confirm_voucher, reject_voucher (with a reason)"})
    checked_elsewhere = fields.Boolean(metadata={
        "description": "confirm_voucher: the bank record was checked (required when the "
                       "voucher's image was sent for another order too)"})

    @pre_load
    def _blank_is_absent(self, data, **_kwargs):
        # As in the web's forms, an empty field is no field.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None and v != ""}
        return data


# ---- how things look -----------------------------------------------------------------------

def _refund(order, refund) -> dict:
    lines = {line.id: line for line in order.lines}
    return {"id": refund.id, "reason": refund.reason, "requested_at": refund.created_at,
            "lines": [{"line_id": item["line_id"], "quantity": item["quantity"],
                       "product_name": getattr(lines.get(item["line_id"]), "product_name",
                                               None),
                       "base_unit": getattr(lines.get(item["line_id"]), "base_unit", None)}
                      for item in refund.lines],
            "photos": [signed_photo(key)
                       for key in refund.photos],
            "suggested_amount": refunds.suggested_amount(order, refund),
            "refundable_amount": refunds.refundable_amount(order)}


def order_page(order, gift_q: str = "") -> dict:
    """The order as the web's order page shows it to its salesman."""
    body = order_detail(order, current_user, history.STAFF)
    actions = body["actions"]
    member, placer = order.member, order.placed_by
    address = order.address_line()
    waiting = refunds.waiting(order) if "decide_refund" in actions else None
    gifts = storefront.search_products(gift_q, 1, pricing.NO_PRICES,
                                       per_page=GIFT_RESULTS).items \
        if gift_q and "edit" in actions else []
    body.update(
        region=order.region.name if order.region else None,
        member_level=member.level.name if member.level else None,
        placed_by=accounts.display_name(placer)
        if placer and order.placed_by_id != order.user_id else None,
        pay_before_shipping=bool(order.pay_before_shipping),
        refund_status=order.refund_status, ship_method=order.ship_method,
        map_url=maps.address_link(address) if address else None, payments=order.payments,
        drivers=[{"id": d.id, "name": d.name, "phone": d.phone, "plate": d.plate,
                  "load": load} for d, load in workflow.drivers_for(order)]
        if "assign_driver" in actions else [],
        edit_options=options.options_for(member) if "edit" in actions else {},
        gifts=[product_item(card) for card in gifts],
        refund=_refund(order, waiting) if waiting else None)
    return body


def _form_value(value) -> str:
    """A field as the web's form sends it: the workflow parses text."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return format(value, "f") if isinstance(value, Decimal) else str(value)


# ---- routes: orders ------------------------------------------------------------------------

@blp.route("/orders")
class SalesOrders(MethodView):
    @salesmen_only
    @blp.arguments(SalesQuerySchema(), location="query")
    @blp.response(200, SalesPageSchema)
    @blp.doc(security=SECURED)
    def get(self, query):
        """Orders of my regions in a tab, newest first, with each tab's count."""
        rows, next_before = queries.sales_orders(current_user, query["tab"],
                                                 ids.parse_cursor(query.get("before")))
        return {"items": [order_summary(o, history.STAFF) for o in rows],
                "next_before": next_before, "counts": queries.sales_tab_counts(current_user)}


@blp.route("/orders/<order_no>")
class SalesOrder(MethodView):
    @salesmen_only
    @blp.arguments(SalesOrderQuerySchema(), location="query")
    @blp.response(200, SalesOrderSchema)
    @blp.doc(security=SECURED)
    def get(self, query, order_no):
        """An order of my regions, with what I have to decide.

        Lines, payments, history, what I may do now, the drivers I may assign, the
        refund request waiting for me (photos as signed paths), gifts found by gift_q."""
        return order_page(scope.get_order(current_user, order_no=order_no),
                           (query.get("gift_q") or "").strip())


@blp.route("/orders/<order_no>/actions")
class SalesOrderAction(MethodView):
    @salesmen_only
    @blp.arguments(SalesActionSchema())
    @blp.response(200, SalesOrderSchema)
    @blp.doc(security=SECURED)
    def post(self, body, order_no):
        """Act on an order of my regions: edit, confirm, ship, close, mark paid, refund.

        Edit (quantities, prices, lines, gifts, delivery, payment), confirm, assign a
        driver, ship without a driver, ready for pickup, collected, close, mark paid or
        decide a refund; the fields each takes are those of the web's forms, checked by
        the workflow."""
        order = scope.get_order(current_user, order_no=order_no)
        action = body.pop("action")
        data = {name: _form_value(value) for name, value in body.items()
                if name in workflow.BUSINESS_END_ACTIONS[action]}
        return order_page(workflow.apply(order, action, current_user, **data))
