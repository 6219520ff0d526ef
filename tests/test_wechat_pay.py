"""WeChat Pay (API v3, wechatpayv3) against the WeChat Pay stand-in on 127.0.0.1: prepay
from the mini program, WeChat's browser and a QR code; notifications verified, recorded
once and checked against the attempt; the periodic query; closing; refunds."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from wechatpayv3 import WeChatPay, WeChatPayType

from app.extensions import db
from app.ordering import workflow
from app.ordering.models import Order, OrderEvent, Payment
from app.ordering.states import PaymentStatus, RefundStatus, State
from app.payments.models import EntryKind, LedgerEntry
from app.payments.wechat_pay import gateway, notify, prepay, refunds, rules, tasks
from app.payments.wechat_pay.models import (
    AttemptStatus,
    AutoReason,
    Channel,
    Notification,
    NotificationOutcome,
    OnlineRefund,
    PayAttempt,
    RefundKind,
    RefundState,
)
from app.platform import wechat
from app.platform.errors import ValidationError
from app.platform.time import utcnow
from tests.conftest import login
from tests.order_factory import World, add_photo
from tests.standins.wechatpay import Merchant, WeChatPayStandIn, rsa_key
from tests.test_api import bearer, tokens_for

MINI, OFFICIAL = "wxminipifa000001", "wxofficialpifa01"
MINI_OPENID, OFFICIAL_OPENID = "oMiniPayer0000000000000000001", "oOfficialPayer000000000000001"
IN_WECHAT = {"User-Agent": "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.50"}
NOTIFY = "/pay/wechat/notify"


# ---- the app, the stand-in, the world ------------------------------------------------------

@pytest.fixture
def pay_app(app):
    return app


@pytest.fixture
def merchant():
    return Merchant()


@pytest.fixture
def wxpay(pay_app, merchant, monkeypatch):
    gateway.reset_clients()
    with WeChatPayStandIn(merchant, {MINI, OFFICIAL}) as server:
        _configure(pay_app, server, monkeypatch)
        yield server
    gateway.reset_clients()


def _configure(app_, server, monkeypatch, **extra):
    settings = {**server.config(), "WECHAT_MINIPROGRAM_APP_ID": MINI,
                "WECHAT_MINIPROGRAM_APP_SECRET": "mini-secret", "WECHAT_OFFICIAL_APP_ID": OFFICIAL,
                "WECHAT_OFFICIAL_APP_SECRET": "official-secret", "WECHATPAY_TIMEOUT": 5.0,
                **extra}
    for key, value in settings.items():
        monkeypatch.setitem(app_.config, key, value)


@pytest.fixture
def pctx(pay_app):
    with pay_app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def world(pay_app, pctx, make):
    made = World(pay_app, make)
    customer = made.user(made.customer)
    wechat.remember(customer.id, wechat.Login(MINI, MINI_OPENID, None), wechat.MINIPROGRAM)
    wechat.remember(customer.id, wechat.Login(OFFICIAL, OFFICIAL_OPENID, None), wechat.OFFICIAL)
    db.session.commit()
    return made


@pytest.fixture
def web(pay_app, world):
    """The customer signed in on the web."""
    client = pay_app.test_client()
    assert login(client, world.customer.mobile).status_code == 302
    return client


def customer(world):
    return world.user(world.customer)


def fresh(order) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order.id)


def attempts(order) -> list[PayAttempt]:
    db.session.expire_all()
    return list(db.session.scalars(select(PayAttempt).where(PayAttempt.order_id == order.id)
                                   .order_by(PayAttempt.id)))


def payments(order) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.order_id == order.id)))


def post_notification(pay_app, headers_body, path=NOTIFY):
    headers, body = headers_body
    return pay_app.test_client().post(path, data=body, headers=headers)


def paid_online(pay_app, wxpay, world, order, channel=Channel.MINIPROGRAM):
    """The customer pays the order in full; WeChat's notification arrives."""
    started = prepay.prepay(customer(world), order.order_no, channel)
    wxpay.pay(started.attempt.out_trade_no)
    resp = post_notification(pay_app, wxpay.notification(started.attempt.out_trade_no))
    assert resp.status_code == 204, resp.get_data(as_text=True)
    return fresh(order), started.attempt.out_trade_no


def delivered_and_paid(pay_app, wxpay, world):
    """An online-payment order paid first (it must be: paid before shipping), delivered."""
    order = world.order("confirmed", payment="online")
    order, out_trade_no = paid_online(pay_app, wxpay, world, order)
    salesman, driver = world.user(world.salesman), world.user(world.driver)
    workflow.apply(order, "assign_driver", salesman, driver_id=world.driver.id)
    workflow.apply(order, "start_delivery", driver)
    add_photo(order, driver)
    workflow.apply(fresh(order), "complete_delivery", driver)
    return fresh(order), out_trade_no


def request_and_approve(world, order, amount):
    line = order.lines[0]
    workflow.apply(order, "request_refund", customer(world), reason="破损",
                   lines=[{"line_id": line.id, "quantity": 1}])
    workflow.apply(fresh(order), "decide_refund", world.user(world.cs), approve="1",
                   amount=str(amount))
    return fresh(order)


# ---- the library, money, settings ---------------------------------------------------------

