"""Every route with an id in it, requested as each kind of person, in and out of region.

The test first walks app.url_map: a route with a variable part must be listed in ROUTES
below (or belong to a Flask-AppBuilder view, which the back-office part covers), so a
new route cannot slip in unchecked. Then each listed route is requested as a visitor, the
order's customer, another customer, a salesman of the order's region and of another
region, the assigned driver, another driver of the region and one of another region,
customer service and an admin, and must answer as the scoping rules say.
"""

import io
import json
import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.catalog.models import Brand, Category, Product, Spec
from app.content.models import Article
from app.extensions import db
from app.members.models import Member
from app.ordering import scope
from app.ordering.models import DeliveryPhoto, Order
from app.payments import statements
from app.payments.models import Statement
from app.platform import uploads
from app.platform.time import local_date
from tests import catalog_factory as cf
from tests.conftest import PASSWORD, login
from tests.images import image_bytes
from tests.order_factory import World

WHO = ["visitor", "customer", "other_customer", "salesman", "other_salesman", "driver",
       "driver2", "other_driver", "cs", "admin"]

# route -> kind (the expectations of each kind are in EXPECT below)
ROUTES = {
    "/product/<int:product_id>": "public",
    "/api/v1/products/<int:product_id>": "public",  # the API ignores cookies: as visitors
    "/category/<int:category_id>": "public",
    "/brand/<int:brand_id>": "public",
    "/articles/<int:article_id>": "public",
    "/auth/lang/<locale>": "no_data",
    "/static/<path:filename>": "no_data",
    "/static/appbuilder/<path:filename>": "no_data",
    "/media/<path:key>": "order_file",
    "/orders/<order_no>": "customer_order",
    "/orders/<order_no>/refund": "customer_order",
    "/orders/<order_no>/<action>": "customer_order_post",
    "/orders/<order_no>/voucher": "customer_order_post",
    "/orders/<order_no>/pay": "customer_order",  # GET shows, POST starts (posts below)
    "/orders/<order_no>/pay/check": "customer_order_post",
    "/orders/<order_no>/pay/status": "customer_order",
    "/me/statements/<int:statement_id>": "own_statement",
    "/me/statements/<int:statement_id>.<fmt>": "own_statement",
    "/sales/orders/<order_no>": "sales_order",
    "/sales/orders/<order_no>/<action>": "sales_order_post",
    "/sales/customers/<int:member_id>/order": "sales_customer",
    "/sales/customers/<int:member_id>/order/cart": "sales_customer_post",
    "/sales/customers/<int:member_id>/order/submit": "sales_customer_post",
    "/sales/qr.<fmt>": "salesman_only",
    "/driver/orders/<order_no>": "driver_order",
    # The API: the same rules, people known by their Bearer token (test_api_* below).
    "/api/v1/orders/<order_no>": "api_customer_order",
    "/api/v1/orders/<order_no>/refund": "api_customer_order",
    "/api/v1/brands/<int:brand_id>": "public",
    # Whoever holds a fresh signed path may fetch its photo (test_signed_media_paths...).
    "/media/signed/<token>": "signed_media",
    "/api/v1/orders/<order_no>/actions": "api_customer_order_post",
    "/api/v1/cart/lines/<int:line_id>": "api_cart_line",
    "/api/v1/sales/orders/<order_no>": "api_sales_order",
    # 代客下单 over the API: test_api_sales.py::test_order_for_is_refused_outside_my_regions.
    "/api/v1/sales/customers/<int:member_id>/order": "api_sales_customer",
    "/api/v1/sales/customers/<int:member_id>/order/cart": "api_sales_customer",
    "/api/v1/sales/customers/<int:member_id>/order/submit": "api_sales_customer",
    "/api/v1/sales/orders/<order_no>/actions": "api_sales_order_post",
    "/api/v1/driver/orders/<order_no>": "api_driver_order",
    "/api/v1/driver/orders/<order_no>/start": "api_driver_order_post",
    "/api/v1/driver/orders/<order_no>/complete": "api_driver_order_post",
    "/api/v1/driver/orders/<order_no>/photos": "api_driver_order_post",
    "/api/v1/driver/orders/<order_no>/photos/<int:photo_id>": "api_driver_order_post",
    # Money over the API (test_api_money_routes_answer_as_the_scoping_rules_say).
    "/api/v1/orders/<order_no>/vouchers": "api_customer_order_post",
    "/api/v1/orders/<order_no>/wechat-pay": "api_customer_order_post",
    "/api/v1/orders/<order_no>/wechat-pay/check": "api_customer_order_post",
    "/api/v1/me/statements/<int:statement_id>": "api_own_statement",
    "/api/v1/me/statements/<int:statement_id>/pdf": "api_own_statement",
    "/api/v1/me/statements/<int:statement_id>/xlsx": "api_own_statement",
    # One's own WeChat identities only (test_wechat_identities_are_their_owners_only).
    "/me/wechat/<int:identity_id>/unbind": "own_wechat_identity",
    "/api/v1/me/wechat/<int:identity_id>": "own_wechat_identity",
    "/driver/orders/<order_no>/start": "driver_order_post",
    "/driver/orders/<order_no>/photos": "driver_order_post",
    "/driver/orders/<order_no>/complete": "driver_order_post",
    # Back office (Flask-AppBuilder views; also walked by the last test below).
    "/admin/messages/show/<int:pk>": "message_log",
    "/admin/messages/retry/<int:pk>": "message_log_post",
    "/admin/message-templates/edit/<event>/<channel>": "admin_only",
    "/admin/message-templates/reset/<event>/<channel>": "admin_only_post",
}

