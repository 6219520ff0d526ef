"""Back-office catalog and content screens: categories, spec library, products with their
images and specs, articles, home blocks; Admin only."""

import os
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.catalog import services as catalog
from app.catalog.models import Category, LevelPrice, PackUnit, Product, ProductImage, Spec, Tag
from app.content.models import Article, HomeBlock, HomeBlockItem
from app.extensions import db
from app.members.models import Member, MemberLevel
from app.platform.security import CUSTOMER_SERVICE
from tests.conftest import csrf_token, login
from tests.images import image_bytes, upload

HOSTILE = b"<svg onload=alert(1)>"


def admin_client(app, make):
    client = app.test_client()
    assert login(client, make.user("Admin").mobile).status_code == 302
    client.get("/lang/en")  # assert on the English source texts
    return client


def media_files(app):
    root = app.config["MEDIA_ROOT"]
    return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files)


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def post_form(client, url, data, form_url=None, **kw):
    data = dict(data, csrf_token=csrf_token(client, form_url or url))
    return client.post(url, data=data, content_type="multipart/form-data", **kw)


def add_category(client, name, parent_id=None, follow_redirects=False, **extra):
    return post_form(client, "/admin/categories/add",
                     {"name": name, "parent": str(parent_id) if parent_id else "__None",
                      "sort_order": "0", "active": "y", **extra},
                     follow_redirects=follow_redirects)


def category_id(app, name):
    with app.app_context():
        return db.session.scalar(select(Category.id).where(Category.name == name))


def make_pack_unit(app, inner=20, outer=400):
    with app.app_context():
        unit = PackUnit(base_unit="把", inner_unit="盒", inner_qty=inner, outer_unit="箱",
                        outer_qty=outer)
        db.session.add(unit)
        db.session.commit()
        return unit.id


def make_levels(app, *names):
    with app.app_context():
        levels = [MemberLevel(name=n, sort_order=i) for i, n in enumerate(names)]
        db.session.add_all(levels)
        db.session.commit()
        return [lv.id for lv in levels]


def make_product(app, name="一次性牙刷", **kw):
    with app.app_context():
        product = Product(name=name, **kw)
        catalog.save_product(product)
        db.session.add(product)
        db.session.commit()
        return product.id


# ---- categories ----------------------------------------------------------------------

def test_category_tree_has_three_levels_and_refuses_a_fourth(app, make):
    client = admin_client(app, make)
    assert add_category(client, "酒店用品").status_code == 302
    add_category(client, "洗漱用品", category_id(app, "酒店用品"))
    add_category(client, "牙刷", category_id(app, "洗漱用品"))
    with app.app_context():
        levels = {c.name: c.level for c in db.session.scalars(select(Category))}
    assert levels == {"酒店用品": 1, "洗漱用品": 2, "牙刷": 3}

    resp = add_category(client, "儿童牙刷", category_id(app, "牙刷"), follow_redirects=True)
    assert "at most three levels" in resp.get_data(as_text=True)
    assert count(app, Category) == 3

    # A two-level subtree moved under a second-level category would make a fourth level.
    add_category(client, "清洁用品")
    add_category(client, "拖把", category_id(app, "清洁用品"))
    moved = category_id(app, "清洁用品")
    resp = post_form(client, f"/admin/categories/edit/{moved}",
                     {"name": "清洁用品", "parent": str(category_id(app, "洗漱用品")),
                      "sort_order": "0", "active": "y"}, follow_redirects=True)
    assert "at most three levels" in resp.get_data(as_text=True)
    with app.app_context():
        cat = db.session.get(Category, moved)
        assert cat.parent_id is None and cat.level == 1
        assert cat.children[0].level == 2

    # The list is the tree: every child right under its parent, indented by level.
    html = client.get("/admin/categories/list/").get_data(as_text=True)
    order = [html.index(n) for n in ("酒店用品", "洗漱用品", "牙刷", "清洁用品", "拖把")]
    assert order == sorted(order)
    assert "padding-left:56px" in html  # the third level


