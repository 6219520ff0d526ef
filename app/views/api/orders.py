"""The customer's cart, checkout and orders over the API: the same services as the
storefront (ordering.cart, checkout, queries, history, workflow)."""

from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.members import services as members
from app.ordering import cart, checkout, queries, scope, workflow
from app.ordering.states import CUSTOMER_TABS, Pay
from app.payments import credit
from app.platform import ids
from app.platform.ids import MAX_ID
from app.views.api.order_shapes import (
    OrderDetailSchema,
    OrderSchema,
    money,
    order_detail,
    order_summary,
)

blp = Blueprint("api_orders", __name__, description="Cart, checkout and my orders")
SECURED = [{"bearer": []}]
TAB_KEYS = [key for key, _label, _states in CUSTOMER_TABS]
SPEC_ID = fields.Integer(validate=validate.Range(1, MAX_ID))


# ---- schemas -----------------------------------------------------------------------------

class CartLineSchema(Schema):
    id = fields.Integer(required=True)
    spec_id = fields.Integer(required=True)
    product_id = fields.Integer(required=True)
    product_name = fields.String(required=True)
    model = fields.String(allow_none=True)
    spec = fields.String(allow_none=True)
    base_unit = fields.String(required=True)
    inner_qty = fields.Integer(required=True, metadata={"description": "the MOQ and step"})
    quantity = fields.Integer(required=True, metadata={"description": "in base units"})
    unit_price = money(allow_none=True)
    subtotal = money(allow_none=True)
    problems = fields.List(fields.String(), required=True,
                           metadata={"description": "changes since adding, in words"})
    blocking = fields.Boolean(required=True,
                              metadata={"description": "must be corrected before checkout"})


class CartSchema(Schema):
    lines = fields.List(fields.Nested(CartLineSchema), required=True)
    total = money(required=True)
    can_checkout = fields.Boolean(required=True)


class AddSchema(Schema):
    quantities = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[1-9]\d{0,9}$")),
                             values=fields.Integer(validate=validate.Range(0, 10_000_000)),
                             required=True, validate=validate.Length(min=1, max=200),
                             metadata={"description": "{spec id: quantity in base units}, "
                                                      "each a multiple of the MOQ"})


class QuantitySchema(Schema):
    quantity = fields.Integer(required=True, validate=validate.Range(0, 10_000_000),
                              metadata={"description": "0 removes the line"})


class QuoteQuerySchema(Schema):
    delivery = fields.String(validate=validate.Length(max=24))
    payment = fields.String(validate=validate.Length(max=24))
    address_id = SPEC_ID


class AddressSchema(Schema):
    id = fields.Integer(required=True)
    province = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    district = fields.String(allow_none=True)
    street = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class QuoteSchema(Schema):
    options = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                          required=True,
                          metadata={"description": "{delivery: [payments it allows]}"})
    delivery = fields.String(allow_none=True)
    payment = fields.String(allow_none=True)
    addresses = fields.List(fields.Nested(AddressSchema), required=True)
    goods_total = money(required=True)
    freight = money(allow_none=True)
    total = money(allow_none=True)
    problem = fields.String(allow_none=True)
    credit_available = money(allow_none=True, metadata={
        "description": "统一结算 (payment monthly) with a credit limit: what may still be "
                       "ordered on account; a larger order is refused at submit"})


class SubmitSchema(Schema):
    idempotency_key = fields.String(required=True, validate=validate.Length(8, 64),
                                    metadata={"description": "one per checkout: a retried "
                                                             "submit returns the same order"})
    delivery = fields.String(required=True, validate=validate.Length(max=24))
    payment = fields.String(required=True, validate=validate.Length(max=24))
    address_id = fields.Integer(validate=validate.Range(1, MAX_ID), metadata={
        "description": "a saved address; or give the new address's fields below"})
    province = fields.String(validate=validate.Length(max=32))
    city = fields.String(validate=validate.Length(max=32))
    district = fields.String(validate=validate.Length(max=32))
    street = fields.String(validate=validate.Length(max=255))
    contact = fields.String(validate=validate.Length(max=64))
    phone = fields.String(validate=validate.Length(max=20))
    expected_total = fields.String(validate=validate.Length(max=20), metadata={
        "description": "the total the customer saw; refused if it changed"})
    remark = fields.String(validate=validate.Length(max=500))
    invoice_title = fields.String(validate=validate.Length(max=128))
    tax_number = fields.String(validate=validate.Length(max=32))


class OrderPageSchema(Schema):
    items = fields.List(fields.Nested(OrderSchema), required=True)
    next_before = fields.Integer(allow_none=True,
                                 metadata={"description": "cursor of the next page"})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class OrderQuerySchema(Schema):
    tab = fields.String(load_default="all", validate=validate.OneOf(TAB_KEYS))
    before = fields.Integer(validate=validate.Range(1, MAX_ID))


class ActionSchema(Schema):
    action = fields.String(required=True,
                           validate=validate.OneOf(["cancel", "confirm_receipt", "reorder"]))


