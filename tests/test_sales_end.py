"""The business end 业务端 through HTTP: order tabs, the order page and its actions,
my customers, ordering on a customer's behalf, performance, and who is refused.

No app context stays pushed while requests run; database work opens its own (`db_`).
"""

import contextlib
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.catalog.models import Spec
from app.extensions import db
from app.members.models import Member
from app.messaging.models import Message
from app.ordering import cart, checkout, queries, workflow
from app.ordering import performance as sales
from app.ordering.models import Order, OrderEvent, Payment
from app.platform import paging
from tests.conftest import csrf_token, login
from tests.order_factory import World


@pytest.fixture
def world(app, make):
    with app.app_context():
        return World(app, make)


@pytest.fixture
def db_(app):
    @contextlib.contextmanager
    def opened():
        with app.app_context():
            yield db.session
            db.session.remove()
    return opened


@pytest.fixture
def salesman(app, world):
    client = app.test_client()
    login(client, world.salesman.mobile)
    return client


def _order(app, world, state="pending", **kw):
    with app.app_context():
        order = world.order(state, **kw)
        return order.id, order.order_no


def _submit_for(world, member_ref, quantity=None):
    """A pending order of any approved member, placed by the member (app context)."""
    user = world.user(member_ref)
    cart.add_to_cart(user, {world.spec_id: quantity or world.moq})
    return checkout.submit(user, user, {
        "idempotency_key": uuid.uuid4().hex, "delivery": "delivery", "payment": "cod",
        "province": "海南省", "city": "三亚市", "district": "", "street": "三亚湾路 88 号",
        "contact": "吴老板", "phone": "13912340000"})


def _post(client, url, **data):
    token = csrf_token(client, "/sales/")
    return client.post(url, data={"csrf_token": token, **data})


def _flash(resp) -> str:
    match = re.search(r'class="flash flash-danger"[^>]*>([^<]*)<', resp.get_data(as_text=True))
    return match[1] if match else ""


def _events(session, order_id) -> int:
    return session.scalar(select(func.count(OrderEvent.id)).where(
        OrderEvent.order_id == order_id))


# ---- the order list ----------------------------------------------------------------------

def test_tabs_counts_and_rows_of_my_regions_only(app, world, make, salesman):
    made = {}
    for state in ("pending", "pending", "confirmed", "assigned", "delivering", "shipped",
                  "delivered", "received", "closed"):
        made.setdefault(state, []).append(_order(app, world, state)[1])
    with app.app_context():
        far = make.member(region=world.other_region, shop="三亚湾海景民宿")
        other_no = _submit_for(world, far).order_no
    html = salesman.get("/sales/").get_data(as_text=True)
    assert "业务端" in html
    counts = dict(re.findall(r'data-tab="(\w+)"[^>]*><b class="scount">(\d+)</b>',
                             html))
    assert counts == {"pending": "2", "to_ship": "2", "delivering": "2", "delivered": "2",
                      "all": "9"}
    # Default tab: to confirm, newest first, with shop, tel: link, total, payment, state.
    rows = re.findall(r'data-order="(\d+)"', html)
    assert rows == list(reversed(made["pending"]))
    assert "测试酒店" in html and 'href="tel:' in html and "货到付款" in html
    assert "待确认" in html and "¥" in html
    for tab, states in (("to_ship", ("confirmed", "assigned")),
                        ("delivering", ("delivering", "shipped")),
                        ("delivered", ("delivered", "received"))):
        page = salesman.get(f"/sales/?tab={tab}").get_data(as_text=True)
        assert sorted(re.findall(r'data-order="(\d+)"', page)) == \
            sorted(n for s in states for n in made[s]), tab
    everything = salesman.get("/sales/?tab=all").get_data(as_text=True)
    assert len(re.findall(r'data-order="(\d+)"', everything)) == 9
    assert other_no not in everything
    assert "已关闭" in everything and "已派司机" in everything
    # Entries of the business end.
    for href in ("/sales/customers?pick=1", "/sales/customers", "/sales/qr",
                 "/sales/performance"):
        assert f'href="{href}"' in html


