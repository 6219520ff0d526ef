"""The receivables ledger: what each member owes, entry by entry (应收账款).

`post_order` is the one writer. It runs as an effect of every workflow action that can
change what an order puts on the account (ordering/workflow.py names it), inside that
action's transaction and under its order lock, and brings the order's entries up to
what the order is now: its total owed while it is delivered or received (net of the
lines refused at the door, which the total already leaves out), nothing otherwise; each
payment a credit, each approved refund a credit. It only appends: a change is a new
entry (a reversal), never an edit, so the account's history is the account.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.members.models import Member, MemberStatus
from app.ordering import scope
from app.ordering.states import RefundStatus, State
from app.payments.models import EntryKind, LedgerEntry
from app.platform.time import local_date

ZERO = Decimal("0.00")
AGING_BUCKETS = ((0, 30), (31, 60), (61, 90), (91, None))  # days, inclusive


def owed_for_goods(order) -> Decimal:
    """What the order's goods put on the account now: its total once delivered or received."""
    return Decimal(order.total or 0) if order.state in State.FINISHED else ZERO


def post_order(order) -> list[LedgerEntry]:
    """Append the entries that bring the order's part of the account up to date."""
    posted = db.session.execute(
        select(LedgerEntry.payment_id, LedgerEntry.refund_id, LedgerEntry.kind,
               LedgerEntry.amount).where(LedgerEntry.order_id == order.id)).all()
    goods = sum((r.amount for r in posted
                 if r.kind in (EntryKind.DELIVERY, EntryKind.DELIVERY_REVERSAL)), ZERO)
    paid = {r.payment_id for r in posted if r.payment_id is not None}
    refunded = {r.refund_id for r in posted if r.refund_id is not None}
    new = []
    change = owed_for_goods(order) - goods
    if change:
        new.append(LedgerEntry(kind=EntryKind.DELIVERY if change > 0
                               else EntryKind.DELIVERY_REVERSAL, amount=change))
    db.session.flush()  # payments and refunds added by this action get their ids
    for payment in order.payments:
        if payment.id not in paid and payment.amount:
            # A negative payment is money paid back (payments.wechat_pay: a refund that
            # WeChat Pay paid out): a debit, as the money left us.
            new.append(LedgerEntry(kind=EntryKind.PAYMENT if payment.amount > 0
                                   else EntryKind.PAYBACK, amount=-payment.amount,
                                   payment_id=payment.id))
    for refund in order.refunds:
        if refund.status == RefundStatus.APPROVED and refund.id not in refunded and \
                refund.amount:
            new.append(LedgerEntry(kind=EntryKind.REFUND, amount=-refund.amount,
                                   refund_id=refund.id))
    for entry in new:
        entry.member_id, entry.order_id = order.member_id, order.id
        db.session.add(entry)
    return new


def balance(member_id: int) -> Decimal:
    """What the member owes now (negative: paid in advance)."""
    return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                             .where(LedgerEntry.member_id == member_id)) or ZERO


def balances(member_ids) -> dict[int, Decimal]:
    """{member id: balance} for these members, in one query; members with no entry: 0."""
    member_ids = list(member_ids)
    rows = db.session.execute(
        select(LedgerEntry.member_id, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.member_id.in_(member_ids))
        .group_by(LedgerEntry.member_id)).all() if member_ids else []
    found = {member_id: Decimal(total) for member_id, total in rows}
    return {member_id: found.get(member_id, ZERO) for member_id in member_ids}


@dataclass
class Aging:
    """What is owed, by how long ago the goods were delivered; credits pay the oldest first."""

    buckets: list[Decimal] = field(default_factory=lambda: [ZERO] * len(AGING_BUCKETS))
    since: date | None = None  # the oldest delivery still (partly) unpaid

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, ZERO)


