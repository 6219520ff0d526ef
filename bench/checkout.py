"""Checkout throughput: checkouts/second and p95 for 1 and 8 concurrent buyers through
`checkout.submit` (validation, prices, stock UPDATEs, order, lines, history, outbox),
beside the same rows inserted through plain SQLAlchemy Core in the same run.

Each buyer's cart is filled before the clock starts; the timed part is the submit.
Message delivery is not timed here (bench/messages.py): with a Redis at BENCH_REDIS_URL
(default redis://127.0.0.1:6379/14) the jobs are only enqueued, as in production, and
the queue is emptied afterwards; without Redis they run inline after each commit.

    .venv/bin/python bench/checkout.py [--orders 400]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pifa_bench .venv/bin/python bench/checkout.py

On SQLite (default: a temporary file) writes serialise, so the 8-buyer figure shows the
lock, not the code. PASS when checkout keeps at least 50% of the Core rate.
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("PIFA_ENV", "development")

from sqlalchemy import func, insert, select  # noqa: E402


def redis_url() -> str:
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    try:
        from redis import Redis

        Redis.from_url(url, socket_connect_timeout=1).ping()
        return url
    except Exception:
        return ""


def build(url):
    from app import create_app
    from app.extensions import db
    from app.security import sync_roles

    app = create_app({"TESTING": True, "DATABASE_URL": url, "REDIS_URL": redis_url(),
                      "RQ_QUEUE": "pifa-bench",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "RATELIMIT_STORAGE_URI": "memory://",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 12}})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            from flask_migrate import upgrade

            if db.session.execute(select(func.count()).select_from(
                    db.metadata.tables["region"])).scalar() if _has_schema(db) else 0:
                sys.exit("refusing to run on a database that already has data")
            upgrade()
        else:
            db.create_all()
        sync_roles(app.appbuilder)
        db.session.commit()
    return app


def _has_schema(db):
    from sqlalchemy import inspect

    return inspect(db.engine).has_table("region")


def seed(app, buyers):
    from app.extensions import db
    from app.models import Member, MemberLevel, PackUnit, Product, Region, Spec
    from app.services import accounts

    with app.app_context():
        region = Region(name="海口", sort_order=1)
        level = MemberLevel(name="普通", sort_order=1)
        unit = PackUnit(base_unit="瓶", inner_unit="盒", inner_qty=24, outer_unit="箱",
                        outer_qty=24)
        db.session.add_all([region, level, unit])
        specs = []
        for n in range(20):
            product = Product(name=f"矿泉水{n}", item_no=f"B-{n}", on_shelf=True)
            spec = Spec(model="550ml", spec="整箱", pack_unit=unit, stock=10**8,
                        base_price=Decimal("1.20"), weight_kg=Decimal("0.6"))
            product.specs.append(spec)
            db.session.add(product)
            specs.append(spec)
        db.session.flush()
        users = []
        for n in range(buyers):
            user = accounts.create_account(f"139{n:08d}", f"买家{n}", "bench2026x", ["Customer"])
            db.session.add(Member(user_id=user.id, shop_name=f"店{n}", contact_name="x",
                                  phone=user.username, address="x", region_id=region.id,
                                  status="approved", level_id=level.id))
            users.append(user.id)
        db.session.commit()
        return users, [s.id for s in specs]


FORM = {"delivery": "pickup", "payment": "bank"}


def run_checkouts(app, user_ids, spec_ids, per_buyer):
    from app.extensions import db
    from app.services import cart, checkout

    latencies = []
    lock = threading.Lock()

    def buyer(user_id):
        with app.app_context():
            user = app.appbuilder.sm.get_user_by_id(user_id)
            for n in range(per_buyer):
                cart.add_to_cart(user, {spec_ids[n % len(spec_ids)]: 24,
                                        spec_ids[(n + 1) % len(spec_ids)]: 48})
                t0 = time.perf_counter()
                checkout.submit(user, user, dict(FORM, idempotency_key=uuid.uuid4().hex))
                with lock:
                    latencies.append(time.perf_counter() - t0)
            db.session.remove()

    return _timed(buyer, user_ids, latencies)


def run_core(app, user_ids, spec_ids, per_buyer):
    """The same rows (order, 2 lines, 1 event, 1 message, 2 stock updates) with Core."""
    from app.extensions import db
    from app.models import Message, Order, OrderEvent, OrderLine, Spec

    latencies = []
    lock = threading.Lock()

    def buyer(user_id):
        with app.app_context():
            engine = db.engine
            for n in range(per_buyer):
                t0 = time.perf_counter()
                with engine.begin() as conn:
                    order_id = conn.execute(insert(Order).values(
                        order_no=uuid.uuid4().hex[:20], user_id=user_id, member_id=1,
                        state="pending", idempotency_key=uuid.uuid4().hex,
                        delivery_method="pickup", payment_method="bank",
                        goods_total=Decimal("86.40"), total=Decimal("86.40"))
                        .returning(Order.id)).scalar_one()
                    for k, qty in ((n, 24), (n + 1, 48)):
                        sid = spec_ids[k % len(spec_ids)]
                        conn.execute(Spec.__table__.update().where(Spec.id == sid)
                                     .values(stock=Spec.stock - qty))
                        conn.execute(insert(OrderLine).values(
                            order_id=order_id, spec_id=sid, product_name="矿泉水",
                            base_unit="瓶", inner_unit="盒", inner_qty=24, outer_unit="箱",
                            outer_qty=24, unit_price=Decimal("1.20"), quantity=qty,
                            amount=Decimal("1.20") * qty))
                    conn.execute(insert(OrderEvent).values(order_id=order_id, action="submit",
                                                           to_state="pending", data={}))
                    conn.execute(insert(Message).values(channel="sms", recipient="1",
                                                        event="new_order", body="x",
                                                        params={}, status="pending"))
                with lock:
                    latencies.append(time.perf_counter() - t0)

    return _timed(buyer, user_ids, latencies)


def _timed(fn, user_ids, latencies):
    threads = [threading.Thread(target=fn, args=(uid,)) for uid in user_ids]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    elapsed = min(elapsed, sum(latencies))  # untimed cart filling is not throughput
    p95 = statistics.quantiles(latencies, n=20)[18] if len(latencies) > 1 else latencies[0]
    return len(latencies) / elapsed, p95 * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=400, help="orders per measurement")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    tmp = None
    if not url:
        tmp = tempfile.mkdtemp()
        url = f"sqlite:///{tmp}/bench.db"
    app = build(url)
    users, specs = seed(app, 8)
    print(f"database: {url.split('@')[-1]}; messages: "
          f"{'enqueued on ' + app.config['REDIS_URL'] if app.config['REDIS_URL'] else 'inline'}")
    ok = True
    for buyers in (1, 8):
        per = max(1, args.orders // buyers)
        ours = run_checkouts(app, users[:buyers], specs, per)
        core = run_core(app, users[:buyers], specs, per)
        ratio = ours[0] / core[0]
        verdict = "PASS" if ratio >= 0.5 else "FAIL"
        ok &= ratio >= 0.5
        print(f"{buyers} buyer(s): checkout {ours[0]:7.1f}/s p95 {ours[1]:6.1f} ms | "
              f"core {core[0]:7.1f}/s p95 {core[1]:6.1f} ms | ratio {ratio:.2f} {verdict}")
    print("checkout bench:", "PASS" if ok else "FAIL")
    if app.config["REDIS_URL"]:
        with app.app_context():
            from app.jobs import get_queue

            get_queue().empty()


if __name__ == "__main__":
    main()
