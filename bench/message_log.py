"""The back office's message log and queue state at scale: p50/p95 of each page with 10
thousand and with 3 million messages on PostgreSQL.

    createdb -h 127.0.0.1 -U postgres pifa_messages_bench
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pifa_messages_bench \\
        .venv/bin/python bench/message_log.py [--messages 3000000] [--requests 100]
    dropdb -h 127.0.0.1 -U postgres pifa_messages_bench

Messages are made by INSERT ... SELECT FROM generate_series inside PostgreSQL (not the
ORM), one a second, as a busy distributor's orders leave them: in-app sent and SMS
logged or sent, one in a thousand failed, one in ten thousand uncertain, a few pending.
The pages are requested through the WSGI app as a signed-in admin. PASS when each page
at the large size is at most 1.5x slower (median) than at 10 thousand.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("PIFA_ENV", "development")

from sqlalchemy import func, select, text  # noqa: E402

SMALL = 10_000
ADMIN_MOBILE = "13800000001"
PASSWORD = "bench2026x"  # noqa: S105


def build(url):
    from app.extensions import db
    from app.platform import accounts
    from bench.web import fresh_app

    app = fresh_app(url, "bench/message_log.py", "message")
    with app.app_context():
        accounts.create_account(ADMIN_MOBILE, "林总", PASSWORD, ["Admin"])
        db.session.commit()
    return app


# g % 10000: 0 uncertain, 1..10 failed, 11..13 pending (due), the rest delivered.
# Every third message is in-app (sent), the others SMS (logged); events cycle through six.
# The phone searched has 60 messages at either size: a search costs what the customer's
# history holds, not what the table holds.
INSERT = text("""
INSERT INTO message (channel, recipient, event, template, params, body, status, provider,
    attempts, last_error, due_at, created_at, updated_at, sent_at)
SELECT
    CASE WHEN g % 3 = 0 THEN 'inapp' ELSE 'sms' END,
    CASE WHEN g % 3 = 0 THEN (g % 500)::text
         WHEN g <= 90 THEN '13912345678'
         ELSE '139' || lpad((g % 5000)::text, 8, '0') END,
    (ARRAY['order_submitted','new_order','order_confirmed','order_shipping',
           'driver_assigned','order_delivered'])[1 + g % 6],
    'order_confirmed', json_build_object('order_no', lpad(g::text, 14, '0')),
    '您的订单' || lpad(g::text, 14, '0') || '已确认，我们会尽快为您发货。',
    CASE WHEN g % 10000 = 0 THEN 'uncertain'
         WHEN g % 10000 BETWEEN 1 AND 10 THEN 'failed'
         WHEN g % 10000 BETWEEN 11 AND 13 THEN 'pending'
         WHEN g % 3 = 0 THEN 'sent' ELSE 'logged' END,
    CASE WHEN g % 3 = 0 THEN 'inapp' ELSE 'log' END,
    1,
    CASE WHEN g % 10000 BETWEEN 1 AND 10 THEN 'isv.MOBILE_NUMBER_ILLEGAL: 非法手机号' END,
    ts, ts, ts, ts
FROM generate_series(CAST(:start AS integer), CAST(:stop AS integer)) AS g,
     LATERAL (SELECT now() - make_interval(secs => CAST(:total AS integer) - g) AS ts) t
""")


def fill(app, start, stop, total):
    from app.extensions import db

    with app.app_context():
        step = 500_000
        for lo in range(start, stop + 1, step):
            db.session.execute(INSERT, {"start": lo, "stop": min(lo + step - 1, stop),
                                        "total": total})
            db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE message"))


def pages(app):
    from app.extensions import db
    from app.messaging.models import Message

    with app.app_context():
        low, high = db.session.execute(select(func.min(Message.id), func.max(Message.id))).one()
        deep = low + (high - low) // 10  # about 90% of the way back
        some_day = db.session.scalar(select(Message.created_at).where(Message.id == deep))
    day = some_day.strftime("%Y-%m-%d")
    return {
        "log, first page": "/admin/messages/list/",
        "log, deep page": f"/admin/messages/list/?before={deep}",
        "log, failed": "/admin/messages/list/?status=failed",
        "log, channel+event": "/admin/messages/list/?channel=sms&event=driver_assigned",
        "log, one day": f"/admin/messages/list/?from={day}&until={day}",
        "log, phone number": "/admin/messages/list/?q=13912345678",
        "queue state": "/admin/queues/",
    }


def measure(app, requests):
    from bench.web import signed_in_client, time_page

    client = signed_in_client(app, ADMIN_MOBILE, PASSWORD)
    return {name: time_page(client, url, requests, warmup=5)
            for name, url in pages(app).items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=3_000_000)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("set DATABASE_URL to an empty PostgreSQL database")
    app = build(url)
    t0 = time.perf_counter()
    fill(app, 1, SMALL, args.messages)
    small = measure(app, args.requests)
    fill(app, SMALL + 1, args.messages, args.messages)
    print(f"filled {args.messages:,} messages in {time.perf_counter() - t0:.0f} s")
    large = measure(app, args.requests)
    ok = True
    for name in small:
        ratio = large[name][0] / small[name][0]  # medians: p95 of ~30 ms pages is noise
        ok &= ratio <= 1.5
        print(f"{name:20s}: p50/p95 {small[name][0]:.1f}/{small[name][1]:.1f} ms at "
              f"{SMALL:,} | {large[name][0]:.1f}/{large[name][1]:.1f} ms at "
              f"{args.messages:,} | ratio {ratio:.2f} {'PASS' if ratio <= 1.5 else 'FAIL'}")
    print("message log bench:", "PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
