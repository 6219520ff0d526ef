"""Refunds add up to no more than was paid for; two people acting on one order at once
act one after the other."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app import create_app
from app.catalog.models import Spec
from app.extensions import db
from app.messaging.models import Message
from app.ordering import refunds, workflow
from app.ordering.models import Order, OrderEvent, Payment
from app.platform.errors import ValidationError
from tests.conftest import TEST_DATABASE_URL, app_config
from tests.order_factory import World


@pytest.fixture
def world(app, ctx, make):
    return World(app, make)


def _request(world, order, quantity, line=None):
    line = line or order.lines[0]
    workflow.apply(order, "request_refund", world.user(world.customer), reason="破损",
                   lines=[{"line_id": line.id, "quantity": quantity}])
    return db.session.get(Order, order.id)


def _approve(world, order, amount):
    workflow.apply(order, "decide_refund", world.user(world.cs), approve="1",
                   amount=str(amount))
    return db.session.get(Order, order.id)


def test_refunds_together_never_pay_back_more_than_the_total(world):
    order = world.order("delivered")
    half = world.moq  # the order holds two boxes
    order = _request(world, order, half)
    value = refunds.suggested_amount(order, refunds.waiting(order))
    order = _approve(world, order, value)
    assert refunds.refunded_amount(order) == value
    order = _request(world, order, half)
    left = refunds.refundable_amount(order)
    assert left == order.total - value
    with pytest.raises(ValidationError) as refused:
        _approve(world, order, left + Decimal("0.01"))
    assert refused.value.field == "amount"
    db.session.rollback()
    order = _approve(world, db.session.get(Order, order.id), left)
    assert refunds.refunded_amount(order) == order.total
    assert refunds.refundable_amount(order) == 0


def test_a_line_cannot_be_returned_more_often_than_it_was_delivered(world):
    order = world.order("delivered")
    line = order.lines[0]
    order = _request(world, order, line.quantity)
    order = _approve(world, order, "1.00")
    with pytest.raises(ValidationError):
        _request(world, order, world.moq)  # everything was returned already
    db.session.rollback()
    assert refunds.waiting(db.session.get(Order, order.id)) is None


def test_a_line_named_twice_in_one_request_counts_once_with_both_quantities(world):
    order = world.order("delivered")
    line = order.lines[0]
    stock_before = db.session.get(Spec, line.spec_id).stock
    with pytest.raises(ValidationError):
        workflow.apply(order, "request_refund", world.user(world.customer), reason="破损",
                       lines=[{"line_id": line.id, "quantity": line.quantity},
                              {"line_id": line.id, "quantity": line.quantity}])
    db.session.rollback()
    order = db.session.get(Order, order.id)
    workflow.apply(order, "request_refund", world.user(world.customer), reason="破损",
                   lines=[{"line_id": line.id, "quantity": world.moq},
                          {"line_id": line.id, "quantity": world.moq}])
    order = db.session.get(Order, order.id)
    assert refunds.waiting(order).lines == [{"line_id": line.id, "quantity": 2 * world.moq}]
    workflow.apply(order, "decide_refund", world.user(world.cs), approve="1", amount="1.00",
                   restock="1")
    assert db.session.get(Spec, line.spec_id).stock == stock_before + 2 * world.moq


# ---- two people at once (PostgreSQL: row locks) ---------------------------------------------

@pytest.fixture
def busy(app, tmp_path_factory):
    if not TEST_DATABASE_URL:
        pytest.skip("row locks need PostgreSQL (TEST_DATABASE_URL)")
    return create_app(app_config(tmp_path_factory, DATABASE_URL=TEST_DATABASE_URL))


def _at_once(app_, jobs):
    from tests.test_checkout import _concurrent

    return _concurrent(app_, jobs)[0]


@pytest.mark.postgres
def test_two_salesmen_confirming_at_once_confirm_once(app, make, busy):
    with app.app_context():
        world = World(app, make)
        second = make.staff("salesman", [world.region])
        order = world.order("pending")
        order_id = order.id
        messages_before = db.session.scalar(select(func.count(Message.id)))

    def confirm(ref):
        def job():
            user = busy.appbuilder.sm.get_user_by_id(ref.user_id)
            return workflow.apply(db.session.get(Order, order_id), "confirm", user).state
        return job

    results = _at_once(busy, [confirm(world.salesman), confirm(second)])
    assert sorted(map(type, results), key=str) == sorted([str, ValidationError], key=str), \
        results
    with app.app_context():
        confirms = db.session.scalar(select(func.count(OrderEvent.id)).where(
            OrderEvent.order_id == order_id, OrderEvent.action == "confirm"))
        written = db.session.scalar(select(func.count(Message.id))) - messages_before
        single = db.session.scalar(select(func.count(Message.id)).where(
            Message.event == "order_confirmed"))
        assert confirms == 1 and single == written and written > 0


@pytest.mark.postgres
def test_two_people_marking_an_order_paid_at_once_record_one_payment(app, make, busy):
    with app.app_context():
        world = World(app, make)
        order_id = world.order("confirmed").id

    def mark(ref):
        def job():
            user = busy.appbuilder.sm.get_user_by_id(ref.user_id)
            return workflow.apply(db.session.get(Order, order_id), "mark_paid", user,
                                  note="到账").payment_status
        return job

    results = _at_once(busy, [mark(world.salesman), mark(world.cs)])
    assert sum(1 for r in results if r == "paid") == 1, results
    with app.app_context():
        assert db.session.scalar(select(func.count(Payment.id)).where(
            Payment.order_id == order_id)) == 1


@pytest.mark.postgres
def test_phones_adding_while_another_checks_out_never_fail_or_lose_an_add(app, make, busy):
    """Two phones of one shop add to the cart while a third checks out (the 500s found
    under load were StaleDataError): every request succeeds or says why, every add is in
    the order or left in the cart, and nothing is counted twice."""
    import uuid

    from app.ordering import cart, checkout
    from app.ordering.models import CartLine

    with app.app_context():
        world = World(app, make)
        user_id = world.customer.user_id
        spec_id, moq = world.spec_id, world.moq
        cart.add_to_cart(world.user(world.customer), {spec_id: moq})

    def add():
        user = busy.appbuilder.sm.get_user_by_id(user_id)
        return cart.add_to_cart(user, {spec_id: moq})

    def submit():
        user = busy.appbuilder.sm.get_user_by_id(user_id)
        return checkout.submit(user, user, {
            "idempotency_key": uuid.uuid4().hex, "delivery": "delivery", "payment": "cod",
            "province": "海南省", "city": "海口市", "street": "海甸二东路 25 号",
            "contact": "黄经理", "phone": "13912345678"}).id

    results = _at_once(busy, [add, add, add, add, submit, add, add])
    failures = [r for r in results if isinstance(r, Exception)
                and not isinstance(r, ValidationError)]
    assert failures == [], failures
    added = sum(1 for r in results[:4] + results[5:] if r == 1)
    with app.app_context():
        ordered = sum(line.quantity for order in db.session.scalars(
            select(Order).where(Order.user_id == user_id)) for line in order.lines)
        left = sum(line.quantity for line in db.session.scalars(
            select(CartLine).where(CartLine.user_id == user_id)))
    assert ordered + left == moq * (1 + added)


@pytest.mark.postgres
def test_a_dropped_database_connection_costs_no_request(app, make, busy):
    """After the database drops every connection (a restart, a failover), the next
    request of each pooled connection simply works (pool_pre_ping)."""
    from sqlalchemy import text

    client = busy.test_client()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    with app.app_context():
        db.session.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        db.session.commit()
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
        assert client.get("/").status_code == 200
