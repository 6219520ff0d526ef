"""Stand-in for the WeChat API: access tokens, message sends, mini-program login, phone numbers
and official-account web OAuth, for one or several apps on one server.

Every JSON answer is HTTP 200 with an errcode, as WeChat does; only the planned "unavailable"
send is a 503 and "bad_gateway" a 502. Modelled from WeChat's public documentation (and, where
the documentation is silent, from what WeChat's own community staff say it answers):

Access token - GET /cgi-bin/token?grant_type=client_credential&appid=&secret=
  {"access_token", "expires_in": 7200}; 40002 invalid grant_type, 40013 invalid appid, 40125
  invalid appsecret. Any known app gets a token; the stand-in remembers whose it is.

Subscribe / template sends - POST /cgi-bin/message/subscribe/send (mini program) and
  POST /cgi-bin/message/template/send (official account), ?access_token= and a JSON body
  {touser, template_id, data: {key: {"value": ...}}, ...}: {"errcode": 0, "errmsg": "ok",
  "msgid"} or 41001 (no token), 40001 (bad token), 40003 (openid), 40037 (template id), 43101
  (the user did not subscribe), 47001 (body not JSON), 47003 (data does not match the template).
  A token of any known app is accepted here (openids/templates are not kept per app).

Mini-program login (auth.code2Session) - GET /sns/jscode2session?appid=&secret=&js_code=
  &grant_type=authorization_code: {"openid", "session_key", "unionid" (only if the user has
  one)}, no errcode on success. Errors: 41002 appid missing, 40013 invalid appid, 41004
  appsecret missing, 40125 invalid appsecret, 40002 invalid grant_type, 41008 missing code,
  40029 invalid code (unknown, expired after 5 minutes, or issued to another appid), 40163 code
  been used (a code works once). The session_key is base64 of 16 random bytes (the AES-128 key
  of the user's encrypted data); it is kept in `session_keys[openid]` so a test can check it
  never leaves our server. Codes come from `login_code(...)` (what wx.login gives the client).

Phone number (phonenumber.getPhoneNumber) - POST /wxa/business/getuserphonenumber?access_token=
  with {"code": ...}: {"errcode": 0, "errmsg": "ok", "phone_info": {"phoneNumber",
  "purePhoneNumber", "countryCode" (a string, as the field table says), "watermark":
  {"timestamp", "appid"}}}. phoneNumber is the plain number for +86 and carries the country
  code for foreign numbers (the exact prefix format is not documented; "+852 61234567" here).
  Errors: 43002 require POST method, 41001 access_token missing, 40001 invalid credential, 47001
  data format error, 40029 invalid code - the documented "code不存在、已过期或者使用过" (unknown,
  expired after 5 minutes, already used) and also a code of another app than the token's.
  A code works once. Codes come from `phone_code(...)`. The optional "openid" body check is not
  modelled.

Web OAuth (网页授权), served here although real WeChat serves step 1 on open.weixin.qq.com:
- GET /connect/oauth2/authorize?appid=&redirect_uri=&response_type=code&scope=&state=
  (the "#wechat_redirect" fragment never reaches a server). With a WeChat user "in the
  browser" (`browser_user(...)`) and valid parameters: 302 to redirect_uri with code= and
  state= appended (the documented redirect_uri?code=CODE&state=STATE; an existing query is kept).
  snsapi_base is silent; for snsapi_userinfo the user is taken to agree. Without a user it is
  the 200 page WeChat shows outside its client, "请在微信客户端打开链接". Bad parameters give a
  200 HTML error page and no redirect, with the documented codes: 10012 appid empty, 10011
  redirect_uri empty, 10003 redirect_uri domain not configured (only when `oauth_domains` is
  given), 10010 scope empty, 10005 no such scope (anything but snsapi_base/snsapi_userinfo).
  An unknown appid, or response_type other than "code", is an error page too (the text WeChat
  shows for it is not documented).
- GET /sns/oauth2/access_token?appid=&secret=&code=&grant_type=authorization_code:
  {"access_token", "expires_in": 7200, "refresh_token", "openid", "scope"}, plus "unionid"
  only when the scope was snsapi_userinfo and the user has one (as documented: never for
  snsapi_base); "is_snapshotuser" is never sent. Errors: 41002, 40013, 41004, 40125 (wrong
  secret), 40002, 41008, 40029 invalid code (unknown, expired after 5 minutes, another app's),
  40163 code been used.

Codes of the three kinds are separate: a login code is no phone code nor OAuth code. Every code
lives 5 minutes by the injectable `clock` (default time.time); `expire_codes()` ages every code
issued so far past that. A request that fails does not use up the code. `reset()` forgets
everything issued and recorded, for a server shared by several tests.
"""

