"""The salesman's end over the API (/api/v1/sales): the order page and every business-end
action, my customers, 代客下单, my QR code and my performance; and who is refused (another
region's salesman 404 with nothing changed, customers and drivers 403, visitors 401).

Requests run with no app context pushed; database work opens its own (`db_`)."""

import contextlib
import json
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.catalog.models import Spec
from app.extensions import db
from app.members.models import Member, StaffProfile
from app.messaging.models import Message
from app.ordering import queries, workflow
from app.ordering.models import CartLine, Order, OrderEvent
from app.views.api.sales import SalesActionSchema
from tests.order_factory import World
from tests.test_api import bearer, tokens_for

API = "/api/v1/sales"
NEW_ADDRESS = {"province": "海南省", "city": "海口市", "district": "美兰区",
               "street": "海甸岛 1 号", "contact": "黄经理", "phone": "13912345678"}


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
def headers(client, world):
    """Bearer headers by person: the region's salesman, the other region's, a customer,
    a driver, and a visitor (none)."""
    people = {"salesman": world.salesman, "other_salesman": world.other_salesman,
              "customer": world.customer, "driver": world.driver}
    found = {who: bearer(tokens_for(client, ref.mobile)["access_token"])
             for who, ref in people.items()}
    found["visitor"] = {}
    return found


REFUSED = {"other_salesman": 404, "customer": 403, "driver": 403, "visitor": 401}
ROLES_REFUSED = {"customer": 403, "driver": 403, "visitor": 401}


def _order(app, world, state="pending", **kw):
    with app.app_context():
        order = world.order(state, **kw)
        return order.id, order.order_no


def _snapshot(session, order_id):
    """What an action could change on an order."""
    order = session.get(Order, order_id)
    events = session.scalar(select(func.count(OrderEvent.id)).where(
        OrderEvent.order_id == order_id))
    return (order.state, order.payment_status, order.refund_status, order.driver_id,
            order.delivery_method, order.payment_method, order.total, events,
            [(ln.id, ln.quantity, ln.unit_price, ln.out_of_stock) for ln in order.lines])


def _refund_requested(app, world, photos=()):
    with app.app_context():
        order = world.order("delivered")
        keys = [f"private/order/{order.id}/refund/{uuid.uuid4().hex}.jpg" for _ in photos]
        workflow.apply(order, "request_refund", world.user(world.customer), reason="破损",
                       lines=[{"line_id": order.lines[0].id, "quantity": world.moq}],
                       photos=keys)
        return order.id, order.order_no


# ---- the order page ------------------------------------------------------------------------

def test_the_action_schema_takes_every_field_of_the_business_end():
    fields = {name for names in workflow.BUSINESS_END_ACTIONS.values() for name in names}
    assert set(SalesActionSchema().fields) - {"action"} == fields


def test_tabs_come_with_every_tabs_count(app, client, world, headers):
    for state in ("pending", "pending", "confirmed", "delivered"):
        _order(app, world, state)
    page = client.get(f"{API}/orders?tab=to_ship", headers=headers["salesman"]).get_json()
    assert page["counts"] == {"pending": 2, "to_ship": 1, "delivering": 0, "delivered": 1,
                              "all": 4}
    assert len(page["items"]) == 1
    other = client.get(f"{API}/orders?tab=all", headers=headers["other_salesman"]).get_json()
    assert other["items"] == [] and other["counts"]["all"] == 0


