"""The customer's other screens over the API: home blocks, brands, the shop profile with
its private photos as short-lived signed paths, refund requests with photos, 常购清单 and
the in-app messages; each refused to the people the web refuses."""

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.catalog.models import Brand
from app.content.models import Article, HomeBlock, HomeBlockItem
from app.extensions import db
from app.members.models import Member
from app.messaging.models import Message
from app.ordering.models import Order, Refund
from app.platform.models import ShopSettings
from tests import test_api as api_tests
from tests.images import image_bytes
from tests.test_api import bearer, tokens_for
from tests.test_storefront import GOLD, approved

shop = api_tests.shop  # the storefront tests' catalog fixture
world = api_tests.world  # orders in any state, with staff of two regions
EN = {"Accept-Language": "en"}


def auth(client, ref, **headers):
    return {**bearer(tokens_for(client, ref.mobile)["access_token"]), **headers}


def image(name="photo.jpg", **kwargs):
    return (io.BytesIO(image_bytes(**kwargs)), name)


def close_the_shop(app):
    with app.app_context():
        settings = db.session.get(ShopSettings, 1) or ShopSettings(id=1)
        settings.is_open = False
        db.session.add(settings)
        db.session.commit()


def set_status(app, ref, status):
    with app.app_context():
        db.session.get(Member, ref.id).status = status
        db.session.commit()


def refunds_of(app, order_no) -> list[Refund]:
    with app.app_context():
        return db.session.scalars(select(Refund).join(Order).where(
            Order.order_no == order_no)).all()


def refund_files(app) -> list[Path]:
    return [p for p in Path(app.config["MEDIA_ROOT"]).rglob("*")
            if p.is_file() and "refund" in p.parts]


# ---- home and brands ---------------------------------------------------------------------

def test_the_home_blocks_in_order_with_public_image_paths(app, client, make, shop):
    empty = client.get("/api/v1/home")
    assert empty.status_code == 200 and "Set-Cookie" not in empty.headers
    assert empty.get_json()["blocks"] == [] and empty.get_json()["shop"]["name"]
    with app.app_context():
        db.session.add(Article(kind="announcement", title="公告", body="", published=True))
        db.session.add_all([
            HomeBlock(kind="products", title="热卖", category_id=shop["top"], position=4),
            HomeBlock(kind="banner", position=1, items=[
                HomeBlockItem(image="public/banner/a.jpg", link=f"/category/{shop['top']}",
                              position=0),
                HomeBlockItem(image="public/banner/b.jpg", link="javascript:alert(1)",
                              position=1)]),
            HomeBlock(kind="notice", position=3),
            HomeBlock(kind="icon_nav", position=2, items=[
                HomeBlockItem(label="品牌", link="/brands", position=0)]),
            HomeBlock(kind="articles", title="资讯", article_kind="article", position=5),
            HomeBlock(kind="notice", text="隐藏", position=0, visible=False)])
        db.session.commit()
    body = client.get("/api/v1/home").get_json()
    blocks = body["blocks"]
    assert [b["kind"] for b in blocks] == ["banner", "icon_nav", "notice", "products",
                                           "articles"]
    slides = blocks[0]["items"]
    assert slides[0]["image_url"] == "/media/public/banner/a.jpg"
    assert slides[0]["thumb_url"] == "/media/public/banner/a_t.jpg"
    assert slides[0]["link"] == f"/category/{shop['top']}" and slides[1]["link"] is None
    assert blocks[1]["items"][0] == {"image_url": None, "thumb_url": None, "label": "品牌",
                                     "link": "/brands"}
    assert [a["title"] for a in blocks[2]["articles"]] == ["公告"]
    products = blocks[3]["products"]
    assert [p["id"] for p in products] == [shop["product"]]
    assert blocks[3]["category_id"] == shop["top"] and blocks[4]["articles"] == []
    # A visitor: no price field at all, and why.
    assert "unit_price" not in json.dumps(body) and body["price_note"]
    assert body["can_order"] is False
    gold = auth(client, approved(app, make, shop, "金牌"))
    body = client.get("/api/v1/home", headers=gold).get_json()
    assert body["blocks"][3]["products"][0]["specs"][0]["unit_price"] == str(GOLD)
    assert body["can_order"] is True and "price_note" not in body