def test_keyset_pagination(app, world, salesman, monkeypatch):
    numbers = [_order(app, world, "pending")[1] for _ in range(5)]
    monkeypatch.setattr(queries, "PER_PAGE", 2)
    first = salesman.get("/sales/?tab=pending").get_data(as_text=True)
    assert re.findall(r'data-order="(\d+)"', first) == numbers[::-1][:2]
    seen = re.findall(r'data-order="(\d+)"', first)
    url = re.search(r'href="(/sales/\?[^"]*before=\d+[^"]*)" rel="next"', first)[1]
    while url:
        page = salesman.get(url.replace("&amp;", "&")).get_data(as_text=True)
        seen += re.findall(r'data-order="(\d+)"', page)
        more = re.search(r'href="(/sales/\?[^"]*before=\d+[^"]*)" rel="next"', page)
        url = more[1] if more else None
    assert seen == numbers[::-1]


def test_counts_stop_at_the_cap(app, world, salesman, monkeypatch):
    for _ in range(3):
        _order(app, world, "pending")
    monkeypatch.setattr(paging, "COUNT_CAP", 2)
    html = salesman.get("/sales/").get_data(as_text=True)
    assert re.search(r'data-tab="pending"[^>]*><b class="scount">2\+</b>', html)


# ---- who may see and act ------------------------------------------------------------------

def test_another_regions_salesman_gets_404_and_changes_nothing(app, world, db_):
    order_id, order_no = _order(app, world, "pending")
    with db_() as session:
        before = _events(session, order_id)
        line_id = session.get(Order, order_id).lines[0].id
    other = app.test_client()
    login(other, world.other_salesman.mobile)
    assert other.get(f"/sales/orders/{order_no}").status_code == 404
    assert order_no not in other.get("/sales/?tab=all").get_data(as_text=True)
    posts = {
        "edit": {"op": "set_quantity", "line_id": line_id, "quantity": world.moq * 5},
        "confirm": {}, "assign_driver": {"driver_id": world.driver.id},
        "ship": {"ship_method": "express", "note": "SF1"}, "ready_for_pickup": {},
        "mark_collected": {}, "close": {"reason": "x"}, "mark_paid": {"note": "x"},
        "decide_refund": {"approve": "1", "amount": "1"}, "override": {}, "nonsense": {},
    }
    for action, data in posts.items():
        resp = _post(other, f"/sales/orders/{order_no}/{action}", **data)
        assert resp.status_code == 404, action
    with db_() as session:
        order = session.get(Order, order_id)
        assert order.state == "pending" and order.payment_status == "unpaid"
        assert order.lines[0].quantity == world.moq * 2
        assert _events(session, order_id) == before


def test_unknown_action_is_404_for_my_own_order(app, world, salesman, db_):
    order_id, order_no = _order(app, world, "pending")
    for action in ("override", "cancel", "change_driver", "nonsense"):
        assert _post(salesman, f"/sales/orders/{order_no}/{action}").status_code == 404
    with db_() as session:
        assert session.get(Order, order_id).state == "pending"


def test_drivers_and_customers_get_403_everywhere(app, world):
    _, order_no = _order(app, world, "pending")
    with app.app_context():
        member_id = world.customer.id
    gets = ["/sales/", "/sales/?tab=all", f"/sales/orders/{order_no}", "/sales/customers",
            f"/sales/customers/{member_id}/order", "/sales/performance", "/sales/qr"]
    posts = [f"/sales/orders/{order_no}/confirm", f"/sales/orders/{order_no}/edit",
             f"/sales/customers/{member_id}/order/cart",
             f"/sales/customers/{member_id}/order/submit"]
    for ref in (world.driver, world.customer):
        client = app.test_client()
        login(client, ref.mobile)
        for url in gets:
            assert client.get(url).status_code == 403, (ref.mobile, url)
        token = csrf_token(client, "/me")
        for url in posts:
            assert client.post(url, data={"csrf_token": token}).status_code == 403, url


