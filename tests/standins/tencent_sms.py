"""Stand-in for Tencent Cloud SMS: SendSms, API version 2021-01-11.

It checks what the real gateway checks, in its order: the common headers (X-TC-Action,
X-TC-Version, X-TC-Region, X-TC-Timestamp), the TC3-HMAC-SHA256 signature, then the
SendSms fields. The signature is recomputed here from Tencent Cloud's public "Signature
v3" documentation with hashlib/hmac only; the SDK is never imported, so a mistake in the
SDK or in how we drive it cannot cancel out.

It answers as Tencent does: HTTP 200 with {"Response": {..., "RequestId"}} for whatever
it processed, errors as {"Response": {"Error": {"Code", "Message"}, "RequestId"}}; one
SendStatus per phone number, so a bad number is refused in its own entry. The
"unavailable" behaviour is a 503 from the load balancer in front of the API, "bad_gateway"
a 502 (the API's answer lost on the way back).
"""

import hashlib
import hmac
import itertools
import json
import re
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

from . import StandIn

ALGORITHM = "TC3-HMAC-SHA256"
SERVICE = "sms"
ACTION = "SendSms"
VERSION = "2021-01-11"
MAX_SKEW = 300  # seconds between X-TC-Timestamp and the gateway's clock
MAX_PHONES = 200  # numbers per SendSms request
PHONE = re.compile(r"\+861\d{10}")  # mainland mobile in E.164

AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})"
    r"/(?P<service>[^/]+)/tc3_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})")

# Test credentials, made up; a SecretId starts with "AKID".
SECRET_ID = "AKIDstandin0000000000000000000000000"
SECRET_KEY = "standinSecretKey0000000000000000"

# Tencent's English messages (X-TC-Language: en-US) for the errors produced here.
SIGNATURE_FAILURE = ("The provided credentials could not be validated. "
                     "Please check your signature is correct.")
SECRET_ID_NOT_FOUND = "The SecretId is not found, please ensure that your SecretId is correct."
THROTTLED = ("Your current request times equals to `3001` in a second, which exceeds the "
             "frequency limit `3000` for a second. Please reduce the frequency of calls.")


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def canonical_request(method: str, uri: str, query: str, headers: dict,
                      signed_headers: list[str], payload: bytes) -> str:
    """Step 1 of the documentation. `headers` has lowercase names; each signed header is
    written "name:value\\n", name and value lowercased and trimmed."""
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n"
                                for name in signed_headers)
    return "\n".join([method.upper(), uri, query, canonical_headers,
                      ";".join(signed_headers), _sha256_hex(payload)])


def tc3_signature(secret_key: str, date: str, timestamp: int | str, service: str,
                  canonical: str) -> str:
    """Steps 2 and 3: the string to sign, and the HMAC chain "TC3"+key, date, service,
    "tc3_request" that gives the signing key."""
    string_to_sign = "\n".join([ALGORITHM, str(timestamp), f"{date}/{service}/tc3_request",
                                _sha256_hex(canonical.encode("utf-8"))])
    key = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    key = _hmac(key, service)
    key = _hmac(key, "tc3_request")
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def utc_date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


