"""Back office for orders and their settings: order list and "mark paid", payment and
delivery settings, freight templates, delivery fees by region."""

from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import (
    DeliveryMethodSetting,
    FreightTemplate,
    Order,
    Payment,
    PaymentMethodSetting,
    RegionDeliveryFee,
)
from tests.conftest import csrf_token, login
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
