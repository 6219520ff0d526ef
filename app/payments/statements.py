"""Monthly statements (对账单) of 统一结算 members.

A statement is an immutable, numbered snapshot of one member's month of the ledger: the
opening balance (every entry before the month), each entry of the month with the
running balance, the closing balance, and the closing balance's aging at the month's
end. Because entries are only ever appended with the time they were written, the month
before a statement can never change again, so closing(m) == opening(m + 1) holds by
construction. The member confirms (对账确认: the statement is locked) or disputes it
with a remark; nothing else is ever written to it.

`issue(period)` makes the month's statements for every 统一结算 member that has none yet,
a batch of members at a time with a few set-based queries per batch (never a query per
member): the periodic task `issue_due` runs it for last month on the 1st (and on any
later run, harmlessly), and the back office runs it on demand for any finished month.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.members.models import Member
from app.ordering import scope
from app.ordering.models import Order
from app.payments.ledger import AGING_BUCKETS, ZERO
from app.payments.models import LedgerEntry, Statement, StatementLine, StatementStatus
from app.platform import ids
from app.platform.errors import NotFound, ValidationError
from app.platform.time import SHANGHAI, local_date, utcnow

BATCH = 500  # members per round of queries
AGING_DAYS = AGING_BUCKETS[-1][0]  # debits older than this all fall in the last bucket


# ---- months --------------------------------------------------------------------------

def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(period: date) -> date:
    return (period.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(period: date) -> date:
    return month_of(period - timedelta(days=1))


def _utc(day: date) -> datetime:
    """Midnight of a Shanghai day as the naive UTC the columns hold."""
    return datetime.combine(day, time(), SHANGHAI).astimezone(UTC).replace(tzinfo=None)


def parse_period(text) -> date:
    """'2026-11' (or '2026-11-01') → the month's first day; a month not yet over is refused."""
    value = str(text or "").strip()[:10]
    try:
        period = date.fromisoformat(value + "-01" if len(value) == 7 else value)
    except ValueError:
        period = None
    if period is None or period.day != 1 or period.year < 2000:
        raise ValidationError(_l("Please choose a month."), "period")
    if next_month(period) > local_date():
        raise ValidationError(_l("A statement can only be made for a month that is over."),
                              "period")
    return period


# ---- issuing -------------------------------------------------------------------------

@dataclass
class Issued:
    period: date
    statements: int = 0
    lines: int = 0


def issue_due() -> int:
    """Periodic: last month's statements for every 统一结算 member without one yet."""
    return issue(previous_month(month_of(local_date()))).statements


def issue(period: date, member_ids=None) -> Issued:
    """Make the statements of one finished month (all 统一结算 members, or these), skipping
    members that already have theirs; commits a batch at a time."""
    start, end = _utc(period), _utc(next_month(period))
    query = select(Member.id).where(Member.monthly_settlement.is_(True)).where(
        ~select(Statement.id).where(Statement.member_id == Member.id,
                                    Statement.period == period).exists())
    if member_ids is not None:
        query = query.where(Member.id.in_(list(member_ids)))
    todo = db.session.scalars(query.order_by(Member.id)).all()
    done = Issued(period)
    for i in range(0, len(todo), BATCH):
        batch = todo[i:i + BATCH]
        statements, lines = _batch(period, batch, start, end)
        done.statements += statements
        done.lines += lines
        db.session.commit()
    return done


