"""WeChat Pay API v3 through wechatpayv3: our settings, the one client per process, and
every request's answer as data or an exception.

wechatpayv3 (pinned in requirements.txt) signs our requests with the merchant key,
verifies WeChat's answers and notifications (public-key mode: the 微信支付公钥 and its id;
certificate mode: the platform certificates it downloads into WECHATPAY_CERT_DIR) and
decrypts notification resources with the APIv3 key. It has no setting for the gateway:
`Core.__init__` assigns `self._gate_way = 'https://api.mch.weixin.qq.com'` and, in
certificate mode, downloads the certificates from there before returning. So `_Core`
makes `_gate_way` a property (the library's assignment is ignored, WECHATPAY_API_BASE
is used), and `Client` is a `WeChatPay` whose `__init__` sets the same attributes as
wechatpayv3 2.0.4's with that Core (tests/test_wechat_pay.py checks they stay the same).

The library does not check `Wechatpay-Timestamp`; notify.py does (5 minutes).
"""

import json
import os
import threading
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import requests
from flask import current_app
from flask_babel import lazy_gettext as _l
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.core import Core

from app.catalog.pricing import money
from app.platform.errors import DomainError

DEFAULT_API_BASE = "https://api.mch.weixin.qq.com"
TIMEOUT = (5.0, 15.0)  # seconds: connect, read


class NotConfigured(DomainError):
    """WeChat Pay is not set up on this server: nothing is pretended."""

    status_code = 503
    code = "payment_not_configured"

    def __init__(self, why: str = ""):
        super().__init__(_l("WeChat Pay is not set up. Please choose another payment method "
                            "or contact us."))
        self.why = why  # for the log


class Unavailable(DomainError):
    """WeChat Pay gave no answer we can trust (down, timeout, a bad signature)."""

    status_code = 503
    code = "payment_unavailable"

    def __init__(self, why: str = ""):
        super().__init__(_l("WeChat Pay is not available right now. Please try again "
                            "later."))
        self.why = why


class Refused(Exception):
    """WeChat Pay answered with an error: HTTP status, its code and message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


# ---- money ------------------------------------------------------------------------------

def to_fen(amount) -> int:
    """Yuan (Decimal or its text) to whole fen; never through a float."""
    return int((money(Decimal(str(amount))) * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_fen(fen: int) -> Decimal:
    return money(Decimal(int(fen)) / 100)


# ---- settings ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    mchid: str
    apiv3_key: str
    private_key: str  # PEM text
    cert_serial_no: str
    public_key: str | None  # PEM text (public-key mode)
    public_key_id: str | None
    cert_dir: str | None  # certificate mode
    notify_url: str
    refund_notify_url: str | None
    api_base: str
    miniprogram_appid: str | None
    official_appid: str | None
    timeout: tuple[float, float]

    @property
    def public_key_mode(self) -> bool:
        return bool(self.public_key_id)

    @property
    def appids(self) -> set[str]:
        return {a for a in (self.miniprogram_appid, self.official_appid) if a}

    @property
    def native_appid(self) -> str | None:
        return self.official_appid or self.miniprogram_appid


def _pem(value: str) -> str:
    """A key given as PEM text, base64 text, or the path of a PEM file."""
    value = (value or "").strip()
    if value and "-----BEGIN" not in value and os.path.isfile(value):
        with open(value, encoding="utf-8") as f:
            return f.read()
    return value


def settings(config=None) -> Settings:
    """The configured settings, or NotConfigured saying what is missing."""
    config = config if config is not None else current_app.config

    def get(key) -> str:
        return str(config.get(key) or "").strip()

    missing = [key for key in ("WECHATPAY_MCHID", "WECHATPAY_APIV3_KEY",
                               "WECHATPAY_PRIVATE_KEY", "WECHATPAY_CERT_SERIAL_NO",
                               "WECHATPAY_NOTIFY_URL") if not get(key)]
    public_key, public_key_id = get("WECHATPAY_PUBLIC_KEY"), get("WECHATPAY_PUBLIC_KEY_ID")
    cert_dir = get("WECHATPAY_CERT_DIR")
    if bool(public_key) != bool(public_key_id):
        missing.append("WECHATPAY_PUBLIC_KEY and WECHATPAY_PUBLIC_KEY_ID (both or neither)")
    elif not public_key and not cert_dir:
        missing.append("WECHATPAY_PUBLIC_KEY(_ID) or WECHATPAY_CERT_DIR")
    if not (get("WECHAT_MINIPROGRAM_APP_ID") or get("WECHAT_OFFICIAL_APP_ID")):
        missing.append("WECHAT_MINIPROGRAM_APP_ID or WECHAT_OFFICIAL_APP_ID")
    if missing:
        raise NotConfigured("missing " + ", ".join(missing))
    apiv3_key = get("WECHATPAY_APIV3_KEY")
    if len(apiv3_key.encode()) != 32:
        raise NotConfigured("WECHATPAY_APIV3_KEY must be 32 characters (the AES-256 key)")
    read_timeout = float(config.get("WECHATPAY_TIMEOUT") or TIMEOUT[1])
    return Settings(
        mchid=get("WECHATPAY_MCHID"), apiv3_key=apiv3_key,
        private_key=_pem(get("WECHATPAY_PRIVATE_KEY")),
        cert_serial_no=get("WECHATPAY_CERT_SERIAL_NO"),
        public_key=_pem(public_key) if public_key else None,
        public_key_id=public_key_id or None, cert_dir=cert_dir or None,
        notify_url=get("WECHATPAY_NOTIFY_URL"),
        refund_notify_url=get("WECHATPAY_REFUND_NOTIFY_URL") or None,
        api_base=(get("WECHATPAY_API_BASE") or DEFAULT_API_BASE).rstrip("/"),
        miniprogram_appid=get("WECHAT_MINIPROGRAM_APP_ID") or None,
        official_appid=get("WECHAT_OFFICIAL_APP_ID") or None,
        timeout=(TIMEOUT[0], read_timeout))


def configured(config=None) -> bool:
    try:
        settings(config)
    except NotConfigured:
        return False
    return True


# ---- the client -------------------------------------------------------------------------

class _Core(Core):
    """wechatpayv3's Core talking to `gateway` instead of its hard-coded production URL."""

    def __init__(self, gateway: str, **kwargs):
        self._pifa_gateway = gateway
        super().__init__(**kwargs)

    @property
    def _gate_way(self):
        return self._pifa_gateway

    @_gate_way.setter
    def _gate_way(self, _hard_coded):
        pass  # Core.__init__ assigns the production gateway; WECHATPAY_API_BASE stays


