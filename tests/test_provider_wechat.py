"""The WeChat provider against the local WeChat API stand-in (no network, no app needed)."""

import socket
import time
import uuid

import pytest

from app.messaging.providers import Outcome, Outgoing, wechat
from app.platform import wechat as platform_wechat
from tests.standins.wechat import WeChatStandIn

APPID = "wx0123456789abcdef"
SECRET = "s3cr3t-0123456789abcdef0123456789"
OPENID = "oABCD1234efgh5678ijkl9012mnop"
REFUSING = "oREFUSED000000000000000000000"
TEMPLATE = "tpl-order-status-Xk2Lm9"
KEYS = {"character_string1", "thing2", "amount3"}
PARAMS = [("character_string1", "P20261125001"), ("thing2", "已确认，明日送达"),
          ("amount3", "¥1,280.00")]


@pytest.fixture(autouse=True)
def fresh_clients():
    # The provider caches one client (and its in-memory token) per process: start empty.
    platform_wechat.reset_clients()
    yield
    platform_wechat.reset_clients()


@pytest.fixture
def standin():
    with WeChatStandIn(APPID, SECRET, openids={OPENID, REFUSING},
                       templates={TEMPLATE: KEYS}, refused={REFUSING}) as server:
        yield server


def make_config(standin_or_url, **extra) -> dict:
    url = standin_or_url if isinstance(standin_or_url, str) else standin_or_url.url
    # One stand-in app answers for both: which settings a kind uses is tested below.
    config = {"WECHAT_MINIPROGRAM_APP_ID": APPID, "WECHAT_MINIPROGRAM_APP_SECRET": SECRET,
              "WECHAT_OFFICIAL_APP_ID": APPID, "WECHAT_OFFICIAL_APP_SECRET": SECRET,
              "WECHAT_MESSAGE_KIND": "subscribe", "WECHAT_API_BASE": url,
              "WECHAT_MINIPROGRAM_PAGE": "pages/orders/index", "REDIS_URL": "",
              "MESSAGE_CONNECT_TIMEOUT": 2.0, "MESSAGE_READ_TIMEOUT": 5.0}
    config.update(extra)
    return config


def outgoing(**extra) -> Outgoing:
    fields = {"message_id": 1, "recipient": OPENID, "text": "订单 P20261125001 已确认",
              "template_code": TEMPLATE, "params": list(PARAMS), "event": "order_confirmed"}
    fields.update(extra)
    return Outgoing(**fields)


def send(config, **extra):
    result = wechat.send(outgoing(**extra), config)
    assert result.provider == "wechat"
    assert SECRET not in (result.error or "")  # never the secret, whatever went wrong
    return result


