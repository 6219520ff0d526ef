"""Checkout: delivery and payment rules, freight, idempotent submit, stock that never
oversells (concurrently on PostgreSQL), the cart's change notices, reorder."""

import threading
import time
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app import create_app
from app.catalog.models import Spec
from app.extensions import db
from app.members.models import Member, Region
from app.messaging.models import Message
from app.ordering import cart, checkout, freight, options, scope
from app.ordering.models import CartLine, FreightTemplate, Order, RegionDeliveryFee
from app.platform.errors import NotFound, ValidationError
from tests import catalog_factory as cf
from tests.conftest import TEST_DATABASE_URL, app_config
from tests.order_factory import World


@pytest.fixture
def world(app, ctx, make):
    return World(app, make)


def _form(**extra):
    data = {"idempotency_key": uuid.uuid4().hex, "delivery": "delivery", "payment": "cod",
            "province": "海南省", "city": "海口市", "district": "美兰区", "street": "海甸岛 1 号",
            "contact": "黄经理", "phone": "13912345678"}
    data.update(extra)
    return data


def _customer(world):
    return world.user(world.customer)


def test_submit_creates_one_pending_order_with_snapshot_and_messages(world):
    customer = _customer(world)
    cart.add_to_cart(customer, {world.spec_id: world.moq * 3})
    stock = db.session.get(Spec, world.spec_id).stock
    form = _form(remark="下午送")
    order = checkout.submit(customer, customer, form)
    assert order.state == "pending" and order.payment_status == "unpaid"
    assert len(order.order_no) == 14 and order.order_no[8:] == f"{order.id:06d}"
    line = order.lines[0]
    assert (line.quantity, line.unit_price, line.inner_qty) == (world.moq * 3, Decimal("0.50"),
                                                                world.moq)
    assert order.total == Decimal("0.50") * world.moq * 3 and order.remark == "下午送"
    db.session.expire_all()
    assert db.session.get(Spec, world.spec_id).stock == stock - world.moq * 3
    assert db.session.scalar(select(func.count(CartLine.id))) == 0
    sms = [(m.recipient, m.body) for m in db.session.scalars(
        select(Message).where(Message.event == "new_order"))]
    text = f"有新订单{order.order_no}，请尽快登录小程序业务管理查看处理。"
    assert sms == [(world.salesman.mobile, text)]
    again = checkout.submit(customer, customer, form)  # the same form again: the same order
    assert again.id == order.id
    assert db.session.scalar(select(func.count(Order.id))) == 1


def test_new_order_alert_goes_to_customer_service_without_salesman(app, ctx, make):
    from app.platform.models import ShopSettings

    region = make.region(name="琼海")
    ref = make.member(region=region)
    db.session.add(ShopSettings(shop_name="x", cs_phone="13800000002"))
    product = cf.product()
    db.session.commit()
    user = app.appbuilder.sm.get_user_by_id(ref.user_id)
    cart.add_to_cart(user, {product.specs[0].id: 20})
    order = checkout.submit(user, user, _form())
    recipients = [m.recipient for m in db.session.scalars(
        select(Message).where(Message.event == "new_order"))]
    assert recipients == ["13800000002"] and order.region_id == region.id


def test_own_salesman_is_alerted_before_the_others(world, make):
    second = make.staff("salesman", [db.session.get(Region, world.region.id)])
    member = db.session.get(Member, world.customer.id)
    member.own_salesman_id = second.id
    db.session.commit()
    customer = _customer(world)
    cart.add_to_cart(customer, {world.spec_id: world.moq})
    checkout.submit(customer, customer, _form())
    assert [m.recipient for m in db.session.scalars(
        select(Message).where(Message.event == "new_order"))] == [second.mobile]


@pytest.mark.parametrize("delivery,payment,ok", [
    ("delivery", "cod", True), ("pickup", "cod", False), ("express", "cod", False),
    ("pickup", "bank", True), ("freight_pickup", "logistics_collect", True),
    ("delivery", "logistics_collect", False), ("delivery", "monthly", False),
    ("delivery", "bitcoin", False), ("teleport", "bank", False)])
def test_delivery_and_payment_rules(world, delivery, payment, ok):
    db.session.add(FreightTemplate(name="海南", provinces=["海南省"], first_kg=1,
                                   first_fee=Decimal("8"), extra_kg_fee=Decimal("2")))
    db.session.commit()
    customer = _customer(world)
    cart.add_to_cart(customer, {world.spec_id: world.moq})
    if ok:
        assert checkout.submit(customer, customer, _form(delivery=delivery, payment=payment))
    else:
        with pytest.raises(ValidationError):
            checkout.submit(customer, customer, _form(delivery=delivery, payment=payment))
        assert db.session.scalar(select(func.count(Order.id))) == 0
        assert db.session.scalar(select(func.count(CartLine.id))) == 1