# ---- actions ----------------------------------------------------------------------------------

def test_confirm_then_assign_a_driver(app, world, salesman, db_):
    order_id, order_no = _order(app, world, "pending")
    page = salesman.get(f"/sales/orders/{order_no}").get_data(as_text=True)
    assert 'data-action="confirm"' in page and "data-copy=" in page and "uri.amap.com" in page
    resp = _post(salesman, f"/sales/orders/{order_no}/confirm")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/sales/orders/{order_no}"
    page = salesman.get(f"/sales/orders/{order_no}").get_data(as_text=True)
    assert 'data-state="confirmed"' in page and 'name="driver_id"' in page
    assert f'value="{world.driver.id}"' in page and f'value="{world.other_driver.id}"' not in page
    # A driver of another region is refused by the workflow: 400, nothing changes.
    resp = _post(salesman, f"/sales/orders/{order_no}/assign_driver",
                 driver_id=world.other_driver.id)
    assert resp.status_code == 400 and _flash(resp)
    resp = _post(salesman, f"/sales/orders/{order_no}/assign_driver", driver_id=world.driver.id)
    assert resp.status_code == 302
    page = salesman.get(f"/sales/orders/{order_no}").get_data(as_text=True)
    assert 'data-state="assigned"' in page and "已派司机" in page and "data-driver" in page
    with db_() as session:
        order = session.get(Order, order_id)
        assert order.state == "assigned" and order.driver_id == world.driver.id


def test_ship_without_a_driver_needs_a_note(app, world, salesman, db_):
    order_id, order_no = _order(app, world, "confirmed")
    resp = _post(salesman, f"/sales/orders/{order_no}/ship", ship_method="express", note=" ")
    assert resp.status_code == 400 and "请填写备注" in _flash(resp)
    assert 'data-state="confirmed"' in resp.get_data(as_text=True)
    with db_() as session:
        assert session.get(Order, order_id).state == "confirmed"
    resp = _post(salesman, f"/sales/orders/{order_no}/ship", ship_method="logistics",
                 note="德邦物流 DB123")
    assert resp.status_code == 302
    with db_() as session:
        order = session.get(Order, order_id)
        assert (order.state, order.ship_method, order.ship_note) == \
            ("shipped", "logistics", "德邦物流 DB123")
    assert "德邦物流 DB123" in salesman.get(f"/sales/orders/{order_no}").get_data(as_text=True)


def test_edit_quantity_in_moq_steps(app, world, salesman, db_):
    order_id, order_no = _order(app, world, "pending")
    with db_() as session:
        order = session.get(Order, order_id)
        line_id, total = order.lines[0].id, order.total
        stock = session.get(Spec, world.spec_id).stock
        before = _events(session, order_id)
    url = f"/sales/orders/{order_no}/edit"
    resp = _post(salesman, url, op="set_quantity", line_id=line_id, quantity=world.moq + 1)
    assert resp.status_code == 400 and "正整数倍" in _flash(resp)
    with db_() as session:
        order = session.get(Order, order_id)
        assert order.lines[0].quantity == world.moq * 2 and order.total == total
        assert session.get(Spec, world.spec_id).stock == stock
        assert _events(session, order_id) == before
    resp = _post(salesman, url, op="set_quantity", line_id=line_id, quantity=world.moq * 3)
    assert resp.status_code == 302
    with db_() as session:
        order = session.get(Order, order_id)
        assert order.lines[0].quantity == world.moq * 3
        assert session.get(Spec, world.spec_id).stock == stock - world.moq
        assert order.events[-1].data["op"] == "set_quantity"


