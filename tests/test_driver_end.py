"""The driver end 司机端 through HTTP: lists, loading list, the order page and its forms.

As in test_views_orders.py, no app context stays pushed while the test client makes
requests; database work opens its own with `db_()`.
"""

import contextlib
import io
import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.catalog.models import Spec
from app.extensions import db
from app.ordering import delivery, queries, workflow
from app.ordering.models import DeliveryPhoto, Order, OrderEvent, Payment, RegionDeliveryFee
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


def _order(app, world, state, **kw):
    with app.app_context():
        order = world.order(state, **kw)
        return order.order_no


def _signed_in(app, ref):
    client = app.test_client()
    assert login(client, ref.mobile).status_code == 302
    return client


@pytest.fixture
def driver(app, world):
    return _signed_in(app, world.driver)


def _photos(*items):
    return [(io.BytesIO(data), name) for data, name in items]


def _post(client, url, page, data=None, **kw):
    form = {"csrf_token": csrf_token(client, page), **(data or {})}
    return client.post(url, data=form, content_type="multipart/form-data", **kw)


def _state(db_, order_no):
    with db_() as session:
        return session.scalar(select(Order.state).where(Order.order_no == order_no))


def _photo_count(db_, order_no):
    with db_() as session:
        return session.scalar(select(func.count(DeliveryPhoto.id)).join(Order)
                              .where(Order.order_no == order_no))


def _stored_files(app):
    root = os.path.join(app.config["MEDIA_ROOT"], "private", "order")
    return [f for _dir, _sub, files in os.walk(root) for f in files]


def _tab(client, tab):
    resp = client.get(f"/driver/?tab={tab}")
    assert resp.status_code == 200
    return set(re.findall(r'data-order="([^"]+)"', resp.get_data(as_text=True)))


# ---- lists -------------------------------------------------------------------------------

def test_lists_show_each_driver_the_right_orders(app, world, db_):
    waiting = _order(app, world, "confirmed")
    to_load = _order(app, world, "assigned")
    out = _order(app, world, "delivering")
    done = _order(app, world, "delivered")
    old = _order(app, world, "delivered")
    _order(app, world, "pending")
    _order(app, world, "shipped")
    with db_() as session:  # delivered yesterday, Shanghai time: not "today"
        row = session.scalar(select(Order).where(Order.order_no == old))
        row.delivered_at = queries.start_of_today_utc() - timedelta(minutes=1)
        session.commit()

    driver = _signed_in(app, world.driver)
    assert _tab(driver, "to_load") == {to_load}
    assert _tab(driver, "delivering") == {out}
    assert _tab(driver, "today") == {done}
    assert _tab(driver, "waiting") == {waiting}
    home = driver.get("/driver/").get_data(as_text=True)
    assert "司机端" in home and "琼A·12345" in home
    assert 'data-tab="to_load"' in home and 'href="tel:13912345678"' in home
    assert "海甸二东路 25 号" in home and 'data-lines="1"' in home

    driver2 = _signed_in(app, world.driver2)  # same region, nothing assigned
    assert _tab(driver2, "to_load") == set() and _tab(driver2, "delivering") == set()
    assert _tab(driver2, "today") == set()
    assert _tab(driver2, "waiting") == {waiting}

    other = _signed_in(app, world.other_driver)  # another region
    for tab in queries.DRIVER_TAB_KEYS:
        assert _tab(other, tab) == set()


def test_start_of_the_shanghai_day():
    # 01:00 on 2 March in Shanghai is 17:00 on 1 March in UTC; the day began at 16:00 UTC.
    now = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)
    assert queries.start_of_today_utc(now) == datetime(2026, 3, 1, 16, 0)
    now = datetime(2026, 3, 1, 15, 59, tzinfo=UTC)
    assert queries.start_of_today_utc(now) == datetime(2026, 2, 28, 16, 0)


