"""Soak test in production shape: gunicorn, an RQ worker and the periodic process on a
database and a Redis of its own, 40 concurrent users for a bounded time, faults injected
on a schedule; then every order and every message is checked.

    .venv/bin/python bench/soak.py [--seconds 180] [--users 40] [--drain-timeout 300]
        [--seed 2026] [--keep-logs] [--keep-database]

1. Set-up: creates a fresh PostgreSQL database pifa_soak_<random> on 127.0.0.1:5432 (a
   name that exists is refused; so is a database holding any table) and starts its own
   redis-server on a free port (--save "" --appendonly no; REDIS_URL uses its DB 13,
   flushed first) — the shared Redis on 6379 is never touched, so this one can be
   stopped. With PIFA_ENV=production, a random SECRET_KEY, DATABASE_URL, REDIS_URL, the
   `log` SMS provider and an instance folder of its own it runs `flask db upgrade`,
   `flask pifa sync-roles` and `flask pifa seed-demo`, then starts
   `gunicorn -w 2 -b 127.0.0.1:<free port> 'app:create_app()'` (without the control
   socket gunicorn would share in ~/.gunicorn), one `flask pifa worker --no-fork` and one
   `flask pifa periodic --loop --interval 5`.
2. Load: a thread pool of 40 users arriving over 10 s, each with its own
   requests.Session (the Secure cookies are sent back over this plain-HTTP loopback, as
   through the HTTPS proxy of production), thinking 0.5-5 s between requests:
   12 visitors browse home / categories / products / search; 24 customers (8 sessions
   on each approved demo account, 13900000031/34/35) sign in, browse, add to the cart
   (POST /cart/add with the form's CSRF token and qty_<spec>), check out (POST
   /checkout with the fields the form holds) and look at their orders; 4 salesmen (2 on
   each of 13800000011/12) open /sales/ and confirm pending orders (POST
   /sales/orders/<no>/confirm). Sessions of one account share its cart: their adds
   run side by side, but a checkout has the cart to itself from opening it to
   submitting (SharedCart); a form shown again with a new total is submitted again, at
   most twice. No redirect is followed blindly: each is a request of its own kind.
3. Faults, at fractions of the run (10 %, 20 %, 60 %, 80 %): one gunicorn web worker
   SIGKILLed (gunicorn starts another), the soak's Redis stopped for 20 s and started
   again empty (queued jobs are lost: the sweep must find their messages), the RQ
   worker SIGKILLed and a new one started 2 s later, every PostgreSQL connection of the
   app's database terminated (pg_terminate_backend).
4. End: the users stop and the outbox gets --drain-timeout seconds to empty (pending
   and sending -> logged/sent; a message whose job Redis lost waits for the sweep, up to
   MESSAGE_SWEEP_AFTER + one sweep interval, about 3 minutes).
5. Report: requests, answers by status, errors by status and kind, connection errors
   (with the fault before each), a timeline in 10 s windows, p50/p95/p99 per page kind,
   RSS of the gunicorn workers and the RQ worker at start and end, checkout outcomes,
   checkouts answered with an order vs new orders in the database, messages by status,
   and the message check: for every order event of the run the messages it must write
   (app/services/messaging.py: submit -> "order_submitted" to the customer by SMS, or
   WeChat with an openid, and in-app, and "new_order" by SMS to the own salesman when
   they serve the region, else every salesman of the region, else the customer-service
   phone; confirm -> "order_confirmed" to the customer likewise), counted per (event,
   order, channel, recipient): none is lost, more than one is doubled. Tracebacks in the
   gunicorn, worker and periodic logs are grouped by exception with the URL Flask
   logged (or the message logged with them).

PASS only with no 5xx answer, no lost or doubled message, none left pending or sending
after the drain (except one claimed at the instant the RQ worker was SIGKILLed, which
by design waits for a person as uncertain), and every checkout answered 302 ->
/orders/<no> having its order in the database. A connection reset while a web worker is
killed is counted and shown, not as a 5xx. Everything started here (processes, the
database, the Redis) is removed at the end, on Ctrl-C or SIGTERM too; the logs are kept
when the run fails (or with --keep-logs) and their folder is printed.
"""

import argparse
import contextlib
import html.parser
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor, wait
from urllib.parse import urljoin, urlparse