def test_brands_and_a_brand_with_its_products(app, client, make, shop):
    listed = client.get("/api/v1/brands").get_json()
    assert listed["total"] == 1 and listed["pages"] == 1
    assert listed["items"] == [{"id": shop["brand"], "name": "椰城", "logo_url": None}]
    detail = client.get(f"/api/v1/brands/{shop['brand']}").get_json()
    assert detail["brand"]["story"] == "海南本地品牌" and detail["total"] == 1
    assert [p["id"] for p in detail["items"]] == [shop["product"]]
    assert "unit_price" not in json.dumps(detail) and detail["price_note"]
    waiting = auth(client, make.member(status="pending"))
    detail = client.get(f"/api/v1/brands/{shop['brand']}", headers=waiting).get_json()
    assert "unit_price" not in json.dumps(detail) and detail["can_order"] is False
    gold = auth(client, approved(app, make, shop, "金牌"))
    detail = client.get(f"/api/v1/brands/{shop['brand']}", headers=gold).get_json()
    assert detail["items"][0]["specs"][0]["pack_price"] == str(GOLD * 20)
    with app.app_context():
        db.session.add(Brand(name="空品牌"))
        db.session.commit()
        empty_id = db.session.scalar(select(Brand.id).where(Brand.name == "空品牌"))
    empty = client.get(f"/api/v1/brands/{empty_id}").get_json()
    assert empty["items"] == [] and empty["total"] == 0
    assert client.get("/api/v1/brands?page=2").get_json()["items"] == []


@pytest.mark.parametrize("path", ["/api/v1/brands/999999", "/api/v1/brands/99999999999",
                                  "/api/v1/brands/0", "/api/v1/brands/abc"])
def test_a_missing_brand_is_a_json_404(client, path):
    resp = client.get(path)
    assert resp.status_code == 404 and resp.get_json()["code"] == "not_found"


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page=99999999999", "page=1.5"])
def test_bad_pages_are_422(client, shop, query):
    for path in ("/api/v1/brands", f"/api/v1/brands/{shop['brand']}"):
        resp = client.get(f"{path}?{query}")
        assert resp.status_code == 422 and resp.get_json()["code"] == "validation"


def test_no_brands_yet_and_a_closed_shop(app, client, make):
    assert client.get("/api/v1/brands").get_json() == {"items": [], "total": 0, "page": 1,
                                                        "pages": 1}
    close_the_shop(app)
    for path in ("/api/v1/home", "/api/v1/brands", "/api/v1/brands/1"):
        resp = client.get(path)
        assert resp.status_code == 403 and resp.get_json()["code"] == "shop_closed", path
    # An approved member still has the shop, as on the web.
    member = auth(client, make.member())
    assert client.get("/api/v1/home", headers=member).status_code == 200


# ---- who may call the member centre --------------------------------------------------------

MEMBER_CENTRE = [("get", "/api/v1/me/profile"), ("post", "/api/v1/me/profile"),
                 ("get", "/api/v1/frequent"), ("get", "/api/v1/me/messages")]


def test_the_member_centre_refuses_visitors_salesmen_and_drivers(client, world):
    staff = {"salesman": auth(client, world.salesman), "driver": auth(client, world.driver),
             "customer service": auth(client, world.cs)}
    for method, path in MEMBER_CENTRE:
        resp = getattr(client, method)(path)
        assert resp.status_code == 401 and resp.get_json()["code"] == "unauthorized", path
        for who, headers in staff.items():
            resp = getattr(client, method)(path, headers=headers)
            assert resp.status_code == 403, (who, path)
            assert resp.get_json()["code"] == "forbidden"


def test_a_customer_account_without_a_member_has_no_profile(client, make):
    lone = make.user("Customer")
    resp = client.get("/api/v1/me/profile", headers=auth(client, lone, **EN))
    assert resp.status_code == 403
    assert resp.get_json()["message"] == "Only customer accounts have a shop profile."


# ---- the profile ----------------------------------------------------------------------------

