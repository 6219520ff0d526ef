"""Transfer vouchers (upload, confirm, reject, an image used twice) and drivers' cash."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.messaging.models import Message
from app.ordering import workflow
from app.ordering.models import Order, Payment
from app.ordering.states import PaymentStatus
from app.payments import cash, ledger, vouchers
from app.payments.models import CashHandIn, EntryKind, LedgerEntry, Voucher, VoucherStatus
from app.platform.errors import NotFound, PermissionDenied, ValidationError
from app.platform.time import local_date
from tests.images import image_bytes
from tests.order_factory import World, add_photo


@pytest.fixture
def world(app, ctx, make):
    return World(app, make)


def _photo(color=(200, 30, 30)):
    return FileStorage(io.BytesIO(image_bytes(color=color)), filename="转账截图.jpg")


def _form(amount, **extra):
    return {"amount": str(amount), "paid_on": local_date().isoformat(), "remark": "工行转账",
            **extra}


def _stored_files(app):
    import os

    root = app.config["MEDIA_ROOT"]
    return sum(len(files) for _, _, files in os.walk(root)) if os.path.isdir(root) else 0


def test_a_confirmed_voucher_pays_the_order_and_credits_the_account(app, world):
    order = world.order("received", payment="bank")
    customer = world.user(world.customer)
    voucher = vouchers.upload(customer, order.order_no, _photo(), _form(order.total))
    assert voucher.status == VoucherStatus.PENDING and voucher.photo.startswith(
        f"private/order/{order.id}/voucher/")
    assert db.session.scalar(select(func.count(Message.id)).where(
        Message.event == "voucher_uploaded")) == 1  # the salesman is told
    vouchers.decide(world.user(world.salesman), db.session.get(Order, order.id), voucher.id,
                    approve=True)
    order = db.session.get(Order, order.id)
    voucher = db.session.get(Voucher, voucher.id)
    assert order.payment_status == PaymentStatus.PAID and voucher.payment_id is not None
    assert ledger.balance(world.customer.id) == 0
    assert db.session.scalar(select(LedgerEntry.kind).where(
        LedgerEntry.payment_id == voucher.payment_id)) == EntryKind.PAYMENT
    assert [e.action for e in order.events][-2:] == ["submit_voucher", "confirm_voucher"]
    # Decided once: a second confirmation is refused and records nothing.
    with pytest.raises(ValidationError):
        vouchers.decide(world.user(world.cs), order, voucher.id, approve=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Payment.id))) == 1


def test_a_partial_transfer_leaves_the_order_unpaid_until_covered(world):
    order = world.order("confirmed", payment="bank")
    customer, cs = world.user(world.customer), world.user(world.cs)
    half = (order.total / 2).quantize(Decimal("0.01"))
    first = vouchers.upload(customer, order.order_no, _photo(), _form(half))
    vouchers.decide(cs, db.session.get(Order, order.id), first.id, approve=True)
    assert db.session.get(Order, order.id).payment_status == PaymentStatus.UNPAID
    second = vouchers.upload(customer, order.order_no, _photo((0, 90, 0)),
                             _form(order.total - half))
    vouchers.decide(cs, db.session.get(Order, order.id), second.id, approve=True)
    assert db.session.get(Order, order.id).payment_status == PaymentStatus.PAID


def test_a_rejected_voucher_tells_the_customer_why_and_changes_no_money(world):
    order = world.order("confirmed", payment="wechat_transfer")
    voucher = vouchers.upload(world.user(world.customer), order.order_no, _photo(),
                              _form(order.total))
    with pytest.raises(ValidationError) as missing:
        vouchers.decide(world.user(world.cs), db.session.get(Order, order.id), voucher.id,
                        approve=False, reason="")
    assert missing.value.field == "reason"
    db.session.rollback()
    vouchers.decide(world.user(world.cs), db.session.get(Order, order.id), voucher.id,
                    approve=False, reason="金额与转账记录不符")
    voucher = db.session.get(Voucher, voucher.id)
    assert voucher.status == VoucherStatus.REJECTED
    assert voucher.reject_reason == "金额与转账记录不符"
    message = db.session.scalar(select(Message).where(Message.event == "voucher_rejected"))
    assert "金额与转账记录不符" in message.body
    assert db.session.scalar(select(func.count(Payment.id))) == 0
    assert db.session.get(Order, order.id).payment_status == PaymentStatus.UNPAID


@pytest.mark.parametrize("change, field", [
    ({"amount": "-5"}, "amount"), ({"amount": "0"}, "amount"), ({"amount": "abc"}, "amount"),
    ({"paid_on": "2026-13-40"}, "paid_on"), ({"paid_on": ""}, "paid_on"),
    ({"paid_on": "far"}, "paid_on")])
def test_a_voucher_with_bad_values_is_refused_and_nothing_is_kept(app, world, change, field):
    order = world.order("confirmed", payment="bank")
    if change.get("paid_on") == "far":
        change = {"paid_on": (local_date() + timedelta(days=9)).isoformat()}
    before = _stored_files(app)
    with pytest.raises(ValidationError) as refused:
        vouchers.upload(world.user(world.customer), order.order_no, _photo(),
                        {**_form(order.total), **change})
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count(Voucher.id))) == 0
    assert _stored_files(app) == before  # the stored photo was removed again


def test_only_transfer_orders_of_the_customer_take_vouchers(world, make):
    cod = world.order("confirmed", payment="cod")
    with pytest.raises(ValidationError):
        vouchers.upload(world.user(world.customer), cod.order_no, _photo(), _form(1))
    bank = world.order("confirmed", payment="bank")
    with pytest.raises(NotFound):  # another customer's order does not exist for them
        vouchers.upload(world.user(world.other_customer), bank.order_no, _photo(), _form(1))
    voucher = vouchers.upload(world.user(world.customer), bank.order_no, _photo(), _form(1))
    with pytest.raises((NotFound, PermissionDenied)):  # a salesman of another region
        vouchers.decide(world.user(world.other_salesman), db.session.get(Order, bank.id),
                        voucher.id, approve=True)
    db.session.rollback()
    assert db.session.get(Voucher, voucher.id).status == VoucherStatus.PENDING


def test_the_same_image_on_two_orders_is_flagged(world):
    customer = world.user(world.customer)
    first, second = (world.order("confirmed", payment="bank") for _ in range(2))
    a = vouchers.upload(customer, first.order_no, _photo(), _form(first.total))
    b = vouchers.upload(customer, second.order_no, _photo(), _form(second.total))
    c = vouchers.upload(customer, second.order_no, _photo((1, 2, 3)), _form(1))
    flagged = vouchers.used_elsewhere([a, b, c])
    assert flagged == {a.id: [second.order_no], b.id: [first.order_no]}
    assert [v.id for v in vouchers.waiting(world.user(world.salesman))] == [a.id, b.id, c.id]
    assert vouchers.waiting(world.user(world.other_salesman)) == []
    # Confirming one of them needs the word of who checked the bank record.
    cs = world.user(world.cs)
    with pytest.raises(ValidationError) as unchecked:
        vouchers.decide(cs, db.session.get(Order, first.id), a.id, approve=True)
    assert unchecked.value.field == "checked_elsewhere"
    db.session.rollback()
    vouchers.decide(cs, db.session.get(Order, first.id), a.id, approve=True,
                    checked_elsewhere=True)
    assert db.session.get(Voucher, a.id).status == VoucherStatus.CONFIRMED
    vouchers.decide(cs, db.session.get(Order, second.id), c.id, approve=True)  # its own


# ---- drivers' cash -----------------------------------------------------------------------

def _cod_delivered(world, cash_collected=None):
    order = world.order("delivering")
    driver = world.user(world.driver)
    add_photo(order, driver)
    workflow.apply(db.session.get(Order, order.id), "complete_delivery", driver,
                   cash_collected=str(cash_collected if cash_collected is not None
                                      else order.total))
    return db.session.get(Order, order.id)


def test_a_driver_holds_the_cash_until_handed_in_and_a_difference_stays_visible(world):
    one, two = _cod_delivered(world), _cod_delivered(world)
    held = cash.held_by(world.driver.id)
    assert [p.order_id for p in held.payments] == [one.id, two.id]
    assert held.total == one.total + two.total
    assert [h.driver.id for h in cash.holding()] == [world.driver.id]
    cs = world.user(world.cs)
    short = one.total - Decimal("1.00")
    hand_in = cash.record_hand_in(cs, world.driver.id, [held.payments[0].id], str(short),
                                  note="周一交款")
    assert hand_in.expected == one.total and hand_in.difference == Decimal("-1.00")
    assert [p.order_id for p in cash.held_by(world.driver.id).payments] == [two.id]
    assert cash.unexplained() == [hand_in]
    with pytest.raises(ValidationError):  # the same payment cannot be handed in twice
        cash.record_hand_in(cs, world.driver.id, [held.payments[0].id], "1")
    with pytest.raises(ValidationError):
        cash.explain(cs, hand_in.id, "  ")
    cash.explain(cs, hand_in.id, "找零差一元，司机补交")
    assert cash.unexplained() == []
    with pytest.raises(ValidationError):  # explained once
        cash.explain(cs, hand_in.id, "again")


def test_cash_recorded_by_the_office_is_not_the_drivers(world):
    order = world.order("delivered")  # cash on delivery, no cash given at the door
    workflow.apply(order, "mark_paid", world.user(world.cs), note="现金已交公司")
    assert cash.held_by(world.driver.id).payments == []


def test_a_hand_in_names_only_the_drivers_own_held_cash(world):
    order = _cod_delivered(world)
    payment_id = cash.held_by(world.driver.id).payments[0].id
    cs = world.user(world.cs)
    for driver_id, payments in ((world.driver2.id, [payment_id]), (world.driver.id, []),
                                (world.driver.id, [payment_id, 999999])):
        with pytest.raises(ValidationError):
            cash.record_hand_in(cs, driver_id, payments, "1")
    with pytest.raises(NotFound):
        cash.record_hand_in(cs, world.salesman.id, [payment_id], "1")
    with pytest.raises(ValidationError):
        cash.record_hand_in(cs, world.driver.id, [payment_id], "-3")
    assert db.session.scalar(select(func.count(CashHandIn.id))) == 0
    assert cash.held_by(world.driver.id).total == order.total
