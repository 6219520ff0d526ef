"""Sign-in, roles as data, and who may open which end."""

from sqlalchemy import func, select

from app.extensions import db
from app.platform.security import (
    CUSTOMER,
    CUSTOMER_SERVICE,
    DRIVER,
    ROLE_NAMES,
    SALESMAN,
    PifaSecurityManager,
    sync_roles,
)
from tests.conftest import csrf_token, login


def _permission_snapshot():
    sm_tables = ("ab_role", "ab_permission", "ab_view_menu", "ab_permission_view",
                 "ab_permission_view_role")
    counts = {t: db.session.scalar(select(func.count()).select_from(db.metadata.tables[t]))
              for t in sm_tables}
    return counts


def test_custom_security_manager_is_used(app):
    assert type(app.appbuilder.sm) is PifaSecurityManager


def test_role_sync_twice_changes_nothing(app, ctx):
    before = _permission_snapshot()
    first = sync_roles(app.appbuilder)
    db.session.commit()
    middle = _permission_snapshot()
    second = sync_roles(app.appbuilder)
    db.session.commit()
    assert first == second
    assert before == middle == _permission_snapshot()
    sm = app.appbuilder.sm
    assert all(sm.find_role(name) is not None for name in ROLE_NAMES)


def test_role_sync_prunes_hand_added_permissions(app, ctx):
    sm = app.appbuilder.sm
    role = sm.find_role(SALESMAN)
    extra = sm.add_permission_view_menu("can_list", "RegionView")
    sm.add_permission_role(role, extra)
    db.session.commit()
    assert extra in sm.find_role(SALESMAN).permissions
    sync_roles(app.appbuilder)
    db.session.commit()
    assert extra not in sm.find_role(SALESMAN).permissions


def test_sign_in_with_mobile_and_password(client, make):
    user = make.user(SALESMAN)
    resp = login(client, user.mobile)
    assert resp.status_code == 302 and resp.headers["Location"] == "/me"
    assert client.get("/me").status_code == 200


def test_sign_in_accepts_formatted_mobile(client, make):
    user = make.user(CUSTOMER)
    m = user.mobile
    resp = login(client, f"+86 {m[:3]}-{m[3:7]}-{m[7:]}")
    assert resp.status_code == 302


def test_wrong_password_is_refused_with_a_message(client, make):
    user = make.user(CUSTOMER)
    resp = login(client, user.mobile, "wrong-password1")
    assert resp.status_code == 400
    assert "手机号或密码错误" in resp.get_data(as_text=True)
    assert client.get("/me").status_code == 302


def test_disabled_account_cannot_sign_in_and_its_session_ends(app, client, make):
    user = make.user(CUSTOMER)
    assert login(client, user.mobile).status_code == 302
    assert client.get("/me").status_code == 200
    with app.app_context():
        account = app.appbuilder.sm.get_user_by_id(user.id)
        account.active = False
        db.session.commit()
    assert client.get("/me").status_code == 302  # the open session no longer counts
    assert login(client, user.mobile).status_code == 400


def test_login_without_csrf_token_is_refused(client, make):
    user = make.user(CUSTOMER)
    resp = client.post("/auth/login", data={"mobile": user.mobile, "password": "secret123"})
    assert resp.status_code == 400
    assert client.get("/me").status_code == 302


def test_next_is_followed_only_within_the_site(client, make):
    user = make.user(SALESMAN)
    token = csrf_token(client)
    resp = client.post("/auth/login?next=/sales/", data={
        "mobile": user.mobile, "password": "secret123", "csrf_token": token})
    assert resp.headers["Location"] == "/sales/"
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me")})
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        token = csrf_token(client)
        resp = client.post("/auth/login", query_string={"next": evil}, data={
            "mobile": user.mobile, "password": "secret123", "csrf_token": token})
        assert resp.headers["Location"] == "/me", evil
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me")})


def test_fab_login_page_sends_people_to_the_one_sign_in_page(client):
    resp = client.get("/login/?next=/admin/")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/auth/login?next=/admin/")
    resp = client.get("/admin/")
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]


def test_sign_out_needs_post_with_token(client, make):
    user = make.user(CUSTOMER)
    login(client, user.mobile)
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/me").status_code == 200
    resp = client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me")})
    assert resp.status_code == 302
    assert client.get("/me").status_code == 302


def _entries(client):
    html = client.get("/me").get_data(as_text=True)
    return {key for key in ("sales", "driver", "admin") if f'data-entry="{key}"' in html}


def test_me_shows_the_entries_each_role_allows(app, make):
    cases = [
        ((CUSTOMER,), set()),
        ((SALESMAN,), {"sales"}),
        ((DRIVER,), {"driver"}),
        ((SALESMAN, DRIVER), {"sales", "driver"}),
        ((CUSTOMER_SERVICE,), {"admin"}),
        (("Admin",), {"admin"}),
    ]
    for roles, expected in cases:
        client = app.test_client()
        login(client, make.user(*roles).mobile)
        assert _entries(client) == expected, roles


def test_business_end_is_for_salesmen_only(app, make):
    anon = app.test_client()
    resp = anon.get("/sales/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login")
    for roles, status in (((SALESMAN,), 200), ((DRIVER,), 403), ((CUSTOMER,), 403),
                          ((CUSTOMER_SERVICE,), 403)):
        client = app.test_client()
        login(client, make.user(*roles).mobile)
        resp = client.get("/sales/")
        assert resp.status_code == status, roles
        if status == 200:
            assert "业务端" in resp.get_data(as_text=True)


def test_driver_end_is_for_drivers_only(app, make):
    region = make.region()
    driver = make.staff("driver", [region], plate="琼A·88888")
    for mobile, status in ((driver.mobile, 200), (make.user(SALESMAN).mobile, 403),
                           (make.user(CUSTOMER).mobile, 403)):
        client = app.test_client()
        login(client, mobile)
        resp = client.get("/driver/")
        assert resp.status_code == status
        if status == 200:
            html = resp.get_data(as_text=True)
            assert "司机端" in html and "琼A·88888" in html
