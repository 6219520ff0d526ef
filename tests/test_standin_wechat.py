"""The WeChat stand-in itself, driven by wechatpy (a third-party client) and plain requests.

If wechatpy's clients work against it, the stand-in speaks WeChat's protocol; the failures
checked here are the ones WeChat documents (see tests/standins/wechat.py).
"""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from wechatpy import WeChatClient, WeChatOAuth
from wechatpy.exceptions import WeChatClientException, WeChatOAuthException

from tests.standins.wechat import CODE_TTL, OPEN_IN_WECHAT, WeChatStandIn

MINI, MINI_SECRET = "wxmini000000000001", "mini-secret-0123456789abcdef012345"
OFFICIAL, OFFICIAL_SECRET = "wxoffi000000000002", "official-secret-0123456789abcdef01"
OTHER, OTHER_SECRET = "wxother00000000003", "other-secret-0123456789abcdef01234"
OPENID, UNIONID = "oMini-user-0001", "uUnion-user-0001"
CALLBACK = "https://shop.example.com/wechat/callback"


class Clock:
    def __init__(self):
        self.now = 1_763_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(scope="module")
def server():
    # One server for the module (stopping one takes up to its 50 ms poll), reset per test.
    with WeChatStandIn(MINI, MINI_SECRET,
                       apps={OFFICIAL: OFFICIAL_SECRET, OTHER: OTHER_SECRET}) as shared:
        yield shared


@pytest.fixture
def standin(server, clock):
    server.reset()
    server.clock = clock
    return server


def wechat_client(standin, appid=MINI, secret=MINI_SECRET, **kwargs) -> WeChatClient:
    """A wechatpy client whose every URL, the token's too, points at the stand-in."""
    wx = WeChatClient(appid, secret, **kwargs)
    wx.API_BASE_URL = standin.url + "/cgi-bin/"
    wx.wxa.API_BASE_URL = standin.url + "/"
    wx.fetch_access_token = lambda: wx._fetch_access_token(
        url=standin.url + "/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": wx.appid, "secret": wx.secret})
    return wx


def login(standin, code, appid=MINI, secret=MINI_SECRET):
    # code2Session needs no access token; wechatpy sends one anyway, so give it a dummy.
    return wechat_client(standin, appid, secret, access_token="unused").wxa.code_to_session(code)


def phone(wx, code):
    return wx.wxa._post("wxa/business/getuserphonenumber", data={"code": code})


def oauth(standin, appid=OFFICIAL, secret=OFFICIAL_SECRET, **kwargs) -> WeChatOAuth:
    auth = WeChatOAuth(appid, secret, kwargs.pop("redirect_uri", CALLBACK), **kwargs)
    auth.API_BASE_URL = standin.url + "/"
    auth.OAUTH_BASE_URL = standin.url + "/connect/"
    return auth


def errcode(raises) -> int:
    return raises.value.errcode


# ---- apps and tokens -------------------------------------------------------------------------
def test_the_original_constructor_still_serves_one_app():
    with WeChatStandIn("wxsolo", "solo-secret", openids={"o1"}, templates={"T": {"k"}},
                       refused=()) as solo:
        assert solo.apps == {"wxsolo": "solo-secret"}
        wx = wechat_client(solo, "wxsolo", "solo-secret")
        assert wx.access_token in solo.token_apps
        with pytest.raises(WeChatClientException) as raised:
            wechat_client(solo, OFFICIAL, OFFICIAL_SECRET).fetch_access_token()
        assert errcode(raised) == 40013


def test_every_app_gets_its_own_token(standin):
    tokens = {appid: wechat_client(standin, appid, secret).access_token
              for appid, secret in standin.apps.items()}
    assert set(tokens) == {MINI, OFFICIAL, OTHER}
    assert {standin.token_apps[token]: appid for appid, token in tokens.items()} == {
        MINI: MINI, OFFICIAL: OFFICIAL, OTHER: OTHER}
    with pytest.raises(WeChatClientException) as raised:
        wechat_client(standin, OFFICIAL, MINI_SECRET).fetch_access_token()  # another app's secret
    assert errcode(raised) == 40125
    standin.expire_tokens()
    assert standin.token_apps == {}


def test_an_app_given_twice_with_two_secrets_is_refused():
    with pytest.raises(ValueError):
        WeChatStandIn(MINI, MINI_SECRET, apps={MINI: "another secret"})


