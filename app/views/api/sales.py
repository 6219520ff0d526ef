"""The salesman's end over the API (业务端), the web's business end (app/views/sales) for
clients without cookies: orders of my regions by tab with counts; the order page with
what I have to decide (the drivers of its region, the refund request waiting, with its
photos as signed paths); every action the business end offers, each through
workflow.apply; my customers; ordering on a customer's behalf (代客下单); my QR code; my
performance.

As on the web, an order is found only through scope.get_order and a customer to order
for only through scope.customer_to_order_for: outside my regions they do not exist (404).
"""

import uuid
from decimal import Decimal

from flask import Response, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_jwt_extended import current_user
from flask_smorest import Blueprint
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from app.catalog import pricing, storefront
from app.members import referral
from app.ordering import (
    cart,
    checkout,
    edits,
    history,
    options,
    queries,
    refunds,
    scope,
    workflow,
)
from app.ordering import performance as figures
from app.ordering.states import Delivery, Pay, ShipMethod
from app.platform import accounts, ids, maps
from app.platform.ids import MAX_ID, MAX_PAGE
from app.platform.security import SALES_END
from app.views.api.catalog import ProductSchema, price_fields, product_item
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
from app.views.api.orders import AddressSchema, CartSchema, SubmitSchema, cart_body

salesmen_only = holding(SALES_END)
blp = Blueprint("api_sales", __name__, description="The salesman's end (业务端)")
SECURED = [{"bearer": []}]
TAB_KEYS = list(queries.SALES_TAB_KEYS)
# As many as the web's pages show.
GIFT_RESULTS = 8
RESULTS_PER_PAGE = 10
FREQUENT_PRODUCTS = 6
ID = validate.Range(1, MAX_ID)
QUANTITY = validate.Range(0, cart.MAX_QUANTITY)
ADDRESS_KEYS = ("province", "city", "district", "street", "contact", "phone")


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
    amount = money(required=True)
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
        "description": "mark_paid (the total if absent), decide_refund", "minimum": 0,
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


# ---- schemas: customers, 代客下单, QR code, performance ----------------------------------------

class CustomerQuerySchema(Schema):
    q = text(50, metadata={"description": "shop name, contact or mobile"})
    before = Whole(validate=ID)


class CustomerSchema(Schema):
    id = fields.Integer(required=True)
    shop_name = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    level = fields.String(allow_none=True)
    status = fields.String(required=True)
    status_label = fields.String(required=True)


class CustomerRowSchema(CustomerSchema):
    last_order_at = fields.DateTime(allow_none=True)
    can_order_for = fields.Boolean(required=True, metadata={
        "description": "代客下单 is open: a customer of my regions, approved"})


class CustomerPageSchema(Schema):
    items = fields.List(fields.Nested(CustomerRowSchema), required=True)
    next_before = fields.Integer(allow_none=True)


class OrderForQuerySchema(Schema):
    q = text(50, metadata={"description": "search products (name, item no., model, pinyin)"})
    page = Whole(load_default=1, validate=validate.Range(1, MAX_PAGE))
    delivery = text(24)
    payment = text(24)
    address_id = Whole(validate=ID)
    province = text(32, metadata={"description": "of a new address, for the freight"})


class ProductResultsSchema(Schema):
    items = fields.List(fields.Nested(ProductSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class OrderForQuoteSchema(Schema):
    goods_total = money(required=True)
    freight = money(allow_none=True)
    total = money(allow_none=True, metadata={"description": "send it back as expected_total"})
    problem = fields.String(allow_none=True)


class OrderForCheckoutSchema(Schema):
    options = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                          required=True,
                          metadata={"description": "{delivery: [payments it allows]}"})
    delivery = fields.String(allow_none=True)
    payment = fields.String(allow_none=True)
    addresses = fields.List(fields.Nested(AddressSchema), required=True)
    new_address = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True),
                              required=True, metadata={
                                  "description": "a new address prefilled from the "
                                                 "customer's profile, without saved ones"})
    quote = fields.Nested(OrderForQuoteSchema, allow_none=True,
                          metadata={"description": "absent while the cart is empty"})


class OrderForSchema(Schema):
    customer = fields.Nested(CustomerSchema, required=True)
    can_order = fields.Boolean(required=True)
    price_note = fields.String(metadata={"description": "why prices are absent"})
    q = fields.String(required=True)
    results = fields.Nested(ProductResultsSchema, allow_none=True,
                            metadata={"description": "products matching q, in the "
                                                     "customer's prices"})
    frequent = fields.List(fields.Nested(ProductSchema), required=True, metadata={
        "description": "what the customer orders most (without q)"})
    cart = fields.Nested(CartSchema, required=True)
    checkout = fields.Nested(OrderForCheckoutSchema, required=True)
    idempotency_key = fields.String(required=True, metadata={
        "description": "a fresh key for the submit"})


