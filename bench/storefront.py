"""Storefront throughput: our pages beside a bare Flask + SQLAlchemy app, same database.

    .venv/bin/python bench/storefront.py [--products 50000] [--requests 300]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pifa_bench \
        .venv/bin/python bench/storefront.py

1. Database: DATABASE_URL, or a fresh temporary SQLite file. The schema comes from the
   migrations (flask_migrate.upgrade(), so PostgreSQL gets the pg_trgm index); a
   database that already holds products is refused, nothing is written to it.
2. Seed, with bulk Core inserts: N products (realistic Chinese names, search_text
   built by app.catalog.search exactly as the app builds it) x 3 specs x 3 member
   levels, 2 images per product, a three-level category tree, brands, tags.
3. Measure in-process through the WSGI app (app.test_client(), warm-up first), signed
   in as an approved member of a level (POST /auth/login with the form's CSRF token):
   the category page (/category/<top-level id>), a product page and a pinyin-initials
   search (/search?q=kqs). Then a bare Flask app (own engine, SQLAlchemy Core, no FAB,
   no templates, no session) answers the same URLs with the same queries (product
   page of 20 with count, specs, level prices; one product with specs, images and
   prices; the LIKE search) as JSON.
4. Prints requests/s, p50 and p95 (ms) of each, the ratio ours/bare with PASS when
   >= 0.60 (FAIL otherwise, with a cProfile of the failing page), on PostgreSQL the
   EXPLAIN ANALYZE of the search queries, and a one-line summary.
"""

import argparse
import cProfile
import io
import os
import pstats
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from types import SimpleNamespace

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
os.environ.setdefault("PIFA_ENV", "development")

THRESHOLD = 0.60
BATCH = 5000
PASSWORD = "bench2026"
MEMBER_MOBILE = "13912345678"
SEARCH_Q = "kqs"  # pinyin initials of 矿泉水

# A top-level category, its level-2 children (each gets 4 leaves) and its product nouns.
TREE = [
    ("客房用品", ["一次性洗漱", "拖鞋", "客房小件", "洗护用品"],
     ["牙刷套装", "梳子", "浴帽", "洗发水", "沐浴露", "护发素", "香皂", "棉签", "针线包",
      "鞋擦", "拖鞋", "剃须刀", "浴袍", "毛巾"]),
    ("纸品", ["生活用纸", "餐饮纸品", "商用纸品", "湿巾"],
     ["卷纸", "抽纸", "擦手纸", "餐巾纸", "手帕纸", "大盘纸", "面巾纸", "湿巾"]),
    ("清洁用品", ["洗涤剂", "垃圾袋", "清洁工具", "消毒用品"],
     ["洗衣液", "洗洁精", "消毒液", "玻璃清洁剂", "洁厕剂", "垃圾袋", "拖把", "抹布",
      "橡胶手套"]),
    ("饮品", ["瓶装水", "茶包咖啡", "饮料", "冲调"],
     ["矿泉水", "纯净水", "苏打水", "椰子水", "红茶包", "绿茶包", "速溶咖啡", "挂耳咖啡"]),
    ("餐饮用品", ["一次性餐具", "打包用品", "厨房用品", "吧台用品"],
     ["纸杯", "塑料杯", "竹筷", "勺子", "打包餐盒", "吸管", "保鲜膜", "锡纸"]),
    ("酒店布草", ["床品", "毛巾类", "浴袍类", "台布"],
     ["床单", "被套", "枕套", "枕芯", "浴巾", "地巾"]),
]
LEAF_NAMES = ["A 类", "B 类", "C 类", "D 类"]
QUALIFIERS = ["", "", "加厚", "酒店", "一次性", "经济型", "高档", "环保", "商用", "迷你",
              "大号", "小号", "优选", "整箱装"]
SIZES = ["", "500ml", "1L", "28cm", "100只装", "3层", "5kg", "24瓶", "10卷", "白色",
         "独立包装", "550ml"]
BRAND_A = ["椰岛", "南海", "琼州", "海韵", "清泉", "宜客", "舒眠", "云柔", "百洁", "绿洲",
           "琼香", "棉语", "海棠", "鹿城", "万宁", "五指"]
