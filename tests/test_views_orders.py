"""The customer's cart, checkout and order centre through HTTP.

No app context stays pushed while requests run (a pushed one would be shared by the
test client's requests, and with it `g` and the signed-in user); database checks open
their own with `db_()`.
"""

import contextlib
import io
import re

import pytest
from sqlalchemy import func, select

from app.catalog.models import Spec
from app.extensions import db
from app.ordering.models import CartLine, Order
from tests.conftest import csrf_token, login
from tests.images import image_bytes
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


def _order(app, world, state):
    with app.app_context():
        order = world.order(state)
        return order.id, order.order_no, [(ln.id, ln.quantity) for ln in order.lines]


@pytest.fixture
def shopper(app, world):
    client = app.test_client()
    login(client, world.customer.mobile)
    return client


def _add(client, world, qty):
    token = csrf_token(client, "/cart")
    return client.post("/cart/add", data={"csrf_token": token, "product_id": "1",
                                          f"qty_{world.spec_id}": str(qty)})


def _checkout_form(client, **extra):
    html = client.get("/checkout").get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|idempotency_key|expected_total)"[^>]*'
                             r'value="([^"]*)"', html))
    data = {**fields, "delivery": "delivery", "payment": "cod", "address_id": "new",
            "province": "海南省", "city": "海口市", "district": "美兰区", "street": "海甸岛 1 号",
            "contact": "黄经理", "phone": "13912345678"}
    data.update(extra)
    return data


def test_cart_checkout_and_the_order_page(app, world, shopper):
    _add(shopper, world, world.moq * 2)
    cart = shopper.get("/cart").get_data(as_text=True)
    assert "矿泉水" in cart and "data-checkout" in cart
    page = shopper.get("/checkout").get_data(as_text=True)
    assert "货到付款" in page or "Cash on delivery" in page
    form = _checkout_form(shopper)
    resp = shopper.post("/checkout", data=form)
    assert resp.status_code == 302 and "/orders/" in resp.headers["Location"]
    again = shopper.post("/checkout", data=form)  # the same form twice: one order
    assert again.headers["Location"] == resp.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 1
    order_page = shopper.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'data-state="pending"' in order_page and "data-action=\"cancel\"" in order_page
    listing = shopper.get("/orders?tab=to_confirm").get_data(as_text=True)
    assert "data-order=" in listing
    assert "data-order=" not in shopper.get("/orders?tab=done").get_data(as_text=True)


def test_cancel_from_the_order_page_returns_stock(app, world, shopper, db_):
    with db_() as session:
        stock = session.get(Spec, world.spec_id).stock
    _add(shopper, world, world.moq)
    location = shopper.post("/checkout", data=_checkout_form(shopper)).headers["Location"]
    order_no = location.rsplit("/", 1)[1]
    token = csrf_token(shopper, location)
    shopper.post(f"/orders/{order_no}/cancel", data={"csrf_token": token})
    with db_() as session:
        assert session.scalar(select(Order.state)) == "closed"
        assert session.get(Spec, world.spec_id).stock == stock


def test_driver_details_show_once_assigned_and_receipt_after_shipping(app, world, shopper,
                                                                     db_):
    _, order_no, _ = _order(app, world, "assigned")
    html = shopper.get(f"/orders/{order_no}").get_data(as_text=True)
    assert "data-driver" in html and "tel:" in html and "琼A·12345" in html
    shipped_id, shipped_no, _ = _order(app, world, "shipped")
    html = shopper.get(f"/orders/{shipped_no}").get_data(as_text=True)
    assert "data-shipping" in html and "SF1" in html
    token = csrf_token(shopper, f"/orders/{shipped_no}")
    shopper.post(f"/orders/{shipped_no}/confirm_receipt", data={"csrf_token": token})
    with db_() as session:
        assert session.get(Order, shipped_id).state == "received"


def test_refund_request_with_a_photo(app, world, shopper, db_):
    order_id, order_no, lines = _order(app, world, "delivered")
    url = f"/orders/{order_no}/refund"
    token = csrf_token(shopper, url)
    resp = shopper.post(url, data={"csrf_token": token, f"qty_{lines[0][0]}": str(world.moq),
                                   "reason": "破损", "photos": (io.BytesIO(image_bytes()),
                                                                "p.jpg")},
                        content_type="multipart/form-data")
    assert resp.status_code == 302
    with db_() as session:
        order = session.get(Order, order_id)
        assert order.refund_status == "requested"
        key = order.refunds[0].photos[0]
    assert shopper.get("/media/" + key).status_code == 200
    other = app.test_client()
    login(other, world.other_customer.mobile)
    assert other.get("/media/" + key).status_code == 404
    salesman = app.test_client()
    login(salesman, world.salesman.mobile)
    assert salesman.get("/media/" + key).status_code == 200


def test_another_member_gets_404_on_my_order(app, world, db_):
    order_id, order_no, _ = _order(app, world, "pending")
    other = app.test_client()
    login(other, world.other_customer.mobile)
    assert other.get(f"/orders/{order_no}").status_code == 404
    token = csrf_token(other, "/orders")
    assert other.post(f"/orders/{order_no}/cancel",
                      data={"csrf_token": token}).status_code == 404
    with db_() as session:
        assert session.get(Order, order_id).state == "pending"
    staff = app.test_client()
    login(staff, world.salesman.mobile)
    assert staff.get(f"/orders/{order_no}").status_code == 404  # staff use their end


def test_bad_checkout_input_changes_nothing(app, world, shopper, db_):
    _add(shopper, world, world.moq)
    for bad in ({"payment": "bitcoin"}, {"delivery": "pickup", "payment": "cod"},
                {"idempotency_key": "x"}, {"street": "", "address_id": "new"},
                {"phone": "123"}, {"expected_total": "0.01"}):
        resp = shopper.post("/checkout", data=_checkout_form(shopper, **bad))
        assert resp.status_code in (400, 403), bad
        assert "form-error" in resp.get_data(as_text=True), bad
    with db_() as session:
        assert session.scalar(select(func.count(Order.id))) == 0
        assert session.scalar(select(func.count(CartLine.id))) == 1


def test_reorder_and_frequent_list(app, world, shopper, db_):
    _, order_no, _ = _order(app, world, "received")
    token = csrf_token(shopper, f"/orders/{order_no}")
    resp = shopper.post(f"/orders/{order_no}/reorder", data={"csrf_token": token})
    assert resp.headers["Location"] == "/cart"
    with db_() as session:
        assert session.scalar(select(CartLine.quantity)) == world.moq * 2
    page = shopper.get("/frequent").get_data(as_text=True)
    assert "矿泉水" in page


def test_cart_quantity_rules_on_the_cart_page(app, world, shopper, db_):
    _add(shopper, world, world.moq)
    with db_() as session:
        line_id = session.scalar(select(CartLine.id))
    for bad in ("7", "-20", "abc", str(10**12)):
        token = csrf_token(shopper, "/cart")
        shopper.post("/cart/update", data={"csrf_token": token, "line_id": line_id,
                                           "quantity": bad})
        with db_() as session:
            assert session.scalar(select(CartLine.quantity)) == world.moq, bad
    token = csrf_token(shopper, "/cart")
    shopper.post("/cart/update", data={"csrf_token": token, "line_id": line_id,
                                       "remove": "1"})
    with db_() as session:
        assert session.scalar(select(func.count(CartLine.id))) == 0