def test_change_price_needs_a_reason(app, world, salesman, db_):
    order_id, order_no = _order(app, world, "pending")
    with db_() as session:
        line_id = session.get(Order, order_id).lines[0].id
    url = f"/sales/orders/{order_no}/edit"
    resp = _post(salesman, url, op="set_price", line_id=line_id, price="0.10", reason="")
    assert resp.status_code == 400 and "改价原因" in _flash(resp)
    with db_() as session:
        assert session.get(Order, order_id).lines[0].unit_price == Decimal("0.50")
    resp = _post(salesman, url, op="set_price", line_id=line_id, price="0.40",
                 reason="老客户优惠")
    assert resp.status_code == 302
    with db_() as session:
        order = session.get(Order, order_id)
        assert order.lines[0].unit_price == Decimal("0.40")
        assert order.total == Decimal("0.40") * world.moq * 2
        assert order.events[-1].remark == "老客户优惠"
    page = salesman.get(f"/sales/orders/{order_no}").get_data(as_text=True)
    assert "老客户优惠" in page


def test_other_edits_gift_delivery_payment_and_lines(app, world, salesman, db_):
    order_id, order_no = _order(app, world, "pending")
    with db_() as session:
        line_id = session.get(Order, order_id).lines[0].id
    url = f"/sales/orders/{order_no}/edit"
    page = salesman.get(f"/sales/orders/{order_no}?gift_q=矿泉水").get_data(as_text=True)
    assert f'name="spec_id" value="{world.spec_id}"' in page
    assert _post(salesman, url, op="add_gift", spec_id=world.spec_id,
                 quantity=world.moq).status_code == 302
    assert _post(salesman, url, op="set_payment", method="bank").status_code == 302
    assert _post(salesman, url, op="set_delivery", method="freight_pickup").status_code == 302
    assert _post(salesman, url, op="out_of_stock", line_id=line_id).status_code == 302
    with db_() as session:
        order = session.get(Order, order_id)
        gift = [ln for ln in order.lines if ln.is_gift][0]
        assert gift.unit_price == 0 and gift.quantity == world.moq
        assert (order.payment_method, order.delivery_method) == ("bank", "freight_pickup")
        assert order.lines[0].out_of_stock
        gift_id = gift.id
    assert _post(salesman, url, op="remove_line", line_id=gift_id).status_code == 302
    resp = _post(salesman, url, op="set_payment", method="bitcoin")
    assert resp.status_code == 400
    with db_() as session:
        order = session.get(Order, order_id)
        assert len(order.lines) == 1 and order.payment_method == "bank"
    page = salesman.get(f"/sales/orders/{order_no}").get_data(as_text=True)
    assert page.count('data-event="edit"') == 5


def test_close_needs_a_reason(app, world, salesman, db_):
    order_id, order_no = _order(app, world, "confirmed")
    with db_() as session:
        stock = session.get(Spec, world.spec_id).stock
    resp = _post(salesman, f"/sales/orders/{order_no}/close", reason="  ")
    assert resp.status_code == 400 and "请填写原因" in _flash(resp)
    with db_() as session:
        assert session.get(Order, order_id).state == "confirmed"
    page = salesman.get(f"/sales/orders/{order_no}").get_data(as_text=True)
    assert "return confirm(" in page and 'data-action="close"' in page
    assert _post(salesman, f"/sales/orders/{order_no}/close",
                 reason="客户电话取消").status_code == 302
    with db_() as session:
        order = session.get(Order, order_id)
        assert order.state == "closed" and order.events[-1].remark == "客户电话取消"
        assert session.get(Spec, world.spec_id).stock == stock + world.moq * 2