def test_monthly_settlement_only_for_members_allowed_it(world):
    member = db.session.get(Member, world.customer.id)
    assert "monthly" not in options.options_for(member)["delivery"]
    member.monthly_settlement = True
    db.session.commit()
    assert "monthly" in options.options_for(member)["delivery"]
    customer = _customer(world)
    cart.add_to_cart(customer, {world.spec_id: world.moq})
    assert checkout.submit(customer, customer, _form(payment="monthly")).payment_method == \
        "monthly"


def test_switched_off_payment_is_refused(world):
    options.save_order_settings(
        {code: {"enabled": code != "cod"} for code in ("cod", "bank", "prepay")},
        {"delivery": {"enabled": True, "allowed": ["cod", "bank"]},
         "pickup": {"enabled": True, "allowed": ["bank"]}})
    customer = _customer(world)
    cart.add_to_cart(customer, {world.spec_id: world.moq})
    with pytest.raises(ValidationError):
        checkout.submit(customer, customer, _form(payment="cod"))
    with pytest.raises(ValidationError):
        checkout.submit(customer, customer, _form(delivery="express", payment="bank"))
    assert checkout.submit(customer, customer, _form(payment="bank"))


def test_prepay_and_online_are_marked_to_be_paid_first(world):
    customer = _customer(world)
    cart.add_to_cart(customer, {world.spec_id: world.moq})
    order = checkout.submit(customer, customer, _form(payment="online"))
    assert order.pay_before_shipping and order.payment_status == "unpaid"


@pytest.mark.parametrize("goods,weight,expected", [
    ("10", "0", "8.00"), ("10", "1", "8.00"), ("10", "1.001", "10.00"), ("10", "3.5", "14.00"),
    ("99.99", "3", "12.00"), ("100", "3", "0.00"), ("150", "30", "0.00")])
def test_express_freight_edges(app, ctx, goods, weight, expected):
    db.session.add(FreightTemplate(name="海南", provinces=["海南省"], first_kg=1,
                                   first_fee=Decimal("8"), extra_kg_fee=Decimal("2"),
                                   free_above=Decimal("100")))
    db.session.commit()
    assert freight.freight("express", None, "海南省", Decimal(goods),
                                  Decimal(weight)) == Decimal(expected)


def test_express_to_a_province_without_template_is_refused(app, ctx):
    with pytest.raises(ValidationError):
        freight.freight("express", None, "西藏自治区", Decimal("10"), Decimal("1"))


def test_driver_delivery_fee_by_region(app, ctx, make):
    region = make.region()
    db.session.add(RegionDeliveryFee(region_id=region.id, fee=Decimal("15"),
                                     free_above=Decimal("300")))
    db.session.commit()
    assert freight.freight("delivery", region.id, None, Decimal("299.99"), 0) == 15
    assert freight.freight("delivery", region.id, None, Decimal("300"), 0) == 0
    assert freight.freight("delivery", make.region().id, None, Decimal("1"), 0) == 0
    assert freight.freight("pickup", region.id, None, Decimal("1"), 0) == 0


def test_cart_shows_price_packing_and_stock_changes_and_blocks_bad_lines(world):
    customer = _customer(world)
    cart.add_to_cart(customer, {world.spec_id: world.moq * 2})
    spec = db.session.get(Spec, world.spec_id)
    spec.base_price = Decimal("0.60")
    db.session.commit()
    view = checkout.cart_view(customer)
    assert view.can_checkout and any("0.60" in str(p) for p in view.rows[0].problems)
    spec.pack_unit.inner_qty = world.moq * 3  # the packing now makes the line invalid
    spec.pack_unit.outer_qty = world.moq * 30
    db.session.commit()
    view = checkout.cart_view(customer)
    assert not view.can_checkout and view.rows[0].blocking
    with pytest.raises(ValidationError):
        checkout.submit(customer, customer, _form())
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_expected_total_guards_against_a_price_change_between_page_and_submit(world):
    customer = _customer(world)
    cart.add_to_cart(customer, {world.spec_id: world.moq})
    with pytest.raises(ValidationError, match="1.00|¥"):
        checkout.submit(customer, customer, _form(expected_total="0.01"))
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_cancel_restores_stock_and_reorder_refills_the_cart(world):
    from app.ordering import workflow

    customer = _customer(world)
    stock = db.session.get(Spec, world.spec_id).stock
    cart.add_to_cart(customer, {world.spec_id: world.moq * 4})
    order = checkout.submit(customer, customer, _form())
    workflow.apply(order, "cancel", customer)
    db.session.expire_all()
    assert db.session.get(Spec, world.spec_id).stock == stock
    assert checkout.reorder(customer, order) == 1
    lines = db.session.scalars(select(CartLine)).all()
    assert [(ln.spec_id, ln.quantity) for ln in lines] == [(world.spec_id, world.moq * 4)]
    assert [s.id for _, s, _ in checkout.frequent_specs(customer)] == []  # closed orders
    checkout.submit(customer, customer, _form())
    assert [s.id for _, s, _ in checkout.frequent_specs(customer)] == [world.spec_id]