class OrderForCartSchema(Schema):
    quantities = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[1-9]\d{0,9}$")),
                             values=Whole(validate=QUANTITY),
                             validate=validate.Length(min=1, max=200), metadata={
                                 "description": "add {spec id: quantity in base units}, "
                                                "each a multiple of the MOQ"})
    line_id = Whole(validate=ID, metadata={
        "description": "a line of the customer's cart: set its quantity, or remove it"})
    quantity = Whole(validate=QUANTITY, metadata={"description": "0 removes"})
    remove = fields.Boolean(load_default=False)

    @validates_schema
    def _one_change(self, data, **_kwargs):
        adding, line = "quantities" in data, "line_id" in data
        if adding == line or (line and not data["remove"] and "quantity" not in data):
            raise ValidationError(_("Send quantities to add, or a line_id with a quantity "
                                    "or remove."))


class QrSchema(Schema):
    name = fields.String(required=True)
    code = fields.String(required=True, metadata={"description": "my referral code"})
    link = fields.String(required=True, metadata={
        "description": "the sign-up link in the QR code: who signs up through it becomes "
                       "my customer"})
    png_url = fields.String(required=True)
    svg_url = fields.String(required=True)


class QrImageQuerySchema(Schema):
    download = fields.Boolean(load_default=False, metadata={
        "description": "as an attachment (pifa-qr.png / .svg)"})


class MonthSchema(Schema):
    month = fields.String(required=True, metadata={"example": "2026-01"})
    start = fields.DateTime(required=True, metadata={"description": "Asia/Shanghai"})
    members = fields.Integer(required=True, metadata={
        "description": "members who signed up through my QR code"})
    orders = fields.Integer(required=True, metadata={
        "description": "orders of my customers and orders I placed for a customer, "
                       "closed ones not counted"})
    sales = money(required=True, metadata={"description": "the total of those orders"})


class PerformanceSchema(Schema):
    name = fields.String(allow_none=True)
    this_month = fields.Nested(MonthSchema, required=True)
    last_month = fields.Nested(MonthSchema, required=True)


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


def _order_page(order, gift_q: str = "") -> dict:
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


def _customer(member) -> dict:
    return {"id": member.id, "shop_name": member.shop_name,
            "contact_name": member.contact_name, "phone": member.phone,
            "region": member.region.name if member.region else None,
            "level": member.level.name if member.level else None, "status": member.status,
            "status_label": str(member.status_label())}


def _products(page) -> dict:
    return {"items": [product_item(card) for card in page.items], "total": page.total,
            "page": page.page, "pages": page.pages}


def _month(f) -> dict:
    return {"month": f"{f.start.year}-{f.start.month:02d}", "start": f.start,
            "members": f.members, "orders": f.orders, "sales": f.sales}


def _qr_image(fmt: str, download: bool) -> Response:
    _profile, code = referral.my_referral(current_user)
    link = url_for("auth.register", ref=code, _external=True)
    resp = Response(referral.qr_code(link, fmt), mimetype=referral.QR_FORMATS[fmt])
    if download:
        resp.headers["Content-Disposition"] = f"attachment; filename=pifa-qr.{fmt}"
    resp.headers["Cache-Control"] = "private, max-age=300"
    return resp


# ---- routes: orders ------------------------------------------------------------------------

@blp.route("/orders")
class SalesOrders(MethodView):
    @salesmen_only
    @blp.arguments(SalesQuerySchema, location="query")
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
    @blp.arguments(SalesOrderQuerySchema, location="query")
    @blp.response(200, SalesOrderSchema)
    @blp.doc(security=SECURED)
    def get(self, query, order_no):
        """An order of my regions, with what I have to decide.

        Lines, payments, history, what I may do now, the drivers I may assign, the
        refund request waiting for me (photos as signed paths), gifts found by gift_q."""
        return _order_page(scope.get_order(current_user, order_no=order_no),
                           (query.get("gift_q") or "").strip())


@blp.route("/orders/<order_no>/actions")
class SalesOrderAction(MethodView):
    @salesmen_only
    @blp.arguments(SalesActionSchema)
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
        return _order_page(workflow.apply(order, action, current_user, **data))


# ---- routes: my customers and 代客下单 ---------------------------------------------------------

@blp.route("/customers")
class SalesCustomers(MethodView):
    @salesmen_only
    @blp.arguments(CustomerQuerySchema, location="query")
    @blp.response(200, CustomerPageSchema)
    @blp.doc(security=SECURED)
    def get(self, query):
        """My customers, searched by shop name, contact or mobile.

        The members of my regions and those whose own salesman I am, newest first, 20 at
        a time (pass `next_before` back), each with their last order and whether I may
        order for them."""
        rows, next_before = queries.customers(current_user, (query.get("q") or "").strip(),
                                              ids.parse_cursor(query.get("before")))
        return {"items": [{**_customer(row.member), "last_order_at": row.last_order_at,
                           "can_order_for": row.can_order_for} for row in rows],
                "next_before": next_before}


