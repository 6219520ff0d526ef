"""The order workflow, checked against a hand-written matrix of (state, action, who).

The matrix below is written from SPEC.md's "Order workflow", not generated from
app/services/workflow.py: allowed combinations must succeed; every other one must be
refused with a message (or be a 404 for someone who may not see the order) and change
nothing: state, stock, history, messages.
"""

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.catalog.models import Spec
from app.extensions import db
from app.messaging.models import Message
from app.ordering import workflow
from app.ordering.models import Order, OrderEvent
from app.platform.errors import NotFound, PermissionDenied, ValidationError
from tests.conftest import login
from tests.order_factory import World

STATES = ["pending", "confirmed", "assigned", "delivering", "shipped", "ready_for_pickup",
          "delivered", "received", "closed"]
WHO = ["customer", "other_customer", "salesman", "other_salesman", "driver", "driver2",
       "other_driver", "cs", "admin"]
STAFF = {"salesman", "cs", "admin"}
OPEN = {"pending", "confirmed", "assigned", "delivering", "shipped", "ready_for_pickup"}

# action: {state: who may do it there}. From SPEC.md, by hand.
ALLOWED = {
    "confirm": {"pending": STAFF},
    "edit": {"pending": STAFF},
    "assign_driver": {"confirmed": STAFF, "assigned": STAFF},
    "ship": {"confirmed": STAFF},
    "ready_for_pickup": {},  # every matrix order is a delivery order: refused (tested apart)
    "start_delivery": {"assigned": {"driver"}},
    "complete_delivery": {"delivering": {"driver"}},
    "confirm_receipt": {"shipped": {"customer"}, "ready_for_pickup": {"customer"}},
    "mark_collected": {"ready_for_pickup": STAFF},
    "cancel": {"pending": {"customer"}},
    "close": {s: STAFF for s in OPEN},
    "override": {s: {"cs", "admin"} for s in STATES},
    "change_driver": {"assigned": {"cs", "admin"}, "delivering": {"cs", "admin"}},
    "mark_paid": {s: STAFF for s in STATES if s != "closed"},
    "request_refund": {"delivered": {"customer"}, "received": {"customer"}},
    "decide_refund": {},  # no refund is waiting in the matrix (tested apart)
}


def visible(who, state) -> bool:
    """Who may see an order of the customer in region A in this state at all."""
    if who in ("customer", "salesman", "cs", "admin"):
        return True
    if who == "driver":  # serves A; the matrix assigns orders to this driver
        return state in ("confirmed", "assigned", "delivering", "delivered")
    if who == "driver2":  # serves A, never assigned
        return state == "confirmed"
    return False  # another customer, and staff of region B


@pytest.fixture
def world(app, ctx, make):
    return World(app, make)


def _data(world, order, action, state):
    line = order.lines[0]
    return {
        "edit": {"op": "set_quantity", "line_id": line.id, "quantity": world.moq * 3},
        "assign_driver": {"driver_id": world.driver.id},
        "ship": {"ship_method": "logistics", "note": "德邦 DB123"},
        "close": {"reason": "客户取消"},
        "override": {"target": "received" if state == "closed" else "closed",
                     "remark": "客服调整"},
        "change_driver": {"driver_id": world.driver2.id},
        "mark_paid": {"note": "已收到转账"},
        "request_refund": {"reason": "破损", "lines": [{"line_id": line.id,
                                                         "quantity": world.moq}]},
        "decide_refund": {"approve": "1", "amount": "1.00"},
    }.get(action, {})


def _snapshot(order_id):
    order = db.session.get(Order, order_id)
    stock = db.session.scalar(select(Spec.stock).where(Spec.id == order.lines[0].spec_id))
    return (order.state, order.payment_status, order.refund_status, order.driver_id, stock,
            db.session.scalar(select(func.count(OrderEvent.id))),
            db.session.scalar(select(func.count(Message.id))),
            [(ln.quantity, ln.out_of_stock) for ln in order.lines])


def test_the_whole_matrix(world):
    cache = {}
    refused = allowed = hidden = 0
    for state in STATES:
        for action in ALLOWED:
            for who in WHO:
                if state not in cache:
                    cache[state] = world.order(state).id
                order = db.session.get(Order, cache[state])
                assert order.state == state
                actor = world.user(getattr(world, who))
                before = _snapshot(order.id)
                expected_ok = who in ALLOWED[action].get(state, set())
                try:
                    workflow.apply(order, action, actor, **_data(world, order, action, state))
                except NotFound:
                    assert not visible(who, state), (state, action, who, "404 for a viewer")
                    assert not expected_ok
                    hidden += 1
                except (PermissionDenied, ValidationError) as exc:
                    assert str(exc.message), "a refusal needs a message"
                    assert not expected_ok, (state, action, who, str(exc.message))
                    assert visible(who, state), (state, action, who, "should be a 404")
                    refused += 1
                else:
                    assert expected_ok, (state, action, who, "should have been refused")
                    allowed += 1
                    del cache[state]  # changed: build a fresh one next time
                    continue
                db.session.rollback()
                assert _snapshot(order.id) == before, (state, action, who, "changed on refusal")
    assert allowed > 40 and refused > 200 and hidden > 200, (allowed, refused, hidden)


