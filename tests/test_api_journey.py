"""The mini program's whole journey over the API, against the WeChat stand-in: a new
customer signs in with WeChat, binds a phone, fills in the profile with photos, is
approved, orders; the salesman confirms and assigns a driver; the driver uploads two
photos (one retried) and completes; the customer sees 已收货 and the photos. The order
news went by WeChat while an acceptance was left, by SMS after."""

import io

from sqlalchemy import select

from app.extensions import db
from app.members import services as members
from app.members.models import Member, MemberLevel
from app.messaging import templates
from app.messaging.models import Channel, Message
from app.platform import wechat
from tests import catalog_factory as cf
from tests.images import image_bytes
from tests.test_api import NEW_ADDRESS, bearer, tokens_for
from tests.test_wechat_sign_in import MINI, MINI_SECRET, OFFICIAL, OFFICIAL_SECRET

ZH = {"Accept-Language": "zh"}
TEMPLATE = "TPL-ORDER-CONFIRMED"


def photo(name):
    return (io.BytesIO(image_bytes()), name)


def test_a_new_customer_orders_in_the_mini_program_and_gets_it_delivered(app, client, make,
                                                                        monkeypatch):
    from tests.standins.wechat import WeChatStandIn

    region = make.region(name="海口")
    salesman = make.staff("salesman", [region])
    driver = make.staff("driver", [region])
    admin = make.user("Admin")
    with app.app_context():
        level = MemberLevel(name="普通", sort_order=1)
        db.session.add(level)
        product = cf.product(name="怡宝矿泉水", stock=1000, price="24.00")
        spec_id, moq = product.specs[0].id, product.specs[0].pack_unit.inner_qty
        templates.save_template("order_confirmed", Channel.WECHAT, "订单{order_no}已确认",
                                TEMPLATE, "character_string1=order_no\nthing2=text",
                                actor=None)
        db.session.commit()
        level_id = level.id
    wechat.reset_clients()
    with WeChatStandIn(MINI, MINI_SECRET, apps={OFFICIAL: OFFICIAL_SECRET},
                       openids={"oJourney-1"},
                       templates={TEMPLATE: {"character_string1", "thing2"}}) as wx:
        for key, value in {"WECHAT_MINIPROGRAM_APP_ID": MINI,
                           "WECHAT_MINIPROGRAM_APP_SECRET": MINI_SECRET,
                           "WECHAT_API_BASE": wx.url, "WECHAT_PROVIDER": "wechat",
                           "WECHAT_MESSAGE_KIND": "subscribe"}.items():
            monkeypatch.setitem(app.config, key, value)

        # WeChat sign-in, then the phone WeChat verified.
        ticket = client.post("/api/v1/auth/wechat", json={
            "code": wx.login_code("oJourney-1")}, headers=ZH).get_json()["bind_ticket"]
        tokens = client.post("/api/v1/auth/wechat/bind", headers=ZH, json={
            "bind_ticket": ticket, "phone_code": wx.phone_code("13966668888")}).get_json()
        me = bearer(tokens["access_token"])

        # The shop profile with its two photos, then approval in the back office.
        saved = client.post("/api/v1/me/profile", headers=me, data={
            "shop_name": "椰林小卖部", "contact_name": "吴老板", "phone": "13966668888",
            "address": "海口市龙华区 9 号", "region_id": str(region.id),
            "shop_photo": photo("shop.jpg"), "licence_photo": photo("licence.jpg")})
        assert saved.status_code == 200, saved.get_json()
        assert saved.get_json()["status"] == "pending"
        with app.app_context():
            member = db.session.scalar(select(Member).where(Member.phone == "13966668888"))
            members.approve(member, level_id, app.appbuilder.sm.get_user_by_id(admin.user_id))
        assert client.get("/api/v1/me/profile", headers=me).get_json()["status"] == "approved"

        # One acceptance of the confirmation message, then two orders.
        accepted = client.post("/api/v1/me/subscriptions", headers=me,
                               json={"answers": {TEMPLATE: "accept"}}).get_json()
        assert accepted["templates"] == [{"template_id": TEMPLATE,
                                          "events": ["order_confirmed"], "unused": 1}]
        order_nos = []
        for n in range(2):
            client.post("/api/v1/cart", headers=me, json={"quantities": {str(spec_id): moq}})
            quote = client.get("/api/v1/checkout?delivery=delivery", headers=me).get_json()
            placed = client.post("/api/v1/orders", headers=me, json={
                "idempotency_key": f"journey-order-{n}", "delivery": "delivery",
                "payment": "cod", **NEW_ADDRESS, "expected_total": quote["total"]})
            assert placed.status_code == 201, placed.get_json()
            order_nos.append(placed.get_json()["order_no"])
        first, second = order_nos

        # The salesman confirms both and gives the first to the driver.
        boss = bearer(tokens_for(client, salesman.mobile)["access_token"])
        for order_no in order_nos:
            resp = client.post(f"/api/v1/sales/orders/{order_no}/actions", headers=boss,
                               json={"action": "confirm"})
            assert resp.status_code == 200, resp.get_json()
        resp = client.post(f"/api/v1/sales/orders/{first}/actions", headers=boss,
                           json={"action": "assign_driver", "driver_id": driver.id})
        assert resp.status_code == 200, resp.get_json()

        # The driver: start, two photos (the first sent twice on a weak signal), complete.
        van = bearer(tokens_for(client, driver.mobile)["access_token"])
        assert client.post(f"/api/v1/driver/orders/{first}/start",
                           headers=van).status_code == 200
        uploads = [client.post(f"/api/v1/driver/orders/{first}/photos", headers=van,
                               data={"upload_id": upload_id, "photo": photo("note.jpg")})
                   for upload_id in ("note-0001", "note-0001", "note-0002")]
        assert [r.status_code for r in uploads] == [201, 201, 201]
        assert uploads[0].get_json()["id"] == uploads[1].get_json()["id"]
        total = client.get(f"/api/v1/driver/orders/{first}", headers=van).get_json()[
            "cash_to_collect"]
        done = client.post(f"/api/v1/driver/orders/{first}/complete", headers=van,
                           json={"cash_collected": total})
        assert done.status_code == 200, done.get_json()

        # The customer sees 已收货 and the two photos, which open without a cookie.
        seen = client.get(f"/api/v1/orders/{first}", headers={**me, **ZH}).get_json()
        assert seen["state_label"] == "已收货"
        assert len(seen["photos"]) == 2
        for link in seen["photos"]:
            assert app.test_client().get(link["url"]).status_code == 200

        # The confirmations: the first by WeChat (the acceptance), the second by SMS.
        assert [entry["template"] for entry in wx.accepted] == [TEMPLATE]
        assert wx.accepted[0]["data"]["character_string1"] == {"value": first}
    wechat.reset_clients()
    with app.app_context():
        sent = db.session.execute(select(Message.channel, Message.route, Message.params)
                                  .where(Message.event == "order_confirmed",
                                         Message.channel != Channel.INAPP)
                                  .order_by(Message.id)).all()
        assert [(channel, route) for channel, route, _params in sent] == [
            (Channel.WECHAT, "wechat_subscribed"), (Channel.SMS, "sms_no_acceptance")]
        assert sent[1][2]["order_no"] == second
        assert client.get("/api/v1/me/subscriptions", headers=me).get_json()[
            "templates"][0]["unused"] == 0
