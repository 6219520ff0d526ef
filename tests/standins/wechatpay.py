"""Stand-in for WeChat Pay API v3 (直连商户): prepay, query, close, refunds, platform
certificates, and the notifications WeChat Pay sends, for one merchant.

Written from WeChat Pay's public API v3 documentation (签名生成 / 签名验证 / 回调通知 /
证书和回调报文解密), not from wechatpayv3, so that a signing bug on our side fails here as
it would at WeChat:

Our requests - every /v3 request carries
  Authorization: WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",signature="..",
                 timestamp="..",serial_no=".."
  signature = base64(RSA-SHA256(merchant private key,
              "METHOD\\nURL path with query\\ntimestamp\\nnonce_str\\nbody\\n"))
  checked with the merchant's public key (its API certificate, serial_no). An unknown mchid,
  another serial_no, a timestamp more than 5 minutes off, a nonce used before or a signature
  that does not verify: 401 {"code": "SIGN_ERROR", ...}. No User-Agent: 400. A Wechatpay-Serial
  header (sent with encrypted fields, and by SDKs in public-key mode) must name WeChat Pay's
  public key id or platform certificate: else 400.

Our answers - signed the way WeChat signs them: Wechatpay-Timestamp, Wechatpay-Nonce,
  Wechatpay-Signature = base64(RSA-SHA256(WeChat Pay private key, "ts\\nnonce\\nbody\\n")),
  Wechatpay-Serial (the public key id in public-key mode, the platform certificate's serial
  in certificate mode), Wechatpay-Signature-Type. Errors are {"code", "message"}.

Endpoints
- POST /v3/pay/transactions/jsapi | native: appid (bound to the merchant, else 400
  APPID_MCHID_NOT_MATCH), mchid (the signer's, else 400 MCH_NOT_EXISTS), description (1-127),
  out_trade_no (6-32 of [0-9A-Za-z_-|*]), notify_url (https, no query), amount.total (fen,
  >= 1), amount.currency CNY, payer.openid (JSAPI), time_expire (RFC 3339): 400 PARAM_ERROR.
  {"prepay_id"} | {"code_url"}. The same out_trade_no again: the same answer when the order is
  the same and unpaid; 403 OUT_TRADE_NO_USED for another amount, appid or payer (WeChat's
  "商户订单号重复"); 400 ORDERPAID when paid; 400 ORDER_CLOSED when closed.
- GET /v3/pay/transactions/out-trade-no/{no}?mchid= and /id/{transaction_id}?mchid=: the
  transaction (trade_state NOTPAY, SUCCESS, CLOSED, REFUND); 404 ORDER_NOT_EXIST.
- POST /v3/pay/transactions/out-trade-no/{no}/close {"mchid"}: 204; 400 ORDERPAID; 404.
- POST /v3/refund/domestic/refunds: transaction_id or out_trade_no, out_refund_no (1-64),
  amount {refund, total (= the order's), currency CNY}: the refund, status PROCESSING (or
  SUCCESS with `instant_refunds`). The same out_refund_no again: the same refund, never a
  second one (400 INVALID_REQUEST if its amount differs). More than the paid amount less the
  refunds so far: 400 INVALID_REQUEST "申请退款金额超过订单可退金额". Unpaid: 400.
- GET /v3/refund/domestic/refunds/{out_refund_no}: the refund; 404 RESOURCE_NOT_EXISTS.
- GET /v3/certificates: the platform certificate, AEAD_AES_256_GCM-encrypted with the APIv3 key.

Behaviours (`plan`, one per authenticated API request): "ok"; "unavailable" (500
SYSTEM_ERROR, nothing done); ("hold", seconds): done, the answer held back (a lost answer);
"bad_signature": done, answered with a signature that does not verify; ("error", status,
code, message).

The test plays the payer with `pay(...)` and WeChat's notifier with `notification(...)` /
`refund_notification(...)`: headers and body to POST to our notify URL, signed and encrypted
as WeChat does, or spoiled in one way (tampered body, stale timestamp, wrong serial ...).
`refunds_created` counts refunds really made (money moved once per refund).
"""

import base64
import datetime as dt
import json
import re
import secrets
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from . import StandIn