def test_the_profile_is_saved_with_photos_shown_by_signed_paths(app, client, make,
                                                                monkeypatch):
    region = make.region()
    member = make.member(status="incomplete")
    headers = auth(client, member, **EN)
    before = client.get("/api/v1/me/profile", headers=headers)
    assert before.status_code == 200 and "Set-Cookie" not in before.headers
    body = before.get_json()
    assert body["status"] == "incomplete" and body["complete"] is False
    assert body["status_label"] == "Profile incomplete"
    assert body["shop_photo"] is None and body["licence_photo"] is None
    assert body["phone"] == member.mobile
    assert {"id": region.id, "name": region.name} in body["regions"]

    form = {"shop_name": "椰风酒店", "contact_name": "王经理", "phone": member.mobile,
            "address": "海口市滨海大道 1 号", "region_id": str(region.id), "wechat_id": "",
            "invoice_title": "椰风酒店有限公司", "tax_number": ""}
    missing = client.post("/api/v1/me/profile", headers=headers,
                          data={**form, "shop_name": ""})
    assert missing.status_code == 400
    assert missing.get_json()["errors"] == {"shop_name": ["Shop name is required."]}
    no_photo = client.post("/api/v1/me/profile", headers=headers, data=form)
    assert no_photo.status_code == 400 and "shop_photo" in no_photo.get_json()["errors"]

    saved = client.post("/api/v1/me/profile", headers=headers, data={
        **form, "shop_photo": image("shop.jpg"), "licence_photo": image("licence.png",
                                                                        fmt="PNG")})
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    assert body["status"] == "pending" and body["complete"] is True
    assert body["shop_name"] == "椰风酒店" and body["region_id"] == region.id
    assert body["wechat_id"] is None and "/media/private" not in saved.get_data(as_text=True)
    assert client.get("/api/v1/me/profile", headers=headers).get_json()["status_label"] == \
        "Pending approval"

    # The signed paths open with no cookie and no token, and only until they expire.
    url, thumb = body["shop_photo"]["url"], body["licence_photo"]["thumb_url"]
    assert url.startswith("/media/signed/") and thumb.startswith("/media/signed/")
    stranger = app.test_client()
    photo = stranger.get(url)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.headers["Cache-Control"] == "private, no-store"
    assert stranger.get(thumb).status_code == 200
    tampered = url[:-7] + ("AAAAAA" if url[-7:-1] != "AAAAAA" else "BBBBBB") + url[-1]
    assert stranger.get(tampered).status_code == 404
    monkeypatch.setitem(app.config, "MEDIA_URL_TTL", -1)
    assert stranger.get(url).status_code == 404 and stranger.get(thumb).status_code == 404
    with app.app_context():
        row = db.session.get(Member, member.id)
        assert row.status == "pending" and row.shop_photo.startswith("private/member/")


def test_a_rejected_profile_says_why(app, client, make):
    member = make.member(status="rejected")
    with app.app_context():
        db.session.get(Member, member.id).reject_reason = "营业执照不清晰"
        db.session.commit()
    body = client.get("/api/v1/me/profile", headers=auth(client, member, **EN)).get_json()
    assert body["status"] == "rejected" and body["status_label"] == "Rejected"
    assert body["reject_reason"] == "营业执照不清晰"
    # Photos already on file (the factory's keys) are given as signed paths too.
    assert body["shop_photo"]["url"].startswith("/media/signed/")


@pytest.mark.parametrize("change", [
    {"region_id": "abc"}, {"region_id": "0"}, {"region_id": "99999999999"},
    {"shop_name": "x" * 101}, {"address": "x" * 256}, {"tax_number": "x" * 33},
    {"shop_photo": "not a file"}, {"unknown_field": "1"}])
def test_bad_profile_fields_are_422_and_nothing_changes(app, client, make, change):
    member = make.member(status="incomplete")
    form = {"shop_name": "店", "contact_name": "人", "phone": member.mobile,
            "address": "地址", "region_id": "1", **change}
    resp = client.post("/api/v1/me/profile", headers=auth(client, member), data=form)
    assert resp.status_code == 422 and resp.get_json()["code"] == "validation"
    assert resp.get_json()["message"] == "请检查标出的内容。"  # zh, the default
    with app.app_context():
        assert db.session.get(Member, member.id).shop_name == "测试酒店"


def test_a_file_that_is_not_an_image_is_refused_in_words(app, client, make):
    region = make.region()
    member = make.member(status="incomplete")
    resp = client.post("/api/v1/me/profile", headers=auth(client, member, **EN), data={
        "shop_name": "店", "contact_name": "人", "phone": member.mobile, "address": "地址",
        "region_id": str(region.id), "shop_photo": (io.BytesIO(b"not an image"), "a.jpg"),
        "licence_photo": image()})
    assert resp.status_code == 400
    assert resp.get_json()["message"] == "This file is not a JPEG, PNG or WebP image."
    with app.app_context():
        row = db.session.get(Member, member.id)
        assert row.status == "incomplete" and row.shop_photo is None
    assert not [p for p in Path(app.config["MEDIA_ROOT"]).rglob("*") if p.is_file()]


# ---- refund requests -------------------------------------------------------------------------