# The public routes and the object each shows (the scene makes one of each).
PUBLIC_OBJECTS = {"/product/<int:product_id>": "product",
                  "/api/v1/products/<int:product_id>": "product",
                  "/category/<int:category_id>": "category",
                  "/brand/<int:brand_id>": "brand", "/articles/<int:article_id>": "article",
                  "/api/v1/brands/<int:brand_id>": "brand"}

ALL = set(WHO)
SIGN_IN = 302
# kind -> {status: who}; anyone not named must get the status under "others".
EXPECT = {
    "public": {200: ALL},
    "customer_order": {200: {"customer"}, SIGN_IN: {"visitor"}, "others": 404},
    "sales_order": {200: {"salesman"}, 404: {"other_salesman"}, SIGN_IN: {"visitor"},
                    "others": 403},
    "sales_customer": {200: {"salesman"}, 404: {"other_salesman"}, SIGN_IN: {"visitor"},
                       "others": 403},
    "salesman_only": {200: {"salesman", "other_salesman"}, SIGN_IN: {"visitor"},
                      "others": 403},
    "driver_order": {200: {"driver"}, 404: {"driver2", "other_driver"},
                     SIGN_IN: {"visitor"}, "others": 403},
    "order_file": {200: {"customer", "salesman", "driver", "cs", "admin"}, "others": 404},
    "own_statement": {200: {"customer"}, SIGN_IN: {"visitor"}, "others": 404},
    "message_log": {200: {"cs", "admin"}, SIGN_IN: {"visitor"}, "others": 403},
    "admin_only": {200: {"admin"}, SIGN_IN: {"visitor"}, "others": 403},
}
# POSTs are sent only by people who must be refused; the order must not change.
REFUSED_POSTS = {
    "customer_order_post": ({SIGN_IN: {"visitor"}, "others": 404}, "customer"),
    "own_statement_post": ({SIGN_IN: {"visitor"}, "others": 404}, "customer"),
    "sales_order_post": ({404: {"other_salesman"}, SIGN_IN: {"visitor"}, "others": 403},
                         "salesman"),
    "sales_customer_post": ({404: {"other_salesman"}, SIGN_IN: {"visitor"}, "others": 403},
                            "salesman"),
    "driver_order_post": ({404: {"driver2", "other_driver"}, SIGN_IN: {"visitor"},
                           "others": 403}, "driver"),
    "message_log_post": ({SIGN_IN: {"visitor"}, "others": 403}, {"cs", "admin"}),
    "admin_only_post": ({SIGN_IN: {"visitor"}, "others": 403}, {"admin"}),
}


def fab_blueprints(app):
    return {view.blueprint.name for view in app.appbuilder.baseviews
            if getattr(view, "blueprint", None) is not None}