def test_client_sets_what_the_library_sets_and_talks_to_the_configured_gateway(pay_app, wxpay,
                                                                               pctx):
    s = gateway.settings()
    library = WeChatPay(wechatpay_type=WeChatPayType.JSAPI, mchid=s.mchid,
                        private_key=s.private_key, cert_serial_no=s.cert_serial_no,
                        appid=MINI, apiv3_key=s.apiv3_key, notify_url=s.notify_url,
                        public_key=s.public_key, public_key_id=s.public_key_id)
    ours = gateway.client(s)
    assert set(vars(ours)) == set(vars(library))  # a newer wechatpayv3 must be read again
    # _gate_way is our Core's property; the library's Core has it as an attribute.
    assert set(vars(ours._core)) - {"_pifa_gateway"} | {"_gate_way"} == set(vars(library._core))
    assert library._core._gate_way == "https://api.mch.weixin.qq.com"
    assert ours._core._gate_way == wxpay.url
    assert gateway.client(s) is ours  # one per process and settings


@pytest.mark.parametrize(("yuan", "fen"), [("12.35", 1235), ("0.01", 1), ("1000", 100000),
                                           (Decimal("99999.99"), 9999999), ("0.1", 10)])
def test_amounts_are_whole_fen(yuan, fen):
    assert gateway.to_fen(yuan) == fen
    assert gateway.from_fen(fen) == Decimal(str(yuan)).quantize(Decimal("0.01"))


def test_without_settings_nothing_is_pretended(pay_app, world, monkeypatch):
    for key in ("WECHATPAY_MCHID", "WECHATPAY_APIV3_KEY", "WECHATPAY_PRIVATE_KEY"):
        monkeypatch.setitem(pay_app.config, key, "")
    order = world.order("confirmed", payment="online")
    with pytest.raises(gateway.NotConfigured) as refused:
        prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM)
    assert refused.value.status_code == 503 and "WECHATPAY_MCHID" in refused.value.why
    assert tasks.reconcile() == {"configured": False}
    resp = pay_app.test_client().post(NOTIFY, data=b"{}", headers={"Wechatpay-Timestamp": "1"})
    assert resp.status_code == 404 and resp.get_json()["code"] == "FAIL"
    token = tokens_for(pay_app.test_client(), world.customer.mobile)["access_token"]
    resp = pay_app.test_client().post(f"/api/v1/orders/{order.order_no}/wechat-pay",
                                      headers=bearer(token))
    assert resp.status_code == 503
    assert resp.get_json()["code"] == "payment_not_configured"
    assert attempts(order) == []


def test_half_a_public_key_setting_is_not_a_configuration(pay_app, wxpay, pctx, monkeypatch):
    monkeypatch.setitem(pay_app.config, "WECHATPAY_PUBLIC_KEY_ID", "")
    assert not gateway.configured()
    monkeypatch.setitem(pay_app.config, "WECHATPAY_APIV3_KEY", "short")
    with pytest.raises(gateway.NotConfigured):
        gateway.settings()


# ---- prepay -------------------------------------------------------------------------------

def test_mini_program_gets_signed_request_payment_parameters(pay_app, wxpay, world):
    order = world.order("confirmed", payment="online")
    token = tokens_for(pay_app.test_client(), world.customer.mobile)["access_token"]
    api = pay_app.test_client()
    resp = api.post(f"/api/v1/orders/{order.order_no}/wechat-pay", headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    params = resp.get_json()
    assert set(params) == {"timeStamp", "nonceStr", "package", "signType", "paySign",
                           "out_trade_no", "amount"}
    assert params["signType"] == "RSA" and params["package"].startswith("prepay_id=wx")
    assert wxpay.verify_pay_sign(params, MINI)  # what WeChat's client checks
    assert Decimal(params["amount"]) == order.total
    trade = wxpay.trades[params["out_trade_no"]]  # the stand-in checked our signature
    assert (trade["appid"], trade["trade_type"], trade["payer_openid"], trade["total"]) == \
        (MINI, "JSAPI", MINI_OPENID, gateway.to_fen(order.total))
    assert trade["notify_url"] == "https://pifa.example.com/pay/wechat/notify"
    assert re.fullmatch(rf"{order.order_no}-[0-9a-f]{{6}}", params["out_trade_no"])

    again = api.post(f"/api/v1/orders/{order.order_no}/wechat-pay", headers=bearer(token))
    assert again.get_json()["package"] == params["package"]  # the same attempt, signed anew
    assert len(wxpay.trades) == 1 and len(attempts(order)) == 1

    other = tokens_for(pay_app.test_client(), world.other_customer.mobile)["access_token"]
    resp = api.post(f"/api/v1/orders/{order.order_no}/wechat-pay", headers=bearer(other))
    assert resp.status_code == 404
    assert api.post(f"/api/v1/orders/{order.order_no}/wechat-pay").status_code == 401


def test_a_customer_without_mini_program_sign_in_is_told_so(pay_app, wxpay, world):
    order = world.order("confirmed", payment="online")
    db.session.execute(wechat.WechatIdentity.__table__.delete())
    db.session.commit()
    with pytest.raises(ValidationError):
        prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM)
    assert wxpay.trades == {}


def test_only_unpaid_online_orders_can_be_paid(pay_app, wxpay, world):
    for order in (world.order("confirmed", payment="cod"), world.order("closed",
                                                                        payment="online")):
        with pytest.raises(ValidationError):
            prepay.prepay(customer(world), order.order_no, Channel.NATIVE)
    assert wxpay.trades == {}


