"""API overhead: the product page, cart add, checkout quote and order submit through the
JSON API beside the same service calls without HTTP, in the same run, as ratios.

    .venv/bin/python bench/api.py [--iterations 200] [--warmup 20] [--max-overhead 0.25]
    createdb -h 127.0.0.1 -U postgres pifa_bench_api
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pifa_bench_api .venv/bin/python bench/api.py
    dropdb -h 127.0.0.1 -U postgres pifa_bench_api

1. Database: DATABASE_URL (it must hold no rows: a database with data is refused before
   anything is written, and nothing is ever deleted from it), or a fresh temporary SQLite
   file. Schema from the migrations (flask_migrate.upgrade()), then the roles.
2. Data: the storefront bench's catalog (bench/storefront.py: products with 3 specs,
   level prices, 2 images, brands, tags) and its approved 银牌 member, whose region gets
   a salesman (their own, so a submit writes the three messages of production); the
   three specs the cart uses get stock that cannot run out.
3. Each operation, four ways, interleaved (every timed iteration runs each side once,
   in an order that rotates, so a burst of load on the machine falls on all alike):
   - service: the domain functions the endpoint's view calls, with the same arguments,
     inside app.test_request_context() of the same path, with the account loaded and
     checked as any signed-in caller must (sessions.account_and_version: the account and
     its session version, refused once revoked); nothing is turned into JSON;
   - view: the view function's own body (inspect.unwrap of the route), that is the
     service calls and the view's shaping into dicts, without JWT, schemas or HTTP
     (informative: it splits the overhead; not part of the verdict);
   - api: the full request as a WSGI server makes it, with the Bearer token: an environ
     built as the service side's is (werkzeug's EnvironBuilder), the app called, the
     body read (routing, the app's before_request hooks, JWT decoding, the account and
     its session version, marshmallow load and dump, JSON, after_request, teardown);
   - client: the same request through app.test_client() (informative: the test
     client's cookie jar and response wrapper are work of its own that no server does).
   Before every iteration of every side the same untimed step puts the data back where
   it was (cart add: the added line is removed; submit: the cart is filled with the same
   three lines through cart.add_to_cart). The warm-up runs one side at a time, and around
   each the rows of every table, the messages, history events, stock, totals and jobs
   queued are counted (bench/checkout.py's census): the bench stops if two sides wrote
   anything different, or if the timed iterations wrote other than the warm-up did.
4. Prints p50 and p95 (ms) of each side and the ratio api/service of the medians; PASS
   when every ratio is at most 1 + --max-overhead (0.25). A failing operation gets a
   cProfile of its API side: time per layer (environ and body, request context, hooks, JWT,
   flask-smorest, the view) and own time by package.

Messages are enqueued on Redis at BENCH_REDIS_URL (default redis://127.0.0.1:6379/14), on
a queue of the run's own that is emptied at the end, as bench/checkout.py does; without
Redis the delivery jobs run inline after commit, on every side alike.
"""

import argparse
import cProfile
import functools
import inspect
import os
import pstats
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
os.environ.setdefault("PIFA_ENV", "development")

from sqlalchemy import delete, select, update  # noqa: E402

PRODUCTS = 200
STOCK = 10**8
DELIVERY, PAYMENT = "pickup", "bank"
SALESMAN_MOBILE = "13800000011"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..")) + os.sep


def log(msg: str = "") -> None:
    print(msg, flush=True)


# ---- app and data -------------------------------------------------------------------------

def build(url: str, work: str):
    """The app on `url`, migrated, with its roles; a database holding any row is refused."""
    from app import create_app
    from app.extensions import db
    from bench.checkout import redis_url
    from bench.storefront import create_schema
    from bench.web import table_with_rows

    os.environ["PIFA_INSTANCE_DIR"] = work  # no instance/config.py of this checkout
    app = create_app({"DATABASE_URL": url, "PIFA_ENV": "development",
                      "SECRET_KEY": "bench-secret-" + uuid.uuid4().hex,
                      "REDIS_URL": redis_url(),
                      "RQ_QUEUE": f"pifa-bench-api-{uuid.uuid4().hex[:8]}",
                      "RATELIMIT_STORAGE_URI": "memory://",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "JWT_ACCESS_TOKEN_EXPIRES": timedelta(hours=4),
                      "MEDIA_ROOT": os.path.join(work, "media")})
    with app.app_context():
        used = table_with_rows(db.engine)
        if used:
            sys.exit(f"refusing to run on a database that already holds data (table {used}); "
                     "give the bench an empty database")
    create_schema(app)
    return app