def send_requests(standin) -> list[dict]:
    return [r for r in standin.requests if "/message/" in r["path"]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_subscribe_message_is_sent(standin):
    result = send(make_config(standin))

    assert result.outcome == Outcome.SENT, result.error
    assert result.error is None
    assert len(standin.accepted) == 1
    entry = standin.accepted[0]
    assert entry["kind"] == "subscribe"
    assert entry["openid"] == OPENID and entry["template"] == TEMPLATE
    assert entry["data"] == {"character_string1": {"value": "P20261125001"},
                             "thing2": {"value": "已确认，明日送达"},
                             "amount3": {"value": "¥1,280.00"}}
    [request] = send_requests(standin)
    assert request["path"].startswith("/cgi-bin/message/subscribe/send?access_token=")
    assert b'"page": "pages/orders/index"' in request["body"]
    assert result.provider_ref and result.provider_ref.isdigit()


def test_template_message_is_sent(standin):
    result = send(make_config(standin, WECHAT_MESSAGE_KIND="template"))

    assert result.outcome == Outcome.SENT, result.error
    assert [e["kind"] for e in standin.accepted] == ["template"]
    assert standin.accepted[0]["data"]["thing2"] == {"value": "已确认，明日送达"}
    [request] = send_requests(standin)
    assert request["path"].startswith("/cgi-bin/message/template/send?access_token=")


def test_second_send_reuses_the_token(standin):
    config = make_config(standin)
    assert send(config).outcome == Outcome.SENT
    assert send(config, message_id=2).outcome == Outcome.SENT

    assert standin.token_requests == 1
    assert len(standin.accepted) == 2


def test_expired_token_is_refreshed_and_the_message_sent_once(standin):
    config = make_config(standin)
    assert send(config).outcome == Outcome.SENT
    standin.expire_tokens()

    result = send(config, message_id=2)

    assert result.outcome == Outcome.SENT, result.error
    assert standin.token_requests == 2
    assert len(standin.accepted) == 2  # one per message: the refused try was not accepted
    assert len(send_requests(standin)) == 3


def test_token_refused_even_when_fresh_is_retried_later(standin, monkeypatch):
    class Forgetful(set):  # the stand-in issues tokens and forgets them at once
        def add(self, token):
            pass

    monkeypatch.setattr(standin, "_tokens", Forgetful())

    result = send(make_config(standin))

    assert result.outcome == Outcome.RETRY
    assert result.error.startswith("40001: ")
    assert standin.token_requests == 2  # one refresh, no loop
    assert standin.accepted == []


def test_wrong_secret_fails(standin):
    result = send(make_config(standin, WECHAT_MINIPROGRAM_APP_SECRET="wrong-secret"))

    assert result.outcome == Outcome.FAILED
    assert result.error == "40125: invalid appsecret"
    assert "wrong-secret" not in result.error
    assert standin.accepted == [] and send_requests(standin) == []


def test_wrong_appid_fails(standin):
    result = send(make_config(standin, WECHAT_MINIPROGRAM_APP_ID="wx-not-ours"))

    assert result.outcome == Outcome.FAILED
    assert result.error.startswith("40013: ")
    assert standin.accepted == []


@pytest.mark.parametrize(("extra", "code"), [
    ({"recipient": "o-unknown-openid"}, "40003"),
    ({"template_code": "tpl-unknown"}, "40037"),
    ({"params": [("character_string1", "P20261125001")]}, "47003"),
    ({"recipient": REFUSING}, "43101"),
])
def test_refused_messages_fail(standin, extra, code):
    result = send(make_config(standin), **extra)

    assert result.outcome == Outcome.FAILED
    assert result.error.startswith(f"{code}: ")
    assert standin.accepted == []


def test_gateway_unavailable_is_retried(standin):
    standin.plan("unavailable")

    result = send(make_config(standin))

    assert result.outcome == Outcome.RETRY
    assert result.error == "HTTP 503"
    assert standin.accepted == []


def test_throttled_is_retried_and_then_sent(standin):
    config = make_config(standin)
    standin.plan("throttle")

    result = send(config)
    assert result.outcome == Outcome.RETRY
    assert result.error.startswith("45011: api minute-quota reach limit")
    assert standin.accepted == []

    assert send(config).outcome == Outcome.SENT
    assert len(standin.accepted) == 1


def test_daily_quota_fails_for_a_person_to_see(standin):
    standin.plan("daily_quota")  # retrying within our backoff would only be refused again

    result = send(make_config(standin))

    assert result.outcome == Outcome.FAILED
    assert result.error == "45009: reach max api daily quota limit"


def test_bad_gateway_to_the_message_is_uncertain(standin):
    config = make_config(standin)
    assert send(config).outcome == Outcome.SENT  # the token is cached
    standin.plan("bad_gateway")

    result = send(config)

    assert result.outcome == Outcome.UNCERTAIN
    assert result.error.startswith("HTTP 502")


def test_nothing_listening_is_retried():
    result = send(make_config(f"http://127.0.0.1:{free_port()}"))

    assert result.outcome == Outcome.RETRY
    assert "nothing sent" in result.error


def test_gateway_gone_after_token_is_retried(standin):
    config = make_config(standin)
    assert send(config).outcome == Outcome.SENT
    standin.stop()  # the token is cached; now the send itself cannot connect
    # stop() leaves open keep-alive connections served: drop the client's pooled ones.
    for client in platform_wechat._clients.values():
        client._http.close()

    result = send(config, message_id=2)

    assert result.outcome == Outcome.RETRY
    assert result.error == "could not connect, nothing sent (ConnectionError)"
    assert len(standin.accepted) == 1


def test_no_answer_after_sending_is_uncertain(standin):
    standin.plan(("hold", 5))
    started = time.monotonic()

    result = send(make_config(standin, MESSAGE_READ_TIMEOUT=0.5))

    assert result.outcome == Outcome.UNCERTAIN
    assert "ReadTimeout" in result.error
    assert len(standin.accepted) == 1  # WeChat took it; only a person may resend
    assert time.monotonic() - started < 4


def test_slow_token_answer_is_retried_not_uncertain(standin):
    standin.token_delay = 5

    result = send(make_config(standin, MESSAGE_READ_TIMEOUT=0.5))

    assert result.outcome == Outcome.RETRY
    assert result.error == "access token request failed, nothing sent (ReadTimeout)"
    assert standin.accepted == [] and send_requests(standin) == []


@pytest.mark.parametrize(("extra", "config_extra", "error"), [
    ({"recipient": ""}, {}, "the customer has no WeChat openid"),
    ({"template_code": ""}, {}, "no WeChat template id for this message"),
    ({}, {"WECHAT_MINIPROGRAM_APP_ID": ""}, "WECHAT_MINIPROGRAM_APP_ID is not set"),
    ({}, {"WECHAT_MINIPROGRAM_APP_SECRET": ""}, "WECHAT_MINIPROGRAM_APP_SECRET is not set"),
    ({}, {"WECHAT_MESSAGE_KIND": "custom"}, "WECHAT_MESSAGE_KIND must be"),
    ({}, {"WECHAT_MESSAGE_KIND": "template", "WECHAT_OFFICIAL_APP_ID": ""},
     "WECHAT_OFFICIAL_APP_ID is not set"),
    ({}, {"WECHAT_MESSAGE_KIND": "template", "WECHAT_OFFICIAL_APP_SECRET": ""},
     "WECHAT_OFFICIAL_APP_SECRET is not set"),
])
def test_missing_settings_fail_without_a_request(standin, extra, config_extra, error):
    result = send(make_config(standin, **config_extra), **extra)

    assert result.outcome == Outcome.FAILED
    assert result.error.startswith(error)
    assert standin.requests == []


@pytest.mark.redis
def test_token_is_shared_through_redis(standin, redis_url):
    from redis import Redis

    appid = f"wx-test-{uuid.uuid4().hex[:8]}"  # its own token key in the shared Redis
    standin.appid = appid
    config = make_config(standin, WECHAT_MINIPROGRAM_APP_ID=appid, REDIS_URL=redis_url)
    try:
        assert send(config).outcome == Outcome.SENT
        platform_wechat.reset_clients()  # as another worker process would start
        assert send(config, message_id=2).outcome == Outcome.SENT

        assert standin.token_requests == 1
        assert len(standin.accepted) == 2
    finally:
        Redis.from_url(redis_url).delete(f"pifa:wechat:{appid}_access_token")