def test_the_order_page_lists_what_the_salesman_decides(app, client, world, headers):
    _, pending_no = _order(app, world, "pending")
    page = client.get(f"{API}/orders/{pending_no}?gift_q=矿泉水",
                      headers=headers["salesman"]).get_json()
    assert "edit" in page["actions"] and "delivery" in page["edit_options"]
    assert page["drivers"] == [] and page["refund"] is None and page["placed_by"] is None
    assert page["region"] == "海口" and page["member_level"] and page["map_url"]
    assert page["lines"][0]["spec_id"] == world.spec_id
    assert page["lines"][0]["out_of_stock"] is False
    gift = page["gifts"][0]["specs"][0]
    assert gift["id"] == world.spec_id and "unit_price" not in gift  # gifts carry no price
    assert client.get(f"{API}/orders/{pending_no}?gift_q={'x' * 51}",
                      headers=headers["salesman"]).status_code == 422

    _, confirmed_no = _order(app, world, "confirmed")
    page = client.get(f"{API}/orders/{confirmed_no}", headers=headers["salesman"]).get_json()
    assert {d["id"] for d in page["drivers"]} == {world.driver.id, world.driver2.id}
    assert page["edit_options"] == {} and page["gifts"] == []

    _, refund_no = _refund_requested(app, world, photos=[1, 2])
    page = client.get(f"{API}/orders/{refund_no}", headers=headers["salesman"]).get_json()
    refund = page["refund"]
    assert "decide_refund" in page["actions"] and refund["reason"] == "破损"
    assert refund["lines"][0]["quantity"] == world.moq and refund["lines"][0]["product_name"]
    assert Decimal(refund["suggested_amount"]) > 0 and refund["refundable_amount"]
    assert len(refund["photos"]) == 2
    assert all(p["url"].startswith("/media/signed/") and
               p["thumb_url"].startswith("/media/signed/") for p in refund["photos"])


def test_every_business_end_action_over_the_api(app, client, world, headers, db_):
    h = headers["salesman"]
    order_id, order_no = _order(app, world, "pending")
    with db_() as session:
        line_id = session.get(Order, order_id).lines[0].id
        stock = session.get(Spec, world.spec_id).stock

    def act(no=order_no, **body):
        return client.post(f"{API}/orders/{no}/actions", json=body, headers=h)

    off_grid = act(action="edit", op="set_quantity", line_id=line_id, quantity=world.moq + 1)
    assert off_grid.status_code == 400 and off_grid.get_json()["errors"]["quantity"]
    changed = act(action="edit", op="set_quantity", line_id=line_id, quantity=world.moq * 3)
    assert changed.status_code == 200 and changed.get_json()["lines"][0]["quantity"] == \
        world.moq * 3
    no_reason = act(action="edit", op="set_price", line_id=line_id, price="1.50")
    assert no_reason.status_code == 400 and no_reason.get_json()["message"]
    priced = act(action="edit", op="set_price", line_id=line_id, price=1.5,
                 reason="agreed").get_json()
    assert priced["lines"][0]["unit_price"] == "1.50"
    assert priced["lines"][0]["price_note"] == "agreed"
    gifted = act(action="edit", op="add_gift", spec_id=world.spec_id,
                 quantity=world.moq).get_json()
    gift = next(ln for ln in gifted["lines"] if ln["is_gift"])
    assert gift["unit_price"] == "0.00"
    removed = act(action="edit", op="remove_line", line_id=gift["id"]).get_json()
    assert [ln["id"] for ln in removed["lines"]] == [line_id]
    paid_by = act(action="edit", op="set_payment", method="bank").get_json()
    assert paid_by["payment_method"] == "bank"
    choices = paid_by["edit_options"]
    assert "bank" in choices["pickup"]  # the default settings; no freight to refuse it
    other = "pickup"
    moved = act(action="edit", op="set_delivery", method=other)
    assert moved.status_code == 200, (other, moved.get_json())
    assert moved.get_json()["delivery_method"] == other
    refused = act(action="edit", op="set_payment", method="monthly")  # not for this member
    assert refused.status_code == 400 and refused.get_json()["message"]
    act(action="edit", op="set_delivery", method="delivery")
    assert act(action="confirm").get_json()["state"] == "confirmed"
    paid = act(action="mark_paid", note="transfer received", amount="").get_json()
    assert paid["payment_status"] == "paid" and paid["payments"][0]["note"] == \
        "transfer received"
    shipped = act(action="ship", ship_method="express", note="SF1234567890").get_json()
    assert shipped["state"] == "shipped" and shipped["ship_method"] == "express"
    with db_() as session:
        assert session.get(Spec, world.spec_id).stock == stock - world.moq

    _, other_no = _order(app, world, "confirmed")
    assigned = act(other_no, action="assign_driver", driver_id=world.driver2.id).get_json()
    assert assigned["state"] == "assigned" and assigned["driver"]["phone"]
    assert act(other_no, action="close").status_code == 400  # a reason is required
    closed = act(other_no, action="close", reason="the customer asked").get_json()
    assert closed["state"] == "closed" and closed["actions"] == []

    pickup_id, pickup_no = _order(app, world, "confirmed", delivery="pickup",
                                  payment="bank")
    assert act(pickup_no, action="ready_for_pickup").get_json()["state"] == \
        "ready_for_pickup"
    assert act(pickup_no, action="mark_collected").get_json()["state"] == "received"

    refund_id, refund_no = _refund_requested(app, world)
    with db_() as session:
        stock = session.get(Spec, world.spec_id).stock
    assert act(refund_no, action="decide_refund", approve=True,
               amount="99999999").status_code == 400  # more than the order's total
    approved = act(refund_no, action="decide_refund", approve=True, amount="10.00",
                   restock=True).get_json()
    assert approved["refund_status"] == "approved" and approved["refund"] is None
    with db_() as session:
        assert session.get(Spec, world.spec_id).stock == stock + world.moq
        assert session.get(Order, refund_id).refunds[0].amount == Decimal("10.00")
    _, refund_no = _refund_requested(app, world)
    assert act(refund_no, action="decide_refund", approve=False).status_code == 400
    rejected = act(refund_no, action="decide_refund", approve=False, reason="no damage seen")
    assert rejected.get_json()["refund_status"] == "rejected"


