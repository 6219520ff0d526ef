"""Tencent Cloud SMS provider against the local stand-in gateway (a real HTTP server).

The provider drives the official SDK; the stand-in recomputes the TC3-HMAC-SHA256
signature independently, so a passing send means the request really was signed right.
"""

import json
import socket
import threading
import time

import pytest
import requests

from app.messaging.providers import Outcome, Outgoing, sms_tencent
from tests.standins.tencent_sms import TencentSmsStandIn, canonical_request, tc3_signature

TEMPLATE = "1000001"  # two parameters: {1} the member's name, {2} the order total
PHONE = "13800138000"


@pytest.fixture
def gateway():
    with TencentSmsStandIn(templates={TEMPLATE: 2, "1000002": 1}) as standin:
        yield standin


def config_for(gateway, **overrides) -> dict:
    config = {
        "TENCENT_SMS_SECRET_ID": gateway.secret_id,
        "TENCENT_SMS_SECRET_KEY": gateway.secret_key,
        "TENCENT_SMS_SDK_APP_ID": gateway.sdk_app_id,
        "TENCENT_SMS_SIGN_NAME": "批发平台",
        "TENCENT_SMS_REGION": "ap-guangzhou",
        "TENCENT_SMS_ENDPOINT": gateway.url,
        "MESSAGE_CONNECT_TIMEOUT": 2.0,
        "MESSAGE_READ_TIMEOUT": 5.0,
    }
    config.update(overrides)
    return config


def message(recipient=PHONE, template=TEMPLATE, params=None) -> Outgoing:
    if params is None:
        params = [("name", "张三"), ("total", "¥1,280.00")]
    return Outgoing(message_id=1, recipient=recipient, text="张三，您的订单已确认",
                    template_code=template, params=params, event="order.confirmed")


def send(gateway, outgoing=None, **overrides):
    config = config_for(gateway, **overrides)
    result = sms_tencent.send(outgoing or message(), config)
    assert result.provider == "tencent"
    if config["TENCENT_SMS_SECRET_KEY"]:
        assert config["TENCENT_SMS_SECRET_KEY"] not in (result.error or "")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- accepted ----------------------------------------------------------------------
def test_accepted_message_is_sent_with_serial_no_and_params_in_order(gateway):
    result = send(gateway)

    assert result.outcome == Outcome.SENT
    assert result.error is None
    assert result.provider_ref and result.provider_ref.startswith("2433:")
    assert gateway.accepted == [{"phone": "+8613800138000", "sign": "批发平台",
                                 "template": TEMPLATE, "params": ["张三", "¥1,280.00"]}]
    headers = gateway.requests[0]["headers"]
    assert headers["X-TC-Action"] == "SendSms"
    assert headers["X-TC-Version"] == "2021-01-11"
    assert headers["X-TC-Region"] == "ap-guangzhou"
    assert headers["Authorization"].startswith("TC3-HMAC-SHA256 Credential=" + gateway.secret_id)
    assert json.loads(gateway.requests[0]["body"])["TemplateParamSet"] == ["张三", "¥1,280.00"]


def test_number_already_in_e164_is_left_alone(gateway):
    result = send(gateway, message(recipient="+8613900139000"))

    assert result.outcome == Outcome.SENT
    assert gateway.accepted[0]["phone"] == "+8613900139000"


# ---- refused for good --------------------------------------------------------------
def test_wrong_secret_key_fails_with_signature_failure(gateway):
    result = send(gateway, TENCENT_SMS_SECRET_KEY="not-the-right-key")

    assert result.outcome == Outcome.FAILED
    assert result.error.startswith("AuthFailure.SignatureFailure: ")
    assert gateway.accepted == []


def test_unknown_secret_id_fails(gateway):
    result = send(gateway, TENCENT_SMS_SECRET_ID="AKIDnobodyknowsthisone")

    assert result.outcome == Outcome.FAILED
    assert result.error.startswith("AuthFailure.SecretIdNotFound: ")
    assert gateway.accepted == []


def test_bad_phone_fails(gateway):
    result = send(gateway, message(recipient="2380013800"))

    assert result.outcome == Outcome.FAILED
    assert result.error.startswith("InvalidParameterValue.IncorrectPhoneNumber: ")
    assert gateway.accepted == []


def test_unknown_template_fails(gateway):
    result = send(gateway, message(template="9999999"))

    assert result.outcome == Outcome.FAILED
    assert result.error.startswith("FailedOperation.TemplateIncorrectOrUnapproved: ")
    assert gateway.accepted == []


def test_wrong_number_of_template_params_fails(gateway):
    result = send(gateway, message(template="1000002"))  # takes one parameter, given two

    assert result.outcome == Outcome.FAILED
    assert result.error.startswith("FailedOperation.TemplateParamSetNotMatchApprovedTemplate")
    assert gateway.accepted == []