def seed(app) -> dict:
    """The storefront bench's catalog and member, a salesman for the member's region, and
    the cart's three specs (stock that cannot run out); what the operations need."""
    from app.catalog.models import Product, Spec, product_tag
    from app.extensions import db
    from app.members import staff
    from app.members.models import Member, StaffProfile
    from app.platform import accounts
    from bench import storefront

    storefront.seed(app, PRODUCTS, random.Random(2026))
    storefront.create_member(app)
    with app.app_context():
        user = accounts.find_account(storefront.MEMBER_MOBILE)
        member = db.session.scalar(select(Member).where(Member.user_id == user.id))
        salesman = StaffProfile(name="王建国", phone=SALESMAN_MOBILE, kind="salesman",
                                regions=[member.region], active=True)
        staff.prepare_staff(salesman, "bench2026x")
        db.session.add(salesman)
        db.session.flush()
        member.own_salesman_id = salesman.id
        # The product page: one in the middle of the table with a tag and a description.
        product_id = db.session.scalar(
            select(Product.id).join(product_tag, product_tag.c.product_id == Product.id)
            .where(Product.on_shelf.is_(True), Product.id >= PRODUCTS // 2,
                   Product.description.isnot(None)).order_by(Product.id).limit(1))
        specs = db.session.scalars(
            select(Spec).join(Product).where(Product.on_shelf.is_(True), Spec.active.is_(True),
                                             Spec.sort_order == 0, Product.id != product_id)
            .order_by(Product.id).limit(3)).all()
        db.session.execute(update(Spec).where(Spec.id.in_([s.id for s in specs]))
                           .values(stock=STOCK))
        packs = [s.pack_unit.inner_qty for s in specs]
        data = {"user_id": user.id, "product_id": product_id,
                "base": {str(specs[0].id): 2 * packs[0], str(specs[1].id): packs[1]},
                "added": {str(specs[2].id): packs[2]}}
        db.session.commit()
    data["full"] = {**data["base"], **data["added"]}
    return data


def set_cart(app, user_id: int, quantities: dict) -> None:
    """The member's cart holding exactly `quantities` (through cart.add_to_cart)."""
    from app.extensions import db
    from app.ordering import cart
    from app.ordering.models import CartLine

    with app.app_context():
        db.session.execute(delete(CartLine).where(CartLine.user_id == user_id))
        db.session.commit()
        if quantities:
            cart.add_to_cart(app.appbuilder.sm.get_user_by_id(user_id), quantities)


# ---- the operations --------------------------------------------------------------------------

