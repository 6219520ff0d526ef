"""Money over the API: transfer vouchers on my orders, my account (what I owe, my credit,
the entries), my monthly statements (对账单: read, download, confirm or dispute), and the
cash a driver holds. Each route one call of the payments services the web calls.

A voucher is sent on one of my own orders (scope.own_order) and a statement must be one
of my own: anyone else's is a 404, as on the web."""

from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.members import services as members
from app.ordering import scope
from app.payments import cash, credit, ledger, statement_files, statements, vouchers
from app.payments.labels import ENTRY_KIND_LABELS, STATEMENT_STATUS_LABELS
from app.payments.models import EntryKind, StatementStatus
from app.platform import ids
from app.platform.errors import NotFound
from app.platform.security import DRIVER_END, MEMBER_CENTRE
from app.views.api.errors import holding
from app.views.api.forms import FileField, accept_multipart, without_blanks
from app.views.api.order_shapes import OrderDetailSchema, money, order_detail
from app.views.downloads import private_attachment

blp = Blueprint("api_money", __name__, description="Transfer vouchers, my account and "
                                                   "statements, a driver's cash")
accept_multipart(blp)
SECURED = [{"bearer": []}]
members_only = holding(MEMBER_CENTRE)
drivers_only = holding(DRIVER_END)


# ---- schemas ---------------------------------------------------------------------------

class VoucherFormSchema(Schema):
    class Meta:
        description = "multipart/form-data: the transfer screenshot `photo` and its details"

    photo = FileField(load_default=None, metadata={"description": "required (the service "
                                                                  "says so)"})
    amount = fields.String(load_default="", validate=validate.Length(max=20),
                           metadata={"description": "yuan, e.g. 1280.00"})
    paid_on = fields.String(load_default="", validate=validate.Length(max=10),
                            metadata={"description": "the transfer's date, YYYY-MM-DD"})
    remark = fields.String(load_default="", validate=validate.Length(max=255))


class CursorQuerySchema(Schema):
    before = fields.String(validate=validate.Length(max=20), metadata={
        "description": "next_before of the previous page"})


class EntrySchema(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True, attribute="created_at")
    kind = fields.String(required=True, validate=validate.OneOf(EntryKind.ALL))
    kind_label = fields.String(required=True)
    order_no = fields.String(required=True)
    amount = money(required=True, metadata={"description": "+ owed, − paid or refunded"})


class AgingSchema(Schema):
    buckets = fields.List(money(), required=True, metadata={
        "description": "owed by age: 0–30, 31–60, 61–90, over 90 days"})
    since = fields.Date(allow_none=True, metadata={
        "description": "the oldest delivery not yet paid for"})


class AccountSchema(Schema):
    balance = money(required=True, metadata={"description": "what I owe (− paid ahead)"})
    monthly_settlement = fields.Boolean(required=True)
    credit_limit = money(allow_none=True, metadata={"description": "none: no limit set"})
    available = money(allow_none=True, metadata={
        "description": "what I may still order on account (统一结算)"})
    aging = fields.Nested(AgingSchema, required=True)
    entries = fields.List(fields.Nested(EntrySchema), required=True)
    next_before = fields.String(allow_none=True)


class StatementSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    month = fields.String(required=True, metadata={"description": "YYYY-MM"})
    opening = money(required=True)
    debits = money(required=True)
    credits = money(required=True)
    closing = money(required=True)
    aging = fields.List(money(), required=True)
    status = fields.String(required=True, validate=validate.OneOf(StatementStatus.ALL))
    status_label = fields.String(required=True)
    member_remark = fields.String(allow_none=True)


class StatementLineSchema(Schema):
    at = fields.DateTime(required=True, attribute="posted_at")
    kind = fields.String(required=True, validate=validate.OneOf(EntryKind.ALL))
    kind_label = fields.String(required=True)
    order_no = fields.String(required=True)
    amount = money(required=True)
    balance = money(required=True)


class StatementDetailSchema(StatementSchema):
    lines = fields.List(fields.Nested(StatementLineSchema), required=True)


class StatementPageSchema(Schema):
    items = fields.List(fields.Nested(StatementSchema), required=True)


class StatementAnswerSchema(Schema):
    confirm = fields.Boolean(required=True, metadata={
        "description": "true: 对账确认 (the month is locked); false: dispute it"})
    remark = fields.String(load_default="", validate=validate.Length(max=500), metadata={
        "description": "required to dispute: what does not match"})


class HeldCashSchema(Schema):
    order_no = fields.String(required=True)
    shop_name = fields.String(allow_none=True)
    amount = money(required=True)
    collected_at = fields.DateTime(required=True)


class DriverCashSchema(Schema):
    total = money(required=True)
    since = fields.DateTime(allow_none=True)
    items = fields.List(fields.Nested(HeldCashSchema), required=True)


# ---- shaping ---------------------------------------------------------------------------

def _entry(entry) -> dict:
    return {"id": entry.id, "created_at": entry.created_at, "kind": entry.kind,
            "kind_label": str(ENTRY_KIND_LABELS.get(entry.kind, entry.kind)),
            "order_no": entry.order.order_no, "amount": entry.amount}