def test_mark_paid_with_a_note(app, world, salesman, db_):
    order_id, order_no = _order(app, world, "confirmed", payment="bank")
    assert _post(salesman, f"/sales/orders/{order_no}/mark_paid", note="").status_code == 400
    resp = _post(salesman, f"/sales/orders/{order_no}/mark_paid", note="工行转账已到账")
    assert resp.status_code == 302
    with db_() as session:
        order = session.get(Order, order_id)
        assert order.payment_status == "paid"
        payment = session.scalar(select(Payment).where(Payment.order_id == order_id))
        assert payment.amount == order.total and payment.note == "工行转账已到账"
    page = salesman.get(f"/sales/orders/{order_no}").get_data(as_text=True)
    assert "工行转账已到账" in page and 'data-action="mark_paid"' not in page
    assert _post(salesman, f"/sales/orders/{order_no}/mark_paid",
                 note="again").status_code == 400


def _refund_requested(app, world):
    with app.app_context():
        order = world.order("delivered")
        line = order.lines[0]
        workflow.apply(order, "request_refund", world.user(world.customer), reason="破损",
                       lines=[{"line_id": line.id, "quantity": world.moq}])
        return order.id, order.order_no


def test_decide_a_waiting_refund(app, world, salesman, db_):
    order_id, order_no = _refund_requested(app, world)
    page = salesman.get(f"/sales/orders/{order_no}").get_data(as_text=True)
    assert 'data-action="approve_refund"' in page and "破损" in page
    with db_() as session:
        stock = session.get(Spec, world.spec_id).stock
    url = f"/sales/orders/{order_no}/decide_refund"
    assert _post(salesman, url, approve="1", amount="abc").status_code == 400
    resp = _post(salesman, url, approve="1", amount="10.00", restock="1", reason="同意")
    assert resp.status_code == 302
    with db_() as session:
        order = session.get(Order, order_id)
        assert order.refund_status == "approved" and order.state == "delivered"
        assert order.refunds[0].amount == Decimal("10.00") and order.refunds[0].restock
        assert session.get(Spec, world.spec_id).stock == stock + world.moq
    # Rejecting needs a reason.
    order_id, order_no = _refund_requested(app, world)
    url = f"/sales/orders/{order_no}/decide_refund"
    resp = _post(salesman, url, approve="0")
    assert resp.status_code == 400 and "请填写原因" in _flash(resp)
    assert _post(salesman, url, approve="0", reason="照片看不出破损").status_code == 302
    with db_() as session:
        order = session.get(Order, order_id)
        assert order.refund_status == "rejected"
        assert order.refunds[0].decision_note == "照片看不出破损"


def test_pickup_ready_and_collected(app, world, salesman, db_):
    order_id, order_no = _order(app, world, "confirmed", delivery="pickup", payment="bank")
    page = salesman.get(f"/sales/orders/{order_no}").get_data(as_text=True)
    assert 'data-action="ready_for_pickup"' in page
    assert _post(salesman, f"/sales/orders/{order_no}/ready_for_pickup").status_code == 302
    assert _post(salesman, f"/sales/orders/{order_no}/mark_collected").status_code == 302
    with db_() as session:
        assert session.get(Order, order_id).state == "received"


# ---- customers and ordering on their behalf -----------------------------------------------

def test_my_customers_with_search_and_last_order(app, world, make, salesman, db_):
    _order(app, world, "pending")
    with app.app_context():
        mine_elsewhere = make.member(region=world.other_region, shop="博鳌便利店")
        db.session.get(Member, mine_elsewhere.id).own_salesman_id = world.salesman.id
        stranger = make.member(region=world.other_region, shop="亚龙湾度假酒店")
        db.session.commit()
    html = salesman.get("/sales/customers").get_data(as_text=True)
    ids = re.findall(r'data-member="(\d+)"', html)
    assert str(world.customer.id) in ids and str(world.other_customer.id) in ids
    assert str(mine_elsewhere.id) in ids and str(stranger.id) not in ids
    assert f'href="tel:{world.customer.mobile}"' in html
    assert f"/sales/customers/{world.customer.id}/order" in html
    # My own customer in another region: listed, but ordering for them is for their region.
    assert f"/sales/customers/{mine_elsewhere.id}/order" not in html
    card = html.split(f'data-member="{world.customer.id}"')[1].split("</article>")[0]
    assert re.search(r"data-last-order>[^<]*\d{4}-\d{2}-\d{2}", card)
    found = salesman.get(f"/sales/customers?q={world.customer.mobile[-6:]}")
    assert re.findall(r'data-member="(\d+)"', found.get_data(as_text=True)) == \
        [str(world.customer.id)]
    assert salesman.get(f"/sales/customers/{mine_elsewhere.id}/order").status_code == 404


