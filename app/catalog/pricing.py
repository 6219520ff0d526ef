"""Who sees which price: the one place that decides price visibility and the price paid.

A visitor, an unapproved member or a driver sees no wholesale price. An approved member
sees their level's price (a spec without a price for that level falls back to its base
price). Admin, customer service and salesmen see base prices (they quote and order on
behalf of customers). On the driver end the only money shown is what
ordering.delivery.driver_money returns: the cash a driver must collect.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.catalog.models import LevelPrice, Spec
from app.extensions import db
from app.members.models import Member, MemberStatus
from app.platform import accounts
from app.platform.security import ADMIN, CUSTOMER_SERVICE, SALESMAN

CENT = Decimal("0.01")
HIDDEN_TEXT = _l("Wholesale prices visible after approval")


@dataclass(frozen=True)
class PriceAccess:
    visible: bool
    level_id: int | None = None  # None with visible=True: base prices
    member_id: int | None = None  # set when the person is an approved member (may order)

    @property
    def can_order(self) -> bool:
        return self.member_id is not None


NO_PRICES = PriceAccess(False)


def price_access(user) -> PriceAccess:
    """Decide once per request what this person may see."""
    key = getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
    cache = g.setdefault("pifa_price_access", {}) if has_request_context() else {}
    if key not in cache:
        cache[key] = _decide(user)
    return cache[key]


def _decide(user) -> PriceAccess:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return NO_PRICES
    member = db.session.scalar(select(Member).where(Member.user_id == user.id))
    if member is not None and member.status == MemberStatus.APPROVED:
        return PriceAccess(True, member.level_id, member.id)
    if accounts.role_names(user) & {ADMIN, CUSTOMER_SERVICE, SALESMAN}:
        return PriceAccess(True, None, None)
    return NO_PRICES


def member_access(member: Member) -> PriceAccess:
    """Prices as a given member sees them (order on behalf uses the customer's level)."""
    if member.status != MemberStatus.APPROVED:
        return NO_PRICES
    return PriceAccess(True, member.level_id, member.id)


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def unit_prices(specs: list[Spec], access: PriceAccess) -> dict[int, Decimal]:
    """Price per base unit of each spec for this access, in one query; {} when hidden."""
    if not access.visible or not specs:
        return {}
    prices = {s.id: money(s.base_price) for s in specs}
    if access.level_id is not None:
        rows = db.session.execute(
            select(LevelPrice.spec_id, LevelPrice.price).where(
                LevelPrice.level_id == access.level_id,
                LevelPrice.spec_id.in_([s.id for s in specs])))
        for spec_id, price in rows:
            prices[spec_id] = money(price)
    return prices


def unit_price(spec: Spec, access: PriceAccess) -> Decimal | None:
    return unit_prices([spec], access).get(spec.id)


def pack_price(price: Decimal, spec: Spec) -> Decimal:
    return money(price * spec.pack_unit.inner_qty)
