"""The salesman's order list at scale: p95 of the first page and of a deep page (keyset
`?before=`) with 10 thousand and with 5 million orders on PostgreSQL.

    createdb -h 127.0.0.1 -U postgres pifa_orders_bench
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pifa_orders_bench \\
        .venv/bin/python bench/orders_list.py [--orders 5000000] [--requests 200]
    dropdb -h 127.0.0.1 -U postgres pifa_orders_bench

Orders are made by INSERT ... SELECT FROM generate_series inside PostgreSQL (not the ORM),
spread over three regions; the salesman serves two. The pages are requested through the
WSGI app as the signed-in salesman. PASS when each page at 5 million is at most 1.5x
slower than at 10 thousand.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("PIFA_ENV", "development")

from sqlalchemy import func, select, text  # noqa: E402

SMALL = 10_000


def build(url):
    from bench.web import fresh_app

    return fresh_app(url, "bench/orders_list.py", "order")


def seed_people(app):
    from app.extensions import db
    from app.members import staff
    from app.members.models import Member, Region, StaffProfile
    from app.platform import accounts

    with app.app_context():
        regions = [Region(name=n, sort_order=i) for i, n in enumerate(("海口", "三亚", "琼海"))]
        db.session.add_all(regions)
        db.session.flush()
        profile = StaffProfile(name="王建国", phone="13800000011", kind="salesman",
                               regions=regions[:2], active=True)
        staff.prepare_staff(profile, "bench2026x")
        db.session.add(profile)
        for n in range(300):
            user = accounts.create_account(f"139{n:08d}", f"客户{n}", "bench2026x",
                                           ["Customer"])
            db.session.add(Member(user_id=user.id, shop_name=f"测试酒店{n}", contact_name="x",
                                  phone=user.username, address="x", region_id=regions[n % 3].id,
                                  status="approved"))
        db.session.commit()


INSERT = text("""
INSERT INTO "order" (order_no, user_id, member_id, region_id, placed_by_id, state,
    idempotency_key, delivery_method, payment_method, pay_before_shipping, payment_status,
    goods_total, freight, total, total_weight_kg, created_at, updated_at, phone, contact)
SELECT lpad(g::text, 14, '0'), m.user_id, m.id, m.region_id, m.user_id,
    (ARRAY['pending','confirmed','assigned','delivering','shipped','delivered','received',
           'closed'])[1 + g % 8],
    md5(g::text), 'delivery', 'cod', false, 'unpaid', 100 + g % 900, 0, 100 + g % 900, 1,
    now() - make_interval(secs => CAST(:total AS integer) - g), now(), m.phone, m.contact_name
FROM generate_series(CAST(:start AS integer), CAST(:stop AS integer)) AS g
JOIN LATERAL (SELECT * FROM member ORDER BY id OFFSET (g % 300) LIMIT 1) m ON true
""")


def fill(app, start, stop, total):
    from app.extensions import db

    with app.app_context():
        step = 500_000
        for lo in range(start, stop + 1, step):
            db.session.execute(INSERT, {"start": lo, "stop": min(lo + step - 1, stop),
                                        "total": total})
            db.session.commit()
        db.session.execute(text("COMMIT"))
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text('VACUUM ANALYZE "order"'))


def measure(app, requests):
    from app.extensions import db
    from app.ordering.models import Order
    from bench.web import signed_in_client, time_page

    client = signed_in_client(app, "13800000011", "bench2026x")
    with app.app_context():
        # A page about 90% of the way back: keyset pagination starts there directly.
        low, high = db.session.execute(select(func.min(Order.id), func.max(Order.id))).one()
        deep = low + (high - low) // 10
    return {name: time_page(client, url, requests)
            for name, url in (("first page", "/sales/?tab=all"),
                              ("deep page", f"/sales/?tab=all&before={deep}"))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=5_000_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("set DATABASE_URL to an empty PostgreSQL database")
    app = build(url)
    seed_people(app)
    t0 = time.perf_counter()
    fill(app, 1, SMALL, args.orders)
    small = measure(app, args.requests)
    fill(app, SMALL + 1, args.orders, args.orders)
    print(f"filled {args.orders:,} orders in {time.perf_counter() - t0:.0f} s")
    large = measure(app, args.requests)
    ok = True
    for name in small:
        ratio = large[name][1] / small[name][1]
        ok &= ratio <= 1.5
        print(f"{name:10s}: p50/p95 {small[name][0]:.1f}/{small[name][1]:.1f} ms at "
              f"{SMALL:,} | {large[name][0]:.1f}/{large[name][1]:.1f} ms at "
              f"{args.orders:,} | ratio {ratio:.2f} {'PASS' if ratio <= 1.5 else 'FAIL'}")
    print("orders list bench:", "PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
