"""Stand-in for Aliyun SMS (dysmsapi, SendSms 2017-05-25) speaking signature V3.

The checks are written from Aliyun's public description of "request syntax and signature
method V3" (ACS3-HMAC-SHA256), not from the SDK, so that a signing bug on our side fails
here as it would at Aliyun:

    CanonicalRequest = Method \\n CanonicalURI \\n CanonicalQueryString \\n
                       CanonicalHeaders \\n SignedHeaders \\n HashedRequestPayload
    StringToSign     = "ACS3-HMAC-SHA256" \\n hex(sha256(CanonicalRequest))
    Signature        = hex(hmac_sha256(AccessKeySecret, StringToSign))
    Authorization    = "ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<a;b>,Signature=<hex>"

CanonicalQueryString: every parameter name and value RFC 3986 encoded (UTF-8, only
A-Z a-z 0-9 - _ . ~ left as they are, space as %20), sorted by name, joined name=value
with "&". CanonicalHeaders: the signed headers, names in lowercase, values trimmed,
sorted, each "name:value\\n"; host, content-type and every x-acs-* header present must
be signed. HashedRequestPayload = hex(sha256(body)), sent as x-acs-content-sha256.
x-acs-date is UTC "yyyy-MM-ddTHH:mm:ssZ" within 15 minutes; a nonce is used once.

Besides the base behaviours, ("error", http_status, code) answers with that gateway
code, e.g. ("error", 200, "isv.BUSINESS_LIMIT_CONTROL").
"""

import hashlib
import hmac
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlsplit

from . import StandIn

ALGORITHM = "ACS3-HMAC-SHA256"
MAX_CLOCK_SKEW = timedelta(minutes=15)
MAINLAND_MOBILE = re.compile(r"1\d{10}")

DEFAULT_SIGN_NAMES = frozenset({"拼发"})
DEFAULT_TEMPLATES = {
    "SMS_100001": frozenset({"code"}),  # 您的验证码为${code},5分钟内有效。
    "SMS_100002": frozenset({"order_no", "status"}),  # 订单${order_no}已${status}。
}


def rfc3986(text: str) -> str:
    return quote(text, safe="-_.~", encoding="utf-8")


def canonical_query(raw_query: str) -> str:
    pairs = [(rfc3986(k), rfc3986(v)) for k, v in parse_qsl(raw_query, keep_blank_values=True)]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