def test_a_pay_before_shipping_order_is_offered_wechat_pay_and_ships_once_paid(pay_app, wxpay,
                                                                              world, web):
    """款到发货 must be paid before it ships: WeChat Pay is one way to; the order page
    offers it only while there is something to pay."""
    order = world.order("confirmed", payment="prepay")
    assert order.pay_before_shipping
    salesman = world.user(world.salesman)
    with pytest.raises(ValidationError):
        workflow.apply(order, "ship", salesman, ship_method="express", note="SF1")
    html = web.get(f"/orders/{order.order_no}").get_data(as_text=True)
    assert 'data-action="pay_online"' in html
    order, _no = paid_online(pay_app, wxpay, world, fresh(order), Channel.NATIVE)
    assert order.payment_status == PaymentStatus.PAID
    assert [(p.method, p.amount) for p in payments(order)] == [("online", order.total)]
    assert 'data-action="pay_online"' not in web.get(f"/orders/{order.order_no}").get_data(
        as_text=True)
    workflow.apply(order, "ship", salesman, ship_method="express", note="SF1")
    assert fresh(order).state == State.SHIPPED


def test_wechat_browser_pays_with_jsapi_of_the_official_account(pay_app, wxpay, world, web):
    order = world.order("confirmed", payment="online")
    page = f"/orders/{order.order_no}/pay"
    html = web.get(page, headers=IN_WECHAT).get_data(as_text=True)
    assert 'data-pay-state="start"' in html and wxpay.trades == {}  # a GET asks nothing
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    resp = web.post(page, data={"csrf_token": token}, headers=IN_WECHAT)
    assert resp.status_code == 302
    html = web.get(page, headers=IN_WECHAT).get_data(as_text=True)
    raw = re.search(r'data-params="([^"]+)"', html)[1]
    params = json.loads(raw.replace("&#34;", '"').replace("&quot;", '"'))
    assert params["appId"] == OFFICIAL and wxpay.verify_pay_sign(params, OFFICIAL)
    trade = next(iter(wxpay.trades.values()))
    assert (trade["appid"], trade["trade_type"], trade["payer_openid"]) == \
        (OFFICIAL, "JSAPI", OFFICIAL_OPENID)
    assert web.get(page + "/status").get_json() == {"paid": False}


def test_elsewhere_a_native_qr_code(pay_app, wxpay, world, web):
    order = world.order("confirmed", payment="online")
    page = f"/orders/{order.order_no}/pay"
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get(page).get_data(as_text=True))[1]
    assert web.post(page, data={"csrf_token": token}).status_code == 302
    html = web.get(page).get_data(as_text=True)
    assert 'data-pay-state="qr"' in html and "<svg" in html
    (attempt,) = attempts(order)
    assert attempt.trade_type == "NATIVE" and attempt.code_url.startswith("weixin://wxpay/")
    assert wxpay.trades[attempt.out_trade_no]["appid"] == OFFICIAL
    # Without the CSRF token nothing starts.
    assert web.post(page).status_code == 400 and len(attempts(order)) == 1

    wxpay.pay(attempt.out_trade_no, openid="oScanner")
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    resp = web.post(page + "/check", data={"csrf_token": token})  # 我已支付: asks WeChat now
    assert resp.status_code == 302
    assert fresh(order).payment_status == PaymentStatus.PAID
    assert web.get(page + "/status").get_json() == {"paid": True}
    assert 'data-pay-state="paid"' in web.get(page).get_data(as_text=True)


def test_the_page_is_the_customers_own(pay_app, wxpay, world, make):
    order = world.order("confirmed", payment="online")
    # (The visitor first: requests inside the test's app context share its `g`.)
    assert pay_app.test_client().get(f"/orders/{order.order_no}/pay").status_code == 302
    other = pay_app.test_client()
    login(other, world.other_customer.mobile)
    for path in ("", "/status"):
        assert other.get(f"/orders/{order.order_no}/pay{path}").status_code == 404


def test_the_stand_in_refuses_a_request_we_did_not_sign(pay_app, wxpay, world, monkeypatch):
    order = world.order("confirmed", payment="online")
    from tests.standins.wechatpay import private_pem

    for key, value in (("WECHATPAY_PRIVATE_KEY", private_pem(rsa_key())),
                       ("WECHATPAY_CERT_SERIAL_NO", "0123456789ABCDEF"),
                       ("WECHATPAY_MCHID", "1900000000")):
        with monkeypatch.context() as patch:
            patch.setitem(pay_app.config, key, value)
            gateway.reset_clients()
            with pytest.raises(gateway.Unavailable) as refused:
                prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM)
            assert "401 SIGN_ERROR" in refused.value.why, key
    assert wxpay.trades == {}
    assert {a.status for a in attempts(order)} == {AttemptStatus.FAILED}


def test_an_answer_whose_signature_fails_is_not_believed(pay_app, wxpay, world):
    order = world.order("confirmed", payment="online")
    wxpay.plan("bad_signature")
    with pytest.raises(gateway.Unavailable):
        prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM)
    (attempt,) = attempts(order)
    assert attempt.status == AttemptStatus.NEW and attempt.prepay_id is None


def test_a_changed_amount_gets_a_new_out_trade_no_and_the_old_one_is_closed(pay_app, wxpay,
                                                                             world):
    order = world.order("pending", payment="online")
    first = prepay.prepay(customer(world), order.order_no, Channel.NATIVE).attempt
    line = order.lines[0]
    workflow.apply(fresh(order), "edit", world.user(world.salesman), op="set_quantity",
                   line_id=line.id, quantity=line.quantity + line.inner_qty)
    order = fresh(order)
    second = prepay.prepay(customer(world), order.order_no, Channel.NATIVE).attempt
    assert second.out_trade_no != first.out_trade_no
    assert second.amount_fen == gateway.to_fen(order.total) != first.amount_fen
    old, new = attempts(order)
    assert old.status == AttemptStatus.CLOSED and new.status == AttemptStatus.OPEN
    assert wxpay.trades[first.out_trade_no]["state"] == "CLOSED"


# ---- notifications ------------------------------------------------------------------------

