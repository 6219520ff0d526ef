"""No request, from anyone, on any route, with any value, answers a 5xx.

The walk takes every route of app.url_map and requests it as every kind of person:
  1. at real objects (the pages of a shop with orders in several states), collecting
     every form the pages show;
  2. with hostile values in each part of the path (huge, negative, float, text, long,
     invalid UTF-8);
  3. with every query/form name the code reads (found by scanning app/) set to each
     hostile value at once, and with duplicated keys, wrong content types and broken
     multipart bodies;
  4. and each collected form is submitted with one field at a time made hostile,
     the others as the page rendered them.
Then Hypothesis mixes names and values at random over the same routes. CSRF checks are
off for the walk (they are tested on their own): a refusal by CSRF would hide the view.
"""

import io
import re
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage, MultiDict

from app.catalog.models import ProductImage
from app.content.models import Article, HomeBlock, Store
from app.extensions import db
from app.messaging.models import Message
from app.ordering import scope
from app.platform import uploads
from tests import catalog_factory as cf
from tests.conftest import TEST_DATABASE_URL, login
from tests.images import image_bytes
from tests.order_factory import World

ROOT = Path(__file__).resolve().parent.parent
BAD_UTF8 = "%ED%B3%BF%FF"  # a lone surrogate and a stray byte, percent-encoded
# Each breaks a different parse: empty, negative, beyond any integer column, a float and
# its exponent form, NaN (Decimal's), text, full-width digits (str.isdigit() says yes),
# long, a redirect trick, a newline (a header).
HOSTILE = ["", "-1", "99999999999999999999", "1e9", "1.5", "NaN", "abc", "１２", "x" * 5000,
           "/\t/evil.example", "a\nb"]
SHORT = ["", "-1", "99999999999999999999", "abc"]
REFUSED = ["99999999999999999999"]
# The values a database judges for itself, where PostgreSQL and SQLite part ways: a
# number beyond any integer column, Decimal's NaN, text longer than a VARCHAR (SQLite
# keeps any length).
DATABASE_BOUND = {"99999999999999999999", "NaN", "x" * 5000}
HOSTILE_PATH = ["0", "-1", "99999999999999999999", "1.5", "abc", "x" * 3000, BAD_UTF8,
                "..%2F..%2Fetc%2Fpasswd"]
LONG = "y" * 100_000
PROFILE: dict = {} if not __import__("os").environ.get("WALK_PROFILE") else {"": 0}
# Routes that end the walker's own session or only say "signed out": requested by
# nobody signed in (a visitor still walks them).
SIGN_OUT = {"/auth/logout", "/logout/"}


def _names_read_by_the_code() -> list[str]:
    """Every request parameter name the app reads or its templates post."""
    pattern = re.compile(r"""(?:\.get|\.getlist|\.get_all)\(\s*["']([A-Za-z_][\w]*)["']""")
    names = set()
    for path in (ROOT / "app").rglob("*.py"):
        names.update(pattern.findall(path.read_text(encoding="utf-8")))
    for path in (ROOT / "app" / "templates").rglob("*.html"):
        names.update(re.findall(r'name="([A-Za-z_][\w]*)"', path.read_text(encoding="utf-8")))
    return sorted(names - {"csrf_token"})


class _Forms(HTMLParser):
    """The forms of a page: (action, method, {name: value}, has_file)."""

    def __init__(self):
        super().__init__()
        self.forms, self._current = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = [attrs.get("action") or "", (attrs.get("method") or "get").lower(),
                             {}, False]
            self.forms.append(self._current)
        elif self._current is not None and tag in ("input", "select", "textarea", "button"):
            name = attrs.get("name")
            if not name or name == "csrf_token":
                return
            if attrs.get("type") == "file":
                self._current[3] = True
                return
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs \
                    and name in self._current[2]:
                return
            self._current[2].setdefault(name, attrs.get("value") or "1")
        elif self._current is not None and tag == "option":
            select_value = attrs.get("value")
            if select_value is not None:
                fields = self._current[2]
                last = next(reversed(fields), None) if fields else None
                if last is not None and fields[last] == "1":
                    fields[last] = select_value

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