def test_bad_action_input_is_a_4xx_and_changes_nothing(app, client, world, headers, db_):
    order_id, order_no = _order(app, world, "pending")
    with db_() as session:
        line_id = session.get(Order, order_id).lines[0].id
        before = _snapshot(session, order_id)
    edit = {"action": "edit", "op": "set_quantity", "line_id": line_id}
    bodies = [
        {}, {"action": "nonsense"}, {"action": "override", "target": "closed"},
        {**edit, "line_id": 0}, {**edit, "line_id": 2 ** 40}, {**edit, "line_id": "abc"},
        {**edit, "quantity": -1}, {**edit, "quantity": 10 ** 9}, {**edit, "quantity": 1.5},
        {**edit, "quantity": True}, {**edit, "op": "drop_table"},
        {"action": "edit", "op": "set_price", "line_id": line_id, "price": "abc",
         "reason": "x"},
        {"action": "edit", "op": "set_price", "line_id": line_id, "price": "NaN",
         "reason": "x"},
        {"action": "edit", "op": "set_price", "line_id": line_id, "price": -1, "reason": "x"},
        {"action": "edit", "op": "set_payment", "method": "bitcoin"},
        {"action": "close", "reason": "x" * 501}, {"action": "close", "reason": "a\x00b"},
        {"action": "close", "reason": ["x"]}, {"action": "assign_driver", "driver_id": -5},
        {"action": "ship", "ship_method": "pigeon", "note": "x"},
        {"action": "mark_paid", "note": "x", "amount": "1e400"},
        {"action": "decide_refund", "approve": "maybe"},
    ]
    for body in bodies:
        resp = client.post(f"{API}/orders/{order_no}/actions", json=body,
                           headers=headers["salesman"])
        assert resp.status_code == 422, (body, resp.status_code)
        assert resp.get_json()["code"] == "validation" and resp.get_json()["errors"]
    for raw in (b"[1, 2]", b"not json", b"null"):
        resp = client.post(f"{API}/orders/{order_no}/actions", data=raw,
                           content_type="application/json", headers=headers["salesman"])
        assert 400 <= resp.status_code < 500 and resp.is_json
    # Well-formed, refused by the workflow with a message in the caller's language.
    refused = client.post(f"{API}/orders/{order_no}/actions", json={
        "action": "edit", "op": "remove_line", "line_id": line_id},
        headers={**headers["salesman"], "Accept-Language": "en"})
    assert refused.status_code == 400
    assert refused.get_json()["message"] == "An order needs at least one line: close it " \
                                            "instead."
    with db_() as session:
        assert _snapshot(session, order_id) == before