def test_a_good_notification_pays_the_order_once(pay_app, wxpay, world):
    order = world.order("confirmed", payment="online")
    attempt = prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM).attempt
    wxpay.pay(attempt.out_trade_no)
    sent = wxpay.notification(attempt.out_trade_no)
    resp = post_notification(pay_app, sent)
    assert resp.status_code == 204 and resp.get_data() == b""
    assert "Set-Cookie" not in resp.headers  # no session
    order = fresh(order)
    assert order.payment_status == PaymentStatus.PAID
    (payment,) = payments(order)
    assert (payment.method, payment.amount) == ("online", order.total)
    (attempt,) = attempts(order)
    assert payment.note == attempt.transaction_id
    assert (attempt.status, attempt.settled_by, attempt.payer_openid, attempt.payment_id) == \
        (AttemptStatus.PAID, "notify", MINI_OPENID, payment.id)
    assert len(attempt.transaction_id) == 28 and attempt.paid_at is not None
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.order_id == order.id)).all()
    assert [(e.kind, e.amount) for e in entries] == [(EntryKind.PAYMENT, -order.total)]
    event = db.session.scalar(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                       OrderEvent.action == "pay_online"))
    assert event.actor_role == "system" and event.data["transaction_id"] == attempt.transaction_id

    # The same POST again (a replay) and WeChat's resend (same id, new signature): nothing.
    notification_id = json.loads(sent[1])["id"]
    assert post_notification(pay_app, sent).status_code == 204
    resent = wxpay.notification(attempt.out_trade_no, notification_id=notification_id)
    assert post_notification(pay_app, resent).status_code == 204
    # Another notification of the same transaction (another id): recorded, changes nothing.
    assert post_notification(pay_app, wxpay.notification(attempt.out_trade_no)).status_code == 204
    assert tasks.reconcile()["settled"] == 0
    order = fresh(order)
    assert len(payments(order)) == 1 and order.payment_status == PaymentStatus.PAID
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 1
    notes = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [(n.outcome, n.times) for n in notes] == \
        [(NotificationOutcome.DUPLICATE, 3), (NotificationOutcome.DUPLICATE, 1)]
    assert all(n.transaction_id == attempt.transaction_id for n in notes)
    assert wxpay.refunds_created() == 0


SPOILED = {
    "tampered body": ({"tamper": "body"}, 401),
    "tampered resource": ({"tamper": "ciphertext"}, 401),
    "another signature": ({"tamper": "signature"}, 401),
    "signed by another key": ({"signing_key": "merchant"}, 401),
    "WeChat's signature probe": ({"probe": True}, 401),
    "stale timestamp": ({"timestamp": "-301"}, 400),
    "timestamp from the future": ({"timestamp": "+301"}, 400),
    "unknown serial": ({"serial": "PUB_KEY_ID_0000000000000000000000000000"}, 401),
    "encrypted with another APIv3 key": ({"apiv3_key": "0" * 32}, 401),
}


@pytest.mark.parametrize("how", sorted(SPOILED))
def test_a_notification_we_cannot_believe_changes_nothing(pay_app, wxpay, world, merchant, how):
    order = world.order("confirmed", payment="online")
    attempt = prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM).attempt
    wxpay.pay(attempt.out_trade_no)
    spoil, status = SPOILED[how]
    spoil = dict(spoil)
    if spoil.get("signing_key") == "merchant":
        spoil["signing_key"] = merchant.key
    if "timestamp" in spoil:
        spoil["timestamp"] = wxpay.clock() + int(spoil["timestamp"])
    resp = post_notification(pay_app, wxpay.notification(attempt.out_trade_no, **spoil))
    assert resp.status_code == status
    assert resp.get_json()["code"] == "FAIL" and resp.get_json()["message"]
    order = fresh(order)
    assert order.payment_status == PaymentStatus.UNPAID and payments(order) == []
    assert attempts(order)[0].status == AttemptStatus.OPEN
    assert db.session.scalar(select(func.count(Notification.id))) == 0  # probes are not kept


def test_a_notification_just_inside_five_minutes_is_believed(pay_app, wxpay, world):
    order = world.order("confirmed", payment="online")
    attempt = prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM).attempt
    wxpay.pay(attempt.out_trade_no)
    sent = wxpay.notification(attempt.out_trade_no, timestamp=wxpay.clock() - 290)
    assert post_notification(pay_app, sent).status_code == 204
    assert fresh(order).payment_status == PaymentStatus.PAID


@pytest.mark.parametrize("field", ["amount", "mchid", "appid"])
def test_a_signed_notification_that_does_not_match_the_attempt_changes_nothing(
        pay_app, wxpay, world, field):
    order = world.order("confirmed", payment="online")
    attempt = prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM).attempt
    wxpay.pay(attempt.out_trade_no)
    wrong = {"amount": {"total": attempt.amount_fen - 1, "payer_total": attempt.amount_fen - 1,
                        "currency": "CNY"},
             "mchid": "1900000000", "appid": OFFICIAL}[field]
    sent = wxpay.notification(attempt.out_trade_no, resource={field: wrong})
    resp = post_notification(pay_app, sent)
    assert resp.status_code == 400 and resp.get_json()["code"] == "FAIL"
    order = fresh(order)
    assert order.payment_status == PaymentStatus.UNPAID and payments(order) == []
    (note,) = db.session.scalars(select(Notification)).all()
    assert note.outcome == NotificationOutcome.MISMATCH and field in note.detail
    # Sent again it is looked at again (non-2xx: WeChat resends), and refused again.
    assert post_notification(pay_app, sent).status_code == 400
    assert db.session.scalar(select(Notification.times)) == 2


