"""The JSON API v1: tokens that the server can revoke, the same sign-in limits as the web,
errors as JSON in the caller's language, the catalog with prices only for who may see
them, and the OpenAPI document committed in docs/."""

import io
import json
import time
from pathlib import Path

import pytest

from app.extensions import db
from app.platform import accounts
from app.platform.models import ShopSettings
from app.platform.security import DRIVER
from tests import test_storefront as storefront
from tests.conftest import PASSWORD, login
from tests.images import image_bytes
from tests.test_storefront import GOLD, SILVER, approved

shop = storefront.shop  # the storefront tests' catalog fixture

DOC = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def sign_in(client, mobile, password=PASSWORD, **headers):
    return client.post("/api/v1/auth/token", json={"mobile": mobile, "password": password},
                       headers=headers)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def tokens_for(client, mobile):
    resp = sign_in(client, mobile)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


# ---- the document ----------------------------------------------------------------------

def test_the_openapi_document_is_served_and_committed(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    served = resp.get_json()
    assert served["openapi"].startswith("3.")
    assert "/api/v1/products/{product_id}" in served["paths"]
    assert DOC.exists(), "run: tools/openapi.py > docs/openapi.json"
    assert json.loads(DOC.read_text()) == served, "docs/openapi.json is out of date: " \
        "run .venv/bin/python tools/openapi.py"


def test_every_argument_schema_is_built_once(app):
    """webargs builds a new schema on every request from a schema class (marshmallow copies
    every field); an instance is built once, at import (bench/api.py)."""
    from marshmallow import Schema

    given = {}
    for endpoint, view in app.view_functions.items():
        if not endpoint.startswith("api_"):
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            doc = getattr(getattr(getattr(view, "view_class", None), method, None),
                          "_apidoc", {})
            for parameter in doc.get("arguments", {}).get("parameters", []):
                given[f"{endpoint} {method}"] = parameter["schema"]
    assert len(given) >= 30
    assert [name for name, schema in given.items() if not isinstance(schema, Schema)] == []


# ---- tokens ----------------------------------------------------------------------------

def test_sign_in_gives_tokens_and_never_a_cookie(client, make):
    user = make.member()
    resp = sign_in(client, user.mobile)
    assert resp.status_code == 200
    assert "Set-Cookie" not in resp.headers
    body = resp.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    me = client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and "Set-Cookie" not in me.headers
    assert me.get_json()["mobile"] == user.mobile
    assert me.get_json()["member"]["status"] == "approved"
    # A refresh token is not an access token, nor the other way round.
    assert client.get("/api/v1/auth/me", headers=bearer(body["refresh_token"])).status_code \
        == 401
    assert client.post("/api/v1/auth/refresh",
                       headers=bearer(body["access_token"])).status_code == 401
    fresh = client.post("/api/v1/auth/refresh", headers=bearer(body["refresh_token"]))
    assert fresh.status_code == 200 and "refresh_token" not in fresh.get_json()


def test_wrong_password_is_json_in_the_callers_language(client, make):
    user = make.member()
    resp = sign_in(client, user.mobile, "wrong-password")
    assert resp.status_code == 401
    assert resp.get_json() == {"code": "sign_in_refused", "message": "手机号或密码错误。"}
    resp = sign_in(client, user.mobile, "wrong-password", **{"Accept-Language": "en"})
    assert resp.get_json()["message"] == "Wrong mobile number or password."
    missing = client.post("/api/v1/auth/token", json={"mobile": user.mobile})
    assert missing.status_code == 422
    assert missing.get_json()["code"] == "validation"
    assert "password" in missing.get_json()["errors"]["json"]
    assert client.get("/api/v1/auth/me").get_json()["code"] == "unauthorized"
    assert client.get("/api/v1/nothing-here").get_json()["code"] == "not_found"
    assert client.get("/api/v1/auth/me", headers=bearer("not.a.token")).status_code == 401


@pytest.mark.parametrize("how", ["api sign-out", "web sign-out", "password change",
                                 "disabled"])
def test_every_token_ends_with_the_session_version(app, client, make, how):
    user = make.member()
    tokens = tokens_for(client, user.mobile)
    if how == "api sign-out":
        resp = client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
        assert resp.status_code == 204
    elif how == "web sign-out":
        web = app.test_client()
        login(web, user.mobile)
        from tests.conftest import csrf_token
        web.post("/auth/logout", data={"csrf_token": csrf_token(web, "/auth/logout")})
    else:
        with app.app_context():
            account = accounts.security_manager().get_user_by_id(user.user_id)
            if how == "password change":
                accounts.set_password(account, "a-new-password-1")
            else:
                accounts.set_active(account, False)
            db.session.commit()
    for token, path in ((tokens["access_token"], "/api/v1/auth/me"),
                        (tokens["refresh_token"], "/api/v1/auth/refresh")):
        method = client.get if path.endswith("/me") else client.post
        resp = method(path, headers=bearer(token))
        assert resp.status_code == 401, (how, path)
        assert resp.get_json()["code"] == "token_revoked"


def test_a_remembered_token_is_still_checked_for_tampering_expiry_and_revocation(
        app, client, make, monkeypatch):
    """tokens.VerifiedTokens answers a token it verified before from memory: only the same
    text, only until it expires, and never past a revocation."""
    from datetime import timedelta

    user = make.member()
    token = tokens_for(client, user.mobile)["access_token"]
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    head, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for forged in (f"{head}.{payload}.{flipped}", f"{head}.{payload[:-1]}x.{signature}"):
        assert client.get("/api/v1/auth/me", headers=bearer(forged)).status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200

    monkeypatch.setitem(app.config, "JWT_ACCESS_TOKEN_EXPIRES", timedelta(seconds=1))
    short = tokens_for(client, user.mobile)["access_token"]
    assert client.get("/api/v1/auth/me", headers=bearer(short)).status_code == 200
    time.sleep(1.1)
    resp = client.get("/api/v1/auth/me", headers=bearer(short))
    assert (resp.status_code, resp.get_json()["code"]) == (401, "token_expired")
    # Signed out: the remembered token is refused at once.
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    resp = client.get("/api/v1/auth/me", headers=bearer(token))
    assert (resp.status_code, resp.get_json()["code"]) == (401, "token_revoked")


def test_the_api_and_the_web_share_one_sign_in_limit(app, client, make):
    user = make.member()
    for _ in range(5):
        assert sign_in(client, user.mobile, "wrong-password").status_code == 401
    web = app.test_client()
    for _ in range(5):
        assert login(web, user.mobile, "wrong-password").status_code == 400
    locked = sign_in(client, user.mobile)  # the right password, after ten failures
    assert locked.status_code == 429
    assert locked.get_json()["code"] == "too_many_attempts"
    assert "分钟" in locked.get_json()["message"]
    assert "access_token" not in locked.get_json()


# ---- the catalog -----------------------------------------------------------------------

def _spec_of(body):
    return body["specs"][0]


def test_visitors_drivers_and_waiting_members_get_no_price_fields(app, client, make, shop):
    driver = make.staff("driver", [make.region()])
    waiting = make.member(status="pending")
    callers = [{}, bearer(tokens_for(client, driver.mobile)["access_token"]),
               bearer(tokens_for(client, waiting.mobile)["access_token"])]
    with app.app_context():
        assert DRIVER in accounts.role_names(
            accounts.security_manager().get_user_by_id(driver.user_id))
    for headers in callers:
        detail = client.get(f"/api/v1/products/{shop['product']}", headers=headers)
        assert detail.status_code == 200
        spec = _spec_of(detail.get_json())
        assert "unit_price" not in spec and "pack_price" not in spec
        assert spec["packing"]["inner_qty"] == 20
        listing = client.get(f"/api/v1/products?category_id={shop['top']}", headers=headers)
        assert listing.get_json()["total"] == 1
        assert "unit_price" not in json.dumps(listing.get_json())
        assert listing.get_json()["can_order"] is False
        assert listing.get_json()["price_note"]


def test_an_approved_member_gets_their_level_price(app, client, make, shop):
    member = approved(app, make, shop, "金牌")
    headers = bearer(tokens_for(client, member.mobile)["access_token"])
    spec = _spec_of(client.get(f"/api/v1/products/{shop['product']}", headers=headers)
                    .get_json())
    assert spec["unit_price"] == str(GOLD) and spec["pack_price"] == str(GOLD * 20)
    assert str(SILVER) not in json.dumps(spec)
    found = client.get("/api/v1/products?q=mts", headers=headers).get_json()
    assert [p["id"] for p in found["items"]] == [shop["product"]]  # 马桶刷 by initials
    assert found["can_order"] is True and "price_note" not in found


def test_categories_are_a_tree(client, shop):
    tree = client.get("/api/v1/categories").get_json()
    top = next(node for node in tree if node["id"] == shop["top"])
    assert top["children"][0]["children"][0]["id"] == shop["leaf"]


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page=99999999999999999999",
                                   "category_id=-1", "category_id=1e3",
                                   "q=" + "x" * 101])
