"""The receivables ledger (every entry posted by the workflow) and credit limits."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from app.extensions import db
from app.members.models import Member
from app.ordering import workflow
from app.ordering.models import CartLine, Order, Payment, Refund
from app.ordering.states import RefundStatus, State
from app.payments import credit, ledger
from app.payments.credit import CreditLimitExceeded
from app.payments.models import EntryKind, LedgerEntry
from app.platform.errors import ValidationError
from tests.order_factory import World, add_photo
from tests.test_refunds_and_races import _at_once, busy  # noqa: F401  (the fixture)


@pytest.fixture
def world(app, ctx, make):
    world = World(app, make)
    db.session.get(Member, world.customer.id).monthly_settlement = True
    db.session.commit()
    return world


def _entries(order_id):
    return db.session.execute(select(LedgerEntry.kind, LedgerEntry.amount).where(
        LedgerEntry.order_id == order_id).order_by(LedgerEntry.id)).all()


def _deliver(world, order, **door):
    driver = world.user(world.driver)
    for action, data in (("confirm", {}), ("assign_driver", {"driver_id": world.driver.id}),
                         ("start_delivery", {})):
        workflow.apply(order, action, world.user(world.salesman) if action != "start_delivery"
                       else driver, **data)
    add_photo(order, driver)
    workflow.apply(db.session.get(Order, order.id), "complete_delivery", driver, **door)
    return db.session.get(Order, order.id)


def test_an_order_is_owed_once_delivered_and_cash_at_the_door_pays_it(world):
    order = world.order("assigned")
    assert _entries(order.id) == []  # submitted, confirmed, assigned: nothing owed yet
    order = db.session.get(Order, order.id)
    driver = world.user(world.driver)
    workflow.apply(order, "start_delivery", driver)
    add_photo(order, driver)
    workflow.apply(order, "complete_delivery", driver, cash_collected=str(order.total))
    assert _entries(order.id) == [(EntryKind.DELIVERY, order.total),
                                  (EntryKind.PAYMENT, -order.total)]
    assert ledger.balance(world.customer.id) == 0


def test_lines_refused_at_the_door_are_not_owed(world):
    order = world.order("pending", payment="monthly")
    line = order.lines[0]
    order = _deliver(world, order, refused=[{"line_id": line.id, "quantity": world.moq,
                                            "reason": "破损"}])
    assert order.total < line.unit_price * line.quantity
    assert _entries(order.id) == [(EntryKind.DELIVERY, order.total)]
    assert ledger.balance(world.customer.id) == order.total


def test_payments_and_approved_refunds_are_credits_each_posted_once(world):
    order = world.order("received", payment="monthly")
    customer, cs = world.user(world.customer), world.user(world.cs)
    workflow.apply(order, "request_refund", customer, reason="破损",
                   lines=[{"line_id": order.lines[0].id, "quantity": world.moq}])
    workflow.apply(db.session.get(Order, order.id), "decide_refund", cs, approve="1",
                   amount="10.00")
    workflow.apply(db.session.get(Order, order.id), "mark_paid", cs, note="月结到账",
                   amount=str(order.total - Decimal("10.00")))
    kinds = [kind for kind, _ in _entries(order.id)]
    assert kinds == [EntryKind.DELIVERY, EntryKind.REFUND, EntryKind.PAYMENT]
    assert ledger.balance(world.customer.id) == 0
    # Posting again (any later action) adds nothing: each source is posted once.
    assert ledger.post_order(db.session.get(Order, order.id)) == []


def test_an_override_out_of_received_reverses_and_back_owes_again(world):
    order = world.order("received", payment="monthly")
    cs = world.user(world.cs)
    workflow.apply(order, "override", cs, target=State.CLOSED, remark="客户退单")
    assert ledger.balance(world.customer.id) == 0
    workflow.apply(db.session.get(Order, order.id), "override", cs, target=State.RECEIVED,
                   remark="误操作")
    assert [k for k, _ in _entries(order.id)] == [
        EntryKind.DELIVERY, EntryKind.DELIVERY_REVERSAL, EntryKind.DELIVERY]
    assert ledger.balance(world.customer.id) == order.total


def test_entries_are_never_written_for_an_order_that_only_moves(world):
    order = world.order("pending", payment="monthly")
    workflow.apply(order, "close", world.user(world.salesman), reason="客户取消")
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 0


def test_aging_pays_the_oldest_deliveries_first():
    today = date(2026, 12, 3)

    def at(days_ago, amount):
        moment = datetime(2026, 12, 3, 4) - timedelta(days=days_ago)
        return LedgerEntry(amount=Decimal(amount), created_at=moment)

    entries = [at(100, "50"), at(70, "30"), at(40, "20"), at(5, "10"), at(1, "-60")]
    aging = ledger.aging_of(entries, today)
    # 60 paid clears the 100-day-old 50 and 10 of the 70-day-old 30.
    assert aging.buckets == [Decimal("10"), Decimal("20"), Decimal("20"), Decimal("0")]
    assert aging.total == Decimal("50") and aging.since == today - timedelta(days=70)
    assert ledger.aging_of([at(3, "-5")], today).total == 0  # paid in advance: nothing due


# ---- credit limits ---------------------------------------------------------------------

def _limit(world, amount):
    db.session.get(Member, world.customer.id).credit_limit = Decimal(amount)
    db.session.commit()


def test_a_monthly_order_over_the_credit_limit_is_refused_with_what_is_available(world):
    first = world.order("pending", payment="monthly")  # open: counts against the limit
    _limit(world, first.total + Decimal("5.00"))
    with pytest.raises(CreditLimitExceeded) as refused:
        world.order("pending", payment="monthly")
    db.session.rollback()
    assert "¥5.00" in str(refused.value.message) and refused.value.code == "credit_limit"
    assert db.session.scalar(select(func.count(Order.id))) == 1  # nothing was kept
    # Other payment methods are not on account; paying the first frees the room.
    world.order("pending", payment="cod")
    workflow.apply(db.session.get(Order, first.id), "close", world.user(world.salesman),
                   reason="改单")
    assert credit.available(db.session.get(Member, world.customer.id)) == \
        first.total + Decimal("5.00")
    assert world.order("pending", payment="monthly").state == State.PENDING


def test_what_is_owed_counts_against_the_limit_until_paid(world):
    order = world.order("received", payment="monthly")
    _limit(world, order.total)
    with pytest.raises(CreditLimitExceeded):
        world.order("pending", payment="monthly")
    db.session.rollback()
    # The refused order left the cart as it was; the customer empties it and pays.
    db.session.execute(delete(CartLine).where(CartLine.user_id == world.customer.user_id))
    workflow.apply(db.session.get(Order, order.id), "mark_paid", world.user(world.cs),
                   note="到账")
    assert world.order("pending", payment="monthly").state == State.PENDING


def test_reopening_a_closed_order_is_refused_over_the_limit(world):
    order = world.order("pending", payment="monthly")
    workflow.apply(order, "close", world.user(world.salesman), reason="客户取消")
    _limit(world, "0.00")
    with pytest.raises(CreditLimitExceeded):
        workflow.apply(db.session.get(Order, order.id), "override", world.user(world.cs),
                       target=State.RECEIVED, remark="误关")
    db.session.rollback()
    assert db.session.get(Order, order.id).state == State.CLOSED
    assert ledger.balance(world.customer.id) == 0


def test_an_edit_that_raises_a_monthly_order_over_the_limit_is_undone(world):
    order = world.order("pending", payment="monthly")
    line = order.lines[0]
    quantity, total = line.quantity, order.total
    _limit(world, total + Decimal("1.00"))
    with pytest.raises(CreditLimitExceeded):
        workflow.apply(order, "edit", world.user(world.salesman), op="set_quantity",
                       line_id=line.id, quantity=quantity * 2, reason="客户加量")
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert (order.lines[0].quantity, order.total, len(order.events)) == (quantity, total, 1)
    # Lowering it always may; raising within the room too.
    _limit(world, "0.00")
    workflow.apply(order, "edit", world.user(world.salesman), op="set_quantity",
                   line_id=line.id, quantity=quantity // 2, reason="客户减量")
    assert db.session.get(Order, order.id).total < total


def test_no_limit_set_means_no_limit(world):
    assert credit.available(db.session.get(Member, world.customer.id)) is None
    assert world.order("pending", payment="monthly").state == State.PENDING


@pytest.mark.postgres
def test_two_orders_that_each_fit_alone_cannot_both_pass(app, make, busy):  # noqa: F811
    """Two closed 统一结算 orders of one member are re-opened at once by two people; each
    fits the limit alone, not both. Each locks its own order, so only the member's row
    lock makes the second wait for the first and see it."""
    with app.app_context():
        world = World(app, make)
        member = db.session.get(Member, world.customer.id)
        member.monthly_settlement = True
        db.session.commit()
        salesman = world.user(world.salesman)
        ids = []
        for _ in range(2):
            order = world.order("pending", payment="monthly")
            workflow.apply(order, "close", salesman, reason="误关")
            ids.append(order.id)
        total = db.session.get(Order, ids[0]).total
        member = db.session.get(Member, world.customer.id)
        member.credit_limit = total * Decimal("1.5")  # room for one, not two
        db.session.commit()
        people = [world.cs.user_id, world.admin.user_id]

    def reopen(order_id, user_id):
        def job():
            user = busy.appbuilder.sm.get_user_by_id(user_id)
            return workflow.apply(db.session.get(Order, order_id), "override", user,
                                  target=State.RECEIVED, remark="误关").state
        return job

    results = _at_once(busy, [reopen(ids[0], people[0]), reopen(ids[1], people[1])])
    assert sorted(map(type, results), key=str) == sorted([str, CreditLimitExceeded],
                                                         key=str), results
    with app.app_context():
        assert ledger.balance(world.customer.id) == total
        assert db.session.scalar(select(func.count(Order.id)).where(
            Order.state == State.RECEIVED)) == 1


# ---- the property: the ledger is the arithmetic of what happened ------------------------

STEPS = st.lists(st.tuples(st.sampled_from(["deliver", "refuse", "receive", "pay", "refund",
                                            "close"]),
                           st.integers(min_value=0, max_value=3)),
                 min_size=1, max_size=8)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(steps=STEPS)
def test_the_balance_is_delivered_less_refunded_less_paid(world, steps):
    customer, cs = world.user(world.customer), world.user(world.cs)
    orders = []
    for step, pick in steps:
        if step in ("deliver", "refuse", "receive", "close") or not orders:
            order = world.order("pending" if step != "receive" else "received",
                                payment="monthly")
            if step in ("deliver", "refuse"):
                refused = [{"line_id": order.lines[0].id, "quantity": world.moq}] \
                    if step == "refuse" else []
                order = _deliver(world, order, refused=refused)
            elif step == "close":
                workflow.apply(order, "close", world.user(world.salesman), reason="取消")
            orders.append(order.id)
            continue
        order = db.session.get(Order, orders[pick % len(orders)])
        try:
            if step == "pay":
                workflow.apply(order, "mark_paid", cs, note="到账",
                               amount=str(max(order.total - pick, Decimal("0.01"))))
            elif step == "refund":
                workflow.apply(order, "request_refund", customer, reason="退货",
                               lines=[{"line_id": order.lines[0].id, "quantity": world.moq}])
                workflow.apply(db.session.get(Order, order.id), "decide_refund", cs,
                               approve="1", amount=str(Decimal(pick + 1)))
        except ValidationError:
            db.session.rollback()  # not possible in this state: nothing happened
    member_id = world.customer.id
    delivered = db.session.scalar(select(func.coalesce(func.sum(Order.total), 0)).where(
        Order.member_id == member_id, Order.state.in_(State.FINISHED)))
    refunded = db.session.scalar(select(func.coalesce(func.sum(Refund.amount), 0))
                                 .join(Order).where(Order.member_id == member_id,
                                                    Refund.status == RefundStatus.APPROVED))
    paid = db.session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).join(Order)
                             .where(Order.member_id == member_id))
    assert ledger.balance(member_id) == Decimal(delivered) - Decimal(refunded) - Decimal(paid)
