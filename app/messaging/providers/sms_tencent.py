"""Tencent Cloud SMS (SendSms, API 2021-01-11) through the official SDK.

One request per message, no SDK retries: the delivery job owns retrying, and it must
know whether the gateway may have the message (UNCERTAIN) or certainly has not (RETRY).

How the SDK (tencentcloud-sdk-python-common) reports what happened:

- Tencent answers HTTP 200 for everything it processed, errors included. The SDK turns
  {"Response": {"Error": ...}} into TencentCloudSDKException(code, message, requestId);
  only these carry a request id.
- Any other HTTP status (a load balancer or proxy in front of the API) becomes
  code "ServerNetworkError" with the raw body as message; the status code is dropped.
- Every requests exception while sending is re-raised as code "ClientNetworkError"
  inside `except`, so the original survives as `__context__`. A failure while reading a
  body that had already started (the SDK streams) escapes unwrapped and SmsClient.SendSms
  re-raises it with the exception's class name as code; again `__context__` holds it.
"""

from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.retry import NoopRetryer
from tencentcloud.sms.v20210111 import models
from tencentcloud.sms.v20210111.sms_client import SmsClient

from app.messaging.providers import Outcome, ProviderResult, sms_setup_problem
from app.messaging.providers.transport import sms_transport_failure

NAME = "tencent"
DEFAULT_ENDPOINT = "sms.tencentcloudapi.com"
DEFAULT_REGION = "ap-guangzhou"
NOT_TAKEN_WORDS = ("503", "service unavailable", "429", "too many requests")

# Codes (whole-request Error or one number's SendStatus) meaning "not sent, try later":
# rate limits, the service unavailable, and per-number limits over a window shorter than
# our backoff. Daily limits would only fail again, so they are FAILED.
RETRY_CODES = ("RequestLimitExceeded", "ServiceUnavailable",
               "FailedOperation.ServiceUnavailable", "ResourceUnavailable",
               "LimitExceeded.PhoneNumberThirtySecondLimit",
               "LimitExceeded.DeliveryFrequencyLimit")
# The gateway's own failures while it was sending (a timeout towards the carriers, a
# lost or unknown answer): the SMS may have gone out, so only a person resends it.
# A wrong signature or clock (InternalError.SigVerificationFail / RequestTimeException)
# is a setting to fix: FAILED.
SETUP_ERRORS = ("InternalError.SigVerificationFail", "InternalError.RequestTimeException")


def _matches(code: str, names) -> bool:
    return any(code == name or code.startswith(name + ".") for name in names)


def _outcome(code: str | None) -> str:
    code = code or ""
    if _matches(code, RETRY_CODES):
        return Outcome.RETRY
    if code.startswith("InternalError") and code not in SETUP_ERRORS:
        return Outcome.UNCERTAIN
    return Outcome.FAILED


def _short(code, message) -> str:
    return f"{code}: {message or ''}".strip()[:300]


def _endpoint(value: str) -> tuple[str, str]:
    """(protocol, host[:port]) from "sms.tencentcloudapi.com" or "http://127.0.0.1:8123"."""
    value = (value or "").strip() or DEFAULT_ENDPOINT
    if "://" in value:
        scheme, _, rest = value.partition("://")
        return scheme, rest.split("/", 1)[0]
    return "https", value


def _phone(recipient: str) -> str:
    # Recipients are 11-digit mainland numbers; SendSms wants E.164.
    recipient = recipient.strip()
    return recipient if recipient.startswith("+") else "+86" + recipient


def _missing(outgoing, config) -> str | None:
    return sms_setup_problem(outgoing, config, "Tencent SMS",
                             ("TENCENT_SMS_SECRET_ID", "TENCENT_SMS_SECRET_KEY",
                              "TENCENT_SMS_SDK_APP_ID", "TENCENT_SMS_SIGN_NAME"), "id")


