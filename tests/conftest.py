"""Test fixtures: one app per session, a clean database per test, factories, sign-in.

The database is SQLite (a file in a temporary folder) unless TEST_DATABASE_URL names a
PostgreSQL database; Redis tests use TEST_REDIS_URL. Without them those tests skip
and say why, except with CI=true, where a missing service is a failure.
"""

import os
import re
import shutil
import uuid

import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.platform.security import sync_roles

CI = os.environ.get("CI", "").lower() == "true"
# Under pytest-xdist (`make test` runs two workers) each worker is "gw0", "gw1", ...: it
# gets its own PostgreSQL database and its own Redis database, so the workers never
# truncate or flush each other's rows (SQLite files are per worker already).
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _worker_database(url: str) -> str:
    """`url`'s database, or under xdist a `<name>_<worker>` database beside it (made if
    missing; .ci/run drops them with its own)."""
    if not url or not WORKER:
        return url
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database or 'pifa_test'}_{WORKER}"
    admin = {"host": parsed.host or "127.0.0.1", "port": parsed.port or 5432,
             "user": parsed.username or "postgres", "dbname": "postgres", "autocommit": True}
    if parsed.password:
        admin["password"] = parsed.password
    with psycopg.connect(**admin) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                        (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return parsed.set(database=name).render_as_string(hide_password=False)


def _worker_redis(url: str) -> str:
    """`url`, or under xdist the database below it by the worker's number (15, 14, ...)."""
    match = re.fullmatch(r"(redis://[^/]+)/(\d+)", url or "")
    if not match or not WORKER:
        return url
    return f"{match[1]}/{int(match[2]) - int(WORKER.removeprefix('gw'))}"


TEST_DATABASE_URL = _worker_database(os.environ.get("TEST_DATABASE_URL", ""))
TEST_REDIS_URL = _worker_redis(os.environ.get("TEST_REDIS_URL", ""))
PASSWORD = "secret123"

# Tables that keep their rows between tests: roles and permissions, written once.
KEEP_TABLES = {"ab_permission", "ab_view_menu", "ab_permission_view", "ab_role",
               "ab_permission_view_role", "alembic_version"}


def need(condition: bool, why: str) -> None:
    """Skip with a reason on a laptop; fail under CI=true, where nothing may be missing."""
    if condition:
        return
    if CI:
        pytest.fail(f"CI=true and {why}")
    pytest.skip(why)


def app_config(tmp_path_factory, **extra) -> dict:
    base = tmp_path_factory.mktemp("pifa")
    url = TEST_DATABASE_URL or f"sqlite:///{base / 'test.db'}"
    config = {
        "TESTING": True,
        "PIFA_ENV": "development",
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "MEDIA_ROOT": str(base / "media"),
        "SERVER_NAME": None,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast; production keeps scrypt
        # The Limiter is one per process and takes the storage of the app made last; every
        # test app counts in memory so that none points it at a Redis that is down.
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    config.update(extra)
    return config


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app(app_config(tmp_path_factory))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            db.session.commit()
        db.drop_all()
        db.create_all()
        sync_roles(app.appbuilder)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        if TEST_DATABASE_URL:
            db.drop_all()
        db.engine.dispose()


def _clean(app):
    with app.app_context():
        db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()
    shutil.rmtree(app.config["MEDIA_ROOT"], ignore_errors=True)
    from app.extensions import limiter

    with app.app_context():
        limiter.reset()  # rate-limit counters are per test


@pytest.fixture(autouse=True)
def _fresh_rows(request):
    """Every test starts with roles and permissions only (when it uses the app)."""
    yield
    if "app" in request.fixturenames:
        _clean(request.getfixturevalue("app"))


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


class Factory:
    """Builds accounts, regions, staff and members; every mobile number is unique."""

    def __init__(self, app):
        self.app = app
        self._n = 0

    def mobile(self) -> str:
        self._n += 1
        return f"139{uuid.uuid4().int % 10**4:04d}{self._n:04d}"

    def user(self, *roles, mobile=None, name="测试用户", password=PASSWORD, active=True):
        from app.platform import accounts

        with self.app.app_context():
            user = accounts.create_account(mobile or self.mobile(), name, password, list(roles))
            user.active = active
            db.session.commit()
            return _Ref(user.id, user.username)

    def region(self, name=None):
        from app.members.models import Region

        with self.app.app_context():
            region = Region(name=name or f"区域{uuid.uuid4().hex[:6]}", sort_order=1, active=True)
            db.session.add(region)
            db.session.commit()
            return _Ref(region.id, region.name)

    def _default_region(self):
        from app.members.models import Region

        with self.app.app_context():
            found = db.session.query(Region).filter_by(name="测试默认区域").first()
            if found is not None:
                return _Ref(found.id, found.name)
        return self.region(name="测试默认区域")

    def staff(self, kind, regions, mobile=None, name="员工", plate="琼A·12345"):
        from app.members import staff
        from app.members.models import Region, StaffProfile

        with self.app.app_context():
            profile = StaffProfile(name=name, phone=mobile or self.mobile(), kind=kind,
                                   plate=plate if kind == "driver" else None,
                                   regions=[db.session.get(Region, r.id) for r in regions])
            staff.prepare_staff(profile, PASSWORD)
            db.session.add(profile)
            db.session.commit()
            return _Ref(profile.id, profile.phone, user_id=profile.user_id)

    def member(self, region=None, status="approved", mobile=None, shop="测试酒店"):
        from app.members.models import Member
        from app.platform.security import CUSTOMER

        user = self.user(CUSTOMER, mobile=mobile)
        if region is None:
            region = self._default_region()
        with self.app.app_context():
            complete = status != "incomplete"  # photos keys stand in for uploaded photos
            member = Member(user_id=user.id, shop_name=shop, contact_name="联系人",
                            phone=user.mobile, address="海口市某路 1 号",
                            region_id=region.id if region else None, status=status,
                            shop_photo=f"private/member/t/s{uuid.uuid4().hex}.jpg"
                            if complete else None,
                            licence_photo=f"private/member/t/l{uuid.uuid4().hex}.jpg"
                            if complete else None)
            db.session.add(member)
            db.session.commit()
            return _Ref(member.id, user.mobile, user_id=user.id)


class _Ref:
    """A detached handle: ids survive the app context that made them."""

    def __init__(self, id, mobile, user_id=None):
        self.id = id
        self.mobile = mobile
        self.name = mobile
        self.user_id = user_id if user_id is not None else id


@pytest.fixture
def make(app):
    return Factory(app)


def csrf_token(client, url="/auth/login") -> str:
    resp = client.get(url)
    html = resp.get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, f"no CSRF token on {url} ({resp.status_code} {html[:300]!r})"
    return match[1]


def login(client, mobile, password=PASSWORD):
    token = csrf_token(client)
    return client.post("/auth/login", data={"mobile": mobile, "password": password,
                                            "csrf_token": token})


@pytest.fixture
def redis_url():
    need(bool(TEST_REDIS_URL), "TEST_REDIS_URL is not set (a real Redis is needed)")
    return TEST_REDIS_URL


# The longest file first: under `make test`'s two workers (--dist loadfile) it starts at
# once on one worker while the other works through the rest, instead of starting last
# and running alone at the end.
LONGEST_FIRST = ("tests/test_no_server_errors.py",)


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in LONGEST_FIRST)