@pytest.fixture
def walk(app, make):
    """A shop with one of everything, and a signed-in client per kind of person."""
    with app.app_context():
        world = World(app, make)
        orders = [world.order(state) for state in
                  ("pending", "assigned", "delivering", "delivered", "shipped", "closed")]
        product = cf.product(name="椰汁", item_no="YZ-001", brand="椰树", category="饮料")
        stored = uploads.save_image(FileStorage(io.BytesIO(image_bytes()), filename="p.jpg"),
                                    folder="product")
        db.session.add(ProductImage(product_id=product.id, key=stored.key))
        photo = uploads.save_image(FileStorage(io.BytesIO(image_bytes()), filename="n.jpg"),
                                   private=True,
                                   folder=scope.order_folder(orders[3].id, "delivery"))
        article = Article(title="配送说明", body="<p>次日达</p>", published=True)
        db.session.add_all([article, Store(name="海口店", address="海口市 1 号"),
                            HomeBlock(kind="notice", title="公告", text="欢迎")])
        db.session.commit()
        message = db.session.query(Message).first()
        pending = make.member(region=world.region, status="pending")
        values = {
            "product_id": [product.id], "category_id": [product.category_id],
            "brand_id": [product.brand_id], "article_id": [article.id],
            "member_id": [world.customer.id, pending.id],
            "order_no": [o.order_no for o in orders], "image_id": [product.images[0].id],
            "key": [stored.key, photo.key], "filename": ["pifa.css"], "fmt": ["png", "svg"],
            "locale": ["en", "zh"], "event": ["order_confirmed"], "channel": ["sms"],
            "group_by": ["first_name"], "message_id": [message.id if message else 1],
        }
        _throw_away_security_rows(app)
    people = {"customer": world.customer, "pending_customer": pending,
              "salesman": world.salesman, "driver": world.driver, "cs": world.cs,
              "admin": world.admin}
    clients = {"visitor": app.test_client()}
    for who, ref in people.items():
        clients[who] = app.test_client()
        assert login(clients[who], ref.mobile).status_code == 302, who
    app.config["WTF_CSRF_ENABLED"] = False
    # A Flask-AppBuilder form view keeps the field names of the first form it built:
    # built with CSRF on (an earlier test in this process), they name a csrf_token field
    # that forms built with CSRF off do not have. Left out for the walk, then put back.
    kept = {}
    for view in app.appbuilder.baseviews:
        columns = getattr(view, "form_columns", None)
        if isinstance(columns, list) and "csrf_token" in columns:
            kept[view] = columns
            view.form_columns = [name for name in columns if name != "csrf_token"]
    yield clients, values
    for view, columns in kept.items():
        view.form_columns = columns
    app.config["WTF_CSRF_ENABLED"] = True
    with app.app_context():  # roles and permissions outlive a test: put them back
        from app.platform.security import sync_roles

        sm = app.appbuilder.sm
        for role in [r for r in sm.get_all_roles() if r.name == "WalkRole"]:
            db.session.delete(role)
        db.session.commit()
        for cleanup in (lambda: sm.del_permission_view_menu("can_walk", "WalkView"),
                        lambda: sm.del_permission("can_walk"),
                        lambda: sm.del_view_menu("WalkView")):
            cleanup()  # each returns False when the walk already removed it
        sync_roles(app.appbuilder)
        db.session.commit()


def _throw_away_security_rows(app):
    """A role, group, permission, view and user made last, for FAB's own screens to be
    walked on (edited, deleted) instead of the rows the walkers sign in with."""
    sm = app.appbuilder.sm
    role = sm.add_role("WalkRole")
    pv = sm.add_permission_view_menu("can_walk", "WalkView")
    sm.add_permission_role(role, pv)
    db.session.add(sm.group_model(name="WalkGroup", label="Walk"))
    sm.add_user("walker", "Walk", "Er", "walker@walk.invalid", role, password="x" * 12)
    db.session.commit()