def test_the_order_and_its_actions_are_refused_outside_the_region(app, client, world,
                                                                   headers, db_):
    order_id, order_no = _order(app, world, "pending")
    refund_id, refund_no = _refund_requested(app, world)
    with db_() as session:
        line_id = session.get(Order, order_id).lines[0].id
        before = _snapshot(session, order_id), _snapshot(session, refund_id)
    posts = [
        (order_no, {"action": "edit", "op": "set_quantity", "line_id": line_id,
                    "quantity": world.moq * 5}),
        (order_no, {"action": "confirm"}),
        (order_no, {"action": "assign_driver", "driver_id": world.driver.id}),
        (order_no, {"action": "ship", "ship_method": "express", "note": "SF1"}),
        (order_no, {"action": "ready_for_pickup"}), (order_no, {"action": "mark_collected"}),
        (order_no, {"action": "close", "reason": "x"}),
        (order_no, {"action": "mark_paid", "note": "x"}),
        (refund_no, {"action": "decide_refund", "approve": True, "amount": "1"}),
        (order_no, {"action": "confirm_voucher", "voucher_id": 1, "checked_elsewhere": True}),
        (order_no, {"action": "reject_voucher", "voucher_id": 1, "reason": "x"}),
    ]
    assert {body["action"] for _no, body in posts} == set(workflow.BUSINESS_END_ACTIONS)
    for who, status in REFUSED.items():
        for no in (order_no, refund_no):
            resp = client.get(f"{API}/orders/{no}", headers=headers[who])
            assert resp.status_code == status, (who, resp.status_code)
        for no, body in posts:
            resp = client.post(f"{API}/orders/{no}/actions", json=body, headers=headers[who])
            assert resp.status_code == status, (who, body["action"], resp.status_code)
            assert resp.get_json()["code"]
    with db_() as session:
        assert (_snapshot(session, order_id), _snapshot(session, refund_id)) == before


# ---- my customers ----------------------------------------------------------------------------

def test_my_customers_with_search_and_paging(app, client, world, make, headers,
                                             monkeypatch):
    _order(app, world, "pending")
    with app.app_context():
        mine_elsewhere = make.member(region=world.other_region, shop="博鳌便利店")
        db.session.get(Member, mine_elsewhere.id).own_salesman_id = world.salesman.id
        stranger = make.member(region=world.other_region, shop="亚龙湾度假酒店")
        db.session.commit()
    h = headers["salesman"]
    page = client.get(f"{API}/customers", headers=h).get_json()
    rows = {row["id"]: row for row in page["items"]}
    assert set(rows) == {world.customer.id, world.other_customer.id, mine_elsewhere.id}
    assert stranger.id not in rows and page["next_before"] is None
    assert rows[world.customer.id]["last_order_at"] and rows[world.customer.id]["phone"]
    assert rows[world.customer.id]["can_order_for"] is True
    assert rows[world.customer.id]["status_label"] and rows[world.customer.id]["region"]
    # My own customer in another region: listed, but ordering for them is for their region.
    assert rows[mine_elsewhere.id]["can_order_for"] is False
    found = client.get(f"{API}/customers", query_string={"q": world.customer.mobile[-6:]},
                       headers=h).get_json()
    assert [row["id"] for row in found["items"]] == [world.customer.id]
    monkeypatch.setattr(queries, "PER_PAGE", 2)
    first = client.get(f"{API}/customers", headers=h).get_json()
    rest = client.get(f"{API}/customers?before={first['next_before']}", headers=h).get_json()
    assert [r["id"] for r in first["items"] + rest["items"]] == sorted(rows, reverse=True)
    other = client.get(f"{API}/customers", headers=headers["other_salesman"]).get_json()
    assert {row["id"] for row in other["items"]} == {mine_elsewhere.id, stranger.id}
    for query in ({"q": "x" * 51}, {"before": 0}, {"before": "abc"}, {"before": 2 ** 40}):
        resp = client.get(f"{API}/customers", query_string=query, headers=h)
        assert resp.status_code == 422 and resp.get_json()["errors"], query
    for who, status in ROLES_REFUSED.items():
        assert client.get(f"{API}/customers", headers=headers[who]).status_code == status


