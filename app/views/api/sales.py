"""The salesman's end over the API: orders of my regions by tab with counts, the order
page, and every action the business end offers, each through workflow.apply."""


from flask.views import MethodView
from flask_jwt_extended import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.ordering import history, queries, scope, workflow
from app.platform import ids
from app.platform.ids import MAX_ID
from app.platform.security import SALES_END
from app.views.api.errors import holding
from app.views.api.order_shapes import (
    StaffOrderDetailSchema,
    StaffOrderSchema,
    order_detail,
    order_summary,
)

salesmen_only = holding(SALES_END)
blp = Blueprint("api_sales", __name__, description="The salesman's end (业务端)")
SECURED = [{"bearer": []}]
TAB_KEYS = list(queries.SALES_TAB_KEYS)


class SalesQuerySchema(Schema):
    tab = fields.String(load_default="pending", validate=validate.OneOf(TAB_KEYS))
    before = fields.Integer(validate=validate.Range(1, MAX_ID))


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


class SalesOrderSchema(StaffOrderDetailSchema):
    drivers = fields.List(fields.Nested(DriverChoiceSchema), required=True,
                          metadata={"description": "who may be assigned, when assigning is "
                                                   "possible"})


FIELDS = sorted({name for names in workflow.BUSINESS_END_ACTIONS.values() for name in names})


# The action and every field any action takes, as text: the workflow's guards check them.
SalesActionSchema = Schema.from_dict({
    "action": fields.String(required=True,
                            validate=validate.OneOf(list(workflow.BUSINESS_END_ACTIONS))),
    **{name: fields.String(validate=validate.Length(max=500)) for name in FIELDS},
}, name="SalesActionSchema")


def _order_page(order) -> dict:
    body = order_detail(order, current_user, history.STAFF)
    body["drivers"] = [{"id": d.id, "name": d.name, "phone": d.phone, "plate": d.plate,
                        "load": load} for d, load in workflow.drivers_for(order)] \
        if "assign_driver" in body["actions"] else []
    return body


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
    @blp.response(200, SalesOrderSchema)
    @blp.doc(security=SECURED)
    def get(self, order_no):
        """An order of my regions: lines, history, what I may do now, the drivers."""
        return _order_page(scope.get_order(current_user, order_no=order_no))


@blp.route("/orders/<order_no>/actions")
class SalesOrderAction(MethodView):
    @salesmen_only
    @blp.arguments(SalesActionSchema)
    @blp.response(200, SalesOrderSchema)
    @blp.doc(security=SECURED)
    def post(self, body, order_no):
        """Edit, confirm, assign a driver, ship, ready for pickup, collected, close, mark
        paid or decide a refund; the fields each takes are those of the web's forms."""
        order = scope.get_order(current_user, order_no=order_no)
        action = body.pop("action")
        data = {name: value for name, value in body.items()
                if name in workflow.BUSINESS_END_ACTIONS[action] and value.strip()}
        return _order_page(workflow.apply(order, action, current_user, **data))