BRAND_B = ["优品", "日用", "实业", "", "家居", "生活"]
PACKS = [("把", "盒", 20, "箱", 400), ("瓶", "盒", 24, "箱", 24), ("套", "盒", 50, "箱", 500),
         ("卷", "盒", 10, "箱", 100), ("个", "盒", 100, "箱", 2000), ("扎", "盒", 10, "箱", 100),
         ("桶", "盒", 2, "箱", 4), ("双", "包", 20, "箱", 200)]
LEVELS = [("普通", 1, Decimal("1")), ("银牌", 2, Decimal("0.95")), ("金牌", 3, Decimal("0.90"))]
MEMBER_LEVEL = "银牌"
SPEC_TEXTS = ["小号", "中号", "大号", "单支装", "独立包装", "加厚款", "经济款", "白色", "彩色"]


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def log(msg: str) -> None:
    print(msg, flush=True)


# ---- database and seed -------------------------------------------------------------------

def make_app(url: str, work: str):
    from app import create_app

    os.environ["PIFA_INSTANCE_DIR"] = work  # no instance/config.py of this checkout
    return create_app({"DATABASE_URL": url, "PIFA_ENV": "development",
                       "SECRET_KEY": "bench-secret", "REDIS_URL": "",
                       "MEDIA_ROOT": os.path.join(work, "media")})


def refuse_if_used(engine) -> None:
    from sqlalchemy import inspect, text

    if "product" in inspect(engine).get_table_names():
        with engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM product")).scalar()
        if n:
            sys.exit(f"refusing: this database already has {n} products "
                     "(the bench needs an empty database it may fill)")


def create_schema(app) -> None:
    import flask_migrate

    from app.extensions import db
    from app.platform.security import sync_roles

    with app.app_context():
        flask_migrate.upgrade()
        sync_roles(app.appbuilder)
        db.session.commit()