# ---- what the customer sees ---------------------------------------------------------------

def _cart() -> dict:
    return cart_body(current_user)


def cart_body(user, member=None) -> dict:
    """A cart as the API shows it; `member`: priced as that member (代客下单)."""
    view = checkout.cart_view(user, member)
    return {"total": view.total, "can_checkout": view.can_checkout, "lines": [
        {"id": row.line.id, "spec_id": row.spec.id, "product_id": row.spec.product_id,
         "product_name": row.spec.product.name, "model": row.spec.model,
         "spec": row.spec.spec, "base_unit": row.spec.pack_unit.base_unit,
         "inner_qty": cart.moq(row.spec), "quantity": row.line.quantity,
         "unit_price": row.unit_price, "subtotal": row.subtotal,
         "problems": [str(p) for p in row.problems], "blocking": row.blocking}
        for row in view.rows]}


# ---- routes --------------------------------------------------------------------------------

@blp.route("/cart")
class Cart(MethodView):
    @jwt_required()
    @blp.response(200, CartSchema)
    @blp.doc(security=SECURED)
    def get(self):
        """The cart, each line with the changes since it was added."""
        return _cart()

    @jwt_required()
    @blp.arguments(AddSchema())
    @blp.response(200, CartSchema)
    @blp.doc(security=SECURED)
    def post(self, body):
        """Add quantities (base units, MOQ multiples); all valid or nothing added."""
        cart.add_to_cart(current_user, body["quantities"])
        return _cart()


@blp.route("/cart/lines/<int:line_id>")
class CartLine(MethodView):
    @jwt_required()
    @blp.arguments(QuantitySchema())
    @blp.response(200, CartSchema)
    @blp.doc(security=SECURED)
    def put(self, body, line_id):
        """Set a line's quantity (0 removes it)."""
        checkout.set_cart_quantity(current_user, line_id, body["quantity"])
        return _cart()

    @jwt_required()
    @blp.response(200, CartSchema)
    @blp.doc(security=SECURED)
    def delete(self, line_id):
        """Remove a line."""
        checkout.remove_cart_line(current_user, line_id)
        return _cart()


@blp.route("/checkout")
class Checkout(MethodView):
    @jwt_required()
    @blp.arguments(QuoteQuerySchema(), location="query")
    @blp.response(200, QuoteSchema)
    @blp.doc(security=SECURED)
    def get(self, query):
        """The checkout's choices and quote: deliveries with their payments, the saved
        addresses, goods, freight and total. Writes nothing."""
        values = {k: str(v) for k, v in query.items()}
        member = members.member_of(current_user)
        state = checkout.form_state(current_user, member, values)
        quote = state["quote"]
        return {"options": state["options"], "delivery": state["delivery"],
                "payment": state["payment"], "addresses": state["addresses"],
                "goods_total": quote.goods_total, "freight": quote.freight,
                "total": quote.total, "problem": str(quote.error) if quote.error else None,
                "credit_available": credit.available(member)
                if state["payment"] == Pay.MONTHLY else None}


@blp.route("/orders")
class Orders(MethodView):
    @jwt_required()
    @blp.arguments(OrderQuerySchema(), location="query")
    @blp.response(200, OrderPageSchema)
    @blp.doc(security=SECURED)
    def get(self, query):
        """My orders in a tab, newest first, 20 at a time (pass `next_before` back)."""
        rows, next_before = queries.customer_orders(current_user, query["tab"],
                                                    ids.parse_cursor(query.get("before")))
        return {"items": [order_summary(order) for order in rows], "next_before": next_before,
                "counts": queries.customer_tab_counts(current_user)}

    @jwt_required()
    @blp.arguments(SubmitSchema())
    @blp.response(201, OrderDetailSchema)
    @blp.doc(security=SECURED)
    def post(self, body):
        """Submit the cart as one order. The same idempotency key returns the same
        order; a changed total (expected_total) is refused with the new one."""
        data = {k: (str(v) if k == "address_id" else v) for k, v in body.items()}
        order = checkout.submit(current_user, current_user, data)
        return order_detail(order, current_user)


@blp.route("/orders/<order_no>")
class OrderDetail(MethodView):
    @jwt_required()
    @blp.response(200, OrderDetailSchema)
    @blp.doc(security=SECURED)
    def get(self, order_no):
        """One of my orders: lines, history in my words, the driver, what I may do."""
        return order_detail(scope.own_order(current_user, order_no), current_user)


@blp.route("/orders/<order_no>/actions")
class OrderAction(MethodView):
    @jwt_required()
    @blp.arguments(ActionSchema())
    @blp.response(200, OrderDetailSchema)
    @blp.doc(security=SECURED)
    def post(self, body, order_no):
        """Cancel (while waiting for confirmation), confirm receipt, or reorder (the
        lines go back in the cart)."""
        order = scope.own_order(current_user, order_no)
        if body["action"] == "reorder":
            checkout.reorder(current_user, order)
        else:
            order = workflow.apply(order, body["action"], current_user)
        return order_detail(order, current_user)