def test_order_on_behalf_of_a_customer(app, world, salesman, db_):
    member_id = world.customer.id
    page = salesman.get(f"/sales/customers/{member_id}/order?q=矿泉水").get_data(as_text=True)
    assert f'name="qty_{world.spec_id}"' in page
    url = f"/sales/customers/{member_id}/order"
    # A quantity off the MOQ grid is refused, the cart stays empty.
    resp = _post(salesman, url + "/cart", **{f"qty_{world.spec_id}": str(world.moq + 1)})
    assert resp.status_code == 400 and _flash(resp)
    resp = _post(salesman, url + "/cart", q="矿泉水",
                 **{f"qty_{world.spec_id}": str(world.moq * 3)})
    assert resp.status_code == 302
    with db_() as session:
        customer_user_id = session.get(Member, member_id).user_id
    page = salesman.get(url).get_data(as_text=True)
    assert "data-cart-line" in page and "3 盒 = 60 把" in page
    fields = dict(re.findall(r'name="(csrf_token|idempotency_key|expected_total)"[^>]*'
                             r'value="([^"]*)"', page))
    form = {**fields, "delivery": "delivery", "payment": "cod", "address_id": "new",
            "province": "海南省", "city": "海口市", "district": "美兰区",
            "street": "海甸岛 1 号", "contact": "黄经理", "phone": "13912345678",
            "remark": "业务员代下"}
    resp = salesman.post(url + "/submit", data=form)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/sales/orders/")
    assert salesman.post(url + "/submit", data=form).headers["Location"] == \
        resp.headers["Location"]  # the same form twice: one order
    with db_() as session:
        order = session.scalar(select(Order))
        assert session.scalar(select(func.count(Order.id))) == 1
        assert order.user_id == customer_user_id and order.member_id == member_id
        assert order.placed_by_id == world.salesman.user_id
        assert order.lines[0].quantity == world.moq * 3 and order.remark == "业务员代下"
        told = session.scalars(select(Message).where(
            Message.event == "order_placed_for_you")).all()
        assert told and all(m.user_id == customer_user_id for m in told)
    page = salesman.get(resp.headers["Location"]).get_data(as_text=True)
    assert "data-placed-by" in page and 'data-state="pending"' in page