# ---- money on the driver end: the cash to collect, nothing else ---------------------------

AMOUNT = re.compile(r"¥\s?\d[\d,]*\.\d{2}")


def _amounts(html) -> set[str]:
    return set(AMOUNT.findall(html))


def _money_of(db_, order_no):
    """(unit price, line amount, freight, total) of an order, as the pages would write them."""
    with db_() as session:
        order = session.scalar(select(Order).where(Order.order_no == order_no))
        line = order.lines[0]
        return tuple(f"¥{v:.2f}" for v in (line.unit_price, line.amount, order.freight,
                                           order.total))


@pytest.fixture
def freight(app, world):
    """A delivery fee, so that freight, goods and total are three different amounts."""
    with app.app_context():
        db.session.add(RegionDeliveryFee(region_id=world.region.id, fee=7, free_above=None))
        db.session.commit()


def _driver_pages(driver, order_no, tab):
    """The three driver pages that show an order: its tab, the loading list, its page."""
    pages = {"list": driver.get(f"/driver/?tab={tab}"),
             "order": driver.get(f"/driver/orders/{order_no}")}
    if tab == "to_load":
        pages["loading"] = driver.get("/driver/loading")
    for name, resp in pages.items():
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200, name
        assert order_no in html, name
        pages[name] = html
    return pages


@pytest.mark.parametrize("state,tab", [("assigned", "to_load"), ("delivering", "delivering")])
def test_a_cash_order_shows_only_the_amount_to_collect(app, world, driver, db_, freight,
                                                       state, tab):
    order_no = _order(app, world, state, payment="cod", quantity=world.moq * 3)
    other = _order(app, world, state, payment="bank", quantity=world.moq * 5)
    unit, amount, fee, total = _money_of(db_, order_no)
    assert len({unit, amount, fee, total}) == 4 and fee == "¥7.00"
    others = set(_money_of(db_, other))
    pages = _driver_pages(driver, order_no, tab)
    for name, html in pages.items():
        assert _amounts(html) == {total}, name  # no unit price, line amount, freight
        assert "data-collect" in html and "data-total" not in html, name
        assert not others & _amounts(html), name
    assert ('name="cash_collected"' in pages["order"]) == (state == "delivering")


@pytest.mark.parametrize("state,tab", [("assigned", "to_load"), ("delivering", "delivering")])
def test_an_order_paid_otherwise_shows_no_money(app, world, driver, db_, freight, state, tab):
    order_no = _order(app, world, state, payment="bank", quantity=world.moq * 3)
    for name, html in _driver_pages(driver, order_no, tab).items():
        assert _amounts(html) == set(), name
        assert "data-collect" not in html and 'name="cash_collected"' not in html, name


@pytest.mark.parametrize("state,tab", [("assigned", "to_load"), ("delivering", "delivering")])
def test_a_cash_order_already_paid_shows_nothing_to_collect(app, world, driver, db_, freight,
                                                            state, tab):
    order_no = _order(app, world, state, payment="cod", quantity=world.moq * 3)
    with db_() as session:
        order = session.scalar(select(Order).where(Order.order_no == order_no))
        workflow.apply(order, "mark_paid", world.user(world.salesman), note="现金已交公司")
        assert order.payment_status == "paid"
    for name, html in _driver_pages(driver, order_no, tab).items():
        assert "data-collect" not in html and 'name="cash_collected"' not in html, name
        assert _amounts(html) == set(), name


def test_no_money_on_orders_the_driver_does_not_collect(app, world, db_, freight):
    waiting = _order(app, world, "confirmed", payment="cod")
    done = _order(app, world, "delivered", payment="cod")
    driver = _signed_in(app, world.driver)
    for url in ("/driver/?tab=waiting", f"/driver/orders/{waiting}", "/driver/?tab=today",
                f"/driver/orders/{done}"):
        resp = driver.get(url)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200, url
        assert _amounts(html) == set() and "data-collect" not in html, url