class Client(WeChatPay):
    """A WeChatPay (direct merchant, 直连商户) on our settings and gateway."""

    def __init__(self, s: Settings):
        # What WeChatPay.__init__ (2.0.4) sets, with our Core: calling it would build a
        # Core on the production gateway (and, in certificate mode, download from there).
        self._type = WeChatPayType.JSAPI  # every call here names its pay_type
        self._mchid = s.mchid
        self._appid = s.miniprogram_appid or s.official_appid
        self._notify_url = s.notify_url
        self._partner_mode = False
        self._core = _Core(gateway=s.api_base, mchid=s.mchid,
                           cert_serial_no=s.cert_serial_no, private_key=s.private_key,
                           apiv3_key=s.apiv3_key, cert_dir=s.cert_dir, logger=None,
                           proxy=None, timeout=s.timeout, public_key=s.public_key,
                           public_key_id=s.public_key_id)


_clients: dict[Settings, Client] = {}
_lock = threading.Lock()


def reset_clients() -> None:
    """Forget the cached clients (tests, a changed configuration)."""
    with _lock:
        _clients.clear()


def client(s: Settings | None = None) -> Client:
    """The process's client for these settings. Certificate mode downloads the platform
    certificates when the client is made; a failure there is Unavailable, not cached."""
    s = s or settings()
    with _lock:
        found = _clients.get(s)
        if found is None:
            try:
                found = Client(s)
            except requests.RequestException as exc:
                raise Unavailable(f"platform certificates: {type(exc).__name__}") from None
            except Exception as exc:  # the library raises bare Exception for its own checks
                text = str(exc)
                if "private key" in text or "public key" in text:
                    raise NotConfigured(text) from None
                raise Unavailable(text[:200]) from None
            _clients[s] = found
        return found


def call(what: str, request) -> dict:
    """Run one request of the library (a function returning its (status, text)): WeChat's
    JSON answer ({} for 204), Refused for an error answer, Unavailable when there is no
    answer we can trust (network, timeout, 5xx, a response whose signature fails)."""
    try:
        status, text = request()
    except requests.RequestException as exc:
        raise Unavailable(f"{what}: {type(exc).__name__}") from None
    except Exception as exc:  # "failed to verify the signature" and its other checks
        raise Unavailable(f"{what}: {str(exc)[:200]}") from None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        body = json.loads(text) if text else {}
    except ValueError:
        body = {}
    if 200 <= status < 300:
        if not isinstance(body, dict):
            raise Unavailable(f"{what}: answer is not a JSON object")
        return body
    code = str(body.get("code") or "") if isinstance(body, dict) else ""
    message = str(body.get("message") or "") if isinstance(body, dict) else ""
    if status >= 500 or code in ("SYSTEM_ERROR", "FREQUENCY_LIMITED"):
        raise Unavailable(f"{what}: {status} {code} {message}"[:255])
    raise Refused(status, code or "HTTP_" + str(status), message[:200])
