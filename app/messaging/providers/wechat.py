"""WeChat provider: a mini program subscribe message or an official account template message.

Sent through the shared WeChat client (platform/wechat.py): a subscribe message by the mini
program's app (WECHAT_MINIPROGRAM_APP_ID), a template message by the official account's
(WECHAT_OFFICIAL_APP_ID). Two requests may be involved: the access token
(cached in wechatpy's session storage, in Redis when REDIS_URL is set, because WeChat limits
token fetches per day and every worker process should share one token) and the message.
Whatever goes wrong before the message request leaves us is RETRY; after it left, an
unanswered request is UNCERTAIN, because WeChat may have delivered it.

Error texts never contain a requests exception's own text: its URL carries the access
token, and for the token request the app secret.
"""

import requests
from redis import RedisError
from urllib3.exceptions import MaxRetryError
from wechatpy.exceptions import WeChatClientException

from app.messaging.providers import Outcome, ProviderResult
from app.platform import wechat

NAME = "wechat"

# The token was revoked (a newer one was fetched elsewhere) or expired early.
TOKEN_ERRORS = {40001, 40014, 42001}
# System busy, API frequency limit: WeChat did not take the message, try later. (45009,
# the daily quota, would only be refused again within our backoff: it fails.)
BUSY_ERRORS = {-1, 45011}
# HTTP statuses of a proxy in front of WeChat that mean the request was not taken; any
# other 5xx to the message request may come after WeChat took it.
NOT_TAKEN_STATUSES = {429, 503}


def _missing(outgoing, config, kind, api_base) -> str | None:
    if kind not in ("subscribe", "template"):
        return f"WECHAT_MESSAGE_KIND must be subscribe or template, not {kind!r}"
    prefix = "WECHAT_MINIPROGRAM" if kind == "subscribe" else "WECHAT_OFFICIAL"
    for setting in (f"{prefix}_APP_ID", f"{prefix}_APP_SECRET"):
        if not config.get(setting):
            return f"{setting} is not set"
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
    kind = config.get("WECHAT_MESSAGE_KIND") or "subscribe"
    api_base = (config.get("WECHAT_API_BASE") or wechat.DEFAULT_API_BASE).rstrip("/")
    problem = _missing(outgoing, config, kind, api_base)
    if problem:
        return ProviderResult(Outcome.FAILED, NAME, error=problem)
    app = wechat.app_for(wechat.MINIPROGRAM if kind == "subscribe" else wechat.OFFICIAL,
                         config)
    client = wechat.client(app, config)
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