# ---- loading list -------------------------------------------------------------------------

def test_pack_text_splits_into_cartons_boxes_and_units():
    assert delivery.pack_text(860, "把", "盒", 20, "箱", 400) == "2 箱 3 盒 = 860 把"
    assert delivery.pack_text(800, "把", "盒", 20, "箱", 400) == "2 箱 = 800 把"
    assert delivery.pack_text(60, "把", "盒", 20, "箱", 400) == "3 盒 = 60 把"
    assert delivery.pack_text(65, "把", "盒", 20, "箱", 400) == "3 盒 5 把 = 65 把"
    assert delivery.pack_text(7, "瓶", "瓶", 1, "箱", 24) == "7 瓶"


def test_loading_list_adds_up_my_assigned_orders(app, world, driver):
    first = _order(app, world, "assigned", quantity=440)
    second = _order(app, world, "assigned", quantity=420)
    _order(app, world, "delivering", quantity=400)  # already on its way: not to load
    _order(app, world, "confirmed", quantity=400)  # not mine
    resp = driver.get("/driver/loading")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    rows = re.findall(r'data-load-row data-quantity="(\d+)"', html)
    assert rows == ["860"]
    assert "2 箱 3 盒 = 860 把" in html
    assert set(re.findall(r'data-order="([^"]+)"', html)) == {first, second}
    assert "@media print" in html  # the print sheet hides the header and tab bar

    other = _signed_in(app, world.driver2)
    html = other.get("/driver/loading").get_data(as_text=True)
    assert "data-load-row" not in html and "data-empty" in html


# ---- who may open an order ------------------------------------------------------------------

def test_other_drivers_get_404_and_change_nothing(app, world, db_):
    order_no = _order(app, world, "delivering")
    for ref in (world.other_driver, world.driver2):
        client = _signed_in(app, ref)
        assert client.get(f"/driver/orders/{order_no}").status_code == 404
        page = "/driver/"
        resp = _post(client, f"/driver/orders/{order_no}/photos", page,
                     {"photos": _photos((image_bytes(), "a.jpg"))})
        assert resp.status_code == 404
        resp = _post(client, f"/driver/orders/{order_no}/complete", page)
        assert resp.status_code == 404
        resp = _post(client, f"/driver/orders/{order_no}/start", page)
        assert resp.status_code == 404
    assert _state(db_, order_no) == "delivering"
    assert _photo_count(db_, order_no) == 1  # the factory's own photo only
    assert _stored_files(app) == []


def test_waiting_orders_are_read_only(app, world, db_):
    order_no = _order(app, world, "confirmed")
    client = _signed_in(app, world.driver2)
    html = client.get(f"/driver/orders/{order_no}").get_data(as_text=True)
    assert "data-readonly" in html
    assert 'data-action="start_delivery"' not in html and "data-photo-form" not in html
    page = f"/driver/orders/{order_no}"
    resp = _post(client, f"{page}/start", page)
    assert resp.status_code == 403 and "您无权对该订单进行此操作" in resp.get_data(as_text=True)
    resp = _post(client, f"{page}/photos", page, {"photos": _photos((image_bytes(), "a.jpg"))})
    assert resp.status_code == 403
    assert _state(db_, order_no) == "confirmed" and _photo_count(db_, order_no) == 0
    assert _stored_files(app) == []


@pytest.mark.parametrize("role", ["salesman", "customer"])
def test_salesmen_and_customers_are_refused_the_driver_end(app, world, role):
    order_no = _order(app, world, "assigned")
    client = _signed_in(app, world.salesman if role == "salesman" else world.customer)
    for url in ("/driver/", "/driver/loading", f"/driver/orders/{order_no}"):
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/me")
    for action in ("start", "photos", "complete"):
        resp = client.post(f"/driver/orders/{order_no}/{action}", data={"csrf_token": token})
        assert resp.status_code == 403