def test_a_refund_request_with_photos(app, client, world):
    with app.app_context():
        order = world.order("delivered")
        order_no, line_id, quantity = order.order_no, order.lines[0].id, order.lines[0].quantity
    headers = auth(client, world.customer, **EN)
    url = f"/api/v1/orders/{order_no}/refund"
    form = client.get(url, headers=headers).get_json()
    assert form["can_request"] is True and form["max_photos"] == 6
    assert form["refund_status"] is None and form["reason_max_length"] == 500
    assert form["lines"] == [{"id": line_id, "product_name": "矿泉水", "model": "550ml",
                              "spec": "整箱", "base_unit": "把", "returnable": quantity}]

    refused = client.post(url, headers=headers,
                          data={"reason": "破损", f"qty_{line_id}": str(quantity + 1),
                                "photos": [image()]})
    assert refused.status_code == 400
    assert refused.get_json()["message"] == "You cannot return more than was delivered."
    no_reason = client.post(url, headers=headers, data={f"qty_{line_id}": "1"})
    assert no_reason.status_code == 400 and no_reason.get_json()["errors"] == {
        "reason": ["Please give a reason."]}
    nothing = client.post(url, headers=headers, data={"reason": "破损"})
    assert nothing.status_code == 400 and "lines" in nothing.get_json()["errors"]
    assert refunds_of(app, order_no) == [] and refund_files(app) == []

    sent = client.post(url, headers=headers, data={
        "reason": "3 瓶破损", f"qty_{line_id}": str(world.moq),
        "photos": [image("a.jpg"), image("b.png", fmt="PNG")]})
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["order_no"] == order_no and "Set-Cookie" not in sent.headers
    [refund] = refunds_of(app, order_no)
    assert refund.reason == "3 瓶破损" and refund.status == "requested"
    assert refund.lines == [{"line_id": line_id, "quantity": world.moq}]
    assert len(refund.photos) == 2
    assert all(key.startswith(f"private/order/{refund.order_id}/refund/")
               for key in refund.photos)
    after = client.get(url, headers=headers).get_json()
    assert after["can_request"] is False and after["lines"] == []
    assert after["refund_status"] == "requested"
    assert after["refund_status_label"] == "Refund requested"
    again = client.post(url, headers=headers, data={"reason": "再退",
                                                    f"qty_{line_id}": "1"})
    assert again.status_code == 400 and len(refunds_of(app, order_no)) == 1


def test_nothing_to_refund_on_an_order_not_yet_delivered(app, client, world):
    with app.app_context():
        order_no = world.order("pending").order_no
    headers = auth(client, world.customer)
    form = client.get(f"/api/v1/orders/{order_no}/refund", headers=headers).get_json()
    assert form["can_request"] is False and form["lines"] == []
    resp = client.post(f"/api/v1/orders/{order_no}/refund", headers=headers,
                       data={"reason": "不想要了"})
    assert resp.status_code == 400 and refunds_of(app, order_no) == []


def test_only_the_orders_customer_asks_for_its_refund(app, client, world):
    with app.app_context():
        order = world.order("delivered")
        order_no, line_id = order.order_no, order.lines[0].id
    url = f"/api/v1/orders/{order_no}/refund"
    assert client.get(url).status_code == 401
    assert client.post(url, data={"reason": "x", f"qty_{line_id}": "1"}).status_code == 401
    # Another customer of the same region, the region's salesman (who sees the order in
    # his own end), a driver and customer service: not their order to refund here.
    for ref in (world.other_customer, world.salesman, world.driver, world.cs):
        headers = auth(client, ref)
        assert client.get(url, headers=headers).status_code == 404
        resp = client.post(url, headers=headers, data={
            "reason": "破损", f"qty_{line_id}": str(world.moq), "photos": [image()]})
        assert resp.status_code == 404 and resp.get_json()["code"] == "not_found"
    assert refunds_of(app, order_no) == [] and refund_files(app) == []
    with app.app_context():
        assert db.session.scalar(select(Order.refund_status).where(
            Order.order_no == order_no)) is None
    assert client.get("/api/v1/orders/NOPE-0000/refund",
                      headers=auth(client, world.customer)).status_code == 404


BAD_REFUND_FIELDS = [
    {"qty_LINE": "abc"}, {"qty_LINE": "-1"}, {"qty_LINE": "99999999999"}, {"qty_0": "1"},
    {"qty_99999999999": "1"}, {"qty_abc": "1"}, {"reason": "x" * 501}, {"other": "1"},
    {"photos": "not a file"}, {"photos": [f"{n}.jpg" for n in range(7)]}]