def test_a_member_never_sees_another_members_order(world):
    customer = _customer(world)
    cart.add_to_cart(customer, {world.spec_id: world.moq})
    order = checkout.submit(customer, customer, _form())
    other = world.user(world.other_customer)
    with pytest.raises(NotFound):
        scope.get_order(other, order.id)
    with pytest.raises(NotFound):
        scope.get_order(other, order_no=order.order_no)
    assert db.session.scalars(scope.scoped_orders(other)).all() == []
    assert scope.get_order(customer, order.id).id == order.id


# ---- concurrency on PostgreSQL --------------------------------------------------------------

def _concurrent(app_, jobs):
    """Run the jobs in threads released together; return results and (start, end) times."""
    barrier = threading.Barrier(len(jobs))
    results, spans = [None] * len(jobs), [None] * len(jobs)

    def run(i, job):
        with app_.app_context():
            barrier.wait()
            start = time.monotonic()
            try:
                results[i] = job()
            except Exception as exc:  # noqa: BLE001  (collected and asserted on)
                results[i] = exc
            finally:
                spans[i] = (start, time.monotonic())
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results, spans


@pytest.mark.postgres
def test_forty_concurrent_checkouts_never_oversell(app, tmp_path_factory, make):
    from tests.conftest import need

    need(bool(TEST_DATABASE_URL), "TEST_DATABASE_URL is not set (PostgreSQL is needed)")
    with app.app_context():
        region = make.region()
        unit = cf.pack(1, 10, base="瓶", inner_unit="瓶")
        product = cf.product(unit=unit, stock=10)
        spec_id = product.specs[0].id
        buyers = [make.member(region=region) for _ in range(40)]
        for ref in buyers:
            user = app.appbuilder.sm.get_user_by_id(ref.user_id)
            cart.add_to_cart(user, {spec_id: 1})
    busy = create_app(app_config(tmp_path_factory, DATABASE_URL=TEST_DATABASE_URL,
                                 SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 45,
                                                            "max_overflow": 5}))

    def job_for(ref):
        def job():
            user = busy.appbuilder.sm.get_user_by_id(ref.user_id)
            return checkout.submit(user, user, _form()).id
        return job

    results, spans = _concurrent(busy, [job_for(ref) for ref in buyers])
    assert max(s for s, _ in spans) < min(e for _, e in spans), "the checkouts did not overlap"
    orders = [r for r in results if isinstance(r, int)]
    errors = [r for r in results if not isinstance(r, int)]
    assert all(isinstance(e, ValidationError) for e in errors), errors
    with app.app_context():
        assert len(orders) == 10
        assert db.session.get(Spec, spec_id).stock == 0
        assert db.session.scalar(select(func.count(Order.id))) == 10
    with busy.app_context():
        db.engine.dispose()


@pytest.mark.postgres
def test_the_same_form_submitted_concurrently_makes_one_order(app, tmp_path_factory, make):
    from tests.conftest import need

    need(bool(TEST_DATABASE_URL), "TEST_DATABASE_URL is not set (PostgreSQL is needed)")
    with app.app_context():
        region = make.region()
        spec_id = cf.product(stock=1000).specs[0].id
        ref = make.member(region=region)
        user = app.appbuilder.sm.get_user_by_id(ref.user_id)
        cart.add_to_cart(user, {spec_id: 20})
    busy = create_app(app_config(tmp_path_factory, DATABASE_URL=TEST_DATABASE_URL))
    form = _form()

    def job():
        customer = busy.appbuilder.sm.get_user_by_id(ref.user_id)
        return checkout.submit(customer, customer, dict(form)).id

    results, _ = _concurrent(busy, [job] * 6)
    assert len(set(results)) == 1 and isinstance(results[0], int), results
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 1
        assert db.session.get(Spec, spec_id).stock == 980
    with busy.app_context():
        db.engine.dispose()