def test_category_icon_upload_and_hostile_file(app, make):
    client = admin_client(app, make)
    resp = add_category(client, "纸品", icon_file=upload(image_bytes("PNG", (120, 120)),
                                                         "icon.png"))
    assert resp.status_code == 302
    with app.app_context():
        icon = db.session.scalar(select(Category.icon))
    assert icon.startswith("public/category/")
    assert app.test_client().get("/media/" + icon).status_code == 200
    files = media_files(app)

    cid = category_id(app, "纸品")
    resp = post_form(client, f"/admin/categories/edit/{cid}",
                     {"name": "纸品二", "parent": "__None", "sort_order": "0",
                      "icon_file": upload(HOSTILE, "x.jpg")}, follow_redirects=True)
    assert "not a JPEG, PNG or WebP" in resp.get_data(as_text=True)
    with app.app_context():
        cat = db.session.get(Category, cid)
        assert cat.name == "纸品" and cat.icon == icon
    assert media_files(app) == files

    # Editing without a file keeps the icon.
    post_form(client, f"/admin/categories/edit/{cid}",
              {"name": "纸巾", "parent": "__None", "sort_order": "1", "active": "y"})
    with app.app_context():
        cat = db.session.get(Category, cid)
        assert cat.name == "纸巾" and cat.icon == icon


def test_category_with_children_is_not_deleted(app, make):
    client = admin_client(app, make)
    add_category(client, "饮品")
    add_category(client, "矿泉水", category_id(app, "饮品"))
    parent = category_id(app, "饮品")
    token = csrf_token(client, "/admin/categories/list/")
    resp = client.post(f"/admin/categories/delete/{parent}", data={"csrf_token": token},
                       follow_redirects=True)
    assert "has subcategories" in resp.get_data(as_text=True)
    assert count(app, Category) == 2


# ---- spec library ----------------------------------------------------------------------

def pack_form(**changes):
    data = {"base_unit": "把", "inner_unit": "盒", "inner_qty": "20", "outer_unit": "箱",
            "outer_qty": "400"}
    data.update(changes)
    return data


def test_pack_unit_add_refuse_bad_counts_and_in_use_delete(app, make):
    client = admin_client(app, make)
    assert "minimum order quantity" in client.get("/admin/pack-units/add").get_data(
        as_text=True)
    assert post_form(client, "/admin/pack-units/add", pack_form()).status_code == 302
    assert count(app, PackUnit) == 1

    for bad in ({"outer_qty": "390"}, {"outer_qty": "10"}, {"inner_qty": "0"}):
        resp = post_form(client, "/admin/pack-units/add", pack_form(**bad))
        assert resp.status_code == 400  # the form again, with the message
    assert count(app, PackUnit) == 1
    resp = post_form(client, "/admin/pack-units/add", pack_form(outer_qty="390"),
                     follow_redirects=True)
    assert "whole number of inner packs" in resp.get_data(as_text=True)

    html = client.get("/admin/pack-units/list/").get_data(as_text=True)
    assert "20 把/盒 — 400 把/箱" in html

    with app.app_context():
        unit_id = db.session.scalar(select(PackUnit.id))
    product = make_product(app)
    with app.app_context():
        catalog.save_specs(db.session.get(Product, product),
                           [{"model": "A", "pack_unit_id": str(unit_id), "base_price": "1"}],
                           [])
    token = csrf_token(client, "/admin/pack-units/list/")
    resp = client.post(f"/admin/pack-units/delete/{unit_id}", data={"csrf_token": token},
                       follow_redirects=True)
    assert "used by 1 specs" in resp.get_data(as_text=True)
    assert count(app, PackUnit) == 1


# ---- products --------------------------------------------------------------------------

