"""Monthly statements (对账单): immutable, chained month to month, confirmed or disputed."""

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.members.models import Member
from app.ordering import workflow
from app.ordering.models import Order
from app.payments import ledger, statement_files, statements
from app.payments.models import (
    EntryKind,
    LedgerEntry,
    Statement,
    StatementLine,
    StatementStatus,
)
from app.platform.errors import NotFound, ValidationError
from app.platform.time import local_date
from tests.order_factory import World

SEP, OCT, NOV = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)


@pytest.fixture
def world(app, ctx, make):
    world = World(app, make)
    db.session.get(Member, world.customer.id).monthly_settlement = True
    db.session.commit()
    return world


def _at(entry_ids, moment: datetime):
    """Tests only: put entries at another time (the app only ever appends at now)."""
    db.session.execute(update(LedgerEntry).where(LedgerEntry.id.in_(entry_ids))
                       .values(created_at=moment))
    db.session.commit()


def _received(world, moment, paid=None):
    order = world.order("received", payment="monthly")
    if paid is not None:
        workflow.apply(db.session.get(Order, order.id), "mark_paid", world.user(world.cs),
                       note="到账", amount=str(paid))
    ids = db.session.scalars(select(LedgerEntry.id).where(LedgerEntry.order_id == order.id))
    _at(list(ids), moment)
    return db.session.get(Order, order.id)


def test_a_month_is_a_numbered_snapshot_chained_to_the_next(world):
    a = _received(world, datetime(2026, 9, 10, 2))
    b = _received(world, datetime(2026, 10, 5, 2), paid="5.00")
    for period in (SEP, OCT):
        assert statements.issue(period).statements == 1
    sep, oct_ = (db.session.scalar(select(Statement).where(Statement.period == p))
                 for p in (SEP, OCT))
    assert sep.number == f"DZ202609{world.customer.id:06d}"
    assert (sep.opening, sep.closing) == (0, a.total)
    assert oct_.opening == sep.closing
    assert oct_.closing == a.total + b.total - Decimal("5.00")
    assert [line.kind for line in oct_.lines] == [EntryKind.DELIVERY, EntryKind.PAYMENT]
    assert oct_.lines[-1].balance == oct_.closing
    # Aging at 31 October: the payment paid the oldest (September, 51 days old) first.
    assert oct_.aging == [b.total, a.total - Decimal("5.00"), 0, 0]
    # Issuing again makes nothing new; a month not yet over is refused.
    assert statements.issue(OCT).statements == 0
    with pytest.raises(ValidationError):
        statements.parse_period(f"{local_date():%Y-%m}")
    assert statements.parse_period("2026-10") == OCT


def test_the_periodic_task_issues_last_month_for_monthly_members_only(world):
    _received(world, datetime.now() - timedelta(days=40))
    other = db.session.get(Member, world.other_customer.id)
    assert not other.monthly_settlement
    assert statements.issue_due() == 1
    assert statements.issue_due() == 0
    assert db.session.scalar(select(func.count(Statement.id))) == 1


def test_the_member_confirms_and_the_month_is_locked(world):
    _received(world, datetime(2026, 9, 10, 2))
    statements.issue(SEP)
    statement = db.session.scalar(select(Statement))
    customer = world.user(world.customer)
    with pytest.raises(ValidationError):  # a dispute needs a remark
        statements.respond(customer, statement.id, confirm=False, remark=" ")
    statements.respond(customer, statement.id, confirm=False, remark="9月10日那单少了一箱")
    assert db.session.get(Statement, statement.id).status == StatementStatus.DISPUTED
    statements.respond(customer, statement.id, confirm=True)
    statement = db.session.get(Statement, statement.id)
    assert statement.status == StatementStatus.CONFIRMED
    assert statement.member_remark == "9月10日那单少了一箱"
    with pytest.raises(ValidationError):
        statements.respond(customer, statement.id, confirm=False, remark="再改")
    with pytest.raises(NotFound):  # another shop's statement does not exist for them
        statements.own(world.user(world.other_customer), statement.id)
    with pytest.raises(NotFound):  # nor for a salesman of another region
        statements.get_for(world.user(world.other_salesman), statement.id)
    assert statements.get_for(world.user(world.salesman), statement.id).id == statement.id