# ---- 代客下单 ----------------------------------------------------------------------------------

def test_order_for_a_customer_end_to_end(app, client, world, headers, db_):
    h = headers["salesman"]
    url = f"{API}/customers/{world.customer.id}/order"
    page = client.get(url, query_string={"q": "矿泉水"}, headers=h).get_json()
    assert page["customer"]["id"] == world.customer.id and page["can_order"] is True
    spec = page["results"]["items"][0]["specs"][0]
    # The customer's own prices, as the customer's catalog shows them.
    theirs = client.get("/api/v1/products", query_string={"q": "矿泉水"},
                        headers=headers["customer"]).get_json()["items"][0]["specs"][0]
    assert spec["id"] == world.spec_id and spec["unit_price"] == theirs["unit_price"]
    assert page["cart"]["lines"] == [] and page["checkout"]["quote"] is None
    assert page["frequent"] == []

    off_grid = client.post(url + "/cart", json={"quantities": {str(world.spec_id):
                                                               world.moq + 1}}, headers=h)
    assert off_grid.status_code == 400 and off_grid.get_json()["message"]
    added = client.post(url + "/cart", json={"quantities": {str(world.spec_id):
                                                            world.moq * 2}}, headers=h)
    assert added.status_code == 200, added.get_json()
    line = added.get_json()["lines"][0]
    assert line["quantity"] == world.moq * 2 and line["unit_price"] == theirs["unit_price"]
    changed = client.post(url + "/cart", json={"line_id": line["id"],
                                               "quantity": world.moq * 3}, headers=h)
    assert changed.get_json()["lines"][0]["quantity"] == world.moq * 3
    removed = client.post(url + "/cart", json={"line_id": line["id"], "remove": True},
                          headers=h)
    assert removed.get_json()["lines"] == []
    client.post(url + "/cart", json={"quantities": {str(world.spec_id): world.moq * 3}},
                headers=h)
    # It is the customer's own cart: the customer sees it too.
    cart = client.get("/api/v1/cart", headers=headers["customer"]).get_json()
    assert [(ln["spec_id"], ln["quantity"]) for ln in cart["lines"]] == \
        [(world.spec_id, world.moq * 3)]

    page = client.get(url, query_string={"delivery": "delivery"}, headers=h).get_json()
    quote, key = page["checkout"]["quote"], page["idempotency_key"]
    assert quote["total"] and "delivery" in page["checkout"]["options"]
    assert page["checkout"]["new_address"]["contact"]  # from the customer's profile
    form = {"idempotency_key": key, "delivery": "delivery", "payment": "cod", **NEW_ADDRESS,
            "expected_total": quote["total"], "remark": "业务员代下"}
    placed = client.post(url + "/submit", json=form, headers=h)
    assert placed.status_code == 201, placed.get_json()
    order = placed.get_json()
    assert order["state"] == "pending" and order["total"] == quote["total"]
    assert order["placed_by"] and "confirm" in order["actions"]
    again = client.post(url + "/submit", json=form, headers=h)
    assert again.status_code == 201 and again.get_json()["order_no"] == order["order_no"]
    with db_() as session:
        saved = session.scalar(select(Order))
        assert session.scalar(select(func.count(Order.id))) == 1
        assert saved.user_id == world.customer.user_id
        assert saved.member_id == world.customer.id
        assert saved.placed_by_id == world.salesman.user_id
        assert saved.lines[0].quantity == world.moq * 3 and saved.remark == "业务员代下"
        told = session.scalars(select(Message).where(
            Message.event == "order_placed_for_you")).all()
        assert told and all(m.user_id == world.customer.user_id for m in told)
        assert session.scalar(select(func.count(CartLine.id))) == 0
    mine = client.get("/api/v1/orders", headers=headers["customer"]).get_json()
    assert [o["order_no"] for o in mine["items"]] == [order["order_no"]]
    page = client.get(url, headers=h).get_json()
    assert page["frequent"][0]["id"]  # what the customer orders most, now


