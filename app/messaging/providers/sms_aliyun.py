"""Aliyun SMS (dysmsapi 2017-05-25 SendSms) through the official SDK.

One request per message, no SDK retries: the delivery job owns retrying, and it must
know whether the gateway may have the message (UNCERTAIN) or certainly has not (RETRY).
"""

import json
from urllib.parse import urlsplit

from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_dysmsapi20170525.models import SendSmsRequest
from alibabacloud_tea_openapi.exceptions import ThrottlingException
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.exceptions import ResponseException, RetryError, UnretryableException
from darabonba.policy.retry import RetryOptions
from darabonba.runtime import RuntimeOptions

from app.messaging.providers import Outcome, ProviderResult, sms_setup_problem
from app.messaging.providers.transport import sms_transport_failure

NAME = "aliyun"
DEFAULT_ENDPOINT = "dysmsapi.aliyuncs.com"

# Answers that say "not accepted, try later": throttling (API rate or per-phone flow
# control, isv.BUSINESS_LIMIT_CONTROL), the service unavailable, and isp.SYSTEM_ERROR
# (Aliyun's advice for it: call again). Any other 5xx (InternalError) may come after
# the SMS went out: uncertain.
RETRY_CODES = {"isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "ServiceUnavailable"}


def _retryable(code: str | None) -> bool:
    return bool(code) and (code in RETRY_CODES or code.startswith("Throttling"))


def _short(code, message) -> str:
    """"<Code>: <Message>" on one line, as the gateway said it."""
    return " ".join(f"{code}: {message or ''}".split())[:300]


def _endpoint(value: str) -> tuple[str, str]:
    """(protocol, host[:port]) from "dysmsapi.aliyuncs.com" or "http://127.0.0.1:8123"."""
    value = (value or "").strip() or DEFAULT_ENDPOINT
    if "://" in value:
        url = urlsplit(value)
        return url.scheme, url.netloc
    return "https", value


def _millis(seconds) -> int:
    # The SDK takes milliseconds, and treats 0 as "use the default".
    return max(1, round(float(seconds) * 1000))


def _missing(outgoing, config) -> str | None:
    return sms_setup_problem(outgoing, config, "Aliyun SMS",
                             ("ALIYUN_SMS_ACCESS_KEY_ID", "ALIYUN_SMS_ACCESS_KEY_SECRET",
                              "ALIYUN_SMS_SIGN_NAME"), "code")


def _transport_failure(exc: UnretryableException, connect_s, read_s) -> ProviderResult:
    """No usable HTTP answer. darabonba turns every requests error into RetryError(str(e)),
    raised inside `except IOError`, and tea_openapi wraps that in UnretryableException; the
    original requests exception survives only as inner_exception.__context__."""
    inner = exc.inner_exception
    cause = inner.__context__ if isinstance(inner, RetryError) else None
    return sms_transport_failure(NAME, cause, type(inner).__name__, connect_s, read_s)


def send(outgoing, config) -> ProviderResult:
    problem = _missing(outgoing, config)
    if problem:
        return ProviderResult(Outcome.FAILED, NAME, error=problem)

    protocol, host = _endpoint(config.get("ALIYUN_SMS_ENDPOINT", DEFAULT_ENDPOINT))
    connect_s = float(config.get("MESSAGE_CONNECT_TIMEOUT", 5.0))
    read_s = float(config.get("MESSAGE_READ_TIMEOUT", 10.0))
    # A client is cheap (microseconds; the HTTP connection pool is shared per host inside
    # darabonba), and a fresh one per call shares no state between worker threads.
    client = Client(Config(
        access_key_id=config["ALIYUN_SMS_ACCESS_KEY_ID"],
        access_key_secret=config["ALIYUN_SMS_ACCESS_KEY_SECRET"],
        endpoint=host,
        protocol=protocol,
        retry_options=RetryOptions({"retryable": False}),
    ))
    request = SendSmsRequest(
        phone_numbers=outgoing.recipient,
        sign_name=config["ALIYUN_SMS_SIGN_NAME"],
        template_code=outgoing.template_code,
        template_param=json.dumps(dict(outgoing.params), ensure_ascii=False),
    )
    runtime = RuntimeOptions(autoretry=False, max_attempts=0,
                             connect_timeout=_millis(connect_s), read_timeout=_millis(read_s))
    try:
        body = client.send_sms_with_options(request, runtime).body
    except ResponseException as exc:
        # An HTTP 4xx/5xx answer with a JSON body: ClientException / ServerException /
        # ThrottlingException (the last when the gateway sends x-acs-retry-after).
        data = exc.data if isinstance(exc.data, dict) else {}
        code = data.get("Code") or exc.code
        error = _short(code, data.get("Message") or exc.message)
        status = getattr(exc, "status_code", None) or 0
        if status in (429, 503) or isinstance(exc, ThrottlingException) or _retryable(code):
            return ProviderResult(Outcome.RETRY, NAME, error=error)
        if status >= 500:
            return ProviderResult(Outcome.UNCERTAIN, NAME, error=error)
        return ProviderResult(Outcome.FAILED, NAME, error=error)
    except UnretryableException as exc:  # no answer, or one the SDK could not read
        return _transport_failure(exc, connect_s, read_s)

    # HTTP 200: business errors (bad phone, template, flow control) come with a Code.
    if body.code == "OK":
        return ProviderResult(Outcome.SENT, NAME, provider_ref=body.biz_id)
    outcome = Outcome.RETRY if _retryable(body.code) else Outcome.FAILED
    return ProviderResult(outcome, NAME, error=_short(body.code, body.message))
