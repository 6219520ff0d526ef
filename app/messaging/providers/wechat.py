"""WeChat provider: a mini program subscribe message or an official account template message.

Sent through wechatpy's `WeChatClient`. Two requests may be involved: the access token
(cached in wechatpy's session storage, in Redis when REDIS_URL is set, because WeChat limits
token fetches per day and every worker process should share one token) and the message.
Whatever goes wrong before the message request leaves us is RETRY; after it left, an
unanswered request is UNCERTAIN, because WeChat may have delivered it.

Error texts never contain a requests exception's own text: its URL carries the access
token, and for the token request the app secret.
"""

import threading

import requests
from redis import Redis, RedisError
from urllib3.exceptions import MaxRetryError
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

from app.messaging.providers import Outcome, ProviderResult

NAME = "wechat"
DEFAULT_API_BASE = "https://api.weixin.qq.com"

# The token was revoked (a newer one was fetched elsewhere) or expired early.
TOKEN_ERRORS = {40001, 40014, 42001}
# System busy, API frequency limit: WeChat did not take the message, try later. (45009,
# the daily quota, would only be refused again within our backoff: it fails.)
BUSY_ERRORS = {-1, 45011}
# HTTP statuses of a proxy in front of WeChat that mean the request was not taken; any
# other 5xx to the message request may come after WeChat took it.
NOT_TAKEN_STATUSES = {429, 503}

_clients: dict[tuple, "_Client"] = {}
_clients_lock = threading.Lock()


class _Session(requests.Session):
    """wechatpy fetches the access token without a timeout; give every request ours."""

    def __init__(self, timeout):
        super().__init__()
        self.timeout = timeout

    def request(self, method, url, **kwargs):
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
        return super().request(method, url, **kwargs)


class _Client(WeChatClient):
    """A WeChatClient whose every URL, the token URL included, starts at `api_base`."""

    def __init__(self, appid, secret, api_base, storage, timeout):
        # auto_retry off: wechatpy would refetch the token and resend without limit;
        # send() refreshes once and knows which request failed.
        super().__init__(appid, secret, session=storage, timeout=timeout, auto_retry=False)
        self._http = _Session(timeout)
        self.api_base = api_base
        # Instance attributes shadow the class constants (wechatpy builds one API object
        # per client in __new__, so changing `self.wxa` touches no other client).
        self.API_BASE_URL = f"{api_base}/cgi-bin/"  # client.message.*
        self.wxa.API_BASE_URL = f"{api_base}/"  # client.wxa.*

    def fetch_access_token(self):
        # wechatpy hard-codes https://api.weixin.qq.com/cgi-bin/token here.
        return self._fetch_access_token(
            url=f"{self.api_base}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid,
                    "secret": self.secret})


def reset_clients() -> None:
    """Forget the cached clients and their in-memory tokens (tests, config changes)."""
    with _clients_lock:
        _clients.clear()


def _client(config, appid, secret, api_base) -> _Client:
    timeout = (float(config.get("MESSAGE_CONNECT_TIMEOUT", 5.0)),
               float(config.get("MESSAGE_READ_TIMEOUT", 10.0)))
    redis_url = config.get("REDIS_URL") or ""
    settings = (secret, timeout, redis_url)
    with _clients_lock:
        client = _clients.get((appid, api_base))
        if client is None or client.settings != settings:
            if redis_url:
                redis = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
                storage = RedisStorage(redis, prefix="pifa:wechat")
            else:
                storage = MemoryStorage()
            client = _Client(appid, secret, api_base, storage, timeout)
            client.settings = settings
            _clients[(appid, api_base)] = client
        return client


def _missing(outgoing, config, kind, api_base) -> str | None:
    if not config.get("WECHAT_APP_ID"):
        return "WECHAT_APP_ID is not set"
    if not config.get("WECHAT_APP_SECRET"):
        return "WECHAT_APP_SECRET is not set"
    if kind not in ("subscribe", "template"):
        return f"WECHAT_MESSAGE_KIND must be subscribe or template, not {kind!r}"
    if not api_base.startswith(("http://", "https://")):
        return f"WECHAT_API_BASE must start with http:// or https://, not {api_base!r}"
    if not outgoing.template_code:
        return "no WeChat template id for this message"
    if not outgoing.recipient:
        return "the customer has no WeChat openid"
    return None


def _post(client, outgoing, config, kind):
    data = {key: {"value": str(value)} for key, value in outgoing.params}
    if kind == "subscribe":  # POST /cgi-bin/message/subscribe/send
        return client.wxa.send_subscribe_message(
            outgoing.recipient, outgoing.template_code, data,
            page=config.get("WECHAT_MINIPROGRAM_PAGE") or None)
    return client.message.send_template(  # POST /cgi-bin/message/template/send
        outgoing.recipient, outgoing.template_code, data)


