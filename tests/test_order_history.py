"""The order's history in each audience's words: the customer sees every change made to
their order, in the labels of their own order page."""

import re

from app.extensions import db
from app.ordering import history, workflow
from app.ordering.models import Order
from tests.conftest import login
from tests.order_factory import World


def _customer_history(client, order_no) -> list[str]:
    html = client.get(f"/orders/{order_no}").get_data(as_text=True)
    block = html.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", "<li" + item)).strip()
            for item in block.split("<li")[1:]]


def test_the_customer_sees_every_change_the_salesman_made(app, make, client):
    with app.app_context():
        world = World(app, make)
        order = world.order("pending", quantity=world.moq * 10)
        salesman = world.user(world.salesman)
        line = order.lines[0]
        before, after = line.quantity, line.quantity + 5 * world.moq
        unit, name = line.base_unit, line.product_name
        workflow.apply(order, "edit", salesman, op="set_quantity", line_id=line.id,
                       quantity=str(after))
        workflow.apply(order, "edit", salesman, op="set_price", line_id=line.id,
                       price="0.40", reason="老客户优惠")
        workflow.apply(order, "edit", salesman, op="add_gift", spec_id=world.spec_id,
                       quantity=str(world.moq))
        gift = db.session.get(Order, order.id).lines[-1]
        workflow.apply(order, "edit", salesman, op="out_of_stock", line_id=gift.id)
        workflow.apply(order, "edit", salesman, op="set_payment", method="bank")
        workflow.apply(order, "confirm", salesman)
        order_no = order.order_no
    login(client, world.customer.mobile)
    entries = _customer_history(client, order_no)
    text = "\n".join(entries)
    assert f"{name} 数量：{before} {unit} → {after} {unit}" in text
    assert f"{name} 改价：¥0.50 → ¥0.40" in text and "老客户优惠" in text
    assert f"添加赠品：{name} × {world.moq}" in text
    assert f"{name} 已标记缺货" in text
    assert "支付方式：货到付款 → 银行转账" in text
    assert text.count("订单已修改") == 5
    assert "（业务经理）" in text  # who changed it
    client.get("/auth/lang/en")
    text = "\n".join(_customer_history(client, order_no))
    assert f"{name}: quantity {before} {unit} → {after} {unit}" in text
    assert "Payment: Cash on delivery → Bank transfer" in text


def test_the_customer_history_uses_the_customer_labels(app, make, client):
    with app.app_context():
        world = World(app, make)
        order_no = world.order("delivered").order_no
    login(client, world.customer.mobile)
    entries = _customer_history(client, order_no)
    # Newest first: the driver completed it, and the customer reads 已收货 as on the page.
    assert entries[0].startswith("已收货") and "已送达" not in entries[0]
    assert not any(e.startswith("已送达") for e in entries)
    assert any(e.startswith("司机送货中") for e in entries)
    assert any("司机：" in e for e in entries)  # the driver who was assigned


def test_staff_see_the_move_between_their_labels(app, make, ctx):
    world = World(app, make)
    order = world.order("delivered")
    entries = history.history(order, history.STAFF)
    done = entries[-1]
    assert done.moved == ("配送中", "已送达") or done.moved == ("Out for delivery", "Delivered")
    assert done.role and done.who


def test_staff_only_entries_stay_with_staff(app, make, ctx):
    world = World(app, make)
    order = world.order("pending")
    db.session.get(Order, order.id).events[0].customer_visible = False
    db.session.commit()
    order = db.session.get(Order, order.id)
    assert history.history(order, history.CUSTOMER) == []
    assert len(history.history(order, history.STAFF)) == 1