# ---- mini program login (code2Session) -------------------------------------------------------
def test_login_gives_the_openid_and_a_session_key(standin):
    answer = login(standin, standin.login_code(OPENID, unionid=UNIONID))
    assert set(answer) == {"openid", "session_key", "unionid"}
    assert (answer["openid"], answer["unionid"]) == (OPENID, UNIONID)
    assert len(base64.b64decode(answer["session_key"], validate=True)) == 16
    assert standin.session_keys == {OPENID: answer["session_key"]}
    assert standin.logins == [(OPENID, MINI)]
    [request] = [r for r in standin.requests if r["path"].startswith("/sns/jscode2session")]
    assert parse_qs(urlsplit(request["path"]).query)["grant_type"] == ["authorization_code"]


def test_login_without_unionid_has_none(standin):
    answer = login(standin, standin.login_code("oNoUnion"))
    assert set(answer) == {"openid", "session_key"}


def test_a_login_code_works_once(standin):
    code = standin.login_code(OPENID)
    login(standin, code)
    with pytest.raises(WeChatClientException) as raised:
        login(standin, code)
    assert errcode(raised) == 40163
    assert standin.logins == [(OPENID, MINI)]


def test_an_unknown_login_code_is_invalid(standin):
    with pytest.raises(WeChatClientException) as raised:
        login(standin, "061AbCdE0aBcDe1F2g3H4i5J6k7L8m9n")
    assert errcode(raised) == 40029


def test_a_code_of_another_app_is_invalid_and_stays_usable(standin):
    code = standin.login_code(OPENID, appid=OTHER)
    with pytest.raises(WeChatClientException) as raised:
        login(standin, code)  # our mini program
    assert errcode(raised) == 40029
    assert login(standin, code, OTHER, OTHER_SECRET)["openid"] == OPENID
    assert standin.logins == [(OPENID, OTHER)]


@pytest.mark.parametrize(("appid", "secret", "code"), [
    ("wx-not-ours", MINI_SECRET, 40013),
    (MINI, "wrong-secret", 40125),
    (MINI, OFFICIAL_SECRET, 40125),  # a secret, but another app's
])
def test_login_with_wrong_credentials_fails_and_keeps_the_code(standin, appid, secret, code):
    js_code = standin.login_code(OPENID)
    with pytest.raises(WeChatClientException) as raised:
        login(standin, js_code, appid, secret)
    assert errcode(raised) == code
    assert login(standin, js_code)["openid"] == OPENID


def test_login_checks_grant_type_and_missing_fields(standin):
    url = standin.url + "/sns/jscode2session"
    base = {"appid": MINI, "secret": MINI_SECRET, "js_code": standin.login_code(OPENID),
            "grant_type": "authorization_code"}
    for change, code in [({"grant_type": "client_credential"}, 40002), ({"appid": ""}, 41002),
                         ({"secret": ""}, 41004), ({"js_code": ""}, 41008)]:
        answer = requests.get(url, params={**base, **change}, timeout=5)
        assert answer.status_code == 200
        assert answer.json()["errcode"] == code, change
    assert requests.get(url, params=base, timeout=5).json()["openid"] == OPENID


def test_a_login_code_expires_after_five_minutes(standin, clock):
    fresh, old = standin.login_code(OPENID), standin.login_code(OPENID)
    clock.now += CODE_TTL - 1
    assert login(standin, fresh)["openid"] == OPENID
    clock.now += 1
    with pytest.raises(WeChatClientException) as raised:
        login(standin, old)
    assert errcode(raised) == 40029


def test_expire_codes_ages_every_code(standin):
    codes = [standin.login_code(OPENID), standin.phone_code("13800138000"),
             standin.oauth_code(OPENID, appid=OFFICIAL)]
    standin.expire_codes()
    with pytest.raises(WeChatClientException) as raised:
        login(standin, codes[0])
    assert errcode(raised) == 40029
    with pytest.raises(WeChatClientException) as raised:
        phone(wechat_client(standin), codes[1])
    assert errcode(raised) == 40029
    with pytest.raises(WeChatOAuthException) as raised:
        oauth(standin).fetch_access_token(codes[2])
    assert errcode(raised) == 40029
    assert login(standin, standin.login_code(OPENID))["openid"] == OPENID  # new ones work


# ---- phone number ----------------------------------------------------------------------------
def test_phone_number_for_a_code(standin, clock):
    wx = wechat_client(standin)
    answer = phone(wx, standin.phone_code("13800138000"))
    assert answer == {"errcode": 0, "errmsg": "ok", "phone_info": {
        "phoneNumber": "13800138000", "purePhoneNumber": "13800138000", "countryCode": "86",
        "watermark": {"timestamp": int(clock.now), "appid": MINI}}}
    foreign = phone(wx, standin.phone_code("61234567", country_code="852"))["phone_info"]
    assert (foreign["phoneNumber"], foreign["purePhoneNumber"], foreign["countryCode"]) == (
        "+852 61234567", "61234567", "852")
    assert standin.phone_lookups == [("13800138000", MINI), ("61234567", MINI)]