def seed(app, n_products: int, rng: random.Random) -> dict:
    """Bulk-insert the catalog with SQLAlchemy Core; returns what the pages need."""
    from sqlalchemy import func, insert, select, text

    from app.catalog import search
    from app.catalog.models import (
        Brand,
        Category,
        LevelPrice,
        PackUnit,
        Product,
        ProductImage,
        Spec,
        Tag,
        product_tag,
    )
    from app.extensions import db
    from app.members.models import MemberLevel
    from app.platform.models import ShopSettings
    from app.platform.time import utcnow

    counts = {}
    with app.app_context():
        engine = db.engine
        now = utcnow()
        with engine.begin() as conn:
            conn.execute(insert(ShopSettings.__table__), [{
                "shop_name": "椰城酒店用品批发", "is_open": True, "theme_color": "#D83B2D",
                "auto_receive_days": 7, "updated_at": now}])
            conn.execute(insert(MemberLevel.__table__),
                         [{"id": i + 1, "name": n, "sort_order": o}
                          for i, (n, o, _) in enumerate(LEVELS)])
            conn.execute(insert(PackUnit.__table__), [
                {"id": i + 1, "base_unit": b, "inner_unit": iu, "inner_qty": iq,
                 "outer_unit": ou, "outer_qty": oq} for i, (b, iu, iq, ou, oq) in enumerate(PACKS)])
            conn.execute(insert(Tag.__table__), [
                {"id": i + 1, "name": n} for i, n in enumerate(["热销", "新品", "整箱特惠"])])
            brands = []
            for a in BRAND_A:
                for b in BRAND_B[:3]:
                    brands.append(a + b)
            brands = brands[:40]
            conn.execute(insert(Brand.__table__), [
                {"id": i + 1, "name": n, "story": f"{n}：海南本地酒店用品品牌。", "sort_order": i,
                 "logo": f"public/brand/bench/{i + 1}.jpg"} for i, n in enumerate(brands)])
            cats, leaves_of_top, cid = [], {}, 0
            for t_order, (top, mids, _) in enumerate(TREE):
                cid += 1
                top_id = cid
                cats.append({"id": top_id, "name": top, "parent_id": None, "level": 1,
                             "sort_order": t_order, "active": True})
                leaves_of_top[top_id] = []
                for m_order, mid in enumerate(mids):
                    cid += 1
                    mid_id = cid
                    cats.append({"id": mid_id, "name": mid, "parent_id": top_id, "level": 2,
                                 "sort_order": m_order, "active": True})
                    for l_order, leaf in enumerate(LEAF_NAMES):
                        cid += 1
                        cats.append({"id": cid, "name": f"{mid}{leaf}", "parent_id": mid_id,
                                     "level": 3, "sort_order": l_order, "active": True})
                        leaves_of_top[top_id].append(cid)
            conn.execute(insert(Category.__table__), cats)
        counts["categories"] = len(cats)

        # search_text exactly as the app builds it; pinyin memoised while seeding only.
        original = search._pinyin
        search._pinyin = lru_cache(maxsize=None)(original)
        tops = list(leaves_of_top)
        spec_id = 0
        products, specs, prices, images, tags = [], [], [], [], []
        totals = dict.fromkeys(("products", "specs", "level_prices", "images", "tags"), 0)

        def flush(conn):
            for table, rows, key in ((Product.__table__, products, "products"),
                                     (Spec.__table__, specs, "specs"),
                                     (LevelPrice.__table__, prices, "level_prices"),
                                     (ProductImage.__table__, images, "images"),
                                     (product_tag, tags, "tags")):
                if rows:
                    conn.execute(insert(table), rows)
                    totals[key] += len(rows)
                    rows.clear()

        try:
            with engine.begin() as conn:
                for pid in range(1, n_products + 1):
                    top_index = rng.randrange(len(tops))
                    top_id = tops[top_index]
                    noun = rng.choice(TREE[top_index][2])
                    name = (rng.choice(QUALIFIERS) + noun + " " + rng.choice(SIZES)).strip()
                    brand_id = rng.randrange(len(brands)) + 1
                    item_no = f"B{brand_id:02d}-{pid:06d}"
                    spec_rows = []
                    for k in range(3):
                        spec_id += 1
                        pack = rng.randrange(len(PACKS))
                        base = cents(Decimal(rng.randint(5, 8000)) / 100)
                        spec_rows.append({
                            "id": spec_id, "product_id": pid, "model": f"M-{k + 1}{pid % 97:02d}",
                            "spec": rng.choice(SPEC_TEXTS), "pack_unit_id": pack + 1,
                            "weight_kg": Decimal("0.050"), "stock": PACKS[pack][4] * 20,
                            "base_price": base, "active": True, "sort_order": k})
                        for level_id, (_, _, off) in enumerate(LEVELS, start=1):
                            prices.append({"spec_id": spec_id, "level_id": level_id,
                                           "price": cents(base * off)})
                    fake = SimpleNamespace(
                        name=name, item_no=item_no,
                        brand=SimpleNamespace(name=brands[brand_id - 1]),
                        specs=[SimpleNamespace(model=s["model"], spec=s["spec"])
                               for s in spec_rows])
                    products.append({
                        "id": pid, "name": name, "item_no": item_no, "brand_id": brand_id,
                        "category_id": rng.choice(leaves_of_top[top_id]),
                        "description": "<p>酒店客房常用，整箱批发。</p>" if pid % 5 == 0 else None,
                        "on_shelf": pid % 50 != 0, "sort_order": rng.randrange(100),
                        "cover": f"public/product/bench/{pid}-0.jpg",
                        "search_text": search.build_search_text(fake),
                        "created_at": now, "updated_at": now})
                    specs.extend(spec_rows)
                    images.extend({"product_id": pid, "key": f"public/product/bench/{pid}-{i}.jpg",
                                   "position": i} for i in range(2))
                    if pid % 10 == 0:
                        tags.append({"product_id": pid, "tag_id": pid % 3 + 1})
                    if len(prices) >= BATCH:
                        flush(conn)
                flush(conn)
        finally:
            search._pinyin = original
        counts.update(totals)

        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                for table in ("member_level", "pack_unit", "tag", "brand", "category", "product",
                              "spec", "level_price", "product_image"):
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                      f"(SELECT max(id) FROM {table}))"))
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does after a load

        product_id = db.session.scalar(
            select(func.min(Product.id)).where(Product.id >= n_products // 2,
                                               Product.on_shelf.is_(True)))
        return {"category_id": tops[0], "product_id": product_id, "counts": counts}