def test_a_notification_for_an_out_trade_no_we_never_made(pay_app, wxpay, world):
    order = world.order("confirmed", payment="online")
    attempt = prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM).attempt
    wxpay.pay(attempt.out_trade_no)
    sent = wxpay.notification(attempt.out_trade_no, resource={"out_trade_no": "NOTOURS0001"})
    assert post_notification(pay_app, sent).status_code == 400
    assert db.session.scalar(select(Notification.outcome)) == NotificationOutcome.UNKNOWN
    assert fresh(order).payment_status == PaymentStatus.UNPAID


def test_other_events_are_acknowledged_and_kept(pay_app, wxpay, world):
    order = world.order("confirmed", payment="online")
    attempt = prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM).attempt
    sent = wxpay.notification(attempt.out_trade_no, event_type="TRANSACTION.CLOSED")
    assert post_notification(pay_app, sent).status_code == 204
    assert db.session.scalar(select(Notification.outcome)) == NotificationOutcome.IGNORED


def test_an_already_paid_order_is_unchanged_and_the_second_payment_goes_back(pay_app, wxpay,
                                                                             world):
    order = world.order("confirmed", payment="online")
    attempt = prepay.prepay(customer(world), order.order_no, Channel.NATIVE).attempt
    workflow.apply(order, "mark_paid", world.user(world.cs), note="现金已收")  # paid otherwise
    order = fresh(order)
    before = (order.payment_status, [(p.method, p.amount) for p in payments(order)])
    wxpay.pay(attempt.out_trade_no, openid="oScanner")
    assert post_notification(pay_app, wxpay.notification(attempt.out_trade_no)).status_code == 204
    order = fresh(order)
    assert (order.payment_status, [(p.method, p.amount) for p in payments(order)]) == before
    (back,) = refunds.for_finance(world.user(world.cs), needing_a_person=False)
    assert (back.reason, back.amount_fen, back.status) == \
        (AutoReason.ALREADY_PAID, attempt.amount_fen, RefundState.PROCESSING)
    assert wxpay.refunds[back.out_refund_no]["refund"] == attempt.amount_fen
    assert db.session.scalar(select(func.count(LedgerEntry.id)).where(
        LedgerEntry.order_id == order.id)) == 1  # the cash only
    # Customer service sees it in 财务 → 微信支付退款; the customer's history says so.
    cs = pay_app.test_client()
    login(cs, world.cs.mobile)
    html = cs.get("/admin/wechat-pay/").get_data(as_text=True)
    assert f'data-online-refund="{back.id}"' in html and order.order_no in html
    assert "订单已付款" in html  # why it went back (AutoReason.ALREADY_PAID), in Chinese
    assert 'data-empty="attention"' in html  # nothing needs a person
    from app.ordering import history
    (entry,) = [e for e in history.history(order, history.CUSTOMER)
                if e.event.action == "pay_online"]
    assert str(entry.title) == "已通过微信支付付款"
    assert any("自动原路退回" in line for line in entry.details)


def test_a_payment_for_a_closed_order_is_refunded_automatically(pay_app, wxpay, world):
    order = world.order("confirmed", payment="online")
    attempt = prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM).attempt
    wxpay.pay(attempt.out_trade_no)  # paid at WeChat; the notification is late
    workflow.apply(fresh(order), "close", world.user(world.salesman), reason="客户不要了")
    # Closing asked WeChat to close the prepay; WeChat said it is paid; it was settled.
    order = fresh(order)
    assert order.state == State.CLOSED and order.payment_status == PaymentStatus.UNPAID
    assert payments(order) == []
    (back,) = db.session.scalars(select(OnlineRefund)).all()
    assert (back.kind, back.reason, back.status) == \
        (RefundKind.AUTOMATIC, AutoReason.ORDER_CLOSED, RefundState.PROCESSING)
    assert back.out_refund_no == f"{attempt.out_trade_no}-A"
    assert wxpay.refunds_created() == 1
    assert wxpay.refunds[back.out_refund_no]["refund"] == attempt.amount_fen
    event = db.session.scalar(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                       OrderEvent.action == "pay_online"))
    assert event.data["refunded_automatically"] == AutoReason.ORDER_CLOSED
    # The late notification, and the refund's: nothing more goes back.
    assert post_notification(pay_app, wxpay.notification(attempt.out_trade_no)).status_code == 204
    wxpay.finish_refund(back.out_refund_no)
    sent = wxpay.refund_notification(back.out_refund_no)
    assert post_notification(pay_app, sent, "/pay/wechat/refund-notify").status_code == 204
    db.session.expire_all()
    assert db.session.get(OnlineRefund, back.id).status == RefundState.SUCCESS
    assert wxpay.refunds_created() == 1 and payments(fresh(order)) == []


def test_closing_an_order_paid_online_sends_the_money_back(pay_app, wxpay, world):
    order = world.order("confirmed", payment="online")
    order, out_trade_no = paid_online(pay_app, wxpay, world, order)
    assert order.payment_status == PaymentStatus.PAID
    workflow.apply(order, "close", world.user(world.salesman), reason="缺货，无法发货")
    (row,) = db.session.scalars(select(OnlineRefund)).all()
    assert (row.kind, row.reason, row.out_refund_no, row.amount_fen) == (
        RefundKind.ORDER_CLOSED, AutoReason.CLOSED_AFTER_PAYMENT, f"{out_trade_no}-C1",
        gateway.to_fen(order.total))
    assert row.status == RefundState.PROCESSING  # sent after the close's commit
    wxpay.finish_refund(row.out_refund_no)
    sent = wxpay.refund_notification(row.out_refund_no)
    assert post_notification(pay_app, sent, "/pay/wechat/refund-notify").status_code == 204
    order = fresh(order)
    assert order.state == State.CLOSED and order.payment_status == PaymentStatus.REFUNDED
    assert sorted(p.amount for p in payments(order)) == [-order.total, order.total]
    assert db.session.scalar(select(func.sum(LedgerEntry.amount)).where(
        LedgerEntry.order_id == order.id)) == 0  # paid, paid back: nothing either way
    # Customer service sees it with why; closing again sends nothing more.
    (listed,) = refunds.for_finance(world.user(world.cs), needing_a_person=False)
    assert listed.id == row.id
    assert wxpay.refunds_created() == 1