def _fab_views(app):
    return {view.__class__.__name__: view for view in app.appbuilder.baseviews
            if getattr(view, "datamodel", None) is not None}


def _real_pks(app, views, endpoint) -> list[str]:
    """The newest row of the view's model: the walk's own throw-away row where the
    fixture made one (a role, a permission, a user), so that editing or deleting it with
    hostile values never takes the walkers' own rights away."""
    view = views.get(endpoint.split(".")[0])
    if view is None:
        return ["1"]
    model = view.datamodel.obj
    with app.app_context():
        newest = db.session.query(model).order_by(
            *[column.desc() for column in model.__mapper__.primary_key]).first()
        return [str(view.datamodel.get_pk_value(newest))] if newest is not None else ["1"]


def _fill(rule, pick) -> str:
    """The rule's path with each variable replaced by pick(name)."""
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>", lambda m: str(pick(m[1])), rule.rule)


class Walker:
    def __init__(self, app, clients, values):
        self.app, self.clients, self.values = app, clients, values
        self.views = _fab_views(app)
        self.names = _names_read_by_the_code()
        self.forms: dict[tuple, tuple] = {}
        self.failures: dict[str, str] = {}
        self.failure_count = 0
        self.requests = 0

    def send(self, who, method, url, **kw):
        client = self.clients[who]
        self.requests += 1
        started = time.perf_counter()
        try:  # TESTING propagates a view's exception instead of answering 500
            resp = client.open(url, method=method, **kw)
        except Exception as exc:
            self._fail(f"{type(exc).__name__}: {str(exc)[:160]}", who, method, url, kw)
            with self.app.app_context():
                db.session.rollback()
            return _Failed()
        if resp.status_code >= 500:
            self._fail(str(resp.status_code), who, method, url, kw)
        if PROFILE:
            key = (who, self._endpoint(url, method))
            PROFILE[key] = PROFILE.get(key, 0) + time.perf_counter() - started
        return resp

    def _fail(self, what, who, method, url, kw):
        """Failures grouped by what failed where; the first request of each is kept."""
        endpoint = self._endpoint(url, method)
        key = f"{what} @ {method} {endpoint}"
        if key not in self.failures:
            self.failures[key] = (f"{who} {method} {url[:200]} "
                                  f"{str(kw.get('data') or kw.get('query_string'))[:200]}")
        self.failure_count += 1

    def _endpoint(self, url, method):
        adapter = self.app.url_map.bind("localhost")
        try:
            return adapter.match(urlsplit(url).path, method=method)[0]
        except Exception:
            return urlsplit(url).path[:60]

    def report(self) -> str:
        return f"{self.failure_count} failing requests:\n" + "\n".join(
            f"{key}\n    e.g. {example}" for key, example in list(self.failures.items())[:60])

    def rules(self):
        for rule in sorted(self.app.url_map.iter_rules(), key=lambda r: r.rule):
            if rule.endpoint == "static" or rule.rule.startswith("/static/appbuilder"):
                continue
            # The API ignores cookies, so as every role here it would only answer 401:
            # tests/test_api.py walks it with a Bearer token instead.
            if rule.rule.startswith("/api/"):
                continue
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield rule, method

    def real_url(self, rule, choice=0):
        pks = _real_pks(self.app, self.views, rule.endpoint)

        def pick(name):
            if name in ("pk",):
                return pks[0]
            if name in ("action", "name"):
                return "confirm"
            options = self.values.get(name) or ["1"]
            return options[choice % len(options)]

        return _fill(rule, pick)

    def crawl(self, who):
        for rule, method in self.rules():
            if method != "GET" or (rule.rule in SIGN_OUT and who != "visitor"):
                continue
            variants = max(len(self.values.get(v, [1])) for v in rule.arguments) \
                if rule.arguments else 1
            for choice in range(variants):
                url = self.real_url(rule, choice)
                resp = self.send(who, "GET", url)
                if resp.status_code == 200 and resp.mimetype == "text/html":
                    self._collect(who, url, resp.get_data(as_text=True))

    def _collect(self, who, page, html):
        parser = _Forms()
        parser.feed(html)
        for action, method, fields, has_file in parser.forms:
            target = action or page
            if urlsplit(target).netloc or target.startswith(("javascript", "#")):
                continue
            # The same form on another order or product is the same code: walked once.
            key = (who, method, self._endpoint(target, method.upper()), tuple(sorted(fields)))
            self.forms.setdefault(key, (target, fields, has_file))

    def hostile_paths(self, who):
        for rule, method in self.rules():
            if not rule.arguments or (rule.rule in SIGN_OUT and who != "visitor"):
                continue
            refused = self.send(who, method, self.real_url(rule)).status_code in (
                302, 401, 403, 405)
            for value in HOSTILE_PATH[2:3] if refused else HOSTILE_PATH:
                url = _fill(rule, lambda _name, v=value: v if v == BAD_UTF8 else quote(v))
                self.send(who, method, url)

    def hostile_params(self, who, database_bound_only=False):
        for rule, method in self.rules():
            if rule.rule in SIGN_OUT and who != "visitor":
                continue
            url = self.real_url(rule)
            names = self.names + self._fab_names(rule.endpoint)
            # Refused before the view reads anything (sign-in, 403, 404): a few values
            # show the refusal holds whatever is sent; the rest is for those let in.
            refused = self.send(who, method, url).status_code in (302, 401, 403, 404, 405)
            # A back-office page that only shows one row or a form reads no argument of
            # its own (FAB's related-list paging aside): fewer values there.
            fab_page = method == "GET" and rule.endpoint.split(".")[0] in self.views and \
                not rule.endpoint.endswith(".list")
            values = REFUSED if refused else SHORT if fab_page else HOSTILE
            if database_bound_only:
                values = [value for value in values if value in DATABASE_BOUND]
            for value in values:
                params = {name: value for name in names}
                if method == "GET":
                    self.send(who, method, url, query_string=params)
                else:
                    self.send(who, method, url, data=params)
            if refused or database_bound_only:
                continue  # the encodings and body shapes below are no database's concern
            self.send(who, method, url + "?" + "&".join(
                f"{n}={BAD_UTF8}" for n in names[:40]))
            self.send(who, method, url, query_string=MultiDict(
                [(n, v) for n in names[:40] for v in ("1", "abc")]))
            self.send(who, method, url, query_string={n: LONG for n in names[:8]})
            if method == "POST":
                self.send(who, method, url, data=b'{"a": 1}', content_type="application/json")
                self.send(who, method, url, data=b"\xff\xfe=\xff", content_type="text/plain")
                self.send(who, method, url, data=b"--x\r\nContent-Disposition: form-data; "
                          b"name=\"photos\"; filename=\"a.jpg\"\r\n\r\nGIF89a",
                          content_type="multipart/form-data; boundary=x")
                self.send(who, method, url, data=b"garbage", content_type="multipart/form-data")

    def _fab_names(self, endpoint) -> list[str]:
        view = self.views.get(endpoint.split(".")[0])
        if view is None:
            return []
        name = view.__class__.__name__
        names = [f"_oc_{name}", f"_od_{name}", f"page_{name}", f"psize_{name}"]
        for column in view.search_columns or []:
            names += [f"_flt_{i}_{column}" for i in range(3)]
        for column in {*(view.add_columns or []), *(view.edit_columns or [])}:
            names.append(column)
        return names

    def hostile_forms(self):
        for (who, method, _path, _names), (target, fields, has_file) in self.forms.items():
            if urlsplit(target).path in SIGN_OUT:
                continue
            def send(data, w=who, m=method.upper(), t=target):
                if m == "GET":
                    return self.send(w, m, t, query_string=data)
                return self.send(w, m, t, data=data)

            for name in fields:
                for value in ("", "-1", "99999999999999999999", "abc", "1.5"):
                    send({**fields, name: value})
            send({name: LONG for name in fields})
            if has_file:
                self.send(who, "POST", target, data={
                    **fields, "photos": (io.BytesIO(b"not an image"), "x.jpg"),
                    "shop_photo": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 64), "s.png")},
                    content_type="multipart/form-data")