def test_order_on_behalf_bad_checkout_changes_nothing(app, world, salesman, db_):
    url = f"/sales/customers/{world.customer.id}/order"
    _post(salesman, url + "/cart", **{f"qty_{world.spec_id}": str(world.moq)})
    page = salesman.get(url).get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|idempotency_key)"[^>]*value="([^"]*)"', page))
    resp = salesman.post(url + "/submit", data={**fields, "delivery": "pickup",
                                                "payment": "cod"})
    assert resp.status_code == 400 and "form-error" in resp.get_data(as_text=True)
    with db_() as session:
        assert session.scalar(select(func.count(Order.id))) == 0


def test_order_on_behalf_outside_my_regions_is_404(app, world, make, salesman, db_):
    with app.app_context():
        far = make.member(region=world.other_region, shop="三亚湾海景民宿")
    url = f"/sales/customers/{far.id}/order"
    assert salesman.get(url).status_code == 404
    assert _post(salesman, url + "/cart",
                 **{f"qty_{world.spec_id}": str(world.moq)}).status_code == 404
    assert _post(salesman, url + "/submit", idempotency_key=uuid.uuid4().hex,
                 delivery="delivery", payment="cod").status_code == 404
    assert salesman.get("/sales/customers/999999/order").status_code == 404
    with db_() as session:
        assert session.scalar(select(func.count(Order.id))) == 0
        from app.ordering.models import CartLine

        assert session.scalar(select(func.count(CartLine.id))) == 0


# ---- performance ----------------------------------------------------------------------------

def test_performance_this_month_and_last_month(app, world, make, salesman, db_):
    with app.app_context():
        last, this, _next = sales.month_bounds()
        in_this = sales._utc(this) + timedelta(minutes=1)
        in_last = sales._utc(last) + timedelta(days=2)
        before_last = sales._utc(last) - timedelta(days=2)
        # Members brought through my QR code: two this month, one last month, one earlier.
        for when in (in_this, in_this, in_last, before_last):
            ref = make.member(region=world.region, status="pending")
            member = db.session.get(Member, ref.id)
            member.referred_by_id, member.created_at = world.salesman.id, when
            db.session.commit()  # the factory writes from its own app context
        other = make.member(region=world.region)  # brought by somebody else
        db.session.get(Member, other.id).referred_by_id = world.other_salesman.id
        # My customer's orders: this month 2 (one closed does not count), last month 1.
        db.session.get(Member, world.customer.id).own_salesman_id = world.salesman.id
        db.session.commit()
        totals = {}
        for key, state, when in (("a", "pending", in_this), ("b", "delivered", in_this),
                                 ("c", "closed", in_this), ("d", "received", in_last),
                                 ("e", "pending", before_last)):
            order = world.order(state)
            order.created_at = when
            totals[key] = order.total
        # Placed on behalf of a customer who is not mine: counts for me this month.
        customer = world.user(world.other_customer)
        cart.add_to_cart(customer, {world.spec_id: world.moq})
        behalf = checkout.submit(customer, world.user(world.salesman), {
            "idempotency_key": uuid.uuid4().hex, "delivery": "pickup", "payment": "bank"})
        behalf.created_at = in_this
        totals["f"] = behalf.total
        # The other customer's own order is not mine.
        _submit_for(world, world.other_customer).created_at = in_this
        db.session.commit()
        figures = sales.performance(world.user(world.salesman))
        assert (figures.this_month.members, figures.this_month.orders) == (2, 3)
        assert figures.this_month.sales == totals["a"] + totals["b"] + totals["f"]
        assert (figures.last_month.members, figures.last_month.orders) == (1, 1)
        assert figures.last_month.sales == totals["d"]
        this_sales, last_sales = figures.this_month.sales, figures.last_month.sales
    html = salesman.get("/sales/performance").get_data(as_text=True)
    this_card = html.split('data-month="this"')[1].split("</section>")[0]
    last_card = html.split('data-month="last"')[1].split("</section>")[0]
    assert re.search(r'data-kpi="members">2<', this_card)
    assert re.search(r'data-kpi="orders">3<', this_card)
    assert f'data-kpi="sales">¥{this_sales:.2f}<' in this_card
    assert re.search(r'data-kpi="members">1<', last_card)
    assert f'data-kpi="sales">¥{last_sales:.2f}<' in last_card


def test_month_bounds_use_shanghai_time():
    from datetime import UTC, datetime

    # 2026-01-31 17:00 UTC is already 1 February in Shanghai.
    last, this, nxt = sales.month_bounds(datetime(2026, 1, 31, 17, 0, tzinfo=UTC))
    assert (last.month, this.month, nxt.month) == (1, 2, 3)
    assert sales._utc(this) == datetime(2026, 1, 31, 16, 0)
    last, this, nxt = sales.month_bounds(datetime(2026, 1, 10, tzinfo=UTC))
    assert (last.year, last.month, nxt.month) == (2025, 12, 2)
