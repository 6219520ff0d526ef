"""Who may see which orders: the one scoping rule, used by every list and lookup by id.

Admin and customer service see every order; a salesman the orders of their regions; a
driver their regions' orders waiting for a driver and the orders assigned to them; a
customer their own. A person with several roles sees the union. Outside the scope an
order does not exist for that person (404).
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_, select

from app.extensions import db
from app.members.models import StaffKind, StaffProfile
from app.ordering.models import Order
from app.ordering.states import Delivery, State
from app.platform import accounts, ids
from app.platform.errors import NotFound
from app.platform.security import ADMIN, CUSTOMER_SERVICE


def staff_profile(user, kind: str) -> StaffProfile | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(StaffProfile).where(
        StaffProfile.user_id == user.id, StaffProfile.kind == kind,
        StaffProfile.active.is_(True)))


def waiting_for_driver(region_ids):
    return (Order.region_id.in_(region_ids) & (Order.state == State.CONFIRMED)
            & Order.driver_id.is_(None) & (Order.delivery_method == Delivery.DRIVER))


def order_condition(user):
    """A WHERE clause selecting the orders this person may see."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return false()
    roles = accounts.role_names(user)
    if roles & {ADMIN, CUSTOMER_SERVICE}:
        return Order.id.isnot(None)
    conditions = [Order.user_id == user.id]
    salesman = staff_profile(user, StaffKind.SALESMAN)
    if salesman is not None and "Salesman" in roles:
        conditions.append(Order.region_id.in_([r.id for r in salesman.regions]))
    driver = staff_profile(user, StaffKind.DRIVER)
    if driver is not None and "Driver" in roles:
        conditions.append(waiting_for_driver([r.id for r in driver.regions]))
        conditions.append(Order.driver_id == driver.id)
    return or_(*conditions)


def scoped_orders(user):
    """SELECT of the orders this person may see; add filters and ordering to it."""
    return select(Order).where(order_condition(user))


def get_order(user, order_id=None, order_no=None) -> Order:
    """One order by id or number, or NotFound when it is outside this person's scope."""
    query = scoped_orders(user)
    if order_no is not None:
        query = query.where(Order.order_no == str(order_no)[:24])
    elif ids.parse_id(order_id) is not None:
        query = query.where(Order.id == ids.parse_id(order_id))
    else:
        raise NotFound(_l("The page you asked for does not exist."))
    order = db.session.scalar(query)
    if order is None:
        raise NotFound(_l("The page you asked for does not exist."))
    return order


def can_see(user, order: Order) -> bool:
    return db.session.scalar(select(Order.id).where(Order.id == order.id,
                                                    order_condition(user))) is not None


# ---- an order's private files (delivery-note and refund photos): the order's people -----

def order_folder(order_id: int, kind: str) -> str:
    """Upload folder of an order's files: private/order/<id>/<kind>/..."""
    return f"order/{int(order_id)}/{kind}"


def can_view_order_file(user, order_id_text: str) -> bool:
    order_id = ids.parse_id(order_id_text)
    if order_id is None:
        return False
    return db.session.scalar(select(Order.id).where(
        Order.id == order_id, order_condition(user))) is not None
