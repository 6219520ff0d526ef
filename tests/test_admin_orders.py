"""Back office for orders and their settings: the order list (filters, search, new-order
badge), the order page and its actions, "mark paid", payment and delivery settings, freight
templates, delivery fees by region."""

import io
import re
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select
from werkzeug.datastructures import FileStorage

from app.catalog.models import Spec
from app.extensions import db
from app.members.models import Member
from app.ordering import cart, checkout, scope, workflow
from app.ordering.models import (
    DeliveryMethodSetting,
    DeliveryPhoto,
    FreightTemplate,
    Order,
    Payment,
    PaymentMethodSetting,
    RegionDeliveryFee,
)
from app.platform import uploads
from tests.conftest import csrf_token, login
from tests.images import image_bytes
from tests.order_factory import World


def _client(app, ref):
    client = app.test_client()
    login(client, ref.mobile)
    return client


def test_customer_service_lists_orders_and_marks_one_paid(app, make):
    with app.app_context():
        world = World(app, make)
        order = world.order("confirmed", payment="prepay")
        order_id = order.id
    cs = _client(app, world.cs)
    assert order.order_no.encode() in cs.get("/admin/orders/list/").data
    url = f"/admin/orders/show/{order_id}"
    assert cs.get(url).status_code == 200
    resp = cs.post(f"/admin/orders/mark-paid/{order_id}", data={
        "csrf_token": csrf_token(cs, url), "note": "工行转账已到账"})
    assert resp.status_code == 302
    with app.app_context():
        row = db.session.get(Order, order_id)
        assert row.payment_status == "paid" and row.events[-1].action == "mark_paid"
        assert db.session.scalar(select(Payment.amount)) == row.total
    again = cs.post(f"/admin/orders/mark-paid/{order_id}", data={
        "csrf_token": csrf_token(cs, url), "note": "重复"})
    assert again.status_code == 302
    with app.app_context():
        assert db.session.query(Payment).count() == 1  # already paid: refused, nothing added
    salesman = _client(app, world.salesman)
    assert salesman.get("/admin/orders/list/").status_code == 403


def test_payment_and_delivery_settings(app, make):
    admin = _client(app, make.user("Admin"))
    url = "/admin/order-settings/"
    page = admin.get(url).get_data(as_text=True)
    assert "货到付款" in page or "Cash on delivery" in page
    data = {"csrf_token": csrf_token(admin, url), "pay_cod_enabled": "1",
            "pay_bank_enabled": "1", "pay_prepay_enabled": "1", "pay_prepay_first": "1",
            "del_delivery_enabled": "1", "del_delivery_allowed": ["cod", "bank"],
            "del_pickup_enabled": "1", "del_pickup_allowed": ["bank", "prepay"]}
    assert admin.post(url, data=data).status_code == 302
    with app.app_context():
        assert db.session.get(PaymentMethodSetting, "cod").enabled
        assert not db.session.get(PaymentMethodSetting, "online").enabled
        assert db.session.get(PaymentMethodSetting, "prepay").pay_before_shipping
        assert db.session.get(DeliveryMethodSetting, "pickup").allowed_payments == [
            "bank", "prepay"]
        assert not db.session.get(DeliveryMethodSetting, "express").enabled
    bad = dict(data, del_pickup_allowed=[])  # an enabled option with no payment
    assert admin.post(url, data=bad).status_code == 400
    with app.app_context():
        assert db.session.get(DeliveryMethodSetting, "pickup").allowed_payments == [
            "bank", "prepay"]
    cs = _client(app, make.user("CustomerService"))
    assert cs.get(url).status_code == 403