class AliyunSmsStandIn(StandIn):
    def __init__(self, access_key_id: str = "LTAIstandin0000000001",
                 access_key_secret: str = "standin-secret-0123456789abcdef",  # noqa: S107
                 sign_names=DEFAULT_SIGN_NAMES, templates=None):
        super().__init__()
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_names = set(sign_names)
        self.templates = {code: set(names)
                          for code, names in (templates or DEFAULT_TEMPLATES).items()}
        self._nonces: set[str] = set()

    # ---- answers ---------------------------------------------------------------------
    @staticmethod
    def _answer(status: int, code: str, message: str, **extra):
        request_id = str(uuid.uuid4()).upper()
        body = {"RequestId": request_id, "Code": code, "Message": message, **extra}
        if status != 200:
            body["HostId"] = "dysmsapi.aliyuncs.com"
        return status, {"x-acs-request-id": request_id}, body

    # ---- request ---------------------------------------------------------------------
    def handle(self, method, path, headers, body):
        headers = {name.lower(): value for name, value in headers.items()}
        target = urlsplit(path)
        refused = self._authenticate(method, target, headers, body)
        if refused:
            return refused

        behaviour = self.next_behaviour()
        if behaviour == "unavailable":
            return self._answer(503, "ServiceUnavailable",
                                "The request has failed due to a temporary failure of the "
                                "server.")
        if behaviour == "throttle":
            return self._answer(400, "Throttling.User", "Request was denied due to user flow "
                                "control.")
        if isinstance(behaviour, tuple) and behaviour[0] == "error":
            return self._answer(behaviour[1], behaviour[2], f"stand-in answer {behaviour[2]}")

        # RPC-style parameters may come in the query (the SDK puts SendSms there) or in a
        # form body; both are covered by the signature.
        params = dict(parse_qsl(target.query, keep_blank_values=True))
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        message, refused = self._check_fields(params)
        if refused:
            return refused

        self.record_accepted(message)
        if isinstance(behaviour, tuple) and behaviour[0] == "hold":
            self.hold(behaviour[1])
        return self._answer(200, "OK", "OK", BizId=f"{uuid.uuid4().int % 10**18:018d}^0")

    def _authenticate(self, method, target, headers, body):
        """None if the request is signed as V3 requires, else the gateway's refusal."""
        auth = headers.get("authorization", "")
        match = re.fullmatch(ALGORITHM + r" Credential=([^,]+),SignedHeaders=([^,]+),"
                             r"Signature=([0-9a-f]{64})", auth.strip())
        if not match:
            return self._answer(400, "IncompleteSignature",
                                "The request signature does not conform to Aliyun standards.")
        key_id, signed, signature = match.groups()
        if key_id != self.access_key_id:
            return self._answer(404, "InvalidAccessKeyId.NotFound",
                                "Specified access key is not found.")

        signed_names = signed.split(";")
        must_sign = {"host", "x-acs-action", "x-acs-version", "x-acs-date",
                     "x-acs-signature-nonce", "x-acs-content-sha256"}
        must_sign |= {n for n in headers if n.startswith("x-acs-") or n == "content-type"}
        if signed_names != sorted(set(signed_names)) or not must_sign <= set(signed_names):
            return self._answer(400, "IncompleteSignature",
                                "SignedHeaders must list, sorted, host, content-type and "
                                f"every x-acs-* header; got {signed}")
        if any(name not in headers for name in signed_names):
            return self._answer(400, "IncompleteSignature", "A signed header is missing.")

        payload_hash = hashlib.sha256(body).hexdigest()
        canonical_headers = "".join(f"{n}:{headers[n].strip()}\n" for n in signed_names)
        canonical_request = "\n".join([method, target.path or "/", canonical_query(target.query),
                                       canonical_headers, signed, payload_hash])
        string_to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
        expected = hmac.new(self.access_key_secret.encode(), string_to_sign.encode(),
                            hashlib.sha256).hexdigest()
        # The header must state the real body hash (it is what the client signed).
        if (headers["x-acs-content-sha256"] != payload_hash
                or not hmac.compare_digest(expected, signature)):
            return self._answer(400, "SignatureDoesNotMatch",
                                "Specified signature does not match our calculation. "
                                f"server string to sign is:{string_to_sign}")

        if headers["x-acs-action"] != "SendSms":
            return self._answer(404, "InvalidAction.NotFound",
                                "Specified api is not found, please check your url and method.")
        if headers["x-acs-version"] != "2017-05-25":
            return self._answer(400, "InvalidVersion", "Specified parameter Version is not valid.")
        try:
            sent_at = datetime.strptime(headers["x-acs-date"], "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return self._answer(400, "InvalidTimeStamp.Format",
                                "Specified time stamp or date value is not well formatted.")
        if abs(datetime.now(UTC).replace(tzinfo=None) - sent_at) > MAX_CLOCK_SKEW:
            return self._answer(400, "InvalidTimeStamp.Expired",
                                "Specified time stamp or date value is expired.")
        nonce = headers["x-acs-signature-nonce"]
        with self._lock:
            used = nonce in self._nonces
            self._nonces.add(nonce)
        if used:
            return self._answer(400, "SignatureNonceUsed",
                                "Specified signature nonce was used already.")
        return None

    def _check_fields(self, params):
        """(accepted entry, None) or (None, refusal); business errors are HTTP 200."""
        phones = params.get("PhoneNumbers", "")
        sign = params.get("SignName", "")
        template = params.get("TemplateCode", "")
        if not phones or not all(MAINLAND_MOBILE.fullmatch(p) for p in phones.split(",")):
            return None, self._answer(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if sign not in self.sign_names:
            return None, self._answer(200, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        if template not in self.templates:
            return None, self._answer(200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            values = None
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            return None, self._answer(200, "isv.INVALID_JSON_PARAM",
                                      "JSON参数不合法,只接受字符串值")
        wanted = self.templates[template]
        if not wanted <= values.keys():
            missing = ",".join(sorted(wanted - values.keys()))
            return None, self._answer(200, "isv.TEMPLATE_MISSING_PARAMETERS",
                                      f"模板缺少变量: {missing}")
        if values.keys() - wanted:
            extra = ",".join(sorted(values.keys() - wanted))
            return None, self._answer(200, "isv.INVALID_PARAMETERS", f"模板没有变量: {extra}")
        return {"phone": phones, "sign": sign, "template": template, "params": values}, None