def test_order_for_refuses_bad_input(app, client, world, headers, db_):
    h = headers["salesman"]
    url = f"{API}/customers/{world.customer.id}/order"
    spec = str(world.spec_id)
    for body in ({}, {"remove": True}, {"line_id": 1},
                 {"quantities": {spec: world.moq}, "line_id": 1},
                 {"quantities": {}}, {"quantities": {"0": world.moq}},
                 {"quantities": {"abc": world.moq}}, {"quantities": {spec: -1}},
                 {"quantities": {spec: 10 ** 9}}, {"line_id": 0, "quantity": 1},
                 {"line_id": 1, "quantity": "many"}, {"quantities": [1, 2]}):
        resp = client.post(url + "/cart", json=body, headers=h)
        assert resp.status_code == 422 and resp.get_json()["errors"], body
    missing = client.post(url + "/cart", json={"line_id": 1},
                          headers={**h, "Accept-Language": "en"}).get_json()
    assert "a line_id with a quantity" in json.dumps(missing["errors"])
    for body in ({}, {"idempotency_key": "short", "delivery": "delivery", "payment": "cod"},
                 {"idempotency_key": "k" * 32, "delivery": "delivery", "payment": "cod",
                  "address_id": 0},
                 {"idempotency_key": "k" * 32, "delivery": "x" * 25, "payment": "cod"}):
        resp = client.post(url + "/submit", json=body, headers=h)
        assert resp.status_code == 422, body
    empty = client.post(url + "/submit", json={"idempotency_key": "k" * 32,
                                               "delivery": "delivery", "payment": "cod",
                                               **NEW_ADDRESS}, headers=h)
    assert empty.status_code == 400 and empty.get_json()["message"]  # the cart is empty
    for query in ({"page": 0}, {"page": "x"}, {"q": "x" * 51}, {"address_id": -1}):
        assert client.get(url, query_string=query, headers=h).status_code == 422, query
    with db_() as session:
        assert session.scalar(select(func.count(Order.id))) == 0
        assert session.scalar(select(func.count(CartLine.id))) == 0


def test_order_for_is_refused_outside_my_regions(app, client, world, make, headers, db_):
    with app.app_context():
        far = make.member(region=world.other_region, shop="三亚湾海景民宿")
        mine_elsewhere = make.member(region=world.other_region, shop="博鳌便利店")
        db.session.get(Member, mine_elsewhere.id).own_salesman_id = world.salesman.id
        db.session.commit()
    add = {"quantities": {str(world.spec_id): world.moq}}
    submit = {"idempotency_key": uuid.uuid4().hex, "delivery": "delivery", "payment": "cod",
              **NEW_ADDRESS}

    def calls(member_id, who):
        url = f"{API}/customers/{member_id}/order"
        return [client.get(url, headers=headers[who]),
                client.post(url + "/cart", json=add, headers=headers[who]),
                client.post(url + "/submit", json=submit, headers=headers[who])]

    # Another region's member, my own customer in another region, no such member.
    for member_id in (far.id, mine_elsewhere.id, 999999):
        assert [r.status_code for r in calls(member_id, "salesman")] == [404] * 3, member_id
    for who, status in REFUSED.items():
        responses = calls(world.customer.id, who)
        assert [r.status_code for r in responses] == [status] * 3, who
        assert all(r.get_json()["code"] for r in responses)
    with db_() as session:
        assert session.scalar(select(func.count(Order.id))) == 0
        assert session.scalar(select(func.count(CartLine.id))) == 0


# ---- my QR code and my performance -----------------------------------------------------------

