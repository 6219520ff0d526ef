"""Checkout throughput: checkouts/second and p95 for 1 and 8 concurrent buyers through
`checkout.submit` (validation, prices, stock UPDATEs, order, lines, history, outbox,
jobs), beside the same order written by hand with SQLAlchemy Core in the same run.

The Core baseline does the work an order needs, and no more: the idempotency check, the
member (approved, level, region, phone), the delivery/payment settings, the cart with
its prices and its guards (on shelf, MOQ, stock), one conditional stock UPDATE per line
(`stock >= qty`, rowcount checked, rolled back when short), the order, its lines, its
order number, the emptied cart, the history event, the three outbox rows a submit writes
(the customer's SMS and in-app "order submitted", the salesman's "new order" SMS, with
their texts from the templates) and, after commit, one delivery job per message on the
same queue. After each side the rows are counted per table (and messages per event,
channel and status, stock taken, jobs queued); the script stops if the two sides wrote
anything different.

Timing: in every round each buyer fills its cart (the same `cart.add_to_cart` on both
sides, not timed), the buyers wait for each other, then each submits one order; a
round lasts from the first submit's start to the last one's end. Throughput is orders
divided by the summed round times; p95 is of the single submits. Ours and Core alternate
in four chunks so a load spike on the machine slows both alike.

With a Redis at BENCH_REDIS_URL (default redis://127.0.0.1:6379/14) the jobs are only
enqueued, as in production, on a queue of this run's own that is emptied afterwards;
without Redis they run inline after each commit on both sides.

    .venv/bin/python bench/checkout.py [--orders 400]
    createdb -h 127.0.0.1 -U postgres pifa_bench
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pifa_bench .venv/bin/python bench/checkout.py
    dropdb -h 127.0.0.1 -U postgres pifa_bench

A database that already holds rows is refused before anything is written. On SQLite
(default: a temporary file) writes serialise, so the 8-buyer figure shows the lock, not
the code. PASS when checkout keeps at least 50% of the Core rate.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC
from decimal import Decimal
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("PIFA_ENV", "development")

from sqlalchemy import delete, func, insert, select, update  # noqa: E402

THRESHOLD = 0.5
CHUNKS = 4
SHANGHAI = ZoneInfo("Asia/Shanghai")
FORM = {"delivery": "pickup", "payment": "bank"}
SALESMAN_MOBILE = "13800000011"


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
    from app.platform.security import sync_roles
    from bench.web import table_with_rows

    app = create_app({"TESTING": True, "DATABASE_URL": url, "REDIS_URL": redis_url(),
                      "RQ_QUEUE": f"pifa-bench-checkout-{uuid.uuid4().hex[:8]}",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "RATELIMIT_STORAGE_URI": "memory://",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 12}})
    with app.app_context():
        used = table_with_rows(db.engine)
        if used:
            sys.exit(f"refusing to run on a database that already holds data (table {used})")
        if db.engine.dialect.name == "postgresql":
            from flask_migrate import upgrade

            upgrade()
        else:
            db.create_all()
        sync_roles(app.appbuilder)
        db.session.commit()
    return app


def seed(app, buyers):
    """20 products, `buyers` approved members of one region and the region's salesman
    (their own salesman, so a submit alerts exactly one person: three outbox rows)."""
    from app.catalog.models import PackUnit, Product, Spec
    from app.extensions import db
    from app.members import staff
    from app.members.models import Member, MemberLevel, Region, StaffProfile
    from app.platform import accounts

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
        salesman = StaffProfile(name="王建国", phone=SALESMAN_MOBILE, kind="salesman",
                                regions=[region], active=True)
        staff.prepare_staff(salesman, "bench2026x")
        db.session.add(salesman)
        db.session.flush()
        users = []
        for n in range(buyers):
            user = accounts.create_account(f"139{n:08d}", f"买家{n}", "bench2026x", ["Customer"])
            db.session.add(Member(user_id=user.id, shop_name=f"店{n}", contact_name="x",
                                  phone=user.username, address="x", region_id=region.id,
                                  status="approved", level_id=level.id,
                                  own_salesman_id=salesman.id))
            users.append(user.id)
        db.session.commit()
        return users, [s.id for s in specs]


def fill_cart(user, spec_ids, n):
    """The untimed part of a round, the same on both sides."""
    from app.ordering import cart

    cart.add_to_cart(user, {spec_ids[n % len(spec_ids)]: 24,
                            spec_ids[(n + 1) % len(spec_ids)]: 48})


def submit_ours(app, user):
    from app.ordering import checkout

    checkout.submit(user, user, dict(FORM, idempotency_key=uuid.uuid4().hex))


def submit_core(app, user):
    """One order by hand: the reads, guards and writes `checkout.submit` must do."""
    from app.catalog.models import LevelPrice, PackUnit, Product, Spec
    from app.extensions import db
    from app.jobs import dispatch
    from app.members.models import Member, StaffProfile, staff_region
    from app.messaging.events import EVENTS
    from app.messaging.models import Message, MessageTemplate
    from app.ordering.models import (
        CartLine,
        DeliveryMethodSetting,
        Order,
        OrderEvent,
        OrderLine,
        PaymentMethodSetting,
    )
    from app.ordering.states import DEFAULT_DELIVERY_PAYMENTS, DEFAULT_PAYMENTS
    from app.platform.models import ShopSettings
    from app.platform.time import utcnow

    User = app.appbuilder.sm.user_model
    key = uuid.uuid4().hex
    delivery, payment = FORM["delivery"], FORM["payment"]
    with db.engine.connect() as conn, conn.begin() as tx:
        if conn.execute(select(Order.id).where(Order.user_id == user.id,
                                               Order.idempotency_key == key)).first():
            return
        member = conn.execute(
            select(Member.id, Member.status, Member.level_id, Member.region_id, Member.phone,
                   Member.own_salesman_id, User.username, User.first_name, User.last_name)
            .join(User, User.id == Member.user_id).where(Member.user_id == user.id)).one()
        if member.status != "approved":
            raise RuntimeError("not an approved member")
        pay = conn.execute(select(PaymentMethodSetting.enabled,
                                  PaymentMethodSetting.pay_before_shipping)
                           .where(PaymentMethodSetting.code == payment)).first() \
            or DEFAULT_PAYMENTS[payment]
        way = conn.execute(select(DeliveryMethodSetting.enabled,
                                  DeliveryMethodSetting.allowed_payments)
                           .where(DeliveryMethodSetting.code == delivery)).first() \
            or (True, DEFAULT_DELIVERY_PAYMENTS[delivery])
        if not (pay[0] and way[0] and payment in way[1]):
            raise RuntimeError("payment not allowed")
        shop = conn.execute(select(ShopSettings.pickup_address, ShopSettings.cs_phone)
                            .order_by(ShopSettings.id).limit(1)).first()
        lines = conn.execute(
            select(CartLine.spec_id, CartLine.quantity, Spec.model, Spec.spec, Spec.stock,
                   Spec.active, Spec.weight_kg, Spec.base_price, Product.name, Product.on_shelf,
                   PackUnit.base_unit, PackUnit.inner_unit, PackUnit.inner_qty,
                   PackUnit.outer_unit, PackUnit.outer_qty, LevelPrice.price)
            .join(Spec, Spec.id == CartLine.spec_id).join(Product, Product.id == Spec.product_id)
            .join(PackUnit, PackUnit.id == Spec.pack_unit_id)
            .outerjoin(LevelPrice, (LevelPrice.spec_id == Spec.id)
                       & (LevelPrice.level_id == member.level_id))
            .where(CartLine.user_id == user.id).order_by(CartLine.id)).all()
        if not lines:
            raise RuntimeError("empty cart")
        rows, goods, weight = [], Decimal("0"), Decimal("0")
        for ln in lines:
            if not (ln.active and ln.on_shelf) or ln.quantity % ln.inner_qty \
                    or ln.quantity > ln.stock:
                raise RuntimeError("cart needs correcting")
            price = Decimal(ln.price if ln.price is not None else ln.base_price)
            amount = (price * ln.quantity).quantize(Decimal("0.01"))
            goods += amount
            weight += Decimal(ln.weight_kg) * ln.quantity
            rows.append({"spec_id": ln.spec_id, "product_name": ln.name, "model": ln.model,
                         "spec_text": ln.spec, "base_unit": ln.base_unit,
                         "inner_unit": ln.inner_unit, "inner_qty": ln.inner_qty,
                         "outer_unit": ln.outer_unit, "outer_qty": ln.outer_qty,
                         "weight_kg": ln.weight_kg, "unit_price": price,
                         "quantity": ln.quantity, "amount": amount})
        now = utcnow()
        order_id = conn.execute(insert(Order).values(
            order_no=f"TMP{key[:20]}", user_id=user.id, member_id=member.id,
            region_id=member.region_id, placed_by_id=user.id, state="pending",
            idempotency_key=key, delivery_method=delivery, payment_method=payment,
            pay_before_shipping=bool(pay[1]), payment_status="unpaid",
            pickup_address=shop.pickup_address if shop else None, goods_total=goods,
            freight=Decimal("0.00"), total=goods, total_weight_kg=weight, created_at=now,
            updated_at=now).returning(Order.id)).scalar_one()
        conn.execute(insert(OrderLine), [dict(r, order_id=order_id) for r in rows])
        for r in rows:
            taken = conn.execute(update(Spec).where(Spec.id == r["spec_id"],
                                                    Spec.stock >= r["quantity"])
                                 .values(stock=Spec.stock - r["quantity"])).rowcount
            if taken != 1:
                tx.rollback()
                raise RuntimeError("sold out")
        order_no = f"{now.replace(tzinfo=UTC).astimezone(SHANGHAI):%Y%m%d}{order_id:06d}"
        conn.execute(update(Order).where(Order.id == order_id).values(order_no=order_no))
        conn.execute(delete(CartLine).where(CartLine.user_id == user.id))
        name = " ".join(p for p in (member.first_name, member.last_name) if p) \
            or member.username
        conn.execute(insert(OrderEvent).values(
            order_id=order_id, actor_id=user.id, actor_name=name[:64], actor_role="customer",
            action="submit", to_state="pending", data={}, customer_visible=True,
            created_at=now))
        # new_order goes to the own salesman when they serve the region, else to every
        # salesman of the region, else to customer service.
        salesmen = conn.execute(
            select(StaffProfile.id, StaffProfile.phone, StaffProfile.user_id)
            .join(staff_region, staff_region.c.staff_id == StaffProfile.id)
            .where(staff_region.c.region_id == member.region_id,
                   StaffProfile.kind == "salesman", StaffProfile.active.is_(True))
            .order_by(StaffProfile.id)).all()
        own = [s for s in salesmen if s.id == member.own_salesman_id]
        alerted = [(s.phone, s.user_id) for s in (own or salesmen)] or \
            ([(shop.cs_phone, None)] if shop and shop.cs_phone else [])
        wanted = [("order_submitted", "sms", member.phone or member.username, user.id),
                  ("order_submitted", "inapp", str(user.id), user.id)] + \
            [("new_order", "sms", phone, uid) for phone, uid in alerted]
        texts = {(t.event, t.channel): t.text for t in conn.execute(
            select(MessageTemplate.event, MessageTemplate.channel, MessageTemplate.text)
            .where(MessageTemplate.event.in_({w[0] for w in wanted})))}
        params = {"order_no": order_no}
        message_ids = conn.execute(insert(Message).returning(Message.id), [
            {"event": event, "channel": channel, "recipient": recipient, "user_id": uid,
             "template": event, "params": params, "status": "pending", "due_at": None,
             "body": texts.get((event, channel), EVENTS[event].text).format(**params),
             "created_at": now, "updated_at": now}
            for event, channel, recipient, uid in wanted]).scalars().all()
    for message_id in message_ids:  # after commit, as app.jobs does
        dispatch(app, "app.messaging.jobs.deliver_message", (message_id,))


def run_side(app, submit, user_ids, spec_ids, orders_per_buyer, offset):
    """(summed round seconds, submit latencies) of `orders_per_buyer` rounds."""
    from app.extensions import db

    barrier = threading.Barrier(len(user_ids))
    spans = [[] for _ in range(orders_per_buyer)]
    latencies = []
    lock = threading.Lock()
    failures = []

    def buyer(user_id):
        with app.app_context():
            user = app.appbuilder.sm.get_user_by_id(user_id)
            try:
                for n in range(orders_per_buyer):
                    fill_cart(user, spec_ids, offset + n)
                    barrier.wait()
                    t0 = time.perf_counter()
                    submit(app, user)
                    t1 = time.perf_counter()
                    with lock:
                        spans[n].append((t0, t1))
                        latencies.append(t1 - t0)
                    barrier.wait()  # the next round's cart filling overlaps no submit
            except threading.BrokenBarrierError:
                pass
            except Exception as exc:
                failures.append(exc)
                barrier.abort()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=buyer, args=(uid,)) for uid in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    seconds = sum(max(e for _s, e in round_) - min(s for s, _e in round_)
                  for round_ in spans)
    return seconds, latencies


def census(app) -> Counter:
    """Rows per table, messages per (event, channel, status), order events per action,
    stock left and jobs queued: what a side wrote is the difference of two censuses."""
    from app.catalog.models import Spec
    from app.extensions import db
    from app.jobs import get_queue
    from app.messaging.models import Message
    from app.ordering.models import Order, OrderEvent, OrderLine

    counts = Counter()
    with app.app_context():
        for table in db.metadata.sorted_tables:
            counts[f"rows {table.name}"] = db.session.scalar(
                select(func.count()).select_from(table))
        for event, channel, status, n in db.session.execute(
                select(Message.event, Message.channel, Message.status, func.count())
                .group_by(Message.event, Message.channel, Message.status)):
            counts[f"message {event}/{channel}/{status}"] = n
        for action, n in db.session.execute(select(OrderEvent.action, func.count())
                                            .group_by(OrderEvent.action)):
            counts[f"order_event {action}"] = n
        counts["stock left"] = db.session.scalar(select(func.sum(Spec.stock)))
        counts["sum of order totals (cents)"] = int(100 * (db.session.scalar(
            select(func.sum(Order.total))) or 0))
        counts["sum of line quantities"] = db.session.scalar(
            select(func.sum(OrderLine.quantity))) or 0
        queue = get_queue()
        if queue is not None:
            counts["jobs queued"] = queue.count
        db.session.remove()
    return counts


def diff(before: Counter, after: Counter) -> dict:
    return {k: after[k] - before[k] for k in sorted(set(before) | set(after))
            if after[k] != before[k]}


def measure(app, user_ids, spec_ids, orders):
    """Ours and Core alternating in chunks: (rate, p95 ms, what was written) per side."""
    per = max(1, orders // len(user_ids) // CHUNKS)
    sides = {"ours": submit_ours, "core": submit_core}
    totals = {name: [0.0, [], Counter()] for name in sides}
    offset = 0
    for _chunk in range(CHUNKS):
        for name, submit in sides.items():
            before = census(app)
            seconds, latencies = run_side(app, submit, user_ids, spec_ids, per, offset)
            written = diff(before, census(app))
            totals[name][0] += seconds
            totals[name][1] += latencies
            totals[name][2].update(written)
        offset += per
    result = {}
    for name, (seconds, latencies, written) in totals.items():
        p95 = statistics.quantiles(latencies, n=20)[18] if len(latencies) > 1 \
            else latencies[0]
        result[name] = (len(latencies) / seconds, p95 * 1000, dict(written))
    return result


def warm_up(app, user_ids, spec_ids):
    """One order per buyer on each side, untimed: connections, caches, compiled SQL."""
    for submit in (submit_ours, submit_core):
        run_side(app, submit, user_ids, spec_ids, 1, 0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=400, help="orders per measurement")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    tmp = None
    if not url:
        tmp = tempfile.mkdtemp(prefix="pifa-bench-")
        url = f"sqlite:///{tmp}/bench.db"
    app = build(url)
    try:
        users, specs = seed(app, 8)
        jobs = app.config["REDIS_URL"]
        print(f"database: {url.split('@')[-1]}; messages: "
              f"{'enqueued on ' + jobs if jobs else 'run inline after commit'}")
        ok = True
        figures = []
        for buyers in (1, 8):
            warm_up(app, users[:buyers], specs)
            result = measure(app, users[:buyers], specs, args.orders)
            (ours, ours_p95, ours_rows), (core, core_p95, core_rows) = \
                result["ours"], result["core"]
            print(f"{buyers} buyer(s), written by each side:")
            for key in sorted(set(ours_rows) | set(core_rows)):
                mark = "" if ours_rows.get(key) == core_rows.get(key) else "   <-- differs"
                print(f"    {key:44s} ours {ours_rows.get(key, 0):8d}  "
                      f"core {core_rows.get(key, 0):8d}{mark}")
            if ours_rows != core_rows:
                sys.exit("the two sides did not write the same rows: not a fair comparison")
            ratio = ours / core
            verdict = "PASS" if ratio >= THRESHOLD else "FAIL"
            ok &= ratio >= THRESHOLD
            figures.append(f"{buyers} buyer(s) ratio {ratio:.2f} {verdict}")
            print(f"{buyers} buyer(s): checkout {ours:7.1f}/s p95 {ours_p95:6.1f} ms | "
                  f"core {core:7.1f}/s p95 {core_p95:6.1f} ms | ratio {ratio:.2f} {verdict}")
        print(f"SUMMARY checkout: {'; '.join(figures)} (threshold {THRESHOLD:.2f}) "
              f"{'PASS' if ok else 'FAIL'}")
    finally:
        if app.config["REDIS_URL"]:
            with app.app_context():
                from app.jobs import get_queue

                get_queue().empty()
                get_queue().delete(delete_jobs=True)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