def test_unapproved_sign_name_fails(gateway):
    result = send(gateway, TENCENT_SMS_SIGN_NAME="别的签名")

    assert result.outcome == Outcome.FAILED
    assert result.error.startswith("FailedOperation.SignatureIncorrectOrUnapproved: ")


def test_daily_limit_for_the_number_fails(gateway):
    gateway.number_codes["+8613800138000"] = "LimitExceeded.PhoneNumberDailyLimit"

    result = send(gateway)

    assert result.outcome == Outcome.FAILED
    assert result.error.startswith("LimitExceeded.PhoneNumberDailyLimit: ")


@pytest.mark.parametrize("key", ["TENCENT_SMS_SDK_APP_ID", "TENCENT_SMS_SECRET_ID",
                                 "TENCENT_SMS_SECRET_KEY", "TENCENT_SMS_SIGN_NAME"])
def test_missing_configuration_fails_without_a_request(gateway, key):
    result = send(gateway, **{key: ""})

    assert result.outcome == Outcome.FAILED
    assert result.error == f"Tencent SMS is not configured: {key} is empty"
    assert gateway.requests == []


def test_message_without_template_fails_without_a_request(gateway):
    result = send(gateway, message(template=""))

    assert result.outcome == Outcome.FAILED
    assert "template" in result.error
    assert gateway.requests == []


# ---- not sent, try later -----------------------------------------------------------
def test_gateway_unavailable_is_retried(gateway):
    gateway.plan("unavailable")

    result = send(gateway)

    assert result.outcome == Outcome.RETRY
    assert result.error.startswith("ServerNetworkError: ")
    assert gateway.accepted == []


def test_bad_gateway_is_uncertain(gateway):
    gateway.plan("bad_gateway")

    result = send(gateway)

    assert result.outcome == Outcome.UNCERTAIN
    assert "502 Bad Gateway" in result.error


@pytest.mark.parametrize("code, outcome", [
    ("InternalError.Timeout", Outcome.UNCERTAIN),  # the carriers may have it
    ("InternalError.SendAndRecvFail", Outcome.UNCERTAIN),
    ("InternalError.SigVerificationFail", Outcome.FAILED),  # a secret to fix
    ("InternalError.RequestTimeException", Outcome.FAILED),  # a clock to fix
    ("LimitExceeded.PhoneNumberOneHourLimit", Outcome.FAILED),  # longer than our backoff
])
def test_gateway_failures_are_classified(gateway, code, outcome):
    gateway.number_codes["+8613800138000"] = code

    assert send(gateway).outcome == outcome


def test_throttled_is_retried(gateway):
    gateway.plan("throttle")

    result = send(gateway)

    assert result.outcome == Outcome.RETRY
    assert result.error.startswith("RequestLimitExceeded: ")
    assert gateway.accepted == []


def test_short_window_limit_for_the_number_is_retried(gateway):
    gateway.number_codes["+8613800138000"] = "LimitExceeded.PhoneNumberThirtySecondLimit"

    result = send(gateway)

    assert result.outcome == Outcome.RETRY
    assert result.error.startswith("LimitExceeded.PhoneNumberThirtySecondLimit: ")


def test_nothing_listening_is_retried(gateway):
    result = send(gateway, TENCENT_SMS_ENDPOINT=f"http://127.0.0.1:{free_port()}")

    assert result.outcome == Outcome.RETRY
    assert result.error.startswith("could not connect to the gateway")


def test_connect_timeout_is_retried(gateway, monkeypatch):
    # A real connect timeout needs a black-holed address; the exception requests raises
    # for it is the same, and the SDK wraps it the same way.
    def no_connection(self, method, url, **kwargs):
        raise requests.exceptions.ConnectTimeout("connect timed out")

    monkeypatch.setattr(requests.Session, "request", no_connection)

    result = send(gateway)

    assert result.outcome == Outcome.RETRY
    assert result.error == "no connection to the gateway within 2 s"


def test_timeouts_reach_requests_as_connect_and_read(gateway, monkeypatch):
    seen = []
    original = requests.Session.request

    def spy(self, method, url, **kwargs):
        seen.append(kwargs["timeout"])
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)

    result = send(gateway, MESSAGE_CONNECT_TIMEOUT=1.5, MESSAGE_READ_TIMEOUT=7.0)

    assert result.outcome == Outcome.SENT
    assert seen == [(1.5, 7.0)]  # one attempt: the SDK does not retry on its own


