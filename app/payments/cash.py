"""Drivers' cash (司机交款): cash collected at the door on 货到付款 orders is a payment of the
order (the ledger credits the member at once), but it is in the driver's pocket until
handed in. A hand-in, recorded by customer service, clears the payments chosen; what
was counted is kept beside what the orders say, and a difference stays visible until
someone explains it."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.members.models import StaffKind, StaffProfile
from app.ordering.guards import clean, parse_amount
from app.ordering.models import Order, Payment
from app.ordering.states import Pay
from app.payments.models import CashHandIn, CashHandInLine
from app.platform import ids
from app.platform.errors import NotFound, ValidationError
from app.platform.time import utcnow

ZERO = Decimal("0.00")


@dataclass
class Held:
    """What one driver holds: the cash payments not yet handed in, oldest first."""

    driver: StaffProfile
    payments: list = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((Decimal(p.amount) for p in self.payments), ZERO)

    @property
    def since(self) -> datetime | None:
        return self.payments[0].created_at if self.payments else None


def _held_query():
    """Cash the order's driver collected at the door (recorded by the driver's own
    account: a cash payment customer service records is already at the office)."""
    handed_in = exists().where(CashHandInLine.payment_id == Payment.id)
    return (select(Payment).join(Order, Order.id == Payment.order_id)
            .join(StaffProfile, StaffProfile.id == Order.driver_id)
            .where(Payment.method == Pay.COD, Payment.recorded_by_id == StaffProfile.user_id,
                   ~handed_in)
            .options(selectinload(Payment.order).options(selectinload(Order.member),
                                                         selectinload(Order.driver)))
            .order_by(Payment.created_at, Payment.id))


def held_by(driver_id: int) -> Held:
    driver = db.session.get(StaffProfile, driver_id)
    if driver is None or driver.kind != StaffKind.DRIVER:
        raise NotFound(_l("The page you asked for does not exist."))
    payments = db.session.scalars(_held_query().where(Order.driver_id == driver_id)).all()
    return Held(driver, list(payments))


def holding() -> list[Held]:
    """Every driver who holds cash, the longest-held first."""
    by_driver: dict[int, Held] = {}
    for payment in db.session.scalars(_held_query()):
        driver_id = payment.order.driver_id
        if driver_id not in by_driver:
            by_driver[driver_id] = Held(payment.order.driver)
        by_driver[driver_id].payments.append(payment)
    return sorted(by_driver.values(), key=lambda h: h.since)


def record_hand_in(actor, driver_id, payment_ids, received, note=None) -> CashHandIn:
    """Customer service counts the cash a driver brings and clears the chosen orders."""
    driver_id = ids.parse_id(driver_id)
    held = held_by(driver_id) if driver_id else None
    if held is None:
        raise NotFound(_l("The page you asked for does not exist."))
    chosen = {ids.parse_id(p) for p in payment_ids or []}
    payments = [p for p in held.payments if p.id in chosen]
    if not payments or len(payments) != len(chosen):
        raise ValidationError(_l("Please choose orders whose cash this driver still holds."),
                              "payments")
    expected = sum((Decimal(p.amount) for p in payments), ZERO)
    hand_in = CashHandIn(driver_id=driver_id, expected=expected,
                         received=parse_amount(received, "received"),
                         note=(clean(note) or "")[:255] or None, recorded_by_id=actor.id,
                         lines=[CashHandInLine(payment_id=p.id) for p in payments])
    db.session.add(hand_in)
    try:
        db.session.commit()  # a payment handed in twice at once: the unique line stops it
    except IntegrityError:
        db.session.rollback()
        raise ValidationError(_l("Some of these orders were handed in meanwhile. Please "
                                 "check the list again."), "payments") from None
    return hand_in


def explain(actor, hand_in_id, explanation) -> CashHandIn:
    """Why a hand-in differs from its orders (短款/长款); written once."""
    hand_in = db.session.get(CashHandIn, ids.parse_id(hand_in_id) or 0)
    if hand_in is None:
        raise NotFound(_l("The page you asked for does not exist."))
    text = (clean(explanation) or "")[:255]
    if hand_in.difference == 0 or hand_in.explained_at is not None:
        raise ValidationError(_l("This hand-in has nothing left to explain."), "explanation")
    if not text:
        raise ValidationError(_l("Please write why the amounts differ."), "explanation")
    hand_in.explanation, hand_in.explained_at = text, utcnow()
    db.session.commit()
    return hand_in


def hand_ins(before_id: int | None = None, limit: int = 50) -> list[CashHandIn]:
    """Hand-ins newest first; unexplained differences are flagged by the page."""
    query = select(CashHandIn).options(selectinload(CashHandIn.driver))
    if before_id:
        query = query.where(CashHandIn.id < before_id)
    return db.session.scalars(query.order_by(CashHandIn.id.desc()).limit(limit)).all()


def unexplained() -> list[CashHandIn]:
    return db.session.scalars(select(CashHandIn).where(
        CashHandIn.expected != CashHandIn.received, CashHandIn.explained_at.is_(None))
        .order_by(CashHandIn.id)).all()