def test_product_add_goes_to_specs_and_bulk_off_shelf(app, make):
    client = admin_client(app, make)
    with app.app_context():
        db.session.add(Tag(name="新品"))
        db.session.commit()
        tag_id = db.session.scalar(select(Tag.id))
    resp = post_form(client, "/admin/products/add", {
        "name": " 一次性牙刷 ", "item_no": "YS-01", "tags": [str(tag_id)],
        "description": "<p>软毛</p><script>alert(1)</script>", "on_shelf": "y",
        "sort_order": "0", "category": "__None", "brand": "__None"})
    assert resp.status_code == 302
    with app.app_context():
        product = db.session.scalar(select(Product))
        assert product.name == "一次性牙刷" and [t.name for t in product.tags] == ["新品"]
        assert "<script>" not in product.description and "软毛" in product.description
        first = product.id
    assert resp.headers["Location"].endswith(f"/admin/products/{first}/specs")
    second = make_product(app, "香皂", on_shelf=True)
    third = make_product(app, "梳子", on_shelf=True)

    html = client.get("/admin/products/list/").get_data(as_text=True)
    assert "一次性牙刷" in html and "Take off shelf" in html
    token = csrf_token(client, "/admin/products/list/")
    resp = client.post("/admin/products/action_post", data={
        "csrf_token": token, "action": "shelf_off", "rowid": [str(first), str(second)]})
    assert resp.status_code == 302
    with app.app_context():
        shelf = {p.id: p.on_shelf for p in db.session.scalars(select(Product))}
    assert shelf == {first: False, second: False, third: True}

    resp = client.post("/admin/products/action_post", data={
        "csrf_token": token, "action": "shelf_on", "rowid": [str(first), "999999"]})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Product, first).on_shelf is True


def test_images_upload_reorder_remove_and_hostile(app, make):
    client = admin_client(app, make)
    pid = make_product(app)
    url = f"/admin/products/{pid}/images"
    assert client.get(url).status_code == 200
    resp = post_form(client, url, {"images": [upload(image_bytes(color=(255, 0, 0)), "a.jpg"),
                                              upload(image_bytes("PNG"), "b.png")]})
    assert resp.status_code == 302

    def images():
        with app.app_context():
            product = db.session.get(Product, pid)
            return [(im.id, im.key) for im in product.images], product.cover

    (first, key_a), (second, key_b) = images()[0]
    assert images()[1] == key_a
    html = client.get(url).get_data(as_text=True)
    assert "Cover" in html and "Remove this image?" in html

    token = csrf_token(client, url)
    resp = client.post(f"{url}/{second}/move", data={"csrf_token": token, "step": "-1"})
    assert resp.status_code == 302
    assert images() == ([(second, key_b), (first, key_a)], key_b)
    assert client.post(f"{url}/{second}/move",
                       data={"csrf_token": token, "step": "7"}).status_code == 400

    files = media_files(app)
    resp = post_form(client, url, {"images": [upload(image_bytes(), "ok.jpg"),
                                              upload(HOSTILE, "x.jpg")]})
    assert resp.status_code == 400
    assert "not a JPEG, PNG or WebP" in resp.get_data(as_text=True)
    assert images() == ([(second, key_b), (first, key_a)], key_b)
    assert media_files(app) == files

    resp = client.post(f"{url}/{second}/remove", data={"csrf_token": token})
    assert resp.status_code == 302
    assert images() == ([(first, key_a)], key_a)
    assert not any(key_b.split("/")[-1].split(".")[0] in f for f in media_files(app))

    # An image of another product is refused and nothing changes.
    other = make_product(app, "香皂")
    resp = client.post(f"/admin/products/{other}/images/{first}/remove",
                       data={"csrf_token": token})
    assert resp.status_code == 400
    assert images() == ([(first, key_a)], key_a)
    assert client.get("/admin/products/999999/images").status_code == 404


def spec_form(client, pid, rows, levels):
    data = {"csrf_token": csrf_token(client, f"/admin/products/{pid}/specs"),
            "row_count": str(len(rows))}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"r{i}-{key}"] = value
    return client.post(f"/admin/products/{pid}/specs", data=data)