def test_a_phone_code_works_once_and_unknown_ones_not_at_all(standin):
    wx = wechat_client(standin)
    code = standin.phone_code("13800138000")
    phone(wx, code)
    for again in (code, "e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144"):
        with pytest.raises(WeChatClientException) as raised:
            phone(wx, again)
        assert errcode(raised) == 40029  # documented: unknown, expired or used


def test_a_phone_code_needs_a_token_of_its_own_app(standin):
    code = standin.phone_code("13800138000", appid=MINI)
    with pytest.raises(WeChatClientException) as raised:
        phone(wechat_client(standin, OTHER, OTHER_SECRET), code)
    assert errcode(raised) == 40029
    assert phone(wechat_client(standin), code)["phone_info"]["watermark"]["appid"] == MINI


def test_a_phone_code_expires(standin, clock):
    wx = wechat_client(standin)
    code = standin.phone_code("13800138000")
    clock.now += CODE_TTL
    with pytest.raises(WeChatClientException) as raised:
        phone(wx, code)
    assert errcode(raised) == 40029


def test_phone_number_needs_a_valid_token(standin):
    url = standin.url + "/wxa/business/getuserphonenumber"
    code = standin.phone_code("13800138000")
    cases = [({}, 41001), ({"access_token": "forged"}, 40001)]
    for params, expected in cases:
        answer = requests.post(url, params=params, json={"code": code}, timeout=5)
        assert (answer.status_code, answer.json()["errcode"]) == (200, expected)
    token = wechat_client(standin).access_token
    standin.expire_tokens()
    stale = requests.post(url, params={"access_token": token}, json={"code": code}, timeout=5)
    assert stale.json()["errcode"] == 40001
    assert requests.get(url, params={"access_token": token}, timeout=5).json()["errcode"] == 43002
    # wechatpy fetches a new token on 40001 and tries again: the code was not used up.
    wx = wechat_client(standin)
    wx.session.set(wx.access_token_key, token)
    assert phone(wx, code)["phone_info"]["purePhoneNumber"] == "13800138000"


def test_phone_number_body_must_be_json(standin):
    token = wechat_client(standin).access_token
    answer = requests.post(standin.url + "/wxa/business/getuserphonenumber",
                           params={"access_token": token}, data=b"code=abc", timeout=5)
    assert answer.json()["errcode"] == 47001


# ---- official account web OAuth --------------------------------------------------------------
def authorize(standin, url):
    # requests drops the "#wechat_redirect" fragment, as every browser does.
    return requests.get(url, allow_redirects=False, timeout=5)


def test_authorize_redirects_with_a_code_and_the_state(standin):
    standin.browser_user(OPENID, unionid=UNIONID)
    auth = oauth(standin, state="s7Xq2")
    assert auth.authorize_url.endswith("#wechat_redirect")
    answer = authorize(standin, auth.authorize_url)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert location._replace(query="").geturl() == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["s7Xq2"]
    [code] = query["code"]
    token = auth.fetch_access_token(code)
    assert token["openid"] == OPENID and token["scope"] == "snsapi_base"
    assert token["expires_in"] == 7200 and token["access_token"] and token["refresh_token"]
    assert "unionid" not in token  # documented: only for snsapi_userinfo
    assert "is_snapshotuser" not in token and "errcode" not in token
    assert standin.oauth_logins == [(OPENID, OFFICIAL)]


def test_authorize_keeps_the_query_of_redirect_uri(standin):
    standin.browser_user(OPENID)
    answer = authorize(standin, oauth(standin, redirect_uri=CALLBACK + "?next=%2Fme&x=1",
                                      state="abc").authorize_url)
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["next"] == ["/me"] and query["x"] == ["1"] and query["state"] == ["abc"]
    assert len(query["code"]) == 1


def test_userinfo_scope_gives_the_unionid(standin):
    standin.browser_user(OPENID, unionid=UNIONID)
    auth = oauth(standin, scope="snsapi_userinfo")
    code = parse_qs(urlsplit(authorize(standin, auth.authorize_url).headers["Location"]).query)
    token = auth.fetch_access_token(code["code"][0])
    assert (token["scope"], token["unionid"]) == ("snsapi_userinfo", UNIONID)