class Operation:
    """One endpoint: its request, the service calls its view makes, the view's own body,
    and the untimed step that gives every iteration the same data."""

    name = ""
    method, path, status, body, query = "GET", "", 200, None, None
    route = None  # the flask-smorest MethodView method of the endpoint

    def __init__(self, app, data, token):
        from flask_jwt_extended import decode_token

        self.app, self.data = app, data
        self.user_id = data["user_id"]
        self._client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}
        with app.app_context():
            self.claims = decode_token(token)

    def services(self, user):
        """The domain calls the endpoint's view makes, with the same arguments."""
        raise NotImplementedError

    def view_args(self) -> tuple:
        return ()

    def payload(self):
        return self.body

    def start(self) -> None:
        """Once, before the operation is measured: the data as an iteration leaves it."""

    def prepare(self) -> None:
        """Before every iteration of every side, untimed."""

    # ---- the three sides

    def api(self):
        """The request as a WSGI server hands it to the app: an environ built as
        test_request_context builds the service side's, the app called, its body read."""
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        builder = EnvironBuilder(path=self.path, method=self.method, headers=self.headers,
                                 json=self.payload(), query_string=self.query)
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        body, status, _headers = run_wsgi_app(self.app, environ, buffered=True)
        body = b"".join(body)
        if int(status.split(" ", 1)[0]) != self.status:
            sys.exit(f"{self.name}: {self.method} {self.path} answered {status}: "
                     f"{body[:500].decode(errors='replace')}")
        return body

    def client(self):
        """The same request through app.test_client() (informative): its cookie jar and
        response wrapper are the test client's own work, which no server does."""
        response = self._client.open(self.path, method=self.method, headers=self.headers,
                                     json=self.payload(), query_string=self.query)
        if response.status_code != self.status:
            sys.exit(f"{self.name}: {self.method} {self.path} answered "
                     f"{response.status_code}: {response.get_data(as_text=True)[:500]}")
        return response

    def account(self):
        """The account as every signed-in caller must load it, web or API: its row with
        its session version, refused once revoked (the guard of the web's user loader
        and of a token alike; platform/sessions.py)."""
        from app.platform import sessions

        user, version = sessions.account_and_version(self.user_id)
        if user is None or not user.active or version != self.claims["sv"]:
            raise RuntimeError("the bench's account was signed out or disabled")
        return user

    def service(self):
        with self.app.test_request_context(self.path, method=self.method,
                                           query_string=self.query):
            return self.services(self.account())

    @functools.cached_property
    def body_of_view(self):
        """The route's own function, under jwt_required and flask-smorest's wrappers."""
        return inspect.unwrap(self.route)

    def view(self):
        from flask import g

        body = self.body_of_view
        with self.app.test_request_context(self.path, method=self.method,
                                           query_string=self.query):
            # What jwt_required leaves for current_user, without verifying anything.
            g._jwt_extended_jwt = self.claims
            g._jwt_extended_jwt_header = {"alg": "HS256", "typ": "JWT"}
            g._jwt_extended_jwt_user = {"loaded_user": self.account()}
            return body(None, *self.view_args())


class ProductPage(Operation):
    name = "product page"
    status = 200

    def __init__(self, *args):
        from app.views.api import catalog as api_catalog

        super().__init__(*args)
        self.path = f"/api/v1/products/{self.data['product_id']}"
        self.route = api_catalog.ProductDetail.get

    def services(self, user):
        """What ProductDetail.get calls: whether the shop is open to the caller, the
        caller's price access, then the product."""
        from app.catalog import pricing, storefront

        if not storefront.shop_is_open_for(user):
            raise RuntimeError("the shop is closed to the member")
        access = pricing.price_access(user) if user else pricing.NO_PRICES
        card = storefront.product_detail(self.data["product_id"], access)
        if card is None or card.lowest is None:
            raise RuntimeError("no product, or no price for the member")
        return card

    def view_args(self):
        return (self.data["product_id"],)


class CartAdd(Operation):
    name = "cart add"
    method, path, status = "POST", "/api/v1/cart", 200

    def __init__(self, *args):
        from app.views.api import orders as api_orders

        super().__init__(*args)
        self.body = {"quantities": self.data["added"]}
        self.route = api_orders.Cart.post

    def start(self):
        set_cart(self.app, self.user_id, self.data["full"])

    def prepare(self):
        """The cart back to its two lines: the line the last add made is removed."""
        from app.extensions import db
        from app.ordering.models import CartLine

        with self.app.app_context():
            db.session.execute(delete(CartLine).where(
                CartLine.user_id == self.user_id,
                CartLine.spec_id.in_([int(k) for k in self.data["added"]])))
            db.session.commit()

    def services(self, user):
        """What Cart.post calls: cart.add_to_cart, then checkout.cart_view (for the cart
        it answers with)."""
        from app.ordering import cart, checkout

        cart.add_to_cart(user, dict(self.data["added"]))
        view = checkout.cart_view(user)
        if len(view.rows) != len(self.data["full"]):
            raise RuntimeError("the cart does not hold the lines it should")
        return view

    def view_args(self):
        return ({"quantities": dict(self.data["added"])},)