def test_a_driver_cannot_confirm(world):
    order = world.order("pending")
    driver = world.user(world.driver)
    order.state  # noqa: B018
    with pytest.raises(NotFound):  # a pending order is not the driver's to see
        workflow.apply(order, "confirm", driver)
    confirmed = world.order("confirmed")
    with pytest.raises(PermissionDenied):
        workflow.apply(confirmed, "ship", driver, ship_method="other", note="x")


def test_completing_without_a_photo_is_refused(world):
    order = world.order("delivering")
    for photo in list(order.photos):
        db.session.delete(photo)
    db.session.commit()
    with pytest.raises(ValidationError, match="photo|照片"):
        workflow.apply(order, "complete_delivery", world.user(world.driver))
    assert db.session.get(Order, order.id).state == "delivering"


def test_a_salesman_of_another_region_gets_404(world):
    order = world.order("pending")
    with pytest.raises(NotFound):
        workflow.apply(order, "confirm", world.user(world.other_salesman))


def test_an_unpaid_prepay_order_cannot_ship(world):
    order = world.order("confirmed", payment="prepay")
    salesman = world.user(world.salesman)
    for action, data in (("ship", {"ship_method": "express", "note": "SF"}),
                         ("assign_driver", {"driver_id": world.driver.id})):
        with pytest.raises(ValidationError):
            workflow.apply(order, action, salesman, **data)
        db.session.rollback()
    workflow.apply(order, "mark_paid", salesman, note="转账已到账")
    workflow.apply(order, "assign_driver", salesman, driver_id=world.driver.id)
    assert db.session.get(Order, order.id).state == "assigned"


def test_pickup_orders_and_collection(world):
    order = world.order("ready_for_pickup")
    assert order.delivery_method == "pickup"
    workflow.apply(order, "mark_collected", world.user(world.cs))
    assert db.session.get(Order, order.id).state == "received"
    delivery = world.order("confirmed")
    with pytest.raises(ValidationError):
        workflow.apply(delivery, "ready_for_pickup", world.user(world.salesman))


def test_close_and_cancel_return_stock(world):
    stock = db.session.get(Spec, world.spec_id).stock
    order = world.order("pending")
    assert db.session.get(Spec, world.spec_id).stock == stock - world.moq * 2
    workflow.apply(order, "cancel", world.user(world.customer))
    db.session.expire_all()
    assert db.session.get(Spec, world.spec_id).stock == stock
    order = world.order("assigned")
    workflow.apply(order, "close", world.user(world.salesman), reason="客户不要了")
    db.session.expire_all()
    assert db.session.get(Spec, world.spec_id).stock == stock


def test_refund_request_and_decision(world):
    order = world.order("delivered")
    line = order.lines[0]
    customer = world.user(world.customer)
    with pytest.raises(ValidationError):
        workflow.apply(order, "request_refund", customer, reason="破损",
                       lines=[{"line_id": line.id, "quantity": line.quantity + world.moq}])
    db.session.rollback()
    workflow.apply(order, "request_refund", customer, reason="破损",
                   lines=[{"line_id": line.id, "quantity": world.moq}])
    stock = db.session.get(Spec, world.spec_id).stock
    cs = world.user(world.cs)
    with pytest.raises(ValidationError):  # more than the order
        workflow.apply(order, "decide_refund", cs, approve="1", amount="99999")
    db.session.rollback()
    workflow.apply(order, "decide_refund", cs, approve="1", amount="2.00", restock="1")
    order = db.session.get(Order, order.id)
    assert order.refund_status == "approved" and order.state == "delivered"
    db.session.expire_all()
    assert db.session.get(Spec, world.spec_id).stock == stock + world.moq
    bodies = [m.body for m in db.session.scalars(select(Message).where(
        Message.event == "refund_approved"))]
    assert bodies and "2.00" in bodies[0]


def test_every_action_writes_history(world):
    order = world.order("delivered")
    actions = [e.action for e in db.session.get(Order, order.id).events]
    assert actions == ["submit", "confirm", "assign_driver", "start_delivery",
                       "complete_delivery"]
    first = order.events[0]
    assert first.from_state is None and first.to_state == "pending" and first.actor_id


def test_auto_receive_after_the_days_in_settings(world):
    from datetime import timedelta

    order = world.order("shipped")
    order.shipped_at -= timedelta(days=8)
    db.session.commit()
    assert workflow.auto_receive_shipped() == 1
    order = db.session.get(Order, order.id)
    assert order.state == "received" and order.events[-1].action == "auto_receive"