def test_specs_page_saves_two_specs_with_level_prices(app, make):
    client = admin_client(app, make)
    unit = make_pack_unit(app)
    silver, gold = make_levels(app, "银牌", "金牌")
    pid = make_product(app)
    html = client.get(f"/admin/products/{pid}/specs").get_data(as_text=True)
    assert "银牌" in html and "金牌" in html and 'name="r2-model"' in html  # 3 new rows

    blank = {"id": "", "model": "", "spec": "", "pack_unit_id": "", "base_price": "",
             "active": "y"}
    rows = [
        {"id": "", "model": "YS-01", "spec": "软毛", "pack_unit_id": str(unit),
         "weight_kg": "0.02", "stock": "2000", "base_price": "0.50", "active": "y",
         "sort_order": "1", f"price_{silver}": "0.45", f"price_{gold}": ""},
        {"id": "", "model": "YS-02", "spec": "硬毛", "pack_unit_id": str(unit),
         "weight_kg": "", "stock": "400", "base_price": "0.6", "active": "y",
         "sort_order": "2", f"price_{silver}": "0.55", f"price_{gold}": "0.5"},
        blank,
    ]
    resp = spec_form(client, pid, rows, [silver, gold])
    assert resp.status_code == 302
    with app.app_context():
        specs = db.session.get(Product, pid).specs
        assert [(s.model, s.stock, s.base_price) for s in specs] == [
            ("YS-01", 2000, Decimal("0.50")), ("YS-02", 400, Decimal("0.60"))]
        prices = {(lp.spec.model, lp.level_id): lp.price
                  for lp in db.session.scalars(select(LevelPrice))}
        assert prices == {("YS-01", silver): Decimal("0.45"), ("YS-02", silver): Decimal("0.55"),
                          ("YS-02", gold): Decimal("0.50")}
        ids = [str(s.id) for s in specs]
    html = client.get(f"/admin/products/{pid}/specs").get_data(as_text=True)
    assert "MOQ 20 把 (1 盒)" in html and 'value="0.45"' in html

    # A negative price, or stock that is not a number: refused, shown again, nothing saved.
    for bad in ({f"price_{gold}": "-1"}, {"stock": "lots"}):
        changed = [dict(rows[0], id=ids[0], model="改了", **bad), dict(rows[1], id=ids[1])]
        resp = spec_form(client, pid, changed, [silver, gold])
        assert resp.status_code == 400
        body = resp.get_data(as_text=True)
        assert "Spec row 1" in body and 'value="改了"' in body
    with app.app_context():
        assert [s.model for s in db.session.get(Product, pid).specs] == ["YS-01", "YS-02"]
        assert db.session.scalar(select(func.count()).select_from(LevelPrice)) == 3

    # Delete one, clear a level price.
    resp = spec_form(client, pid, [dict(rows[0], id=ids[0], delete="y"),
                                   dict(rows[1], id=ids[1], **{f"price_{gold}": ""})],
                     [silver, gold])
    assert resp.status_code == 302
    with app.app_context():
        specs = db.session.get(Product, pid).specs
        assert [s.model for s in specs] == ["YS-02"]
        assert [(lp.level_id, lp.price) for lp in specs[0].level_prices] == [
            (silver, Decimal("0.55"))]


# ---- content ---------------------------------------------------------------------------

def test_article_body_is_sanitised(app, make):
    client = admin_client(app, make)
    body = ('<p>欢迎<b>光临</b></p><script>alert(1)</script>'
            '<img src="https://example.com/a.png" onerror="alert(2)">')
    resp = post_form(client, "/admin/articles/add", {
        "kind": "announcement", "title": "开业公告", "body": body, "published": "y",
        "sort_order": "0"})
    assert resp.status_code == 302
    with app.app_context():
        article = db.session.scalar(select(Article))
    assert article.kind == "announcement" and article.published is True
    assert "<script>" not in article.body and "alert(1)" not in article.body
    assert "onerror" not in article.body
    assert "<p>欢迎<b>光临</b></p>" in article.body and "https://example.com/a.png" in article.body
    html = client.get(f"/admin/articles/show/{article.id}").get_data(as_text=True)
    assert "onerror" not in html and "<b>光临</b>" in html