def test_every_route_with_an_id_is_in_the_matrix(app):
    fab = fab_blueprints(app)
    unlisted = [rule.rule for rule in app.url_map.iter_rules()
                if "<" in rule.rule and rule.rule not in ROUTES
                and rule.endpoint.split(".")[0] not in fab]
    assert unlisted == [], f"routes missing from the permission matrix: {unlisted}"


@pytest.fixture
def scene(app, make):
    """An order of region A assigned to `driver`, with a private delivery photo."""
    with app.app_context():
        world = World(app, make)
        order = world.order("assigned")
        stored = uploads.save_image(FileStorage(io.BytesIO(image_bytes()), filename="n.jpg"),
                                    private=True,
                                    folder=scope.order_folder(order.id, "delivery"))
        db.session.add(DeliveryPhoto(order_id=order.id, key=stored.key))
        db.session.commit()
        # One of each public object, and the name its page must show.
        product = cf.product(name="椰汁", item_no="YZ-001", brand="椰树", category="饮料")
        article = Article(title="配送说明", body="<p>次日达</p>", published=True)
        db.session.add(article)
        db.session.commit()
        rows = {"product": (Product, product.id, "椰汁"),
                "category": (Category, product.category_id, "饮料"),
                "brand": (Brand, product.brand_id, "椰树"),
                "article": (Article, article.id, "配送说明")}
        for name, (model, row_id, _shown) in rows.items():
            assert row_id is not None and db.session.get(model, row_id) is not None, name
        public = {name: (row_id, shown) for name, (_model, row_id, shown) in rows.items()}
        clients = {"visitor": app.test_client()}
        refs = {"customer": world.customer, "other_customer": world.other_customer,
                "salesman": world.salesman, "other_salesman": world.other_salesman,
                "driver": world.driver, "driver2": world.driver2,
                "other_driver": world.other_driver, "cs": world.cs, "admin": world.admin}
        # A 统一结算 member's statement of last month (empty: its orders are this month's).
        db.session.get(Member, world.customer.id).monthly_settlement = True
        db.session.commit()
        statements.issue(statements.previous_month(statements.month_of(local_date())))
        statement_id = db.session.scalar(select(Statement.id))
        info = {"order_no": order.order_no, "order_id": order.id, "key": stored.key,
                "statement_id": statement_id,
                "member_id": world.customer.id, "public": public,
                "mobiles": {who: ref.mobile for who, ref in refs.items()}}
    for who, ref in refs.items():
        clients[who] = app.test_client()
        login(clients[who], ref.mobile)
    return clients, info


def _expected(kind_table, who):
    for status, people in kind_table.items():
        if status != "others" and who in people:
            return status
    return kind_table.get("others")


def _token(client):
    """A CSRF token of this client's session, so that a refusal is never CSRF's 400."""
    html = client.get("/auth/login").get_data(as_text=True)
    if "csrf-token" not in html:
        html = client.get("/me").get_data(as_text=True)
    found = re.search(r'csrf[-_]token"[^>]*(?:value|content)="([^"]+)"', html)
    assert found, "no CSRF token for this client"
    return found[1]


def test_reads_answer_as_the_scoping_rules_say(app, scene):
    clients, info = scene
    no, key, member = info["order_no"], info["key"], info["member_id"]
    urls = {
        "customer_order": [f"/orders/{no}", f"/orders/{no}/refund", f"/orders/{no}/pay",
                           f"/orders/{no}/pay/status"],
        "sales_order": [f"/sales/orders/{no}"],
        "sales_customer": [f"/sales/customers/{member}/order"],
        "salesman_only": ["/sales/qr.png"],
        "driver_order": [f"/driver/orders/{no}"],
        "order_file": [f"/media/{key}"],
        "own_statement": [f"/me/statements/{info['statement_id']}",
                          f"/me/statements/{info['statement_id']}.pdf"],
    }
    for kind, paths in urls.items():
        for path in paths:
            for who in WHO:
                status = clients[who].get(path).status_code
                assert status == _expected(EXPECT[kind], who), (kind, path, who, status)