def test_bad_refund_fields_are_422_and_nothing_is_kept(app, client, world):
    with app.app_context():
        order = world.order("delivered")
        order_no, line_id = order.order_no, order.lines[0].id
    headers = auth(client, world.customer)
    for extra in BAD_REFUND_FIELDS:
        data = {"reason": "破损", f"qty_{line_id}": "1"}
        for key, value in extra.items():
            if key == "photos" and isinstance(value, list):
                value = [image(name) for name in value]
            data[key.replace("LINE", str(line_id))] = value
        resp = client.post(f"/api/v1/orders/{order_no}/refund", headers=headers, data=data)
        assert resp.status_code == 422, (extra, resp.get_json())
        assert resp.get_json()["code"] == "validation"
    assert refunds_of(app, order_no) == [] and refund_files(app) == []


# ---- 常购清单 ------------------------------------------------------------------------------

def test_frequently_bought_with_prices_only_for_an_approved_member(app, client, world):
    headers = auth(client, world.customer)
    empty = client.get("/api/v1/frequent", headers=headers).get_json()
    assert empty["items"] == [] and empty["can_order"] is True
    with app.app_context():
        world.order("pending")
        world.order("confirmed")
        world.order("closed")  # a closed order is not a purchase
    items = client.get("/api/v1/frequent", headers=headers).get_json()["items"]
    assert len(items) == 1
    item = items[0]
    assert item["spec_id"] == world.spec_id and item["times"] == 2
    assert item["name"] == "矿泉水" and [s["id"] for s in item["specs"]] == [world.spec_id]
    assert item["specs"][0]["unit_price"] and item["specs"][0]["pack_price"]
    assert item["specs"][0]["packing"]["inner_qty"] == world.moq
    # Another customer's purchases are not mine.
    assert client.get("/api/v1/frequent", headers=auth(client, world.other_customer)) \
        .get_json()["items"] == []

    set_status(app, world.customer, "pending")
    waiting = client.get("/api/v1/frequent", headers=headers).get_json()
    assert [i["spec_id"] for i in waiting["items"]] == [world.spec_id]
    assert "unit_price" not in json.dumps(waiting) and "pack_price" not in json.dumps(waiting)
    assert waiting["price_note"] and waiting["can_order"] is False


# ---- messages ---------------------------------------------------------------------------

def _messages(app, ref, count, channel="inapp"):
    with app.app_context():
        db.session.add_all([Message(channel=channel, recipient=str(ref.user_id),
                                    user_id=ref.user_id, event="order_shipped",
                                    body=f"消息 {n}", status="sent") for n in range(count)])
        db.session.commit()


def test_messages_page_by_keyset_and_opening_marks_them_read(app, client, make):
    member, other = make.member(), make.member()
    headers = auth(client, member)
    assert client.get("/api/v1/me/messages", headers=headers).get_json() == {
        "items": [], "next_before": None}
    _messages(app, member, 23)
    _messages(app, member, 1, channel="sms")
    _messages(app, other, 2)
    first = client.get("/api/v1/me/messages", headers=headers).get_json()
    assert len(first["items"]) == 20 and all(m["unread"] for m in first["items"])
    assert first["items"][0]["body"] == "消息 22" and first["next_before"]
    ids = [m["id"] for m in first["items"]]
    assert ids == sorted(ids, reverse=True) and first["next_before"] == ids[-1]
    with app.app_context():
        assert db.session.scalar(select(func.count(Message.id)).where(
            Message.user_id == member.user_id, Message.read_at.is_(None),
            Message.channel == "inapp")) == 0  # all of them, as the web marks them
        assert db.session.scalar(select(func.count(Message.id)).where(
            Message.user_id == other.user_id, Message.read_at.is_(None))) == 2
    older = client.get(f"/api/v1/me/messages?before={first['next_before']}",
                       headers=headers).get_json()
    assert [m["body"] for m in older["items"]] == ["消息 2", "消息 1", "消息 0"]
    assert older["next_before"] is None and not any(m["unread"] for m in older["items"])
    again = client.get("/api/v1/me/messages", headers=headers).get_json()
    assert not any(m["unread"] for m in again["items"])


@pytest.mark.parametrize("before", ["abc", "0", "-1", "99999999999", "1.5"])
def test_a_bad_message_cursor_is_422(client, make, before):
    resp = client.get(f"/api/v1/me/messages?before={before}",
                      headers=auth(client, make.member()))
    assert resp.status_code == 422 and resp.get_json()["code"] == "validation"