def test_bad_catalog_queries_are_422(client, shop, query):
    resp = client.get(f"/api/v1/products?{query}")
    assert resp.status_code == 422
    assert resp.get_json()["code"] == "validation"


def test_missing_products_and_a_closed_shop(app, client, shop):
    assert client.get("/api/v1/products/99999999999999999999").status_code == 404
    assert client.get("/api/v1/products/999999").get_json()["code"] == "not_found"
    assert client.get("/api/v1/products?category_id=999999").status_code == 404
    with app.app_context():
        settings = db.session.get(ShopSettings, 1) or ShopSettings(id=1)
        settings.is_open = False
        db.session.add(settings)
        db.session.commit()
    resp = client.get(f"/api/v1/products/{shop['product']}")
    assert resp.status_code == 403 and resp.get_json()["code"] == "shop_closed"


# ---- the customer's journey --------------------------------------------------------------

NEW_ADDRESS = {"province": "海南省", "city": "海口市", "district": "美兰区",
               "street": "海甸岛 1 号", "contact": "黄经理", "phone": "13912345678"}


@pytest.fixture
def world(app, make):
    from tests.order_factory import World

    with app.app_context():
        return World(app, make)


def test_cart_checkout_and_orders_over_the_api(app, client, world):
    headers = bearer(tokens_for(client, world.customer.mobile)["access_token"])
    spec = str(world.spec_id)
    bad = client.post("/api/v1/cart", json={"quantities": {spec: world.moq + 1}},
                      headers=headers)
    assert bad.status_code == 400 and bad.get_json()["code"] == "validation"
    assert client.get("/api/v1/cart", headers=headers).get_json()["lines"] == []
    cart = client.post("/api/v1/cart", json={"quantities": {spec: world.moq * 2}},
                       headers=headers).get_json()
    line = cart["lines"][0]
    assert line["quantity"] == world.moq * 2 and cart["can_checkout"] is True
    cart = client.put(f"/api/v1/cart/lines/{line['id']}", json={"quantity": world.moq},
                      headers=headers).get_json()
    assert cart["lines"][0]["quantity"] == world.moq

    quote = client.get("/api/v1/checkout?delivery=delivery", headers=headers).get_json()
    assert "delivery" in quote["options"] and quote["goods_total"] == cart["total"]
    order_form = {"idempotency_key": "k" * 32, "delivery": "delivery", "payment": "cod",
                  **NEW_ADDRESS, "expected_total": "0.01"}
    changed = client.post("/api/v1/orders", json=order_form, headers=headers)
    assert changed.status_code == 400
    assert changed.get_json()["errors"] == {"expected_total": [changed.get_json()["message"]]}
    order_form["expected_total"] = quote["total"]
    placed = client.post("/api/v1/orders", json=order_form, headers=headers)
    assert placed.status_code == 201, placed.get_json()
    order = placed.get_json()
    assert order["state"] == "pending" and order["total"] == quote["total"]
    assert order["actions"] == ["cancel"] and order["history"]
    again = client.post("/api/v1/orders", json=order_form, headers=headers)
    assert again.get_json()["order_no"] == order["order_no"]  # a retried submit: one order
    assert client.get("/api/v1/cart", headers=headers).get_json()["lines"] == []

    listed = client.get("/api/v1/orders?tab=to_confirm", headers=headers).get_json()
    assert [o["order_no"] for o in listed["items"]] == [order["order_no"]]
    assert listed["counts"]["to_confirm"] == 1
    assert client.get("/api/v1/orders?tab=nonsense", headers=headers).status_code == 422

    cancelled = client.post(f"/api/v1/orders/{order['order_no']}/actions",
                            json={"action": "cancel"}, headers=headers).get_json()
    assert cancelled["state"] == "closed" and cancelled["actions"] == []
    twice = client.post(f"/api/v1/orders/{order['order_no']}/actions",
                        json={"action": "cancel"}, headers=headers)
    assert twice.status_code in (400, 403, 409) and twice.get_json()["message"]
    client.post(f"/api/v1/orders/{order['order_no']}/actions", json={"action": "reorder"},
                headers=headers)
    again_in_cart = client.get("/api/v1/cart", headers=headers).get_json()["lines"]
    assert [(ln["spec_id"], ln["quantity"]) for ln in again_in_cart] == \
        [(world.spec_id, world.moq)]


