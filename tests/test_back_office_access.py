"""The back office admits Admin and CustomerService; everyone else gets 403 or sign-in."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.platform.security import CUSTOMER, CUSTOMER_SERVICE, DRIVER, SALESMAN
from tests import catalog_factory as cf
from tests.conftest import csrf_token, login

# Public by design: the language switch, FAB's static files, the login redirect.
PUBLIC_PREFIXES = ("/static/", "/appbuilder/", "/lang/", "/login/", "/logout/", "/auth/",
                   "/media/", "/healthz", "/sales/", "/driver/", "/me")


def _fab_views(app):
    return {view.blueprint.name: view for view in app.appbuilder.baseviews
            if getattr(view, "blueprint", None) is not None}


def _row_id(view):
    """The smallest id of a row of the view's model, so that a URL names a real row."""
    model = getattr(getattr(view, "datamodel", None), "obj", None)
    if model is None or not hasattr(model, "id"):
        return None
    return db.session.scalar(select(model.id).order_by(model.id).limit(1))


def back_office_urls(app, real_ids=False):
    """Every URL of every view registered with FAB (ours under /admin/, FAB's own), with
    (url, methods, view, rule). With real_ids (inside an app context) <pk> is the id of an
    existing row of the view's model and an action name is one the view has."""
    views = _fab_views(app)
    found = {}
    for rule in app.url_map.iter_rules():
        view = views.get(rule.endpoint.split(".")[0])
        if view is None or rule.rule.startswith(PUBLIC_PREFIXES):
            continue
        url = rule.rule
        if real_ids:
            row = _row_id(view)
            if row is not None:
                url = re.sub(r"<(?:int:|string:)?pk>", str(row), url)
            actions = sorted(getattr(view, "actions", None) or {})
            if actions:
                url = re.sub(r"<(?:string:)?name>", actions[0], url)
        url = re.sub(r"<(?:int:|string:|path:)?([a-z_]+)>", "1", url)
        methods = tuple(sorted(rule.methods - {"HEAD", "OPTIONS"}))
        found[(url, methods)] = (view, rule)
    return sorted((url, methods, view, rule) for (url, methods), (view, rule) in found.items())


def _is_action(rule):
    return rule.endpoint.endswith((".action", ".action_post"))


def _refusal(rule, method, url, signed_in, view, row_exists):
    """(status, where to) that refuses this request: FAB's downloads are 404 (we keep no
    FAB files) as is an action of a view that has none, a FAB action refused by permission
    goes back to its page ("."), a GET
    action (a mutation by GET) and /back go to the back-office home, which refuses them
    too; everything else is 403 for a signed-in person and the sign-in page for a visitor."""
    if rule.endpoint.endswith(".download"):
        return 404, None
    if _is_action(rule) and not getattr(view, "actions", None):
        return 404, None  # a view without actions has no action to refuse
    if rule.endpoint.endswith(".action") and not row_exists:
        return 404, None  # nor is there an action on a row that does not exist
    if _is_action(rule):
        return 302, "." if method == "POST" else "/admin/"
    if rule.endpoint == "UtilView.back":
        return 302, "/admin/"
    return (403, None) if signed_in else (302, f"/login/?next=http://localhost{url}")


def _snapshot():
    """Every row of every table, to show that refused requests wrote nothing."""
    return {table.name: sorted(map(repr, db.session.execute(table.select()).all()))
            for table in db.metadata.sorted_tables}


def test_enumeration_finds_the_back_office(app):
    urls = {url for url, _methods, _view, _rule in back_office_urls(app)}
    for expected in ("/admin/", "/admin/regions/list/", "/admin/staff/list/",
                     "/admin/members/list/", "/admin/messages/list/", "/admin/settings/",
                     "/users/list/", "/roles/list/", "/admin/regions/delete/1",
                     "/admin/products/action_post"):
        assert expected in urls, expected


@pytest.mark.parametrize("roles", [(SALESMAN,), (DRIVER,), (CUSTOMER,), ()])
def test_non_staff_get_403_or_sign_in_never_data(app, make, roles):
    """Every GET and every POST of the back office, the POSTs with a valid CSRF token of
    the client's own session, is refused for the role and writes nothing."""
    client = app.test_client()
    if roles:
        login(client, make.user(*roles).mobile)
    region = make.region(name="秘密区域")
    make.staff("salesman", [region], name="秘密员工")
    with app.app_context():
        product_id = cf.product(name="秘密商品", brand="秘密品牌", category="秘密分类").id
    token = csrf_token(client, "/me" if roles else "/auth/login")
    with app.app_context():
        urls = back_office_urls(app, real_ids=True)
        row_ids = {view: _row_id(view) for _url, _methods, view, _rule in urls}
        before = _snapshot()
    assert any("秘密区域" in row for row in before["region"])
    assert any("秘密商品" in row for row in before["product"])
    walked = {url for url, _methods, _view, _rule in urls}
    for url in (f"/admin/regions/delete/{region.id}", f"/admin/products/delete/{product_id}",
                f"/admin/products/action/shelf_off/{product_id}"):
        assert url in walked, url  # the refused writes below aim at rows that exist
    posts = 0
    for url, methods, view, rule in urls:
        for method in methods:
            data = {}
            if method == "POST":
                if rule.endpoint.endswith(".action_post") and view.actions:
                    data = {"action": sorted(view.actions)[0]}
                    if row_ids[view] is not None:
                        data["rowid"] = str(row_ids[view])
                bare = client.post(url, data=data)
                assert bare.status_code == 400, (roles, url, bare.status_code)  # CSRF
                data = {**data, "csrf_token": token}
                posts += 1
            resp = client.open(url, method=method, data=data)
            # Never 400: with a valid token only the role can be the reason for refusing.
            status, where = _refusal(rule, method, url, bool(roles), view,
                                     row_ids[view] is not None)
            assert resp.status_code == status, (roles, method, url, resp.status_code)
            assert resp.headers.get("Location") == where, (roles, method, url, where)
            assert "秘密" not in resp.get_data(as_text=True), (roles, method, url)
    assert posts > 50, posts  # the walk reached the back office's forms and actions
    with app.app_context():
        assert _snapshot() == before  # e.g. the refused deletes left the region and product
    # The token was a good one: the same client signs out with it, and not without it.
    assert client.post("/auth/logout").status_code == 400
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302


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