class Quote(Operation):
    name = "checkout quote"
    path, status = "/api/v1/checkout", 200
    query = {"delivery": DELIVERY, "payment": PAYMENT}

    def __init__(self, *args):
        from app.views.api import orders as api_orders

        super().__init__(*args)
        self.route = api_orders.Checkout.get

    def start(self):
        set_cart(self.app, self.user_id, self.data["full"])

    def services(self, user):
        """What Checkout.get calls: members.member_of, then checkout.form_state."""
        from app.members import services as members
        from app.ordering import checkout

        state = checkout.form_state(user, members.member_of(user), dict(self.query))
        if state["quote"].total is None:
            raise RuntimeError(f"no quote: {state['quote'].error}")
        return state

    def view_args(self):
        return (dict(self.query),)


class Submit(Operation):
    name = "order submit"
    method, path, status = "POST", "/api/v1/orders", 201

    def __init__(self, *args):
        from app.views.api import orders as api_orders

        super().__init__(*args)
        self.route = api_orders.Orders.post

    def start(self):
        """The total the customer saw: the quote of the same three lines."""
        from app.ordering import checkout

        set_cart(self.app, self.user_id, self.data["full"])
        with self.app.test_request_context():
            user = self.app.appbuilder.sm.get_user_by_id(self.user_id)
            self.expected = str(checkout.quote(user, DELIVERY, None).total)
        set_cart(self.app, self.user_id, {})

    def prepare(self):
        """The same three lines in the (emptied) cart, through cart.add_to_cart."""
        from app.ordering import cart

        with self.app.app_context():
            cart.add_to_cart(self.app.appbuilder.sm.get_user_by_id(self.user_id),
                             dict(self.data["full"]))

    def payload(self):
        """A new checkout form: its own idempotency key, the total seen."""
        return {"idempotency_key": uuid.uuid4().hex, "delivery": DELIVERY,
                "payment": PAYMENT, "expected_total": self.expected}

    def services(self, user):
        """What Orders.post calls: checkout.submit, then (in order_detail) the history
        and the actions the customer may take."""
        from app.ordering import checkout, history, workflow

        order = checkout.submit(user, user, self.payload())
        history.history(order, history.CUSTOMER)
        workflow.allowed_actions(order, user)
        if order.state != "pending" or str(order.total) != self.expected:
            raise RuntimeError(f"unexpected order {order.order_no}: {order.state}, "
                               f"{order.total}")
        return order

    def view_args(self):
        return (self.payload(),)


OPERATIONS = (ProductPage, CartAdd, Quote, Submit)
SIDES = ("service", "view", "api", "client")


# ---- measuring -----------------------------------------------------------------------------