SCHEME = "WECHATPAY2-SHA256-RSA2048"
MAX_SKEW = 300
CST = dt.timezone(dt.timedelta(hours=8))
OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-|*]{6,32}")
OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
STATE_DESC = {"NOTPAY": "订单未支付", "SUCCESS": "支付成功", "CLOSED": "订单已关闭",
              "REFUND": "转入退款"}

_key_lock = threading.Lock()
_keys: list = []


def rsa_key():
    """A 2048-bit RSA key (a few are made once per test process and handed out in turn)."""
    with _key_lock:
        if len(_keys) < 4:
            _keys.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
            return _keys[-1]
        _keys.append(_keys.pop(0))
        return _keys[-1]


def private_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_pem(key) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class Merchant:
    """Our side's credentials: the merchant API key pair and its certificate serial."""

    def __init__(self, mchid="1900009191", apiv3_key=None):
        self.mchid = mchid
        self.key = rsa_key()
        self.serial_no = secrets.token_hex(20).upper()
        self.apiv3_key = apiv3_key or secrets.token_hex(16)  # 32 characters

    @property
    def private_pem(self) -> str:
        return private_pem(self.key)


def _sign(key, message: str) -> str:
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(),
                                     hashes.SHA256())).decode()


def _encrypt(apiv3_key: str, plaintext: str, associated_data: str) -> dict:
    nonce = secrets.token_hex(6)  # 12 characters, as WeChat's
    ciphertext = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), plaintext.encode(),
                                                    associated_data.encode())
    return {"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.b64encode(ciphertext).decode(),
            "associated_data": associated_data, "nonce": nonce}


def _now_text(moment: float) -> str:
    return dt.datetime.fromtimestamp(int(moment), CST).isoformat()


def _error(status: int, code: str, message: str):
    return status, {"code": code, "message": message}