def test_outside_wechat_authorize_asks_for_the_wechat_client(standin):
    answer = authorize(standin, oauth(standin).authorize_url)
    assert answer.status_code == 200 and "Location" not in answer.headers
    assert answer.headers["Content-Type"].startswith("text/html")
    assert OPEN_IN_WECHAT in answer.text


@pytest.mark.parametrize(("change", "shown"), [
    ({"appid": "wx-not-ours"}, "appid"),
    ({"appid": ""}, "10012"),
    ({"redirect_uri": ""}, "10011"),
    ({"scope": ""}, "10010"),
    ({"scope": "snsapi_login"}, "10005"),
])
def test_authorize_with_bad_parameters_shows_an_error_page(standin, change, shown):
    standin.browser_user(OPENID)
    params = {"appid": OFFICIAL, "redirect_uri": CALLBACK, "response_type": "code",
              "scope": "snsapi_base", "state": "s"}
    answer = requests.get(standin.url + "/connect/oauth2/authorize",
                          params={**params, **change}, allow_redirects=False, timeout=5)
    assert answer.status_code == 200 and "Location" not in answer.headers
    assert shown in answer.text


def test_authorize_checks_the_configured_domain(clock):
    with WeChatStandIn(OFFICIAL, OFFICIAL_SECRET, oauth_domains={"shop.example.com"},
                       clock=clock) as server:
        server.browser_user(OPENID)
        assert authorize(server, oauth(server).authorize_url).status_code == 302
        elsewhere = oauth(server, redirect_uri="https://evil.example.net/cb").authorize_url
        answer = authorize(server, elsewhere)
        assert answer.status_code == 200 and "10003" in answer.text


def test_an_oauth_code_works_once(standin):
    auth = oauth(standin)
    code = standin.oauth_code(OPENID, appid=OFFICIAL)
    auth.fetch_access_token(code)
    with pytest.raises(WeChatOAuthException) as raised:
        auth.fetch_access_token(code)
    assert errcode(raised) == 40163


@pytest.mark.parametrize(("appid", "secret", "code"), [
    (OFFICIAL, "wrong-secret", 40125),
    ("wx-not-ours", OFFICIAL_SECRET, 40013),
    (MINI, MINI_SECRET, 40029),  # the code is the official account's
])
def test_oauth_code_exchange_refusals_keep_the_code(standin, appid, secret, code):
    oauth_code = standin.oauth_code(OPENID, appid=OFFICIAL)
    with pytest.raises(WeChatOAuthException) as raised:
        oauth(standin, appid, secret).fetch_access_token(oauth_code)
    assert errcode(raised) == code
    assert oauth(standin).fetch_access_token(oauth_code)["openid"] == OPENID


def test_oauth_rejects_unknown_expired_and_other_kinds_of_code(standin, clock):
    auth = oauth(standin)
    old = standin.oauth_code(OPENID, appid=OFFICIAL)
    clock.now += CODE_TTL
    for code in (old, "071xYz0w3aBcDe2F", standin.login_code(OPENID, appid=OFFICIAL)):
        with pytest.raises(WeChatOAuthException) as raised:
            auth.fetch_access_token(code)
        assert errcode(raised) == 40029
    answer = requests.get(standin.url + "/sns/oauth2/access_token", timeout=5, params={
        "appid": OFFICIAL, "secret": OFFICIAL_SECRET, "grant_type": "refresh_token",
        "code": standin.oauth_code(OPENID, appid=OFFICIAL)})
    assert answer.json()["errcode"] == 40002


def test_every_request_is_recorded(standin):
    standin.browser_user(OPENID)
    authorize(standin, oauth(standin).authorize_url)
    login(standin, standin.login_code(OPENID))
    paths = [urlsplit(r["path"]).path for r in standin.requests]
    assert paths == ["/connect/oauth2/authorize", "/sns/jscode2session"]


def test_reset_forgets_what_was_issued(standin):
    code, token = standin.login_code(OPENID), wechat_client(standin).access_token
    standin.browser_user(OPENID)
    standin.reset()
    assert standin.requests == [] and standin.token_apps == {} and standin.token_requests == 0
    with pytest.raises(WeChatClientException) as raised:
        login(standin, code)
    assert errcode(raised) == 40029
    stale = requests.post(standin.url + "/wxa/business/getuserphonenumber", timeout=5,
                          params={"access_token": token}, json={"code": "x"})
    assert stale.json()["errcode"] == 40001
    assert OPEN_IN_WECHAT in authorize(standin, oauth(standin).authorize_url).text
