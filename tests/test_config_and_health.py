"""The factory and its config layers, /healthz, demo data, catalogs and the language switch."""

import pytest

from app import ConfigError, create_app
from app.extensions import db
from tests.conftest import login


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for key in ("PIFA_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "RQ_QUEUE",
                "SMS_PROVIDER", "MEDIA_ROOT", "SESSION_COOKIE_SECURE", "RATELIMIT_STORAGE_URI"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PIFA_INSTANCE_DIR", str(tmp_path))
    return tmp_path


def test_defaults_are_the_embedded_setup(clean_env):
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{clean_env / 'pifa.db'}"
    assert app.config["REDIS_URL"] == "" and app.config["SMS_PROVIDER"] == "log"
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["BABEL_DEFAULT_LOCALE"] == "zh"


def test_each_layer_overrides_the_one_before(clean_env, monkeypatch):
    (clean_env / "config.py").write_text(
        'RQ_QUEUE = "from-instance"\nSMS_PROVIDER = "from-instance"\nAPP_NAME = "Inst"\n')
    monkeypatch.setenv("RQ_QUEUE", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example:5432/pifa")
    app = create_app({"TESTING": True, "SMS_PROVIDER": "from-override"})
    assert app.config["APP_NAME"] == "Inst"  # instance file over defaults
    assert app.config["RQ_QUEUE"] == "from-env"  # environment over instance file
    assert app.config["SMS_PROVIDER"] == "from-override"  # create_app() over environment
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example:5432/pifa"


def test_production_refuses_the_default_secret_key(clean_env, monkeypatch):
    from flask import Flask

    from app import _load_config

    monkeypatch.setenv("PIFA_ENV", "production")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")  # shared rate-limit counts
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
    # The configuration step only: a whole app would point the process's one Limiter at
    # that Redis for every test after this one.
    bare = Flask("production", instance_path=str(clean_env))
    _load_config(bare, None)
    assert bare.config["SESSION_COOKIE_SECURE"] is True
    assert bare.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_production_is_the_default_environment(clean_env):
    with pytest.raises(ConfigError):
        create_app()


def test_healthz_reports_database_and_redis(app, client, tmp_path_factory):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json == {"status": "ok", "checks": {"database": "ok",
                                                    "redis": "not configured"}}
    from tests.conftest import app_config

    broken = create_app(app_config(tmp_path_factory, REDIS_URL="redis://127.0.0.1:1/0",
                                   DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"]))
    resp = broken.test_client().get("/healthz")
    assert resp.status_code == 503 and resp.json["checks"]["redis"].startswith("error")


def test_healthz_sees_real_redis(app, tmp_path_factory, redis_url):
    from tests.conftest import app_config

    live = create_app(app_config(tmp_path_factory, REDIS_URL=redis_url,
                                 DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"]))
    assert live.test_client().get("/healthz").json["checks"]["redis"] == "ok"


def test_demo_data_is_idempotent(app, ctx):
    import os

    from sqlalchemy import func, select

    from app.catalog import pricing, storefront
    from app.catalog.models import (
        Brand,
        Category,
        LevelPrice,
        PackUnit,
        Product,
        ProductImage,
        Spec,
    )
    from app.content.models import Article, HomeBlock, Store
    from app.demo.seed import seed_demo
    from app.members.models import Member, MemberLevel, Region, StaffProfile
    from app.platform import uploads
    from app.platform.models import ShopSettings

    tables = (Region, StaffProfile, Member, MemberLevel, Category, Brand, PackUnit, Product,
              Spec, LevelPrice, ProductImage, Article, Store, HomeBlock)

    def counts():
        sm = app.appbuilder.sm
        rows = [db.session.scalar(select(func.count()).select_from(sm.user_model))]
        rows += [db.session.scalar(select(func.count()).select_from(t)) for t in tables]
        files = sum(len(f) for _, _, f in os.walk(app.config["MEDIA_ROOT"]))
        return rows, files

    assert seed_demo() > 0
    first = counts()
    assert first[0][:4] == [11, 3, 4, 5]
    assert seed_demo() == 0
    assert counts() == first

    statuses = sorted(m.status for m in db.session.query(Member))
    assert statuses == ["approved", "approved", "approved", "pending", "rejected"]
    from app.ordering.models import Order

    states = {o.state for o in db.session.query(Order)}
    assert states == {"pending", "confirmed", "assigned", "delivering", "shipped",
                      "ready_for_pickup", "delivered", "received", "closed"}
    regions = {o.region.name for o in db.session.query(Order)}
    assert regions == {"海口", "三亚", "琼海"}
    states_list = sorted(o.state for o in db.session.query(Order))
    assert len(states_list) == 12, states_list
    from app.payments.models import Voucher

    assert db.session.query(Voucher).filter_by(status="pending").count() == 1
    assert db.session.query(Member).filter(Member.credit_limit.isnot(None)).count() == 1
    delivered = db.session.query(Order).filter_by(state="delivered").one()
    assert delivered.photos and delivered.payment_status == "paid"
    qionghai = db.session.query(Region).filter_by(name="琼海").one()
    assert not [s for s in qionghai.staff if s.kind == "salesman"]

    levels = db.session.scalars(select(MemberLevel).order_by(MemberLevel.sort_order)).all()
    assert [lv.name for lv in levels] == ["普通", "银牌", "金牌"]
    assert db.session.scalar(select(ShopSettings)).default_level.name == "普通"
    approved = {m.phone: m.level.name for m in db.session.query(Member).filter_by(
        status="approved")}
    assert approved == {"13900000031": "银牌", "13900000034": "金牌", "13900000035": "普通"}
    storage = uploads.get_storage()
    for member in db.session.query(Member):  # complete profiles, photos kept private
        assert member.shop_photo.startswith("private/") and storage.exists(member.shop_photo)
        assert member.licence_photo.startswith("private/")

    assert all(c.level == len(c.path_name().split(" / ")) <= 3
               for c in db.session.query(Category))
    products = db.session.query(Product).all()
    assert len(products) >= 55
    assert len([p for p in products if not p.on_shelf]) == 2
    for product in products:
        assert product.specs and product.images and product.brand and product.category
        assert product.cover == product.images[0].key and storage.exists(product.cover)
        assert not product.category.children  # products sit in leaf categories
        assert product.item_no.lower() in product.search_text
    specs = db.session.query(Spec).all()
    for spec in specs:
        unit = spec.pack_unit
        assert unit.inner_qty >= 1 and unit.outer_qty % unit.inner_qty == 0
        assert spec.stock > 0 and spec.stock % unit.inner_qty == 0
        assert spec.base_price > 0 and spec.weight_kg > 0
        assert all(lp.price <= spec.base_price for lp in spec.level_prices)
    gold = levels[2]
    # one spec has no 金牌 price: a 金牌 member pays its base price (the fallback)
    without_gold = [s for s in specs if gold.id not in {lp.level_id for lp in s.level_prices}]
    assert len(without_gold) == 1
    spec = without_gold[0]
    assert pricing.unit_price(spec, pricing.PriceAccess(True, gold.id)) == spec.base_price

    found = storefront.search_products("kqs", 1, pricing.PriceAccess(True))
    assert found.total >= 1 and all("矿泉水" in c.product.name for c in found.items)
    blocks = db.session.scalars(select(HomeBlock).order_by(HomeBlock.position)).all()
    assert [b.kind for b in blocks] == ["banner", "icon_nav", "notice", "products", "products",
                                        "articles"]
    assert len(blocks[0].items) == 3 and 6 <= len(blocks[1].items) <= 8
    assert all(i.link.startswith("/category/") and storage.exists(i.image)
               for b in blocks[:2] for i in b.items)
    assert sorted(a.kind for a in db.session.query(Article)) == ["announcement", "article",
                                                                 "page"]


def test_catalogs_are_complete():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "tools/i18n.py", "check"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_back_office_is_chinese_by_default_and_switches_to_english(app, make):
    client = app.test_client()
    login(client, make.user("Admin").mobile)
    html = client.get("/admin/").get_data(as_text=True)
    assert "业务管理" in html and "基础设置" in html
    assert client.get("/lang/en").status_code == 302
    html = client.get("/admin/").get_data(as_text=True)
    assert "Business" in html and "Basic settings" in html and "业务管理" not in html
    client.get("/lang/zh")
    assert "业务管理" in client.get("/admin/").get_data(as_text=True)


def test_mobile_language_switch_returns_to_the_page(app, client):
    resp = client.get("/auth/lang/en?next=/auth/login")
    assert resp.status_code == 302 and resp.headers["Location"] == "/auth/login"
    assert "Sign in" in client.get("/auth/login").get_data(as_text=True)
    client.get("/auth/lang/zh?next=https://evil.example/")
    html = client.get("/auth/login").get_data(as_text=True)
    assert "登录" in html
    assert client.get("/auth/lang/xx?next=/").status_code == 302  # unknown: ignored


def test_every_documented_setting_can_be_set_from_the_environment():
    """Each variable of the settings tables (docs/operations.md, README) is read from the
    environment: a documented setting that cannot be set is a trap in production."""
    import re
    from pathlib import Path

    import config

    root = Path(__file__).resolve().parent.parent
    documented = set()
    for doc in (root / "docs" / "operations.md", root / "README.md"):
        for line in doc.read_text(encoding="utf-8").splitlines():
            if line.startswith("| `"):
                first_cell = line.split("|")[1]
                documented.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    assert len(documented) > 30
    missing = documented - set(config.ENV_KEYS) - {"PIFA_INSTANCE_DIR"}  # read by create_app
    assert missing == set()


def test_the_error_page_needs_nothing_from_a_database_that_failed(app, client, monkeypatch,
                                                                  make):
    """A view fails on the database and leaves the session needing a rollback: the 500
    page still shows its message (it once crashed in its own settings query and answered
    an empty body)."""
    import contextlib

    from sqlalchemy.exc import IntegrityError

    from app.members.models import Region
    from app.ordering import queries

    region = make.region(name="海口")
    salesman = make.staff("salesman", [region])
    login(client, salesman.mobile)

    def broken(*_args, **_kwargs):
        db.session.add(Region(name="海口"))  # a duplicate: the flush fails, and the
        with contextlib.suppress(IntegrityError):  # session refuses every query after it
            db.session.flush()
        return db.session.query(Region).all()

    monkeypatch.setattr(queries, "sales_orders", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    resp = client.get("/sales/")
    assert resp.status_code == 500
    html = resp.get_data(as_text=True)
    assert "系统出错了，请稍后再试。" in html and "<h1>" in html
    monkeypatch.undo()
    assert client.get("/sales/").status_code == 200  # and the next request is fine
