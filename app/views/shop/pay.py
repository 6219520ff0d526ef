"""The customer's 去支付 page for one of their online-payment orders: in WeChat's browser
JSAPI (WeixinJSBridge), anywhere else a Native QR code to scan with WeChat.

Routes of the storefront's blueprint (its gates, context and WeChat-browser sign-in
apply). GET only shows: the attempt still payable, or a button; POST starts the payment
(payments.wechat_pay.prepay) and comes back here."""

import io

import segno
from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.ordering import scope
from app.ordering.states import PaymentStatus
from app.payments.wechat_pay import gateway, prepay, rules
from app.platform.errors import DomainError, NotFound
from app.views.guards import signed_in
from app.views.shop import bp


def _in_wechat() -> bool:
    return "MicroMessenger" in (request.headers.get("User-Agent") or "")


def _qr_svg(text: str) -> str:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=6, border=2, xmldecl=False,
                                     svgns=True, title=None)
    return out.getvalue().decode()


@bp.route("/orders/<order_no>/pay", methods=["GET", "POST"])
@signed_in
def pay(order_no):
    order = scope.own_order(current_user, order_no)
    if request.method == "POST":
        try:
            prepay.prepay(current_user, order_no, prepay.web_channel(current_user, _in_wechat()))
        except DomainError as exc:
            flash(str(exc.message), "danger")
        return redirect(url_for(".pay", order_no=order.order_no))
    offer, problem = None, None
    if rules.can_pay(order):
        try:
            offer = prepay.current(current_user, order,
                                   prepay.web_channel(current_user, _in_wechat()))
        except DomainError as exc:
            problem = str(exc.message)
    return render_template(
        "shop/pay.html", order=order, offer=offer, problem=problem,
        due=rules.amount_due(order), can_pay=rules.can_pay(order) and problem is None,
        paid=order.payment_status == PaymentStatus.PAID, configured=gateway.configured(),
        qr_svg=_qr_svg(offer.code_url) if offer and offer.code_url else None)


@bp.route("/orders/<order_no>/pay/check", methods=["POST"])
@signed_in
def pay_check(order_no):
    try:
        order = prepay.check(current_user, order_no)
    except NotFound:
        raise  # someone else's order: 404, not a message
    except DomainError as exc:
        flash(str(exc.message), "danger")
        return redirect(url_for(".pay", order_no=order_no))
    if order.payment_status == PaymentStatus.PAID:
        flash(_("Thank you, your payment has arrived."), "success")
    else:
        flash(_("WeChat has not told us about a payment yet. If you paid, it will show "
                "here shortly."), "info")
    return redirect(url_for(".pay", order_no=order.order_no))


@bp.route("/orders/<order_no>/pay/status")
@signed_in
def pay_status(order_no):
    """For the page to notice the payment (it asks every few seconds): nothing but ours."""
    order = scope.own_order(current_user, order_no)
    return jsonify({"paid": order.payment_status == PaymentStatus.PAID})