def create_member(app) -> int:
    """An approved member with a complete profile and the 银牌 level; its level id."""
    from sqlalchemy import select

    from app.extensions import db
    from app.members.models import Member, MemberLevel, MemberStatus, Region
    from app.platform import accounts
    from app.platform.security import CUSTOMER
    from app.platform.time import utcnow

    with app.app_context():
        region = Region(name="海口", sort_order=1, active=True)
        db.session.add(region)
        user = accounts.create_account(MEMBER_MOBILE, "黄经理", PASSWORD, [CUSTOMER])
        level = db.session.scalar(select(MemberLevel).where(MemberLevel.name == MEMBER_LEVEL))
        db.session.add(Member(
            user_id=user.id, shop_name="海口椰风精品酒店", contact_name="黄经理",
            phone=MEMBER_MOBILE, address="海口市美兰区海甸二东路 25 号", region=region,
            shop_photo="private/member/bench/shop.jpg",
            licence_photo="private/member/bench/licence.jpg", status=MemberStatus.APPROVED,
            level_id=level.id, approved_at=utcnow(), submitted_at=utcnow()))
        db.session.commit()
        return level.id


def sign_in(app):
    client = app.test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    if not match:
        sys.exit("no CSRF token in the sign-in form")
    response = client.post("/auth/login", data={"mobile": MEMBER_MOBILE, "password": PASSWORD,
                                                "csrf_token": match.group(1)})
    if response.status_code != 302:
        sys.exit(f"sign-in failed: HTTP {response.status_code}")
    return client


# ---- the bare app ---------------------------------------------------------------------------

def bare_app(url: str, level_id: int):
    """Flask + SQLAlchemy Core only: the same queries as our pages, JSON out."""
    from flask import Flask, abort, jsonify, request
    from sqlalchemy import and_, create_engine, func, select

    from app.catalog.models import Category, LevelPrice, PackUnit, Product, ProductImage, Spec

    engine = create_engine(url)
    p, s, u, lp = Product.__table__, Spec.__table__, PackUnit.__table__, LevelPrice.__table__
    c, im = Category.__table__, ProductImage.__table__
    bare = Flask("bare")
    columns = (p.c.id, p.c.name, p.c.item_no, p.c.cover)

    def specs_with_prices(conn, product_ids):
        rows = conn.execute(
            select(s.c.id, s.c.product_id, s.c.model, s.c.spec, s.c.base_price, s.c.stock,
                   u.c.base_unit, u.c.inner_unit, u.c.inner_qty)
            .join(u, u.c.id == s.c.pack_unit_id)
            .where(s.c.product_id.in_(product_ids), s.c.active.is_(True))
            .order_by(s.c.sort_order, s.c.id)).all()
        prices = dict(conn.execute(select(lp.c.spec_id, lp.c.price).where(
            lp.c.level_id == level_id, lp.c.spec_id.in_([r.id for r in rows]))).all())
        by_product = {}
        for r in rows:
            price = prices.get(r.id, r.base_price)
            by_product.setdefault(r.product_id, []).append({
                "id": r.id, "model": r.model, "spec": r.spec, "unit": r.base_unit,
                "price": str(price), "pack_price": str(price * r.inner_qty), "stock": r.stock})
        return by_product

    def listing(conn, where):
        total = conn.execute(select(func.count()).select_from(p).where(
            p.c.on_shelf.is_(True), where)).scalar()
        page = max(1, request.args.get("page", 1, type=int))
        rows = conn.execute(select(*columns).where(p.c.on_shelf.is_(True), where)
                            .order_by(p.c.sort_order, p.c.id).limit(20)
                            .offset((page - 1) * 20)).all()
        specs = specs_with_prices(conn, [r.id for r in rows])
        return {"total": total, "items": [
            {"id": r.id, "name": r.name, "item_no": r.item_no, "cover": r.cover,
             "specs": specs.get(r.id, [])} for r in rows]}

    @bare.get("/category/<int:category_id>")
    def category(category_id):
        with engine.connect() as conn:
            tree = conn.execute(select(c.c.id, c.c.parent_id).where(c.c.active.is_(True))).all()
            children = {}
            for cid, parent in tree:
                children.setdefault(parent, []).append(cid)
            ids, stack = [], [category_id]
            while stack:
                node = stack.pop()
                ids.append(node)
                stack.extend(children.get(node, []))
            return jsonify(listing(conn, p.c.category_id.in_(ids)))

    @bare.get("/product/<int:product_id>")
    def product(product_id):
        with engine.connect() as conn:
            row = conn.execute(select(*columns, p.c.description).where(
                p.c.id == product_id, p.c.on_shelf.is_(True))).first()
            if row is None:
                abort(404)
            keys = conn.execute(select(im.c.key).where(im.c.product_id == product_id)
                                .order_by(im.c.position)).scalars().all()
            specs = specs_with_prices(conn, [product_id])
            return jsonify({"id": row.id, "name": row.name, "item_no": row.item_no,
                            "images": keys, "description": row.description,
                            "specs": specs.get(row.id, [])})

    @bare.get("/search")
    def search_page():
        q = (request.args.get("q") or "").strip().lower()[:64]
        terms = [t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                 for t in q.split()][:5]
        with engine.connect() as conn:
            return jsonify(listing(conn, and_(*[p.c.search_text.like(f"%{t}%", escape="\\")
                                                for t in terms])))

    return bare, engine


