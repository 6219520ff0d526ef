"""My customers, ordering on a customer's behalf (代客下单), and my performance.

代客下单 works on THAT customer's server-side cart (cart.add_to_cart with the customer's
account, prices of the customer's level) and submits through checkout.submit with the
salesman as the actor, which records who placed it and notifies the customer. A member
outside my regions is a 404 (scope.customer_to_order_for).
"""

import re
import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.catalog import pricing, storefront
from app.ordering import cart, checkout, queries, scope
from app.ordering import performance as figures
from app.platform import ids
from app.platform.errors import DomainError, NotFound
from app.platform.security import SALES_END
from app.platform.settings import get_settings
from app.views.guards import requires
from app.views.sales import bp

QTY_FIELD = re.compile(r"^qty_(\d{1,9})$")
RESULTS_PER_PAGE = 10
FREQUENT_PRODUCTS = 6


@bp.route("/customers")
@requires(SALES_END)
def customers():
    q = (request.args.get("q") or "").strip()[:50]
    rows, next_before = queries.customers(current_user, q,
                                             ids.parse_cursor(request.args.get("before")))
    return render_template("sales/customers.html", rows=rows, q=q, next_before=next_before,
                           paged=bool(request.args.get("before")),
                           picking=bool(request.args.get("pick")))


def _customer(member_id):
    try:
        return scope.customer_to_order_for(current_user, member_id)
    except NotFound:
        abort(404)


def _order_for_page(member, values: dict, error=None, status=200):
    customer = member.user
    access = pricing.member_access(member)
    q = (values.get("q") or "").strip()[:50]
    results = None
    if q:
        results = storefront.search_products(q, ids.parse_page(request.args.get("page")),
                                             access, per_page=RESULTS_PER_PAGE)
    frequent = []
    if not q:
        frequent = storefront.cards(checkout.frequent_products(customer, FREQUENT_PRODUCTS),
                                    access)
    view = checkout.cart_view(customer, member)
    state = checkout.form_state(customer, member, values)
    if not view.rows:
        state["quote"] = None
    return render_template(
        "sales/order_for.html", member=member, access=access, q=q, results=results,
        frequent=frequent, view=view, **state, values=values, error=error,
        key=values.get("idempotency_key") or uuid.uuid4().hex,
        settings=get_settings()), status


@bp.route("/customers/<int:member_id>/order")
@requires(SALES_END)
def order_for(member_id):
    return _order_for_page(_customer(member_id), request.args.to_dict())


@bp.route("/customers/<int:member_id>/order/cart", methods=["POST"])
@requires(SALES_END)
def order_for_cart(member_id):
    """Add the chosen specs to the customer's cart, or change / remove a cart line."""
    member = _customer(member_id)
    customer = member.user
    q = (request.form.get("q") or "").strip()[:50]
    try:
        if request.form.get("remove"):
            checkout.remove_cart_line(customer, request.form.get("line_id"))
        elif request.form.get("line_id"):
            checkout.set_cart_quantity(customer, request.form.get("line_id"),
                                       request.form.get("quantity"))
        else:
            quantities = {int(m[1]): value for key, value in request.form.items()
                          if (m := QTY_FIELD.match(key)) and value.strip() != ""}
            cart.add_to_cart(customer, quantities)
            flash(_("Added to the customer's cart."), "info")
    except DomainError as exc:
        flash(str(exc.message), "danger")
        return _order_for_page(member, {"q": q}, status=exc.status_code)
    return redirect(url_for("sales.order_for", member_id=member.id, q=q or None,
                            _anchor="cart"))


@bp.route("/customers/<int:member_id>/order/submit", methods=["POST"])
@requires(SALES_END)
def order_for_submit(member_id):
    member = _customer(member_id)
    data = request.form.to_dict()
    if data.get("address_id") == "new":
        data.pop("address_id")
    try:
        order = checkout.submit(member.user, current_user, data)
    except DomainError as exc:
        return _order_for_page(member, request.form.to_dict(), error=str(exc.message),
                               status=exc.status_code)
    flash(_("Order %(no)s placed for %(shop)s.", no=order.order_no,
            shop=member.shop_name or member.phone), "info")
    if scope.can_see(current_user, order):
        return redirect(url_for("sales.order", order_no=order.order_no))
    return redirect(url_for("sales.customers"))


@bp.route("/performance")
@requires(SALES_END)
def performance():
    return render_template("sales/performance.html",
                           figures=figures.performance(current_user),
                           staff=scope.salesman_of(current_user))
