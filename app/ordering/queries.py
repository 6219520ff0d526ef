"""Order lists and pages as each person sees them (always through scope.scoped_orders)."""

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.ordering import scope
from app.ordering.models import Order
from app.ordering.states import CUSTOMER_TABS

PER_PAGE = 20


def tab_counts(user) -> dict[str, int]:
    """Orders per customer tab, for "我的" and the order centre (one query)."""
    rows = dict(db.session.execute(
        select(Order.state, func.count(Order.id)).where(Order.user_id == user.id)
        .group_by(Order.state)).all())
    return {key: sum(rows.get(s, 0) for s in states) for key, _label, states in CUSTOMER_TABS}


def customer_orders(user, tab: str, before_id: int | None = None):
    """A customer's own orders in a tab, newest first, keyset-paginated by id."""
    states = dict((key, states) for key, _label, states in CUSTOMER_TABS).get(tab)
    if states is None:
        states = CUSTOMER_TABS[0][2]
    query = (scope.scoped_orders(user).where(Order.user_id == user.id,
                                             Order.state.in_(states))
             .options(selectinload(Order.lines)).order_by(Order.id.desc())
             .limit(PER_PAGE + 1))
    if before_id:
        query = query.where(Order.id < before_id)
    rows = db.session.scalars(query).all()
    more = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    return rows, (rows[-1].id if more else None)
