"""经理业绩: a salesman's members brought, orders and sales this month and last."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, or_, select

from app.catalog.pricing import money
from app.extensions import db
from app.members.models import Member, StaffProfile
from app.ordering import scope
from app.ordering.models import Order
from app.ordering.states import State
from app.platform.time import SHANGHAI


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
    salesman = scope.salesman_of(user)
    last, this, nxt = month_bounds(now)
    return Performance(this_month=_figures(user, salesman, this, nxt),
                       last_month=_figures(user, salesman, last, this))
