"""订单: the order list (filters, search, new-order badge, batch delivery notes) and the
order page with every back-office action.

Every change of an order goes through `workflow.apply`; these views only read forms,
call it, and show what it says.
"""

from datetime import datetime

from flask import abort, current_app, flash, g, make_response, redirect, request, url_for
from flask_appbuilder import action, expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, select

from app.extensions import db
from app.members.models import Region
from app.ordering import (
    delivery_note,
    history,
    queries,
    refunds,
    scope,
    workflow,
)
from app.ordering.models import Order
from app.ordering.states import (
    DELIVERY_LABELS,
    OVERRIDE_TARGETS,
    PAYBACK_METHOD_LABELS,
    PAYMENT_LABELS,
    PAYMENT_STATUS_LABELS,
    SHIP_METHOD_LABELS,
    STAFF_LABELS,
    State,
)
from app.payments import paybacks
from app.platform import accounts, ids, paging
from app.platform.errors import DomainError
from app.views.admin.base import PifaModelView

STATE_STYLES = {State.PENDING: "danger", State.CONFIRMED: "warning", State.ASSIGNED: "info",
                State.DELIVERING: "info", State.SHIPPED: "info",
                State.READY_FOR_PICKUP: "info", State.DELIVERED: "success",
                State.RECEIVED: "success", State.CLOSED: "default"}
def new_order_count() -> int:
    """Orders waiting for confirmation, for the menu badge: one COUNT per request, and
    only for people who may open the order list (0 for everyone else)."""
    if "pifa_new_orders" in g:
        return g.pifa_new_orders
    count = 0
    if getattr(current_user, "is_authenticated", False) and \
            accounts.can(current_user, "can_list", "OrderListView"):
        count = db.session.scalar(select(func.count(Order.id)).where(
            Order.state == State.PENDING, scope.order_condition(current_user))) or 0
    g.pifa_new_orders = count
    return count


class _CountedLabel:
    """A menu label followed by a badge with the number of new orders.

    FAB's menu templates render labels as `{{ _(item.label) }}`: gettext finds no
    message for this object and returns it, and Jinja's autoescape takes `__html__`.
    """

    def __init__(self, label):
        self.label = label

    def __str__(self):
        return str(self.label)

    def __html__(self):
        text = escape(str(self.label))
        count = new_order_count()
        if not count:
            return text
        return Markup('{} <span class="badge pifa-new-orders" title="{}" style="'
                      'background:#d9534f;color:#fff">{}</span>').format(
            text, _("New orders to confirm: %(n)d", n=count), count)


def _date(value):
    try:
        return datetime.strptime(str(value).strip(), "%Y-%m-%d")
    except (TypeError, ValueError):
        return None