def test_home_blocks_and_their_entries(app, make):
    client = admin_client(app, make)
    resp = post_form(client, "/admin/home-blocks/add", {
        "kind": "products", "title": "热卖", "position": "1", "limit": "6",
        "article_kind": "", "category": "__None", "brand": "__None", "tag": "__None"},
        follow_redirects=True)
    assert "needs a category, a brand or a tag" in resp.get_data(as_text=True)
    assert count(app, HomeBlock) == 0

    resp = post_form(client, "/admin/home-blocks/add", {
        "kind": "banner", "title": "首页轮播", "position": "1", "visible": "y",
        "limit": "6", "article_kind": "", "category": "__None", "brand": "__None",
        "tag": "__None"})
    assert resp.status_code == 302
    with app.app_context():
        block = db.session.scalar(select(HomeBlock))
        assert block.kind == "banner" and block.article_kind is None
        block_id = block.id

    item = {"block": str(block_id), "label": "新品", "position": "1",
            "image_file": upload(image_bytes(), "slide.jpg")}
    resp = post_form(client, "/admin/home-block-items/add",
                     dict(item, link="https://evil.example/"), follow_redirects=True)
    assert "must be a path in the shop" in resp.get_data(as_text=True)
    assert count(app, HomeBlockItem) == 0 and media_files(app) == []
    item["image_file"] = upload(image_bytes(), "slide.jpg")
    assert post_form(client, "/admin/home-block-items/add",
                     dict(item, link="/category/3")).status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(HomeBlockItem))
        assert entry.link == "/category/3" and entry.image.startswith("public/home/")
    html = client.get(f"/admin/home-blocks/show/{block_id}").get_data(as_text=True)
    assert "/category/3" in html
    assert "Banner carousel" in client.get("/admin/home-blocks/list/").get_data(as_text=True)


def test_every_new_screen_opens_for_admin(app, make):
    client = admin_client(app, make)
    pid = make_product(app)
    for url in ("/admin/categories/list/", "/admin/categories/add", "/admin/brands/list/",
                "/admin/brands/add", "/admin/tags/list/", "/admin/tags/add",
                "/admin/pack-units/list/", "/admin/pack-units/add",
                "/admin/member-levels/list/", "/admin/member-levels/add",
                "/admin/products/list/", "/admin/products/add", f"/admin/products/show/{pid}",
                f"/admin/products/edit/{pid}", "/admin/home-blocks/list/",
                "/admin/home-blocks/add", "/admin/home-block-items/add",
                "/admin/articles/list/", "/admin/articles/add", "/admin/stores/list/",
                "/admin/stores/add"):
        assert client.get(url).status_code == 200, url
    # A level no member uses can be deleted; one in use is kept, with a message.
    make_levels(app, "普通", "银牌")
    with app.app_context():
        used, unused = db.session.scalars(select(MemberLevel.id).order_by(MemberLevel.id)).all()
        member = make.member()
        db.session.get(Member, member.id).level_id = used
        db.session.commit()
    for level in (used, unused):
        token = csrf_token(client, "/admin/member-levels/list/")
        client.post(f"/admin/member-levels/delete/{level}", data={"csrf_token": token})
    with app.app_context():
        assert db.session.scalars(select(MemberLevel.id)).all() == [used]


def test_brand_rename_refreshes_search_text(app, make):
    client = admin_client(app, make)
    assert post_form(client, "/admin/brands/add", {"name": "洁丽", "story": "故事",
                                                   "sort_order": "0"}).status_code == 302
    with app.app_context():
        from app.catalog.models import Brand
        brand_id = db.session.scalar(select(Brand.id))
    pid = make_product(app, brand_id=brand_id)
    post_form(client, f"/admin/brands/edit/{brand_id}", {"name": "蓝月亮", "story": "",
                                                        "sort_order": "0"})
    with app.app_context():
        assert "蓝月亮" in db.session.get(Product, pid).search_text


def test_store_coordinates_are_checked(app, make):
    client = admin_client(app, make)
    resp = post_form(client, "/admin/stores/add", {
        "name": "金盘店", "address": "金盘路 18 号", "latitude": "200", "longitude": "110",
        "sort_order": "0", "active": "y"}, follow_redirects=True)
    assert "Coordinates must be" in resp.get_data(as_text=True)
    from app.content.models import Store
    assert count(app, Store) == 0


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_customer_service_gets_none_of_these(app, make, method):
    pid = make_product(app)
    client = app.test_client()
    login(client, make.user(CUSTOMER_SERVICE).mobile)
    token = csrf_token(client, "/me")
    for url in ("/admin/products/list/", f"/admin/products/{pid}/images",
                f"/admin/products/{pid}/specs", "/admin/categories/list/",
                "/admin/pack-units/list/", "/admin/articles/list/", "/admin/home-blocks/list/"):
        if method == "POST" and "list" in url:
            continue
        resp = client.open(url, method=method, data={"csrf_token": token, "row_count": "0"})
        assert resp.status_code == 403, url
    html = client.get("/admin/").get_data(as_text=True)
    assert "/admin/products/" not in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProductImage)) == 0
        assert db.session.scalar(select(func.count()).select_from(Spec)) == 0


