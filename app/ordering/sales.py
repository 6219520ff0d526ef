"""What the business end 业务端 lists and counts for a salesman.

Order lists start from scope.scoped_orders (the one scoping rule) and keep to the
salesman's regions; customers are the members of those regions and those whose own
salesman they are; ordering on a customer's behalf is for customers of their regions
only (customer_for). State changes are not made here: the screens call workflow.apply.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote, urlencode

from flask_babel import lazy_gettext as _l
from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import joinedload

from app.catalog import pricing
from app.catalog.pricing import money
from app.extensions import db
from app.members.models import Member, StaffKind, StaffProfile
from app.ordering import scope
from app.ordering.models import Order
from app.ordering.states import State
from app.platform.errors import NotFound
from app.platform.time import SHANGHAI

PER_PAGE = 20
# Tab badges count up to this and then show "99+": each count reads at most
# COUNT_CAP + 1 index entries, so the list costs the same at 10 thousand orders as at
# 5 million (bench/orders_list.py).
COUNT_CAP = 99

# The business end's order tabs, in order: (key, label, states).
SALES_TABS = [
    ("pending", _l("To confirm"), (State.PENDING,)),
    ("to_ship", _l("To ship"), (State.CONFIRMED, State.ASSIGNED, State.READY_FOR_PICKUP)),
    ("delivering", _l("Out for delivery"), (State.DELIVERING, State.SHIPPED)),
    ("delivered", _l("Delivered"), (State.DELIVERED, State.RECEIVED)),
    ("all", _l("All"), State.ALL),
]
TAB_KEYS = tuple(key for key, _label, _states in SALES_TABS)


def salesman_of(user) -> StaffProfile | None:
    """The signed-in person's active salesman profile, or None."""
    return scope.staff_profile(user, StaffKind.SALESMAN)


def region_ids(user) -> list[int]:
    salesman = salesman_of(user)
    return [r.id for r in salesman.regions] if salesman else []


# ---- orders ---------------------------------------------------------------------------

def _my_orders(user, regions: list[int]):
    """Orders this person may see (scope) that belong to their regions."""
    return scope.scoped_orders(user).where(Order.region_id.in_(regions))


def _states(tab: str):
    return dict((key, states) for key, _label, states in SALES_TABS).get(tab)


def tab_counts(user) -> dict[str, int]:
    """Orders per tab, each counted up to COUNT_CAP + 1 (shown as "99+")."""
    mine = _my_orders(user, region_ids(user))
    counts = {}
    for key, _label, states in SALES_TABS:
        capped = (mine.where(Order.state.in_(states))
                  .with_only_columns(Order.id).limit(COUNT_CAP + 1).subquery())
        counts[key] = db.session.scalar(select(func.count()).select_from(capped)) or 0
    return counts


def orders_page(user, tab: str, before_id: int | None = None, per_page: int | None = None):
    """One page of a tab, newest first, keyset-paginated by id (?before=<id>).
    Returns (orders, the `before` of the next page or None)."""
    states = _states(tab) or State.ALL
    per_page = per_page or PER_PAGE
    query = (_my_orders(user, region_ids(user)).where(Order.state.in_(states))
             .options(joinedload(Order.member)).order_by(Order.id.desc())
             .limit(per_page + 1))
    if before_id:
        query = query.where(Order.id < before_id)
    rows = db.session.scalars(query).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    return rows, (rows[-1].id if more else None)


def map_url(address: str) -> str:
    """Amap (高德) search link for an address, opened by the phone's map app."""
    return "https://uri.amap.com/search?" + urlencode({"keyword": address}, quote_via=quote)


# ---- customers -----------------------------------------------------------------------------

@dataclass
class CustomerRow:
    member: Member
    last_order_at: datetime | None
    can_order_for: bool  # a customer of my regions, approved: 代客下单 is open


def _customer_condition(user, regions: list[int]):
    salesman = salesman_of(user)
    if salesman is None:
        return false()
    return or_(Member.region_id.in_(regions), Member.own_salesman_id == salesman.id)