def test_freight_templates_and_region_fees(app, make):
    admin = _client(app, make.user("Admin"))
    form = {"name": "海南", "provinces_text": "海南省，广东省", "first_kg": "1",
            "first_fee": "8", "extra_kg_fee": "2", "free_above": "200"}
    url = "/admin/freight-templates/add"
    assert admin.post(url, data=dict(form, csrf_token=csrf_token(admin, url))).status_code \
        == 302
    clash = dict(form, name="华南", provinces_text="广东省")
    resp = admin.post(url, data=dict(clash, csrf_token=csrf_token(admin, url)))
    assert resp.status_code == 400 and "广东省" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(FreightTemplate.provinces)) == ["海南省", "广东省"]
    region = make.region()
    url = "/admin/region-fees/add"
    resp = admin.post(url, data={"csrf_token": csrf_token(admin, url),
                                 "region": str(region.id), "fee": "-5"})
    assert resp.status_code == 400
    resp = admin.post(url, data={"csrf_token": csrf_token(admin, url),
                                 "region": str(region.id), "fee": "15", "free_above": "300"})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(RegionDeliveryFee, region.id).fee == Decimal("15")


# ---- order management: list filters, badge, detail, actions, permissions ----------------

ROW = re.compile(r'<tr data-order="([^"]+)"')


def _rows(client, query=""):
    resp = client.get(f"/admin/orders/list/{query}")
    assert resp.status_code == 200, resp.status_code
    return set(ROW.findall(resp.get_data(as_text=True)))


def _order_of(world, member_ref, payment="cod", delivery="delivery"):
    """A pending order of another customer of the world (inside an app context)."""
    customer = world.user(member_ref)
    cart.add_to_cart(customer, {world.spec_id: world.moq})
    return checkout.submit(customer, customer, {
        "idempotency_key": uuid.uuid4().hex, "delivery": delivery, "payment": payment,
        "province": "海南省", "city": "海口市", "district": "龙华区", "street": "滨海大道 8 号",
        "contact": "林老板", "phone": "13698765432"})


def _flashes(client):
    with client.session_transaction() as session:
        return [text for _cat, text in session.get("_flashes", [])]


@pytest.fixture
def world(app, make):
    with app.app_context():
        return World(app, make)


@pytest.fixture
def cs(app, world):
    return _client(app, world.cs)


def test_filters_and_search_narrow_the_list(app, world, cs):
    with app.app_context():
        db.session.get(Member, world.customer.id).own_salesman_id = world.salesman.id
        db.session.get(Member, world.other_customer.id).shop_name = "椰林宾馆"
        db.session.commit()
        pending = world.order("pending").order_no
        confirmed = world.order("confirmed", payment="bank").order_no
        assigned = world.order("assigned").order_no
        paid = world.order("confirmed", payment="prepay")
        workflow.apply(paid, "mark_paid", world.user(world.cs), note="已到账")
        paid = paid.order_no
        other = _order_of(world, world.other_customer).order_no
    everything = {pending, confirmed, assigned, paid, other}
    assert _rows(cs) == everything
    assert _rows(cs, "?state=pending") == {pending, other}
    assert _rows(cs, "?_flt_0_state=confirmed") == {confirmed, paid}  # FAB-style links
    assert _rows(cs, f"?driver={world.driver.id}") == {assigned}
    assert _rows(cs, f"?salesman={world.salesman.id}") == everything - {other}
    assert _rows(cs, "?payment=bank") == {confirmed}
    assert _rows(cs, "?paid=paid") == {paid}
    assert _rows(cs, "?paid=unpaid&state=confirmed") == {confirmed}
    assert _rows(cs, f"?region={world.region.id}") == everything
    assert _rows(cs, f"?region={world.other_region.id}") == set()
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert _rows(cs, f"?from={today}&until={today}") == everything
    assert _rows(cs, f"?from={today + timedelta(days=1)}") == set()
    assert _rows(cs, f"?until={today - timedelta(days=1)}") == set()
    assert _rows(cs, f"?q={assigned[-6:]}") == {assigned}  # part of the order number
    assert _rows(cs, "?q=椰林") == {other}  # shop name
    assert _rows(cs, "?q=13698765432") == {other}  # phone
    assert _rows(cs, "?q=100%25") == set()  # LIKE wildcards are plain text
    assert _rows(cs, "?region=abc&state=nonsense&from=2026-13-45") == everything
    page = cs.get("/admin/orders/list/?state=pending").get_data(as_text=True)
    assert 'data-state="pending"' in page and "椰林宾馆" in page