def test_an_unapproved_member_cannot_fill_a_cart(client, make, shop):
    waiting = make.member(status="pending")
    headers = bearer(tokens_for(client, waiting.mobile)["access_token"])
    resp = client.post("/api/v1/cart", json={"quantities": {"1": 20}}, headers=headers)
    assert resp.status_code == 403 and resp.get_json()["code"] == "forbidden"


# ---- no 500 on any input, signed in ------------------------------------------------------

HOSTILE_VALUES = [None, "", "x" * 100_000, -1, 0, 10 ** 30, 1.5, "1e3", True, [], {},
                  {"a": {"b": [1, {"c": None}]}}, "\ud800", "\x00", "<script>"]
HOSTILE_PATHS = ["0", "-1", "99999999999999999999", "abc", "%00", "x" * 300, "1.5"]


def _api_rules(app):
    """Every API route; sign-out last, since it ends the token the others use."""
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")]
    return sorted(rules, key=lambda rule: rule.rule.endswith("/logout"))


def _paths(rule):
    if not rule.arguments:
        return [rule.rule]
    return [rule.rule.split("<")[0] + value + rule.rule.split(">", 1)[1].replace(
        "<order_no>", value) for value in HOSTILE_PATHS]


def test_no_api_route_answers_a_500_to_hostile_input(app, client, world):
    headers = bearer(tokens_for(client, world.customer.mobile)["access_token"])
    fields = ["mobile", "password", "quantities", "quantity", "delivery", "payment",
              "address_id", "idempotency_key", "expected_total", "action", "tab", "before",
              "page", "q", "category_id"]
    bodies = [b"", b"not json", b"[1, 2]", b"null", b'"text"', b"{" * 1000]
    bodies += [json.dumps({name: value for name in fields}).encode()
               for value in HOSTILE_VALUES if value not in ("\ud800",)]
    bodies.append(b'{"quantities": {"\\ud800": 1}, "action": "\\ud800"}')
    # Well-formed requests with values the services must refuse, so the handlers run.
    spec, big = str(world.spec_id), "9999999999"  # 10 digits, beyond a 32-bit id
    bodies += [json.dumps(body).encode() for body in [
        {"quantities": {spec: world.moq}}, {"quantities": {big: world.moq}},
        {"quantities": {spec: 10_000_000}}, {"quantities": {spec: 0}},
        {"quantity": 0}, {"quantity": world.moq}, {"quantity": 10_000_000},
        {"idempotency_key": "k" * 32, "delivery": "nonsense", "payment": "cod"},
        {"idempotency_key": "k" * 33, "delivery": "delivery", "payment": "cod",
         "address_id": int(big)},
        {"idempotency_key": "k" * 34, "delivery": "delivery", "payment": "cod",
         "expected_total": "abc", **NEW_ADDRESS},
        {"action": "cancel"}, {"action": "confirm_receipt"}, {"action": "reorder"},
        {"mobile": world.customer.mobile, "password": "x" * 1000}]]
    failures, signed_in = [], set()
    for rule in _api_rules(app):
        for path in _paths(rule):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                if method == "GET":
                    sent = [client.get(path, headers=headers,
                                       query_string={name: str(value) for name in fields})
                            for value in HOSTILE_VALUES
                            if isinstance(value, str | int) and value != "\ud800"]
                else:
                    sent = [client.open(path, method=method, headers=headers, data=body,
                                        content_type="application/json") for body in bodies]
                    sent.append(client.open(path, method=method, headers=headers,
                                            data={"a": "1"}))
                for resp in sent:
                    if resp.status_code >= 500 or not resp.is_json:
                        failures.append((method, path, resp.status_code))
                    signed_in.add(resp.status_code != 401)
    assert not failures, failures[:20]
    assert True in signed_in  # the handlers ran for a signed-in customer


