"""WeChat: the two apps a distributor has, the identities they give an account, and the
HTTP client (wechatpy) every WeChat call goes through.

A mini program (小程序: sign-in, subscribe messages) and an official account (公众号:
the storefront opened in WeChat's browser, template messages) are different apps: the
same person has a different openid in each, and one unionid across them when both apps
are linked to one WeChat Open Platform account. So an identity is (app, openid), kept
per account; the unionid is kept beside it.

Every base URL is a setting (`WECHAT_API_BASE`, `WECHAT_OAUTH_BASE`) so that tests and
staging point them at a stand-in. Error texts never contain a requests exception's own
text: its URL carries the access token, and for token and login requests the app secret.
"""

import threading
from dataclasses import dataclass

import requests
from flask import current_app
from flask_babel import lazy_gettext as _l
from redis import Redis
from sqlalchemy import select
from wechatpy import WeChatClient, WeChatOAuth
from wechatpy.exceptions import WeChatClientException, WeChatOAuthException
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

from app.extensions import db
from app.platform.models import WechatIdentity
from app.platform.time import utcnow

MINIPROGRAM = "miniprogram"
OFFICIAL = "official"
KINDS = (MINIPROGRAM, OFFICIAL)
KIND_LABELS = {MINIPROGRAM: _l("Mini program"), OFFICIAL: _l("Official account")}
DEFAULT_API_BASE = "https://api.weixin.qq.com"
DEFAULT_OAUTH_BASE = "https://open.weixin.qq.com/connect"

# A code that is unknown, expired, used, or of another app: the person must start again.
BAD_CODE_ERRORS = {40029, 40163, 41008}


@dataclass(frozen=True)
class App:
    kind: str
    appid: str
    secret: str
    api_base: str


class WeChatUnavailable(Exception):
    """WeChat did not answer, or answered with an error that is not the person's doing
    (busy, a bad setting of ours). The text is for the log, never for the person."""


class WeChatCodeRefused(Exception):
    """WeChat refused the code the client sent: unknown, expired, used or another app's."""


def app_for(kind: str, config=None) -> App | None:
    """The configured app of this kind, or None while its id or secret is not set."""
    config = config if config is not None else current_app.config
    prefix = "WECHAT_MINIPROGRAM" if kind == MINIPROGRAM else "WECHAT_OFFICIAL"
    appid, secret = config.get(f"{prefix}_APP_ID"), config.get(f"{prefix}_APP_SECRET")
    if not appid or not secret:
        return None
    return App(kind, appid, secret,
               (config.get("WECHAT_API_BASE") or DEFAULT_API_BASE).rstrip("/"))


def timeouts(config) -> tuple[float, float]:
    return (float(config.get("MESSAGE_CONNECT_TIMEOUT", 5.0)),
            float(config.get("MESSAGE_READ_TIMEOUT", 10.0)))


# ---- the HTTP client -------------------------------------------------------------------

class _Session(requests.Session):
    """wechatpy fetches the access token without a timeout; give every request ours."""

    def __init__(self, timeout):
        super().__init__()
        self.timeout = timeout

    def request(self, method, url, **kwargs):
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
        return super().request(method, url, **kwargs)


class Client(WeChatClient):
    """A WeChatClient whose every URL, the token URL included, starts at `api_base`."""

    def __init__(self, appid, secret, api_base, storage, timeout):
        # auto_retry off: wechatpy would refetch the token and resend without limit; a
        # caller refreshes once and knows which request failed.
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


_clients: dict[tuple, Client] = {}
_clients_lock = threading.Lock()


def reset_clients() -> None:
    """Forget the cached clients and their in-memory tokens (tests, config changes)."""
    with _clients_lock:
        _clients.clear()


def client(app: App, config=None) -> Client:
    """The shared client of `app`. Its access token is kept in Redis when REDIS_URL is set,
    because WeChat limits token fetches per day and every process should share one."""
    config = config if config is not None else current_app.config
    timeout = timeouts(config)
    redis_url = config.get("REDIS_URL") or ""
    settings = (app.secret, timeout, redis_url)
    with _clients_lock:
        found = _clients.get((app.appid, app.api_base))
        if found is None or found.settings != settings:
            if redis_url:
                redis = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
                storage = RedisStorage(redis, prefix="pifa:wechat")
            else:
                storage = MemoryStorage()
            found = Client(app.appid, app.secret, app.api_base, storage, timeout)
            found.settings = settings
            _clients[(app.appid, app.api_base)] = found
        return found


def _call(what: str, request):
    """Run one WeChat request: its answer, WeChatCodeRefused, or WeChatUnavailable."""
    try:
        return request()
    except (WeChatClientException, WeChatOAuthException) as exc:
        if exc.errcode in BAD_CODE_ERRORS:
            raise WeChatCodeRefused(f"{what}: {exc.errcode}") from None
        if exc.errcode is None:
            status = getattr(exc.response, "status_code", None) or 0
            raise WeChatUnavailable(f"{what}: HTTP {status}") from None
        raise WeChatUnavailable(f"{what}: {exc.errcode} {exc.errmsg}") from None
    except (requests.RequestException, ValueError) as exc:
        raise WeChatUnavailable(f"{what}: {type(exc).__name__}") from None