class _Failed:
    status_code, mimetype = 599, ""

    def get_data(self, as_text=False):
        return ""


WHO = ["visitor", "customer", "pending_customer", "salesman", "driver", "cs", "admin"]


def test_no_route_answers_a_server_error(app, walk):
    clients, values = walk
    walker = Walker(app, clients, values)
    # A member waiting for approval reaches the same code as one approved, less of it:
    # crawled (for the forms only they see), not walked again.
    walkers = [who for who in WHO if who != "pending_customer"]
    phases = [("crawl", lambda: [walker.crawl(who) for who in WHO]),
              ("paths", lambda: [walker.hostile_paths(who) for who in walkers]),
              # Every name at once set to each value is the walk's longest phase: on
              # PostgreSQL (pass 2) it sends only the values the database judges itself,
              # as the rest was walked on SQLite in pass 1.
              ("params", lambda: [walker.hostile_params(
                  who, database_bound_only=bool(TEST_DATABASE_URL)) for who in walkers]),
              ("forms", walker.hostile_forms)]
    for name, run in phases:
        started, before = time.perf_counter(), walker.requests
        run()
        print(f"walk {name}: {walker.requests - before} requests in "
              f"{time.perf_counter() - started:.1f} s")
    if PROFILE:
        for key, spent in sorted(PROFILE.items(), key=lambda kv: -kv[1])[:40]:
            print(f"  {spent:6.2f} s  {key}")
        by_role = {}
        for key, spent in PROFILE.items():
            if key:
                by_role[key[0]] = by_role.get(key[0], 0) + spent
        print("  by role:", {k: round(v, 1) for k, v in by_role.items()})
    assert len(walker.forms) > 30, "the crawl found too few forms to be a real walk"
    assert not walker.failures, walker.report()
    assert walker.requests > 5000


