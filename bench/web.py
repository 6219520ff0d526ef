"""What the page benchmarks share: an app on an empty PostgreSQL database, a signed-in
test client and a timed page."""

import re
import statistics
import sys
import time


def fresh_app(url: str, script: str, table: str):
    """The app on `url` (PostgreSQL), migrated, with its roles; refuses a database whose
    `table` already has rows, so that nobody's data is measured over or mixed in."""
    from flask_migrate import upgrade
    from sqlalchemy import func, inspect, select, text

    from app import create_app
    from app.extensions import db
    from app.platform.security import sync_roles

    app = create_app({"TESTING": True, "DATABASE_URL": url, "REDIS_URL": "",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            sys.exit(f"{script} needs PostgreSQL: set DATABASE_URL")
        if inspect(db.engine).has_table(table) and db.session.scalar(
                select(func.count()).select_from(text(f'"{table}"'))):
            sys.exit(f"refusing to run on a database that already has rows in {table}")
        upgrade()
        sync_roles(app.appbuilder)
        db.session.commit()
    return app


def table_with_rows(engine) -> str | None:
    """The first table of this database that holds a row (Alembic's own excepted), or
    None: a bench writes only into a database that holds no data, and never deletes any."""
    from sqlalchemy import inspect, text

    quote = engine.dialect.identifier_preparer.quote
    with engine.connect() as conn:
        for name in sorted(inspect(engine).get_table_names()):
            if name != "alembic_version" and conn.execute(
                    text(f"SELECT 1 FROM {quote(name)} LIMIT 1")).first():
                return name
    return None


def signed_in_client(app, mobile: str, password: str):
    """The app's test client, signed in on the mobile sign-in page."""
    client = app.test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)[1]
    client.post("/auth/login", data={"mobile": mobile, "password": password,
                                     "csrf_token": token})
    return client


def time_page(client, url: str, requests: int, warmup: int = 20) -> tuple[float, float]:
    """(p50, p95) in milliseconds of GET `url`, after `warmup` untimed requests."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    for _ in range(warmup):
        client.get(url)
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18]
