"""The salesman's end over the API, continued: my customers, ordering on a customer's
behalf (代客下单), my QR code and my performance. The same blueprint as app/views/api/
sales.py (its routes join it when this module is imported); a customer to order for is
found only through scope.customer_to_order_for: outside my regions they do not exist
(404).
"""

import uuid

from flask import Response, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_jwt_extended import current_user
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.catalog import pricing, storefront
from app.members import referral
from app.ordering import cart, checkout, queries, scope
from app.ordering import performance as figures
from app.platform import ids
from app.platform.ids import MAX_PAGE
from app.views.api.catalog import ProductSchema, price_fields, product_item
from app.views.api.order_shapes import money
from app.views.api.orders import AddressSchema, CartSchema, SubmitSchema, cart_body
from app.views.api.sales import (
    ID,
    QUANTITY,
    SECURED,
    SalesOrderSchema,
    Whole,
    blp,
    order_page,
    salesmen_only,
    text,
)

# As many as the web's pages show.
RESULTS_PER_PAGE = 10
FREQUENT_PRODUCTS = 6
ADDRESS_KEYS = ("province", "city", "district", "street", "contact", "phone")


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


# ---- routes: my customers and 代客下单 ---------------------------------------------------------

@blp.route("/customers")
class SalesCustomers(MethodView):
    @salesmen_only
    @blp.arguments(CustomerQuerySchema(), location="query")
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
    @blp.arguments(OrderForQuerySchema(), location="query")
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
    @blp.arguments(OrderForCartSchema())
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
    @blp.arguments(SubmitSchema())
    @blp.response(201, SalesOrderSchema)
    @blp.doc(security=SECURED)
    def post(self, body, member_id):
        """Submit the customer's cart as their order, placed by me (代客下单).

        The customer is told. The same idempotency key returns the same order; a changed
        total (expected_total) is refused with the new one."""
        member = scope.customer_to_order_for(current_user, member_id)
        data = {k: (str(v) if k == "address_id" else v) for k, v in body.items()}
        # The order is of the member's region, one of mine: it is on my order page.
        return order_page(checkout.submit(member.user, current_user, data))


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
    @blp.arguments(QrImageQuerySchema(), location="query")
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/png")
    @blp.doc(security=SECURED)
    def get(self, query):
        """My QR code as a PNG image."""
        return _qr_image("png", query["download"])


@blp.route("/qr.svg")
class SalesQrSvg(MethodView):
    @salesmen_only
    @blp.arguments(QrImageQuerySchema(), location="query")
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
