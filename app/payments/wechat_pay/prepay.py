"""Prepay (统一下单) for a customer's own order, and the parameters that start the payment:
JSAPI in our mini program (wx.requestPayment) and in WeChat's browser (WeixinJSBridge),
a Native QR code (code_url) anywhere else.

The amount is what the order still owes, in fen. Each attempt has its own out_trade_no
(the order number and a random suffix): an attempt still payable for the same amount,
place and payer is offered again; otherwise a new one is made and the older payable
ones are closed at WeChat (after the commit), so that an old QR code cannot pay too."""

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wechatpayv3 import WeChatPayType

from app.extensions import db
from app.jobs import enqueue
from app.ordering import scope
from app.payments.wechat_pay import gateway, rules, tasks
from app.payments.wechat_pay.models import AttemptStatus, Channel, PayAttempt, TradeType
from app.platform import wechat
from app.platform.errors import ValidationError
from app.platform.settings import get_settings
from app.platform.time import SHANGHAI, utcnow

PREPAY_TTL = timedelta(hours=2)  # time_expire: WeChat refuses to take the money after it
OFFER_MARGIN = timedelta(minutes=10)  # an attempt this close to expiring is not offered

_PAY_TYPES = {Channel.MINIPROGRAM: WeChatPayType.MINIPROG, Channel.OFFICIAL: WeChatPayType.JSAPI,
              Channel.NATIVE: WeChatPayType.NATIVE}


@dataclass
class Prepay:
    attempt: PayAttempt
    params: dict | None  # JSAPI: what wx.requestPayment / getBrandWCPayRequest take
    code_url: str | None  # Native: the QR code's text

    @property
    def amount(self):
        return gateway.from_fen(self.attempt.amount_fen)


def web_channel(user, in_wechat_browser: bool) -> str:
    """Where a web page pays: WeChat's browser with the official account's openid, or a
    QR code (also in WeChat's browser before WeChat told us the openid)."""
    if in_wechat_browser and wechat.openid_for(user.id, wechat.OFFICIAL):
        return Channel.OFFICIAL
    return Channel.NATIVE


def _place(s: gateway.Settings, user, channel: str) -> tuple[str, str | None]:
    """(appid, openid) of a channel for this customer, or why it cannot pay there."""
    if channel == Channel.MINIPROGRAM:
        if not s.miniprogram_appid:
            raise gateway.NotConfigured("no mini program appid")
        openid = wechat.openid_for(user.id, wechat.MINIPROGRAM)
        if not openid:
            raise ValidationError(_l("Please sign in with WeChat in our mini program first."),
                                  "openid")
        return s.miniprogram_appid, openid
    if channel == Channel.OFFICIAL:
        if not s.official_appid:
            raise gateway.NotConfigured("no official account appid")
        openid = wechat.openid_for(user.id, wechat.OFFICIAL)
        if not openid:
            raise ValidationError(_l("WeChat has not told us who you are yet. Please open "
                                     "this page again from WeChat."), "openid")
        return s.official_appid, openid
    if channel == Channel.NATIVE:
        return s.native_appid, None
    raise ValidationError(_l("Unknown payment method."), "channel")


def current(user, order, channel: str) -> Prepay | None:
    """The attempt this customer can pay now at `channel`, signed afresh, without asking
    WeChat anything (for a page that only shows it); None when a new one is needed."""
    s = gateway.settings()
    if not rules.can_pay(order):
        return None
    appid, openid = _place(s, user, channel)
    attempt = _payable(order, channel, appid, openid, gateway.to_fen(rules.amount_due(order)))
    return _offer(s, attempt) if attempt else None


def prepay(user, order_no: str, channel: str) -> Prepay:
    """A payable attempt of the customer's own order at `channel`: one still open for the
    same amount, or a new prepay at WeChat (the older ones closed after)."""
    order = scope.own_order(user, order_no)  # someone else's order: 404 before anything
    s = gateway.settings()
    fen = gateway.to_fen(rules.check_payable(order))
    appid, openid = _place(s, user, channel)
    attempt = _payable(order, channel, appid, openid, fen)
    if attempt is None:
        attempt = _new(s, order, user, channel, appid, openid, fen)
    return _offer(s, attempt)