# ---- the salesman's end ------------------------------------------------------------------

def test_a_salesman_works_his_orders_over_the_api(app, client, world):
    with app.app_context():
        order_no = world.order("pending").order_no
    headers = bearer(tokens_for(client, world.salesman.mobile)["access_token"])
    page = client.get("/api/v1/sales/orders?tab=pending", headers=headers).get_json()
    assert [o["order_no"] for o in page["items"]] == [order_no]
    assert page["counts"]["pending"] == 1 and page["items"][0]["shop_name"]
    detail = client.get(f"/api/v1/sales/orders/{order_no}", headers=headers).get_json()
    assert "confirm" in detail["actions"] and detail["drivers"] == []

    def act(**body):
        return client.post(f"/api/v1/sales/orders/{order_no}/actions", json=body,
                           headers=headers)

    refused = act(action="close")  # a reason is required
    assert refused.status_code == 400 and refused.get_json()["message"]
    assert act(action="nonsense").status_code == 422
    confirmed = act(action="confirm").get_json()
    assert confirmed["state"] == "confirmed"
    driver = next(d for d in confirmed["drivers"] if d["id"] == world.driver.id)
    assigned = act(action="assign_driver", driver_id=str(driver["id"])).get_json()
    assert assigned["state"] == "assigned" and assigned["driver"]["phone"] == driver["phone"]
    assert any("Driver assigned" in e["title"] or "司机" in e["title"]
               for e in assigned["history"])