import base64
import html
import itertools
import json
import secrets
import time
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from . import StandIn

SEND_KINDS = {"/cgi-bin/message/subscribe/send": "subscribe",
              "/cgi-bin/message/template/send": "template"}
CODE_TTL = 300.0  # seconds: login, phone and OAuth codes all expire after 5 minutes
OAUTH_SCOPES = ("snsapi_base", "snsapi_userinfo")
OPEN_IN_WECHAT = "请在微信客户端打开链接"


def _error(errcode: int, errmsg: str):
    return 200, {}, {"errcode": errcode, "errmsg": errmsg}


def _page(title: str, text: str):
    body = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
            f"</title></head><body><p>{html.escape(text)}</p></body></html>")
    return 200, {"Content-Type": "text/html; charset=utf-8"}, body


class WeChatStandIn(StandIn):
    def __init__(self, appid: str, secret: str, openids=(), templates=None, refused=(), *,
                 apps=None, clock=time.time, oauth_domains=None):
        super().__init__()
        self.appid = appid
        self.secret = secret
        self.other_apps = dict(apps or {})  # further apps on this server: {appid: secret}
        if self.other_apps.get(appid, secret) != secret:
            raise ValueError(f"{appid} is given twice with different secrets")
        self.other_apps.pop(appid, None)
        self.openids = set(openids)  # users known to the app (for sends)
        self.refused = set(refused)  # known users who did not accept this message (43101)
        self.templates = {tid: set(keys) for tid, keys in (templates or {}).items()}
        self.clock = clock
        # Web OAuth: the domains allowed in redirect_uri (网页授权域名); None allows any.
        self.oauth_domains = None if oauth_domains is None else set(oauth_domains)
        self.token_requests = 0
        self.token_delay = 0.0  # seconds the token answer waits (a slow token endpoint)
        self._tokens: set[str] = set()
        self.token_apps: dict[str, str] = {}  # access token -> the appid it was issued to
        self._msgids = itertools.count(3_120_546_785_183_465_473)
        # Codes issued by the test, by kind: {code: {"appid", "issued", "used", ...}}
        self._codes: dict[str, dict[str, dict]] = {"login": {}, "phone": {}, "oauth": {}}
        self.logins: list[tuple[str, str]] = []  # (openid, appid) per successful code2Session
        self.session_keys: dict[str, str] = {}  # openid -> the last session_key issued
        self.phone_lookups: list[tuple[str, str]] = []  # (purePhoneNumber, appid) given out
        self.oauth_logins: list[tuple[str, str]] = []  # (openid, appid) per OAuth code exchange
        self.oauth_tokens: dict[str, dict] = {}  # OAuth access_token -> {openid, appid, scope}
        self._browser: dict | None = None  # the WeChat user in the browser, for authorize

    def start(self, port: int = 0):
        super().start(port)
        # The handler writes the headers and the body in two sends: with Nagle's algorithm on,
        # the body waits for the client's delayed ACK (~40 ms per answer on a kept-alive
        # connection). Real servers do not stall like that, so send at once.
        self._server.RequestHandlerClass.disable_nagle_algorithm = True
        return self

    # ---- apps --------------------------------------------------------------------------
    @property
    def apps(self) -> dict[str, str]:
        """Every app of this server: {appid: secret}, the first one first."""
        return {self.appid: self.secret, **self.other_apps}

    def _app(self, appid: str | None) -> str:
        appid = self.appid if appid is None else appid
        if appid not in self.apps:
            raise ValueError(f"unknown appid {appid!r}: add it with apps={{...}}")
        return appid

    # ---- what the test scripts -----------------------------------------------------------
    def expire_tokens(self):
        """Invalidate every token issued so far (as if they expired or were replaced)."""
        with self._lock:
            self._tokens.clear()
            self.token_apps.clear()

    def login_code(self, openid: str, unionid: str | None = None, appid: str | None = None) -> str:
        """A wx.login code of the user `openid` for mini program `appid` (default: the first)."""
        return self._issue("login", appid, openid=openid, unionid=unionid)

    def phone_code(self, phone: str, appid: str | None = None, country_code: str = "86") -> str:
        """A getPhoneNumber code for `phone` (without country code) for mini program `appid`."""
        return self._issue("phone", appid, phone=phone, country_code=str(country_code))

    def oauth_code(self, openid: str, appid: str | None = None, unionid: str | None = None,
                   scope: str = "snsapi_base") -> str:
        """A web OAuth code (as the authorize redirect carries) of `openid` for `appid`."""
        if scope not in OAUTH_SCOPES:
            raise ValueError(f"scope must be one of {OAUTH_SCOPES}")
        return self._issue("oauth", appid, openid=openid, unionid=unionid, scope=scope)

    def browser_user(self, openid: str | None, unionid: str | None = None):
        """Who is in the browser that follows /connect/oauth2/authorize (None: not in WeChat)."""
        with self._lock:
            self._browser = None if openid is None else {"openid": openid, "unionid": unionid}

    def reset(self):
        """Forget everything issued and recorded (tokens, codes, logins, requests, the plan and
        the browser user), keeping the apps, users and templates: a server shared by tests."""
        with self._lock:
            self._tokens.clear()
            self.token_apps.clear()
            for codes in self._codes.values():
                codes.clear()
            for recorded in (self.accepted, self.requests, self.logins, self.phone_lookups,
                             self.oauth_logins):
                recorded.clear()
            self.session_keys.clear()
            self.oauth_tokens.clear()
            self._plan.clear()
            self._browser = None
            self.token_requests = 0

    def expire_codes(self):
        """Age every code issued so far past its 5 minutes."""
        with self._lock:
            for codes in self._codes.values():
                for entry in codes.values():
                    entry["issued"] = float("-inf")

    def _issue(self, kind: str, appid: str | None, **fields) -> str:
        appid = self._app(appid)
        code = secrets.token_hex(16) if kind == "login" else secrets.token_hex(32)
        with self._lock:
            self._codes[kind][code] = {"appid": appid, "issued": self.clock(), "used": False,
                                       **fields}
        return code

    def _take(self, kind: str, code: str, appid: str):
        """Use up a code for `appid`: (entry, None) or (None, the error answer)."""
        with self._lock:
            entry = self._codes[kind].get(code)
            if entry is None or entry["appid"] != appid:
                return None, _error(40029, "invalid code")
            if entry["used"]:
                if kind == "phone":  # documented: 40029 for a used code too
                    return None, _error(40029, "invalid code")
                return None, _error(40163, "code been used")
            if self.clock() - entry["issued"] >= CODE_TTL:
                return None, _error(40029, "invalid code")
            entry["used"] = True
            return dict(entry), None

    # ---- dispatch ----------------------------------------------------------------------
    def handle(self, method, path, headers, body):
        url = urlsplit(path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        route = url.path
        if route == "/cgi-bin/token" and method == "GET":
            return self._token(query)
        if route in SEND_KINDS and method == "POST":
            return self._send(SEND_KINDS[route], query, body)
        if route == "/sns/jscode2session" and method == "GET":
            return self._code2session(query)
        if route == "/wxa/business/getuserphonenumber":
            if method != "POST":
                return _error(43002, "require POST method")
            return self._phone_number(query, body)
        if route == "/connect/oauth2/authorize" and method == "GET":
            return self._authorize(query)
        if route == "/sns/oauth2/access_token" and method == "GET":
            return self._oauth_access_token(query)
        return 404, {}, "not found"

    def _token(self, query):
        with self._lock:
            self.token_requests += 1
        if self.token_delay:
            self.hold(self.token_delay)
        if query.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        appid = query.get("appid")
        if appid not in self.apps:
            return _error(40013, "invalid appid")
        if query.get("secret") != self.apps[appid]:
            return _error(40125, "invalid appsecret")
        token = secrets.token_urlsafe(96)
        with self._lock:
            self._tokens.add(token)
            self.token_apps[token] = appid
        return 200, {}, {"access_token": token, "expires_in": 7200}

    def _token_app(self, query):
        """The appid whose access token the request carries: (appid, None) or (None, error)."""
        token = query.get("access_token")
        if not token:
            return None, _error(41001, "access_token missing")
        with self._lock:
            known = token in self._tokens
            appid = self.token_apps.get(token)
        if not known or appid is None:
            return None, _error(40001,
                                "invalid credential, access_token is invalid or not latest")
        return appid, None

    def _app_credentials(self, query):
        """appid and secret of a code exchange: (appid, None) or (None, the error answer)."""
        appid, secret = query.get("appid"), query.get("secret")
        if not appid:
            return None, _error(41002, "appid missing")
        if appid not in self.apps:
            return None, _error(40013, "invalid appid")
        if not secret:
            return None, _error(41004, "appsecret missing")
        if secret != self.apps[appid]:
            return None, _error(40125, "invalid appsecret")
        if query.get("grant_type") != "authorization_code":
            return None, _error(40002, "invalid grant_type")
        return appid, None

    # ---- sends ---------------------------------------------------------------------------
    def _send(self, kind, query, body):
        behaviour = self.next_behaviour()
        if behaviour == "unavailable":
            return 503, {}, "Service Unavailable"
        if behaviour == "bad_gateway":  # a proxy lost WeChat's answer: it may have sent
            return 502, {}, "Bad Gateway"
        token = query.get("access_token")
        if not token:
            return _error(41001, "access_token missing")
        with self._lock:
            known = token in self._tokens
        if not known:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if behaviour == "throttle":
            return _error(45011, "api minute-quota reach limit  mustslower  retry next minute")
        if behaviour == "daily_quota":
            return _error(45009, "reach max api daily quota limit")
        try:
            message = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error(47001, "data format error")
        if not isinstance(message, dict):
            return _error(47001, "data format error")
        problem = self._check(kind, message)
        if problem:
            return _error(*problem)

        self.record_accepted({"openid": message["touser"], "template": message["template_id"],
                              "data": message["data"], "kind": kind})
        if isinstance(behaviour, tuple) and behaviour[0] == "hold":
            self.hold(behaviour[1])
        return 200, {}, {"errcode": 0, "errmsg": "ok", "msgid": next(self._msgids)}

    def _check(self, kind, message):
        openid, template_id = message.get("touser"), message.get("template_id")
        if openid not in self.openids:
            return 40003, "invalid openid"
        if template_id not in self.templates:
            return 40037, "invalid template_id"
        data = message.get("data")
        if not isinstance(data, dict) or set(data) != self.templates[template_id]:
            return 47003, "argument invalid! data keys do not match the template"
        # Template messages may also give a colour; subscribe messages have only a value.
        allowed = {"value", "color"} if kind == "template" else {"value"}
        for key, item in data.items():
            if (not isinstance(item, dict) or not isinstance(item.get("value"), str)
                    or not set(item) <= allowed):
                return 47003, f"argument invalid! data.{key}.value invalid"
        if kind == "subscribe" and openid in self.refused:
            return 43101, "user refuse to accept the msg"
        return None

    # ---- mini program: login and phone number ----------------------------------------------
    def _code2session(self, query):
        appid, problem = self._app_credentials(query)
        if problem:
            return problem
        code = query.get("js_code")
        if not code:
            return _error(41008, "missing code")
        entry, problem = self._take("login", code, appid)
        if problem:
            return problem
        session_key = base64.b64encode(secrets.token_bytes(16)).decode()
        with self._lock:
            self.session_keys[entry["openid"]] = session_key
            self.logins.append((entry["openid"], appid))
        answer = {"openid": entry["openid"], "session_key": session_key}
        if entry["unionid"]:
            answer["unionid"] = entry["unionid"]
        return 200, {}, answer

    def _phone_number(self, query, body):
        appid, problem = self._token_app(query)
        if problem:
            return problem
        try:
            request = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error(47001, "data format error")
        if not isinstance(request, dict):
            return _error(47001, "data format error")
        code = request.get("code")
        if not isinstance(code, str) or not code:
            return _error(40029, "invalid code")
        entry, problem = self._take("phone", code, appid)
        if problem:
            return problem
        pure, country = entry["phone"], entry["country_code"]
        with self._lock:
            self.phone_lookups.append((pure, appid))
        return 200, {}, {"errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": pure if country == "86" else f"+{country} {pure}",
            "purePhoneNumber": pure, "countryCode": country,
            "watermark": {"timestamp": int(entry["issued"]), "appid": appid}}}

    # ---- official account: web OAuth -------------------------------------------------------
    def _authorize(self, query):
        appid = query.get("appid")
        if not appid:
            return _page("微信网页授权", "appid不能为空，错误码：10012")
        if appid not in self.apps:
            return _page("微信网页授权", "参数错误：appid无效")
        redirect_uri = query.get("redirect_uri")
        if not redirect_uri:
            return _page("微信网页授权", "redirect_uri不能为空，错误码：10011")
        target = urlsplit(redirect_uri)
        if target.scheme not in ("http", "https") or not target.hostname:
            return _page("微信网页授权", "redirect_uri域名与后台配置不一致，错误码：10003")
        if self.oauth_domains is not None and target.hostname not in self.oauth_domains:
            return _page("微信网页授权", "redirect_uri域名与后台配置不一致，错误码：10003")
        if query.get("response_type") != "code":
            return _page("微信网页授权", "参数错误：response_type")
        scope = query.get("scope")
        if not scope:
            return _page("微信网页授权", "scope不能为空，错误码：10010")
        if scope not in OAUTH_SCOPES:
            return _page("微信网页授权", "此公众号并没有这些scope的权限，错误码：10005")
        with self._lock:
            user = self._browser
        if user is None:
            return _page("微信网页授权", OPEN_IN_WECHAT)
        code = self.oauth_code(user["openid"], appid=appid, unionid=user["unionid"],
                               scope=scope)
        params = parse_qsl(target.query, keep_blank_values=True)
        params += [("code", code), ("state", query.get("state", ""))]
        location = urlunsplit(target._replace(query=urlencode(params)))
        return 302, {"Location": location}, ""

    def _oauth_access_token(self, query):
        appid, problem = self._app_credentials(query)
        if problem:
            return problem
        code = query.get("code")
        if not code:
            return _error(41008, "missing code")
        entry, problem = self._take("oauth", code, appid)
        if problem:
            return problem
        access_token, refresh_token = secrets.token_urlsafe(64), secrets.token_urlsafe(64)
        with self._lock:
            self.oauth_logins.append((entry["openid"], appid))
            self.oauth_tokens[access_token] = {"openid": entry["openid"], "appid": appid,
                                               "scope": entry["scope"]}
        answer = {"access_token": access_token, "expires_in": 7200,
                  "refresh_token": refresh_token, "openid": entry["openid"],
                  "scope": entry["scope"]}
        if entry["scope"] == "snsapi_userinfo" and entry["unionid"]:
            answer["unionid"] = entry["unionid"]
        return 200, {}, answer
