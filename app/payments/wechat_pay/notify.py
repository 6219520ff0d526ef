"""WeChat Pay's notifications (支付通知, 退款通知) to our notify URLs.

A notification is believed only when its `Wechatpay-Timestamp` is within 5 minutes of
our clock (WeChat's documented rule; wechatpayv3 does not check it), its signature over
"timestamp\\nnonce\\nbody\\n" verifies with the WeChat Pay public key whose id is in
`Wechatpay-Serial` (public-key mode) or with that platform certificate (certificate
mode), and its resource decrypts (AEAD_AES_256_GCM, the APIv3 key). Anything else is
answered non-2xx with WeChat's {"code": "FAIL", "message": ...} and changes nothing;
WeChat's own signature probes (签名探测) are answered so too.

Verified notifications are kept once by their id (settlement.note). A payment is settled
as settlement.settle says; a refund's status moves the online refund it names. 2xx tells
WeChat to stop sending; an answer of ours that is not final (an unknown out_trade_no,
a mismatch, our failure) is non-2xx, so WeChat sends it again and a person can look.
"""

import logging
import re
import time
from dataclasses import dataclass

import requests
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.payments.wechat_pay import gateway, refunds, settlement
from app.payments.wechat_pay.models import (
    NotificationKind,
    NotificationOutcome,
    OnlineRefund,
)

log = logging.getLogger(__name__)

MAX_SKEW = 300  # seconds between Wechatpay-Timestamp and our clock
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
HEADERS = ("Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature",
           "Wechatpay-Serial", "Wechatpay-Signature-Type")
CERT_SERIAL = re.compile(r"[0-9A-Fa-f]{1,40}")
NOTIFICATION_ID = re.compile(r"[0-9A-Za-z_\-]{1,64}")


@dataclass(frozen=True)
class Answer:
    status: int
    message: str | None = None  # for FAIL answers

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


OK = Answer(204)


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def verify(s: gateway.Settings, headers, body: bytes, now: float | None = None) -> dict:
    """The notification with its resource decrypted, or _Refused (status, why)."""
    h = {name: str(headers.get(name) or "") for name in HEADERS}
    timestamp = h["Wechatpay-Timestamp"]
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise _Refused(400, "bad Wechatpay-Timestamp")
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_SKEW:
        raise _Refused(400, "Wechatpay-Timestamp is more than 5 minutes off")
    if h["Wechatpay-Signature-Type"] != SIGNATURE_TYPE:
        raise _Refused(401, "unsupported Wechatpay-Signature-Type")
    serial = h["Wechatpay-Serial"]
    known_key = s.public_key_mode and serial == s.public_key_id
    # A serial that is neither our public key's id nor (in certificate mode) a certificate
    # serial is refused here: the library would go and download certificates for it.
    if not known_key and not (s.cert_dir and CERT_SERIAL.fullmatch(serial)):
        raise _Refused(401, "unknown Wechatpay-Serial")
    if not h["Wechatpay-Nonce"] or not h["Wechatpay-Signature"]:
        raise _Refused(401, "signature missing")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused(400, "body is not UTF-8") from None
    try:
        event = gateway.client(s).callback(h, text)
    except requests.RequestException:  # certificate mode fetching a new certificate
        raise _Refused(503, "platform certificates unavailable") from None
    except (gateway.Unavailable, gateway.NotConfigured):
        raise _Refused(503, "WeChat Pay unavailable") from None
    except Exception:  # the library's own refusals (algorithm, JSON)
        raise _Refused(401, "signature or resource not accepted") from None
    if not event or not isinstance(event, dict):
        raise _Refused(401, "signature or decryption failed")
    if not isinstance(event.get("resource"), dict) or \
            not NOTIFICATION_ID.fullmatch(str(event.get("id") or "")) or \
            not isinstance(event.get("event_type"), str):
        raise _Refused(400, "not a notification")
    return event


def handle(headers, body: bytes) -> Answer:
    """A notification POSTed to us (payment or refund: told apart by its event_type)."""
    try:
        s = gateway.settings()
    except gateway.NotConfigured as exc:
        # No merchant here, so no notification endpoint: 404 (WeChat would retry a real one
        # for a day, time to fix the settings; a probe learns nothing).
        log.error("WeChat Pay notification while not configured: %s", exc.why)
        return Answer(404, "WeChat Pay is not configured")
    try:
        event = verify(s, headers, body)
    except _Refused as exc:
        log.warning("WeChat Pay notification refused: %s", exc.message)
        return Answer(exc.status, exc.message)
    resource, event_type = event["resource"], event["event_type"]
    kind = NotificationKind.REFUND if event_type.startswith("REFUND.") else \
        NotificationKind.PAYMENT
    info = {"id": event["id"], "kind": kind, "event_type": event_type,
            "out_trade_no": _text(resource.get("out_trade_no"), 32),
            "out_refund_no": _text(resource.get("out_refund_no"), 64),
            "transaction_id": _text(resource.get("transaction_id"), 32)}
    try:
        if settlement.seen(info) is not None:  # a replay or a resend of what we answered
            settlement.note(info, NotificationOutcome.DUPLICATE)
            db.session.commit()
            return OK
        if kind == NotificationKind.REFUND:
            outcome = _refund(s, resource, info)
        elif event_type == "TRANSACTION.SUCCESS":
            outcome = settlement.settle(s, resource, "notify", info)
        else:
            settlement.note(info, NotificationOutcome.IGNORED)
            db.session.commit()
            outcome = NotificationOutcome.IGNORED
    except IntegrityError:  # the same notification being recorded by another request
        db.session.rollback()
        outcome = NotificationOutcome.ERROR
    if outcome in NotificationOutcome.FINAL:
        return OK
    if outcome == NotificationOutcome.ERROR:
        return Answer(500, "not recorded, please send again")
    return Answer(400, f"refused: {outcome}")


def _text(value, limit: int) -> str | None:
    return str(value)[:limit] if isinstance(value, str) and value else None


def _refund(s, resource: dict, info: dict) -> str:
    """A refund notification (REFUND.SUCCESS / ABNORMAL / CLOSED) for one of ours."""
    if resource.get("mchid") != s.mchid:
        return _note(info, NotificationOutcome.MISMATCH, "mchid is not ours")
    row = db.session.scalar(select(OnlineRefund).where(
        OnlineRefund.out_refund_no == (info["out_refund_no"] or "")))
    if row is None:
        return _note(info, NotificationOutcome.UNKNOWN, "no such out_refund_no")
    amount = resource.get("amount") if isinstance(resource.get("amount"), dict) else {}
    if amount.get("refund") != row.amount_fen or \
            resource.get("out_trade_no") != row.attempt.out_trade_no:
        return _note(info, NotificationOutcome.MISMATCH, "amount or out_trade_no differ")
    before, row_id = row.status, row.id
    refunds.take_answer(row, resource)
    outcome = NotificationOutcome.RECORDED if row.status != before else \
        NotificationOutcome.DUPLICATE
    noted = _note(info, outcome)
    refunds.record_paid_back(row_id)
    return noted


def _note(info, outcome, detail=None) -> str:
    settlement.note(info, outcome, detail)
    db.session.commit()
    return outcome