def test_my_qr_code_as_a_link_and_as_images(app, client, world, headers, db_):
    h = headers["salesman"]
    qr = client.get(f"{API}/qr", headers=h)
    assert qr.status_code == 200 and "Set-Cookie" not in qr.headers
    body = qr.get_json()
    with db_() as session:
        code = session.get(StaffProfile, world.salesman.id).referral_code
    assert code and body["code"] == code and f"/auth/register?ref={code}" in body["link"]
    assert client.get(f"{API}/qr", headers=h).get_json()["code"] == code  # made once
    png = client.get(body["png_url"], headers=h)
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG") and "Content-Disposition" not in png.headers
    svg = client.get(body["svg_url"] + "?download=1", headers=h)
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert svg.headers["Content-Disposition"] == "attachment; filename=pifa-qr.svg"
    assert client.get(f"{API}/qr.png?download=maybe", headers=h).status_code == 422
    assert client.get(f"{API}/qr.gif", headers=h).status_code == 404
    for who, status in ROLES_REFUSED.items():
        for path in ("/qr", "/qr.png", "/qr.svg"):
            resp = client.get(API + path, headers=headers[who])
            assert resp.status_code == status and resp.is_json, (who, path)


def test_my_performance_counts_what_i_placed_for_a_customer(app, client, world, make,
                                                            headers):
    h = headers["salesman"]
    empty = client.get(f"{API}/performance", headers=h).get_json()
    assert empty["this_month"]["orders"] == 0 and empty["this_month"]["sales"] == "0.00"
    assert empty["last_month"]["month"] < empty["this_month"]["month"]
    with app.app_context():
        brought = make.member(region=world.region, status="pending")
        db.session.get(Member, brought.id).referred_by_id = world.salesman.id
        db.session.commit()
    url = f"{API}/customers/{world.other_customer.id}/order"
    client.post(url + "/cart", json={"quantities": {str(world.spec_id): world.moq}},
                headers=h)
    placed = client.post(url + "/submit", json={
        "idempotency_key": uuid.uuid4().hex, "delivery": "pickup", "payment": "bank"},
        headers=h).get_json()
    _order(app, world, "pending")  # the customer's own order: not mine
    figures = client.get(f"{API}/performance", headers=h).get_json()
    assert figures["name"] and figures["this_month"]["members"] == 1
    assert figures["this_month"]["orders"] == 1
    assert figures["this_month"]["sales"] == placed["total"]
    other = client.get(f"{API}/performance", headers=headers["other_salesman"]).get_json()
    assert (other["this_month"]["orders"], other["this_month"]["members"]) == (0, 0)
    for who, status in ROLES_REFUSED.items():
        assert client.get(f"{API}/performance", headers=headers[who]).status_code == status


# ---- no 500, whatever a signed-in salesman sends -----------------------------------------

def test_no_sales_route_answers_a_500_to_a_salesman(app, client, world, headers):
    _, order_no = _order(app, world, "pending")
    h = headers["salesman"]
    values = ["", "x" * 10_000, -1, 0, 10 ** 30, 1.5, "1e3", True, [], {}, None, "\x00"]
    names = ["action", "op", "line_id", "quantity", "price", "reason", "spec_id", "method",
             "driver_id", "ship_method", "note", "amount", "approve", "restock",
             "quantities", "remove", "idempotency_key", "delivery", "payment", "address_id",
             "expected_total"]
    queries_ = ["tab", "before", "gift_q", "q", "page", "delivery", "payment", "address_id",
                "province", "download"]
    gets = ["/orders", f"/orders/{order_no}", "/customers",
            f"/customers/{world.customer.id}/order", "/qr", "/qr.png", "/qr.svg",
            "/performance"]
    posts = [f"/orders/{order_no}/actions", f"/customers/{world.customer.id}/order/cart",
             f"/customers/{world.customer.id}/order/submit"]
    failures = []
    for value in values:
        for path in gets:
            if isinstance(value, str | int) and value != "\x00":
                resp = client.get(API + path, headers=h,
                                  query_string={name: str(value) for name in queries_})
                if resp.status_code >= 500:
                    failures.append(("GET", path, value))
        for path in posts:
            resp = client.post(API + path, headers=h, json={name: value for name in names})
            if resp.status_code >= 500 or not resp.is_json:
                failures.append(("POST", path, value))
    assert not failures, failures