# ---- the delivery -----------------------------------------------------------------------------

def test_start_photos_complete_and_the_customer_sees_received(app, world, driver, db_):
    order_no = _order(app, world, "assigned")
    page = f"/driver/orders/{order_no}"
    html = driver.get(page).get_data(as_text=True)
    assert 'data-action="start_delivery"' in html and 'href="tel:13912345678"' in html
    assert "https://uri.amap.com/search?keyword=" in html and "data-copy=" in html
    assert 'capture="environment"' in html and "multiple" in html

    resp = _post(driver, f"{page}/start", page)
    assert resp.status_code == 302 and _state(db_, order_no) == "delivering"

    resp = _post(driver, f"{page}/photos", page,
                 {"photos": _photos((image_bytes(), "one.jpg"),
                                    (image_bytes("PNG", color=(0, 0, 200)), "two.png"))})
    assert resp.status_code == 302
    assert _photo_count(db_, order_no) == 2
    with db_() as session:
        order = session.scalar(select(Order).where(Order.order_no == order_no))
        keys = [p.key for p in order.photos]
        order_id = order.id
    assert all(k.startswith(f"private/order/{order_id}/delivery/") for k in keys)
    html = driver.get(page).get_data(as_text=True)
    for key in keys:
        assert f"/media/{key.rsplit('.', 1)[0]}_t." in html  # thumbnails

    resp = _post(driver, f"{page}/complete", page)
    assert resp.status_code == 302 and _state(db_, order_no) == "delivered"
    with db_() as session:
        assert session.scalar(select(func.count(OrderEvent.id)).join(Order).where(
            Order.order_no == order_no, OrderEvent.action.in_(
                ["start_delivery", "complete_delivery"]))) == 2
    assert _tab(driver, "today") == {order_no}

    customer = _signed_in(app, world.customer)
    html = customer.get(f"/orders/{order_no}").get_data(as_text=True)
    assert 'data-state="delivered"' in html and "已收货" in html
    stranger = _signed_in(app, world.other_customer)
    for key in keys:
        assert customer.get(f"/media/{key}").status_code == 200
        assert driver.get(f"/media/{key}").status_code == 200
        assert stranger.get(f"/media/{key}").status_code == 404
        assert _signed_in(app, world.other_driver).get(f"/media/{key}").status_code == 404