class WeChatPayStandIn(StandIn):
    def __init__(self, merchant: Merchant, appids, *, mode: str = "public_key",
                 clock=time.time, instant_refunds: bool = False):
        super().__init__()
        if mode not in ("public_key", "certificate"):
            raise ValueError("mode is public_key or certificate")
        self.merchant = merchant
        self.mchid = merchant.mchid
        self.merchant_public_key = merchant.key.public_key()
        self.merchant_serial = merchant.serial_no
        self.apiv3_key = merchant.apiv3_key
        self.appids = set(appids)
        self.mode = mode
        self.clock = clock
        self.instant_refunds = instant_refunds
        # WeChat Pay's own key: its public key (public-key mode) and platform certificate.
        self.key = rsa_key()
        self.public_key_id = "PUB_KEY_ID_" + "".join(secrets.choice("0123456789")
                                                     for _ in range(28))
        now = dt.datetime.now(dt.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA")])
        self.certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                            .public_key(self.key.public_key())
                            .serial_number(x509.random_serial_number())
                            .not_valid_before(now - dt.timedelta(days=1))
                            .not_valid_after(now + dt.timedelta(days=365))
                            .sign(self.key, hashes.SHA256()))
        self.cert_serial = format(self.certificate.serial_number, "X")
        self.trades: dict[str, dict] = {}  # out_trade_no -> the order at WeChat
        self.refunds: dict[str, dict] = {}  # out_refund_no -> the refund
        self.calls: list[tuple[str, str]] = []  # (method, path) of each authenticated call
        self._nonces: set[str] = set()
        self._ids = iter(range(1, 10**9))

    # ---- what the tests need ---------------------------------------------------------------
    @property
    def serial(self) -> str:
        """What Wechatpay-Serial says on answers and notifications."""
        return self.public_key_id if self.mode == "public_key" else self.cert_serial

    @property
    def public_key_pem(self) -> str:
        return public_pem(self.key)

    def config(self, notify_url="https://pifa.example.com/pay/wechat/notify", **extra) -> dict:
        """Our app's WECHATPAY_* settings for this stand-in (public-key mode, or
        certificate mode with a `cert_dir` passed in extra as WECHATPAY_CERT_DIR)."""
        config = {"WECHATPAY_MCHID": self.mchid, "WECHATPAY_APIV3_KEY": self.apiv3_key,
                  "WECHATPAY_PRIVATE_KEY": self.merchant.private_pem,
                  "WECHATPAY_CERT_SERIAL_NO": self.merchant_serial,
                  "WECHATPAY_NOTIFY_URL": notify_url, "WECHATPAY_API_BASE": self.url,
                  "WECHATPAY_PUBLIC_KEY": "", "WECHATPAY_PUBLIC_KEY_ID": "",
                  "WECHATPAY_CERT_DIR": "", "WECHATPAY_REFUND_NOTIFY_URL": ""}
        if self.mode == "public_key":
            config.update({"WECHATPAY_PUBLIC_KEY": self.public_key_pem,
                           "WECHATPAY_PUBLIC_KEY_ID": self.public_key_id})
        config.update(extra)
        return config

    def refunds_created(self) -> int:
        return len(self.refunds)

    def calls_to(self, fragment: str, method: str | None = None) -> int:
        with self._lock:
            return sum(1 for m, p in self.calls if fragment in p and (method in (None, m)))

    def pay(self, out_trade_no: str, openid: str | None = None) -> dict:
        """The payer pays the order (confirms in WeChat): its transaction as WeChat has it."""
        with self._lock:
            trade = self.trades[out_trade_no]
            if trade["state"] != "NOTPAY":
                raise ValueError(f"{out_trade_no} is {trade['state']}")
            if trade["payer_openid"] and openid not in (None, trade["payer_openid"]):
                raise ValueError("JSAPI: only the payer asked for can pay")
            trade.update(state="SUCCESS", success_time=_now_text(self.clock()),
                         transaction_id="4200" + "".join(secrets.choice("0123456789")
                                                         for _ in range(24)),
                         paid_by=trade["payer_openid"] or openid or
                         "o" + secrets.token_urlsafe(20)[:27])
            return self._transaction(trade)

    def finish_refund(self, out_refund_no: str, status: str = "SUCCESS") -> dict:
        with self._lock:
            refund = self.refunds[out_refund_no]
            refund["status"] = status
            if status == "SUCCESS":
                refund["success_time"] = _now_text(self.clock())
            return self._refund_answer(refund)

    def verify_pay_sign(self, params: dict, appid: str) -> bool:
        """What WeChat's client checks before it shows the payment: paySign over appId,
        timeStamp, nonceStr and package with the merchant's key, for a prepay_id of appid."""
        if params.get("signType") != "RSA":
            return False
        prepay_id = str(params.get("package", "")).removeprefix("prepay_id=")
        trade = next((t for t in self.trades.values() if t.get("prepay_id") == prepay_id), None)
        if trade is None or trade["appid"] != appid:
            return False
        message = f"{appid}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
        try:
            self.merchant_public_key.verify(base64.b64decode(params["paySign"]), message.encode(),
                                            padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True

    # ---- notifications (what WeChat Pay POSTs to our notify URL) ---------------------------
    def notification(self, out_trade_no: str, **how) -> tuple[dict, bytes]:
        """TRANSACTION.SUCCESS for a paid order. `resource` overrides fields of the decrypted
        resource (amount, mchid, appid ...); see _notify for the rest."""
        with self._lock:
            resource = self._transaction(self.trades[out_trade_no], at_payment=True)
        resource.update(how.pop("resource", {}))
        how.setdefault("event_type", "TRANSACTION.SUCCESS")
        how.setdefault("summary", "支付成功")
        return self._notify(resource, "transaction", **how)

    def refund_notification(self, out_refund_no: str, **how) -> tuple[dict, bytes]:
        """REFUND.SUCCESS / REFUND.ABNORMAL / REFUND.CLOSED, after finish_refund."""
        with self._lock:
            refund = self.refunds[out_refund_no]
            resource = {"mchid": self.mchid, "out_trade_no": refund["out_trade_no"],
                        "transaction_id": refund["transaction_id"],
                        "out_refund_no": out_refund_no, "refund_id": refund["refund_id"],
                        "refund_status": refund["status"],
                        "success_time": refund.get("success_time"),
                        "user_received_account": "支付用户零钱",
                        "amount": {"total": refund["total"], "refund": refund["refund"],
                                   "payer_total": refund["total"],
                                   "payer_refund": refund["refund"]}}
        resource.update(how.pop("resource", {}))
        how.setdefault("event_type", "REFUND." + refund["status"])
        how.setdefault("summary", "退款成功")
        return self._notify(resource, "refund", **how)

    def _notify(self, resource: dict, original_type: str, *, event_type: str, summary: str,
                timestamp: float | None = None, tamper: str | None = None,
                serial: str | None = None, apiv3_key: str | None = None,
                notification_id: str | None = None, probe: bool = False,
                signing_key=None) -> tuple[dict, bytes]:
        """tamper: "body" (a field changed after signing), "ciphertext" (the resource
        changed after signing), "signature" (another signature). probe: WeChat's own
        signature probe (a signature starting WECHATPAY/SIGNTEST/)."""
        body = json.dumps({
            "id": notification_id or str(uuid.uuid4()), "create_time": _now_text(self.clock()),
            "resource_type": "encrypt-resource", "event_type": event_type, "summary": summary,
            "resource": {"original_type": original_type,
                         **_encrypt(apiv3_key or self.apiv3_key,
                                    json.dumps(resource, ensure_ascii=False), original_type)}},
            ensure_ascii=False, separators=(",", ":"))
        stamp = str(int(self.clock() if timestamp is None else timestamp))
        nonce = secrets.token_hex(16)
        signature = _sign(signing_key or self.key, f"{stamp}\n{nonce}\n{body}\n")
        if probe:
            signature = "WECHATPAY/SIGNTEST/" + base64.b64encode(secrets.token_bytes(32)).decode()
        if tamper == "body":
            body = body.replace(f'"summary":"{summary}"', '"summary":"已篡改"')
        elif tamper == "ciphertext":
            data = json.loads(body)
            data["resource"]["ciphertext"] = base64.b64encode(
                secrets.token_bytes(len(base64.b64decode(data["resource"]["ciphertext"])))).decode()
            body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        elif tamper == "signature":
            signature = _sign(self.key, f"{stamp}\n{nonce}\n{body}x\n")
        headers = {"Content-Type": "application/json", "Wechatpay-Timestamp": stamp,
                   "Wechatpay-Nonce": nonce, "Wechatpay-Signature": signature,
                   "Wechatpay-Serial": serial or self.serial,
                   "Wechatpay-Signature-Type": SCHEME, "User-Agent": "Mozilla/4.0"}
        return headers, body.encode()

    # ---- HTTP ------------------------------------------------------------------------------
    def handle(self, method, path, headers, body):
        headers = {name.lower(): value for name, value in headers.items()}
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        refused = self._authenticate(method, path, headers, body)
        if refused:
            return self._answer(*refused)
        with self._lock:
            self.calls.append((method, url.path))
        if url.path == "/v3/certificates" and method == "GET":
            return self._answer(*self._certificates())
        behaviour = self.next_behaviour()
        if behaviour == "unavailable":
            return self._answer(*_error(500, "SYSTEM_ERROR", "系统错误"))
        if isinstance(behaviour, tuple) and behaviour[0] == "error":
            return self._answer(*_error(*behaviour[1:]))
        status, payload = self._route(method, url.path, query, body)
        if isinstance(behaviour, tuple) and behaviour[0] == "hold":
            self.hold(behaviour[1])
        return self._answer(status, payload, spoil=behaviour == "bad_signature")

    def _route(self, method, route, query, body):
        data = None
        if method == "POST":
            try:
                data = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return _error(400, "PARAM_ERROR", "请求体不是有效的JSON")
            if not isinstance(data, dict):
                return _error(400, "PARAM_ERROR", "请求体不是有效的JSON")
        match = re.fullmatch(r"/v3/pay/transactions/(jsapi|native)", route)
        if match and method == "POST":
            return self._prepay(match[1].upper(), data)
        match = re.fullmatch(r"/v3/pay/transactions/out-trade-no/([^/]+)", route)
        if match and method == "GET":
            return self._query(query, out_trade_no=match[1])
        match = re.fullmatch(r"/v3/pay/transactions/id/([^/]+)", route)
        if match and method == "GET":
            return self._query(query, transaction_id=match[1])
        match = re.fullmatch(r"/v3/pay/transactions/out-trade-no/([^/]+)/close", route)
        if match and method == "POST":
            return self._close(match[1], data)
        if route == "/v3/refund/domestic/refunds" and method == "POST":
            return self._refund(data)
        match = re.fullmatch(r"/v3/refund/domestic/refunds/([^/]+)", route)
        if match and method == "GET":
            return self._refund_query(match[1])
        return _error(404, "NOT_FOUND", "请求的资源不存在")

    def _authenticate(self, method, path, headers, body):
        if not headers.get("user-agent"):
            return _error(400, "PARAM_ERROR", "请求头中缺少User-Agent")
        auth = headers.get("authorization", "")
        if not auth.startswith(SCHEME + " "):
            return _error(401, "SIGN_ERROR", "Http头Authorization值格式错误")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', auth[len(SCHEME) + 1:]))
        if set(fields) != {"mchid", "nonce_str", "signature", "timestamp", "serial_no"}:
            return _error(401, "SIGN_ERROR", "Http头Authorization值格式错误")
        if fields["mchid"] != self.mchid:
            return _error(401, "SIGN_ERROR", "商户号不存在或未开通API v3")
        if fields["serial_no"] != self.merchant_serial:
            return _error(401, "SIGN_ERROR", "商户API证书序列号不正确")
        stamp = fields["timestamp"]
        if not stamp.isdigit() or abs(self.clock() - int(stamp)) > MAX_SKEW:
            return _error(401, "SIGN_ERROR", "签名时间戳过期")
        message = f"{method}\n{path}\n{stamp}\n{fields['nonce_str']}\n" \
                  f"{body.decode('utf-8', 'replace')}\n"
        try:
            self.merchant_public_key.verify(base64.b64decode(fields["signature"]),
                                            message.encode(), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return _error(401, "SIGN_ERROR", "签名错误")
        with self._lock:
            if (fields["nonce_str"], stamp) in self._nonces:
                return _error(401, "SIGN_ERROR", "请求重放")
            self._nonces.add((fields["nonce_str"], stamp))
        serial = headers.get("wechatpay-serial")
        if serial is not None and serial not in (self.public_key_id, self.cert_serial):
            return _error(400, "PARAM_ERROR", "Wechatpay-Serial 不是微信支付公钥ID或平台证书序列号")
        if method == "POST" and "application/json" not in headers.get("content-type", ""):
            return _error(400, "PARAM_ERROR", "Content-Type 须为 application/json")
        return None

    def _answer(self, status, payload, spoil=False):
        text = "" if payload is None else json.dumps(payload, ensure_ascii=False,
                                                     separators=(",", ":"))
        stamp, nonce = str(int(self.clock())), secrets.token_hex(16)
        signature = _sign(self.key, f"{stamp}\n{nonce}\n{text}\n" + ("x" if spoil else ""))
        headers = {"Request-ID": str(uuid.uuid4()), "Wechatpay-Timestamp": stamp,
                   "Wechatpay-Nonce": nonce, "Wechatpay-Signature": signature,
                   "Wechatpay-Serial": self.serial, "Wechatpay-Signature-Type": SCHEME}
        if text:
            headers["Content-Type"] = "application/json; charset=utf-8"
        return status, headers, text

    # ---- the API ---------------------------------------------------------------------------
    def _prepay(self, trade_type, data):
        if data.get("mchid") != self.mchid:
            return _error(400, "MCH_NOT_EXISTS", "商户号不存在或与签名的商户号不一致")
        if data.get("appid") not in self.appids:
            return _error(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
        description = data.get("description")
        if not isinstance(description, str) or not 0 < len(description) <= 127:
            return _error(400, "PARAM_ERROR", "description 长度须为1到127")
        out_trade_no = data.get("out_trade_no")
        if not isinstance(out_trade_no, str) or not OUT_TRADE_NO.fullmatch(out_trade_no):
            return _error(400, "PARAM_ERROR", "out_trade_no 格式错误")
        notify_url = data.get("notify_url")
        if not isinstance(notify_url, str) or not notify_url.startswith("https://") or \
                "?" in notify_url or len(notify_url) > 255:
            return _error(400, "PARAM_ERROR", "notify_url 须为不带参数的https地址")
        amount = data.get("amount")
        total = amount.get("total") if isinstance(amount, dict) else None
        if not isinstance(total, int) or isinstance(total, bool) or total < 1:
            return _error(400, "PARAM_ERROR", "amount.total 须为正整数（分）")
        if amount.get("currency", "CNY") != "CNY":
            return _error(400, "PARAM_ERROR", "amount.currency 须为CNY")
        openid = None
        if trade_type == "JSAPI":
            payer = data.get("payer")
            openid = payer.get("openid") if isinstance(payer, dict) else None
            if not isinstance(openid, str) or not 0 < len(openid) <= 128:
                return _error(400, "PARAM_ERROR", "JSAPI下单须有payer.openid")
        expire = data.get("time_expire")
        if expire is not None:
            try:
                moment = dt.datetime.fromisoformat(expire)
            except (TypeError, ValueError):
                return _error(400, "PARAM_ERROR", "time_expire 须为RFC3339格式")
            if moment.tzinfo is None:
                return _error(400, "PARAM_ERROR", "time_expire 须带时区")
        with self._lock:
            trade = self.trades.get(out_trade_no)
            if trade is not None:
                if trade["state"] == "SUCCESS" or trade["state"] == "REFUND":
                    return _error(400, "ORDERPAID", "该订单已支付")
                if trade["state"] == "CLOSED":
                    return _error(400, "ORDER_CLOSED", "订单已关闭")
                if (trade["trade_type"], trade["appid"], trade["total"], trade["payer_openid"]) \
                        != (trade_type, data["appid"], total, openid):
                    return _error(403, "OUT_TRADE_NO_USED", "商户订单号重复")
                return 200, self._prepay_answer(trade)
            trade = {"out_trade_no": out_trade_no, "appid": data["appid"], "mchid": self.mchid,
                     "trade_type": trade_type, "description": description,
                     "notify_url": notify_url, "total": total, "payer_openid": openid,
                     "time_expire": expire, "state": "NOTPAY", "transaction_id": None,
                     "success_time": None, "paid_by": None, "refunded": 0,
                     "prepay_id": f"wx{time.strftime('%d%H%M%S')}{secrets.token_hex(12)}"
                     if trade_type == "JSAPI" else None,
                     "code_url": f"weixin://wxpay/bizpayurl?pr={secrets.token_urlsafe(6)}"
                     if trade_type == "NATIVE" else None}
            self.trades[out_trade_no] = trade
        self.record_accepted({"kind": "prepay", "out_trade_no": out_trade_no})
        return 200, self._prepay_answer(trade)

    @staticmethod
    def _prepay_answer(trade):
        return {"prepay_id": trade["prepay_id"]} if trade["trade_type"] == "JSAPI" else \
            {"code_url": trade["code_url"]}

    def _transaction(self, trade, at_payment=False) -> dict:
        """The order as a query answers it now, or (at_payment) as the payment notification
        describes it: paid, whatever was refunded since."""
        state = "SUCCESS" if at_payment and trade["transaction_id"] else trade["state"]
        answer = {"appid": trade["appid"], "mchid": trade["mchid"],
                  "out_trade_no": trade["out_trade_no"], "trade_state": state,
                  "trade_state_desc": STATE_DESC[state],
                  "amount": {"total": trade["total"], "currency": "CNY"}}
        if trade["transaction_id"]:
            answer.update({"transaction_id": trade["transaction_id"],
                           "trade_type": trade["trade_type"], "bank_type": "OTHERS",
                           "attach": "", "success_time": trade["success_time"],
                           "payer": {"openid": trade["paid_by"]},
                           "amount": {"total": trade["total"], "payer_total": trade["total"],
                                      "currency": "CNY", "payer_currency": "CNY"}})
        return answer

    def _query(self, query, out_trade_no=None, transaction_id=None):
        if query.get("mchid") != self.mchid:
            return _error(400, "PARAM_ERROR", "mchid 与签名的商户号不一致")
        with self._lock:
            if out_trade_no is not None:
                trade = self.trades.get(out_trade_no)
            else:
                trade = next((t for t in self.trades.values()
                              if t["transaction_id"] == transaction_id), None)
            if trade is None:
                return _error(404, "ORDER_NOT_EXIST", "订单不存在")
            return 200, self._transaction(trade)

    def _close(self, out_trade_no, data):
        if data.get("mchid") != self.mchid:
            return _error(400, "PARAM_ERROR", "mchid 与签名的商户号不一致")
        with self._lock:
            trade = self.trades.get(out_trade_no)
            if trade is None:
                return _error(404, "ORDER_NOT_EXIST", "订单不存在")
            if trade["state"] in ("SUCCESS", "REFUND"):
                return _error(400, "ORDERPAID", "订单已支付")
            trade["state"] = "CLOSED"
            return 204, None

    def _refund(self, data):
        out_refund_no = data.get("out_refund_no")
        if not isinstance(out_refund_no, str) or not OUT_REFUND_NO.fullmatch(out_refund_no):
            return _error(400, "PARAM_ERROR", "out_refund_no 格式错误")
        amount = data.get("amount") if isinstance(data.get("amount"), dict) else {}
        refund, total = amount.get("refund"), amount.get("total")
        for value in (refund, total):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                return _error(400, "PARAM_ERROR", "amount.refund / amount.total 须为正整数（分）")
        if amount.get("currency") != "CNY":
            return _error(400, "PARAM_ERROR", "amount.currency 须为CNY")
        notify_url = data.get("notify_url")
        if notify_url is not None and (not str(notify_url).startswith("https://")
                                       or "?" in str(notify_url)):
            return _error(400, "PARAM_ERROR", "notify_url 须为不带参数的https地址")
        with self._lock:
            if data.get("transaction_id"):
                trade = next((t for t in self.trades.values()
                              if t["transaction_id"] == data["transaction_id"]), None)
            else:
                trade = self.trades.get(data.get("out_trade_no"))
            if trade is None:
                return _error(404, "RESOURCE_NOT_EXISTS", "订单不存在")
            known = self.refunds.get(out_refund_no)
            if known is not None:
                if (known["out_trade_no"], known["refund"]) != (trade["out_trade_no"], refund):
                    return _error(400, "INVALID_REQUEST", "退款单号重复，但请求参数与之前不一致")
                return 200, self._refund_answer(known)
            if trade["state"] not in ("SUCCESS", "REFUND"):
                return _error(400, "INVALID_REQUEST", "订单未支付，不能退款")
            if total != trade["total"]:
                return _error(400, "PARAM_ERROR", "amount.total 与订单金额不一致")
            if trade["refunded"] + refund > trade["total"]:
                return _error(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
            trade["refunded"] += refund
            trade["state"] = "REFUND"
            known = {"refund_id": "50" + "".join(secrets.choice("0123456789") for _ in range(27)),
                     "out_refund_no": out_refund_no, "out_trade_no": trade["out_trade_no"],
                     "transaction_id": trade["transaction_id"], "refund": refund,
                     "total": trade["total"], "reason": data.get("reason"),
                     "notify_url": notify_url, "create_time": _now_text(self.clock()),
                     "status": "SUCCESS" if self.instant_refunds else "PROCESSING"}
            if self.instant_refunds:
                known["success_time"] = known["create_time"]
            self.refunds[out_refund_no] = known
            answer = self._refund_answer(known)
        self.record_accepted({"kind": "refund", "out_refund_no": out_refund_no, "refund": refund})
        return 200, answer

    def _refund_answer(self, refund) -> dict:
        answer = {"refund_id": refund["refund_id"], "out_refund_no": refund["out_refund_no"],
                  "transaction_id": refund["transaction_id"],
                  "out_trade_no": refund["out_trade_no"], "channel": "ORIGINAL",
                  "user_received_account": "支付用户零钱", "create_time": refund["create_time"],
                  "status": refund["status"], "funds_account": "AVAILABLE",
                  "amount": {"total": refund["total"], "refund": refund["refund"],
                             "payer_total": refund["total"], "payer_refund": refund["refund"],
                             "settlement_refund": refund["refund"],
                             "settlement_total": refund["total"], "discount_refund": 0,
                             "currency": "CNY"}}
        if refund.get("success_time"):
            answer["success_time"] = refund["success_time"]
        return answer

    def _refund_query(self, out_refund_no):
        with self._lock:
            refund = self.refunds.get(out_refund_no)
            if refund is None:
                return _error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
            return 200, self._refund_answer(refund)

    def _certificates(self):
        pem = self.certificate.public_bytes(serialization.Encoding.PEM).decode()
        fmt = "%Y-%m-%dT%H:%M:%S+08:00"
        return 200, {"data": [{
            "serial_no": self.cert_serial,
            "effective_time": self.certificate.not_valid_before_utc.astimezone(CST).strftime(fmt),
            "expire_time": self.certificate.not_valid_after_utc.astimezone(CST).strftime(fmt),
            "encrypt_certificate": _encrypt(self.apiv3_key, pem, "certificate")}]}
