"""Stand-in for the WeChat API (api.weixin.qq.com): access token, subscribe and template sends.

From the public documentation:
- GET /cgi-bin/token?grant_type=client_credential&appid=&secret= answers
  {"access_token", "expires_in": 7200}, or 40013 (invalid appid) / 40125 (invalid appsecret).
- POST /cgi-bin/message/subscribe/send (mini program subscribe message) and
  POST /cgi-bin/message/template/send (official account template message), with
  ?access_token= and a JSON body {touser, template_id, data: {key: {"value": ...}}, ...},
  answer {"errcode": 0, "errmsg": "ok", "msgid": ...} or an error code: 40001 (bad token),
  40003 (openid), 40037 (template id), 43101 (the user did not subscribe), 47001 (body is
  not JSON), 47003 (data does not match the template).

Every answer is HTTP 200 with an errcode, as WeChat does; only "unavailable" is a 503
and "bad_gateway" a 502.
"""

import itertools
import json
import secrets
from urllib.parse import parse_qs, urlsplit

from . import StandIn

SEND_KINDS = {"/cgi-bin/message/subscribe/send": "subscribe",
              "/cgi-bin/message/template/send": "template"}


def _error(errcode: int, errmsg: str):
    return 200, {}, {"errcode": errcode, "errmsg": errmsg}


class WeChatStandIn(StandIn):
    def __init__(self, appid: str, secret: str, openids=(), templates=None, refused=()):
        super().__init__()
        self.appid = appid
        self.secret = secret
        self.openids = set(openids)  # users known to the app
        self.refused = set(refused)  # known users who did not accept this message (43101)
        self.templates = {tid: set(keys) for tid, keys in (templates or {}).items()}
        self.token_requests = 0
        self.token_delay = 0.0  # seconds the token answer waits (a slow token endpoint)
        self._tokens: set[str] = set()
        self._msgids = itertools.count(3_120_546_785_183_465_473)

    def expire_tokens(self):
        """Invalidate every token issued so far (as if they expired or were replaced)."""
        with self._lock:
            self._tokens.clear()

    def handle(self, method, path, headers, body):
        url = urlsplit(path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        if url.path == "/cgi-bin/token" and method == "GET":
            return self._token(query)
        if url.path in SEND_KINDS and method == "POST":
            return self._send(SEND_KINDS[url.path], query, body)
        return 404, {}, "not found"

    def _token(self, query):
        with self._lock:
            self.token_requests += 1
        if self.token_delay:
            self.hold(self.token_delay)
        if query.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        if query.get("appid") != self.appid:
            return _error(40013, "invalid appid")
        if query.get("secret") != self.secret:
            return _error(40125, "invalid appsecret")
        token = secrets.token_urlsafe(96)
        with self._lock:
            self._tokens.add(token)
        return 200, {}, {"access_token": token, "expires_in": 7200}

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
