"""The mobile storefront: pages, price visibility, the cart rule over HTTP, search,
home blocks, closed mode, languages, query counts, 404s.

Assertions avoid the Chinese wording of new texts (the catalogs are filled in after
extraction); they look at data attributes, links, prices and English text instead.
"""

import re
from contextlib import contextmanager
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event, select

from app.catalog import services as catalog
from app.catalog.models import Brand, Category, LevelPrice, PackUnit, Product, Spec
from app.content.models import Article, HomeBlock, HomeBlockItem, Store
from app.extensions import db
from app.members.models import Member, MemberLevel
from app.ordering.models import CartLine
from app.platform.models import ShopSettings
from app.platform.security import ADMIN
from tests.conftest import csrf_token, login

BASE = Decimal("1.37")  # per 把; a box of 20 = 27.40
SILVER = Decimal("1.23")  # 24.60
GOLD = Decimal("1.11")  # 22.20
# The prices as text, and in cents (as a data attribute might carry them).
PRICE_TEXTS = ["1.37", "27.40", "1.23", "24.60", "1.11", "22.20", "2740", "2460", "2220"]


# ---- builders ---------------------------------------------------------------------------

def _unit(inner=20, outer=400, base="把", inner_unit="盒", outer_unit="箱"):
    unit = db.session.scalar(select(PackUnit).where(
        PackUnit.base_unit == base, PackUnit.inner_qty == inner, PackUnit.outer_qty == outer,
        PackUnit.inner_unit == inner_unit, PackUnit.outer_unit == outer_unit))
    if unit is None:
        unit = PackUnit(base_unit=base, inner_unit=inner_unit, inner_qty=inner,
                        outer_unit=outer_unit, outer_qty=outer)
        db.session.add(unit)
        db.session.flush()
    return unit


def add_product(name="矿泉水", *, category=None, brand=None, item_no=None, specs=1,
                models=None, price=BASE, stock=1000, on_shelf=True, inner=20, outer=400,
                description=None, sort_order=0):
    """A product with `specs` specs (model M1.., spec 规格1..), saved through the service."""
    unit = _unit(inner, outer)
    product = Product(name=name, item_no=item_no, category=category, brand=brand,
                      description=description, on_shelf=on_shelf, sort_order=sort_order)
    for n in range(specs):
        model = models[n] if models else f"M{n + 1}"
        product.specs.append(Spec(model=model, spec=f"规格{n + 1}", pack_unit=unit,
                                  stock=stock, base_price=price, sort_order=n))
    db.session.add(product)
    catalog.save_product(product)
    db.session.flush()
    return product


def set_level(app, member_ref, level_id):
    with app.app_context():
        member = db.session.get(Member, member_ref.id)
        member.level_id = level_id
        db.session.commit()


def settings(app, **values):
    with app.app_context():
        row = db.session.scalar(select(ShopSettings)) or ShopSettings(shop_name="Pifa")
        for key, value in values.items():
            setattr(row, key, value)
        db.session.add(row)
        db.session.commit()


@pytest.fixture
def shop(app):
    """One product (20 把/盒, 400 把/箱, stock 1000) with a silver and a gold price;
    a bronze level has no price of its own (pays the base price)."""
    with app.app_context():
        top = Category(name="清洁用品", level=1)
        sub = Category(name="清洁工具", parent=top, level=2)
        leaf = Category(name="刷子", parent=sub, level=3)
        brand = Brand(name="椰城", story="海南本地品牌")
        db.session.add_all([top, sub, leaf, brand])
        db.session.flush()
        product = add_product("马桶刷", category=leaf, brand=brand, item_no="YC-0815",
                              description="<p>耐用<strong>刷毛</strong></p>")
        spec = product.specs[0]
        levels = {name: MemberLevel(name=name, sort_order=i)
                  for i, name in enumerate(("银牌", "金牌", "铜牌"))}
        db.session.add_all(levels.values())
        db.session.flush()
        db.session.add_all([LevelPrice(spec_id=spec.id, level_id=levels["银牌"].id, price=SILVER),
                            LevelPrice(spec_id=spec.id, level_id=levels["金牌"].id, price=GOLD)])
        db.session.commit()
        return {"product": product.id, "spec": spec.id, "top": top.id, "sub": sub.id,
                "leaf": leaf.id, "brand": brand.id,
                "levels": {k: v.id for k, v in levels.items()}}