@blp.route("/customers/<int:member_id>/order")
class OrderFor(MethodView):
    @salesmen_only
    @blp.arguments(OrderForQuerySchema, location="query")
    @blp.response(200, OrderForSchema)
    @blp.doc(security=SECURED)
    def get(self, query, member_id):
        """Order for a customer (代客下单): products, the customer's cart, the checkout.

        For a customer of my regions: products found by q (or what the customer orders
        most) in the customer's prices, the customer's own cart, and the checkout's
        choices and quote for delivery, payment, address_id or province. Writes nothing."""
        member = scope.customer_to_order_for(current_user, member_id)
        customer, access = member.user, pricing.member_access(member)
        q = (query.get("q") or "").strip()
        basket = cart_body(customer, member)
        state = checkout.form_state(customer, member, {
            k: str(v) for k, v in query.items() if k in ("delivery", "payment",
                                                         "address_id", "province")})
        quote = state["quote"] if basket["lines"] else None  # as the web: none while empty
        return {
            "customer": _customer(member), **price_fields(access), "q": q,
            "results": _products(storefront.search_products(
                q, query["page"], access, per_page=RESULTS_PER_PAGE)) if q else None,
            "frequent": [] if q else [product_item(card) for card in storefront.cards(
                checkout.frequent_products(customer, FREQUENT_PRODUCTS), access)],
            "cart": basket,
            "checkout": {
                "options": state["options"], "delivery": state["delivery"],
                "payment": state["payment"], "addresses": state["addresses"],
                "new_address": {k: state["new_address"].get(k) for k in ADDRESS_KEYS}
                if not state["addresses"] else {},
                "quote": {"goods_total": quote.goods_total, "freight": quote.freight,
                          "total": quote.total,
                          "problem": str(quote.error) if quote.error else None}
                if quote else None},
            "idempotency_key": uuid.uuid4().hex}


@blp.route("/customers/<int:member_id>/order/cart")
class OrderForCart(MethodView):
    @salesmen_only
    @blp.arguments(OrderForCartSchema)
    @blp.response(200, CartSchema)
    @blp.doc(security=SECURED)
    def post(self, body, member_id):
        """Change the customer's cart (代客下单).

        Add quantities (all valid or nothing added), set a line's quantity, or remove a
        line; prices are the customer's."""
        member = scope.customer_to_order_for(current_user, member_id)
        customer = member.user
        if "quantities" in body:
            cart.add_to_cart(customer, body["quantities"])
        elif body["remove"]:
            checkout.remove_cart_line(customer, body["line_id"])
        else:
            checkout.set_cart_quantity(customer, body["line_id"], body["quantity"])
        return cart_body(customer, member)


@blp.route("/customers/<int:member_id>/order/submit")
class OrderForSubmit(MethodView):
    @salesmen_only
    @blp.arguments(SubmitSchema)
    @blp.response(201, SalesOrderSchema)
    @blp.doc(security=SECURED)
    def post(self, body, member_id):
        """Submit the customer's cart as their order, placed by me (代客下单).

        The customer is told. The same idempotency key returns the same order; a changed
        total (expected_total) is refused with the new one."""
        member = scope.customer_to_order_for(current_user, member_id)
        data = {k: (str(v) if k == "address_id" else v) for k, v in body.items()}
        # The order is of the member's region, one of mine: it is on my order page.
        return _order_page(checkout.submit(member.user, current_user, data))


# ---- routes: my QR code and my performance ----------------------------------------------

@blp.route("/qr")
class SalesQr(MethodView):
    @salesmen_only
    @blp.response(200, QrSchema)
    @blp.doc(security=SECURED)
    def get(self):
        """My personal QR code: its sign-up link and images.

        Customers who sign up through it become my customers."""
        profile, code = referral.my_referral(current_user)
        return {"name": profile.name, "code": code,
                "link": url_for("auth.register", ref=code, _external=True),
                "png_url": url_for("api_sales.SalesQrPng"),
                "svg_url": url_for("api_sales.SalesQrSvg")}


@blp.route("/qr.png")
class SalesQrPng(MethodView):
    @salesmen_only
    @blp.arguments(QrImageQuerySchema, location="query")
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/png")
    @blp.doc(security=SECURED)
    def get(self, query):
        """My QR code as a PNG image."""
        return _qr_image("png", query["download"])


@blp.route("/qr.svg")
class SalesQrSvg(MethodView):
    @salesmen_only
    @blp.arguments(QrImageQuerySchema, location="query")
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/svg+xml")
    @blp.doc(security=SECURED)
    def get(self, query):
        """My QR code as an SVG image."""
        return _qr_image("svg", query["download"])


@blp.route("/performance")
class SalesPerformance(MethodView):
    @salesmen_only
    @blp.response(200, PerformanceSchema)
    @blp.doc(security=SECURED)
    def get(self):
        """My performance (经理业绩) this month and last month.

        Shanghai months: members brought through my QR code, orders and sales of my
        customers and of the orders I placed for a customer (closed orders do not
        count)."""
        result = figures.performance(current_user)
        salesman = scope.salesman_of(current_user)
        return {"name": salesman.name if salesman else None,
                "this_month": _month(result.this_month),
                "last_month": _month(result.last_month)}