def customers_page(user, q: str | None = None, before_id: int | None = None,
                   per_page: int | None = None):
    """My customers (members of my regions and those whose own salesman I am), newest
    first, searched by shop name, contact or phone; keyset-paginated by member id.
    Returns (rows, the `before` of the next page or None)."""
    regions = region_ids(user)
    per_page = per_page or PER_PAGE
    query = (select(Member).options(joinedload(Member.region), joinedload(Member.level))
             .where(_customer_condition(user, regions)).order_by(Member.id.desc())
             .limit(per_page + 1))
    text = (q or "").strip()[:50]
    if text:
        query = query.where(or_(Member.shop_name.icontains(text, autoescape=True),
                                Member.contact_name.icontains(text, autoescape=True),
                                Member.phone.contains(text, autoescape=True)))
    if before_id:
        query = query.where(Member.id < before_id)
    members = db.session.scalars(query).all()
    more = len(members) > per_page
    members = members[:per_page]
    last = {}
    if members:
        # The last order of each, among the orders I may see (one query for the page).
        last = dict(db.session.execute(
            scope.scoped_orders(user)
            .with_only_columns(Order.member_id, func.max(Order.created_at))
            .where(Order.member_id.in_([m.id for m in members]))
            .group_by(Order.member_id)).all())
    rows = [CustomerRow(m, last.get(m.id), m.region_id in regions
                        and pricing.member_access(m).can_order) for m in members]
    return rows, (members[-1].id if more else None)


def customer_for(user, member_id) -> Member:
    """A customer of this salesman's regions (for ordering on their behalf), or NotFound."""
    try:
        member_id = int(member_id)
    except (TypeError, ValueError):
        raise NotFound(_l("The page you asked for does not exist.")) from None
    regions = region_ids(user)
    member = db.session.scalar(select(Member).where(Member.id == member_id,
                                                    Member.region_id.in_(regions)))
    if member is None:
        raise NotFound(_l("The page you asked for does not exist."))
    return member


# ---- performance -------------------------------------------------------------------------

@dataclass
class Figures:
    start: datetime  # first day of the month, Asia/Shanghai
    members: int  # members brought (registered through my QR code)
    orders: int
    sales: Decimal


@dataclass
class Performance:
    this_month: Figures
    last_month: Figures


def month_bounds(now: datetime | None = None):
    """(start of last month, start of this month, start of next month) in Shanghai time,
    as aware datetimes."""
    local = (now or datetime.now(UTC)).astimezone(SHANGHAI)
    this = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last = (this.replace(year=this.year - 1, month=12) if this.month == 1
            else this.replace(month=this.month - 1))
    nxt = (this.replace(year=this.year + 1, month=1) if this.month == 12
           else this.replace(month=this.month + 1))
    return last, this, nxt


def _utc(moment: datetime) -> datetime:
    """Aware -> naive UTC, as the database keeps time."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _figures(user, salesman: StaffProfile | None, start: datetime, end: datetime) -> Figures:
    if salesman is None:
        return Figures(start, 0, 0, money(0))
    lo, hi = _utc(start), _utc(end)
    members = db.session.scalar(select(func.count(Member.id)).where(
        Member.referred_by_id == salesman.id, Member.created_at >= lo,
        Member.created_at < hi)) or 0
    mine = select(Member.id).where(Member.own_salesman_id == salesman.id)
    count, total = db.session.execute(
        select(func.count(Order.id), func.sum(Order.total)).where(
            or_(Order.member_id.in_(mine), Order.placed_by_id == user.id),
            Order.state != State.CLOSED, Order.created_at >= lo, Order.created_at < hi)).one()
    return Figures(start, members, count or 0, money(Decimal(str(total or 0))))


def performance(user, now: datetime | None = None) -> Performance:
    """经理业绩 of the signed-in salesman for this month and last month (Shanghai months):
    members brought (Member.referred_by_id: who signed up through my QR code), and the
    orders and sales (order totals) of my customers (own salesman: me) and of the orders
    I placed on a customer's behalf; closed orders do not count."""
    salesman = salesman_of(user)
    last, this, nxt = month_bounds(now)
    return Performance(this_month=_figures(user, salesman, this, nxt),
                       last_month=_figures(user, salesman, last, this))