def test_badge_counts_new_orders_in_the_menu(app, world, cs):
    with app.app_context():
        world.order("pending")
        world.order("pending")
        world.order("confirmed")
    statements = []

    def count_orders(conn, cursor, statement, *args):
        if "count(" in statement.lower() and '"order"' in statement and "ab_" not in statement:
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count_orders)
    try:
        page = cs.get("/admin/regions/list/").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", count_orders)
    badges = re.findall(r'class="badge pifa-new-orders"[^>]*>(\d+)<', page)
    assert badges and set(badges) == {"2"}  # the 订单 menu and its 订单列表 entry
    assert len(statements) == 1  # one COUNT for the whole page
    with app.app_context():
        order = db.session.scalars(select(Order).where(Order.state == "pending")).first()
        workflow.apply(order, "confirm", world.user(world.cs))
    page = cs.get("/admin/").get_data(as_text=True)
    assert re.findall(r'class="badge pifa-new-orders"[^>]*>(\d+)<', page)[0] == "1"


def test_order_page_shows_lines_history_photos_and_payments(app, world, cs):
    with app.app_context():
        order = world.order("delivered")
        stored = uploads.save_image(
            FileStorage(io.BytesIO(image_bytes()), filename="note.jpg"), private=True,
            folder=scope.order_folder(order.id, "delivery"))
        db.session.add(DeliveryPhoto(order_id=order.id, key=stored.key,
                                     uploaded_by_id=world.driver.user_id))
        db.session.commit()
        order_id, order_no, driver_name = order.id, order.order_no, order.driver.name
        actions = [e.action for e in order.events]
    page = cs.get(f"/admin/orders/show/{order_id}").get_data(as_text=True)
    assert order_no in page and "矿泉水" in page
    assert "2 盒 = 40 把" in page  # packing of the line
    for action in actions:  # every history entry, with who did it
        assert f'data-action="{action}"' in page
    assert driver_name in page and "黄经理" in page and "海甸二东路 25 号" in page
    assert f'href="/media/{stored.key}"' in page and f'src="/media/{stored.thumb_key}"' in page
    assert cs.get(f"/media/{stored.key}").status_code == 200
    assert cs.get(f"/media/{stored.thumb_key}").status_code == 200
    assert f'/admin/orders/note/{order_id}.pdf' in page
    assert cs.get("/admin/orders/show/999999").status_code == 404


def test_history_time_is_shown_in_shanghai(app, world, cs):
    with app.app_context():
        order = world.order("pending")
        order.events[0].created_at = datetime(2026, 1, 5, 17, 30, 0)  # UTC
        db.session.commit()
        order_id = order.id
    page = cs.get(f"/admin/orders/show/{order_id}").get_data(as_text=True)
    assert "2026-01-06 01:30:00" in page


def test_override_needs_a_remark_and_closing_returns_stock(app, world, cs):
    with app.app_context():
        before = db.session.get(Spec, world.spec_id).stock
        order = world.order("assigned")
        order_id = order.id
        held = db.session.get(Spec, world.spec_id).stock
    assert held < before
    url = f"/admin/orders/show/{order_id}"
    page = cs.get(url).get_data(as_text=True)
    assert "/admin/orders/override/" in page and 'name="remark"' in page
    resp = cs.post(f"/admin/orders/override/{order_id}", data={
        "csrf_token": csrf_token(cs, url), "target": "closed", "remark": "  "})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(url)
    assert _flashes(cs)  # the reason it was refused
    with app.app_context():
        assert db.session.get(Order, order_id).state == "assigned"
        assert db.session.get(Spec, world.spec_id).stock == held
    resp = cs.post(f"/admin/orders/override/{order_id}", data={
        "csrf_token": csrf_token(cs, url), "target": "pending", "remark": "试试"})
    with app.app_context():
        assert db.session.get(Order, order_id).state == "assigned"  # not a target
    resp = cs.post(f"/admin/orders/override/{order_id}", data={
        "csrf_token": csrf_token(cs, url), "target": "closed", "remark": "客户电话要求取消"})
    assert resp.status_code == 302
    with app.app_context():
        row = db.session.get(Order, order_id)
        assert row.state == "closed" and row.closed_at is not None
        assert row.events[-1].action == "override"
        assert row.events[-1].remark == "客户电话要求取消"
        assert db.session.get(Spec, world.spec_id).stock == before
    page = cs.get(url).get_data(as_text=True)
    assert "客户电话要求取消" in page


