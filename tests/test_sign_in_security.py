"""Sign-in doors, sessions the server can end, rate limits, and safe redirects."""

import pytest

from app import ConfigError, create_app
from app.extensions import db
from app.platform import ids, sessions
from tests.conftest import PASSWORD, app_config, csrf_token, login

# Every /api/ route this app serves on purpose: our API v1 (app/views/api/), never one of
# Flask-AppBuilder's (closed).
API_ALLOW_LIST: set[str] = {
    "/api/v1/openapi.json", "/api/v1/auth/token", "/api/v1/auth/refresh",
    "/api/v1/auth/logout", "/api/v1/auth/me", "/api/v1/categories", "/api/v1/products",
    "/api/v1/products/<int:product_id>", "/api/v1/cart", "/api/v1/cart/lines/<int:line_id>",
    "/api/v1/checkout", "/api/v1/orders", "/api/v1/orders/<order_no>",
    "/api/v1/orders/<order_no>/actions", "/api/v1/sales/orders",
    "/api/v1/orders/<order_no>/vouchers", "/api/v1/orders/<order_no>/wechat-pay",
    "/api/v1/orders/<order_no>/wechat-pay/check", "/api/v1/me/account", "/api/v1/me/statements",
    "/api/v1/me/statements/<int:statement_id>", "/api/v1/me/statements/<int:statement_id>/pdf",
    "/api/v1/me/statements/<int:statement_id>/xlsx", "/api/v1/driver/cash",
    "/api/v1/sales/orders/<order_no>", "/api/v1/sales/orders/<order_no>/actions",
    "/api/v1/driver/orders", "/api/v1/driver/orders/<order_no>",
    "/api/v1/driver/orders/<order_no>/start", "/api/v1/driver/orders/<order_no>/complete",
    "/api/v1/driver/orders/<order_no>/photos",
    "/api/v1/driver/orders/<order_no>/photos/<int:photo_id>",
    "/api/v1/auth/wechat", "/api/v1/auth/wechat/bind", "/api/v1/auth/sms-code",
    "/api/v1/auth/sms-token", "/api/v1/me/wechat", "/api/v1/me/wechat/<int:identity_id>",
    "/api/v1/me/subscriptions", "/api/v1/home", "/api/v1/brands",
    "/api/v1/brands/<int:brand_id>", "/api/v1/me/profile", "/api/v1/orders/<order_no>/refund",
    "/api/v1/frequent", "/api/v1/me/messages", "/api/v1/driver/loading",
    "/api/v1/sales/customers", "/api/v1/sales/customers/<int:member_id>/order",
    "/api/v1/sales/customers/<int:member_id>/order/cart",
    "/api/v1/sales/customers/<int:member_id>/order/submit", "/api/v1/sales/performance",
    "/api/v1/sales/qr", "/api/v1/sales/qr.png", "/api/v1/sales/qr.svg",
}


def test_only_allowed_api_routes_exist(app):
    served = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")}
    assert served == API_ALLOW_LIST


def test_fab_token_login_is_closed(app, client, make):
    user = make.user("Admin")
    for path in ("/api/v1/security/login", "/api/v1/security/refresh"):
        resp = client.post(path, json={"username": user.mobile, "password": PASSWORD,
                                       "provider": "db", "refresh": True})
        assert resp.status_code == 404, path
        assert "access_token" not in resp.get_data(as_text=True)
    assert client.get("/api/v1/menu/").status_code == 404


def _session_cookie(client):
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _replay(app, value):
    other = app.test_client()
    other.set_cookie("session", value)
    return other.get("/me")


def test_signing_out_ends_a_copied_cookie(app, client, make):
    member = make.member()
    assert login(client, member.mobile).status_code == 302
    copied = _session_cookie(client)
    assert _replay(app, copied).status_code == 200
    resp = client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me")})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/auth/login")
    replayed = _replay(app, copied)
    assert replayed.status_code == 302 and "/auth/login" in replayed.headers["Location"]


def test_signing_out_ends_the_sessions_on_other_devices(app, make):
    member = make.member()
    phone, tablet = app.test_client(), app.test_client()
    login(phone, member.mobile)
    login(tablet, member.mobile)
    phone.post("/auth/logout", data={"csrf_token": csrf_token(phone, "/me")})
    assert tablet.get("/me").status_code == 302


def test_a_password_reset_ends_every_session(app, client, make):
    from app.platform import accounts

    member = make.member()
    login(client, member.mobile)
    assert client.get("/me").status_code == 200
    with app.app_context():
        user = accounts.find_account(member.mobile)
        accounts.set_password(user, "newpass123")
        db.session.commit()
    assert client.get("/me").status_code == 302
    assert login(app.test_client(), member.mobile, "newpass123").status_code == 302


def test_own_password_change_keeps_this_session_and_ends_the_others(app, make):
    admin = make.user("Admin")
    here, elsewhere = app.test_client(), app.test_client()
    login(here, admin.mobile)
    login(elsewhere, admin.mobile)
    form = "/resetmypassword/form"
    resp = here.post(form, data={"password": "changed123", "conf_password": "changed123",
                                 "csrf_token": csrf_token(here, form)})
    assert resp.status_code == 302
    assert here.get("/me").status_code == 200
    assert elsewhere.get("/me").status_code == 302


def test_disabling_ends_sessions_and_enabling_does_not_bring_them_back(app, client, make):
    from app.platform import accounts

    member = make.member()
    login(client, member.mobile)
    with app.app_context():
        user = accounts.find_account(member.mobile)
        accounts.set_active(user, False)
        accounts.set_active(user, True)
    assert client.get("/me").status_code == 302