def test_only_the_regions_salesman_reaches_an_order_over_the_api(app, client, world):
    with app.app_context():
        order_no = world.order("pending").order_no
    expected = {world.other_salesman.mobile: 404, world.customer.mobile: 403,
                world.driver.mobile: 403}
    for mobile, status in expected.items():
        headers = bearer(tokens_for(client, mobile)["access_token"])
        assert client.get(f"/api/v1/sales/orders/{order_no}", headers=headers).status_code \
            == status
        resp = client.post(f"/api/v1/sales/orders/{order_no}/actions",
                           json={"action": "confirm"}, headers=headers)
        assert resp.status_code == status
    assert client.get("/api/v1/sales/orders").status_code == 401
    with app.app_context():
        from sqlalchemy import select

        from app.ordering.models import Order
        assert db.session.scalar(select(Order.state).where(Order.order_no == order_no)) \
            == "pending"


# ---- the driver's end --------------------------------------------------------------------

def test_a_driver_delivers_over_the_api_and_sees_only_the_cash(app, client, world):
    with app.app_context():
        order = world.order("assigned")
        order_no, total = order.order_no, str(order.total)
    headers = bearer(tokens_for(client, world.driver.mobile)["access_token"])
    page = client.get("/api/v1/driver/orders?tab=to_load", headers=headers).get_json()
    assert [o["order_no"] for o in page["items"]] == [order_no] and page["counts"]["to_load"]
    mine = page["items"][0]
    assert mine["cash_to_collect"] == total and mine["actions"] == ["start_delivery"]
    text = json.dumps(page)
    assert "unit_price" not in text and "amount" not in text and '"total"' not in text

    started = client.post(f"/api/v1/driver/orders/{order_no}/start", headers=headers)
    assert started.get_json()["state"] == "delivering"
    url = f"/api/v1/driver/orders/{order_no}/complete"
    no_photo = client.post(url, json={"cash_collected": total}, headers=headers)
    assert no_photo.status_code == 400 and no_photo.get_json()["message"]
    photos = f"/api/v1/driver/orders/{order_no}/photos"

    def upload(upload_id):
        return client.post(photos, headers=headers, content_type="multipart/form-data",
                           data={"upload_id": upload_id,
                                 "photo": (io.BytesIO(image_bytes()), "note.jpg")})

    assert upload("short").status_code == 400
    first, retried = upload("photo-0001"), upload("photo-0001")  # the answer was lost
    assert first.status_code == retried.status_code == 201
    assert first.get_json()["id"] == retried.get_json()["id"]
    wrong = upload("photo-0002").get_json()
    listed = client.get(f"/api/v1/driver/orders/{order_no}", headers=headers).get_json()
    assert [p["upload_id"] for p in listed["photos"]] == ["photo-0001", "photo-0002"]
    assert client.delete(f"{photos}/{wrong['id']}", headers=headers).status_code == 204
    assert client.delete(f"{photos}/{wrong['id']}", headers=headers).status_code == 404
    listed = client.get(f"/api/v1/driver/orders/{order_no}", headers=headers).get_json()
    assert [p["id"] for p in listed["photos"]] == [first.get_json()["id"]]
    line_id = mine["lines"][0]["id"]
    too_many = client.post(url, json={"refused": [{"line_id": line_id,
                                                   "quantity": 10 ** 6}]}, headers=headers)
    assert too_many.status_code == 400
    done = client.post(url, json={"refused": [{"line_id": line_id, "quantity": world.moq,
                                               "reason": "破损"}],
                                  "cash_collected": "1.00"}, headers=headers)
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["state"] == "delivered" and body["lines"][0]["refused_qty"] == world.moq
    assert body["cash_collected"] == "1.00" and body.get("cash_to_collect") is None


