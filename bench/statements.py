"""Monthly statements at scale: issuing one month's 对账单 for 10 thousand 统一结算 members
with 1 million orders, on PostgreSQL, beside two floors measured in the same run.

    createdb -h 127.0.0.1 -U postgres pifa_bench_statements
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pifa_bench_statements \\
        .venv/bin/python bench/statements.py [--members 10000] [--orders 1000000]
    dropdb -h 127.0.0.1 -U postgres pifa_bench_statements

1. Database: DATABASE_URL, PostgreSQL, holding no rows (refused otherwise, before anything
   is written; nothing is ever deleted from it). Schema from the migrations.
2. Data, written by SQL on the server (generate_series): the members (accounts, 统一结算),
   the orders (80 % delivered in the month measured, 20 % in the three months before),
   each order's delivery entry in the ledger at its delivery time, and a payment entry
   for every other order a few days later. What the ledger would hold after the
   workflow posted those orders; nothing else is needed to issue statements.
3. Three measurements, each timed from the first query to the last row written or read:
   - issue: statements.issue(month), the code the periodic task runs (batches of
     members, a few set-based queries each, bulk inserts), committed;
   - floor "same writes in SQL": one INSERT … SELECT of the statements (opening, the
     month's debits and credits, closing) and one of their lines with the running
     balance (a window function), in a transaction rolled back afterwards: the same
     rows written by the database alone, without aging (the floor of the work);
   - floor "sums": the single aggregate of the same sums per member (read only), the
     floor the issue names.
   Peak memory: the process's peak resident size (ru_maxrss) grown during the issue.
4. Checked: the issued statements' openings, debits, credits and closings equal the
   aggregate's, member by member, and their lines count the month's entries.
   SUMMARY PASS when the issue takes at most --max-ratio (3) times the same-writes
   floor and its memory grows by at most --max-memory-mb (256): memory must be bounded
   by a batch, not by the month.
"""

import argparse
import os
import resource
import sys
import time
import uuid
from datetime import date
from decimal import Decimal

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
os.environ.setdefault("PIFA_ENV", "development")

from sqlalchemy import text  # noqa: E402

PERIOD = date(2026, 10, 1)


def log(msg: str = "") -> None:
    print(msg, flush=True)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(url: str):
    from app import create_app
    from app.extensions import db
    from bench.storefront import create_schema
    from bench.web import table_with_rows

    if not url.startswith("postgresql"):
        sys.exit("bench/statements.py measures PostgreSQL: give DATABASE_URL=postgresql://…")
    work = f"/tmp/pifa-bench-statements-{uuid.uuid4().hex[:8]}"
    os.makedirs(work, exist_ok=True)
    os.environ["PIFA_INSTANCE_DIR"] = work
    app = create_app({"DATABASE_URL": url, "PIFA_ENV": "development",
                      "SECRET_KEY": "bench-" + uuid.uuid4().hex, "REDIS_URL": "",
                      "RATELIMIT_STORAGE_URI": "memory://", "MEDIA_ROOT": work})
    with app.app_context():
        used = table_with_rows(db.engine)
        if used:
            sys.exit(f"refusing to run on a database that already holds data (table {used}); "
                     "give the bench an empty database")
    create_schema(app)
    return app


def seed(app, members: int, orders: int) -> None:
    """Accounts, members, orders and their ledger entries, by SQL on the server."""
    from app.extensions import db

    start = PERIOD.isoformat()
    steps = [
        ("accounts", f"""
            INSERT INTO ab_user (first_name, last_name, username, email, active, created_on,
                                 changed_on)
            SELECT '店' || g, '', 'm' || (13900000000 + g), 'm' || g || '@bench.invalid',
                   true, now(), now() FROM generate_series(1, {members}) g"""),
        ("members", """
            INSERT INTO member (user_id, shop_name, status, monthly_settlement, created_at)
            SELECT id, '酒店' || id, 'approved', true, now() FROM ab_user
            WHERE email LIKE '%@bench.invalid'"""),
        ("orders", f"""
            INSERT INTO "order" (order_no, user_id, member_id, state, idempotency_key,
                                 delivery_method, payment_method, pay_before_shipping,
                                 payment_status, goods_total, freight, total,
                                 total_weight_kg, created_at, updated_at, delivered_at)
            SELECT 'B' || lpad(g::text, 12, '0'), m.user_id, m.id, 'delivered',
                   md5(g::text), 'delivery', 'monthly', false, 'unpaid', t.total, 0,
                   t.total, 0, t.at, t.at, t.at
            FROM generate_series(1, {orders}) g
            JOIN member m ON m.id = (SELECT min(id) FROM member) + (g % {members})
            CROSS JOIN LATERAL (SELECT round((20 + (g::bigint * 7919 % 5000) / 10.0)::numeric, 2)
                                         AS total,
                                       CASE WHEN g % 5 = 0
                                         THEN timestamp '{start}' - (g % 90 + 1) * interval '1 day'
                                         ELSE timestamp '{start}' + (g % 30) * interval '1 day'
                                              + (g % 86400) * interval '1 second'
                                       END - interval '8 hours' AS at) t"""),
        ("delivery entries", """
            INSERT INTO ledger_entry (member_id, kind, amount, order_id, created_at)
            SELECT member_id, 'delivery', total, id, delivered_at FROM "order"
            WHERE order_no LIKE 'B%'"""),
        ("payments", """
            INSERT INTO payment (order_id, amount, method, created_at)
            SELECT id, total, 'monthly', delivered_at + interval '3 days' FROM "order"
            WHERE order_no LIKE 'B%' AND id % 2 = 0"""),
        ("payment entries", """
            INSERT INTO ledger_entry (member_id, kind, amount, order_id, payment_id, created_at)
            SELECT o.member_id, 'payment', -p.amount, o.id, p.id, p.created_at
            FROM payment p JOIN "order" o ON o.id = p.order_id"""),
        ("analyze", "ANALYZE"),
    ]
    with app.app_context():
        for name, sql in steps:
            t0 = time.perf_counter()
            result = db.session.execute(text(sql))
            db.session.commit()
            rows = result.rowcount if result.rowcount and result.rowcount > 0 else ""
            log(f"  {name:18s} {rows!s:>9} rows  {time.perf_counter() - t0:6.1f} s")