_ROUTE_RULES = None


def _rules(app):
    global _ROUTE_RULES
    if _ROUTE_RULES is None:
        _ROUTE_RULES = [r for r, _m in Walker(app, {}, {}).rules()]
    return _ROUTE_RULES


@settings(max_examples=400, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(data=st.data())
def test_random_requests_answer_no_server_error(app, walk, data):
    clients, values = walk
    walker = Walker(app, clients, values)
    rule = data.draw(st.sampled_from(_rules(app)))
    method = data.draw(st.sampled_from(sorted((rule.methods or {"GET"}) -
                                              {"HEAD", "OPTIONS"})))
    who = data.draw(st.sampled_from(WHO))
    if rule.rule in SIGN_OUT and who != "visitor":
        return
    url = walker.real_url(rule, data.draw(st.integers(0, 5)))
    names = data.draw(st.lists(st.sampled_from(walker.names + walker._fab_names(
        rule.endpoint) + ["qty_1", f"qty_{uuid.uuid4().int % 99}"]), max_size=6))
    value = st.one_of(st.sampled_from(HOSTILE),
                      st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40),
                      st.integers(-2**70, 2**70).map(str))
    params = MultiDict([(name, data.draw(value)) for name in names])
    if method == "GET":
        walker.send(who, method, url, query_string=params)
    else:
        walker.send(who, method, url, data=params)
    assert not walker.failures, walker.report()
