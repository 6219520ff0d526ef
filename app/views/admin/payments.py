"""财务: receivables (应收账款) with their aging, transfer vouchers waiting for a decision
(待确认付款凭证) and drivers' cash (司机交款).

Every rule is in app/payments/ (ledger, credit, vouchers, cash) and app/ordering/scope.py;
these views read the request, call them and show what they say. The few batch reads the
lists need and the services do not offer yet are the helpers at the bottom of this
module (each says where it belongs).
"""

from dataclasses import dataclass
from decimal import Decimal

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from app.extensions import db
from app.members.models import Member, Region
from app.ordering import scope
from app.ordering.states import PAYMENT_LABELS, PAYMENT_STATUS_LABELS
from app.payments import cash, credit, ledger, statement_files, statements, vouchers
from app.payments.labels import AGING_LABELS, ENTRY_KIND_LABELS, STATEMENT_STATUS_LABELS
from app.payments.models import CashHandInLine, StatementStatus, Voucher
from app.platform import accounts, ids, uploads
from app.platform.errors import DomainError, NotFound
from app.platform.time import local_date
from app.views.downloads import private_attachment

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
PAGE_SIZES = (25, 50, 100)
MAX_QUERY = 64  # characters of a search

def _size(value) -> int:
    number = ids.parse_id(value)
    return number if number in PAGE_SIZES else PAGE_SIZES[0]


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def _can(permission, view) -> bool:
    return accounts.can(current_user, permission, view)


def _back(default: str, prefix: str) -> str:
    return ids.safe_target(request.form.get("next"), default, prefix=prefix)


# ---- 应收账款 ------------------------------------------------------------------------------

@dataclass
class ReceivableFilters:
    region: int | None = None
    owing: bool = True  # only members who owe something (the default)
    q: str = ""

    @classmethod
    def from_args(cls, args):
        return cls(region=ids.parse_id(args.get("region")),
                   owing=args.get("show") != "all",
                   q=(args.get("q") or "").strip()[:MAX_QUERY])

    def values(self) -> dict:
        """The filters as URL arguments (the defaults left out)."""
        found = {"region": self.region, "show": None if self.owing else "all",
                 "q": self.q or None}
        return {k: v for k, v in found.items() if v is not None}


@dataclass
class Receivable:
    member: Member
    balance: Decimal
    available: Decimal | None
    aging: ledger.Aging


