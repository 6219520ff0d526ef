"""Every list of orders and customers, for every end: filters, search, tabs with capped
counts, keyset pages. Each starts from the scoping rule (ordering/scope.py), so a list
never shows what its reader may not see, and each pages by an index (newest first), so
it costs the same with millions of rows (bench/orders_list.py)."""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import to_utc
from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.catalog import pricing
from app.extensions import db
from app.members.models import Member, StaffKind, StaffProfile
from app.ordering import scope
from app.ordering.models import Order
from app.ordering.states import CUSTOMER_TABS, PAYMENT_STATUS_LABELS, Pay, State
from app.platform import ids
from app.platform.paging import capped_count, keyset, keyset_both_ways
from app.platform.time import SHANGHAI

PER_PAGE = 20
BACK_OFFICE_PAGE_SIZES = (25, 50, 100)


# ---- the customer's order centre -------------------------------------------------------------

def customer_tab_counts(user) -> dict[str, int]:
    """Orders per customer tab, for "我的" and the order centre (one query)."""
    rows = dict(db.session.execute(
        select(Order.state, func.count(Order.id)).where(Order.user_id == user.id)
        .group_by(Order.state)).all())
    return {key: sum(rows.get(s, 0) for s in states) for key, _label, states in CUSTOMER_TABS}


def customer_orders(user, tab: str, before_id: int | None = None):
    """A customer's own orders in a tab, newest first. Returns (orders, next `before`)."""
    states = dict((key, states) for key, _label, states in CUSTOMER_TABS).get(tab) \
        or CUSTOMER_TABS[0][2]
    return keyset(scope.scoped_orders(user).where(Order.user_id == user.id,
                                                  Order.state.in_(states))
                  .options(selectinload(Order.lines)), Order.id, before_id, PER_PAGE)


# ---- the business end 业务端 -------------------------------------------------------------------

# (key, label, states), in order.
SALES_TABS = [
    ("pending", _l("To confirm"), (State.PENDING,)),
    ("to_ship", _l("To ship"), (State.CONFIRMED, State.ASSIGNED, State.READY_FOR_PICKUP)),
    ("delivering", _l("Out for delivery"), (State.DELIVERING, State.SHIPPED)),
    ("delivered", _l("Delivered"), (State.DELIVERED, State.RECEIVED)),
    ("all", _l("All"), State.ALL),
]
SALES_TAB_KEYS = tuple(key for key, _label, _states in SALES_TABS)


def _my_region_orders(user):
    """Orders this person may see (scope) that belong to their salesman regions."""
    return scope.scoped_orders(user).where(Order.region_id.in_(scope.region_ids(user)))


def sales_tab_counts(user) -> dict[str, int]:
    mine = _my_region_orders(user)
    return {key: capped_count(mine.where(Order.state.in_(states)), Order.id)
            for key, _label, states in SALES_TABS}


def sales_orders(user, tab: str, before_id: int | None = None, per_page: int | None = None):
    states = dict((k, s) for k, _label, s in SALES_TABS).get(tab) or State.ALL
    return keyset(_my_region_orders(user).where(Order.state.in_(states))
                  .options(joinedload(Order.member)), Order.id, before_id, per_page or PER_PAGE)


def customers(user, q: str | None = None, before_id: int | None = None,
              per_page: int | None = None):
    """A salesman's customers (scope.member_condition), newest first, searched by shop,
    contact or phone. Returns (rows, next `before`); each row says whether 代客下单 is
    open for that customer (a customer of my regions, approved)."""
    query = (select(Member).options(joinedload(Member.region), joinedload(Member.level))
             .where(scope.salesman_member_condition(user)))
    text = (q or "").strip()[:50]
    if text:
        query = query.where(or_(Member.shop_name.icontains(text, autoescape=True),
                                Member.contact_name.icontains(text, autoescape=True),
                                Member.phone.contains(text, autoescape=True)))
    members, next_before = keyset(query, Member.id, before_id, per_page or PER_PAGE)
    last = {}
    if members:
        # The last order of each, among the orders I may see (one query for the page).
        last = dict(db.session.execute(
            scope.scoped_orders(user)
            .with_only_columns(Order.member_id, func.max(Order.created_at))
            .where(Order.member_id.in_([m.id for m in members]))
            .group_by(Order.member_id)).all())
    regions = scope.region_ids(user)
    return [CustomerRow(m, last.get(m.id), m.region_id in regions
                        and pricing.member_access(m).can_order) for m in members], next_before


@dataclass
class CustomerRow:
    member: Member
    last_order_at: datetime | None
    can_order_for: bool  # a customer of my regions, approved: 代客下单 is open


# ---- the driver end 司机端 ---------------------------------------------------------------------

DRIVER_TABS = [
    ("to_load", _l("To load")),
    ("delivering", _l("Out for delivery")),
    ("today", _l("Delivered today")),
    ("waiting", _l("Waiting for a driver")),
]
DRIVER_TAB_KEYS = tuple(key for key, _label in DRIVER_TABS)


def start_of_today_utc(now: datetime | None = None) -> datetime:
    """Midnight of today in Asia/Shanghai, as the naive UTC the database stores."""
    now = (now or datetime.now(UTC)).astimezone(SHANGHAI)
    midnight = datetime.combine(now.date(), time(0), tzinfo=SHANGHAI)
    return midnight.astimezone(UTC).replace(tzinfo=None)