def test_public_pages_open_for_everyone(app, scene):
    """Each public route of the matrix, at an object that exists, shows that object to
    every kind of person; an id that names nothing is 404, not an empty page."""
    clients, info = scene
    public = info["public"]
    assert set(PUBLIC_OBJECTS) == {route for route, kind in ROUTES.items() if kind == "public"}
    requested = set()
    for route, name in PUBLIC_OBJECTS.items():
        row_id, shown = public[name]
        prefix = route.split("<")[0]
        for who in WHO:
            resp = clients[who].get(f"{prefix}{row_id}")
            assert resp.status_code == _expected(EXPECT["public"], who) == 200, (route, who)
            text = json.dumps(resp.get_json(), ensure_ascii=False) if resp.is_json \
                else resp.get_data(as_text=True)
            assert shown in text, (route, who, shown)
            requested.add(route)
        nothing = max(row for row, _shown in public.values()) + 1000
        assert clients["visitor"].get(f"{prefix}{nothing}").status_code == 404, route
    assert requested == set(PUBLIC_OBJECTS)


def test_writes_are_refused_and_change_nothing(app, scene):
    clients, info = scene
    no, member = info["order_no"], info["member_id"]
    posts = {
        "customer_order_post": [(f"/orders/{no}/cancel", {}),
                                (f"/orders/{no}/voucher", {"amount": "1"}),
                                (f"/orders/{no}/pay", {}), (f"/orders/{no}/pay/check", {})],
        "sales_order_post": [(f"/sales/orders/{no}/close", {"reason": "x"})],
        "sales_customer_post": [(f"/sales/customers/{member}/order/submit",
                                 {"delivery": "delivery", "payment": "cod"})],
        "driver_order_post": [(f"/driver/orders/{no}/start", {}),
                              (f"/driver/orders/{no}/complete", {})],
        "own_statement_post": [(f"/me/statements/{info['statement_id']}",
                                {"answer": "confirm"})],
    }
    with app.app_context():
        before = db.session.get(Order, info["order_id"])
        before = (before.state, len(before.events), before.total)
    for kind, requests in posts.items():
        table, allowed = REFUSED_POSTS[kind]
        for path, data in requests:
            for who in WHO:
                if who == allowed:
                    continue
                token = _token(clients[who])
                status = clients[who].post(path, data={**data, "csrf_token": token}).status_code
                assert status == _expected(table, who), (kind, path, who, status)
    with app.app_context():
        after = db.session.get(Order, info["order_id"])
        assert (after.state, len(after.events), after.total) == before
        assert db.session.get(Statement, info["statement_id"]).status == "issued"


def test_back_office_id_routes_refuse_everyone_but_staff(app, scene):
    clients, info = scene
    fab = fab_blueprints(app)
    paths = set()
    for rule in app.url_map.iter_rules():
        if "<" not in rule.rule or rule.endpoint.split(".")[0] not in fab:
            continue
        if "GET" not in rule.methods or rule.rule.startswith(("/lang/", "/static/")):
            continue
        path = re.sub(r"<(?:int:|string:|path:)?pk>", str(info["order_id"]), rule.rule)
        path = re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "1", path)
        paths.add(path)
    for path in sorted(paths):
        for who in ("visitor", "customer", "salesman", "driver"):
            resp = clients[who].get(path)
            assert resp.status_code in (302, 403, 404, 405), (path, who, resp.status_code)
            if resp.status_code == 302:
                assert "/login" in resp.headers["Location"] or \
                    resp.headers["Location"].endswith("/admin/"), (path, who)
        for who in ("cs", "admin"):
            assert clients[who].get(path).status_code != 500, (path, who)
    assert clients["cs"].get(f"/admin/orders/show/{info['order_id']}").status_code == 200
    assert clients["admin"].get(f"/admin/orders/note/{info['order_id']}.pdf").status_code \
        == 200