def aging_of(entries, today: date) -> Aging:
    """Aging of a member's entries (objects with .amount and .created_at, oldest first)."""
    debits = [[local_date(e.created_at), Decimal(e.amount)] for e in entries if e.amount > 0]
    credit = -sum((Decimal(e.amount) for e in entries if e.amount < 0), ZERO)
    for debit in debits:
        used = min(credit, debit[1])
        debit[1] -= used
        credit -= used
    aging = Aging()
    for day, amount in debits:
        if not amount:
            continue
        aging.since = aging.since or day
        age = (today - day).days
        for i, (low, high) in enumerate(AGING_BUCKETS):
            if age >= low and (high is None or age <= high):
                aging.buckets[i] += amount
                break
        else:  # dated after today (a clock moved back): the newest bucket
            aging.buckets[0] += amount
    return aging


def agings(member_ids, today: date | None = None) -> dict[int, Aging]:
    """{member id: Aging} for these members (one query for all)."""
    today = today or local_date()
    member_ids = list(member_ids)
    by_member: dict[int, list] = {member_id: [] for member_id in member_ids}
    if member_ids:
        for entry in db.session.scalars(
                select(LedgerEntry).where(LedgerEntry.member_id.in_(member_ids))
                .order_by(LedgerEntry.created_at, LedgerEntry.id)):
            by_member[entry.member_id].append(entry)
    return {member_id: aging_of(entries, today) for member_id, entries in by_member.items()}


def entries(member_id: int, before_id: int | None = None, limit: int = 50):
    """The member's entries, newest first, a page at a time (keyset on id)."""
    query = select(LedgerEntry).where(LedgerEntry.member_id == member_id).options(
        selectinload(LedgerEntry.order))
    if before_id:
        query = query.where(LedgerEntry.id < before_id)
    return db.session.scalars(query.order_by(LedgerEntry.id.desc()).limit(limit)).all()


def running_balances(member_id: int, entries) -> dict[int, Decimal]:
    """{entry id: the balance after it} for a page of the member's entries, newest first."""
    if not entries:
        return {}
    running = Decimal(db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .where(LedgerEntry.member_id == member_id, LedgerEntry.id <= entries[0].id)))
    found = {}
    for entry in entries:
        found[entry.id] = running
        running -= Decimal(entry.amount)
    return found


@dataclass
class ReceivablesPage:
    rows: list  # (member, balance), the largest balance first
    total: int  # members matching
    owed: Decimal  # what they owe in all
    page: int  # the page shown (a page past the end shows the last)


def receivables(user, region_id=None, q=None, owing=False, page=1,
                per_page=25) -> ReceivablesPage:
    """The members this person may see with their balances, the largest first: those who
    owe (owing) or every member who may order or has an account history."""
    owed = (select(LedgerEntry.member_id, func.sum(LedgerEntry.amount).label("balance"))
            .group_by(LedgerEntry.member_id).subquery())
    balance = func.coalesce(owed.c.balance, 0)
    query = (select(Member, balance.label("balance"))
             .outerjoin(owed, owed.c.member_id == Member.id)
             .where(scope.member_condition(user)))
    if region_id:
        query = query.where(Member.region_id == region_id)
    if q:
        query = query.where(or_(Member.shop_name.contains(q, autoescape=True),
                                Member.contact_name.contains(q, autoescape=True),
                                Member.phone.contains(q, autoescape=True)))
    if owing:
        query = query.where(owed.c.balance > 0)
    else:
        query = query.where(or_(Member.status == MemberStatus.APPROVED,
                                owed.c.member_id.isnot(None)))
    counted = query.subquery()
    total, owed_total = db.session.execute(
        select(func.count(), func.coalesce(func.sum(counted.c.balance), 0))
        .select_from(counted)).one()
    page = min(max(page, 1), max(1, -(-total // per_page)))
    rows = db.session.execute(
        query.options(selectinload(Member.region)).order_by(balance.desc(), Member.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    return ReceivablesPage([(member, Decimal(value)) for member, value in rows], total,
                           Decimal(owed_total), page)