class ReceivablesView(BaseView):
    """应收账款: what each member owes, its credit limit and aging; a member's ledger."""

    route_base = "/admin/receivables"
    default_view = "list"
    base_permissions = ["can_list", "can_show"]

    @expose("/")
    @has_access
    def list(self):
        filters = ReceivableFilters.from_args(request.args)
        size = _size(request.args.get("psize"))
        page = ids.parse_page(request.args.get("page"))
        found = ledger.receivables(current_user, filters.region, filters.q, filters.owing,
                                   page, size)
        rows, total, owed, page = found.rows, found.total, _money(found.owed), found.page
        members = [member for member, _balance in rows]
        balances = {member.id: _money(balance) for member, balance in rows}
        agings = ledger.agings(list(balances))
        available = credit.available_many(members, balances)
        items = [Receivable(m, balances[m.id], available[m.id], agings[m.id]) for m in members]
        pages = max(1, -(-total // size))
        return self.render_template(
            "admin/payments/receivables.html", title=_("Receivables"), items=items,
            filters=filters, active=filters.values(), total=total, owed=owed, page=page,
            pages=pages, size=size, page_sizes=PAGE_SIZES, aging_labels=AGING_LABELS,
            regions=db.session.scalars(select(Region).order_by(Region.sort_order,
                                                               Region.id)).all(),
            list_url=self._list_url)

    @staticmethod
    def _list_url(**changes):
        values = {**ReceivableFilters.from_args(request.args).values(), **changes}
        if request.args.get("psize") and "psize" not in changes:
            values["psize"] = request.args.get("psize")
        return url_for("ReceivablesView.list",
                       **{k: v for k, v in values.items()
                          if v not in (None, "") and not (k == "page" and v == 1)})

    @expose("/member/<int:pk>")
    @has_access
    def show(self, pk):
        member = db.session.scalar(select(Member).where(
            Member.id == pk, scope.member_condition(current_user)))
        if member is None:
            abort(404)
        size = _size(request.args.get("psize"))
        before = ids.parse_cursor(request.args.get("before"))
        entries = ledger.entries(member.id, before, size + 1)
        older = entries[size - 1].id if len(entries) > size else None
        entries = entries[:size]
        balance = _money(ledger.balance(member.id))
        exposure = _money(credit.exposure(member.id))
        return self.render_template(
            "admin/payments/receivable_member.html",
            title=_("Account of %(shop)s", shop=member.shop_name or member.phone),
            member=member, entries=entries, balance=balance, exposure=exposure,
            available=credit.available(member), aging=ledger.agings([member.id])[member.id],
            running=ledger.running_balances(member.id, entries),
            entry_labels=ENTRY_KIND_LABELS, aging_labels=AGING_LABELS,
            page=_Keyset(newer=None, older=older), paged=bool(before), size=size,
            page_sizes=PAGE_SIZES,
            can_open_orders=_can("can_show", "OrderListView"),
            can_edit_member=_can("can_edit", "MemberView"),
            list_url=lambda **changes: url_for(
                "ReceivablesView.show", pk=member.id,
                **{k: v for k, v in {"psize": request.args.get("psize"), **changes}.items()
                   if v not in (None, "")}))


@dataclass
class _Keyset:
    """What admin/_keyset_pager.html reads."""

    newer: int | None
    older: int | None


# ---- 待确认付款凭证 ------------------------------------------------------------------------

class VoucherView(BaseView):
    """Transfer vouchers waiting for a decision, oldest first: confirm or reject each."""

    route_base = "/admin/vouchers"
    default_view = "list"
    base_permissions = ["can_list", "can_decide"]

    @expose("/")
    @has_access
    def list(self):
        size = _size(request.args.get("psize"))
        after = ids.parse_cursor(request.args.get("after"))
        items = vouchers.waiting(current_user, after, size + 1)
        more = len(items) > size
        items = items[:size]
        return self.render_template(
            "admin/payments/vouchers.html", title=_("Vouchers to confirm"), vouchers=items,
            elsewhere=vouchers.used_elsewhere(items), paged=bool(after),
            next_after=items[-1].id if more and items else None, size=size,
            page_sizes=PAGE_SIZES, payment_labels=PAYMENT_LABELS,
            payment_status_labels=PAYMENT_STATUS_LABELS, media_url=uploads.media_url,
            can_decide=_can("can_decide", "VoucherView"),
            can_open_orders=_can("can_show", "OrderListView"),
            can_list_orders=_can("can_list", "OrderListView"),
            here=request.full_path.rstrip("?"))

    @expose("/<int:pk>/confirm", methods=["POST"])
    @has_access
    @permission_name("decide")
    def confirm(self, pk):
        return self._decide(pk, approve=True)

    @expose("/<int:pk>/reject", methods=["POST"])
    @has_access
    @permission_name("decide")
    def reject(self, pk):
        return self._decide(pk, approve=False)

    def _decide(self, pk, approve: bool):
        voucher = db.session.get(Voucher, pk)
        if voucher is None:
            abort(404)
        try:
            order = scope.get_order(current_user, order_id=voucher.order_id)
        except NotFound:
            abort(404)
        back = _back(url_for("VoucherView.list"), self.route_base + "/")
        order_no = order.order_no
        try:
            vouchers.decide(current_user, order, voucher.id, approve,
                            None if approve else request.form.get("reason"),
                            checked_elsewhere=request.form.get("checked_elsewhere") == "1")
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            flash(_("Payment confirmed for order %(no)s.", no=order_no) if approve else
                  _("Voucher of order %(no)s rejected. The customer has been told the "
                    "reason.", no=order_no), "success" if approve else "info")
        return redirect(back)


# ---- 司机交款 ------------------------------------------------------------------------------

class CashView(BaseView):
    """Cash the drivers collected at the door and still hold; hand-ins and their
    differences (短款/长款) until explained."""

    route_base = "/admin/cash"
    default_view = "list"
    base_permissions = ["can_list", "can_show", "can_hand_in", "can_explain"]

    @expose("/")
    @has_access
    def list(self):
        unexplained = cash.unexplained()
        return self.render_template(
            "admin/payments/cash.html", title=_("Drivers' cash"), holding=cash.holding(),
            unexplained=unexplained, details=hand_in_details(unexplained),
            can_hand_in=_can("can_hand_in", "CashView"),
            can_explain=_can("can_explain", "CashView"), here=request.path)

    @expose("/driver/<int:pk>")
    @has_access
    def show(self, pk):
        return self._driver_page(pk)

    def _driver_page(self, pk, status=200, chosen=None):
        try:
            held = cash.held_by(pk)
        except NotFound:
            abort(404)
        chosen = {p.id for p in held.payments} if chosen is None else chosen
        checked = sum((Decimal(p.amount) for p in held.payments if p.id in chosen), ZERO)
        received = request.form.get("received") if request.method == "POST" else None
        return self.render_template(
            "admin/payments/cash_driver.html",
            title=_("Cash held by %(name)s", name=held.driver.name), held=held,
            chosen=chosen, checked=checked,
            received=received if received is not None else f"{checked:.2f}",
            note=request.form.get("note", "") if request.method == "POST" else "",
            can_hand_in=_can("can_hand_in", "CashView"),
            can_open_orders=_can("can_show", "OrderListView")), status

    @expose("/driver/<int:pk>/hand-in", methods=["POST"])
    @has_access
    def hand_in(self, pk):
        chosen = request.form.getlist("payment_id")
        try:
            hand_in = cash.record_hand_in(current_user, pk, chosen,
                                          request.form.get("received"),
                                          request.form.get("note"))
        except NotFound:
            abort(404)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
            return self._driver_page(pk, 400, {ids.parse_id(c) for c in chosen})
        flash(_("Hand-in recorded: ¥%(received)s counted for orders of ¥%(expected)s.",
                received=f"{hand_in.received:.2f}", expected=f"{hand_in.expected:.2f}"),
              "success")
        if hand_in.difference < 0:
            flash(_("Short by ¥%(amount)s: please write down why below.",
                    amount=f"{-hand_in.difference:.2f}"), "warning")
        elif hand_in.difference > 0:
            flash(_("Over by ¥%(amount)s: please write down why below.",
                    amount=f"{hand_in.difference:.2f}"), "warning")
        return redirect(url_for("CashView.list"))

    @expose("/hand-ins/")
    @has_access
    @permission_name("list")
    def history(self):
        size = _size(request.args.get("psize"))
        before = ids.parse_cursor(request.args.get("before"))
        rows = cash.hand_ins(before, size + 1)
        older = rows[size - 1].id if len(rows) > size else None
        rows = rows[:size]
        return self.render_template(
            "admin/payments/hand_ins.html", title=_("Hand-in history"), hand_ins=rows,
            details=hand_in_details(rows), page=_Keyset(newer=None, older=older),
            paged=bool(before), size=size, page_sizes=PAGE_SIZES,
            can_explain=_can("can_explain", "CashView"),
            here=request.full_path.rstrip("?"),
            list_url=lambda **changes: url_for(
                "CashView.history",
                **{k: v for k, v in {"psize": request.args.get("psize"), **changes}.items()
                   if v not in (None, "")}))

    @expose("/hand-ins/<int:pk>/explain", methods=["POST"])
    @has_access
    def explain(self, pk):
        try:
            cash.explain(current_user, pk, request.form.get("explanation"))
        except NotFound:
            abort(404)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            flash(_("Explanation saved."), "success")
        return redirect(_back(url_for("CashView.list"), self.route_base + "/"))


# ---- loading what a page shows in a few queries (not one a row) ---------------------------

def hand_in_details(hand_ins) -> dict:
    """{hand-in id: (number of orders, name of who recorded it)}."""
    hand_in_ids = [h.id for h in hand_ins]
    if not hand_in_ids:
        return {}
    counts = dict(db.session.execute(
        select(CashHandInLine.hand_in_id, func.count())
        .where(CashHandInLine.hand_in_id.in_(hand_in_ids))
        .group_by(CashHandInLine.hand_in_id)).all())
    user_ids = {h.recorded_by_id for h in hand_ins if h.recorded_by_id}
    model = current_app.appbuilder.sm.user_model
    names = {u.id: accounts.display_name(u) for u in db.session.scalars(
        select(model).where(model.id.in_(user_ids)))} if user_ids else {}
    return {h.id: (counts.get(h.id, 0), names.get(h.recorded_by_id, "—")) for h in hand_ins}


# ---- 对账单 --------------------------------------------------------------------------------

class StatementView(BaseView):
    """Monthly statements of 统一结算 members with their confirmation status; a finished
    month's missing statements issued on demand; each as PDF or Excel."""

    route_base = "/admin/statements"
    default_view = "list"
    base_permissions = ["can_list", "can_issue"]

    @expose("/")
    @has_access
    def list(self):
        size = _size(request.args.get("psize"))
        before = ids.parse_cursor(request.args.get("before"))
        status = request.args.get("status") or None
        status = status if status in StatementStatus.ALL else None
        period = None
        if request.args.get("month"):
            try:
                period = statements.parse_period(request.args.get("month"))
            except DomainError as exc:
                flash(str(exc.message), "warning")
        rows = statements.listing(current_user, period, status, before, size + 1)
        older = rows[size - 1].id if len(rows) > size else None
        last_month = statements.previous_month(statements.month_of(local_date()))
        return self.render_template(
            "admin/payments/statements.html", title=_("Statements"), statements=rows[:size],
            status=status, period=period, statuses=STATEMENT_STATUS_LABELS,
            last_month=f"{last_month:%Y-%m}", page=_Keyset(newer=None, older=older),
            paged=bool(before), size=size, page_sizes=PAGE_SIZES,
            can_issue=_can("can_issue", "StatementView"),
            list_url=lambda **changes: url_for("StatementView.list", **{
                k: v for k, v in {"status": status,
                                  "month": f"{period:%Y-%m}" if period else None,
                                  "psize": request.args.get("psize"), **changes}.items()
                if v not in (None, "")}))

    @expose("/issue", methods=["POST"])
    @has_access
    @permission_name("issue")
    def issue(self):
        try:
            period = statements.parse_period(request.form.get("month"))
        except DomainError as exc:
            flash(str(exc.message), "danger")
            return redirect(url_for("StatementView.list"))
        done = statements.issue(period)
        flash(_("%(n)d statements issued for %(month)s (members who had theirs keep them).",
                n=done.statements, month=f"{period:%Y-%m}"), "success")
        return redirect(url_for("StatementView.list", month=f"{period:%Y-%m}"))

    @expose("/<int:pk>.<fmt>")
    @has_access
    @permission_name("list")
    def file(self, pk, fmt):
        if fmt not in statement_files.FORMATS:
            abort(404)
        try:
            statement = statements.get_for(current_user, pk)
        except NotFound:
            abort(404)
        return private_attachment(*statement_files.render(statement, fmt))