def test_the_pdf_and_the_workbook_show_the_month(app, world):
    order = _received(world, datetime(2026, 9, 10, 2))
    statements.issue(SEP)
    statement = db.session.scalar(select(Statement))
    with app.test_request_context():
        body = statement_files.pdf(statement)
        book = load_workbook(io.BytesIO(statement_files.xlsx(statement)))
    assert body.startswith(b"%PDF") and len(body) > 1500
    values = [cell.value for row in book.active.iter_rows() for cell in row]
    assert statement.number in values and order.order_no in values
    assert Decimal(str(order.total)) in [Decimal(str(v)) for v in values
                                         if isinstance(v, (int, float, Decimal))]


# ---- the property: statements are the ledger's arithmetic --------------------------------

ENTRIES = st.lists(st.tuples(st.integers(min_value=0, max_value=150),  # day of the span
                             st.integers(min_value=-5000, max_value=9000).filter(bool)),
                   min_size=0, max_size=25)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(entries=ENTRIES)
def test_statements_chain_and_their_lines_sum_to_the_closing(world, entries):
    db.session.execute(delete(StatementLine))
    db.session.execute(delete(Statement))
    db.session.execute(delete(LedgerEntry))
    member_id = world.customer.id
    order_id = db.session.scalar(select(Order.id)) or world.order("pending").id
    start = datetime(2026, 6, 1)
    for day, cents in entries:
        db.session.add(LedgerEntry(member_id=member_id, order_id=order_id,
                                   kind=EntryKind.DELIVERY if cents > 0 else EntryKind.PAYMENT,
                                   amount=Decimal(cents) / 100,
                                   created_at=start + timedelta(days=day, hours=3)))
    db.session.commit()
    period, previous = date(2026, 6, 1), None
    while period <= OCT:
        statements.issue(period)
        statement = db.session.scalar(select(Statement).where(Statement.period == period))
        assert statement.closing - statement.opening == sum(
            (line.amount for line in statement.lines), Decimal(0))
        assert statement.debits + statement.credits == statement.closing - statement.opening
        assert sum(statement.aging) == max(statement.closing, Decimal(0))
        # The same aging as the ledger's own (credits paying the oldest debits first).
        last_day = statements.next_month(period) - timedelta(days=1)
        upto = db.session.scalars(select(LedgerEntry).where(
            LedgerEntry.created_at < datetime.combine(statements.next_month(period),
                                                      datetime.min.time()) - timedelta(hours=8))
            .order_by(LedgerEntry.created_at, LedgerEntry.id)).all()
        assert ledger.aging_of(upto, last_day).buckets == statement.aging
        if previous is not None:
            assert statement.opening == previous.closing
        previous, period = statement, statements.next_month(period)
    total = sum((Decimal(c) / 100 for d, c in entries if d < 153), Decimal(0))
    assert previous.closing == total


def test_the_member_reads_and_answers_a_statement_on_the_web(app, client, world):
    import re

    from tests.conftest import login

    order_no = _received(world, datetime(2026, 9, 10, 2)).order_no
    statements.issue(SEP)
    statement_id = db.session.scalar(select(Statement.id))
    db.session.remove()
    login(client, world.customer.mobile)
    account = client.get("/me/account").get_data(as_text=True)
    assert "data-statements-link" in account and "月度对账单" in account
    listed = client.get("/me/statements").get_data(as_text=True)
    assert "2026-09" in listed and "待确认" in listed
    page = client.get(f"/me/statements/{statement_id}").get_data(as_text=True)
    assert order_no in page and "确认对账单" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    assert client.get(f"/me/statements/{statement_id}.pdf").data.startswith(b"%PDF")
    assert client.get(f"/me/statements/{statement_id}.doc").status_code == 404
    refused = client.post(f"/me/statements/{statement_id}",
                          data={"csrf_token": token, "answer": "dispute", "remark": " "})
    assert refused.status_code == 400
    assert "请写明哪里不符。" in refused.get_data(as_text=True)
    assert db.session.get(Statement, statement_id).status == StatementStatus.ISSUED
    done = client.post(f"/me/statements/{statement_id}",
                       data={"csrf_token": token, "answer": "confirm"})
    assert done.status_code == 302
    page = client.get(f"/me/statements/{statement_id}").get_data(as_text=True)
    assert "data-confirm-statement" not in page  # locked: nothing left to answer
    assert db.session.get(Statement, statement_id).status == StatementStatus.CONFIRMED
    db.session.remove()