def test_message_screens_answer_as_the_roles_say(app, scene):
    """The message log (customer service and admin) and templates (admin only): reads
    answer per role; a retry, a template save or a reset by anyone else changes nothing."""
    from app.messaging.models import Message, MessageTemplate

    clients, _info = scene
    with app.app_context():
        message = Message(channel="sms", recipient="13800000001", event="order_confirmed",
                          body="订单确认通知", params={}, status="failed", attempts=6)
        db.session.add(message)
        db.session.commit()
        message_id = message.id
    reads = {"message_log": [f"/admin/messages/show/{message_id}", "/admin/messages/list/"],
             "admin_only": ["/admin/message-templates/edit/order_confirmed/sms",
                            "/admin/message-templates/", "/admin/queues/"]}
    for kind, paths in reads.items():
        for path in paths:
            for who in WHO:
                status = clients[who].get(path).status_code
                assert status == _expected(EXPECT[kind], who), (kind, path, who, status)
    posts = {"message_log_post": [(f"/admin/messages/retry/{message_id}", {})],
             "admin_only_post": [
                 ("/admin/message-templates/reset/order_confirmed/sms", {}),
                 ("/admin/message-templates/edit/order_confirmed/sms",
                  {"do": "save", "text": "改了{order_no}"})]}
    for kind, requests in posts.items():
        table, allowed = REFUSED_POSTS[kind]
        for path, data in requests:
            for who in WHO:
                if who in allowed:
                    continue
                token = _token(clients[who])
                status = clients[who].post(path, data={**data, "csrf_token": token}).status_code
                assert status == _expected(table, who), (kind, path, who, status)
    with app.app_context():
        row = db.session.get(Message, message_id)
        assert (row.status, row.attempts) == ("failed", 6)
        assert db.session.query(MessageTemplate).count() == 0


# ---- the API: the same scoping, for people known by their Bearer token ----------------

def _api_clients(app, info):
    """(client, headers) per person: a token from the API's own sign-in, no cookie."""
    people = {"visitor": (app.test_client(), {})}
    for who, mobile in info["mobiles"].items():
        client = app.test_client()
        resp = client.post("/api/v1/auth/token", json={"mobile": mobile, "password": PASSWORD})
        assert resp.status_code == 200, (who, resp.get_json())
        people[who] = (client, {"Authorization": "Bearer " + resp.get_json()["access_token"]})
    return people


API_CUSTOMER_ORDER = {200: {"customer"}, 401: {"visitor"}, "others": 404}
API_SALES_ORDER = {200: {"salesman"}, 404: {"other_salesman"}, 401: {"visitor"},
                   "others": 403}
API_DRIVER_ORDER = {200: {"driver"}, 404: {"driver2", "other_driver"}, 401: {"visitor"},
                    "others": 403}


def test_api_reads_and_writes_answer_as_the_scoping_rules_say(app, scene):
    _clients, info = scene
    no = info["order_no"]
    people = _api_clients(app, info)
    for who, (client, headers) in people.items():
        status = client.get(f"/api/v1/orders/{no}", headers=headers).status_code
        assert status == _expected(API_CUSTOMER_ORDER, who), (who, status)
        status = client.get(f"/api/v1/orders/{no}/refund", headers=headers).status_code
        assert status == _expected(API_CUSTOMER_ORDER, who), (who, "refund", status)
        status = client.get(f"/api/v1/sales/orders/{no}", headers=headers).status_code
        assert status == _expected(API_SALES_ORDER, who), (who, status)
        status = client.get(f"/api/v1/driver/orders/{no}", headers=headers).status_code
        assert status == _expected(API_DRIVER_ORDER, who), (who, status)
    with app.app_context():
        before = db.session.get(Order, info["order_id"])
        photo_id = before.photos[0].id
        before = (before.state, len(before.events), before.total, len(before.photos))
    for who, (client, headers) in people.items():
        if who == "customer":
            continue
        for action in ("cancel", "confirm_receipt", "reorder"):
            resp = client.post(f"/api/v1/orders/{no}/actions", json={"action": action},
                               headers=headers)
            assert resp.status_code == _expected(API_CUSTOMER_ORDER, who), (who, action)
        if who != "driver":
            for path in ("start", "complete"):
                resp = client.post(f"/api/v1/driver/orders/{no}/{path}", json={},
                                   headers=headers)
                assert resp.status_code == _expected(API_DRIVER_ORDER, who), (who, path)
            resp = client.post(f"/api/v1/driver/orders/{no}/photos", headers=headers,
                               data={"upload_id": "photo-0001"})
            assert resp.status_code == _expected(API_DRIVER_ORDER, who), (who, "photo")
            resp = client.delete(f"/api/v1/driver/orders/{no}/photos/{photo_id}",
                                 headers=headers)
            assert resp.status_code == _expected(API_DRIVER_ORDER, who), (who, "remove")
        if who == "salesman":
            continue
        for action, data in (("close", {"reason": "x"}), ("mark_paid", {"note": "x"})):
            resp = client.post(f"/api/v1/sales/orders/{no}/actions",
                               json={"action": action, **data}, headers=headers)
            assert resp.status_code == _expected(API_SALES_ORDER, who), (who, action)
    with app.app_context():
        after = db.session.get(Order, info["order_id"])
        assert (after.state, len(after.events), after.total, len(after.photos)) == before