def _statement(statement, lines: bool = False) -> dict:
    body = {"id": statement.id, "number": statement.number,
            "month": f"{statement.period:%Y-%m}", "opening": statement.opening,
            "debits": statement.debits, "credits": statement.credits,
            "closing": statement.closing, "aging": statement.aging,
            "status": statement.status,
            "status_label": str(STATEMENT_STATUS_LABELS.get(statement.status, "")),
            "member_remark": statement.member_remark}
    if lines:
        body["lines"] = [{"posted_at": line.posted_at, "kind": line.kind,
                          "kind_label": str(ENTRY_KIND_LABELS.get(line.kind, line.kind)),
                          "order_no": line.order_no, "amount": line.amount,
                          "balance": line.balance} for line in statement.lines]
    return body


def _my_member():
    member = members.member_of(current_user)
    if member is None:
        raise NotFound(_l("The page you asked for does not exist."))
    return member


# ---- routes ----------------------------------------------------------------------------

@blp.route("/orders/<order_no>/vouchers")
class Vouchers(MethodView):
    @jwt_required()
    @blp.arguments(VoucherFormSchema(), location="multipart")
    @blp.response(201, OrderDetailSchema)
    @blp.alt_response(400, description="Refused (the message says why); no photo kept")
    @blp.alt_response(404, description="Not one of my orders")
    @blp.doc(security=SECURED)
    def post(self, form, order_no):
        """Send the screenshot of a bank, WeChat or Alipay transfer for one of my unpaid
        orders; the salesman or customer service checks it. Answers the order."""
        data = without_blanks(form)
        vouchers.upload(current_user, order_no, data.pop("photo", None), data)
        return order_detail(scope.own_order(current_user, order_no), current_user)


@blp.route("/me/account")
class Account(MethodView):
    @members_only
    @blp.arguments(CursorQuerySchema(), location="query")
    @blp.response(200, AccountSchema)
    @blp.doc(security=SECURED)
    def get(self, query):
        """What I owe, my credit limit and what is still available (统一结算), the aging
        of what I owe, and my account's entries newest first, 20 at a time."""
        member = _my_member()
        rows = ledger.entries(member.id, ids.parse_cursor(query.get("before")), limit=21)
        aging = ledger.agings([member.id])[member.id]
        return {"balance": ledger.balance(member.id),
                "monthly_settlement": bool(member.monthly_settlement),
                "credit_limit": member.credit_limit, "available": credit.available(member),
                "aging": {"buckets": aging.buckets, "since": aging.since},
                "entries": [_entry(e) for e in rows[:20]],
                "next_before": str(rows[19].id) if len(rows) > 20 else None}


@blp.route("/me/statements")
class Statements(MethodView):
    @members_only
    @blp.response(200, StatementPageSchema)
    @blp.doc(security=SECURED)
    def get(self):
        """My monthly statements (对账单), the newest month first (the last 24)."""
        return {"items": [_statement(s) for s in statements.of_member(_my_member().id)]}


@blp.route("/me/statements/<int:statement_id>")
class StatementDetail(MethodView):
    @members_only
    @blp.response(200, StatementDetailSchema)
    @blp.alt_response(404, description="Not one of my statements")
    @blp.doc(security=SECURED)
    def get(self, statement_id):
        """One of my statements with its lines."""
        return _statement(statements.own(current_user, statement_id), lines=True)

    @members_only
    @blp.arguments(StatementAnswerSchema())
    @blp.response(200, StatementDetailSchema)
    @blp.alt_response(400, description="Confirmed already (locked), or a dispute "
                                       "without a remark")
    @blp.alt_response(404, description="Not one of my statements")
    @blp.doc(security=SECURED)
    def post(self, body, statement_id):
        """Confirm the month (对账确认; it is locked from then on) or dispute it with a
        remark."""
        return _statement(statements.respond(current_user, statement_id, body["confirm"],
                                             body["remark"]), lines=True)


def _download(statement_id, kind: str):
    return private_attachment(*statement_files.render(statements.own(current_user, statement_id),
                                                      kind))


@blp.route("/me/statements/<int:statement_id>/pdf")
class StatementPdf(MethodView):
    @members_only
    @blp.response(200, content_type="application/pdf", description="The statement as PDF")
    @blp.alt_response(404, description="Not one of my statements")
    @blp.doc(security=SECURED)
    def get(self, statement_id):
        """One of my statements as a PDF."""
        return _download(statement_id, "pdf")


@blp.route("/me/statements/<int:statement_id>/xlsx")
class StatementWorkbook(MethodView):
    @members_only
    @blp.response(200, content_type="application/vnd.openxmlformats-officedocument."
                  "spreadsheetml.sheet", description="The statement as an Excel workbook")
    @blp.alt_response(404, description="Not one of my statements")
    @blp.doc(security=SECURED)
    def get(self, statement_id):
        """One of my statements as an Excel workbook."""
        return _download(statement_id, "xlsx")


@blp.route("/driver/cash")
class DriverCash(MethodView):
    @drivers_only
    @blp.response(200, DriverCashSchema)
    @blp.doc(security=SECURED)
    def get(self):
        """The cash on delivery I collected and have not handed in yet, oldest first."""
        driver = scope.staff_profile(current_user, "driver")
        if driver is None:
            raise NotFound(_l("The page you asked for does not exist."))
        held = cash.held_by(driver.id)
        return {"total": held.total, "since": held.since,
                "items": [{"order_no": p.order.order_no,
                           "shop_name": p.order.member.shop_name, "amount": p.amount,
                           "collected_at": p.created_at} for p in held.payments]}
