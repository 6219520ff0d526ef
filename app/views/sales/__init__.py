"""Business end 业务端 (salesmen): orders of my regions, the order page and its actions,
my customers, ordering on a customer's behalf, my QR code and my performance.

Views translate HTTP to services and render: lists come from ordering.queries (which
starts from scope.scoped_orders), one order only through scope.get_order, every state
change through workflow.apply, carts and checkout through ordering.cart / checkout.
"""

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user

from app.catalog.pricing import HIDDEN_TEXT
from app.members import referral
from app.members.models import StaffKind
from app.members.staff import staff_of
from app.ordering import queries, scope
from app.ordering.states import (
    DELIVERY_LABELS,
    PAYMENT_LABELS,
    PAYMENT_STATUS_LABELS,
    SHIP_METHOD_LABELS,
    STAFF_LABELS,
)
from app.payments.labels import VOUCHER_STATUS_LABELS
from app.payments.models import VoucherStatus
from app.platform import ids, paging
from app.platform.errors import NotFound
from app.platform.security import SALES_END
from app.views.guards import requires

bp = Blueprint("sales", __name__, url_prefix="/sales")

@bp.context_processor
def _sales_context():
    return {"staff_labels": STAFF_LABELS, "delivery_labels": DELIVERY_LABELS,
            "payment_labels": PAYMENT_LABELS, "payment_status_labels": PAYMENT_STATUS_LABELS,
            "ship_method_labels": SHIP_METHOD_LABELS, "page_url": page_url,
            "hidden_price_text": HIDDEN_TEXT,
            "count_cap": paging.COUNT_CAP, "VoucherStatus": VoucherStatus,
            "voucher_labels": VOUCHER_STATUS_LABELS}


def page_url(number: int) -> str:
    """This page's URL with ?page=number (the other query arguments kept)."""
    values = {**request.args.to_dict(), **(request.view_args or {}), "page": number}
    return url_for(request.endpoint, **values)


@bp.route("/")
@requires(SALES_END)
def index():
    """Orders of my regions by tab, newest first, keyset-paginated (?before=<id>)."""
    tab = request.args.get("tab", "pending")
    if tab not in queries.SALES_TAB_KEYS:
        tab = "pending"
    rows, next_before = queries.sales_orders(current_user, tab,
                                          ids.parse_cursor(request.args.get("before")))
    return render_template("sales/index.html", staff=scope.salesman_of(current_user),
                           tabs=queries.SALES_TABS, current=tab, rows=rows,
                           next_before=next_before, counts=queries.sales_tab_counts(current_user),
                           paged=bool(request.args.get("before")))


def _my_signup_link() -> str:
    try:
        _profile, code = referral.my_referral(current_user)
    except NotFound:
        abort(404)
    return url_for("auth.register", ref=code, _external=True)


@bp.route("/qr")
@requires(SALES_END)
def qr():
    """My personal QR code: customers who sign up through it become my customers."""
    return render_template("sales/qr.html", link=_my_signup_link(),
                           staff=staff_of(current_user, StaffKind.SALESMAN))


@bp.route("/qr.<fmt>")
@requires(SALES_END)
def qr_image(fmt):
    if fmt not in referral.QR_FORMATS:
        abort(404)
    resp = Response(referral.qr_code(_my_signup_link(), fmt),
                    mimetype=referral.QR_FORMATS[fmt])
    if request.args.get("download"):
        resp.headers["Content-Disposition"] = f"attachment; filename=pifa-qr.{fmt}"
    resp.headers["Cache-Control"] = "private, max-age=300"
    return resp


from app.views.sales import customers, orders  # noqa: E402,F401  (routes on bp)