def driver_tab(user, tab: str, driver=None):
    """The orders of a driver tab, always inside this person's scope."""
    driver = driver or scope.driver_of(user)
    if driver is None:
        condition = false()
    elif tab == "waiting":
        condition = scope.waiting_for_driver([r.id for r in driver.regions])
    else:
        mine = Order.driver_id == driver.id
        condition = {
            "to_load": mine & (Order.state == State.ASSIGNED),
            "delivering": mine & (Order.state == State.DELIVERING),
            "today": mine & Order.state.in_(State.FINISHED)
            & (Order.delivered_at >= start_of_today_utc()),
        }.get(tab, false())
    return scope.scoped_orders(user).where(condition)


def driver_tab_counts(user) -> dict[str, int]:
    driver = scope.driver_of(user)
    return {key: capped_count(driver_tab(user, key, driver), Order.id)
            for key in DRIVER_TAB_KEYS}


def driver_orders(user, tab: str, before_id: int | None = None, per_page: int | None = None):
    return keyset(driver_tab(user, tab)
                  .options(joinedload(Order.member), selectinload(Order.lines)),
                  Order.id, before_id, per_page or PER_PAGE)


# ---- the back office's order list ---------------------------------------------------------------

def _day(value):
    try:
        return datetime.strptime(str(value).strip(), "%Y-%m-%d")
    except (TypeError, ValueError):
        return None


class OrderFilters:
    """The back-office list's filters as read from the query string; values that mean
    nothing are dropped, never an error."""

    KEYS = ("state", "region", "salesman", "driver", "payment", "paid", "from", "until", "q")

    def __init__(self, args):
        state = args.get("state") or args.get("_flt_0_state") or ""
        self.state = state if state in State.ALL else ""
        self.region = ids.parse_id(args.get("region"))
        self.salesman = ids.parse_id(args.get("salesman"))
        self.driver = ids.parse_id(args.get("driver"))
        self.payment = args.get("payment") if args.get("payment") in Pay.ALL else ""
        self.paid = args.get("paid") if args.get("paid") in PAYMENT_STATUS_LABELS else ""
        self.date_from = _day(args.get("from"))
        self.date_until = _day(args.get("until"))
        self.q = (args.get("q") or "").strip()[:64]

    def values(self) -> dict:
        """The active filters as query-string values (for links and the form)."""
        values = {"state": self.state, "region": self.region, "salesman": self.salesman,
                  "driver": self.driver, "payment": self.payment, "paid": self.paid,
                  "from": self.date_from.strftime("%Y-%m-%d") if self.date_from else "",
                  "until": self.date_until.strftime("%Y-%m-%d") if self.date_until else "",
                  "q": self.q}
        return {k: v for k, v in values.items() if v not in (None, "")}

    def apply(self, query, with_state=True):
        if with_state and self.state:
            query = query.where(Order.state == self.state)
        if self.region:
            query = query.where(Order.region_id == self.region)
        if self.salesman:
            query = query.where(Order.member_id.in_(
                select(Member.id).where(Member.own_salesman_id == self.salesman)))
        if self.driver:
            query = query.where(Order.driver_id == self.driver)
        if self.payment:
            query = query.where(Order.payment_method == self.payment)
        if self.paid:
            query = query.where(Order.payment_status == self.paid)
        # Dates are days in Asia/Shanghai; the database keeps UTC.
        if self.date_from:
            query = query.where(Order.created_at >= to_utc(self.date_from))
        if self.date_until:
            query = query.where(Order.created_at < to_utc(self.date_until + timedelta(days=1)))
        if self.q:
            shops = select(Member.id).where(or_(
                Member.shop_name.contains(self.q, autoescape=True),
                Member.phone.contains(self.q, autoescape=True)))
            query = query.where(or_(Order.order_no.contains(self.q, autoescape=True),
                                    Order.phone.contains(self.q, autoescape=True),
                                    Order.contact.contains(self.q, autoescape=True),
                                    Order.member_id.in_(shops)))
        return query


def back_office_orders(user, filters: OrderFilters, *, before=None, after=None, size=None):
    """One page of the back office's list, newest first, with the page before and after."""
    size = ids.parse_id(size)
    size = size if size in BACK_OFFICE_PAGE_SIZES else BACK_OFFICE_PAGE_SIZES[0]
    query = filters.apply(scope.scoped_orders(user)).options(
        selectinload(Order.member).selectinload(Member.own_salesman),
        selectinload(Order.region), selectinload(Order.driver))
    page = keyset_both_ways(query, Order.id, before=ids.parse_cursor(before),
                            after=ids.parse_cursor(after), per_page=size)
    page.size = size
    return page


def back_office_state_counts(user, filters: OrderFilters) -> dict[str, int]:
    """Orders per state under the other filters (the tabs), each counted up to 99+."""
    visible = filters.apply(scope.scoped_orders(user), with_state=False)
    return {state: capped_count(visible.where(Order.state == state), Order.id)
            for state in State.ALL}


def staff_for_filters():
    """Salesmen and drivers, for the list's filter menus."""
    staff = db.session.scalars(select(StaffProfile).order_by(StaffProfile.name)).all()
    return ([s for s in staff if s.kind == StaffKind.SALESMAN],
            [s for s in staff if s.kind == StaffKind.DRIVER])

