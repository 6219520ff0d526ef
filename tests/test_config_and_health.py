"""The factory and its config layers, /healthz, demo data, catalogs and the language switch."""

import pytest

from app import ConfigError, create_app
from app.extensions import db
from tests.conftest import login


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for key in ("PIFA_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "RQ_QUEUE",
                "SMS_PROVIDER", "MEDIA_ROOT", "SESSION_COOKIE_SECURE"):
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
    monkeypatch.setenv("PIFA_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True


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
    from app.demo import seed_demo
    from app.models import Member, Region, StaffProfile

    def counts():
        sm = app.appbuilder.sm
        return (db.session.query(sm.user_model).count(), db.session.query(Region).count(),
                db.session.query(StaffProfile).count(), db.session.query(Member).count())

    assert seed_demo() > 0
    first = counts()
    assert first == (9, 3, 4, 3)
    assert seed_demo() == 0
    assert counts() == first
    statuses = sorted(m.status for m in db.session.query(Member))
    assert statuses == ["approved", "pending", "rejected"]
    qionghai = db.session.query(Region).filter_by(name="琼海").one()
    assert not [s for s in qionghai.staff if s.kind == "salesman"]


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