def test_a_notification_arriving_after_the_close_is_refunded_too(pay_app, wxpay, world):
    order = world.order("confirmed", payment="online")
    attempt = prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM).attempt
    wxpay.plan("unavailable")  # the close request gets no answer: left "closing"
    workflow.apply(fresh(order), "close", world.user(world.salesman), reason="客户不要了")
    assert attempts(order)[0].status == AttemptStatus.CLOSING
    wxpay.pay(attempt.out_trade_no)  # WeChat took the money before it closed
    assert post_notification(pay_app, wxpay.notification(attempt.out_trade_no)).status_code == 204
    (back,) = db.session.scalars(select(OnlineRefund)).all()
    assert back.reason == AutoReason.ORDER_CLOSED and wxpay.refunds_created() == 1
    assert attempts(order)[0].status == AttemptStatus.PAID


# ---- the periodic query and closing --------------------------------------------------------

def test_the_periodic_query_settles_a_missed_notification(pay_app, wxpay, world):
    order = world.order("confirmed", payment="online")
    attempt = prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM).attempt
    assert tasks.reconcile()["attempts"] == 0  # too young: its notification may come
    wxpay.pay(attempt.out_trade_no)
    db.session.get(PayAttempt, attempt.id).created_at = utcnow() - timedelta(minutes=3)
    db.session.commit()
    assert tasks.reconcile() == {"attempts": 1, "settled": 1, "refunds": 0}
    order = fresh(order)
    assert order.payment_status == PaymentStatus.PAID and len(payments(order)) == 1
    assert attempts(order)[0].settled_by == "query"
    # The notification comes after all: nothing changes.
    assert post_notification(pay_app, wxpay.notification(attempt.out_trade_no)).status_code == 204
    assert len(payments(fresh(order))) == 1
    assert tasks.reconcile()["attempts"] == 0


def test_the_periodic_query_closes_expired_prepays(pay_app, wxpay, world):
    order = world.order("confirmed", payment="online")
    attempt = prepay.prepay(customer(world), order.order_no, Channel.NATIVE).attempt
    row = db.session.get(PayAttempt, attempt.id)
    row.created_at, row.expires_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=1)
    db.session.commit()
    assert tasks.reconcile()["settled"] == 0
    assert attempts(order)[0].status == AttemptStatus.CLOSED
    assert wxpay.trades[attempt.out_trade_no]["state"] == "CLOSED"
    # A new prepay is made, for the amount still due.
    again = prepay.prepay(customer(world), order.order_no, Channel.NATIVE).attempt
    assert again.out_trade_no != attempt.out_trade_no


def test_cancelling_closes_the_prepay_and_a_failed_close_is_retried(pay_app, wxpay, world):
    order = world.order("pending", payment="online")
    attempt = prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM).attempt
    wxpay.plan("unavailable")
    workflow.apply(fresh(order), "cancel", customer(world))
    assert attempts(order)[0].status == AttemptStatus.CLOSING
    assert wxpay.trades[attempt.out_trade_no]["state"] == "NOTPAY"
    row = db.session.get(PayAttempt, attempt.id)
    row.created_at = row.checked_at = utcnow() - timedelta(minutes=3)
    db.session.commit()
    tasks.reconcile()
    assert attempts(order)[0].status == AttemptStatus.CLOSED
    assert wxpay.trades[attempt.out_trade_no]["state"] == "CLOSED"
    with pytest.raises(ValueError):
        wxpay.pay(attempt.out_trade_no)  # nobody can pay it any more


# ---- refunds ------------------------------------------------------------------------------

def test_an_approved_refund_goes_back_once_even_when_retried(pay_app, wxpay, world):
    order, out_trade_no = delivered_and_paid(pay_app, wxpay, world)
    amount = Decimal("5.00")
    order = request_and_approve(world, order, amount)
    assert order.refund_status == RefundStatus.APPROVED
    (row,) = db.session.scalars(select(OnlineRefund)).all()
    assert (row.kind, row.amount_fen, row.status, row.tries) == \
        (RefundKind.APPROVED, 500, RefundState.PROCESSING, 1)
    assert row.out_refund_no == f"{out_trade_no}-R{row.refund_id}"
    assert wxpay.refunds_created() == 1 and wxpay.refunds[row.out_refund_no]["refund"] == 500
    # Retried by a job, by the periodic task: asked about, never sent again.
    assert refunds.send_refund(row.id) == RefundState.PROCESSING
    row_ = db.session.get(OnlineRefund, row.id)
    row_.checked_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    tasks.reconcile()
    assert wxpay.calls_to("/v3/refund/domestic/refunds", "POST") == 1
    assert wxpay.calls_to(f"/v3/refund/domestic/refunds/{row.out_refund_no}", "GET") == 1
    # WeChat says it is done; its notification, twice.
    wxpay.finish_refund(row.out_refund_no)
    sent = wxpay.refund_notification(row.out_refund_no)
    for _ in range(2):
        assert post_notification(pay_app, sent, "/pay/wechat/refund-notify").status_code == 204
    db.session.expire_all()
    row = db.session.get(OnlineRefund, row.id)
    assert row.status == RefundState.SUCCESS and row.settled_at is not None
    assert wxpay.refunds_created() == 1
    # The ledger: the payment, the refund and the money paid back, each once; the account
    # is square again (owed total - 5, paid total, 5 went back).
    entries = db.session.execute(select(LedgerEntry.kind, LedgerEntry.amount).where(
        LedgerEntry.order_id == order.id).order_by(LedgerEntry.id)).all()
    assert sorted(k for k, _a in entries) == sorted(
        [EntryKind.PAYMENT, EntryKind.DELIVERY, EntryKind.REFUND, EntryKind.PAYBACK])
    assert sum(a for _k, a in entries) == 0
    assert dict(entries)[EntryKind.PAYBACK] == amount
    order = fresh(order)
    assert sorted(p.amount for p in payments(order)) == [-amount, order.total]
    assert db.session.get(OnlineRefund, row.id).payment_id is not None
    (event,) = [e for e in order.events if e.action == "refund_paid_back"]
    assert event.data["paid_back"] == "5.00"
    # Asked again (the periodic task, another notification): recorded once.
    assert refunds.record_paid_back(row.id) is False
    tasks.reconcile()
    assert [e.action for e in fresh(order).events].count("refund_paid_back") == 1