def _batch(period, member_ids, start, end) -> tuple[int, int]:
    openings = dict(db.session.execute(
        select(LedgerEntry.member_id, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.member_id.in_(member_ids), LedgerEntry.created_at < start)
        .group_by(LedgerEntry.member_id)).all())
    month = db.session.execute(
        select(LedgerEntry.id, LedgerEntry.member_id, LedgerEntry.kind, LedgerEntry.amount,
               LedgerEntry.created_at, Order.order_no)
        .join(Order, Order.id == LedgerEntry.order_id)
        .where(LedgerEntry.member_id.in_(member_ids), LedgerEntry.created_at >= start,
               LedgerEntry.created_at < end)
        .order_by(LedgerEntry.member_id, LedgerEntry.created_at, LedgerEntry.id)).all()
    # The debits the closing balance can still be made of: the last AGING_DAYS days' (any
    # older one is in the last bucket whatever its age).
    last_day = next_month(period) - timedelta(days=1)
    window = _utc(last_day - timedelta(days=AGING_DAYS - 1))
    recent: dict[int, list] = {}
    for member_id, amount, created_at in db.session.execute(
            select(LedgerEntry.member_id, LedgerEntry.amount, LedgerEntry.created_at)
            .where(LedgerEntry.member_id.in_(member_ids), LedgerEntry.amount > 0,
                   LedgerEntry.created_at >= window, LedgerEntry.created_at < end)
            .order_by(LedgerEntry.member_id, LedgerEntry.created_at.desc(),
                      LedgerEntry.id.desc())):
        recent.setdefault(member_id, []).append((amount, created_at))
    by_member: dict[int, list] = {}
    for row in month:
        by_member.setdefault(row.member_id, []).append(row)
    now, made, line_rows = utcnow(), [], []
    for member_id in member_ids:
        opening = Decimal(openings.get(member_id) or 0)
        rows = by_member.get(member_id, [])
        debits = sum((r.amount for r in rows if r.amount > 0), ZERO)
        credits = sum((r.amount for r in rows if r.amount < 0), ZERO)
        closing = opening + debits + credits
        aging = aging_at(closing, recent.get(member_id, []), last_day)
        made.append({"number": statement_number(period, member_id), "member_id": member_id,
                     "period": period, "opening": opening, "debits": debits,
                     "credits": credits, "closing": closing, "aged_0_30": aging[0],
                     "aged_31_60": aging[1], "aged_61_90": aging[2],
                     "aged_over_90": aging[3], "status": StatementStatus.ISSUED,
                     "created_at": now})
    if not made:
        return 0, 0
    db.session.execute(insert(Statement), made)
    statement_ids = dict(db.session.execute(
        select(Statement.member_id, Statement.id).where(
            Statement.period == period, Statement.member_id.in_(member_ids))).all())
    for member_id in member_ids:
        balance = Decimal(openings.get(member_id) or 0)
        for row in by_member.get(member_id, []):
            balance += row.amount
            line_rows.append({"statement_id": statement_ids[member_id], "entry_id": row.id,
                              "posted_at": row.created_at, "kind": row.kind,
                              "order_no": row.order_no, "amount": row.amount,
                              "balance": balance})
    if line_rows:
        db.session.execute(insert(StatementLine), line_rows)
    return len(made), len(line_rows)


def aging_at(closing: Decimal, recent_debits, last_day: date) -> list[Decimal]:
    """The closing balance by age at the month's last day: what is owed is the newest
    debits (credits pay the oldest first), so walk back from the newest."""
    buckets = [ZERO] * len(AGING_BUCKETS)
    left = Decimal(closing)
    for amount, created_at in recent_debits:  # newest first
        if left <= 0:
            break
        part = min(left, Decimal(amount))
        age = max((last_day - local_date(created_at)).days, 0)
        index = next(i for i, (low, high) in enumerate(AGING_BUCKETS)
                     if age >= low and (high is None or age <= high))
        buckets[index] += part
        left -= part
    if left > 0:
        buckets[-1] += left
    return buckets


def statement_number(period: date, member_id: int) -> str:
    return f"DZ{period:%Y%m}{member_id:06d}"


# ---- reading and answering -------------------------------------------------------------

def of_member(member_id: int, limit: int = 24) -> list[Statement]:
    return db.session.scalars(select(Statement).where(Statement.member_id == member_id)
                              .order_by(Statement.period.desc()).limit(limit)).all()


def get_for(user, statement_id) -> Statement:
    """A statement the person may see (the member's own, or staff in scope), else NotFound."""
    statement = db.session.scalar(
        select(Statement).join(Member, Member.id == Statement.member_id)
        .where(Statement.id == (ids.parse_id(statement_id) or 0),
               scope.member_condition(user))
        .options(selectinload(Statement.lines), selectinload(Statement.member)))
    if statement is None:
        raise NotFound(_l("The page you asked for does not exist."))
    return statement


def own(user, statement_id) -> Statement:
    """One of the signed-in member's own statements, else NotFound."""
    statement = get_for(user, statement_id)
    if statement.member.user_id != user.id:
        raise NotFound(_l("The page you asked for does not exist."))
    return statement


def respond(user, statement_id, confirm: bool, remark: str | None = None) -> Statement:
    """The member confirms the month (locked from then on) or disputes it with a remark."""
    statement = own(user, statement_id)
    db.session.refresh(statement, with_for_update=True)
    remark = (str(remark or "").strip())[:500] or None
    if statement.status == StatementStatus.CONFIRMED:
        raise ValidationError(_l("This statement is confirmed and can no longer be changed."),
                              "status")
    if not confirm and not remark:
        raise ValidationError(_l("Please write what does not match."), "remark")
    statement.status = StatementStatus.CONFIRMED if confirm else StatementStatus.DISPUTED
    statement.member_remark = remark if remark or not confirm else statement.member_remark
    statement.responded_at, statement.responded_by_id = utcnow(), user.id
    db.session.commit()
    return statement


def listing(user, period: date | None = None, status: str | None = None,
            before_id: int | None = None, limit: int = 50) -> list[Statement]:
    """Statements the person may see, newest first (keyset on id), for the back office."""
    query = (select(Statement).join(Member, Member.id == Statement.member_id)
             .where(scope.member_condition(user)).options(selectinload(Statement.member)))
    if period is not None:
        query = query.where(Statement.period == period)
    if status in StatementStatus.ALL:
        query = query.where(Statement.status == status)
    if before_id:
        query = query.where(Statement.id < before_id)
    return db.session.scalars(query.order_by(Statement.id.desc()).limit(limit)).all()
