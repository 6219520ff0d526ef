"""Money paid back by hand (退款登记): what an order owes its customer once a refund is
approved or a paid order is closed, recorded by customer service once, never more than is
owed, and shown on the account, the order page and the customer's history."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.members.models import Member
from app.ordering import history, workflow
from app.ordering.models import Order, Payment
from app.ordering.states import Pay, PaymentStatus, State
from app.payments import ledger, paybacks
from app.payments.models import EntryKind, LedgerEntry
from app.payments.wechat_pay import refunds as online_refunds
from app.payments.wechat_pay.models import (
    OnlineRefund,
    PayAttempt,
    RefundKind,
    RefundState,
)
from app.platform.errors import ValidationError
from app.platform.time import utcnow
from tests.conftest import csrf_token, login
from tests.order_factory import World


@pytest.fixture
def world(app, ctx, make):
    return World(app, make)


def _paid_and_refunded(world, refund="10.00"):
    """A bank-transfer order received and paid in full, with a refund of `refund` approved."""
    order = world.order("received", payment="bank")
    customer, cs = world.user(world.customer), world.user(world.cs)
    workflow.apply(order, "mark_paid", cs, note="工行到账")
    workflow.apply(db.session.get(Order, order.id), "request_refund", customer, reason="破损",
                   lines=[{"line_id": order.lines[0].id, "quantity": world.moq}])
    workflow.apply(db.session.get(Order, order.id), "decide_refund", cs, approve="1",
                   amount=refund)
    return db.session.get(Order, order.id)


def _rows(order_id):
    return (db.session.scalar(select(func.count()).select_from(Payment)
                              .where(Payment.order_id == order_id)),
            db.session.scalar(select(func.count()).select_from(LedgerEntry)
                              .where(LedgerEntry.order_id == order_id)))


def test_a_refund_of_a_transfer_paid_order_is_owed_back_until_recorded_once(world):
    order = _paid_and_refunded(world)
    cs = world.user(world.cs)
    assert paybacks.owed_back(order) == Decimal("10.00")
    assert ledger.balance(world.customer.id) == Decimal("-10.00")  # a credit, not theirs
    assert "pay_back_by_hand" in workflow.allowed_actions(order, cs)
    assert "pay_back_by_hand" not in workflow.allowed_actions(order, world.user(world.salesman))
    before = _rows(order.id)
    for data, field in (({"amount": "10.01"}, "amount"), ({"amount": "0"}, "amount"),
                        ({"amount": "abc"}, "amount"), ({"method": "bitcoin"}, "method")):
        with pytest.raises(ValidationError) as refused:
            workflow.apply(db.session.get(Order, order.id), "pay_back_by_hand", cs,
                           note="转账退回", **data)
        assert refused.value.field == field
        assert _rows(order.id) == before  # refused: nothing written
    with pytest.raises(ValidationError):  # a note says where the money went
        workflow.apply(db.session.get(Order, order.id), "pay_back_by_hand", cs, note="")

    workflow.apply(db.session.get(Order, order.id), "pay_back_by_hand", cs,
                   method=Pay.WECHAT_TRANSFER, note="微信转账退回 黄经理")
    order = db.session.get(Order, order.id)
    payback = [p for p in order.payments if p.amount < 0]
    assert [(p.amount, p.method, p.recorded_by_id) for p in payback] == [
        (Decimal("-10.00"), Pay.WECHAT_TRANSFER, world.cs.user_id)]
    assert db.session.scalars(select(LedgerEntry.kind).where(
        LedgerEntry.order_id == order.id).order_by(LedgerEntry.id)).all()[-1] == \
        EntryKind.PAYBACK
    assert ledger.balance(world.customer.id) == 0
    assert paybacks.owed_back(order) == 0
    assert order.payment_status == PaymentStatus.PAID  # most of it stays paid
    assert "pay_back_by_hand" not in workflow.allowed_actions(order, cs)
    with pytest.raises(ValidationError):  # the same money cannot go back twice
        workflow.apply(order, "pay_back_by_hand", cs, note="again")
    # The customer reads it in their words, with the amount and how.
    entry = history.history(order, history.CUSTOMER)[-1]
    assert entry.event.action == "pay_back_by_hand"
    assert "10.00" in " ".join(entry.details)


def test_a_closed_order_that_was_paid_owes_everything_back_in_parts(world):
    order = world.order("confirmed", payment="bank")
    cs = world.user(world.cs)
    workflow.apply(order, "mark_paid", cs, note="预付到账")
    workflow.apply(db.session.get(Order, order.id), "close", cs, reason="客户电话取消")
    order = db.session.get(Order, order.id)
    total = order.total
    assert order.state == State.CLOSED and paybacks.owed_back(order) == total
    assert ledger.balance(world.customer.id) == -total
    half = (total / 2).quantize(Decimal("0.01"))
    workflow.apply(order, "pay_back_by_hand", cs, amount=str(half), method=Pay.COD,
                   note="现金退回 司机代交")
    order = db.session.get(Order, order.id)
    assert paybacks.owed_back(order) == total - half
    assert order.payment_status == PaymentStatus.PAID
    workflow.apply(order, "pay_back_by_hand", cs, note="工行转账退回")  # the rest, by default
    order = db.session.get(Order, order.id)
    assert paybacks.owed_back(order) == 0
    assert order.payment_status == PaymentStatus.REFUNDED
    assert ledger.balance(world.customer.id) == 0


def test_nothing_is_owed_back_on_an_order_not_paid_or_still_owed(world):
    cs = world.user(world.cs)
    db.session.get(Member, world.customer.id).monthly_settlement = True
    db.session.commit()
    monthly = world.order("received", payment="monthly")  # unpaid: a refund lowers the debt
    workflow.apply(monthly, "request_refund", world.user(world.customer), reason="破损",
                   lines=[{"line_id": monthly.lines[0].id, "quantity": world.moq}])
    workflow.apply(db.session.get(Order, monthly.id), "decide_refund", cs, approve="1",
                   amount="10.00")
    paid_open = world.order("confirmed", payment="bank")  # paid, goods on their way
    workflow.apply(paid_open, "mark_paid", cs, note="到账")
    for order_id in (monthly.id, paid_open.id):
        order = db.session.get(Order, order_id)
        assert paybacks.owed_back(order) == 0
        assert "pay_back_by_hand" not in workflow.allowed_actions(order, cs)
        with pytest.raises(ValidationError):
            workflow.apply(order, "pay_back_by_hand", cs, amount="1.00", note="x")


def _paid_online(world, state="confirmed"):
    """An order of the customer paid in full with WeChat Pay (its attempt and Payment as
    settlement records them)."""
    order = world.order(state, payment="online")
    payment = Payment(order=order, amount=order.total, method=Pay.ONLINE, note="4200001")
    db.session.add(payment)
    db.session.flush()
    db.session.add(PayAttempt(order_id=order.id, out_trade_no="P" + order.order_no,
                              appid="wx1", channel="native", trade_type="NATIVE",
                              amount_fen=int(order.total * 100), status="paid",
                              transaction_id="42" + order.order_no, payment_id=payment.id,
                              expires_at=utcnow() + timedelta(hours=1)))
    order.payment_status = PaymentStatus.PAID
    db.session.commit()
    return db.session.get(Order, order.id)


def _online_refunds(order_id):
    return db.session.scalars(select(OnlineRefund).where(OnlineRefund.order_id == order_id)
                              .order_by(OnlineRefund.id)).all()


def _closed_and_not_refunded(world, status):
    """An order paid with WeChat Pay, closed by customer service, whose automatic refund
    WeChat ended with `status` (closed, abnormal, failed): the money is still ours."""
    order = _paid_online(world)
    workflow.apply(order, "close", world.user(world.cs), reason="缺货")
    row = _online_refunds(order.id)[0]
    row.status = status
    db.session.commit()
    return db.session.get(Order, order.id), row


def test_what_wechat_pay_is_sending_back_is_not_owed_by_hand(world):
    order = _paid_online(world)
    cs = world.user(world.cs)
    workflow.apply(order, "close", cs, reason="缺货")
    order = db.session.get(Order, order.id)
    sent = _online_refunds(order.id)
    assert [r.kind for r in sent] == [RefundKind.ORDER_CLOSED]  # on its way through WeChat
    assert paybacks.owed_back(order) == 0
    sent[0].status = RefundState.ABNORMAL  # WeChat could not pay it: a person must
    db.session.commit()
    assert paybacks.owed_back(db.session.get(Order, order.id)) == order.total


def test_money_paid_back_by_hand_is_never_sent_again_through_wechat_pay(world):
    """WeChat refused the closed order's refund; customer service paid it back by bank.
    The order is opened again (it owes its total again, so it is unpaid) and closed again,
    and a refund is approved on it: WeChat Pay sends nothing more."""
    order, _row = _closed_and_not_refunded(world, RefundState.FAILED)
    cs = world.user(world.cs)
    workflow.apply(db.session.get(Order, order.id), "pay_back_by_hand", cs, note="工行退回")
    order = db.session.get(Order, order.id)
    assert order.payment_status == PaymentStatus.REFUNDED
    workflow.apply(order, "override", cs, target=State.RECEIVED, remark="客户又收下了")
    order = db.session.get(Order, order.id)
    assert order.payment_status == PaymentStatus.UNPAID  # it owes its total again
    assert ledger.balance(world.customer.id) == order.total
    assert "mark_paid" in workflow.allowed_actions(order, cs)
    workflow.apply(order, "request_refund", world.user(world.customer), reason="破损",
                   lines=[{"line_id": order.lines[0].id, "quantity": world.moq}])
    workflow.apply(db.session.get(Order, order.id), "decide_refund", cs, approve="1",
                   amount="10.00")
    assert len(_online_refunds(order.id)) == 1  # the approved refund lowers the debt only
    order = db.session.get(Order, order.id)
    assert ledger.balance(world.customer.id) == order.total - Decimal("10.00")
    workflow.apply(order, "override", cs, target=State.CLOSED, remark="作废")
    assert len(_online_refunds(order.id)) == 1  # nothing was paid that is not back
    assert paybacks.owed_back(db.session.get(Order, order.id)) == 0


def test_a_second_close_sends_back_only_what_is_still_owed(world):
    order, _first = _closed_and_not_refunded(world, RefundState.CLOSED)  # may be sent again
    cs = world.user(world.cs)
    half = (order.total / 2).quantize(Decimal("0.01"))
    workflow.apply(db.session.get(Order, order.id), "pay_back_by_hand", cs,
                   amount=str(half), note="现金退回一半")
    workflow.apply(db.session.get(Order, order.id), "override", cs, target=State.DELIVERING,
                   remark="重新配送")
    workflow.apply(db.session.get(Order, order.id), "override", cs, target=State.CLOSED,
                   remark="还是取消")
    again = _online_refunds(order.id)[1:]
    assert [(r.kind, r.amount_fen) for r in again] == [
        (RefundKind.ORDER_CLOSED, int((order.total - half) * 100))]


def test_marking_paid_takes_what_is_still_due_by_default(world):
    db.session.get(Member, world.customer.id).monthly_settlement = True
    db.session.commit()
    order = world.order("received", payment="monthly")
    cs = world.user(world.cs)
    workflow.apply(order, "request_refund", world.user(world.customer), reason="破损",
                   lines=[{"line_id": order.lines[0].id, "quantity": world.moq}])
    workflow.apply(db.session.get(Order, order.id), "decide_refund", cs, approve="1",
                   amount="10.00")
    workflow.apply(db.session.get(Order, order.id), "mark_paid", cs, note="月结到账")
    order = db.session.get(Order, order.id)
    assert [p.amount for p in order.payments] == [order.total - Decimal("10.00")]
    assert paybacks.owed_back(order) == 0 and ledger.balance(world.customer.id) == 0


def test_customer_service_records_a_payback_from_the_order_page(app, world):
    order = _paid_and_refunded(world, refund="12.50")
    order_id = order.id
    db.session.commit()
    client = app.test_client()
    assert login(client, world.cs.mobile).status_code == 302
    page = client.get(f"/admin/orders/show/{order_id}").get_data(as_text=True)
    assert f"/admin/orders/pay-back/{order_id}" in page and 'value="12.50"' in page
    token = csrf_token(client, f"/admin/orders/show/{order_id}")
    resp = client.post(f"/admin/orders/pay-back/{order_id}", data={
        "csrf_token": token, "amount": "99", "method": Pay.BANK, "note": "转账"})
    assert resp.status_code == 302
    assert _rows(order_id)[0] == 1  # refused with a message: only the payment
    shown = client.get(f"/admin/orders/show/{order_id}").get_data(as_text=True)
    assert "12.50" in shown and "/admin/orders/pay-back/" in shown
    resp = client.post(f"/admin/orders/pay-back/{order_id}", data={
        "csrf_token": token, "amount": "12.50", "method": Pay.BANK, "note": "工行转账 尾号 0231"},
        follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "/admin/orders/pay-back/" not in page
    assert "工行转账 尾号 0231" in page
    db.session.expire_all()
    assert paybacks.owed_back(db.session.get(Order, order_id)) == 0


# ---- 财务 → 微信支付退款: refunds WeChat did not pay back, settled another way ------------

def test_recording_the_payback_settles_the_refunds_wechat_did_not_pay(world):
    order, row = _closed_and_not_refunded(world, RefundState.ABNORMAL)
    cs = world.user(world.cs)
    assert [r.id for r in online_refunds.for_finance(cs, needing_a_person=True)] == [row.id]
    workflow.apply(db.session.get(Order, order.id), "pay_back_by_hand", cs, amount="1.00",
                   note="先退一元")
    assert db.session.get(OnlineRefund, row.id).status == RefundState.ABNORMAL  # still owed
    workflow.apply(db.session.get(Order, order.id), "pay_back_by_hand", cs, note="工行退回余款")
    row = db.session.get(OnlineRefund, row.id)
    assert (row.status, row.handled_by_id, row.handled_note) == \
        (RefundState.SETTLED, world.cs.user_id, "工行退回余款")
    assert online_refunds.for_finance(cs, needing_a_person=True) == []


def _automatic_refund_not_paid(world):
    """A second payment of an order paid already, whose automatic refund WeChat refused."""
    order = _paid_online(world)
    attempt = PayAttempt(order_id=order.id, out_trade_no="Q" + order.order_no, appid="wx1",
                         channel="native", trade_type="NATIVE",
                         amount_fen=int(order.total * 100), status="paid",
                         transaction_id="43" + order.order_no,
                         expires_at=utcnow() + timedelta(hours=1))
    db.session.add(attempt)
    db.session.flush()
    row = OnlineRefund(kind=RefundKind.AUTOMATIC, order_id=order.id, attempt_id=attempt.id,
                       amount_fen=attempt.amount_fen, out_refund_no=attempt.out_trade_no + "-A",
                       status=RefundState.FAILED, reason="already_paid")
    db.session.add(row)
    db.session.commit()
    return order, row.id


def test_customer_service_settles_an_automatic_refund_another_way(app, world):
    order, row_id = _automatic_refund_not_paid(world)
    closed = _paid_online(world)
    workflow.apply(closed, "close", world.user(world.cs), reason="缺货")
    on_the_order = _online_refunds(closed.id)[0]
    on_the_order.status = RefundState.FAILED
    db.session.commit()
    on_the_order_id = on_the_order.id
    client = app.test_client()
    assert login(client, world.cs.mobile).status_code == 302
    page = client.get("/admin/wechat-pay/").get_data(as_text=True)
    assert f'data-settle="{row_id}"' in page  # not the order's money: settled here
    assert f'data-settle="{on_the_order_id}"' not in page  # the order's: on the order page
    assert f"/admin/orders/show/{closed.id}#pay-back" in page
    token = csrf_token(client, "/admin/wechat-pay/")
    for refund_id, note in ((row_id, ""), (on_the_order_id, "转账")):
        resp = client.post(f"/admin/wechat-pay/settle/{refund_id}",
                           data={"csrf_token": token, "note": note})
        assert resp.status_code == 302  # refused with a message
    db.session.expire_all()
    assert db.session.get(OnlineRefund, row_id).status == RefundState.FAILED
    assert db.session.get(OnlineRefund, on_the_order_id).status == RefundState.FAILED
    assert client.post("/admin/wechat-pay/settle/999999", data={
        "csrf_token": token, "note": "x"}).status_code == 404
    resp = client.post(f"/admin/wechat-pay/settle/{row_id}", data={
        "csrf_token": token, "note": "微信转账退回 付款人"}, follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and f'data-settle="{row_id}"' not in page
    assert "微信转账退回 付款人" in page  # in the automatic refunds, with how
    db.session.expire_all()
    row = db.session.get(OnlineRefund, row_id)
    assert (row.status, row.handled_by_id) == (RefundState.SETTLED, world.cs.user_id)
    again = client.post(f"/admin/wechat-pay/settle/{row_id}", data={
        "csrf_token": token, "note": "again"}, follow_redirects=True)
    assert "这笔退款无需处理" in again.get_data(as_text=True)
    assert db.session.get(OnlineRefund, row_id).handled_note == "微信转账退回 付款人"


@pytest.mark.parametrize("who", ["salesman", "driver", "customer"])
def test_only_customer_service_settles_a_refund(app, world, who):
    _order, row_id = _automatic_refund_not_paid(world)
    ref = {"salesman": world.salesman, "driver": world.driver, "customer": world.customer}[who]
    client = app.test_client()
    assert login(client, ref.mobile).status_code == 302
    token = csrf_token(client, "/me") if who == "customer" else csrf_token(client, "/")
    resp = client.post(f"/admin/wechat-pay/settle/{row_id}", data={
        "csrf_token": token, "note": "x"})
    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.get(OnlineRefund, row_id).status == RefundState.FAILED


def test_a_late_wechat_success_never_records_money_settled_another_way(world):
    order, row = _closed_and_not_refunded(world, RefundState.ABNORMAL)
    cs = world.user(world.cs)
    workflow.apply(db.session.get(Order, order.id), "pay_back_by_hand", cs, note="工行退回")
    row = db.session.get(OnlineRefund, row.id)
    assert row.status == RefundState.SETTLED
    online_refunds.take_answer(row, {"out_refund_no": row.out_refund_no, "status": "SUCCESS",
                                     "amount": {"refund": row.amount_fen}})
    db.session.commit()
    assert row.status == RefundState.SETTLED and "paid twice" in row.error
    online_refunds.take_answer(row, {"out_refund_no": "other", "status": "CLOSED"})
    assert row.status == RefundState.SETTLED  # a mismatched answer does not reopen it
    assert online_refunds.record_paid_back(row.id) is False
    order = db.session.get(Order, order.id)
    assert sorted(p.amount for p in order.payments) == [-order.total, order.total]
    assert ledger.balance(world.customer.id) == 0


def test_an_order_opened_again_owes_again_whatever_went_back_when(world):
    cs = world.user(world.cs)
    # WeChat pays the closed order's refund only after the order was opened again.
    order = _paid_online(world)
    workflow.apply(order, "close", cs, reason="缺货")
    workflow.apply(db.session.get(Order, order.id), "override", cs, target=State.DELIVERING,
                   remark="客户又要了")
    assert db.session.get(Order, order.id).payment_status == PaymentStatus.PAID
    row = _online_refunds(order.id)[0]
    row.status = RefundState.SUCCESS
    db.session.commit()
    assert online_refunds.record_paid_back(row.id) is True
    order = db.session.get(Order, order.id)
    assert order.payment_status == PaymentStatus.UNPAID  # the money left: it owes again
    assert "mark_paid" in workflow.allowed_actions(order, cs)
    # Paid back by half by hand, then opened again: unpaid, and the half is what is due.
    order = world.order("confirmed", payment="bank")
    workflow.apply(order, "mark_paid", cs, note="到账")
    workflow.apply(db.session.get(Order, order.id), "close", cs, reason="取消")
    half = (order.total / 2).quantize(Decimal("0.01"))
    workflow.apply(db.session.get(Order, order.id), "pay_back_by_hand", cs, amount=str(half),
                   note="退一半")
    workflow.apply(db.session.get(Order, order.id), "override", cs, target=State.DELIVERING,
                   remark="恢复配送")
    order = db.session.get(Order, order.id)
    assert order.payment_status == PaymentStatus.UNPAID
    workflow.apply(order, "mark_paid", cs, note="补款")
    order = db.session.get(Order, order.id)
    assert order.payment_status == PaymentStatus.PAID
    assert sum(p.amount for p in order.payments) == order.total


def test_marking_paid_refuses_nothing_due_and_a_zero_amount(world):
    db.session.get(Member, world.customer.id).monthly_settlement = True
    db.session.commit()
    order = world.order("received", payment="monthly")
    cs = world.user(world.cs)
    workflow.apply(order, "request_refund", world.user(world.customer), reason="退货",
                   lines=[{"line_id": line.id, "quantity": line.quantity}
                          for line in order.lines])
    workflow.apply(db.session.get(Order, order.id), "decide_refund", cs, approve="1",
                   amount=str(order.total))
    for data in ({}, {"amount": "0"}):  # nothing is due; not a valid amount
        with pytest.raises(ValidationError) as refused:
            workflow.apply(db.session.get(Order, order.id), "mark_paid", cs, note="x", **data)
        assert refused.value.field == "amount"
    assert db.session.get(Order, order.id).payments == []
