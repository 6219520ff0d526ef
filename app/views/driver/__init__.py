"""Driver end 司机端: my deliveries by tab, the loading list 拣货单, the order page, and the
cash I hold (我的现金, payments.cash: collected at the door, not yet handed in).

Views translate HTTP to services and render: lists and the loading list come from
ordering.delivery (which starts from scope.scoped_orders), one order only through
scope.get_order, state changes through workflow.apply, photos through
delivery.add_delivery_photos. The only money a page shows is what delivery.driver_money
returns (the cash to collect) and, on the cash page, the cash the driver collected and
still holds (payments.cash.held_by); templates render nothing else of prices.
"""

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.members.models import Member, StaffKind
from app.ordering import delivery, queries, scope
from app.ordering.states import DELIVERY_LABELS, PAYMENT_LABELS, PAYMENT_STATUS_LABELS, STAFF_LABELS
from app.payments import cash as driver_cash
from app.platform import ids, paging
from app.platform.security import DRIVER_END
from app.platform.time import utcnow
from app.views.guards import requires

bp = Blueprint("driver", __name__, url_prefix="/driver")
TAB_DEFAULT = queries.DRIVER_TAB_KEYS[0]


def driver_money(order) -> delivery.DriverMoney:
    """The only money a driver page may show of an order (delivery.driver_money decides)."""
    return delivery.driver_money(order, current_user)


@bp.context_processor
def _driver_context():
    return {"staff_labels": STAFF_LABELS, "delivery_labels": DELIVERY_LABELS,
            "payment_labels": PAYMENT_LABELS, "payment_status_labels": PAYMENT_STATUS_LABELS,
            "count_cap": paging.COUNT_CAP, "line_packs": delivery.line_packs,
            "driver_money": driver_money}


@bp.route("/")
@requires(DRIVER_END)
def index():
    """My deliveries by tab (to load, out for delivery, delivered today, waiting)."""
    tab = request.args.get("tab", TAB_DEFAULT)
    if tab not in queries.DRIVER_TAB_KEYS:
        tab = TAB_DEFAULT
    before = ids.parse_cursor(request.args.get("before"))
    rows, next_before = queries.driver_orders(current_user, tab, before)
    staff = scope.driver_of(current_user)
    return render_template("driver/index.html", staff=staff,
                           held=driver_cash.held_by(staff.id) if staff else None,
                           tabs=queries.DRIVER_TABS, current=tab, rows=rows,
                           counts=queries.driver_tab_counts(current_user), paged=bool(before),
                           next_url=url_for("driver.index", tab=tab, before=next_before)
                           if next_before else None)


@bp.route("/loading")
@requires(DRIVER_END)
def loading():
    """拣货单: everything on the orders assigned to me, added up, printable."""
    return render_template("driver/loading.html", staff=scope.driver_of(current_user),
                           load=delivery.loading_list(current_user), now=utcnow())


def _shop_names(payments) -> dict[int, str]:
    """{member id: shop name} of these payments' orders, in one query (cash.held_by loads
    the orders but not their members)."""
    member_ids = {p.order.member_id for p in payments}
    if not member_ids:
        return {}
    return dict(db.session.execute(select(Member.id, Member.shop_name)
                                   .where(Member.id.in_(member_ids))).all())


@bp.route("/cash")
@requires(DRIVER_END)
def cash():
    """我的现金 / 待交款: the cash on delivery I collected and have not handed in yet, oldest
    first, with the total. Only my own: the profile is the signed-in driver's."""
    staff = scope.staff_profile(current_user, StaffKind.DRIVER)
    held = driver_cash.held_by(staff.id) if staff else None
    return render_template("driver/cash.html", staff=staff, held=held,
                           shops=_shop_names(held.payments) if held else {})


from app.views.driver import orders  # noqa: E402,F401  (routes on bp)
