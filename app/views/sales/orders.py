"""The salesman's order page and its actions.

An order is found only through scope.get_order (outside the scope: 404), and every
form posts to one route that hands its fields to workflow.apply; the workflow decides
whether the action is allowed. A refused action changes nothing (apply rolls back),
is flashed, and the page is shown again with the error's status.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.catalog import pricing, storefront
from app.ordering import history, options, refunds, scope, workflow
from app.ordering.lines import held_quantity
from app.payments import vouchers
from app.platform import maps
from app.platform.errors import DomainError, NotFound
from app.platform.security import SALES_END
from app.views.guards import requires
from app.views.sales import bp

DONE = {
    "edit": _l("The order has been changed."),
    "confirm": _l("Order confirmed."),
    "assign_driver": _l("Driver assigned."),
    "ship": _l("Marked as shipped."),
    "ready_for_pickup": _l("Marked ready for pickup."),
    "mark_collected": _l("Marked as collected."),
    "close": _l("Order closed."),
    "mark_paid": _l("Payment recorded."),
    "decide_refund": _l("Refund decided."),
    "confirm_voucher": _l("Payment confirmed: the voucher is recorded as a payment."),
    "reject_voucher": _l("Voucher rejected. The customer is told the reason."),
}
GIFT_RESULTS = 8


def _order(order_no):
    try:
        return scope.get_order(current_user, order_no=order_no)
    except NotFound:
        abort(404)


def _order_page(order, status=200, failed=None):
    actions = workflow.allowed_actions(order, current_user)
    refund = refunds.waiting(order)
    gift_q = (request.args.get("gift_q") or "").strip()[:50]
    gifts = []
    if "edit" in actions and gift_q:
        gifts = storefront.search_products(gift_q, 1, pricing.NO_PRICES,
                                           per_page=GIFT_RESULTS).items
    address = order.address_line()
    order_vouchers = vouchers.of_order(order)
    return render_template(
        "sales/order.html", order=order, actions=actions, failed=failed,
        history=list(reversed(history.history(order, history.STAFF))),
        held=held_quantity,
        drivers=workflow.drivers_for(order) if "assign_driver" in actions else [],
        options=options.options_for(order.member) if "edit" in actions else {},
        gift_q=gift_q, gifts=gifts, refund=refund,
        refund_suggestion=refunds.suggested_amount(order, refund) if refund else None,
        still_due=refunds.still_due(order) if "mark_paid" in actions else None,
        map_url=maps.address_link(address) if address else None,
        vouchers=order_vouchers, used_elsewhere=vouchers.used_elsewhere(order_vouchers)), status


@bp.route("/orders/<order_no>")
@requires(SALES_END)
def order(order_no):
    return _order_page(_order(order_no))


@bp.route("/orders/<order_no>/<action>", methods=["POST"])
@requires(SALES_END)
def order_action(order_no, action):
    found = _order(order_no)
    if action not in workflow.BUSINESS_END_ACTIONS:
        abort(404)
    data = {}
    for name in workflow.BUSINESS_END_ACTIONS[action]:
        value = request.form.get(name)
        if value is not None and value.strip() != "":
            data[name] = value
    try:
        workflow.apply(found, action, current_user, **data)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            abort(404)
        flash(str(exc.message), "danger")
        failed = f"{action}:{data.get('op', '')}:{data.get('line_id', '')}"
        return _order_page(_order(order_no), exc.status_code, failed)
    flash(str(DONE[action]), "info")
    return redirect(url_for("sales.order", order_no=order_no))
