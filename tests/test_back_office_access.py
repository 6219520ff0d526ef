"""The back office admits Admin and CustomerService; everyone else gets 403 or sign-in."""

import re

import pytest

from app.security import CUSTOMER, CUSTOMER_SERVICE, DRIVER, SALESMAN
from tests.conftest import login

# Public by design: the language switch, FAB's static files, the login redirect.
PUBLIC_PREFIXES = ("/static/", "/appbuilder/", "/lang/", "/login/", "/logout/", "/auth/",
                   "/media/", "/healthz", "/sales/", "/driver/", "/me")


def back_office_urls(app):
    """Every URL of every view registered with FAB (ours under /admin/, FAB's own)."""
    fab_blueprints = {view.blueprint.name for view in app.appbuilder.baseviews
                      if getattr(view, "blueprint", None) is not None}
    urls = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in fab_blueprints:
            continue
        if rule.rule.startswith(PUBLIC_PREFIXES):
            continue
        url = re.sub(r"<(?:int:|string:|path:)?([a-z_]+)>", "1", rule.rule)
        urls.add((url, tuple(sorted(rule.methods - {"HEAD", "OPTIONS"}))))
    return sorted(urls)


def test_enumeration_finds_the_back_office(app):
    urls = {u for u, _ in back_office_urls(app)}
    for expected in ("/admin/", "/admin/regions/list/", "/admin/staff/list/",
                     "/admin/members/list/", "/admin/messages/list/", "/admin/settings/",
                     "/users/list/", "/roles/list/"):
        assert expected in urls, expected


@pytest.mark.parametrize("roles", [(SALESMAN,), (DRIVER,), (CUSTOMER,), ()])
def test_non_staff_get_403_or_sign_in_never_data(app, make, roles):
    client = app.test_client()
    if roles:
        login(client, make.user(*roles).mobile)
    region = make.region(name="秘密区域")
    make.staff("salesman", [region], name="秘密员工")
    for url, methods in back_office_urls(app):
        for method in methods:
            resp = client.open(url, method=method)
            assert resp.status_code in (302, 400, 401, 403, 404, 405), (roles, method, url,
                                                                   resp.status_code)
            body = resp.get_data(as_text=True)
            assert "秘密" not in body, (roles, method, url)
            if resp.status_code == 302:
                # To sign-in, or to the back-office home, which itself refuses them.
                location = resp.headers["Location"]
                assert "/login" in location or location == "/admin/", (url, location)


def test_customer_service_gets_its_screens_but_not_admin_ones(app, make):
    client = app.test_client()
    login(client, make.user(CUSTOMER_SERVICE).mobile)
    for url in ("/admin/", "/admin/members/list/", "/admin/regions/list/",
                "/admin/messages/list/"):
        assert client.get(url).status_code == 200, url
    for url in ("/admin/settings/", "/users/list/", "/roles/list/", "/admin/regions/add"):
        assert client.get(url).status_code == 403, url


def test_admin_opens_every_list_page(app, make):
    client = app.test_client()
    login(client, make.user("Admin").mobile)
    for url in ("/admin/", "/admin/members/list/", "/admin/regions/list/",
                "/admin/staff/list/", "/admin/messages/list/", "/admin/settings/",
                "/users/list/", "/admin/staff/add", "/admin/regions/add"):
        assert client.get(url).status_code == 200, url


def test_the_menu_reads_permissions_once_a_request_and_still_refuses(app, make):
    """The menu checks every entry; the roles' permissions are read once per request
    (app/security.py), and what a role lacks is still refused and left off the menu."""
    from tests.test_storefront import count_queries

    cs = app.test_client()
    login(cs, make.user(CUSTOMER_SERVICE).mobile)
    cs.get("/admin/messages/list/")
    with count_queries(app) as statements:
        page = cs.get("/admin/messages/list/")
    assert page.status_code == 200
    permission_reads = [s for s in statements if "ab_permission_view_role" in s]
    assert len(permission_reads) <= 2, permission_reads  # FAB alone: one per menu entry
    assert len(statements) <= 12, statements
    html = page.get_data(as_text=True)
    assert "/admin/message-templates/" not in html  # Admin's, not customer service's
    assert cs.get("/admin/message-templates/").status_code in (302, 403)