def _api_error(exc: WeChatClientException, fetching_token: bool) -> tuple[str, str]:
    """(outcome, error) for an error answer of WeChat."""
    if exc.errcode is None:  # wechatpy's wrapper around an HTTP error status
        status = getattr(exc.response, "status_code", None) or 0
        if status in NOT_TAKEN_STATUSES or (fetching_token and status >= 500):
            return Outcome.RETRY, f"HTTP {status}"
        if status >= 500:  # a 500, 502 or 504 to the message: it may have been delivered
            return Outcome.UNCERTAIN, f"HTTP {status}; the message may have been delivered"
        return Outcome.FAILED, f"HTTP {status}"
    error = f"{exc.errcode}: {exc.errmsg}"
    if exc.errcode in BUSY_ERRORS:
        return Outcome.RETRY, error
    if exc.errcode in TOKEN_ERRORS and not fetching_token:
        return Outcome.RETRY, error  # still refused after one fresh token
    # Bad appid/secret (40013, 40125, and 40001 from the token URL), bad openid (40003),
    # no subscription (43101), bad data (47003), bad template (40037), ...: a person must look.
    return Outcome.FAILED, error


def _not_sent(exc: Exception, what: str) -> str:
    """Error text for a failure before the message request left (no exception text)."""
    if isinstance(exc, RedisError):
        what = "token storage unavailable"
    return f"{what}, nothing sent ({type(exc).__name__})"


def send(outgoing, config) -> ProviderResult:
    appid, secret = config.get("WECHAT_APP_ID"), config.get("WECHAT_APP_SECRET")
    kind = config.get("WECHAT_MESSAGE_KIND") or "subscribe"
    api_base = (config.get("WECHAT_API_BASE") or DEFAULT_API_BASE).rstrip("/")
    problem = _missing(outgoing, config, kind, api_base)
    if problem:
        return ProviderResult(Outcome.FAILED, NAME, error=problem)
    client = _client(config, appid, secret, api_base)
    result = _attempt(client, outgoing, config, kind, fresh_token=False)
    if result is None:  # WeChat refused our token: fetch a fresh one and send once more
        result = _attempt(client, outgoing, config, kind, fresh_token=True)
    return result


def _attempt(client, outgoing, config, kind, fresh_token) -> ProviderResult | None:
    """One send; None when WeChat refused the (cached) token and a fresh one may help."""
    # The token first, on its own: a failure or timeout here means nothing was sent.
    try:
        if fresh_token:
            client.fetch_access_token()
        else:
            client.access_token  # noqa: B018 - the cached token, or a fetch
    except WeChatClientException as exc:
        outcome, error = _api_error(exc, fetching_token=True)
        return ProviderResult(outcome, NAME, error=error)
    except (requests.RequestException, RedisError) as exc:
        return ProviderResult(Outcome.RETRY, NAME,
                              error=_not_sent(exc, "access token request failed"))

    try:
        answer = _post(client, outgoing, config, kind)
    except WeChatClientException as exc:
        if exc.errcode in TOKEN_ERRORS and not fresh_token:
            return None
        outcome, error = _api_error(exc, fetching_token=False)
        return ProviderResult(outcome, NAME, error=error)
    except RedisError as exc:  # reading the token, before the request
        return ProviderResult(Outcome.RETRY, NAME,
                              error=_not_sent(exc, "token storage unavailable"))
    except requests.ConnectionError as exc:
        # Refused, unresolvable, connect timeout, TLS failure: urllib3 gave up connecting
        # (MaxRetryError) and nothing was sent. Any other ConnectionError broke the
        # exchange after the request may have left: like a read timeout.
        if exc.args and isinstance(exc.args[0], MaxRetryError):
            return ProviderResult(Outcome.RETRY, NAME, error=_not_sent(exc, "could not connect"))
        return ProviderResult(Outcome.UNCERTAIN, NAME,
                              error=f"connection lost after sending ({type(exc).__name__})")
    except requests.RequestException as exc:  # ReadTimeout and the like: sent, no answer
        return ProviderResult(Outcome.UNCERTAIN, NAME,
                              error=f"no answer after sending ({type(exc).__name__})")

    if not isinstance(answer, dict):  # HTTP 200 that is not JSON: it may have been taken
        return ProviderResult(Outcome.UNCERTAIN, NAME, error="answer is not JSON")
    msgid = answer.get("msgid")
    return ProviderResult(Outcome.SENT, NAME,
                          provider_ref=str(msgid) if msgid is not None else None)