# ---- sent, answer lost -------------------------------------------------------------
def test_no_answer_within_read_timeout_is_uncertain(gateway):
    gateway.plan(("hold", 5))

    started = time.monotonic()
    result = send(gateway, MESSAGE_READ_TIMEOUT=0.5)

    assert result.outcome == Outcome.UNCERTAIN
    assert result.error == "no answer within 0.5 s; the SMS may have been sent"
    assert time.monotonic() - started < 4
    assert gateway.wait_accepted(1)
    assert gateway.accepted[0]["params"] == ["张三", "¥1,280.00"]


class OneShotServer:
    """Takes one connection, reads the request, writes `reply` (maybe nothing) and hangs
    up: a gateway that got the request but whose answer never arrives whole."""

    def __init__(self, reply: bytes = b""):
        self.reply = reply
        self.received = b""
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _serve(self):
        conn, _ = self._listener.accept()
        with conn:
            conn.settimeout(5)
            self.received = conn.recv(65536)
            conn.sendall(self.reply)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._thread.join(5)
        self._listener.close()


def test_connection_dropped_after_sending_is_uncertain(gateway):
    with OneShotServer() as server:
        result = send(gateway, TENCENT_SMS_ENDPOINT=server.url)

    assert server.received.startswith(b"POST / ")
    assert result.outcome == Outcome.UNCERTAIN
    assert result.error.startswith("no usable answer from the gateway")


def test_answer_cut_short_is_uncertain(gateway):
    # The SDK streams the body; a failure reading it escapes its network-error wrapper and
    # SmsClient.SendSms re-raises it under the exception's class name instead.
    cut = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n"
           b"\r\n" + b'{"Response": {"SendStatusSet": [{"SerialNo": "2433:')
    with OneShotServer(cut) as server:
        result = send(gateway, TENCENT_SMS_ENDPOINT=server.url)

    assert server.received.startswith(b"POST / ")
    assert result.outcome == Outcome.UNCERTAIN
    assert result.error.startswith("no usable answer from the gateway")


# ---- the stand-in's verifier -------------------------------------------------------
def test_signature_matches_tencent_documentation_example():
    # The worked example in Tencent Cloud's "Signature v3" documentation (CVM
    # DescribeInstances, secret key as printed there, asterisks included).
    payload = (b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], '
               b'"Name": "instance-name"}]}')
    canonical = canonical_request(
        "POST", "/", "", {"content-type": "application/json; charset=utf-8",
                          "host": "cvm.tencentcloudapi.com"},
        ["content-type", "host"], payload)

    assert canonical.endswith("35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064")
    assert tc3_signature("Gu5t9xGARNpq86cd98joQYCN3*******", "2019-02-25", 1551113065, "cvm",
                         canonical) == (
        "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c")


def replay(gateway, headers: dict, body: bytes) -> dict:
    headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
    answer = requests.post(gateway.url + "/", data=body, headers=headers, timeout=5)
    assert answer.status_code == 200
    return answer.json()["Response"]


def test_verifier_refuses_a_body_changed_after_signing(gateway):
    assert send(gateway).outcome == Outcome.SENT
    signed = gateway.requests[0]

    # The untouched request passes again (TC3 has no nonce), so what refuses the changed
    # one below is the signature check, not a lost header.
    assert replay(gateway, signed["headers"], signed["body"])["SendStatusSet"][0]["Code"] == "Ok"
    assert len(gateway.accepted) == 2

    tampered = signed["body"].replace(b"+8613800138000", b"+8613911112222")
    assert tampered != signed["body"]
    answer = replay(gateway, signed["headers"], tampered)

    assert answer["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert len(gateway.accepted) == 2


def test_verifier_refuses_an_old_timestamp(gateway):
    body = json.dumps({"PhoneNumberSet": ["+8613800138000"], "SmsSdkAppId": gateway.sdk_app_id,
                       "SignName": "批发平台", "TemplateId": TEMPLATE,
                       "TemplateParamSet": ["a", "b"]}).encode()
    timestamp = int(time.time()) - 600
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    host = f"127.0.0.1:{gateway.port}"
    canonical = canonical_request("POST", "/", "", {"content-type": "application/json",
                                                    "host": host},
                                  ["content-type", "host"], body)
    signature = tc3_signature(gateway.secret_key, date, timestamp, "sms", canonical)
    headers = {"Content-Type": "application/json", "Host": host, "X-TC-Action": "SendSms",
               "X-TC-Version": "2021-01-11", "X-TC-Region": "ap-guangzhou",
               "X-TC-Timestamp": str(timestamp),
               "Authorization": f"TC3-HMAC-SHA256 Credential={gateway.secret_id}/{date}/sms/"
                                f"tc3_request, SignedHeaders=content-type;host, "
                                f"Signature={signature}"}

    answer = replay(gateway, headers, body)

    assert answer["Error"]["Code"] == "AuthFailure.SignatureExpire"
    assert gateway.accepted == []