def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def measure(op: Operation, iterations: int, warmup: int) -> dict:
    """{side: latencies in seconds}. The warm-up runs one side at a time and counts what
    each wrote (the bench stops when two sides wrote different rows); then every timed
    iteration runs each side once, in an order that rotates, so that a burst of load on
    the machine falls on all sides alike; the rows the timed part wrote are checked
    against the warm-up's."""
    from bench.checkout import census, diff

    op.start()
    runs = {side: getattr(op, side) for side in SIDES}
    written = {}
    for side in SIDES:
        before = census(op.app)
        for _ in range(warmup):
            op.prepare()
            runs[side]()
        written[side] = diff(before, census(op.app))
    if any(written[side] != written["api"] for side in SIDES):
        for key in sorted(set().union(*written.values())):
            log(f"    {key:44s} " + "  ".join(f"{side} {written[side].get(key, 0):8d}"
                                              for side in SIDES))
        sys.exit(f"{op.name}: the sides did not write the same rows: not a fair comparison")
    times = {side: [] for side in SIDES}
    before = census(op.app)
    for n in range(iterations):
        for side in SIDES[n % len(SIDES):] + SIDES[:n % len(SIDES)]:
            op.prepare()
            t0 = time.perf_counter()
            runs[side]()
            times[side].append(time.perf_counter() - t0)
    timed = diff(before, census(op.app))
    keys = set(timed) | set(written["api"])
    if any(timed.get(k, 0) * warmup != written["api"].get(k, 0) * len(SIDES) * iterations
           for k in keys):
        sys.exit(f"{op.name}: the timed iterations wrote other rows than the warm-up "
                 f"({timed} against {written['api']} per {warmup})")
    op.written = {k: v // warmup for k, v in written["api"].items()}
    return times


def package_of(filename: str, name: str) -> str:
    if filename == "~":
        return "database driver (C)" if re.search(r"sqlite3|psycopg", name) else "built-ins (C)"
    if "site-packages" + os.sep in filename:
        top = filename.split("site-packages" + os.sep, 1)[1].split(os.sep, 1)[0]
        return re.sub(r"\.py$", "", top)
    if filename.startswith(ROOT):
        parts = filename[len(ROOT):].split(os.sep)
        return "/".join(parts[:2]) if parts[0] == "app" else parts[0]
    return "stdlib " + os.path.basename(filename).removesuffix(".py")


def _key(fn) -> tuple:
    code = fn.__code__
    return code.co_filename, code.co_firstlineno, code.co_name


def layers(op: Operation, stats: pstats.Stats) -> list[tuple[str, float]]:
    """Cumulative seconds of each layer of an API request, from the profile."""
    from flask import Flask
    from flask_jwt_extended import view_decorators as jwt_views

    def cum(fn) -> float:
        entry = stats.stats.get(_key(fn))
        return entry[3] if entry else 0.0

    decode, user = cum(jwt_views._decode_jwt_from_request), cum(jwt_views._load_user)
    body = cum(op.body_of_view)
    return [
        ("environ built, body read (the server's part)", cum(op.api) - cum(Flask.wsgi_app)),
        ("request context push/pop, teardown", cum(Flask.wsgi_app)
         - cum(Flask.full_dispatch_request)),
        ("before_request hooks (limiter, CSRF, FAB, ours)", cum(Flask.preprocess_request)),
        ("after_request, session, finalize", cum(Flask.finalize_request)),
        ("JWT: read, decode and verify the token", decode),
        ("JWT: the account and its session version", user),
        ("flask-smorest: body load, dump, JSON", cum(Flask.dispatch_request) - decode - user
         - body),
        ("the view's body (services and shaping)", body),
    ]


def profile(op: Operation, n: int) -> str:
    """cProfile of n API requests: time per layer, then own time by package."""
    op.start()
    prof = cProfile.Profile()
    for _ in range(n):
        op.prepare()
        prof.enable()
        op.api()
        prof.disable()
    stats = pstats.Stats(prof)
    total = sum(entry[2] for entry in stats.stats.values())

    def row(label, seconds):
        return f"  {label:50s} {1000 * seconds / n:7.2f} ms {100 * seconds / total:5.1f} %"

    lines = [f"  {n} requests, {1000 * total / n:.2f} ms a request under the profiler "
             "(which slows Python code more than it slows queries)",
             "  -- by layer (cumulative) --"]
    lines += [row(label, seconds) for label, seconds in layers(op, stats)]
    own = Counter()
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        own[package_of(filename, name)] += tottime
    lines.append("  -- own time by package --")
    lines += [row(package, seconds) for package, seconds in own.most_common(12)]
    return "\n".join(lines)


def sign_in(app, mobile: str, password: str) -> str:
    response = app.test_client().post("/api/v1/auth/token",
                                      json={"mobile": mobile, "password": password})
    if response.status_code != 200:
        sys.exit(f"API sign-in failed: HTTP {response.status_code} {response.get_data()[:300]}")
    return response.get_json()["access_token"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=100,
                        help="timed iterations per operation and side (default 100)")
    parser.add_argument("--warmup", type=int, default=10,
                        help="untimed iterations per operation and side first, whose rows are "
                             "counted per side (default 10, at least 1)")
    parser.add_argument("--max-overhead", type=float, default=0.25,
                        help="PASS when api/service <= 1 + this (default 0.25)")
    parser.add_argument("--profile-requests", type=int, default=50,
                        help="API requests profiled for a failing operation (0: none)")
    parser.add_argument("--profile-all", action="store_true",
                        help="profile the API side of every operation, passing or not")
    args = parser.parse_args()
    if args.warmup < 1 or args.iterations < 2:
        parser.error("--warmup must be at least 1 and --iterations at least 2")

    work = tempfile.mkdtemp(prefix="pifa-bench-api-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{os.path.join(work, 'bench.db')}"
    app = None
    try:
        t0 = time.perf_counter()
        app = build(url, work)
        from app.extensions import db
        from bench import storefront

        with app.app_context():
            dialect = db.engine.dialect.name
            shown = db.engine.url.render_as_string(hide_password=True)
        data = seed(app)
        token = sign_in(app, storefront.MEMBER_MOBILE, storefront.PASSWORD)
        jobs = app.config["REDIS_URL"]
        log(f"database: {dialect} ({shown}); schema and seed {time.perf_counter() - t0:.1f} s; "
            f"messages: {'enqueued on ' + jobs if jobs else 'delivered inline after commit'}")
        log(f"{args.iterations} timed iterations per operation and side after {args.warmup} "
            f"warm-up, interleaved (each iteration runs service, view, api and client once, in a "
            "rotating order), one thread, in-process")
        limit = 1 + args.max_overhead
        results = []
        log(f"\n{'operation':<15} {'service p50':>11} {'p95':>6} {'view p50':>9} {'p95':>6} "
            f"{'api p50':>8} {'p95':>6} {'client p50':>10} {'api/service':>11}")
        for cls in OPERATIONS:
            op = cls(app, data, token)
            t0 = time.perf_counter()
            times = measure(op, args.iterations, args.warmup)
            p50 = {side: 1000 * statistics.median(times[side]) for side in SIDES}
            p95 = {side: 1000 * percentile(times[side], 0.95) for side in SIDES}
            ratio = p50["api"] / p50["service"]
            verdict = "PASS" if ratio <= limit else "FAIL"
            results.append((op, ratio, verdict, p50, p95))
            log(f"{op.name:<15} {p50['service']:>11.2f} {p95['service']:>6.2f} "
                f"{p50['view']:>9.2f} {p95['view']:>6.2f} {p50['api']:>8.2f} "
                f"{p95['api']:>6.2f} {p50['client']:>10.2f} {ratio:>6.2f} {verdict}   "
                f"({time.perf_counter() - t0:.0f} s)")
        log("\n(ms; view = the view function's body without HTTP, JWT or schemas; client = the "
            "api request through app.test_client(): both informative)")
        log("written per iteration by each side (the same on every side): " + "; ".join(
            f"{op.name}: " + (", ".join(f"{k} {v:+d}" for k, v in op.written.items()
                                        if k.startswith(("rows order", "rows message",
                                                         "jobs"))) or "nothing kept")
            for op, *_ in results))
        if args.profile_requests:
            for op, _ratio, verdict, *_ in results:
                if verdict == "FAIL" or args.profile_all:
                    log(f"\ncProfile of the API side of {op.name} ({verdict}):")
                    log(profile(op, args.profile_requests))
        overall = "PASS" if all(r[2] == "PASS" for r in results) else "FAIL"
        log("\nSUMMARY api " + f"{dialect}: " + "; ".join(
            f"{op.name} {p50['api']:.2f} vs {p50['service']:.2f} ms = {ratio:.2f} {verdict}"
            for op, ratio, verdict, p50, _p95 in results)
            + f" (at most {limit:.2f}) {overall}")
        return 0 if overall == "PASS" else 1
    finally:
        if app is not None:
            from app.extensions import db

            with app.app_context():
                if app.config["REDIS_URL"]:
                    from app.jobs import get_queue

                    get_queue().empty()
                    get_queue().delete(delete_jobs=True)
                db.engine.dispose()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