def test_sign_out_only_by_post(app, client, make):
    member = make.member()
    login(client, member.mobile)
    resp = client.get("/logout/")  # Flask-AppBuilder's route, e.g. from an <img src>
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/auth/logout")
    page = client.get("/auth/logout")
    assert page.status_code == 200 and "data-logout" in page.get_data(as_text=True)
    assert client.get("/me").status_code == 200  # still signed in after both GETs
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me")})
    assert client.get("/me").status_code == 302


def test_sign_out_without_a_token_is_refused(app, client, make):
    member = make.member()
    login(client, member.mobile)
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/me").status_code == 200


# ---- rate limits --------------------------------------------------------------------------

def _wrong(client, mobile):
    return login(client, mobile, "wrong-password-1").status_code


def test_failures_for_one_account_lock_only_that_account(app, make):
    office = app.test_client()  # one IP: a shop's Wi-Fi
    victim, colleague = make.member(), make.member()
    statuses = [_wrong(office, victim.mobile) for _ in range(11)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
    # The same IP, another account, the right password: in.
    assert login(app.test_client(), colleague.mobile).status_code == 302


def test_many_failures_from_one_ip_across_accounts_do_not_lock_the_office(app, make):
    accounts_ = [make.member() for _ in range(4)]
    office = app.test_client()
    for account in accounts_:
        for _ in range(8):  # under each account's limit, 32 failures from the IP in all
            assert _wrong(office, account.mobile) == 400
    staff = make.user("CustomerService")
    assert login(app.test_client(), staff.mobile).status_code == 302


def test_lock_out_page_says_how_long_and_offers_a_reset(app, make):
    member = make.member()
    client = app.test_client()
    for _ in range(10):
        _wrong(client, member.mobile)
    resp = login(client, member.mobile)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 429
    assert "分钟后再试" in html and 'href="/auth/reset"' in html and "忘记密码" in html
    client.get("/auth/lang/en")
    html = login(client, member.mobile).get_data(as_text=True)
    assert "Please try again in 15 minutes" in html and "Forgot password?" in html


def test_production_refuses_per_process_rate_limits(tmp_path_factory, monkeypatch):
    for name in ("REDIS_URL", "RATELIMIT_STORAGE_URI", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    config = app_config(tmp_path_factory, TESTING=False, PIFA_ENV="production",
                        SECRET_KEY="x" * 40, RATELIMIT_STORAGE_URI="")
    with pytest.raises(ConfigError, match="REDIS_URL"):
        create_app(config)
    config["RATELIMIT_STORAGE_URI"] = "memory://"
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        create_app(config)


def test_production_accepts_shared_limiter_storage(tmp_path_factory, monkeypatch):
    # Only the configuration step: a whole app would point the process's one Limiter
    # at this Redis for the tests that follow.
    from flask import Flask

    from app import _load_config

    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    for url, expected in (("redis://127.0.0.1:1/0", {"REDIS_URL": "redis://127.0.0.1:1/0"}),
                          ("redis://127.0.0.1:1/3", {"RATELIMIT_STORAGE_URI":
                                                     "redis://127.0.0.1:1/3"})):
        bare = Flask("check")
        config = app_config(tmp_path_factory, TESTING=False, PIFA_ENV="production",
                            SECRET_KEY="x" * 40, **{"RATELIMIT_STORAGE_URI": "", **expected})
        _load_config(bare, config)
        assert bare.config["RATELIMIT_STORAGE_URI"] == url


# ---- redirects ----------------------------------------------------------------------------

HOSTILE_TARGETS = [
    "//evil.example", "/\\evil.example", "/\t/evil.example", "/\n/evil.example",
    "/%2F%2Fevil.example", "/%2f%2fevil.example", "/%5Cevil.example", "https://evil.example",
    "javascript:alert(1)", "//user@evil.example", "\\\\evil.example", " //evil.example",
    "/\r\nSet-Cookie:x=1", "evil.example", "%2F%2Fevil.example", "/%09/evil.example",
]


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_safe_target_refuses_other_sites(target):
    assert ids.safe_target(target, "/home") == "/home"


@pytest.mark.parametrize("target", ["/me", "/product/3?x=1#a", "/orders?tab=done",
                                    "/search?q=%E7%9F%BF"])
def test_safe_target_keeps_our_paths(target):
    assert ids.safe_target(target, "/home") == target


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_cart_add_back_never_leaves_the_site(app, client, make, target):
    from tests import catalog_factory

    member = make.member()
    with app.app_context():
        item = catalog_factory.product()
        product_id, spec_id = item.id, item.specs[0].id
    login(client, member.mobile)
    resp = client.post("/cart/add", data={
        "product_id": product_id, f"qty_{spec_id}": "20", "back": target,
        "csrf_token": csrf_token(client, f"/product/{product_id}")})
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"/product/{product_id}"


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_sign_in_and_language_next_never_leave_the_site(app, client, make, target):
    member = make.member()
    token = csrf_token(client)
    resp = client.post("/auth/login?next=" + _quote(target),
                       data={"mobile": member.mobile, "password": PASSWORD,
                             "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/me"
    resp = client.get("/auth/lang/en?next=" + _quote(target))
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def _quote(value):
    from urllib.parse import quote

    return quote(value, safe="")


def test_session_version_is_per_account(app, make):
    one, two = make.user("Customer"), make.user("Customer")
    with app.app_context():
        assert sessions.version_of(one.id) == 0
        sessions.end_sessions(one.id)
        sessions.end_sessions(one.id)
        db.session.commit()
        assert sessions.version_of(one.id) == 2 and sessions.version_of(two.id) == 0