def _payable(order, channel, appid, openid, fen) -> PayAttempt | None:
    return db.session.scalar(select(PayAttempt).where(
        PayAttempt.order_id == order.id, PayAttempt.status == AttemptStatus.OPEN,
        PayAttempt.channel == channel, PayAttempt.appid == appid,
        PayAttempt.openid.is_(None) if openid is None else PayAttempt.openid == openid,
        PayAttempt.amount_fen == fen, PayAttempt.expires_at > utcnow() + OFFER_MARGIN)
        .order_by(PayAttempt.id.desc()).limit(1))


def _new(s, order, user, channel, appid, openid, fen) -> PayAttempt:
    expires = (utcnow() + PREPAY_TTL).replace(microsecond=0)
    trade_type = TradeType.NATIVE if channel == Channel.NATIVE else TradeType.JSAPI
    attempt = PayAttempt(order_id=order.id, out_trade_no=f"{order.order_no}-{secrets.token_hex(3)}",
                         appid=appid, channel=channel, trade_type=trade_type, amount_fen=fen,
                         openid=openid, status=AttemptStatus.NEW, created_by_id=user.id,
                         expires_at=expires)
    db.session.add(attempt)
    db.session.commit()  # kept whatever WeChat answers: the periodic query finds it
    description = f"{get_settings().shop_name} {order.order_no}"[:127]
    try:
        answer = gateway.call("prepay", lambda: gateway.client(s).pay(
            description=description, out_trade_no=attempt.out_trade_no,
            amount={"total": fen, "currency": "CNY"},
            payer={"openid": openid} if openid else None,
            time_expire=expires.replace(tzinfo=UTC).astimezone(SHANGHAI).isoformat(),
            appid=appid, notify_url=s.notify_url, pay_type=_PAY_TYPES[channel]))
    except gateway.Refused as exc:
        attempt.status, attempt.error = AttemptStatus.FAILED, str(exc)[:255]
        db.session.commit()
        raise gateway.Unavailable(f"prepay refused: {exc}") from None
    except gateway.Unavailable as exc:
        attempt.error = exc.why[:255]  # stays new: the periodic query settles it
        db.session.commit()
        raise
    key = "code_url" if channel == Channel.NATIVE else "prepay_id"
    value = answer.get(key)
    if not isinstance(value, str) or not value or len(value) > (255 if key == "code_url" else 64):
        attempt.status, attempt.error = AttemptStatus.FAILED, f"prepay answer without {key}"
        db.session.commit()
        raise gateway.Unavailable(f"prepay answer without {key}")
    setattr(attempt, key, value)
    attempt.status = AttemptStatus.OPEN
    for older in db.session.scalars(select(PayAttempt).where(
            PayAttempt.order_id == order.id, PayAttempt.id != attempt.id,
            PayAttempt.status.in_([AttemptStatus.NEW, AttemptStatus.OPEN]))):
        older.status = AttemptStatus.CLOSING
        enqueue(tasks.close_attempt, older.id)
    db.session.commit()
    return attempt


def _offer(s, attempt: PayAttempt) -> Prepay:
    if attempt.trade_type == TradeType.NATIVE:
        return Prepay(attempt, None, attempt.code_url)
    return Prepay(attempt, sign_jsapi(s, attempt), None)


def sign_jsapi(s, attempt: PayAttempt) -> dict:
    """The JSAPI parameters of an attempt, paySign = RSA-SHA256 over appId, timeStamp,
    nonceStr and package, one per line, with the merchant key (wechatpayv3's sign())."""
    timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
    package = f"prepay_id={attempt.prepay_id}"
    pay_sign = gateway.client(s).sign([attempt.appid, timestamp, nonce, package])
    params = {"timeStamp": timestamp, "nonceStr": nonce, "package": package,
              "signType": "RSA", "paySign": pay_sign}
    if attempt.channel == Channel.OFFICIAL:
        params = {"appId": attempt.appid, **params}  # WeixinJSBridge needs it too
    return params


def check(user, order_no: str):
    """Ask WeChat about the order's unsettled attempts now (the customer says they paid);
    returns the order as it is afterwards."""
    order = scope.own_order(user, order_no)
    gateway.settings()
    for attempt_id in db.session.scalars(select(PayAttempt.id).where(
            PayAttempt.order_id == order.id, PayAttempt.status.in_(AttemptStatus.UNSETTLED))
            .order_by(PayAttempt.id)).all():
        tasks.query_attempt(attempt_id)
    db.session.expire_all()
    return scope.own_order(user, order_no)