def test_allowed_actions_leave_out_what_the_order_makes_impossible(world):
    cs = world.user(world.cs)
    confirmed = world.order("confirmed")
    assert "ready_for_pickup" not in workflow.allowed_actions(confirmed, cs)  # not pickup
    assert "mark_paid" in workflow.allowed_actions(confirmed, cs)
    workflow.apply(confirmed, "mark_paid", cs, note="到账")
    assert "mark_paid" not in workflow.allowed_actions(confirmed, cs)
    delivered = world.order("delivered")
    customer = world.user(world.customer)
    assert "decide_refund" not in workflow.allowed_actions(delivered, cs)
    workflow.apply(delivered, "request_refund", customer, reason="破损",
                   lines=[{"line_id": delivered.lines[0].id, "quantity": world.moq}])
    assert "decide_refund" in workflow.allowed_actions(delivered, cs)
    assert "request_refund" not in workflow.allowed_actions(delivered, customer)


def _refund_worth_more_than_the_order(world):
    """A delivered order whose waiting refund asks back every unit ordered, after customer
    service sent it out again and half of it was refused at the door: priced line by line,
    what the refund asks back is now worth more than the order total."""
    order = world.order("delivered")
    line = order.lines[0]
    workflow.apply(order, "request_refund", world.user(world.customer), reason="破损",
                   lines=[{"line_id": line.id, "quantity": line.quantity}])
    workflow.apply(order, "override", world.user(world.cs), target="delivering",
                   remark="重新配送")
    workflow.apply(order, "complete_delivery", world.user(world.driver),
                   refused=[{"line_id": line.id, "quantity": world.moq, "reason": "拒收"}])
    order = db.session.get(Order, order.id)
    asked = sum(Decimal(ln.unit_price) * item["quantity"] for item in order.refunds[0].lines
                for ln in order.lines if ln.id == item["line_id"])
    assert order.refund_status == "requested" and order.total < asked
    return order, asked


def test_a_refund_is_never_approved_for_more_than_the_order_total(world):
    order, asked = _refund_worth_more_than_the_order(world)
    cs = world.user(world.cs)
    for amount in (asked, order.total + Decimal("0.01")):
        with pytest.raises(ValidationError) as refused:
            workflow.apply(order, "decide_refund", cs, approve="1", amount=str(amount))
        assert refused.value.field == "amount", amount
        db.session.rollback()
        refund = db.session.get(Order, order.id).refunds[0]
        assert (refund.status, refund.amount) == ("requested", None), amount
    workflow.apply(order, "decide_refund", cs, approve="1", amount=str(order.total))
    order = db.session.get(Order, order.id)
    assert order.refund_status == "approved" and order.refunds[0].amount == order.total


def test_an_order_refunded_in_full_is_refunded_not_paid(world):
    order = world.order("received", payment="bank")
    cs, customer = world.user(world.cs), world.user(world.customer)
    workflow.apply(order, "mark_paid", cs, note="到账")
    line = order.lines[0]
    half = (Decimal(order.total) / 2).quantize(Decimal("0.01"))
    for amount, status in ((half, "paid"), (Decimal(order.total) - half, "refunded")):
        workflow.apply(db.session.get(Order, order.id), "request_refund", customer,
                       reason="破损", lines=[{"line_id": line.id, "quantity": 1}])
        workflow.apply(db.session.get(Order, order.id), "decide_refund", cs, approve="1",
                       amount=str(amount))
        assert db.session.get(Order, order.id).payment_status == status, amount


def _suggested(client, order_id, order_no):
    """The amount each staff screen puts in the refund form (both fill it in, from the
    same rule)."""
    admin = client["cs"].get(f"/admin/orders/show/{order_id}")
    sales = client["salesman"].get(f"/sales/orders/{order_no}")
    assert admin.status_code == 200 and sales.status_code == 200
    filled = re.search(r'id="refund-amount"[^>]*value="([^"]*)"', admin.get_data(as_text=True))
    hint = re.search(r'id="refund-amount"[^>]*value="([^"]*)"', sales.get_data(as_text=True))
    assert filled and hint, "no refund form on a staff order page"
    return Decimal(filled[1]), Decimal(hint[1])


def test_the_suggested_refund_is_never_more_than_the_order_total(app, make):
    """No app context stays pushed while the pages are requested (it would keep the
    signed-in user of the previous request)."""
    with app.app_context():
        world = World(app, make)
        order, asked = _refund_worth_more_than_the_order(world)
        over = (order.id, order.order_no, order.total)
        # Asked back for less than the total: the suggestion is the value asked back.
        partial = world.order("delivered")
        line = partial.lines[0]
        workflow.apply(partial, "request_refund", world.user(world.customer), reason="少货",
                       lines=[{"line_id": line.id, "quantity": world.moq}])
        partial = db.session.get(Order, partial.id)
        value = Decimal(line.unit_price) * world.moq
        under = (partial.id, partial.order_no, partial.total)
        db.session.remove()
    assert over[2] < asked and value < under[2]
    client = {who: app.test_client() for who in ("cs", "salesman")}
    login(client["cs"], world.cs.mobile)
    login(client["salesman"], world.salesman.mobile)
    assert _suggested(client, over[0], over[1]) == (over[2], over[2])
    assert _suggested(client, under[0], under[1]) == (value, value)