class Refused(Exception):
    """The gateway's Error answer for the whole request."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message)
        self.code = code
        self.message = message


class TencentSmsStandIn(StandIn):
    def __init__(self, secret_id=SECRET_ID, secret_key=SECRET_KEY, sdk_app_id="1400000001",
                 sign_names=("批发平台",), templates=None, number_codes=None):
        super().__init__()
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_names = set(sign_names)
        self.templates = dict(templates or {"1000001": 2})  # approved template id -> params
        # Numbers the gateway holds back with a per-number code (a frequency or daily limit).
        self.number_codes = dict(number_codes or {})
        self._serials = itertools.count(1)

    # ---- answers -------------------------------------------------------------------
    @staticmethod
    def _answer(response: dict):
        response = {**response, "RequestId": str(uuid.uuid4())}
        # Exactly "application/json": the SDK only looks for an Error object in answers
        # with Content-Type "application/json" or "text/plain".
        return 200, {"Content-Type": "application/json"}, {"Response": response}

    def _error(self, code: str, message: str):
        return self._answer({"Error": {"Code": code, "Message": message}})

    # ---- checks --------------------------------------------------------------------
    def verify(self, method: str, path: str, headers: dict, body: bytes) -> dict:
        """Check the common headers and the signature; return the JSON body. Raises
        Refused with the code Tencent would answer."""
        if headers.get("x-tc-action") != ACTION:
            raise Refused("InvalidAction", f"Action `{headers.get('x-tc-action')}` not found.")
        if headers.get("x-tc-version") != VERSION:
            raise Refused("NoSuchVersion", f"The Version `{headers.get('x-tc-version')}` "
                                           "is not supported.")
        if not headers.get("x-tc-region"):
            raise Refused("MissingParameter", "The request is missing a required parameter "
                                              "`Region`.")
        match = AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        if not match:
            raise Refused("AuthFailure.InvalidAuthorization",
                          "Authorization is not a TC3-HMAC-SHA256 header.")
        try:
            timestamp = int(headers.get("x-tc-timestamp", ""))
        except ValueError:
            raise Refused("MissingParameter", "The request is missing a required parameter "
                                              "`Timestamp`.") from None
        if abs(time.time() - timestamp) > MAX_SKEW:
            raise Refused("AuthFailure.SignatureExpire",
                          "Signature expired. Timestamp and server time cannot differ by more "
                          "than 5 minutes.")
        if match["date"] != utc_date(timestamp):
            raise Refused("AuthFailure.InvalidAuthorization",
                          "The date in Credential is not the UTC date of X-TC-Timestamp.")
        signed = match["signed"].split(";")
        if match["service"] != SERVICE or not {"content-type", "host"} <= set(signed):
            raise Refused("AuthFailure.InvalidAuthorization",
                          "Credential must be scoped to `sms` and sign content-type and host.")
        if match["secret_id"] != self.secret_id:
            raise Refused("AuthFailure.SecretIdNotFound", SECRET_ID_NOT_FOUND)

        url = urlsplit(path)
        payload = body if method.upper() == "POST" else b""
        canonical = canonical_request(method, url.path or "/", url.query, headers, signed,
                                      payload)
        expected = tc3_signature(self.secret_key, match["date"], timestamp, SERVICE, canonical)
        if not hmac.compare_digest(expected, match["signature"]):
            raise Refused("AuthFailure.SignatureFailure", SIGNATURE_FAILURE)

        if method.upper() != "POST" or not headers.get("content-type", "").startswith(
                "application/json"):
            raise Refused("InvalidParameter", "SendSms takes a POST with a JSON body here.")
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise Refused("FailedOperation.JsonParseFail", "The request body is not JSON.")
        return data

    def check_fields(self, data: dict) -> tuple[list[str], list[str]]:
        """The SendSms fields; return (phone numbers, template parameters)."""
        phones = data.get("PhoneNumberSet")
        if not phones or not isinstance(phones, list):
            raise Refused("MissingParameter.EmptyPhoneNumberSet", "PhoneNumberSet is empty.")
        if len(phones) > MAX_PHONES:
            raise Refused("LimitExceeded.PhoneNumberCountLimit",
                          "More than 200 phone numbers in one request.")
        if data.get("SmsSdkAppId") != self.sdk_app_id:
            raise Refused("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId does not exist.")
        if data.get("SignName") not in self.sign_names:
            raise Refused("FailedOperation.SignatureIncorrectOrUnapproved",
                          "The signature is not approved or is incorrectly formatted.")
        template = data.get("TemplateId")
        if template not in self.templates:
            raise Refused("FailedOperation.TemplateIncorrectOrUnapproved",
                          "The template is not approved or its content does not match.")
        params = data.get("TemplateParamSet") or []
        if (not isinstance(params, list) or len(params) != self.templates[template]
                or not all(isinstance(value, str) for value in params)):
            raise Refused("FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
                          f"Template {template} takes {self.templates[template]} parameters.")
        return phones, params

    def _status(self, phone, data: dict) -> dict:
        code = self.number_codes.get(phone)
        if code is None and not (isinstance(phone, str) and PHONE.fullmatch(phone)):
            code = "InvalidParameterValue.IncorrectPhoneNumber"
        if code:
            return {"SerialNo": "", "PhoneNumber": phone, "Fee": 0, "SessionContext": "",
                    "Code": code, "Message": "refused by the stand-in", "IsoCode": ""}
        self.record_accepted({"phone": phone, "sign": data["SignName"],
                              "template": data["TemplateId"],
                              "params": list(data.get("TemplateParamSet") or [])})
        return {"SerialNo": f"2433:{next(self._serials):019d}", "PhoneNumber": phone, "Fee": 1,
                "SessionContext": data.get("SessionContext") or "", "Code": "Ok",
                "Message": "send success", "IsoCode": "CN"}

    # ---- the endpoint --------------------------------------------------------------
    def handle(self, method, path, headers, body):
        behaviour = self.next_behaviour()
        if behaviour == "unavailable":  # the load balancer, before the API sees anything
            return 503, {"Content-Type": "text/html"}, \
                "<html><h1>503 Service Temporarily Unavailable</h1></html>"
        if behaviour == "bad_gateway":  # the load balancer lost the API's answer
            return 502, {"Content-Type": "text/html"}, "<html><h1>502 Bad Gateway</h1></html>"
        headers = {name.lower(): value for name, value in headers.items()}
        try:
            data = self.verify(method, path, headers, body)
            if behaviour == "throttle":  # counted per account, so after authentication
                raise Refused("RequestLimitExceeded", THROTTLED)
            phones, _params = self.check_fields(data)
        except Refused as refused:
            return self._error(refused.code, refused.message)
        statuses = [self._status(phone, data) for phone in phones]
        if isinstance(behaviour, tuple) and behaviour[0] == "hold":
            self.hold(behaviour[1])  # accepted and counted above; the answer comes too late
        return self._answer({"SendStatusSet": statuses})