SUMS = """
    SELECT member_id,
           coalesce(sum(amount) FILTER (WHERE created_at < :start), 0) AS opening,
           coalesce(sum(amount) FILTER (WHERE created_at >= :start AND amount > 0), 0)
               AS debits,
           coalesce(sum(amount) FILTER (WHERE created_at >= :start AND amount < 0), 0)
               AS credits,
           count(*) FILTER (WHERE created_at >= :start) AS lines
    FROM ledger_entry WHERE created_at < :end
    GROUP BY member_id ORDER BY member_id"""

SAME_WRITES = ["""
    INSERT INTO statement (number, member_id, period, opening, debits, credits, closing,
                           aged_0_30, aged_31_60, aged_61_90, aged_over_90, status,
                           created_at)
    SELECT 'F' || to_char(:period, 'YYYYMM') || lpad(m.id::text, 6, '0'), m.id, :period,
           coalesce(s.opening, 0), coalesce(s.debits, 0), coalesce(s.credits, 0),
           coalesce(s.opening, 0) + coalesce(s.debits, 0) + coalesce(s.credits, 0),
           0, 0, 0, 0, 'issued', now()
    FROM member m LEFT JOIN (
        SELECT member_id,
               sum(amount) FILTER (WHERE created_at < :start) AS opening,
               sum(amount) FILTER (WHERE created_at >= :start AND amount > 0) AS debits,
               sum(amount) FILTER (WHERE created_at >= :start AND amount < 0) AS credits
        FROM ledger_entry WHERE created_at < :end GROUP BY member_id) s
      ON s.member_id = m.id
    WHERE m.monthly_settlement""", """
    INSERT INTO statement_line (statement_id, entry_id, posted_at, kind, order_no, amount,
                                balance)
    SELECT st.id, e.id, e.created_at, e.kind, o.order_no, e.amount,
           st.opening + sum(e.amount) OVER (PARTITION BY e.member_id
                                            ORDER BY e.created_at, e.id)
    FROM ledger_entry e
    JOIN statement st ON st.member_id = e.member_id AND st.period = :period
    JOIN "order" o ON o.id = e.order_id
    WHERE e.created_at >= :start AND e.created_at < :end"""]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--max-ratio", type=float, default=3.0)
    parser.add_argument("--max-memory-mb", type=float, default=256.0)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    app = build(url)
    from app.extensions import db
    from app.payments import statements
    from app.payments.statements import _utc, next_month

    log(f"seeding {args.members} members, {args.orders} orders (PostgreSQL, server-side)")
    seed(app, args.members, args.orders)
    params = {"period": PERIOD, "start": _utc(PERIOD), "end": _utc(next_month(PERIOD))}
    with app.app_context():
        t0 = time.perf_counter()
        sums = db.session.execute(text(SUMS), params).all()
        floor_sums = time.perf_counter() - t0
        db.session.rollback()

        t0 = time.perf_counter()
        for sql in SAME_WRITES:
            db.session.execute(text(sql), params)
        written = db.session.scalar(text("SELECT count(*) FROM statement_line"))
        floor_writes = time.perf_counter() - t0
        db.session.rollback()

        rss_before = rss_mb()
        t0 = time.perf_counter()
        issued = statements.issue(PERIOD)
        took = time.perf_counter() - t0
        grown = rss_mb() - rss_before

        got = {row.member_id: row for row in db.session.execute(text(
            "SELECT member_id, opening, debits, credits, closing, "
            "(SELECT count(*) FROM statement_line l WHERE l.statement_id = s.id) AS lines "
            "FROM statement s WHERE period = :period"), params)}
        wrong = [row.member_id for row in sums
                 if row.member_id not in got or
                 (got[row.member_id].opening, got[row.member_id].debits,
                  got[row.member_id].credits, got[row.member_id].lines) !=
                 (Decimal(row.opening), Decimal(row.debits), Decimal(row.credits), row.lines)
                 or got[row.member_id].closing != Decimal(row.opening) + Decimal(row.debits)
                 + Decimal(row.credits)]
    log(f"\nissue: {issued.statements} statements, {issued.lines} lines in {took:.1f} s; "
        f"peak memory grew {grown:.0f} MB")
    log(f"floor, same writes in SQL: {written} lines in {floor_writes:.1f} s")
    log(f"floor, the sums alone: {len(sums)} members in {floor_sums:.2f} s")
    ratio = took / floor_writes if floor_writes else float("inf")
    ok = not wrong and issued.statements == len(sums) and issued.lines == written and \
        ratio <= args.max_ratio and grown <= args.max_memory_mb
    if wrong:
        log(f"MISMATCH for {len(wrong)} members, e.g. {wrong[:5]}")
    log(f"SUMMARY statements postgresql: {issued.statements} statements {issued.lines} lines "
        f"in {took:.1f} s = {ratio:.2f}x the same writes in SQL ({floor_writes:.1f} s; "
        f"the sums alone {floor_sums:.2f} s), memory +{grown:.0f} MB "
        f"(at most {args.max_ratio:g}x and {args.max_memory_mb:g} MB; sums "
        f"{'match' if not wrong else 'DIFFER'}) {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