def test_assign_and_change_driver_through_the_back_office(app, world, cs):
    with app.app_context():
        order = world.order("confirmed")
        order_id = order.id
    url = f"/admin/orders/show/{order_id}"
    page = cs.get(url).get_data(as_text=True)
    assert f'<option value="{world.driver.id}"' in page
    assert f'<option value="{world.other_driver.id}"' not in page  # another region's
    resp = cs.post(f"/admin/orders/driver/{order_id}", data={
        "csrf_token": csrf_token(cs, url), "driver_id": str(world.other_driver.id)})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Order, order_id).state == "confirmed"
    cs.post(f"/admin/orders/driver/{order_id}", data={
        "csrf_token": csrf_token(cs, url), "driver_id": str(world.driver.id)})
    with app.app_context():
        row = db.session.get(Order, order_id)
        assert row.state == "assigned" and row.driver_id == world.driver.id
        assert row.events[-1].action == "assign_driver"
    cs.post(f"/admin/orders/driver/{order_id}", data={
        "csrf_token": csrf_token(cs, url), "driver_id": str(world.driver2.id)})
    with app.app_context():
        row = db.session.get(Order, order_id)
        assert row.state == "assigned" and row.driver_id == world.driver2.id
        assert row.events[-1].action == "change_driver"


def test_confirm_ship_pickup_close_and_refund_from_the_order_page(app, world, cs):
    with app.app_context():
        pending = world.order("pending").id
        confirmed = world.order("confirmed").id
        pickup = world.order("ready_for_pickup").id
        to_close = world.order("confirmed").id
        delivered = world.order("delivered")
        customer = world.user(world.customer)
        line = delivered.lines[0]
        workflow.apply(delivered, "request_refund", customer, reason="包装破损",
                       lines=[{"line_id": line.id, "quantity": world.moq}])
        delivered = delivered.id

    def post(path, pk, **data):
        url = f"/admin/orders/show/{pk}"
        resp = cs.post(f"/admin/orders/{path}/{pk}", data={"csrf_token": csrf_token(cs, url),
                                                           **data})
        assert resp.status_code == 302 and resp.headers["Location"].endswith(url)

    def state(pk):
        with app.app_context():
            return db.session.get(Order, pk).state

    post("confirm", pending)
    assert state(pending) == "confirmed"
    post("confirm", pending)  # twice: refused with a message, nothing changes
    assert state(pending) == "confirmed" and _flashes(cs)
    post("ship", confirmed, ship_method="express", note="")
    assert state(confirmed) == "confirmed"
    post("ship", confirmed, ship_method="express", note="顺丰 SF123")
    assert state(confirmed) == "shipped"
    post("collected", pickup)
    assert state(pickup) == "received"
    post("close", to_close, reason="")
    assert state(to_close) == "confirmed"
    post("close", to_close, reason="客户不要了")
    assert state(to_close) == "closed"
    page = cs.get(f"/admin/orders/show/{delivered}").get_data(as_text=True)
    assert "包装破损" in page and "/admin/orders/refund/" in page
    post("refund", delivered, decision="reject", reason="")
    with app.app_context():
        assert db.session.get(Order, delivered).refund_status == "requested"
    with app.app_context():
        stock = db.session.get(Spec, world.spec_id).stock
    post("refund", delivered, decision="approve", amount="10.00", restock="1")
    with app.app_context():
        row = db.session.get(Order, delivered)
        assert row.refund_status == "approved" and row.refunds[0].amount == Decimal("10.00")
        assert db.session.get(Spec, world.spec_id).stock == stock + world.moq