class OrderListView(PifaModelView):
    route_base = "/admin/orders"
    noun = _l("Orders")
    datamodel = SQLAInterface(Order)
    base_permissions = ["can_list", "can_show", "can_mark_paid", "can_order_action",
                        "can_delivery_note"]
    # The batch action shares the delivery-note permission with the one-order PDF.
    method_permission_name = {"print_notes": "delivery_note"}
    # The list and the order page are our own templates (order_list / order_show); these
    # columns and labels remain for FAB's own widgets and the action machinery.
    list_columns = ["order_no", "created_at", "member", "region", "state", "total",
                    "delivery_method", "payment_method", "payment_status"]
    show_columns = ["order_no", "created_at", "member", "region", "state", "goods_total",
                    "freight", "total", "delivery_method", "payment_method",
                    "payment_status", "contact", "phone", "province", "city", "district",
                    "street", "remark", "driver"]
    search_columns = ["order_no", "state", "region", "payment_method", "payment_status",
                      "delivery_method", "created_at", "phone"]
    base_order = ("id", "desc")
    list_template = "admin/order_list.html"
    show_template = "admin/order_show.html"
    label_columns = {"order_no": _l("Order no."), "created_at": _l("Placed at"),
                     "member": _l("Customer"), "region": _l("Region"), "state": _l("Status"),
                     "goods_total": _l("Goods"), "freight": _l("Freight"),
                     "total": _l("Total"), "delivery_method": _l("Delivery"),
                     "payment_method": _l("Payment"), "payment_status": _l("Payment status"),
                     "contact": _l("Contact"), "phone": _l("Mobile"),
                     "province": _l("Province"), "city": _l("City"),
                     "district": _l("District"), "street": _l("Street"),
                     "remark": _l("Remark"), "driver": _l("Driver")}
    formatters_columns = {
        "state": lambda v: STAFF_LABELS.get(v, v),
        "delivery_method": lambda v: DELIVERY_LABELS.get(v, v),
        "payment_method": lambda v: PAYMENT_LABELS.get(v, v),
        "payment_status": lambda v: PAYMENT_STATUS_LABELS.get(v, v),
    }

    _menu_badged = False

    # ---- the new-order badge in the menu ----------------------------------------------

    def create_blueprint(self, appbuilder, *args, **kwargs):
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        # FAB adds the menu entry after the blueprint; label it on the first request.
        blueprint.before_app_request(self._badge_menu)
        return blueprint

    def _badge_menu(self):
        if self._menu_badged:
            return
        for category in self.appbuilder.menu.get_list():
            for item in [category, *(category.childs or [])]:
                if item is None or not (item.baseview is self or any(
                        child is not None and child.baseview is self
                        for child in item.childs or [])):
                    continue
                if not isinstance(item.label, _CountedLabel):
                    item.label = _CountedLabel(item.label)
        self._menu_badged = True

    # ---- list ------------------------------------------------------------------------

    @expose("/list/")
    @has_access
    def list(self):
        filters = queries.OrderFilters(request.args)
        page = queries.back_office_orders(current_user, filters,
                                          before=request.args.get("before"),
                                          after=request.args.get("after"),
                                          size=request.args.get("psize"))
        state_counts = queries.back_office_state_counts(current_user, filters)
        salesmen, drivers = queries.staff_for_filters()
        self.update_redirect()
        return self.render_template(
            self.list_template, title=self.list_title, page=page, orders=page.items,
            filters=filters, active=filters.values(), size=page.size,
            page_sizes=queries.BACK_OFFICE_PAGE_SIZES, state_counts=state_counts,
            count_cap=paging.COUNT_CAP,
            regions=db.session.scalars(select(Region).order_by(Region.sort_order,
                                                               Region.id)).all(),
            salesmen=salesmen, drivers=drivers, states=State.ALL, staff_labels=STAFF_LABELS,
            state_styles=STATE_STYLES, payment_labels=PAYMENT_LABELS,
            payment_status_labels=PAYMENT_STATUS_LABELS, delivery_labels=DELIVERY_LABELS,
            can_print=self.appbuilder.sm.has_access("can_delivery_note", "OrderListView"),
            list_url=self._list_url)

    @staticmethod
    def _list_url(**changes):
        """The list's URL with the current filters, some changed (None removes one)."""
        values = {**queries.OrderFilters(request.args).values(), **changes}
        if request.args.get("psize"):
            values.setdefault("psize", request.args.get("psize"))
        return url_for("OrderListView.list",
                       **{k: v for k, v in values.items() if v not in (None, "")})

    # ---- the order page ------------------------------------------------------------------

    def _order(self, pk):
        order = self.datamodel.get(pk, self._base_filters)
        if order is None or not scope.can_see(current_user, order):
            abort(404)
        return order

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        order = self._order(ids.parse_id(pk))
        allowed = workflow.back_office_actions(order, current_user)
        sm = self.appbuilder.sm
        refund = refunds.waiting(order)
        drivers = workflow.drivers_for(order) if allowed & {"assign_driver",
                                                            "change_driver"} else []
        lines = {line.id: line for line in order.lines}
        return self.render_template(
            self.show_template, title=self.show_title, order=order, pk=order.id,
            allowed=allowed, drivers=drivers, refund=refund,
            refund_suggestion=refunds.suggested_amount(order, refund) if refund else None,
            lines_by_id=lines, events=history.history(order, history.STAFF),
            people=_people(order), override_targets=[
                t for t in OVERRIDE_TARGETS if t != order.state],
            staff_labels=STAFF_LABELS, state_styles=STATE_STYLES,
            payment_labels=PAYMENT_LABELS, payment_status_labels=PAYMENT_STATUS_LABELS,
            delivery_labels=DELIVERY_LABELS, ship_method_labels=SHIP_METHOD_LABELS,
            owed_back=paybacks.owed_back(order) if "pay_back_by_hand" in allowed else None,
            still_due=refunds.still_due(order) if "mark_paid" in allowed else None,
            payback_methods=PAYBACK_METHOD_LABELS,
            can_print=sm.has_access("can_delivery_note", "OrderListView"),
            can_review=sm.has_access("can_review", "MemberView"))

    # ---- actions: each a POST, all through workflow.apply --------------------------------

    def _act(self, pk, action_name, done, **data):
        order = self._order(pk)
        try:
            workflow.apply(order, action_name, current_user, **data)
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(done, "success")
        return redirect(url_for("OrderListView.show", pk=pk))

    @expose("/mark-paid/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("mark_paid")
    def mark_paid(self, pk):
        return self._act(pk, "mark_paid", _("Payment recorded."),
                         note=request.form.get("note"),
                         amount=request.form.get("amount") or None)

    @expose("/confirm/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("order_action")
    def confirm(self, pk):
        return self._act(pk, "confirm", _("Order confirmed. The customer has been told."))

    @expose("/driver/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("order_action")
    def driver(self, pk):
        order = self._order(pk)
        name = "assign_driver"
        if order.state in (State.ASSIGNED, State.DELIVERING) and "change_driver" in \
                workflow.allowed_actions(order, current_user):
            name = "change_driver"
        return self._act(pk, name, _("Driver assigned. The driver has been told."),
                         driver_id=request.form.get("driver_id") or None)

    @expose("/ship/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("order_action")
    def ship(self, pk):
        return self._act(pk, "ship", _("Marked as shipped. The customer has been told."),
                         ship_method=request.form.get("ship_method") or None,
                         note=request.form.get("note"))

    @expose("/ready-for-pickup/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("order_action")
    def ready_for_pickup(self, pk):
        return self._act(pk, "ready_for_pickup",
                         _("Ready for pickup. The customer has been told."))

    @expose("/collected/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("order_action")
    def mark_collected(self, pk):
        return self._act(pk, "mark_collected", _("The pickup is marked as collected."))

    @expose("/close/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("order_action")
    def close(self, pk):
        return self._act(pk, "close", _("Order closed; its stock is back."),
                         reason=request.form.get("reason"))

    @expose("/override/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("order_action")
    def override(self, pk):
        target = request.form.get("target") or None
        return self._act(pk, "override", _("Status changed to “%(state)s”.",
                                           state=STAFF_LABELS.get(target, target)),
                         target=target, remark=request.form.get("remark"))

    @expose("/refund/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("order_action")
    def decide_refund(self, pk):
        approve = request.form.get("decision") == "approve"
        return self._act(pk, "decide_refund",
                         _("Refund approved. The customer has been told.") if approve
                         else _("Refund rejected. The customer has been told the reason."),
                         approve="1" if approve else "0",
                         amount=request.form.get("amount") if approve else None,
                         restock=request.form.get("restock") if approve else None,
                         reason=request.form.get("reason"))

    @expose("/pay-back/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("mark_paid")
    def pay_back(self, pk):
        return self._act(pk, "pay_back_by_hand", _("Recorded: the money went back to the "
                                                   "customer."),
                         amount=request.form.get("amount") or None,
                         method=request.form.get("method") or None,
                         note=request.form.get("note"))

    # ---- 出库签收单 -----------------------------------------------------------------------

    @staticmethod
    def _pdf(orders, filename):
        body = delivery_note.render(orders)
        resp = make_response(body)
        resp.headers["Content-Type"] = "application/pdf"
        resp.headers["Content-Disposition"] = f'inline; filename="{filename}"'
        resp.headers["Cache-Control"] = "private, no-store"
        return resp

    @expose("/note/<int:pk>.pdf", methods=["GET"])
    @has_access
    @permission_name("delivery_note")
    def note(self, pk):
        order = self._order(pk)
        return self._pdf([order], f"delivery-note-{order.order_no}.pdf")

    @action("print_notes", _l("Print delivery notes"), icon="fa-print", multiple=True,
            single=False)
    def print_notes(self, items):
        # FAB loads the rows without the view's filters (FAB-NOTES 6): check each again.
        items = items if isinstance(items, list) else [items]
        orders = [o for o in items if o is not None
                  and self.datamodel.get(o.id, self._base_filters) is not None
                  and scope.can_see(current_user, o)]
        if not orders:
            flash(_("Please choose at least one order."), "warning")
            return redirect(url_for("OrderListView.list"))
        orders.sort(key=lambda o: o.id)
        name = (f"delivery-note-{orders[0].order_no}.pdf" if len(orders) == 1
                else f"delivery-notes-{len(orders)}.pdf")
        return self._pdf(orders, name)


def _people(order) -> dict:
    """Display names of the accounts that recorded payments and decided refunds."""
    ids = {p.recorded_by_id for p in order.payments} | {
        r.decided_by_id for r in order.refunds}
    ids.discard(None)
    if not ids:
        return {}
    model = current_app.appbuilder.sm.user_model
    return {u.id: accounts.display_name(u)
            for u in db.session.scalars(select(model).where(model.id.in_(ids)))}