def test_only_the_assigned_driver_reaches_a_delivery_over_the_api(app, client, world):
    with app.app_context():
        order_no = world.order("assigned").order_no
    expected = {world.driver2.mobile: 404, world.other_driver.mobile: 404,
                world.salesman.mobile: 403, world.customer.mobile: 403}
    for mobile, status in expected.items():
        headers = bearer(tokens_for(client, mobile)["access_token"])
        for method, path in (("get", ""), ("post", "/start"), ("post", "/complete"),
                             ("post", "/photos"), ("delete", "/photos/1")):
            body = {"json": {}} if path in ("/start", "/complete") else \
                {"data": {"upload_id": "photo-9999"}} if path == "/photos" else {}
            resp = getattr(client, method)(f"/api/v1/driver/orders/{order_no}{path}",
                                           headers=headers, **body)
            assert resp.status_code == status, (mobile, path, resp.status_code)
    driver = bearer(tokens_for(client, world.driver.mobile)["access_token"])
    assert client.get(f"/api/v1/driver/orders/{order_no}", headers=driver).get_json()[
        "state"] == "assigned"


def test_a_spec_id_beyond_the_database_is_refused_by_the_cart(app, world):
    from app.ordering import cart
    from app.platform.errors import ValidationError

    with app.app_context():
        customer = world.user(world.customer)
        for spec_id in (2 ** 31, 999999999999999999, "9999999999", -1):
            with pytest.raises(ValidationError):
                cart.add_to_cart(customer, {spec_id: world.moq})