def test_the_order_page_offers_only_allowed_actions(app, world, cs):
    with app.app_context():
        pending = world.order("pending").id
        closed = world.order("closed").id
    page = cs.get(f"/admin/orders/show/{pending}").get_data(as_text=True)
    assert "/admin/orders/confirm/" in page and "/admin/orders/close/" in page
    assert "/admin/orders/ship/" not in page and "/admin/orders/driver/" not in page
    page = cs.get(f"/admin/orders/show/{closed}").get_data(as_text=True)
    assert "/admin/orders/confirm/" not in page and "/admin/orders/close/" not in page
    assert "/admin/orders/override/" in page  # customer service may still override


NEW_ROUTES = ["confirm", "driver", "ship", "ready-for-pickup", "collected", "close",
              "override", "refund", "mark-paid", "pay-back"]


@pytest.mark.parametrize("who", ["salesman", "driver", "customer"])
def test_salesmen_drivers_and_customers_get_403_on_every_order_route(app, world, who):
    with app.app_context():
        order = world.order("assigned")
        order_id, state = order.id, order.state
    ref = {"salesman": world.salesman, "driver": world.driver,
           "customer": world.customer}[who]
    client = _client(app, ref)
    token = csrf_token(client, "/auth/login") if client.get("/auth/login").status_code == 200 \
        else csrf_token(client, "/")
    for url in ("/admin/orders/list/", f"/admin/orders/show/{order_id}",
                f"/admin/orders/note/{order_id}.pdf"):
        assert client.get(url).status_code == 403, url
    for path in NEW_ROUTES:
        resp = client.post(f"/admin/orders/{path}/{order_id}", data={
            "csrf_token": token, "target": "closed", "remark": "x", "reason": "x",
            "driver_id": str(world.driver2.id), "note": "x", "ship_method": "express"})
        assert resp.status_code == 403, path
    resp = client.post("/admin/orders/action_post", data={
        "csrf_token": token, "action": "print_notes", "rowid": [str(order_id)]})
    assert resp.status_code in (302, 403) and resp.mimetype != "application/pdf"
    with app.app_context():
        row = db.session.get(Order, order_id)
        assert row.state == state and row.driver_id == world.driver.id


def test_customer_service_may_use_every_order_route(app, world, cs):
    with app.app_context():
        order_id = world.order("pending").id
    for url in ("/admin/orders/list/", f"/admin/orders/show/{order_id}",
                f"/admin/orders/note/{order_id}.pdf"):
        assert cs.get(url).status_code == 200, url
    assert cs.get("/admin/orders/show/abc").status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(f"/admin/orders/show/{order_id}").status_code == 302


def test_the_list_pages_by_key_newest_first_and_back(app, world, cs):
    """Keyset pages (no count of every order): 25 a page, older and newer links that walk
    the same rows, and the state tabs counted up to 99+."""
    with app.app_context():
        numbers = [world.order("pending").order_no for _ in range(27)]
    newest_first = numbers[::-1]
    first = cs.get("/admin/orders/list/").get_data(as_text=True)
    assert ROW.findall(first) == newest_first[:25]
    older = re.search(r'href="([^"]+)" data-page="older"', first)[1].replace("&amp;", "&")
    second = cs.get(older).get_data(as_text=True)
    assert ROW.findall(second) == newest_first[25:]
    assert 'data-page="older"' not in second
    newer = re.search(r'href="([^"]+)" data-page="newer"', second)[1].replace("&amp;", "&")
    assert ROW.findall(cs.get(newer).get_data(as_text=True)) == newest_first[:25]
    assert re.search(r'data-state="pending">[^<]*\s*<span class="badge"[^>]*>27<', first)
    assert _rows(cs, "?psize=50") == set(numbers)
    assert _rows(cs, "?before=99999999999999999999&after=-1") == set(newest_first[:25])
