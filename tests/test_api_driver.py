"""The driver's end over the API: the loading list 装车单 adds up only my orders to load,
the order shows what the web's driver page shows (whom to hand it to, where, the cash to
collect), and completing at the door refuses what the web's form could never send.

As in test_driver_end.py, no app context stays pushed while the test client makes
requests."""

import pytest
from sqlalchemy import select

from app.catalog.models import Spec
from app.extensions import db
from app.ordering import workflow
from app.ordering.models import Order
from tests.conftest import PASSWORD
from tests.order_factory import World, add_photo

LOADING = "/api/v1/driver/loading"


@pytest.fixture
def world(app, make):
    with app.app_context():
        return World(app, make)


def _headers(client, ref):
    resp = client.post("/api/v1/auth/token", json={"mobile": ref.mobile, "password": PASSWORD})
    assert resp.status_code == 200, resp.get_json()
    return {"Authorization": "Bearer " + resp.get_json()["access_token"]}


def _order(app, world, state, **kw):
    with app.app_context():
        return world.order(state, **kw).order_no


def _order_row(app, order_no):
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.order_no == order_no))
        line = order.lines[0]
        result = {"state": order.state, "total": order.total, "line_id": line.id,
                  "refused": line.refused_qty, "cash": order.cash_collected,
                  "events": len(order.events)}
        db.session.remove()
        return result


def _stock(app, world):
    with app.app_context():
        return db.session.get(Spec, world.spec_id).stock


# ---- the loading list ----------------------------------------------------------------------

def test_the_loading_list_adds_up_my_orders_to_load(app, client, world):
    first = _order(app, world, "assigned", quantity=440, payment="cod")
    second = _order(app, world, "assigned", quantity=420, payment="bank")
    _order(app, world, "delivering", quantity=400)  # already on its way
    _order(app, world, "confirmed", quantity=400)  # waiting for a driver
    with app.app_context():  # another driver of the region has his own
        theirs = world.order("confirmed", quantity=200)
        workflow.apply(theirs, "assign_driver", world.user(world.salesman),
                       driver_id=world.driver2.id)
        theirs, total = theirs.order_no, str(db.session.scalar(
            select(Order.total).where(Order.order_no == first)))

    resp = client.get(LOADING, headers=_headers(client, world.driver))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert len(body["rows"]) == 1
    row = body["rows"][0]
    assert row["quantity"] == 860 and row["text"] == "2 箱 3 盒 = 860 把"
    assert row["packs"] == {"outer": 2, "inner": 3, "loose": 0}
    assert (row["inner_qty"], row["outer_qty"]) == (20, 400)
    assert row["product_name"] == "矿泉水" and sorted(row["order_nos"]) == sorted([first,
                                                                                    second])
    orders = {o["order_no"]: o for o in body["orders"]}
    assert set(orders) == {first, second}
    assert orders[first]["cash_to_collect"] == total
    assert orders[second]["cash_to_collect"] is None  # paid otherwise: no money at all
    assert orders[first]["phone"] == "13912345678" and orders[first]["line_count"] == 1
    assert "海甸二东路 25 号" in orders[first]["address"]
    assert "unit_price" not in resp.get_data(as_text=True)

    body = client.get(LOADING, headers=_headers(client, world.driver2)).get_json()
    assert [o["order_no"] for o in body["orders"]] == [theirs]
    assert [r["quantity"] for r in body["rows"]] == [200]
    body = client.get(LOADING, headers=_headers(client, world.other_driver)).get_json()
    assert body == {"rows": [], "orders": []}


def test_lines_refused_earlier_do_not_load(app, client, world):
    order_no = _order(app, world, "assigned", quantity=440)
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.order_no == order_no))
        order.lines[0].refused_qty = 40  # as if refused before: it stays home
        db.session.commit()
    body = client.get(LOADING, headers=_headers(client, world.driver)).get_json()
    assert [r["quantity"] for r in body["rows"]] == [400]


def test_only_drivers_get_a_loading_list(app, client, world):
    _order(app, world, "assigned")
    assert client.get(LOADING).status_code == 401
    assert client.get(LOADING).get_json()["code"] == "unauthorized"
    for ref in (world.salesman, world.customer):
        resp = client.get(LOADING, headers=_headers(client, ref))
        assert resp.status_code == 403 and resp.get_json()["code"] == "forbidden"


# ---- the order as the web's driver page shows it ---------------------------------------------