# ---- measuring ------------------------------------------------------------------------------

def _timed(client, url: str, n: int) -> tuple[float, list[float]]:
    times = []
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        client.get(url).get_data()
        times.append(time.perf_counter() - t)
    return time.perf_counter() - start, times


def _figures(elapsed: float, times: list[float]) -> dict:
    times = sorted(times)
    return {"rps": len(times) / elapsed, "p50": statistics.median(times) * 1000,
            "p95": times[min(len(times) - 1, int(len(times) * 0.95))] * 1000}


def compare(ours, bare, url: str, n: int, warmup: int, check=None, rounds: int = 10):
    """Warm both up, then alternate rounds of ours and bare (a load spike on this machine
    then slows both alike); figures of each over all its rounds."""
    for client, checker in ((ours, check), (bare, None)):
        for _ in range(warmup):
            response = client.get(url)
            if response.status_code != 200:
                sys.exit(f"{url}: HTTP {response.status_code}")
            if checker:
                checker(response.get_data(as_text=True))
    per_round = max(1, n // rounds)
    totals = {"ours": [0.0, []], "bare": [0.0, []]}
    for _ in range(rounds):
        for key, client in (("ours", ours), ("bare", bare)):
            elapsed, times = _timed(client, url, per_round)
            totals[key][0] += elapsed
            totals[key][1].extend(times)
    return _figures(*totals["ours"]), _figures(*totals["bare"])


def profile(client, url: str, n: int) -> str:
    """cProfile of n requests: our own code (app/, templates) by cumulative time, then the
    functions that take the most time themselves, whoever they belong to."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        client.get(url).get_data()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    out.write(f"-- our code, by cumulative time ({n} requests) --\n")
    ours_only = r"/app/(services|views|templates|models)/|\.html"
    stats.sort_stats("cumulative").print_stats(ours_only, 25)
    out.write("-- everything, by own time --\n")
    stats.sort_stats("tottime").print_stats(15)
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..")) + os.sep
    text = out.getvalue().replace(root, "").replace(sys.prefix + os.sep, "")
    return re.sub(r"\n\s*Ordered by:.*\n|\n\s*List reduced.*\n", "\n", text)


def explain(app) -> None:
    from sqlalchemy import func, select

    from app.catalog import search
    from app.catalog.models import Product
    from app.extensions import db

    with app.app_context():
        where = (Product.on_shelf.is_(True), search.search_condition(SEARCH_Q))
        queries = {
            "count": select(func.count()).select_from(select(Product).where(*where).subquery()),
            "page": select(Product.id, Product.name).where(*where)
            .order_by(Product.sort_order, Product.id).limit(20),
        }
        for name, query in queries.items():
            compiled = query.compile(dialect=db.engine.dialect)
            with db.engine.connect() as conn:
                plan = [r[0] for r in conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), compiled.params)]
            log(f"\nEXPLAIN ANALYZE, search {name} query:\n  " + "\n  ".join(plan))
            used = sorted(set(re.findall(r"Index (?:Only )?Scan (?:using|on) (\w+)",
                                         "\n".join(plan))))
            log(f"  -> indexes used: {', '.join(used) or 'none (sequential scan)'}; "
                + ("Bitmap Index Scan on ix_product_search_trgm: yes"
                   if any("Bitmap Index Scan on ix_product_search_trgm" in r for r in plan)
                   else "no trigram index scan"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=300, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--profile-requests", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="pifa-bench-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{os.path.join(work, 'bench.db')}"
    try:
        app = make_app(url, work)
        from app.extensions import db

        with app.app_context():
            dialect = db.engine.dialect.name
            refuse_if_used(db.engine)
            real_url = db.engine.url.render_as_string(hide_password=False)
            shown_url = db.engine.url.render_as_string(hide_password=True)
        log(f"database: {dialect} ({shown_url})")
        t0 = time.perf_counter()
        create_schema(app)
        log(f"schema (migrations): {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        seeded = seed(app, args.products, random.Random(args.seed))
        c = seeded["counts"]
        log(f"seeded {c['products']} products, {c['specs']} specs, {c['level_prices']} level "
            f"prices, {c['images']} images, {c['categories']} categories in "
            f"{time.perf_counter() - t0:.1f} s")
        level_id = create_member(app)
        client = sign_in(app)
        bare, bare_engine = bare_app(real_url, level_id)
        bare_client = bare.test_client()

        pages = [("category", f"/category/{seeded['category_id']}"),
                 ("product", f"/product/{seeded['product_id']}"),
                 ("search", f"/search?q={SEARCH_Q}")]

        def priced(html):
            if "¥" not in html:
                sys.exit("our page shows no price: not signed in as an approved member?")

        results = []
        log(f"\n{args.requests} requests per page and app after {args.warmup} warm-up, in-process "
            "(app.test_client()), one thread, ours and bare alternating in 10 rounds\n")
        log(f"{'page':<9} {'url':<22} {'ours req/s':>10} {'p50 ms':>7} {'p95 ms':>7} "
            f"{'bare req/s':>10} {'p50 ms':>7} {'p95 ms':>7} {'ratio':>6}")
        for name, path in pages:
            ours, base = compare(client, bare_client, path, args.requests, args.warmup,
                                 check=priced)
            ratio = ours["rps"] / base["rps"]
            verdict = "PASS" if ratio >= THRESHOLD else "FAIL"
            results.append((name, ours, base, ratio, verdict))
            log(f"{name:<9} {path:<22} {ours['rps']:>10.1f} {ours['p50']:>7.1f} "
                f"{ours['p95']:>7.1f} {base['rps']:>10.1f} {base['p50']:>7.1f} "
                f"{base['p95']:>7.1f} {ratio:>6.2f} {verdict}")
        for name, path in pages:
            if next(r for r in results if r[0] == name)[4] == "FAIL":
                log(f"\ncProfile of our {name} page ({args.profile_requests} requests):")
                log(profile(client, path, args.profile_requests))
        if dialect == "postgresql":
            explain(app)
        bare_engine.dispose()
        with app.app_context():
            db.engine.dispose()
        overall = "PASS" if all(r[4] == "PASS" for r in results) else "FAIL"
        log("\nSUMMARY " + f"{dialect} {c['products']} products: " + "; ".join(
            f"{n} {o['rps']:.0f}/s vs {b['rps']:.0f}/s = {r:.2f} {v}"
            for n, o, b, r, v in results) + f" -> {overall}")
        return 0 if overall == "PASS" else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