def test_a_refund_whose_answer_was_lost_is_sent_again_and_refunded_once(pay_app, wxpay, world,
                                                                         monkeypatch):
    order, _ = delivered_and_paid(pay_app, wxpay, world)
    monkeypatch.setitem(pay_app.config, "WECHATPAY_TIMEOUT", 0.5)
    gateway.reset_clients()
    wxpay.plan(("hold", 3))  # WeChat makes the refund; its answer never reaches us
    request_and_approve(world, order, Decimal("3.00"))
    (row,) = db.session.scalars(select(OnlineRefund)).all()
    assert (row.status, row.tries) == (RefundState.PENDING, 1) and "Timeout" in row.error
    assert wxpay.refunds_created() == 1
    wxpay.release()
    row.checked_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    tasks.reconcile()  # sent again with the same out_refund_no: WeChat answers the same refund
    db.session.expire_all()
    row = db.session.get(OnlineRefund, row.id)
    assert (row.status, row.tries) == (RefundState.PROCESSING, 2)
    assert wxpay.refunds_created() == 1
    assert row.wechat_refund_id == wxpay.refunds[row.out_refund_no]["refund_id"]


def test_a_refund_wechat_could_not_take_now_waits_for_the_next_run(pay_app, wxpay, world):
    order, _ = delivered_and_paid(pay_app, wxpay, world)
    wxpay.plan(("error", 403, "NOT_ENOUGH", "基本账户余额不足"))
    request_and_approve(world, order, Decimal("2.00"))
    (row,) = db.session.scalars(select(OnlineRefund)).all()
    assert row.status == RefundState.PENDING and "NOT_ENOUGH" in row.error
    row.checked_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    tasks.reconcile()
    db.session.expire_all()
    assert db.session.get(OnlineRefund, row.id).status == RefundState.PROCESSING
    assert wxpay.refunds_created() == 1


def test_partial_refunds_add_up_to_at_most_what_was_paid(pay_app, wxpay, world):
    order, out_trade_no = delivered_and_paid(pay_app, wxpay, world)
    total = order.total
    first = total - Decimal("1.00")
    order = request_and_approve(world, order, first)
    order = request_and_approve(world, order, Decimal("1.00"))
    rows = db.session.scalars(select(OnlineRefund).order_by(OnlineRefund.id)).all()
    assert [r.amount_fen for r in rows] == [gateway.to_fen(first), 100]
    assert sum(r["refund"] for r in wxpay.refunds.values()) == gateway.to_fen(total)
    line = order.lines[0]
    workflow.apply(order, "request_refund", customer(world), reason="又坏了",
                   lines=[{"line_id": line.id, "quantity": 1}])
    with pytest.raises(ValidationError):
        workflow.apply(fresh(order), "decide_refund", world.user(world.cs), approve="1",
                       amount="0.01")
    assert wxpay.refunds_created() == 2
    # WeChat itself refuses more than the order's amount, whatever we send.
    s = gateway.settings()
    with pytest.raises(gateway.Refused) as refused:
        gateway.call("refund", lambda: gateway.client(s).refund(
            out_refund_no=f"{out_trade_no}-X", amount={"refund": 1, "total": gateway.to_fen(total),
                                                       "currency": "CNY"},
            out_trade_no=out_trade_no))
    assert (refused.value.status, refused.value.code) == (400, "INVALID_REQUEST")


def test_a_refund_wechat_could_not_pay_back_is_left_for_a_person(pay_app, wxpay, world):
    order, _ = delivered_and_paid(pay_app, wxpay, world)
    request_and_approve(world, order, Decimal("4.00"))
    (row,) = db.session.scalars(select(OnlineRefund)).all()
    wxpay.finish_refund(row.out_refund_no, "ABNORMAL")
    path = "/pay/wechat/refund-notify"
    forged = wxpay.refund_notification(row.out_refund_no, tamper="signature")
    assert post_notification(pay_app, forged, path).status_code == 401
    wrong = wxpay.refund_notification(row.out_refund_no, resource={"amount": {"refund": 1}})
    assert post_notification(pay_app, wrong, path).status_code == 400
    db.session.expire_all()
    assert db.session.get(OnlineRefund, row.id).status == RefundState.PROCESSING
    sent = wxpay.refund_notification(row.out_refund_no)
    assert post_notification(pay_app, sent, path).status_code == 204
    assert [r.id for r in refunds.for_finance(world.user(world.cs), needing_a_person=True)] \
        == [row.id]
    assert db.session.get(OnlineRefund, row.id).status == RefundState.ABNORMAL