def test_the_order_shows_whom_to_hand_it_to_and_the_cash(app, client, world):
    order_no = _order(app, world, "assigned", payment="cod", quantity=440)
    total = str(_order_row(app, order_no)["total"])
    mine = client.get(f"/api/v1/driver/orders/{order_no}",
                      headers=_headers(client, world.driver)).get_json()
    assert mine["phone"] == "13912345678" and mine["contact"] == "黄经理"
    assert mine["shop_phone"] == world.customer.mobile  # the shop's own number differs
    assert "海甸二东路 25 号" in mine["address"]
    assert mine["map_url"].startswith("https://uri.amap.com/search?keyword=")
    assert mine["cash_to_collect"] == total and mine["payment_method"] == "cod"
    assert mine["payment_status"] == "unpaid" and mine["created_at"]
    assert mine["mine"] is True and mine["can_add_photos"] is True
    line = mine["lines"][0]
    assert line["packs"] == "1 箱 2 盒 = 440 把" and line["to_deliver"] == 440
    assert line["out_of_stock"] is False and line["refused_reason"] is None
    listed = client.get("/api/v1/driver/orders?tab=to_load",
                        headers=_headers(client, world.driver)).get_json()["items"]
    assert listed == [mine]

    waiting = _order(app, world, "confirmed", payment="cod")
    seen = client.get(f"/api/v1/driver/orders/{waiting}",
                      headers=_headers(client, world.driver2)).get_json()
    assert seen["mine"] is False and seen["can_add_photos"] is False
    assert seen["actions"] == [] and seen["cash_to_collect"] is None
    assert seen["photos"] == [] and seen["phone"] == "13912345678"


def test_other_people_reach_no_assigned_order(app, client, world):
    order_no = _order(app, world, "assigned")
    assert client.get(f"/api/v1/driver/orders/{order_no}").status_code == 401
    for ref, status in ((world.driver2, 404), (world.other_driver, 404),
                        (world.salesman, 403), (world.customer, 403)):
        headers = _headers(client, ref)
        resp = client.get(f"/api/v1/driver/orders/{order_no}", headers=headers)
        assert resp.status_code == status, ref.mobile
        page = client.get("/api/v1/driver/orders?tab=to_load", headers=headers)
        if status == 404:
            assert order_no not in page.get_data(as_text=True)
        else:
            assert page.status_code == 403


# ---- completing at the door ------------------------------------------------------------------

def test_a_line_named_twice_is_refused_and_changes_nothing(app, client, world):
    order_no = _order(app, world, "delivering", quantity=40, payment="cod")
    before, stock = _order_row(app, order_no), _stock(app, world)
    url = f"/api/v1/driver/orders/{order_no}/complete"
    headers = _headers(client, world.driver)
    twice = [{"line_id": before["line_id"], "quantity": 30, "reason": "破损"},
             {"line_id": before["line_id"], "quantity": 30, "reason": "破损"}]
    resp = client.post(url, json={"refused": twice}, headers=headers)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["code"] == "validation" and resp.get_json()["message"]
    assert _order_row(app, order_no) == before and _stock(app, world) == stock


BAD_DOOR_INPUT = [
    ({"refused": [{"line_id": 0, "quantity": 1}]}, 422),
    ({"refused": [{"line_id": 1, "quantity": -1}]}, 422),
    ({"refused": [{"line_id": 1}]}, 422),
    ({"refused": [{"line_id": 1, "quantity": 1, "reason": "x" * 256}]}, 422),
    ({"refused": "all"}, 422),
    ({"refused": [{"line_id": 99999, "quantity": 1}]}, 400),
    ({"cash_collected": "abc"}, 400),
    ({"cash_collected": "-1"}, 400),
    ({"cash_collected": "NaN"}, 400),
    ({"cash_collected": "9" * 21}, 422),
]


def test_bad_door_input_is_a_4xx_and_changes_nothing(app, client, world):
    order_no = _order(app, world, "delivering", payment="cod")
    before, headers = _order_row(app, order_no), _headers(client, world.driver)
    for body, status in BAD_DOOR_INPUT:
        resp = client.post(f"/api/v1/driver/orders/{order_no}/complete", json=body,
                           headers=headers)
        assert resp.status_code == status, (body, resp.get_json())
        assert resp.get_json()["message"], body
    assert _order_row(app, order_no) == before


def test_refused_at_the_door_with_a_reason_and_cash_collected(app, client, world):
    order_no = _order(app, world, "delivering", quantity=40, payment="cod")
    before, stock = _order_row(app, order_no), _stock(app, world)
    headers = _headers(client, world.driver)
    resp = client.post(f"/api/v1/driver/orders/{order_no}/complete", headers=headers, json={
        "refused": [{"line_id": before["line_id"], "quantity": 5, "reason": "破损"}],
        "cash_collected": "1.00"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    line = body["lines"][0]
    assert body["state"] == "delivered" and body["delivered_at"]
    assert (line["refused_qty"], line["refused_reason"], line["to_deliver"]) == (5, "破损", 35)
    assert body["cash_collected"] == "1.00" and body["cash_to_collect"] is None
    assert _stock(app, world) == stock + 5
    after = _order_row(app, order_no)
    assert after["total"] < before["total"] and after["refused"] == 5


def test_completing_needs_a_photo_and_the_order_out_for_delivery(app, client, world):
    headers = _headers(client, world.driver)
    assigned = _order(app, world, "assigned")
    url = f"/api/v1/driver/orders/{assigned}/complete"
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.order_no == assigned))
        add_photo(order, world.user(world.driver))
    assert client.post(url, json={}, headers=headers).status_code == 400  # not started
    assert client.post(f"/api/v1/driver/orders/{assigned}/start",
                       headers=headers).status_code == 200
    assert client.post(url, json={}, headers=headers).status_code == 200