def test_product_list_shows_cover_category_path_and_spec_count(app, make):
    client = admin_client(app, make)
    add_category(client, "酒店用品")
    add_category(client, "洗漱用品", category_id(app, "酒店用品"))
    pid = make_product(app, category_id=category_id(app, "洗漱用品"))
    post_form(client, f"/admin/products/{pid}/images",
              {"images": [upload(image_bytes(), "a.jpg")]})
    unit = make_pack_unit(app)
    with app.app_context():
        catalog.save_specs(db.session.get(Product, pid), [
            {"model": "A", "pack_unit_id": str(unit), "base_price": "1"},
            {"model": "B", "pack_unit_id": str(unit), "base_price": "2"}], [])
        cover = db.session.get(Product, pid).cover
    html = client.get("/admin/products/list/").get_data(as_text=True)
    assert "酒店用品 / 洗漱用品" in html
    assert re.search(r"/media/public/product/\S+_t\.jpg", html) and cover
    assert re.search(r"<td>\s*2\s*</td>", html)


def test_checkboxes_can_be_left_unticked(app, make):
    """FAB makes NOT NULL booleans InputRequired; our forms let them be unticked."""
    client = admin_client(app, make)
    pid = make_product(app, on_shelf=True)
    resp = post_form(client, f"/admin/products/edit/{pid}", {
        "name": "一次性牙刷", "sort_order": "0", "category": "__None", "brand": "__None"})
    assert resp.status_code == 302
    add_category(client, "停用分类")
    cid = category_id(app, "停用分类")
    post_form(client, f"/admin/categories/edit/{cid}",
              {"name": "停用分类", "parent": "__None", "sort_order": "0"})
    with app.app_context():
        assert db.session.get(Product, pid).on_shelf is False
        assert db.session.get(Category, cid).active is False


def test_deleting_a_brand_or_a_product_removes_its_files(app, make):
    client = admin_client(app, make)
    post_form(client, "/admin/brands/add", {"name": "洁丽", "sort_order": "0",
                                            "logo_file": upload(image_bytes(), "logo.jpg")})
    pid = make_product(app)
    post_form(client, f"/admin/products/{pid}/images",
              {"images": [upload(image_bytes(), "a.jpg")]})
    assert len(media_files(app)) == 4  # two images, two thumbnails
    with app.app_context():
        from app.catalog.models import Brand
        brand_id = db.session.scalar(select(Brand.id))
    token = csrf_token(client, "/admin/brands/list/")
    client.post(f"/admin/brands/delete/{brand_id}", data={"csrf_token": token})
    client.post(f"/admin/products/delete/{pid}", data={"csrf_token": token})
    assert count(app, Product) == 0 and count(app, ProductImage) == 0
    assert media_files(app) == []


@pytest.mark.parametrize("bad", [
    {"inner_qty": "99999999999999999999"}, {"inner_qty": "-1", "outer_qty": "-1"},
    {"inner_qty": "-1"}, {"outer_qty": "2147483648"}, {"inner_qty": "1e3"},
])
def test_pack_unit_edit_with_numbers_out_of_range_changes_nothing(app, make, bad):
    client = admin_client(app, make)
    assert post_form(client, "/admin/pack-units/add", pack_form()).status_code == 302
    with app.app_context():
        unit_id = db.session.scalar(select(PackUnit.id))
    resp = post_form(client, f"/admin/pack-units/edit/{unit_id}", pack_form(**bad))
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "Please enter" in page or "must hold" in page or "Not a valid" in page
    with app.app_context():
        unit = db.session.get(PackUnit, unit_id)
        assert (unit.inner_qty, unit.outer_qty) == (20, 400)