API_OWN_STATEMENT = {200: {"customer"}, 401: {"visitor"}, 404: {"other_customer"},
                     "others": 403}


def test_api_money_routes_answer_as_the_scoping_rules_say(app, scene):
    """A statement is its member's alone (the staff's ends show theirs elsewhere); a
    voucher is sent on one's own order only."""
    from app.payments.models import Voucher

    _clients, info = scene
    no, statement_id = info["order_no"], info["statement_id"]
    people = _api_clients(app, info)
    url = f"/api/v1/me/statements/{statement_id}"
    for who, (client, headers) in people.items():
        for path in ("", "/pdf", "/xlsx"):
            status = client.get(url + path, headers=headers).status_code
            assert status == _expected(API_OWN_STATEMENT, who), (who, path, status)
        if who == "customer":
            continue
        status = client.post(url, json={"confirm": True}, headers=headers).status_code
        assert status == _expected(API_OWN_STATEMENT, who), (who, "answer", status)
        for path in ("wechat-pay", "wechat-pay/check"):
            status = client.post(f"/api/v1/orders/{no}/{path}", headers=headers).status_code
            assert status == _expected(API_CUSTOMER_ORDER, who), (who, path, status)
        status = client.post(f"/api/v1/orders/{no}/vouchers", headers=headers, data={
            "photo": (io.BytesIO(image_bytes()), "v.jpg"), "amount": "1",
            "paid_on": f"{local_date():%Y-%m-%d}"}).status_code
        assert status == _expected(API_CUSTOMER_ORDER, who), (who, "voucher", status)
    with app.app_context():
        assert db.session.get(Statement, statement_id).status == "issued"
        assert db.session.scalar(select(func.count(Voucher.id))) == 0


def test_api_cart_lines_are_their_owners_only(app, scene):
    _clients, info = scene
    people = _api_clients(app, info)
    with app.app_context():
        spec = db.session.scalar(select(Spec).where(
            Spec.product_id == info["public"]["product"][0]))
        step = spec.pack_unit.inner_qty
    owner, owner_headers = people["customer"]
    resp = owner.post("/api/v1/cart", json={"quantities": {str(spec.id): step}},
                      headers=owner_headers)
    assert resp.status_code == 200, resp.get_json()
    line = resp.get_json()["lines"][0]
    for who, (client, headers) in people.items():
        if who == "customer":
            continue
        changed = client.put(f"/api/v1/cart/lines/{line['id']}", json={"quantity": step * 2},
                             headers=headers)
        assert changed.status_code == (401 if who == "visitor" else 400), who
        removed = client.delete(f"/api/v1/cart/lines/{line['id']}", headers=headers)
        assert removed.status_code in ((401,) if who == "visitor" else (200, 403)), who
    lines = owner.get("/api/v1/cart", headers=owner_headers).get_json()["lines"]
    assert [(ln["id"], ln["quantity"]) for ln in lines] == [(line["id"], step)]


def test_signed_media_paths_open_their_photo_only_while_fresh(app, scene, monkeypatch):
    _clients, info = scene
    people = _api_clients(app, info)
    client, headers = people["customer"]
    [photo] = client.get(f"/api/v1/orders/{info['order_no']}", headers=headers).get_json()[
        "photos"]
    assert photo["url"].startswith("/media/signed/")
    stranger = app.test_client()  # no cookie, no token: the path is the permission
    resp = stranger.get(photo["url"])
    assert resp.status_code == 200 and resp.mimetype.startswith("image/")
    assert "no-store" in resp.headers["Cache-Control"]
    assert stranger.get(photo["thumb_url"]).status_code == 200
    token = photo["url"].rsplit("/", 1)[1]
    assert stranger.get("/media/signed/" + token[:-3] + "abc").status_code == 404
    assert stranger.get("/media/signed/not-a-token").status_code == 404
    monkeypatch.setitem(app.config, "MEDIA_URL_TTL", -1)
    assert stranger.get(photo["url"]).status_code == 404
