"""Credit limits (信用额度) of 统一结算 members: one check, at the moments exposure grows.

Exposure is what the member owes (the ledger balance) plus the totals of its open
统一结算 orders not yet on the account (submitted, not yet delivered or received, not
closed). An order that would take exposure over the limit is refused when it is
submitted and when customer service re-opens a closed one. The member's row is locked
first, so two orders that each fit alone are decided one after the other: the second
sees the first.
"""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.members.models import Member
from app.ordering.models import Order
from app.ordering.states import Pay, State
from app.payments import ledger
from app.platform.errors import DomainError

ZERO = Decimal("0.00")


class CreditLimitExceeded(DomainError):
    code = "credit_limit"


def open_orders_total(member_id: int, leaving_out: int | None = None) -> Decimal:
    """Totals of the member's open 统一结算 orders (not yet on the account)."""
    query = select(func.coalesce(func.sum(Order.total), 0)).where(
        Order.member_id == member_id, Order.payment_method == Pay.MONTHLY,
        Order.state.in_(State.OPEN))
    if leaving_out is not None:
        query = query.where(Order.id != leaving_out)
    return Decimal(db.session.scalar(query) or 0)


def exposure(member_id: int, leaving_out: int | None = None) -> Decimal:
    return ledger.balance(member_id) + open_orders_total(member_id, leaving_out)


def available(member) -> Decimal | None:
    """What the member may still order on account; None when no limit is set."""
    if member is None or member.credit_limit is None:
        return None
    return max(Decimal(member.credit_limit) - exposure(member.id), ZERO)


def available_many(members, balances: dict) -> dict:
    """`available` for many members at once (their balances known): one query."""
    limited = [m.id for m in members if m.credit_limit is not None]
    open_totals = dict(db.session.execute(
        select(Order.member_id, func.sum(Order.total))
        .where(Order.member_id.in_(limited), Order.payment_method == Pay.MONTHLY,
               Order.state.in_(State.OPEN))
        .group_by(Order.member_id)).all()) if limited else {}
    return {m.id: None if m.credit_limit is None else max(
        Decimal(m.credit_limit) - Decimal(balances[m.id]) - Decimal(open_totals.get(m.id) or 0),
        ZERO) for m in members}


def check_order(order) -> None:
    """Refuse a 统一结算 order that would take its member over the credit limit. Locks the
    member's row until the caller's transaction ends."""
    if order.payment_method != Pay.MONTHLY:
        return
    limit = db.session.scalar(select(Member.credit_limit).where(Member.id == order.member_id)
                              .with_for_update())
    if limit is None:
        return
    room = Decimal(limit) - exposure(order.member_id, leaving_out=order.id)
    if Decimal(order.total or 0) > room:
        raise CreditLimitExceeded(
            _l("This order (¥%(total)s) is over the credit limit: ¥%(available)s of "
               "¥%(limit)s is available. Please pay outstanding orders first or choose "
               "another payment method.", total=order.total,
               available=max(room, ZERO), limit=Decimal(limit)), "payment")
