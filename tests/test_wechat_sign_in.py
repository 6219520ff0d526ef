"""WeChat identities: mini-program sign-in and binding (by WeChat's phone button or an SMS
code), WeChat's browser asking the official account for the openid, unbinding, and the
subscribe-message acceptances, against the WeChat stand-in on 127.0.0.1."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.members import wechat_accounts
from app.members.models import Member, MemberStatus
from app.messaging import templates
from app.messaging.models import Channel, Message
from app.platform import wechat
from app.platform.models import WechatIdentity
from tests.conftest import csrf_token, login
from tests.standins.wechat import WeChatStandIn
from tests.test_api import bearer, tokens_for

MINI, MINI_SECRET = "wxminipifa000001", "mini-secret-0123456789"
OFFICIAL, OFFICIAL_SECRET = "wxofficialpifa01", "official-secret-0123456789"
IN_WECHAT = {"User-Agent": "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.50"}


@pytest.fixture
def wx(app, monkeypatch):
    wechat.reset_clients()
    with WeChatStandIn(MINI, MINI_SECRET, apps={OFFICIAL: OFFICIAL_SECRET}) as server:
        for key, value in {"WECHAT_MINIPROGRAM_APP_ID": MINI,
                           "WECHAT_MINIPROGRAM_APP_SECRET": MINI_SECRET,
                           "WECHAT_OFFICIAL_APP_ID": OFFICIAL,
                           "WECHAT_OFFICIAL_APP_SECRET": OFFICIAL_SECRET,
                           "WECHAT_API_BASE": server.url,
                           "WECHAT_OAUTH_BASE": server.url + "/connect"}.items():
            monkeypatch.setitem(app.config, key, value)
        yield server
    wechat.reset_clients()


def wechat_sign_in(client, code):
    return client.post("/api/v1/auth/wechat", json={"code": code})


def identities(app, user_id=None):
    with app.app_context():
        query = select(WechatIdentity.user_id, WechatIdentity.kind, WechatIdentity.appid,
                       WechatIdentity.openid, WechatIdentity.unbound_at)
        if user_id is not None:
            query = query.where(WechatIdentity.user_id == user_id)
        return [tuple(row) for row in db.session.execute(query.order_by(WechatIdentity.id))]


def last_code(app, phone):
    with app.app_context():
        message = db.session.scalar(select(Message).where(
            Message.event == "sms_code", Message.recipient == phone)
            .order_by(Message.id.desc()).limit(1))
        return message.params["code"]


# ---- the mini program --------------------------------------------------------------------

def test_a_new_customer_signs_in_with_wechat_and_binds_the_phone_wechat_verified(
        app, client, wx):
    first = wechat_sign_in(client, wx.login_code("oMini-new-1", unionid="uPerson-1"))
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["signed_in"] is False and body["tokens"] is None and body["bind_ticket"]
    assert wx.session_keys["oMini-new-1"] not in first.get_data(as_text=True)

    bound = client.post("/api/v1/auth/wechat/bind", json={
        "bind_ticket": body["bind_ticket"], "phone_code": wx.phone_code("13912345678")})
    assert bound.status_code == 200, bound.get_json()
    me = client.get("/api/v1/auth/me", headers=bearer(bound.get_json()["access_token"]))
    assert me.get_json()["mobile"] == "13912345678"
    assert me.get_json()["member"]["status"] == MemberStatus.INCOMPLETE
    user_id = me.get_json()["id"]
    assert identities(app) == [(user_id, wechat.MINIPROGRAM, MINI, "oMini-new-1", None)]

    again = wechat_sign_in(client, wx.login_code("oMini-new-1"))
    assert again.get_json()["signed_in"] is True
    me = client.get("/api/v1/auth/me", headers=bearer(again.get_json()["tokens"]["access_token"]))
    assert me.get_json()["id"] == user_id
    # No session key is kept anywhere, not even in the log of messages.
    with app.app_context():
        assert all(wx.session_keys["oMini-new-1"] not in (m.body + str(m.params))
                   for m in db.session.scalars(select(Message)))


def test_an_existing_account_binds_by_sms_code(app, client, wx, make):
    customer = make.member()
    ticket = wechat_sign_in(client, wx.login_code("oMini-2")).get_json()["bind_ticket"]
    sent = client.post("/api/v1/auth/sms-code", json={"mobile": customer.mobile,
                                                        "purpose": "sign_in"})
    assert sent.status_code == 202, sent.get_json()
    wrong = client.post("/api/v1/auth/wechat/bind", json={
        "bind_ticket": ticket, "mobile": customer.mobile, "sms_code": "000000"})
    assert wrong.status_code == 400 and wrong.get_json()["errors"]["code"]
    assert identities(app) == []
    bound = client.post("/api/v1/auth/wechat/bind", json={
        "bind_ticket": ticket, "mobile": customer.mobile,
        "sms_code": last_code(app, customer.mobile)})
    assert bound.status_code == 200, bound.get_json()
    assert identities(app) == [(customer.user_id, wechat.MINIPROGRAM, MINI, "oMini-2", None)]
    assert wechat_sign_in(client, wx.login_code("oMini-2")).get_json()["signed_in"] is True


def test_sign_in_by_sms_code(app, client, wx, make):
    customer = make.member()
    client.post("/api/v1/auth/sms-code", json={"mobile": customer.mobile,
                                               "purpose": "sign_in"})
    code = last_code(app, customer.mobile)
    resp = client.post("/api/v1/auth/sms-token", json={"mobile": customer.mobile,
                                                       "code": code})
    assert resp.status_code == 200 and resp.get_json()["access_token"]
    reused = client.post("/api/v1/auth/sms-token", json={"mobile": customer.mobile,
                                                         "code": code})
    assert reused.status_code == 401 and reused.get_json()["code"] == "sign_in_refused"
    # A number without an account is told exactly what a wrong code is told.
    client.post("/api/v1/auth/sms-code", json={"mobile": "13700000099", "purpose": "sign_in"})
    unknown = client.post("/api/v1/auth/sms-token", json={
        "mobile": "13700000099", "code": last_code(app, "13700000099")})
    assert unknown.status_code == 401
    assert unknown.get_json()["message"] == reused.get_json()["message"]


@pytest.mark.parametrize("case", ["reused", "unknown", "other_app", "expired"])
def test_a_bad_login_code_is_refused_and_binds_nothing(app, client, wx, case):
    code = wx.login_code("oMini-3")
    if case == "reused":
        assert wechat_sign_in(client, code).status_code == 200
    elif case == "unknown":
        code = "071AbCdEfGhIjKlMnOpQrStUvWx"
    elif case == "other_app":
        code = wx.login_code("oMini-3", appid=OFFICIAL)
    else:
        wx.expire_codes()
    resp = wechat_sign_in(client, code)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["code"] == "validation" and resp.get_json()["errors"]["code"]
    assert identities(app) == []


def test_wrong_secret_is_a_503_and_no_wechat_a_404_never_a_500(app, client, wx,
                                                               monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_MINIPROGRAM_APP_SECRET", "not-our-secret")
    wechat.reset_clients()
    resp = wechat_sign_in(client, wx.login_code("oMini-4"))
    assert resp.status_code == 503 and resp.get_json()["code"] == "wechat_unavailable"
    monkeypatch.setitem(app.config, "WECHAT_MINIPROGRAM_APP_ID", "")
    resp = wechat_sign_in(client, wx.login_code("oMini-4"))
    assert resp.status_code == 404 and resp.get_json()["code"] == "wechat_not_set_up"


def test_bind_ticket_must_be_ours_and_phone_code_good(app, client, wx):
    ticket = wechat_sign_in(client, wx.login_code("oMini-5")).get_json()["bind_ticket"]
    forged = client.post("/api/v1/auth/wechat/bind", json={
        "bind_ticket": ticket[:-4] + "AAAA", "phone_code": wx.phone_code("13912340000")})
    assert forged.status_code == 400 and forged.get_json()["errors"]["bind_ticket"]
    bad_phone = client.post("/api/v1/auth/wechat/bind", json={
        "bind_ticket": ticket, "phone_code": "not-a-code"})
    assert bad_phone.status_code == 400
    nothing = client.post("/api/v1/auth/wechat/bind", json={"bind_ticket": ticket})
    assert nothing.status_code == 422
    assert identities(app) == []


def test_a_wechat_bound_to_one_account_cannot_be_bound_to_another(app, client, wx, make):
    first, second = make.member(), make.member()
    with app.app_context():
        wechat.remember(first.user_id, wechat.Login(MINI, "oMini-6", None), wechat.MINIPROGRAM)
        db.session.commit()
    ticket = wechat_accounts_ticket(app, "oMini-6")
    resp = client.post("/api/v1/auth/wechat/bind", json={
        "bind_ticket": ticket, "phone_code": wx.phone_code(second.mobile)})
    assert resp.status_code == 400
    assert identities(app) == [(first.user_id, wechat.MINIPROGRAM, MINI, "oMini-6", None)]


def wechat_accounts_ticket(app, openid):
    """A bind ticket as sign-in would give one (for an openid already bound elsewhere,
    which sign-in itself never hands out)."""
    with app.test_request_context():
        return wechat_accounts._serializer().dumps({"appid": MINI, "openid": openid,
                                                    "unionid": None})


def test_the_same_person_known_by_unionid_signs_in_without_binding(app, client, wx, make):
    customer = make.member()
    with app.app_context():
        wechat.remember(customer.user_id, wechat.Login(OFFICIAL, "oOfficial-7", "uPerson-7"),
                        wechat.OFFICIAL)
        db.session.commit()
    resp = wechat_sign_in(client, wx.login_code("oMini-7", unionid="uPerson-7"))
    assert resp.get_json()["signed_in"] is True
    assert {row[1] for row in identities(app, customer.user_id)} == {wechat.MINIPROGRAM,
                                                                     wechat.OFFICIAL}


def test_a_disabled_account_is_not_signed_in_by_wechat(app, client, wx, make):
    customer = make.member()
    with app.app_context():
        wechat.remember(customer.user_id, wechat.Login(MINI, "oMini-8", None),
                        wechat.MINIPROGRAM)
        user = app.appbuilder.sm.get_user_by_id(customer.user_id)
        user.active = False
        db.session.commit()
    resp = wechat_sign_in(client, wx.login_code("oMini-8"))
    assert resp.status_code == 401 and resp.get_json()["code"] == "sign_in_refused"


# ---- identities and unbinding ------------------------------------------------------------

def test_a_member_sees_and_unbinds_their_wechat(app, client, wx, make):
    customer = make.member()
    with app.app_context():
        wechat.remember(customer.user_id, wechat.Login(MINI, "oMini-9", None),
                        wechat.MINIPROGRAM)
        db.session.commit()
    tokens = wechat_sign_in(client, wx.login_code("oMini-9")).get_json()["tokens"]
    listed = client.get("/api/v1/me/wechat", headers=bearer(tokens["access_token"]))
    [identity] = listed.get_json()
    assert identity["kind"] == "miniprogram" and "oMini-9" not in identity["openid_hint"]

    login(client, customer.mobile)
    page = client.get("/me")
    assert b"data-wechat" in page.data and b"data-identity=\"miniprogram\"" in page.data
    resp = client.delete(f"/api/v1/me/wechat/{identity['id']}",
                         headers=bearer(tokens["access_token"]))
    assert resp.status_code == 204
    assert b"data-wechat" not in client.get("/me").data
    # Unbound: the next mini-program sign-in asks to bind again.
    assert wechat_sign_in(client, wx.login_code("oMini-9")).get_json()["signed_in"] is False
    again = client.delete(f"/api/v1/me/wechat/{identity['id']}",
                          headers=bearer(tokens["access_token"]))
    assert again.status_code == 404


def test_wechat_identities_are_their_owners_only(app, client, wx, make):
    owner, other = make.member(), make.member()
    with app.app_context():
        row = wechat.remember(owner.user_id, wechat.Login(MINI, "oMini-10", None),
                              wechat.MINIPROGRAM)
        db.session.commit()
        identity_id = row.id
    other_tokens = tokens_for(client, other.mobile)
    resp = client.delete(f"/api/v1/me/wechat/{identity_id}",
                         headers=bearer(other_tokens["access_token"]))
    assert resp.status_code == 404
    assert client.delete(f"/api/v1/me/wechat/{identity_id}").status_code == 401
    login(client, other.mobile)
    token = csrf_token(client, "/me")
    resp = client.post(f"/me/wechat/{identity_id}/unbind", data={"csrf_token": token})
    assert resp.status_code == 404
    client.post("/auth/logout", data={"csrf_token": token})
    assert client.post(f"/me/wechat/{identity_id}/unbind").status_code in (302, 400)
    assert identities(app) == [(owner.user_id, wechat.MINIPROGRAM, MINI, "oMini-10", None)]


# ---- WeChat's browser ----------------------------------------------------------------------

def test_wechat_browser_binds_the_official_account_openid_once(app, client, wx, make):
    customer = make.member()
    login(client, customer.mobile)
    assert client.get("/cart").status_code == 200  # outside WeChat: nothing happens

    wx.browser_user("oOfficial-11")
    resp = client.get("/cart?x=1", headers=IN_WECHAT)
    assert resp.status_code == 302
    authorize = resp.headers["Location"]
    assert authorize.startswith(wx.url + "/connect/oauth2/authorize?appid=" + OFFICIAL)
    assert "scope=snsapi_base" in authorize and authorize.endswith("#wechat_redirect")
    # The browser goes to WeChat, which sends it straight back with a code.
    back = requests.get(authorize.split("#")[0], allow_redirects=False, timeout=5)
    assert back.status_code == 302
    callback = urlsplit(back.headers["Location"])
    assert callback.path == "/auth/wechat/oauth"
    done = client.get(f"{callback.path}?{callback.query}", headers=IN_WECHAT)
    assert done.status_code == 302 and done.headers["Location"].endswith("/cart?x=1")
    assert identities(app, customer.user_id) == [
        (customer.user_id, wechat.OFFICIAL, OFFICIAL, "oOfficial-11", None)]
    assert client.get("/cart", headers=IN_WECHAT).status_code == 200  # asked once only


def test_wechat_browser_callback_with_a_wrong_state_binds_nothing(app, client, wx, make):
    customer = make.member()
    login(client, customer.mobile)
    wx.browser_user("oOfficial-12")
    authorize = client.get("/cart", headers=IN_WECHAT).headers["Location"]
    back = requests.get(authorize.split("#")[0], allow_redirects=False, timeout=5)
    query = parse_qs(urlsplit(back.headers["Location"]).query)
    resp = client.get(f"/auth/wechat/oauth?code={query['code'][0]}&state=forged",
                      headers=IN_WECHAT)
    assert resp.status_code == 302
    assert identities(app) == []
    # And a code nobody issued changes nothing either (WeChat refuses it).
    assert client.get("/auth/wechat/oauth?code=bogus&state=x").status_code == 302
    assert identities(app) == []


# ---- subscribe-message acceptances ---------------------------------------------------------

def test_acceptances_over_the_api(app, client, wx, make):
    customer = make.member()
    with app.app_context():
        templates.save_template("order_confirmed", Channel.WECHAT, "订单{order_no}已确认",
                                "TPL-CONFIRM", "character_string1=order_no", actor=None)
    headers = bearer(tokens_for(client, customer.mobile)["access_token"])
    listed = client.get("/api/v1/me/subscriptions", headers=headers).get_json()
    assert listed == {"templates": [{"template_id": "TPL-CONFIRM",
                                     "events": ["order_confirmed"], "unused": 0}]}
    resp = client.post("/api/v1/me/subscriptions", headers=headers,
                       json={"answers": {"TPL-CONFIRM": "accept"}})
    assert resp.get_json()["templates"][0]["unused"] == 1
    refused = client.post("/api/v1/me/subscriptions", headers=headers,
                          json={"answers": {"TPL-NOT-OURS": "accept"}})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.get(Member, customer.id).status == MemberStatus.APPROVED
