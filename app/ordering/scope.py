"""Who may see which orders and which members: the one scoping rule, used by every list
and every lookup by id.

Orders: admin and customer service see every order; a salesman the orders of their
regions; a driver their regions' orders waiting for a driver and the orders assigned to
them; a customer their own. A person with several roles sees the union.
Members: admin and customer service see every member; a salesman the members of their
regions and those whose own salesman they are (and orders on behalf of the members of
their regions only); a customer their own profile.
Outside the scope an order or a member does not exist for that person (404).
"""

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_, select, true

from app.extensions import db
from app.members.models import Member, StaffKind, StaffProfile
from app.ordering.models import Order
from app.ordering.states import Delivery, State
from app.platform import accounts, ids, uploads
from app.platform.errors import NotFound
from app.platform.security import ADMIN, CUSTOMER_SERVICE, DRIVER, SALESMAN


def staff_profile(user, kind: str) -> StaffProfile | None:
    """The person's active salesman or driver profile, read once per request."""
    if not getattr(user, "is_authenticated", False):
        return None
    cache = g.setdefault("pifa_staff_profiles", {}) if has_request_context() else {}
    if (user.id, kind) not in cache:
        cache[(user.id, kind)] = db.session.scalar(select(StaffProfile).where(
            StaffProfile.user_id == user.id, StaffProfile.kind == kind,
            StaffProfile.active.is_(True)))
    return cache[(user.id, kind)]


def salesman_of(user) -> StaffProfile | None:
    return staff_profile(user, StaffKind.SALESMAN) \
        if SALESMAN in accounts.role_names(user) else None


def driver_of(user) -> StaffProfile | None:
    return staff_profile(user, StaffKind.DRIVER) \
        if DRIVER in accounts.role_names(user) else None


def region_ids(user) -> list[int]:
    """The regions the person serves as a salesman."""
    salesman = salesman_of(user)
    return [r.id for r in salesman.regions] if salesman else []


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
    salesman = salesman_of(user)
    if salesman is not None:
        conditions.append(Order.region_id.in_([r.id for r in salesman.regions]))
    driver = driver_of(user)
    if driver is not None:
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


# ---- members ----------------------------------------------------------------------------------

def salesman_member_condition(user):
    """The members a salesman may see: of their regions, or whose own salesman they are."""
    salesman = salesman_of(user)
    if salesman is None:
        return false()
    return or_(Member.region_id.in_([r.id for r in salesman.regions]),
               Member.own_salesman_id == salesman.id)


def member_condition(user):
    """A WHERE clause selecting the members this person may see."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return false()
    if accounts.role_names(user) & {ADMIN, CUSTOMER_SERVICE}:
        return true()
    return or_(Member.user_id == user.id, salesman_member_condition(user))


def can_see_member(user, member: Member) -> bool:
    return db.session.scalar(select(Member.id).where(Member.id == member.id,
                                                     member_condition(user))) is not None


def member_for_photo(user, key: str) -> Member:
    """The member owning a private photo (shop front, licence), if this person may see
    them; NotFound otherwise."""
    key = uploads.original_key_of(key)
    member = db.session.scalar(select(Member).where(
        (Member.shop_photo == key) | (Member.licence_photo == key), member_condition(user)))
    if member is None:
        raise NotFound(_l("The page you asked for does not exist."))
    return member


def customer_to_order_for(user, member_id) -> Member:
    """A member of this salesman's regions, to order on their behalf (代客下单); a member
    they only see as their own salesman's customer elsewhere is not one: NotFound."""
    member_id = ids.parse_id(member_id)
    member = db.session.scalar(select(Member).where(
        Member.id == member_id, Member.region_id.in_(region_ids(user)))) if member_id else None
    if member is None:
        raise NotFound(_l("The page you asked for does not exist."))
    return member


def own_order(user, order_no) -> Order:
    """One of the person's own orders as a customer, or NotFound: staff see orders in
    their own ends (business, driver, back office), not in the customer's."""
    order = get_order(user, order_no=order_no)
    if order.user_id != user.id:
        raise NotFound(_l("The page you asked for does not exist."))
    return order