import psycopg
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(ROOT, ".venv", "bin")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "pifa2026"  # noqa: S105  (the demo accounts' documented password)
CUSTOMERS = ("13900000031", "13900000034", "13900000035")
SALESMEN = ("13800000011", "13800000012")
SEARCHES = ("kqs", "牙刷", "xfs", "香皂", "yd", "浴帽", "mj", "矿泉水")
REDIS_DB = 13
REDIS_DOWN_SECONDS = 20
TIMEOUT = (5, 35)  # connect, read: a request gunicorn lets run (30 s) plus a margin
WINDOW = 10  # seconds per line of the timeline
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def log(msg: str) -> None:
    print(msg, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kb(pid) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def children(pid) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return sorted(found)


# ---- what happened: every request, every fault ----------------------------------------

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.latency = defaultdict(list)  # kind -> seconds
        self.status = Counter()  # (kind, status)
        self.samples = {}  # (kind, status) -> a URL
        self.conn_errors = []  # (t, kind, url, exception name)
        self.faults = []  # (t, text)
        self.timeline = defaultdict(list)  # 10-second window -> (seconds, status or None)
        self.orders_answered = []  # order numbers of checkouts answered 302 -> /orders/<no>
        self.checkout = Counter()  # outcome of POST /checkout

    def now(self) -> float:
        return time.monotonic() - self.t0

    def record(self, kind, url, status, seconds):
        with self.lock:
            self.timeline[int((self.now() - seconds) // WINDOW)].append((seconds, status))
            self.latency[kind].append(seconds)
            self.status[(kind, status)] += 1
            self.samples.setdefault((kind, status), url)

    def failed(self, kind, url, exc):
        with self.lock:
            self.timeline[int(self.now() // WINDOW)].append((None, None))
            self.conn_errors.append((self.now(), kind, url, type(exc).__name__))

    def fault(self, text):
        with self.lock:
            self.faults.append((self.now(), text))
        log(f"[{self.now():6.1f} s] fault: {text}")


class FormFields(html.parser.HTMLParser):
    """The fields a browser would submit from the first form posting to `action`."""

    def __init__(self, action):
        super().__init__()
        self.action, self.inside, self.done = action, False, False
        self.fields, self._textarea = {}, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done and urlparse(a.get("action") or "").path == \
                self.action:
            self.inside = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.fields[name] = a.get("value") or "on"
            elif kind not in ("submit", "button", "image", "file", "reset"):
                self.fields[name] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True


def form_fields(page: str, action: str) -> dict:
    parser = FormFields(action)
    parser.feed(page)
    return parser.fields


# ---- the users -------------------------------------------------------------------------

class User:
    def __init__(self, base, stats, stop, rng):
        self.base, self.stats, self.stop, self.rng = base, stats, stop, rng
        self.http = requests.Session()
        self.cart = None  # customers: the SharedCart of their account

    def think(self, low, high):
        self.stop.wait(self.rng.uniform(low, high))

    def request(self, kind, method, path, data=None):
        """The response (redirects not followed), or None after a connection error."""
        url = urljoin(self.base, path)
        t0 = time.perf_counter()
        try:
            response = self.http.request(method, url, data=data, allow_redirects=False,
                                         timeout=TIMEOUT)
        except requests.RequestException as exc:
            self.stats.failed(kind, path, exc)
            return None
        # Production sets Secure cookies; send them over this plain-HTTP loopback as a
        # browser does through the HTTPS proxy in front of gunicorn.
        for cookie in self.http.cookies:
            cookie.secure = False
        self.stats.record(kind, path, response.status_code, time.perf_counter() - t0)
        return response

    def get(self, kind, path):
        return self.request(kind, "GET", path)

    def post(self, kind, path, data):
        return self.request(kind, "POST", path, data)

    def follow(self, response, kind):
        if response is not None and response.is_redirect:
            return self.get(kind, response.headers["Location"])
        return None

    def sign_in(self, mobile) -> bool:
        page = self.get("login form", "/auth/login")
        token = page is not None and CSRF_RE.search(page.text)
        if not token:
            return False
        answer = self.post("sign in", "/auth/login", {"mobile": mobile, "password": PASSWORD,
                                                       "csrf_token": token[1]})
        return answer is not None and answer.status_code == 302

    def signed_out(self, response) -> bool:
        return response is not None and response.is_redirect and \
            "/auth/login" in response.headers.get("Location", "")


class SharedCart:
    """The sessions of one account share its cart. Adds run side by side (two phones of
    one shop adding at once); a checkout has the cart to itself from opening the cart to
    submitting, as the people of one shop would agree, so its total does not change
    under it."""

    def __init__(self, stop):
        self.stop, self.cond = stop, threading.Condition()
        self.adding, self.checking_out = 0, False

    @contextlib.contextmanager
    def adding_line(self):
        with self.cond:
            while self.checking_out and not self.stop.is_set():
                self.cond.wait(0.5)
            self.adding += 1
        try:
            yield
        finally:
            with self.cond:
                self.adding -= 1
                self.cond.notify_all()

    @contextlib.contextmanager
    def checking(self):
        with self.cond:
            while (self.checking_out or self.adding) and not self.stop.is_set():
                self.cond.wait(0.5)
            self.checking_out = True
        try:
            yield
        finally:
            with self.cond:
                self.checking_out = False
                self.cond.notify_all()


class Catalog:
    def __init__(self, products, categories):
        self.products, self.categories = products, categories


def browse(user: User, catalog: Catalog, pages: int):
    for _ in range(pages):
        if user.stop.is_set():
            return
        pick = user.rng.random()
        if pick < 0.2:
            user.get("home", "/")
        elif pick < 0.3:
            user.get("categories", "/category")
        elif pick < 0.55:
            user.get("category", f"/category/{user.rng.choice(catalog.categories)}")
        elif pick < 0.85:
            user.get("product", f"/product/{user.rng.choice(catalog.products)}")
        else:
            user.get("search", f"/search?q={user.rng.choice(SEARCHES)}")
        user.think(0.5, 2.5)


def visitor(user: User, catalog: Catalog, _mobile):
    while not user.stop.is_set():
        browse(user, catalog, 5)


SPEC_RE = re.compile(r'data-spec="(\d+)" data-moq="(\d+)"')


def add_to_cart(user: User, catalog: Catalog) -> bool:
    product_id = user.rng.choice(catalog.products)
    page = user.get("product", f"/product/{product_id}")
    if page is None or page.status_code != 200:
        return False
    token = CSRF_RE.search(page.text)
    orderable = [(int(s), int(m)) for s, m in SPEC_RE.findall(page.text)
                 if f'name="qty_{s}"' in page.text]
    if not token or not orderable:
        return False
    user.think(0.5, 2.0)
    spec_id, moq = user.rng.choice(orderable)
    data = {"csrf_token": token[1], "product_id": str(product_id)}
    data.update({f"qty_{s}": "0" for s, _m in orderable})
    data[f"qty_{spec_id}"] = str(moq * user.rng.choice((1, 1, 2)))
    with user.cart.adding_line():
        answer = user.post("cart add", "/cart/add", data)
    user.follow(answer, "product")
    return answer is not None and answer.status_code == 302


FORM_ERROR_RE = re.compile(r'class="form-error[^"]*" role="alert">(.*?)</div>', re.S)


def check_out(user: User):
    if user.stop.is_set():
        return  # the load is over: the shared cart is no longer held for this checkout
    user.get("cart", "/cart")
    user.think(0.5, 2.0)
    page = user.get("checkout form", "/checkout")
    if page is None or page.status_code != 200:
        return  # an empty cart (another session of the account took it) redirects
    fields = form_fields(page.text, "/checkout")
    if "csrf_token" not in fields or "expected_total" not in fields:
        user.stats.checkout["form without a total"] += 1
        return
    # Another session of the account may change the shared cart meanwhile: the form comes
    # back with the new total ("please check and submit again") and is submitted again,
    # as a person would, at most twice.
    for attempt in range(3):
        user.think(1.0, 3.0)
        answer = user.post("checkout", "/checkout", fields)
        if answer is None:
            user.stats.checkout["no answer (connection error)"] += 1
            return
        location = urlparse(answer.headers.get("Location", "")).path
        again = " (submitted again)" if attempt else ""
        if answer.status_code == 302 and location.startswith("/orders/"):
            with user.stats.lock:
                user.stats.orders_answered.append(location.rsplit("/", 1)[1])
                user.stats.checkout["order" + again] += 1
            user.follow(answer, "order page")
            return
        if answer.status_code == 302:
            user.stats.checkout[f"302 -> {location}{again}"] += 1
            return
        error = FORM_ERROR_RE.search(answer.text)
        reason = re.sub(r"\s+", " ", error[1]).strip() if error else "no message"
        reason = re.sub(r"¥[0-9.]+", "¥…", reason)[:70]
        user.stats.checkout[f"{answer.status_code}: {reason}{again}"] += 1
        fields = form_fields(answer.text, "/checkout")
        if "csrf_token" not in fields or "expected_total" not in fields:
            return


def customer(user: User, catalog: Catalog, mobile):
    while not user.stop.is_set() and not user.sign_in(mobile):
        user.think(2, 5)
    while not user.stop.is_set():
        browse(user, catalog, user.rng.randint(1, 3))
        if user.stop.is_set():
            return
        added = add_to_cart(user, catalog)
        if added and user.rng.random() < 0.4:
            add_to_cart(user, catalog)
        if user.stop.is_set():
            return
        if added and user.rng.random() < 0.6:
            with user.cart.checking():
                check_out(user)
        if user.rng.random() < 0.3:
            listing = user.get("orders", "/orders")
            if user.signed_out(listing):
                user.sign_in(mobile)
        user.think(1.0, 3.0)


ORDER_LINK_RE = re.compile(r'href="/sales/orders/([0-9A-Za-z]+)"')


def salesman(user: User, _catalog, mobile):
    while not user.stop.is_set() and not user.sign_in(mobile):
        user.think(2, 5)
    while not user.stop.is_set():
        listing = user.get("sales list", "/sales/?tab=pending")
        if user.signed_out(listing):
            user.sign_in(mobile)
            continue
        numbers = ORDER_LINK_RE.findall(listing.text) if listing is not None and \
            listing.status_code == 200 else []
        for order_no in user.rng.sample(numbers, min(2, len(numbers))):
            if user.stop.is_set():
                return
            user.think(1.0, 3.0)
            page = user.get("sales order", f"/sales/orders/{order_no}")
            token = page is not None and page.status_code == 200 and CSRF_RE.search(page.text)
            if token and 'data-action="confirm"' in page.text:
                answer = user.post("sales confirm", f"/sales/orders/{order_no}/confirm",
                                   {"csrf_token": token[1]})
                user.follow(answer, "sales order")
        user.think(2.0, 5.0)


def run_user(role, user: User, catalog: Catalog, mobile):
    """One user until the load is over; a bug of this script is shown, not hidden."""
    user.think(0, 10)  # people arrive over the first seconds, not in one burst
    while not user.stop.is_set():
        try:
            role(user, catalog, mobile)
        except Exception as exc:
            user.stats.failed("soak script", repr(exc)[:120], exc)
            traceback.print_exc()
            user.think(2, 4)


# ---- the processes ---------------------------------------------------------------------

class Soak:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="pifa-soak-")
        self.logs = tempfile.mkdtemp(prefix="pifa-soak-logs-")
        self.database = f"pifa_soak_{secrets.token_hex(4)}"
        self.db_created = False
        self.redis_port, self.web_port = free_port(), free_port()
        self.redis = self.gunicorn = self.worker = self.periodic = None
        self.old_workers = []  # RQ workers killed on purpose: reaped at the end
        self.rq_killed_at = None  # wall clock of the RQ worker's SIGKILL
        self.env = dict(
            os.environ, PIFA_ENV="production", SECRET_KEY=secrets.token_hex(32),
            DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{self.database}",
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/{REDIS_DB}", SMS_PROVIDER="log",
            WECHAT_PROVIDER="log", PIFA_INSTANCE_DIR=os.path.join(self.work, "instance"),
            MEDIA_ROOT=os.path.join(self.work, "media"), PYTHONUNBUFFERED="1")
        os.makedirs(self.env["PIFA_INSTANCE_DIR"])

    def logfile(self, name):
        return open(os.path.join(self.logs, name), "ab")  # noqa: SIM115  (kept by Popen)

    def spawn(self, name, argv):
        with self.logfile(name) as out:
            return subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=out,
                                    stdin=subprocess.DEVNULL, start_new_session=True)

    def flask(self, *argv):
        with self.logfile("setup.log") as out:
            done = subprocess.run([os.path.join(BIN, "flask"), "--app", "app:create_app",
                                   *argv], cwd=ROOT, env=self.env, stdout=out, stderr=out,
                                  stdin=subprocess.DEVNULL, check=False)
        if done.returncode:
            raise SystemExit(f"`flask {' '.join(argv)}` failed: see {self.logs}/setup.log")

    # database
    def create_database(self):
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (self.database,)).fetchone():
                raise SystemExit(f"refusing: database {self.database} already exists")
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self.db_created = True
        with self.connect() as conn:
            tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = "
                                  "'public'").fetchone()[0]
        if tables:
            raise SystemExit(f"refusing: database {self.database} already holds tables")

    def connect(self):
        return psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{self.database}",
                               autocommit=True)

    def drop_database(self):
        if not self.db_created or self.args.keep_database:
            return
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self.db_created = False

    # redis
    def start_redis(self):
        self.redis = self.spawn("redis.log", [
            "redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", self.work])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.redis_port), timeout=0.5):
                return
            time.sleep(0.1)
        raise SystemExit("the soak's redis-server did not start: see redis.log")

    def flush_redis(self):
        from redis import Redis

        Redis(port=self.redis_port, db=REDIS_DB).flushdb()  # our own server, our DB only

    def stop_redis(self):
        self.stop(self.redis)
        self.redis = None

    # app processes
    def start_gunicorn(self):
        self.gunicorn = self.spawn("gunicorn.log", [
            os.path.join(BIN, "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{self.web_port}",
            # Its control socket would be ~/.gunicorn/gunicorn.ctl, shared with any other
            # gunicorn of this account; the soak does not use it.
            "--no-control-socket", "app:create_app()"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                up = requests.get(f"{self.base}/healthz", timeout=2).status_code == 200
                if up and len(self.web_workers()) == 2:
                    return
            time.sleep(0.5)
        raise SystemExit("gunicorn did not come up: see gunicorn.log")

    @property
    def base(self):
        return f"http://127.0.0.1:{self.web_port}"

    def web_workers(self):
        return children(self.gunicorn.pid) if self.gunicorn else []

    def start_worker(self):
        self.worker = self.spawn("worker.log", [os.path.join(BIN, "flask"), "--app",
                                                "app:create_app", "pifa", "worker",
                                                "--no-fork"])

    def start_periodic(self):
        self.periodic = self.spawn("periodic.log", [
            os.path.join(BIN, "flask"), "--app", "app:create_app", "pifa", "periodic",
            "--loop", "--interval", "5"])

    @staticmethod
    def stop(proc, wait_s=15):
        """End a process started here (and the session it leads), by its id."""
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def cleanup(self, keep_logs):
        for proc in (self.gunicorn, self.worker, self.periodic, *self.old_workers):
            self.stop(proc)
        self.stop_redis()
        try:
            self.drop_database()
        except psycopg.Error as exc:
            log(f"could not drop database {self.database}: {exc}")
        shutil.rmtree(self.work, ignore_errors=True)
        if keep_logs:
            log(f"logs kept in {self.logs}")
        else:
            shutil.rmtree(self.logs, ignore_errors=True)

    # faults
    def kill_web_worker(self, stats):
        pids = self.web_workers()
        if not pids:
            stats.fault("no gunicorn worker to kill")
            return
        os.kill(pids[0], signal.SIGKILL)
        stats.fault(f"SIGKILL gunicorn web worker {pids[0]}")

    def redis_outage(self, stats, abort):
        self.stop_redis()
        stats.fault(f"redis stopped (for {REDIS_DOWN_SECONDS} s)")
        if abort.wait(REDIS_DOWN_SECONDS):
            return  # interrupted: nothing new is started while cleaning up
        self.start_redis()
        stats.fault("redis started again (empty)")

    def kill_rq_worker(self, stats, abort):
        old = self.worker
        self.rq_killed_at = time.time()
        os.kill(old.pid, signal.SIGKILL)
        old.wait(5)
        self.old_workers.append(old)
        stats.fault(f"SIGKILL RQ worker {old.pid}")
        if abort.wait(2):
            return
        self.start_worker()
        stats.fault(f"new RQ worker {self.worker.pid}")

    def terminate_connections(self, stats):
        with self.connect() as conn:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()", (self.database,)
            ).fetchone()[0]
        stats.fault(f"pg_terminate_backend: {killed} connections of the app's database")


def run_faults(soak: Soak, stats: Stats, abort: threading.Event, seconds: float):
    schedule = [(0.10, "web", lambda: soak.kill_web_worker(stats)),
                (0.20, "redis", lambda: soak.redis_outage(stats, abort)),
                (0.60, "rq", lambda: soak.kill_rq_worker(stats, abort)),
                (0.80, "pg", lambda: soak.terminate_connections(stats))]
    for fraction, _name, action in schedule:
        delay = fraction * seconds - stats.now()
        if (delay > 0 and abort.wait(delay)) or abort.is_set():
            return
        try:
            action()
        except Exception as exc:  # report and go on: the other faults still matter
            stats.fault(f"could not inject: {type(exc).__name__}: {exc}")


def rss_snapshot(soak: Soak) -> dict:
    rows = {f"gunicorn worker {pid}": rss_kb(pid) for pid in soak.web_workers()}
    if soak.worker is not None:
        rows[f"RQ worker {soak.worker.pid}"] = rss_kb(soak.worker.pid)
    return rows


# ---- checks ----------------------------------------------------------------------------

def high_water(conn) -> dict:
    return {table: conn.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"').fetchone()[0]
            for table in ("order", "order_event", "message")}


def outbox_waiting(conn, since) -> tuple[int, int]:
    pending, sending = conn.execute(
        "SELECT count(*) FILTER (WHERE status = 'pending'), "
        "count(*) FILTER (WHERE status = 'sending') FROM message WHERE id > %s",
        (since["message"],)).fetchone()
    return pending, sending


def stuck_sending(conn, since, killed_at) -> tuple[list[int], list[int]]:
    """Messages still "sending": (claimed when the RQ worker was SIGKILLed — by design left
    for a person as uncertain after MESSAGE_SENDING_STALE —, claimed at any other time)."""
    at_kill, other = [], []
    for message_id, claimed in conn.execute(
            "SELECT id, extract(epoch FROM claimed_at) FROM message "
            "WHERE id > %s AND status = 'sending' ORDER BY id", (since["message"],)):
        in_flight = killed_at is not None and claimed is not None and \
            killed_at - 5 <= float(claimed) <= killed_at + 0.5  # claimed_at is naive UTC
        (at_kill if in_flight else other).append(message_id)
    return at_kill, other


def expected_messages(conn, since) -> Counter:
    """(event, order_no, channel, recipient) -> 1 for every message the run's order events
    must have written, decided as app/messaging/outbox.py decides it."""
    cs_phone = (conn.execute("SELECT cs_phone FROM shop_settings ORDER BY id LIMIT 1")
                .fetchone() or (None,))[0]
    expected = Counter()
    rows = conn.execute(
        "SELECT e.action, o.order_no, o.user_id, o.placed_by_id, o.region_id, m.phone, "
        "u.username, m.own_salesman_id "
        'FROM order_event e JOIN "order" o ON o.id = e.order_id '
        "JOIN member m ON m.id = o.member_id JOIN ab_user u ON u.id = o.user_id "
        "WHERE e.id > %s AND e.action IN ('submit', 'confirm')", (since["order_event"],))
    for action, order_no, user_id, placed_by, region_id, phone, username, own in rows:
        event = "order_confirmed" if action == "confirm" else (
            "order_submitted" if placed_by == user_id else "order_placed_for_you")
        # Nobody signs in with WeChat in the soak: every customer is told by SMS.
        expected[(event, order_no, "sms", phone or username)] += 1
        expected[(event, order_no, "inapp", str(user_id))] += 1
        if action == "submit":
            salesmen = conn.execute(
                "SELECT s.id, s.phone FROM staff_profile s "
                "JOIN staff_region r ON r.staff_id = s.id WHERE r.region_id = %s "
                "AND s.kind = 'salesman' AND s.active ORDER BY s.id", (region_id,)).fetchall()
            chosen = [p for sid, p in salesmen if sid == own] or [p for _s, p in salesmen]
            for recipient in chosen or ([cs_phone] if cs_phone else []):
                expected[("new_order", order_no, "sms", recipient)] += 1
    return expected


def written_messages(conn, since) -> tuple[Counter, Counter, int]:
    keys, statuses, resent = Counter(), Counter(), 0
    for event, order_no, channel, recipient, status, attempts in conn.execute(
            "SELECT event, params->>'order_no', channel, recipient, status, attempts "
            "FROM message WHERE id > %s", (since["message"],)):
        keys[(event, order_no, channel, recipient)] += 1
        statuses[status] += 1
        resent += attempts > 1
    return keys, statuses, resent


TRACEBACK = "Traceback (most recent call last):"
URL_RE = re.compile(r"Exception on (\S+) \[(\w+)\]")


def tracebacks(path) -> list[tuple[str, str, list[str]]]:
    """(where, exception line, the traceback's lines) of each traceback in a log."""
    try:
        with open(path, errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    found, i = [], 0
    while i < len(lines):
        if TRACEBACK not in lines[i]:
            i += 1
            continue
        where = ""
        for back in range(i - 1, max(i - 4, -1), -1):
            match = URL_RE.search(lines[back])
            if match:
                where = f"{match[2]} {match[1]}"
                break
        if not where and i:  # no URL: the message logged with the traceback
            logged = re.sub(r"^\[[^\]]*\]\s*|^\d\d:\d\d:\d\d\s+", "", lines[i - 1].strip())
            where = f"logged: {re.sub(r'[0-9]+', 'N', logged)[:90]}"
        end = i + 1
        while end < len(lines):
            if lines[end].startswith((" ", "\t")) or TRACEBACK in lines[end]:
                end += 1
                continue
            chained = _chained_after(lines, end)  # the exception line: is another chained?
            if chained is None:
                break
            end = chained
        where = re.sub(r"\d+", "N", where)  # one group for "message 12", "message 13", ...
        found.append((where, lines[end] if end < len(lines) else "?", lines[i:end + 1]))
        i = end + 1
    return found


LOG_RECORD_RE = re.compile(r"^(\[\d{4}-\d\d-\d\d|\d\d:\d\d:\d\d )")


def _chained_after(lines, end):
    """The index of the next traceback when the exception at `end` is chained to it
    ("The above exception was the direct cause...", "During handling..."), else None."""
    for k in range(end + 1, min(end + 40, len(lines))):
        if lines[k].startswith(("During handling", "The above exception")):
            return next((j for j in range(k, len(lines)) if TRACEBACK in lines[j]), None)
        if TRACEBACK in lines[k] or LOG_RECORD_RE.match(lines[k]):
            return None
    return None


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


# ---- the run ---------------------------------------------------------------------------

def main():  # noqa: C901  (one linear script: set-up, load, drain, report)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()

    def terminate(_signo, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    soak = Soak(args)
    stats = Stats()
    stop = threading.Event()  # the load is over
    abort = threading.Event()  # interrupted: the fault thread starts nothing more
    faults = None
    ok = False
    try:
        log(f"database {soak.database}, redis 127.0.0.1:{soak.redis_port}/{REDIS_DB}, "
            f"gunicorn 127.0.0.1:{soak.web_port}, logs {soak.logs}")
        soak.create_database()
        soak.start_redis()
        soak.flush_redis()
        t_setup = time.monotonic()
        soak.flask("db", "upgrade")
        soak.flask("pifa", "sync-roles")
        soak.flask("pifa", "seed-demo")
        log(f"migrated, roles synced, demo seeded in {time.monotonic() - t_setup:.0f} s")
        with soak.connect() as conn:
            since = high_water(conn)
            catalog = Catalog(
                [r[0] for r in conn.execute("SELECT DISTINCT p.id FROM product p JOIN spec s "
                                            "ON s.product_id = p.id WHERE p.on_shelf")],
                [r[0] for r in conn.execute("SELECT id FROM category WHERE active")])
        soak.start_gunicorn()
        soak.start_worker()
        soak.start_periodic()
        time.sleep(3)  # the worker registers; the periodic process runs its first sweep
        rss_start = rss_snapshot(soak)

        n_visitors = round(args.users * 0.3)
        n_salesmen = max(1, round(args.users * 0.1))
        n_customers = args.users - n_visitors - n_salesmen
        plan = [(visitor, None)] * n_visitors + \
            [(customer, CUSTOMERS[i % len(CUSTOMERS)]) for i in range(n_customers)] + \
            [(salesman, SALESMEN[i % len(SALESMEN)]) for i in range(n_salesmen)]
        log(f"{args.users} users ({n_visitors} visitors, {n_customers} customers on "
            f"{len(CUSTOMERS)} accounts, {n_salesmen} salesmen) for {args.seconds:.0f} s")
        stats.t0 = time.monotonic()
        faults = threading.Thread(target=run_faults, args=(soak, stats, abort, args.seconds),
                                  daemon=True)
        faults.start()
        carts = {mobile: SharedCart(stop) for mobile in CUSTOMERS}
        users = []
        for n, (_role, mobile) in enumerate(plan):
            users.append(User(soak.base, stats, stop, random.Random(args.seed + n)))
            users[-1].cart = carts.get(mobile)
        pool = ThreadPoolExecutor(max_workers=len(plan))
        try:
            futures = [pool.submit(run_user, role, user, catalog, mobile)
                       for user, (role, mobile) in zip(users, plan, strict=True)]
            stop.wait(args.seconds)
            stop.set()
            wait(futures)
        finally:
            stop.set()
            # Interrupted: do not wait for requests in flight; stopping gunicorn ends them.
            pool.shutdown(wait=not abort.is_set(), cancel_futures=True)
        faults.join()
        loaded = stats.now()
        log(f"load over after {loaded:.0f} s; draining the outbox "
            f"(at most {args.drain_timeout:.0f} s)")

        deadline = time.monotonic() + args.drain_timeout
        next_note = time.monotonic() + 30
        while True:
            with soak.connect() as conn:
                pending, sending = outbox_waiting(conn, since)
            if not pending and not sending:
                break
            if time.monotonic() > deadline:
                log(f"drain timed out: {pending} pending, {sending} sending")
                break
            if time.monotonic() > next_note:
                log(f"  still waiting: {pending} pending, {sending} sending")
                next_note += 30
            time.sleep(1)
        drained_after = stats.now() - loaded
        rss_end = rss_snapshot(soak)

        with soak.connect() as conn:
            expected = expected_messages(conn, since)
            written, by_status, resent = written_messages(conn, since)
            twice = conn.execute(
                'SELECT o.order_no, e.action, count(*) FROM order_event e JOIN "order" o '
                "ON o.id = e.order_id WHERE e.id > %s AND e.action IN ('submit', 'confirm') "
                "GROUP BY 1, 2 HAVING count(*) > 1", (since["order_event"],)).fetchall()
            new_orders = {r[0] for r in conn.execute(
                'SELECT order_no FROM "order" WHERE id > %s', (since["order"],))}
            pending, sending = outbox_waiting(conn, since)
            sending_at_kill, sending_stuck = stuck_sending(conn, since, soak.rq_killed_at)
            by_event = conn.execute(
                "SELECT event, channel, status, count(*) FROM message WHERE id > %s "
                "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", (since["message"],)).fetchall()

        # ---- report
        total = sum(len(v) for v in stats.latency.values())
        log(f"\nrequests: {total} in {loaded:.0f} s ({total / max(loaded, 1):.1f}/s), "
            f"connection errors: {len(stats.conn_errors)}")
        statuses = Counter()
        for (_kind, status), n in stats.status.items():
            statuses[status] += n
        log("answers by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
        errors = sorted(((k, s), n) for (k, s), n in stats.status.items() if s >= 400)
        if errors:
            log("errors by status and kind (a sample URL):")
            for (kind, status), n in errors:
                log(f"    {status} {kind:14s} x{n:<5d} e.g. {stats.samples[(kind, status)]}")
        if stats.conn_errors:
            log("connection errors (time, kind, URL, exception, the fault before it):")
            for t, kind, url, name in stats.conn_errors:
                before = [f"{text} at {ft:.0f} s" for ft, text in stats.faults if ft <= t]
                log(f"    {t:6.1f} s {kind:14s} {url} {name}; after: "
                    f"{before[-1] if before else 'no fault'}")
        log("faults: " + "; ".join(f"{t:.0f} s {text}" for t, text in stats.faults))
        log(f"\ntimeline ({WINDOW} s windows, by request start):")
        log(f"    {'window':>11s} {'answers':>8s} {'p50 ms':>7s} {'p95 ms':>7s} {'4xx':>5s} "
            f"{'5xx':>5s} {'conn err':>8s}  faults")
        for window in sorted(stats.timeline):
            rows = stats.timeline[window]
            times = [sec for sec, _st in rows if sec is not None]
            codes = Counter((st // 100) if st else 0 for _sec, st in rows)
            lo, hi = window * WINDOW, (window + 1) * WINDOW
            here = "; ".join(text for t, text in stats.faults if lo <= t < hi)
            log(f"    {lo:4d}-{hi:4d} s {len(times):8d} "
                f"{percentile(times, .5) * 1000 if times else 0:7.0f} "
                f"{percentile(times, .95) * 1000 if times else 0:7.0f} {codes[4]:5d} "
                f"{codes[5]:5d} {codes[0]:8d}  {here}")
        log(f"\n{'page kind':16s} {'n':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s}")
        for kind in sorted(stats.latency):
            values = stats.latency[kind]
            log(f"{kind:16s} {len(values):6d} {percentile(values, .5) * 1000:8.0f} "
                f"{percentile(values, .95) * 1000:8.0f} {percentile(values, .99) * 1000:8.0f}")
        log("\nRSS (MB)      at start                         at end")
        start_rows, end_rows = list(rss_start.items()), list(rss_end.items())
        for i in range(max(len(start_rows), len(end_rows))):
            left = f"{start_rows[i][0]}: {(start_rows[i][1] or 0) / 1024:.0f}" \
                if i < len(start_rows) else ""
            right = f"{end_rows[i][0]}: {(end_rows[i][1] or 0) / 1024:.0f}" \
                if i < len(end_rows) else ""
            log(f"    {left:40s} {right}")

        answered = set(stats.orders_answered)
        lost_orders = sorted(answered - new_orders)
        unseen = sorted(new_orders - answered)
        log(f"\ncheckouts: {dict(stats.checkout)}")
        log(f"orders answered 302 -> /orders/<no>: {len(stats.orders_answered)} "
            f"({len(answered)} distinct); new orders in the database: {len(new_orders)}; "
            f"answered but not in the database: {len(lost_orders)} {lost_orders[:10]}; "
            f"in the database without a 302 seen: {len(unseen)} {unseen[:10]}")
        log(f"messages of the run by status: {dict(by_status)} "
            f"(drained {drained_after:.0f} s after the load; claimed more than once: {resent})")
        for event, channel, status, n in by_event:
            log(f"    {event:20s} {channel:7s} {status:10s} {n}")
        lost = sorted(k for k in expected if written[k] == 0)
        doubled = sorted(k for k in expected if written[k] > 1)
        unexpected = sorted(k for k in written if k not in expected)
        if sending:
            log(f"still sending after the drain: {len(sending_at_kill)} claimed when the RQ "
                f"worker was killed {sending_at_kill} (by design: uncertain after "
                f"MESSAGE_SENDING_STALE), {len(sending_stuck)} claimed at another time "
                f"{sending_stuck}")
        log(f"message check: {sum(expected.values())} expected for "
            f"{len({k[1] for k in expected})} orders; lost {len(lost)}, doubled "
            f"{len(doubled)}, unexpected {len(unexpected)}")
        for label, keys in (("lost", lost), ("doubled", doubled),
                            ("unexpected", unexpected)):
            for key in keys[:10]:
                log(f"    {label}: {key} x{written[key]}")
        if twice:
            log(f"order events recorded more than once (the action ran twice): "
                f"{[f'{no} {action} x{n}' for no, action, n in twice[:10]]}")

        log("\ntracebacks in the logs:")
        seen_any = False
        for name in ("gunicorn.log", "worker.log", "periodic.log"):
            groups = defaultdict(list)
            for where, exc_line, lines in tracebacks(os.path.join(soak.logs, name)):
                groups[(exc_line, where)].append(lines)
            for (exc_line, where), items in sorted(groups.items(), key=lambda g: -len(g[1])):
                seen_any = True
                log(f"  {name}: x{len(items)} {where or '(no URL logged)'}: {exc_line}")
                for line in items[0][-12:]:
                    log(f"        {line}")
        if not seen_any:
            log("  none")

        five_xx = sum(n for (_k, s), n in stats.status.items() if s >= 500)
        ok = not (five_xx or lost or doubled or lost_orders or pending or sending_stuck)
        log(f"SUMMARY soak: {args.seconds:.0f} s, {args.users} users, {total} requests, "
            f"5xx {five_xx}, connection errors {len(stats.conn_errors)}, orders "
            f"{len(answered)}/{len(new_orders)} (lost {len(lost_orders)}), messages lost "
            f"{len(lost)} doubled {len(doubled)} undelivered: pending {pending}, sending "
            f"{len(sending_stuck)} (+{len(sending_at_kill)} in flight at the RQ kill) "
            f"{'PASS' if ok else 'FAIL'}")
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
    finally:
        abort.set()
        stop.set()
        if faults is not None:
            faults.join(10)  # an outage in progress must not start a Redis after cleanup
        soak.cleanup(keep_logs=args.keep_logs or not ok)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