# ---- the calls ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Login:
    appid: str
    openid: str
    unionid: str | None


def code_to_session(app: App, code: str) -> Login:
    """A mini program's `wx.login` code → the person's openid (and unionid). The
    session_key WeChat also answers is dropped here: we decrypt nothing with it, and a
    key that is never kept can never leak."""
    answer = _call("jscode2session", lambda: client(app).wxa.code_to_session(code))
    openid = answer.get("openid") if isinstance(answer, dict) else None
    if not openid:
        raise WeChatUnavailable("jscode2session: no openid in the answer")
    return Login(app.appid, openid, answer.get("unionid") or None)


def phone_number(app: App, code: str) -> str:
    """A mini program's `getPhoneNumber` code → the phone number the person chose to
    share (WeChat verified it). Only a mainland number (country code 86) is answered."""
    answer = _call("getuserphonenumber", lambda: client(app).wxa._post(
        "wxa/business/getuserphonenumber", data={"code": code}))
    info = answer.get("phone_info") if isinstance(answer, dict) else None
    if not isinstance(info, dict) or not info.get("purePhoneNumber"):
        raise WeChatUnavailable("getuserphonenumber: no phone_info in the answer")
    if str(info.get("countryCode") or "86") != "86":
        raise WeChatCodeRefused("getuserphonenumber: not a mainland China number")
    return str(info["purePhoneNumber"])


def oauth(app: App, redirect_uri: str, state: str, config=None) -> WeChatOAuth:
    config = config if config is not None else current_app.config
    oauth = WeChatOAuth(app.appid, app.secret, redirect_uri, scope="snsapi_base",
                        state=state)
    oauth.API_BASE_URL = f"{app.api_base}/"
    oauth.OAUTH_BASE_URL = (config.get("WECHAT_OAUTH_BASE") or DEFAULT_OAUTH_BASE).rstrip(
        "/") + "/"
    oauth._http = _Session(timeouts(config))
    return oauth


def oauth_login(app: App, code: str) -> Login:
    """An official-account OAuth code (snsapi_base, silent) → the person's openid."""
    answer = _call("oauth2/access_token",
                   lambda: oauth(app, "", "").fetch_access_token(code))
    return Login(app.appid, answer["openid"], answer.get("unionid") or None)


# ---- identities --------------------------------------------------------------------------

def identity_of(appid: str, openid: str) -> WechatIdentity | None:
    return db.session.scalar(select(WechatIdentity).where(
        WechatIdentity.appid == appid, WechatIdentity.openid == openid))


def identities(user_id: int) -> list[WechatIdentity]:
    """The account's bound identities."""
    return list(db.session.scalars(select(WechatIdentity).where(
        WechatIdentity.user_id == user_id, WechatIdentity.unbound_at.is_(None))
        .order_by(WechatIdentity.id)))


def has_any(user_id: int, appid: str) -> bool:
    """Whether the account has, or had and unbound, an identity in this app."""
    return db.session.scalar(select(WechatIdentity.id).where(
        WechatIdentity.user_id == user_id, WechatIdentity.appid == appid)) is not None


def openid_for(user_id: int, kind: str, config=None) -> str | None:
    """The account's openid in the configured app of `kind`, or None."""
    app = app_for(kind, config)
    if app is None:
        return None
    return db.session.scalar(select(WechatIdentity.openid).where(
        WechatIdentity.user_id == user_id, WechatIdentity.appid == app.appid,
        WechatIdentity.unbound_at.is_(None)))


def remember(user_id: int, login: Login, kind: str) -> WechatIdentity:
    """Keep `login` as the account's bound identity in that app (in the caller's
    transaction). An account has one identity per app: a new openid replaces the old
    one. The caller has made sure the openid is not bound to another account; an
    identity another account unbound moves to this one."""
    taken = identity_of(login.appid, login.openid)
    if taken is not None and taken.user_id != user_id:
        if taken.unbound_at is None:
            raise ValueError("this WeChat identity is bound to another account")
        db.session.delete(taken)
        db.session.flush()
    row = db.session.scalar(select(WechatIdentity).where(
        WechatIdentity.user_id == user_id, WechatIdentity.appid == login.appid))
    if row is None:
        row = WechatIdentity(user_id=user_id, kind=kind, appid=login.appid)
        db.session.add(row)
    row.openid, row.last_used_at, row.unbound_at = login.openid, utcnow(), None
    row.unionid = login.unionid or row.unionid
    db.session.flush()
    return row


def by_unionid(unionid: str | None) -> WechatIdentity | None:
    """A bound identity of the same person in another of our apps (same unionid)."""
    if not unionid:
        return None
    return db.session.scalar(select(WechatIdentity).where(
        WechatIdentity.unionid == unionid, WechatIdentity.unbound_at.is_(None))
        .order_by(WechatIdentity.id).limit(1))