def _client(config, connect_s: float, read_s: float) -> SmsClient:
    protocol, host = _endpoint(config.get("TENCENT_SMS_ENDPOINT", DEFAULT_ENDPOINT))
    # HttpProfile documents reqTimeout as one number, but the SDK hands it unchanged to
    # requests (ProxyConnection.request(timeout=...)), which takes (connect, read).
    http = HttpProfile(protocol=protocol, endpoint=host, reqTimeout=(connect_s, read_s))
    profile = ClientProfile(signMethod="TC3-HMAC-SHA256", httpProfile=http,
                            language="en-US",  # gateway messages end up in our error
                            disable_region_breaker=True,  # no switch to another endpoint
                            retryer=NoopRetryer())  # the delivery job retries, not the SDK
    credential = Credential(config["TENCENT_SMS_SECRET_ID"], config["TENCENT_SMS_SECRET_KEY"])
    return SmsClient(credential, config.get("TENCENT_SMS_REGION") or DEFAULT_REGION, profile)


def _request(outgoing, config) -> models.SendSmsRequest:
    request = models.SendSmsRequest()
    request.PhoneNumberSet = [_phone(outgoing.recipient)]
    request.SmsSdkAppId = str(config["TENCENT_SMS_SDK_APP_ID"])
    request.SignName = config["TENCENT_SMS_SIGN_NAME"]
    request.TemplateId = str(outgoing.template_code)
    # Tencent fills {1}, {2}, ... by position, so the order of params is the order here.
    request.TemplateParamSet = [str(value) for _name, value in outgoing.params]
    return request


def _transport_failure(exc, connect_s, read_s) -> ProviderResult:
    """No usable HTTP answer; the SDK raises from the requests exception."""
    return sms_transport_failure(NAME, exc.__context__, exc.code, connect_s, read_s)


def send(outgoing, config) -> ProviderResult:
    problem = _missing(outgoing, config)
    if problem:
        return ProviderResult(Outcome.FAILED, NAME, error=problem)

    connect_s = float(config.get("MESSAGE_CONNECT_TIMEOUT", 5.0))
    read_s = float(config.get("MESSAGE_READ_TIMEOUT", 10.0))
    try:
        # Nothing is sent here; a failure (e.g. a secret with spaces) is a setup error.
        client = _client(config, connect_s, read_s)
        request = _request(outgoing, config)
    except TencentCloudSDKException as exc:
        return ProviderResult(Outcome.FAILED, NAME, error=_short(exc.code, exc.message))

    try:
        response = client.SendSms(request)
    except TencentCloudSDKException as exc:
        if exc.requestId:  # the gateway's own answer to the request as a whole
            return ProviderResult(_outcome(exc.code), NAME,
                                  error=_short(exc.code, exc.message))
        if exc.code == "ServerNetworkError":
            # Not Tencent's API answering (it always says 200) but a proxy or load balancer
            # in front of it. The SDK drops the status; its page names it. "Unavailable"
            # or "too many requests" means the API never had the request; anything else
            # (a 502, a 504) may come after it sent the SMS.
            body = exc.message.decode("utf-8", "replace") if isinstance(
                exc.message, bytes) else str(exc.message or "")
            error = _short(exc.code, "non-200 answer: " + " ".join(body.split()))
            not_taken = any(word in body.lower() for word in NOT_TAKEN_WORDS)
            return ProviderResult(Outcome.RETRY if not_taken else Outcome.UNCERTAIN, NAME,
                                  error=error)
        return _transport_failure(exc, connect_s, read_s)

    status = (response.SendStatusSet or [None])[0]
    if status is None:
        error = f"answer without a send status (RequestId {response.RequestId})"
        return ProviderResult(Outcome.UNCERTAIN, NAME, error=error)
    if status.Code == "Ok":
        return ProviderResult(Outcome.SENT, NAME, provider_ref=status.SerialNo)
    # One number refused (bad phone, daily limit, blacklist, ...) or held back for now.
    return ProviderResult(_outcome(status.Code), NAME, error=_short(status.Code, status.Message))
