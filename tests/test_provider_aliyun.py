"""Aliyun SMS provider against the local stand-in gateway (real SDK, real HTTP, real V3
signature checked independently by the stand-in)."""

import socket
import time

import pytest
import requests

from app.messaging.providers import Outcome, Outgoing, sms_aliyun
from tests.standins.aliyun_sms import AliyunSmsStandIn

PHONE = "13800138000"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    # The SDK honours HTTP(S)_PROXY and ignores NO_PROXY; the stand-in is local.
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def standin():
    with AliyunSmsStandIn() as gateway:
        yield gateway


def make_config(standin, **overrides):
    config = {
        "ALIYUN_SMS_ACCESS_KEY_ID": standin.access_key_id,
        "ALIYUN_SMS_ACCESS_KEY_SECRET": standin.access_key_secret,
        "ALIYUN_SMS_SIGN_NAME": "拼发",
        "ALIYUN_SMS_ENDPOINT": standin.url,
        "MESSAGE_CONNECT_TIMEOUT": 2.0,
        "MESSAGE_READ_TIMEOUT": 5.0,
    }
    config.update(overrides)
    return config


def code_sms(phone=PHONE, **overrides):
    fields = {"message_id": 1, "recipient": phone, "text": "您的验证码为123456",
              "template_code": "SMS_100001", "params": [("code", "123456")], "event": "login"}
    fields.update(overrides)
    return Outgoing(**fields)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- accepted ------------------------------------------------------------------------
def test_accepted_message_is_sent_with_biz_id(standin):
    result = sms_aliyun.send(code_sms(), make_config(standin))

    assert result.outcome == Outcome.SENT, result.error
    assert result.provider == "aliyun"
    assert result.error is None
    assert result.provider_ref and result.provider_ref.endswith("^0")
    assert standin.accepted == [{"phone": PHONE, "sign": "拼发", "template": "SMS_100001",
                                 "params": {"code": "123456"}}]
    # SendSms carries its parameters in the query string; the POST body is empty.
    (request,) = standin.requests
    assert request["method"] == "POST"
    assert "PhoneNumbers=13800138000" in request["path"]
    assert request["body"] == b""


def test_chinese_text_in_params_and_sign_name(standin):
    outgoing = code_sms(template_code="SMS_100002", text="订单PF20240501-0007已发货。",
                        params=[("order_no", "PF20240501-0007"), ("status", "已发货 (顺丰)")])
    result = sms_aliyun.send(outgoing, make_config(standin))

    assert result.outcome == Outcome.SENT, result.error
    assert standin.accepted[0]["params"] == {"order_no": "PF20240501-0007",
                                             "status": "已发货 (顺丰)"}
    assert standin.accepted[0]["sign"] == "拼发"


# ---- refused for good ----------------------------------------------------------------
def test_wrong_secret_fails_with_signature_mismatch(standin):
    config = make_config(standin, ALIYUN_SMS_ACCESS_KEY_SECRET="not-the-secret-xyz")
    result = sms_aliyun.send(code_sms(), config)

    assert result.outcome == Outcome.FAILED
    assert result.error.startswith("SignatureDoesNotMatch: ")
    assert "not-the-secret-xyz" not in result.error
    assert standin.accepted == []


def test_unknown_access_key_fails(standin):
    result = sms_aliyun.send(code_sms(), make_config(standin,
                                                     ALIYUN_SMS_ACCESS_KEY_ID="LTAIunknown"))
    assert result.outcome == Outcome.FAILED
    assert result.error.startswith("InvalidAccessKeyId.NotFound: ")
    assert standin.accepted == []


@pytest.mark.parametrize("outgoing, code", [
    (code_sms(phone="12345"), "isv.MOBILE_NUMBER_ILLEGAL"),
    (code_sms(phone="23800138000"), "isv.MOBILE_NUMBER_ILLEGAL"),
    (code_sms(template_code="SMS_999999"), "isv.SMS_TEMPLATE_ILLEGAL"),
    (code_sms(params=[]), "isv.TEMPLATE_MISSING_PARAMETERS"),
])
def test_business_errors_fail(standin, outgoing, code):
    result = sms_aliyun.send(outgoing, make_config(standin))
    assert result.outcome == Outcome.FAILED
    assert result.error.startswith(f"{code}: ")
    assert standin.accepted == []


def test_unknown_sign_name_fails(standin):
    result = sms_aliyun.send(code_sms(), make_config(standin, ALIYUN_SMS_SIGN_NAME="别的签名"))
    assert result.outcome == Outcome.FAILED
    assert result.error.startswith("isv.SMS_SIGNATURE_ILLEGAL: ")


@pytest.mark.parametrize("key", ["ALIYUN_SMS_ACCESS_KEY_ID", "ALIYUN_SMS_ACCESS_KEY_SECRET",
                                 "ALIYUN_SMS_SIGN_NAME"])
def test_missing_configuration_fails_without_a_request(standin, key):
    result = sms_aliyun.send(code_sms(), make_config(standin, **{key: ""}))
    assert result.outcome == Outcome.FAILED
    assert result.error == f"Aliyun SMS is not configured: {key} is empty"
    assert standin.requests == []