def test_photos_answer_json_for_the_script(app, world, driver, db_):
    order_no = _order(app, world, "assigned")  # photos may go up before setting off
    page = f"/driver/orders/{order_no}"
    resp = _post(driver, f"{page}/photos", page, {"photos": _photos((image_bytes(), "a.jpg"))},
                 headers={"Accept": "application/json"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["ok"] is True and body["count"] == 1
    assert driver.get(body["photos"][0]["thumb"]).status_code == 200
    resp = _post(driver, f"{page}/photos", page,
                 {"photos": _photos((b"<svg onload=alert(1)>", "x.jpg"))},
                 headers={"Accept": "application/json"})
    assert resp.status_code == 400 and resp.get_json()["ok"] is False
    assert "JPEG" in resp.get_json()["error"]
    assert _photo_count(db_, order_no) == 1


def test_complete_without_a_photo_is_refused(app, world, driver, db_):
    order_no = _order(app, world, "assigned")
    page = f"/driver/orders/{order_no}"
    _post(driver, f"{page}/start", page)
    resp = _post(driver, f"{page}/complete", page)
    assert resp.status_code == 400
    assert "请先上传至少一张签收单照片" in resp.get_data(as_text=True)
    assert _state(db_, order_no) == "delivering"


def test_a_hostile_photo_stores_nothing(app, world, driver, db_):
    order_no = _order(app, world, "assigned")
    page = f"/driver/orders/{order_no}"
    _post(driver, f"{page}/start", page)
    resp = _post(driver, f"{page}/photos", page,
                 {"photos": _photos((image_bytes(), "good.jpg"),
                                    (b"<svg onload=alert(1)>", "x.jpg"))})
    assert resp.status_code == 400
    assert "该文件不是 JPEG、PNG 或 WebP 格式的图片" in resp.get_data(as_text=True)
    assert _photo_count(db_, order_no) == 0
    assert _stored_files(app) == []  # the good photo before it is removed again
    resp = _post(driver, f"{page}/complete", page)
    assert resp.status_code == 400 and _state(db_, order_no) == "delivering"


def test_refused_at_the_door_lowers_the_total_and_returns_stock(app, world, driver, db_):
    order_no = _order(app, world, "delivering", quantity=world.moq * 3)
    with db_() as session:
        order = session.scalar(select(Order).where(Order.order_no == order_no))
        line_id, total = order.lines[0].id, order.total
        unit_price = order.lines[0].unit_price
        stock = session.get(Spec, world.spec_id).stock
    page = f"/driver/orders/{order_no}"
    resp = _post(driver, f"{page}/complete", page,
                 {f"refused_{line_id}": str(world.moq * 3 + 1), f"reason_{line_id}": "破损"})
    assert resp.status_code == 400 and "该商品的拒收数量无效" in resp.get_data(as_text=True)
    assert _state(db_, order_no) == "delivering"

    resp = _post(driver, f"{page}/complete", page,
                 {f"refused_{line_id}": "5", f"reason_{line_id}": "破损"})
    assert resp.status_code == 302
    with db_() as session:
        order = session.scalar(select(Order).where(Order.order_no == order_no))
        assert order.state == "delivered"
        assert order.lines[0].refused_qty == 5 and order.lines[0].refused_reason == "破损"
        assert order.total == total - unit_price * 5
        assert session.get(Spec, world.spec_id).stock == stock + 5
    html = driver.get(page).get_data(as_text=True)
    assert 'data-refused="5"' in html and "破损" in html


def test_cash_collected_is_recorded_for_cash_on_delivery(app, world, driver, db_):
    order_no = _order(app, world, "delivering", payment="cod")
    with db_() as session:
        total = session.scalar(select(Order.total).where(Order.order_no == order_no))
    page = f"/driver/orders/{order_no}"
    html = driver.get(page).get_data(as_text=True)
    assert "data-collect" in html and 'name="cash_collected"' in html
    resp = _post(driver, f"{page}/complete", page, {"cash_collected": f"¥{total}"})
    assert resp.status_code == 302
    with db_() as session:
        order = session.scalar(select(Order).where(Order.order_no == order_no))
        assert order.cash_collected == total and order.payment_status == "paid"
        payment = session.scalar(select(Payment).where(Payment.order_id == order.id))
        assert payment.amount == total and payment.method == "cod"
    html = driver.get(page).get_data(as_text=True)
    assert "data-cash-collected" in html


def test_no_cash_field_for_other_payment_methods(app, world, driver, db_):
    order_no = _order(app, world, "delivering", payment="bank")
    page = f"/driver/orders/{order_no}"
    html = driver.get(page).get_data(as_text=True)
    assert 'name="cash_collected"' not in html and "data-collect" not in html
    resp = _post(driver, f"{page}/complete", page, {"cash_collected": "10"})
    assert resp.status_code == 400 and _state(db_, order_no) == "delivering"
    with db_() as session:
        assert session.scalar(select(Order.cash_collected)
                              .where(Order.order_no == order_no)) is None


def test_photos_without_a_file_are_refused(app, world, driver, db_):
    order_no = _order(app, world, "delivering")
    page = f"/driver/orders/{order_no}"
    resp = _post(driver, f"{page}/photos", page, {"photos": [(io.BytesIO(b""), "")]})
    assert resp.status_code == 400 and "data-photo-form" in resp.get_data(as_text=True)
    assert _photo_count(db_, order_no) == 1  # the factory's own photo only