def test_the_online_refund_guard_keeps_to_what_wechat_took(pay_app, wxpay, world):
    """With an online refund that WeChat closed (money not returned), the amount it held
    may go back again; with one that may still succeed, it may not."""
    order, _ = delivered_and_paid(pay_app, wxpay, world)
    (attempt,) = attempts(order)
    full = attempt.amount_fen
    assert rules.refundable_fen(attempt) == full
    assert rules.refund_plan([attempt], full + 5) == [(attempt, full)]
    db.session.add(OnlineRefund(kind=RefundKind.APPROVED, order_id=order.id, attempt=attempt,
                                out_refund_no="T-1", amount_fen=full - 100,
                                status=RefundState.PROCESSING))
    db.session.flush()
    assert rules.refundable_fen(attempt) == 100
    db.session.scalar(select(OnlineRefund)).status = RefundState.CLOSED
    db.session.flush()
    assert rules.refundable_fen(attempt) == full
    db.session.rollback()


def test_refund_of_an_order_not_paid_online_calls_nothing(pay_app, wxpay, world):
    order = world.order("delivered", payment="cod")
    request_and_approve(world, order, Decimal("1.00"))
    assert db.session.scalar(select(func.count(OnlineRefund.id))) == 0
    assert wxpay.calls == []


# ---- certificate mode ---------------------------------------------------------------------

def test_certificate_mode_downloads_the_platform_certificate(pay_app, merchant, world,
                                                             tmp_path, monkeypatch):
    gateway.reset_clients()
    with WeChatPayStandIn(merchant, {MINI, OFFICIAL}, mode="certificate") as server:
        cert_dir = tmp_path / "wechatpay-certs"
        _configure(pay_app, server, monkeypatch, WECHATPAY_CERT_DIR=str(cert_dir))
        order = world.order("confirmed", payment="online")
        attempt = prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM).attempt
        assert server.calls_to("/v3/certificates") == 1
        assert (cert_dir / f"{server.cert_serial}.pem").exists()
        server.pay(attempt.out_trade_no)
        bad = server.notification(attempt.out_trade_no, serial="PUB_KEY_ID_123")
        assert post_notification(pay_app, bad).status_code == 401
        assert post_notification(pay_app, server.notification(attempt.out_trade_no)) \
            .status_code == 204
        assert fresh(order).payment_status == PaymentStatus.PAID
    gateway.reset_clients()


def test_people_cannot_record_a_wechat_payment(pay_app, wxpay, world):
    order = world.order("confirmed", payment="online")
    attempt = prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM).attempt
    transaction = wxpay.pay(attempt.out_trade_no)
    cs = world.user(world.cs)
    assert "pay_online" not in workflow.allowed_actions(fresh(order), cs)
    from app.platform.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        workflow.apply(fresh(order), "pay_online", cs, attempt_id=attempt.id,
                       transaction=transaction)
    assert payments(fresh(order)) == []


def test_a_huge_notification_is_refused_unread(pay_app, wxpay, pctx):
    resp = pay_app.test_client().post(NOTIFY, data=b"x" * (65 * 1024),
                                      headers={"Content-Type": "application/json"})
    assert resp.status_code == 413 and resp.get_json()["code"] == "FAIL"


def test_notify_parts_refuse_before_asking_the_library(pay_app, wxpay, pctx):
    s = gateway.settings()
    good = {"Wechatpay-Timestamp": str(int(wxpay.clock())), "Wechatpay-Nonce": "n",
            "Wechatpay-Signature": "c2ln", "Wechatpay-Serial": wxpay.public_key_id,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"}
    for change, status in (({"Wechatpay-Timestamp": "abc"}, 400),
                           ({"Wechatpay-Signature-Type": "SM2"}, 401),
                           ({"Wechatpay-Signature": ""}, 401),
                           ({"Wechatpay-Serial": "zz"}, 401)):
        with pytest.raises(notify._Refused) as refused:
            notify.verify(s, {**good, **change}, b"{}")
        assert refused.value.status == status, change
    with pytest.raises(notify._Refused):
        notify.verify(s, good, b"\xff\xfe")


# ---- at once (PostgreSQL: row locks) -------------------------------------------------------

@pytest.mark.postgres
def test_notifications_and_the_query_at_once_record_one_payment(pay_app, wxpay, world):
    from tests.conftest import TEST_DATABASE_URL, need
    from tests.test_checkout import _concurrent

    need(bool(TEST_DATABASE_URL), "TEST_DATABASE_URL is not set (PostgreSQL is needed)")
    order = world.order("confirmed", payment="online")
    attempt = prepay.prepay(customer(world), order.order_no, Channel.MINIPROGRAM).attempt
    wxpay.pay(attempt.out_trade_no)
    sent = [wxpay.notification(attempt.out_trade_no) for _ in range(3)]
    jobs = [lambda s=s: post_notification(pay_app, s).status_code for s in sent]
    jobs.append(lambda: tasks.query_attempt(attempt.id))
    results, _ = _concurrent(pay_app, jobs)
    assert all(code in (204, 500) for code in results[:3]), results  # 500: WeChat resends
    assert results[3] == AttemptStatus.PAID, results
    order = fresh(order)
    assert len(payments(order)) == 1 and order.payment_status == PaymentStatus.PAID
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 1
    assert db.session.scalar(select(func.count(OrderEvent.id)).where(
        OrderEvent.action == "pay_online")) == 1