def test_missing_template_code_fails_without_a_request(standin):
    result = sms_aliyun.send(code_sms(template_code=""), make_config(standin))
    assert result.outcome == Outcome.FAILED
    assert "template code" in result.error
    assert standin.requests == []


# ---- certainly not sent: retry -------------------------------------------------------
@pytest.mark.parametrize("behaviour, code", [("unavailable", "ServiceUnavailable"),
                                             ("throttle", "Throttling.User")])
def test_unavailable_and_throttled_are_retried(standin, behaviour, code):
    standin.plan(behaviour)
    result = sms_aliyun.send(code_sms(), make_config(standin))

    assert result.outcome == Outcome.RETRY
    assert result.error.startswith(f"{code}: ")
    assert len(standin.requests) == 1  # the SDK did not retry on its own
    assert standin.accepted == []


@pytest.mark.parametrize("status, code, outcome", [
    (200, "isv.BUSINESS_LIMIT_CONTROL", Outcome.RETRY),  # per-phone flow control
    (200, "isp.SYSTEM_ERROR", Outcome.RETRY),
    (500, "InternalError", Outcome.UNCERTAIN),  # may come after the SMS left
        (503, "ServiceUnavailable", Outcome.RETRY),
        (502, "BadGateway", Outcome.UNCERTAIN),
    (400, "Throttling", Outcome.RETRY),
    (200, "isv.AMOUNT_NOT_ENOUGH", Outcome.FAILED),
    (400, "IncompleteSignature", Outcome.FAILED),
])
def test_gateway_codes_are_classified(standin, status, code, outcome):
    standin.plan(("error", status, code))
    result = sms_aliyun.send(code_sms(), make_config(standin))
    assert result.outcome == outcome
    assert result.error.startswith(f"{code}: ")


def test_connection_refused_is_retried(standin):
    config = make_config(standin, ALIYUN_SMS_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    result = sms_aliyun.send(code_sms(), config)
    assert result.outcome == Outcome.RETRY
    assert result.error.startswith("could not connect to the gateway")
    assert PHONE not in result.error  # the URL (phone, parameters) is kept out of errors


def test_dns_failure_is_retried(standin, monkeypatch):
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == "dysmsapi.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    config = make_config(standin, ALIYUN_SMS_ENDPOINT="http://dysmsapi.invalid")
    result = sms_aliyun.send(code_sms(), config)
    assert result.outcome == Outcome.RETRY
    assert "could not connect" in result.error


def test_connect_timeout_is_retried(standin, monkeypatch):
    # A real connect timeout needs an unroutable network; raise what requests raises.
    def send(*args, **kwargs):
        raise requests.exceptions.ConnectTimeout("timed out")

    monkeypatch.setattr(requests.Session, "send", send)
    result = sms_aliyun.send(code_sms(), make_config(standin))
    assert result.outcome == Outcome.RETRY
    assert result.error == "no connection to the gateway within 2 s"


# ---- may have been sent: uncertain ---------------------------------------------------
def test_no_answer_after_sending_is_uncertain(standin):
    standin.plan(("hold", 5))
    started = time.monotonic()
    result = sms_aliyun.send(code_sms(), make_config(standin, MESSAGE_READ_TIMEOUT=0.5))

    assert time.monotonic() - started < 3
    assert result.outcome == Outcome.UNCERTAIN
    assert result.error == "no answer within 0.5 s; the SMS may have been sent"
    assert len(standin.accepted) == 1  # the gateway did take it
    assert len(standin.requests) == 1


# ---- the stand-in's verifier is not trivially accepting ------------------------------
def test_stand_in_refuses_tampered_or_replayed_requests(standin):
    assert sms_aliyun.send(code_sms(), make_config(standin)).outcome == Outcome.SENT
    (signed,) = standin.requests
    headers = {k: v for k, v in signed["headers"].items() if k.lower() != "content-length"}

    def replay(path=signed["path"], body=signed["body"], **changed):
        answer = requests.post(standin.url + path, headers={**headers, **changed}, data=body,
                               timeout=5)
        return answer.status_code, answer.json()["Code"]

    # Replayed unchanged, the request passes the signature check and hits the nonce check:
    # so each refusal below is caused by the one change made.
    assert replay() == (400, "SignatureNonceUsed")

    auth = headers["Authorization"]
    flipped = auth[:-1] + ("0" if auth[-1] != "0" else "1")
    assert replay(Authorization=flipped) == (400, "SignatureDoesNotMatch")
    other_phone = signed["path"].replace("PhoneNumbers=13800138000", "PhoneNumbers=13800138001")
    assert other_phone != signed["path"]
    assert replay(path=other_phone) == (400, "SignatureDoesNotMatch")
    assert replay(body=b"x") == (400, "SignatureDoesNotMatch")
    date = headers["x-acs-date"]
    assert replay(**{"x-acs-date": date[:-3] + ("00Z" if date[-3:] != "00Z" else "01Z")}) == (
        400, "SignatureDoesNotMatch")
    assert replay(Authorization=auth.replace(";x-acs-date", "")) == (400, "IncompleteSignature")
    assert replay(Authorization="") == (400, "IncompleteSignature")
    assert len(standin.accepted) == 1