def approved(app, make, shop, level="银牌"):
    member = make.member(status="approved")
    set_level(app, member, shop["levels"][level])
    return member


def english(client):
    client.get("/auth/lang/en?next=/")


def cart_lines(app, user_id):
    with app.app_context():
        return {line.spec_id: line.quantity for line in db.session.scalars(
            select(CartLine).where(CartLine.user_id == user_id))}


def assert_no_prices(html):
    assert "¥" not in html
    assert "data-cents" not in html
    for text in PRICE_TEXTS:
        assert text not in html, text


# ---- price visibility --------------------------------------------------------------------

def test_visitor_sees_no_price_anywhere(app, client, shop):
    english(client)
    for url in ("/", "/category", f"/category/{shop['top']}", f"/brand/{shop['brand']}",
                f"/product/{shop['product']}", "/search?q=mts", "/search?q=matongshua"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert_no_prices(resp.get_data(as_text=True))
    html = client.get(f"/product/{shop['product']}").get_data(as_text=True)
    assert "Wholesale prices visible after approval" in html
    assert 'name="qty_' not in html and "/cart/add" not in html  # no order form
    login_link = re.search(r'href="(/auth/login\?next=[^"]+)"', html)[1]
    assert parse_qs(urlsplit(login_link).query)["next"] == [f"/product/{shop['product']}"]


@pytest.mark.parametrize("status", ["pending", "rejected", "incomplete"])
def test_unapproved_member_sees_no_price_and_cannot_order(app, client, make, shop, status):
    member = make.member(status=status)
    set_level(app, member, shop["levels"]["金牌"])  # a level alone opens nothing
    login(client, member.mobile)
    english(client)
    resp = client.get(f"/product/{shop['product']}")
    if status == "incomplete":  # the profile gate: complete the profile first
        assert resp.status_code == 302 and resp.headers["Location"] == "/me/profile"
        assert_no_prices(client.get(f"/category/{shop['top']}").get_data(as_text=True))
        return
    html = resp.get_data(as_text=True)
    assert_no_prices(html)
    assert 'name="qty_' not in html
    assert "data-order-note" in html and "You can order once your account is approved." in html
    assert_no_prices(client.get(f"/category/{shop['top']}").get_data(as_text=True))
    assert_no_prices(client.get("/search?q=matongshua").get_data(as_text=True))


def test_driver_sees_no_price(app, client, make, shop):
    driver = make.staff("driver", [make.region()])
    assert login(client, driver.mobile).status_code == 302
    resp = client.get(f"/product/{shop['product']}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "马桶刷" in html and "YC-0815" in html  # the product page itself
    assert "data-price-hidden" in html and 'name="qty_' not in html
    assert_no_prices(html)


@pytest.mark.parametrize("level,unit,pack", [("银牌", "¥1.23", "¥24.60"),
                                             ("金牌", "¥1.11", "¥22.20"),
                                             ("铜牌", "¥1.37", "¥27.40")])
def test_approved_member_sees_own_level_price(app, client, make, shop, level, unit, pack):
    login(client, approved(app, make, shop, level).mobile)
    html = client.get(f"/product/{shop['product']}").get_data(as_text=True)
    assert unit in html and pack in html
    others = {"¥1.23", "¥1.11", "¥1.37"} - {unit}
    assert not any(o in html for o in others)
    assert "data-price-hidden" not in html
    listing = client.get(f"/category/{shop['top']}").get_data(as_text=True)
    assert unit in listing and not any(o in listing for o in others)


def test_approved_member_without_level_pays_base_price(app, client, make, shop):
    login(client, make.member(status="approved").mobile)
    html = client.get(f"/product/{shop['product']}").get_data(as_text=True)
    assert "¥1.37" in html and "¥27.40" in html


def test_staff_see_base_prices_and_no_order_form(app, client, make, shop):
    salesman = make.staff("salesman", [make.region()])
    for mobile in (salesman.mobile, make.user(ADMIN).mobile):
        client = app.test_client()
        login(client, mobile)
        html = client.get(f"/product/{shop['product']}").get_data(as_text=True)
        assert "¥1.37" in html and "¥27.40" in html and "¥1.23" not in html
        assert 'name="qty_' not in html


def test_product_page_shows_every_active_spec_with_packing_and_stepper(app, client, make):
    with app.app_context():
        product = add_product("抽纸", item_no="ZJ-1", specs=3, models=["大号", "中号", "小号"],
                              stock=1000)
        product.specs[1].active = False
        db.session.commit()
        pid, specs = product.id, [s.id for s in product.specs]
    login(client, make.member(status="approved").mobile)
    html = client.get(f"/product/{pid}").get_data(as_text=True)
    assert "大号" in html and "小号" in html and "中号" not in html
    assert "ZJ-1" in html
    assert html.count("20 把/盒 · 400 把/箱") == 2
    assert "¥1.37" in html and "¥27.40" in html
    for spec_id in (specs[0], specs[2]):
        field = re.search(rf'<input type="number" name="qty_{spec_id}"[^>]*>', html)[0]
        assert 'step="20"' in field and 'min="0"' in field and 'value="0"' in field
    assert f'name="qty_{specs[1]}"' not in html
    assert html.count("data-whole") == 2 and 'data-outer="400"' in html
    assert 'action="/cart/add"' in html and 'name="csrf_token"' in html


def test_description_is_shown_under_the_specs(app, client, shop):
    html = client.get(f"/product/{shop['product']}").get_data(as_text=True)
    assert "<p>耐用<strong>刷毛</strong></p>" in html
    assert html.index('class="card specs"') < html.index("耐用")
    assert f'href="/brand/{shop["brand"]}"' in html


# ---- the cart rule over HTTP ----------------------------------------------------------------

def post_add(client, product_id, **fields):
    token = csrf_token(client, f"/product/{product_id}") if "csrf_token" not in fields \
        else fields.pop("csrf_token")
    return client.post("/cart/add", data={"csrf_token": token, "product_id": product_id,
                                          **fields})


def test_adding_multiples_of_the_moq(app, client, make, shop):
    member = approved(app, make, shop)
    login(client, member.mobile)
    english(client)
    qty = f"qty_{shop['spec']}"
    resp = post_add(client, shop["product"], **{qty: "40"})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/product/{shop['product']}"
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "flash-success" in html and "Added to the cart." in html
    assert re.search(r'data-cart-count>1<', html)
    assert post_add(client, shop["product"], **{qty: "400"}).status_code == 302
    assert cart_lines(app, member.user_id) == {shop["spec"]: 440}


@pytest.mark.parametrize("raw,message", [
    ("30", "order a multiple of 20"),
    ("0", "Please choose a quantity for at least one spec."),
    ("-20", "the quantity must be at least one 盒"),
    ("2000000", "the quantity must be at least one 盒"),
    ("99999999999", "Please enter the quantity as a whole number."),
    ("abc", "Please enter the quantity as a whole number."),
    ("20.5", "Please enter the quantity as a whole number."),
    ("1020", "only 1000 把 in stock"),
])
def test_refused_quantities_change_nothing(app, client, make, shop, raw, message):
    member = approved(app, make, shop)
    login(client, member.mobile)
    english(client)
    assert post_add(client, shop["product"], **{f"qty_{shop['spec']}": "20"}).status_code == 302
    resp = post_add(client, shop["product"], **{f"qty_{shop['spec']}": raw})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "flash-danger" in html and message in html
    assert 'class="card specs"' in html  # the product page again, with the form
    assert cart_lines(app, member.user_id) == {shop["spec"]: 20}


def test_one_bad_spec_refuses_the_whole_order(app, client, make, shop):
    with app.app_context():
        other = add_product("马桶刷套装", specs=1, stock=1000)
        db.session.commit()
        other_spec = other.specs[0].id
    member = approved(app, make, shop)
    login(client, member.mobile)
    resp = post_add(client, shop["product"], **{f"qty_{shop['spec']}": "20",
                                                f"qty_{other_spec}": "7"})
    assert resp.status_code == 400
    assert "data-cart-count" not in resp.get_data(as_text=True)  # nothing half-added
    assert cart_lines(app, member.user_id) == {}


def test_off_shelf_spec_and_product_are_refused(app, client, make, shop):
    member = approved(app, make, shop)
    login(client, member.mobile)
    english(client)
    token = csrf_token(client, f"/product/{shop['product']}")
    with app.app_context():
        db.session.get(Spec, shop["spec"]).active = False
        db.session.commit()
    resp = post_add(client, shop["product"], csrf_token=token, **{f"qty_{shop['spec']}": "20"})
    assert resp.status_code == 400 and "is no longer on sale" in resp.get_data(as_text=True)
    with app.app_context():
        db.session.get(Spec, shop["spec"]).active = True
        db.session.get(Product, shop["product"]).on_shelf = False
        db.session.commit()
    resp = post_add(client, shop["product"], csrf_token=token, **{f"qty_{shop['spec']}": "20"})
    assert resp.status_code == 400 and "is no longer on sale" in resp.get_data(as_text=True)
    assert cart_lines(app, member.user_id) == {}


def test_unknown_spec_is_refused(app, client, make, shop):
    member = approved(app, make, shop)
    login(client, member.mobile)
    resp = post_add(client, shop["product"], qty_999999="20")
    assert resp.status_code == 400
    assert cart_lines(app, member.user_id) == {}


def test_pending_member_cannot_add(app, client, make, shop):
    member = make.member(status="pending")
    login(client, member.mobile)
    english(client)
    resp = post_add(client, shop["product"], csrf_token=csrf_token(client, "/me"),
                    **{f"qty_{shop['spec']}": "20"})
    assert resp.status_code == 403
    assert "Only approved members can order." in resp.get_data(as_text=True)
    assert cart_lines(app, member.user_id) == {}


def test_visitor_adding_is_sent_to_sign_in(app, client, shop):
    resp = post_add(client, shop["product"], csrf_token=csrf_token(client),
                    **{f"qty_{shop['spec']}": "20"})
    assert resp.status_code == 302
    target = urlsplit(resp.headers["Location"])
    assert target.path == "/auth/login"
    assert parse_qs(target.query)["next"] == [f"/product/{shop['product']}"]
    with app.app_context():
        assert db.session.scalar(select(CartLine.id)) is None


def test_add_without_csrf_token_is_refused(app, client, make, shop):
    member = approved(app, make, shop)
    login(client, member.mobile)
    resp = client.post("/cart/add", data={"product_id": shop["product"],
                                          f"qty_{shop['spec']}": "20"})
    assert resp.status_code == 400
    assert cart_lines(app, member.user_id) == {}


# ---- search --------------------------------------------------------------------------------

@pytest.fixture
def water(app):
    with app.app_context():
        brand = Brand(name="农夫山泉")
        db.session.add(brand)
        db.session.flush()
        water = add_product("矿泉水", brand=brand, item_no="KQS-550", models=["550ml"])
        add_product("洗发水", item_no="XF-01", models=["瓶装"])
        db.session.commit()
        return water.id


@pytest.mark.parametrize("q", ["kqs", "kuangquanshui", "矿泉", "KQS-550", "550ml", "农夫",
                               "nongfu", "KuangQuan"])
def test_search_finds_mineral_water(client, water, q):
    html = client.get("/search", query_string={"q": q}).get_data(as_text=True)
    assert f'data-product="{water}"' in html
    assert html.count("data-product=") == 1  # not the shampoo


def test_search_empty_states(client, water):
    html = client.get("/search?q=zzzz").get_data(as_text=True)
    assert "data-empty" in html and "data-product=" not in html
    html = client.get("/search").get_data(as_text=True)
    assert "data-empty" in html and "data-product=" not in html
    assert client.get("/search?q=" + "%25" * 100).status_code == 200


def test_search_paginates(app, client):
    with app.app_context():
        for n in range(25):
            add_product(f"矿泉水{n:02d}", sort_order=n)
        db.session.commit()
    english(client)
    first = client.get("/search?q=kqs").get_data(as_text=True)
    assert first.count("data-product=") == 20 and "Page 1 of 2" in first
    assert 'href="/search?q=kqs&amp;page=2"' in first
    second = client.get("/search?q=kqs&page=2").get_data(as_text=True)
    assert second.count("data-product=") == 5 and "Page 2 of 2" in second
    assert client.get("/search?q=kqs&page=abc").status_code == 200


# ---- categories and brands -----------------------------------------------------------------

def test_category_lists_subcategory_products_with_three_level_navigation(app, client, shop):
    with app.app_context():
        other = Category(name="纸品", level=1, sort_order=5)
        db.session.add(other)
        db.session.flush()
        add_product("抽纸", category=other)
        hidden = Category(name="停用", parent_id=shop["top"], level=2, active=False)
        db.session.add(hidden)
        db.session.commit()
        hidden_id = hidden.id
    html = client.get(f"/category/{shop['top']}").get_data(as_text=True)
    assert f'data-product="{shop["product"]}"' in html and "抽纸" not in html
    assert f'href="/category/{shop["sub"]}"' in html  # level 2 chips
    assert f'href="/category/{shop["leaf"]}"' not in html  # level 3 once level 2 is chosen
    assert "停用" not in html
    html = client.get(f"/category/{shop['sub']}").get_data(as_text=True)
    assert f'href="/category/{shop["leaf"]}"' in html
    html = client.get(f"/category/{shop['leaf']}").get_data(as_text=True)
    assert f'data-product="{shop["product"]}"' in html
    assert 'class="on" aria-current="true">清洁用品<' in html  # its root is highlighted
    first = client.get("/category").get_data(as_text=True)
    assert 'aria-current="true">清洁用品<' in first and "马桶刷" in first
    assert client.get(f"/category/{hidden_id}").status_code == 404


def test_category_paginates_and_has_an_empty_state(app, client):
    with app.app_context():
        full, empty = Category(name="满", level=1), Category(name="空", level=1)
        db.session.add_all([full, empty])
        db.session.flush()
        for n in range(23):
            add_product(f"商品{n}", category=full, sort_order=n)
        db.session.commit()
        full_id, empty_id = full.id, empty.id
    assert client.get(f"/category/{full_id}").get_data(as_text=True).count("data-product=") == 20
    second = client.get(f"/category/{full_id}?page=2").get_data(as_text=True)
    assert second.count("data-product=") == 3 and 'rel="prev"' in second
    assert "data-empty" in client.get(f"/category/{empty_id}").get_data(as_text=True)


def test_pager_links_keep_the_query_and_survive_odd_arguments(app, client):
    with app.app_context():
        category = Category(name="满", level=1)
        db.session.add(category)
        db.session.flush()
        for n in range(21):
            add_product(f"商品{n}", category=category)
        db.session.commit()
        category_id = category.id
    resp = client.get(f"/category/{category_id}?category_id=999&page=1&x=1")
    assert resp.status_code == 200
    nxt = re.search(r'href="([^"]+)" rel="next"', resp.get_data(as_text=True))[1]
    target = urlsplit(nxt.replace("&amp;", "&"))
    assert target.path == f"/category/{category_id}"
    assert parse_qs(target.query) == {"page": ["2"], "x": ["1"]}
    resp = client.get("/category?page=2")
    assert resp.status_code == 200 and 'rel="prev"' in resp.get_data(as_text=True)
    for page in ("-3", "0", "99999999", "x"):
        assert client.get(f"/category/{category_id}?page={page}").status_code == 200


def test_out_of_stock_spec_has_no_stepper(app, client, make):
    with app.app_context():
        product = add_product("缺货商品", stock=10)  # less than one box of 20
        db.session.commit()
        pid, spec_id = product.id, product.specs[0].id
    login(client, make.member(status="approved").mobile)
    english(client)
    html = client.get(f"/product/{pid}").get_data(as_text=True)
    assert f'name="qty_{spec_id}"' not in html and "Out of stock" in html
    assert "data-order>" not in html  # nothing to order


def test_brand_centre_paginates(app, client):
    with app.app_context():
        db.session.add_all([Brand(name=f"品牌{n:02d}", sort_order=n) for n in range(31)])
        db.session.commit()
    first = client.get("/brands").get_data(as_text=True)
    assert first.count("data-brand=") == 30 and 'rel="next"' in first
    assert client.get("/brands?page=2").get_data(as_text=True).count("data-brand=") == 1


def test_brand_centre_and_brand_page(app, client, shop):
    html = client.get("/brands").get_data(as_text=True)
    assert f'href="/brand/{shop["brand"]}"' in html and "椰城" in html
    html = client.get(f"/brand/{shop['brand']}").get_data(as_text=True)
    assert "海南本地品牌" in html and f'data-product="{shop["product"]}"' in html


# ---- home, stores, articles ----------------------------------------------------------------

def test_home_shows_visible_blocks_in_order(app, client, shop):
    with app.app_context():
        news = Article(kind="announcement", title="春节放假通知", body="<p>x</p>", published=True)
        draft = Article(kind="announcement", title="草稿公告", body="", published=False)
        guide = Article(kind="article", title="客房用品选购指南", body="<p>y</p>", published=True)
        db.session.add_all([news, draft, guide])
        banner = HomeBlock(kind="banner", position=1, items=[
            HomeBlockItem(image="public/banner/a.jpg", link=f"/category/{shop['top']}",
                          position=0),
            HomeBlockItem(image="public/banner/b.jpg", link="javascript:alert(1)", position=1)])
        blocks = [
            HomeBlock(kind="products", title="热卖推荐", category_id=shop["top"], position=4),
            banner,
            HomeBlock(kind="notice", position=3),
            HomeBlock(kind="icon_nav", position=2, items=[
                HomeBlockItem(label="品牌", link="/brands", position=0)]),
            HomeBlock(kind="articles", title="资讯", article_kind="article", position=5),
            HomeBlock(kind="notice", text="隐藏的通知", position=0, visible=False),
        ]
        db.session.add_all(blocks)
        db.session.commit()
        news_id = news.id
    html = client.get("/").get_data(as_text=True)
    kinds = re.findall(r'data-block="(\w+)"', html)
    assert kinds == ["banner", "icon_nav", "notice", "products", "articles"]
    assert 'src="/media/public/banner/a.jpg"' in html
    assert f'href="/category/{shop["top"]}"' in html and "javascript:" not in html
    assert f'href="/articles/{news_id}">春节放假通知<' in html and "草稿公告" not in html
    assert "隐藏的通知" not in html
    assert html.index("热卖推荐") < html.index("客房用品选购指南")
    assert f'data-product="{shop["product"]}"' in html
    assert 'action="/search"' in html


def test_notice_text_wins_over_announcements(app, client):
    with app.app_context():
        db.session.add(Article(kind="announcement", title="公告标题", body="", published=True))
        db.session.add(HomeBlock(kind="notice", text="满 500 元免运费", position=1))
        db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "满 500 元免运费" in html and "公告标题" not in html


def test_stores_have_map_links_phone_and_copy(app, client):
    with app.app_context():
        db.session.add_all([
            Store(name="椰城总店 & 仓库", address="海口市龙华区金盘路 18 号", phone="0898-66881234",
                  hours="8:00-18:00", latitude=Decimal("20.0174"), longitude=Decimal("110.3265"),
                  sort_order=1),
            Store(name="三亚店", address="三亚市天涯区 88 号", sort_order=2),
            Store(name="关门店", address="x", active=False),
        ])
        db.session.commit()
    html = client.get("/stores").get_data(as_text=True)
    assert ("https://uri.amap.com/marker?position=110.326500,20.017400&amp;name="
            "%E6%A4%B0%E5%9F%8E%E6%80%BB%E5%BA%97%20%26%20%E4%BB%93%E5%BA%93") in html
    assert ("https://uri.amap.com/search?keyword=%E4%B8%89%E4%BA%9A%E5%B8%82%E5%A4%A9%E6%B6%AF"
            "%E5%8C%BA%2088%20%E5%8F%B7") in html
    assert 'href="tel:0898-66881234"' in html and "8:00-18:00" in html
    assert 'data-copy="海口市龙华区金盘路 18 号"' in html
    assert "关门店" not in html


def test_article_page_and_unpublished_is_404(app, client):
    with app.app_context():
        shown = Article(kind="page", title="关于我们", body="<p>我们是<b>批发商</b></p>",
                        published=True)
        draft = Article(kind="page", title="草稿", body="", published=False)
        db.session.add_all([shown, draft])
        db.session.commit()
        shown_id, draft_id = shown.id, draft.id
    html = client.get(f"/articles/{shown_id}").get_data(as_text=True)
    assert "关于我们" in html and "<p>我们是<b>批发商</b></p>" in html
    assert client.get(f"/articles/{draft_id}").status_code == 404


def test_not_found_pages(app, client, shop):
    with app.app_context():
        off = add_product("下架商品", on_shelf=False)
        db.session.commit()
        off_id = off.id
    for url in (f"/product/{off_id}", "/product/999999", "/category/999999", "/brand/999999",
                "/articles/999999"):
        assert client.get(url).status_code == 404, url


# ---- closed mode ---------------------------------------------------------------------------

CLOSED = {"is_open": False, "shop_name": "椰城批发", "intro": "只对会员开放",
          "cs_phone": "0898-66881234", "cs_qr_image": "public/shop/qr.png",
          "logo": "public/shop/logo.png"}


def test_closed_mode_shows_the_landing_page_to_visitors(app, client, shop):
    settings(app, **CLOSED)
    for url in ("/", f"/product/{shop['product']}", "/category", f"/category/{shop['top']}",
                "/brands", f"/brand/{shop['brand']}", "/search?q=mts", "/stores",
                "/product/999999"):
        resp = client.get(url)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "data-landing" in html, url
        assert "马桶刷" not in html, url
    html = client.get("/").get_data(as_text=True)
    assert "椰城批发" in html and "只对会员开放" in html
    assert 'src="/media/public/shop/qr.png"' in html and 'src="/media/public/shop/logo.png"' in html
    assert 'href="tel:0898-66881234"' in html
    assert 'href="/auth/login?next=/"' in html
    if "auth.register" not in app.view_functions:
        assert "/auth/register" not in html
    assert client.get("/me").status_code == 302  # visitors still sign in first


def test_closed_mode_pending_member_sees_landing_but_reaches_me(app, client, make, shop):
    settings(app, **CLOSED)
    login(client, make.member(status="pending").mobile)
    for url in ("/", f"/product/{shop['product']}", "/category"):
        assert "data-landing" in client.get(url).get_data(as_text=True), url
    resp = client.get("/me")
    assert resp.status_code == 200 and "data-landing" not in resp.get_data(as_text=True)
    resp = post_add(client, shop["product"], csrf_token=csrf_token(client, "/me"),
                    **{f"qty_{shop['spec']}": "20"})
    assert "data-landing" in resp.get_data(as_text=True)


def test_closed_mode_approved_member_gets_the_shop(app, client, make, shop):
    settings(app, **CLOSED)
    member = approved(app, make, shop)
    login(client, member.mobile)
    for url in ("/", f"/product/{shop['product']}", "/category"):
        html = client.get(url).get_data(as_text=True)
        assert "data-landing" not in html, url
    assert "¥1.23" in client.get(f"/product/{shop['product']}").get_data(as_text=True)
    assert post_add(client, shop["product"], **{f"qty_{shop['spec']}": "20"}).status_code == 302
    assert cart_lines(app, member.user_id) == {shop["spec"]: 20}


# ---- languages -----------------------------------------------------------------------------

def test_storefront_in_english(app, client, make, shop):
    resp = client.get("/auth/lang/en?next=/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html
    for label in (">Home<", ">Categories<", ">Cart<", ">Me<", ">Search<", ">Brands<",
                  ">Stores<"):
        assert label in html, label
    html = client.get(f"/product/{shop['product']}").get_data(as_text=True)
    assert "Product details" in html and "Specs" in html and "In stock: 1000 把" in html
    login(client, approved(app, make, shop).mobile)
    html = client.get(f"/product/{shop['product']}").get_data(as_text=True)
    assert ">Order<" in html and "Whole 箱" in html
    client.get("/auth/lang/zh?next=/")
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and ">首页<" in html and ">分类<" in html


# ---- query counts --------------------------------------------------------------------------

@contextmanager
def count_queries(app):
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _catalog_sets(app, levels):
    """Four sets in their own category and brand: 5 or 20 products, 1 or 5 specs each."""
    sets = {}
    with app.app_context():
        for products, specs in ((5, 1), (20, 1), (5, 5), (20, 5)):
            key = f"p{products}s{specs}"
            category = Category(name=f"类{key}", level=1)
            brand = Brand(name=f"牌{key}")
            db.session.add_all([category, brand])
            db.session.flush()
            for n in range(products):
                product = add_product(f"商品{key}{n}", category=category, brand=brand,
                                      item_no=f"Q{key}-{n}", specs=specs)
                for spec in product.specs:
                    for level_id in levels:
                        db.session.add(LevelPrice(spec_id=spec.id, level_id=level_id,
                                                  price=Decimal("0.99")))
            sets[key] = (category.id, brand.id, f"q{key}")
        db.session.commit()
    return sets


def test_listing_pages_run_the_same_queries_whatever_the_size(app, client, make):
    with app.app_context():
        level = MemberLevel(name="银牌")
        db.session.add(level)
        db.session.commit()
        level_id = level.id
    sets = _catalog_sets(app, [level_id])
    member = make.member(status="approved")
    set_level(app, member, level_id)
    for who in ("visitor", "member"):
        if who == "member":
            login(client, member.mobile)
        for page in ("category", "brand", "search"):
            counts = {}
            for key, (category_id, brand_id, q) in sets.items():
                url = {"category": f"/category/{category_id}", "brand": f"/brand/{brand_id}",
                       "search": f"/search?q={q}"}[page]
                client.get(url)  # warm up (first-request caches)
                with count_queries(app) as statements:
                    resp = client.get(url)
                assert resp.status_code == 200
                products = int(key[1:key.index("s")])
                assert resp.get_data(as_text=True).count("data-product=") == products, url
                counts[key] = len(statements)
            assert len(set(counts.values())) == 1, (who, page, counts)
