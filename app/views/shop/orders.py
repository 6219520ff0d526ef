"""Cart, checkout and the customer's order centre. Rules live in services (checkout,
options, workflow, queries); these views only translate HTTP to them."""

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.members import services as members
from app.ordering import checkout, history, queries, returns, scope, workflow
from app.ordering.lines import held_quantity
from app.ordering.states import (
    CUSTOMER_LABELS,
    CUSTOMER_TABS,
    DELIVERY_LABELS,
    PAYMENT_LABELS,
    PAYMENT_STATUS_LABELS,
    SHIP_METHOD_LABELS,
)
from app.payments import vouchers
from app.payments.labels import VOUCHER_STATUS_LABELS
from app.payments.models import VoucherStatus
from app.payments.wechat_pay import rules as pay_rules
from app.platform import ids
from app.platform.errors import DomainError, NotFound
from app.platform.settings import get_settings
from app.platform.time import local_date
from app.views.guards import signed_in
from app.views.shop import bp


@bp.context_processor
def _order_labels():
    return {"customer_labels": CUSTOMER_LABELS, "delivery_labels": DELIVERY_LABELS,
            "payment_labels": PAYMENT_LABELS, "payment_status_labels": PAYMENT_STATUS_LABELS,
            "ship_method_labels": SHIP_METHOD_LABELS, "VoucherStatus": VoucherStatus,
            "voucher_labels": VOUCHER_STATUS_LABELS}


# ---- cart -------------------------------------------------------------------------------

@bp.route("/cart")
@signed_in
def cart():
    view = checkout.cart_view(current_user)
    return render_template("shop/cart.html", tab="cart", view=view)


@bp.route("/cart/update", methods=["POST"])
@signed_in
def cart_update():
    try:
        if request.form.get("remove"):
            checkout.remove_cart_line(current_user, request.form.get("line_id"))
        else:
            checkout.set_cart_quantity(current_user, request.form.get("line_id"),
                                       request.form.get("quantity"))
    except DomainError as exc:
        flash(str(exc.message), "danger")
    return redirect(url_for("shop.cart"))


# ---- checkout -----------------------------------------------------------------------------

def _checkout_page(values: dict, error=None, status=200):
    member = members.member_of(current_user)
    view = checkout.cart_view(current_user)
    if not view.rows:
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("shop.cart"))
    state = checkout.form_state(current_user, member, values)
    return render_template(
        "shop/checkout.html", tab="cart", view=view, **state, member=member, values=values,
        key=values.get("idempotency_key") or uuid.uuid4().hex, error=error,
        settings=get_settings()), status


@bp.route("/checkout", methods=["GET", "POST"], endpoint="checkout")
@signed_in
def checkout_page():
    if request.method == "GET" or request.form.get("refresh"):
        return _checkout_page(request.values.to_dict())
    data = request.form.to_dict()
    if data.get("address_id") == "new":
        data.pop("address_id")
    try:
        order = checkout.submit(current_user, current_user, data)
    except DomainError as exc:
        return _checkout_page(request.form.to_dict(), error=str(exc.message),
                              status=exc.status_code)
    flash(_("Your order %(no)s has been submitted.", no=order.order_no), "info")
    return redirect(url_for("shop.order", order_no=order.order_no))


# ---- order centre ---------------------------------------------------------------------------

@bp.route("/orders")
@signed_in
def orders():
    tab = request.args.get("tab", "all")
    if tab not in {key for key, _l, _s in CUSTOMER_TABS}:
        tab = "all"
    rows, next_before = queries.customer_orders(current_user, tab,
                                                    ids.parse_cursor(request.args.get("before")))
    return render_template("shop/orders.html", tab="me", tabs=CUSTOMER_TABS, current=tab,
                           rows=rows, next_before=next_before,
                           counts=queries.customer_tab_counts(current_user))


def _my_order(order_no):
    try:
        return scope.own_order(current_user, order_no)
    except DomainError:
        abort(404)


def _order_page(found, status=200, voucher_form=None, voucher_error=None):
    """The order page; `voucher_form` keeps what was typed when an upload was refused and
    `voucher_error` says why again beside the form (the flash is at the top of the page)."""
    can_voucher = vouchers.can_upload(found)
    if can_voucher and voucher_form is None:
        voucher_form = {"amount": f"{found.total:.2f}", "paid_on": local_date().isoformat(),
                        "remark": ""}
    return render_template("shop/order.html", tab="me", order=found,
                           history=history.history(found, history.CUSTOMER),
                           actions=workflow.allowed_actions(found, current_user),
                           held=held_quantity, vouchers=vouchers.of_order(found),
                           can_voucher=can_voucher, voucher_form=voucher_form or {},
                           voucher_error=voucher_error, can_pay_online=pay_rules.can_pay(found),
                           today=local_date()), status


@bp.route("/orders/<order_no>")
@signed_in
def order(order_no):
    return _order_page(_my_order(order_no))


@bp.route("/orders/<order_no>/voucher", methods=["POST"])
@signed_in
def order_voucher(order_no):
    """付款凭证: the customer's photo of a bank / WeChat / Alipay transfer for this order.
    A refusal stores nothing; it is flashed and the page shown again with what was typed."""
    try:
        vouchers.upload(current_user, order_no, request.files.get("photo"), request.form)
    except NotFound:
        abort(404)  # another customer's order, or none
    except DomainError as exc:
        flash(str(exc.message), "danger")
        typed = {k: request.form.get(k, "") for k in ("amount", "paid_on", "remark")}
        return _order_page(_my_order(order_no), exc.status_code, typed, str(exc.message))
    flash(_("Voucher uploaded. We will check the transfer and confirm it soon."), "info")
    return redirect(url_for("shop.order", order_no=order_no, _anchor="vouchers"))


@bp.route("/orders/<order_no>/<action>", methods=["POST"])
@signed_in
def order_action(order_no, action):
    found = _my_order(order_no)
    try:
        if action == "reorder":
            checkout.reorder(current_user, found)
            flash(_("The products are in your cart again; any changes are shown there."),
                  "info")
            return redirect(url_for("shop.cart"))
        if action not in ("cancel", "confirm_receipt"):
            abort(404)
        workflow.apply(found, action, current_user)
    except DomainError as exc:
        flash(str(exc.message), "danger")
    else:
        flash(_("Order cancelled.") if action == "cancel" else _("Receipt confirmed."), "info")
    return redirect(url_for("shop.order", order_no=order_no))


@bp.route("/orders/<order_no>/refund", methods=["GET", "POST"])
@signed_in
def order_refund(order_no):
    found = _my_order(order_no)
    error = None
    if request.method == "POST":
        try:
            returns.request_refund(
                found, current_user, request.form.get("reason"),
                {line.id: request.form.get(f"qty_{line.id}") for line in found.lines},
                request.files.getlist("photos"))
        except DomainError as exc:
            error = str(exc.message)
        else:
            flash(_("Your refund request has been sent to customer service."), "info")
            return redirect(url_for("shop.order", order_no=order_no))
    return render_template("shop/refund.html", tab="me", order=found, error=error,
                           held=held_quantity), 400 if error else 200


@bp.route("/frequent")
@signed_in
def frequent():
    return render_template("shop/frequent.html", tab="me",
                           items=checkout.frequent_specs(current_user))
