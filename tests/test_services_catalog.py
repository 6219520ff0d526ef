"""Catalog rules: category levels, the spec library, specs and prices, the cart, search."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.catalog import pricing, search
from app.catalog import services as catalog
from app.catalog.models import Category, PackUnit, Product, Spec
from app.extensions import db
from app.members.models import Member
from app.ordering import cart
from app.ordering.models import CartLine
from app.platform.errors import PermissionDenied, ValidationError
from tests import catalog_factory as cf


def _cat(name, parent=None):
    category = Category(name=name, parent=parent)
    catalog.validate_category(category)
    db.session.add(category)
    db.session.commit()
    return category


def test_three_levels_allowed_fourth_refused(app, ctx):
    a = _cat("客房用品")
    b = _cat("一次性洗漱", a)
    c = _cat("牙刷套装", b)
    assert (a.level, b.level, c.level) == (1, 2, 3)
    with pytest.raises(ValidationError, match="three levels|三级"):
        _cat("第四级", c)
    db.session.rollback()
    assert db.session.query(Category).count() == 3


def test_moving_a_subtree_that_would_make_a_fourth_level_is_refused(app, ctx):
    a = _cat("纸品")
    b = _cat("卷纸", a)
    other = _cat("清洁用品")
    other_child = _cat("洗涤剂", other)
    a.parent = other_child  # a (with its child) under a level-2 node: 4 levels
    with pytest.raises(ValidationError):
        catalog.validate_category(a)
    db.session.rollback()
    assert db.session.get(Category, a.id).parent_id is None
    b2 = db.session.get(Category, b.id)
    b2.parent = db.session.get(Category, other_child.id)  # a leaf to level 3: fine
    catalog.validate_category(b2)
    assert b2.level == 3


def test_a_category_cannot_go_under_its_own_child(app, ctx):
    a = _cat("饮品")
    b = _cat("瓶装水", a)
    a.parent = b
    with pytest.raises(ValidationError):
        catalog.validate_category(a)
    db.session.rollback()


def test_category_with_children_or_products_is_kept(app, ctx):
    a = _cat("餐饮用品")
    b = _cat("一次性餐具", a)
    with pytest.raises(ValidationError):
        catalog.check_category_deletable(a)
    cf.product(category=b)
    with pytest.raises(ValidationError):
        catalog.check_category_deletable(db.session.get(Category, b.id))


@pytest.mark.parametrize("inner,outer,ok", [(20, 400, True), (24, 24, True), (20, 30, False),
                                            (0, 10, False), (10, 5, False), ("x", 10, False)])
def test_spec_library_counts(app, ctx, inner, outer, ok):
    unit = PackUnit(base_unit="把", inner_unit="盒", inner_qty=inner, outer_unit="箱",
                    outer_qty=outer)
    if ok:
        catalog.validate_pack_unit(unit)
    else:
        with pytest.raises(ValidationError):
            catalog.validate_pack_unit(unit)


def test_editing_a_library_entry_changes_every_spec_from_then_on(app, ctx):
    unit = cf.pack(20, 400)
    p1 = cf.product(name="牙刷", unit=unit)
    p2 = cf.product(name="梳子", item_no="S-1", unit=unit)
    unit.inner_qty, unit.outer_qty = 25, 500
    catalog.validate_pack_unit(unit)
    db.session.commit()
    for product in (p1, p2):
        spec = db.session.get(Product, product.id).specs[0]
        assert cart.moq(spec) == 25
    with pytest.raises(ValidationError):
        catalog.check_pack_unit_deletable(unit)


def test_save_specs_all_or_nothing(app, ctx):
    silver = cf.level("银牌")
    product = cf.product(name="洗发水", specs=1, price="1.20")
    unit = product.specs[0].pack_unit
    spec_id = product.specs[0].id
    rows = [
        {"id": str(spec_id), "model": "30ml", "spec": "瓶装", "pack_unit_id": str(unit.id),
         "weight_kg": "0.035", "stock": "5000", "base_price": "1.10", "active": "y",
         f"price_{silver.id}": "1.00"},
        {"id": "", "model": "50ml", "spec": "瓶装", "pack_unit_id": str(unit.id),
         "weight_kg": "0.055", "stock": "abc", "base_price": "1.80", "active": "y"},
    ]
    with pytest.raises(ValidationError, match="2"):
        catalog.save_specs(product, rows, [silver])
    db.session.rollback()
    product = db.session.get(Product, product.id)
    assert len(product.specs) == 1 and product.specs[0].base_price == Decimal("1.20")
    rows[1]["stock"] = "800"
    catalog.save_specs(product, rows, [silver])
    product = db.session.get(Product, product.id)
    assert [s.model for s in product.specs] == ["30ml", "50ml"]
    assert product.specs[0].level_prices[0].price == Decimal("1.00")
    assert "50ml" in product.search_text
    for bad in ("-1", "1.234", "NaN", "1e9", ""):
        rows[0]["base_price"] = bad
        with pytest.raises(ValidationError):
            catalog.save_specs(product, rows, [silver])
        db.session.rollback()


def _member(make, status="approved", level=None):
    ref = make.member(status=status)
    member = db.session.get(Member, ref.id)
    member.level_id = level.id if level else None
    db.session.commit()
    return ref


def _user(app, ref):
    return app.appbuilder.sm.get_user_by_id(ref.user_id)


def test_price_visibility_for_every_kind_of_user(app, ctx, make):
    silver, gold = cf.level("银牌", 2), cf.level("金牌", 3)
    product = cf.product(price="0.50", level_prices={silver: "0.45"})
    spec = product.specs[0]
    visitor = app.appbuilder.sm.lm.anonymous_user()
    assert pricing.unit_price(spec, pricing.price_access(visitor)) is None
    for status in ("incomplete", "pending", "rejected"):
        user = _user(app, _member(make, status, silver))
        assert pricing.unit_price(spec, pricing._decide(user)) is None, status
    silver_user = _user(app, _member(make, "approved", silver))
    gold_user = _user(app, _member(make, "approved", gold))
    assert pricing.unit_price(spec, pricing._decide(silver_user)) == Decimal("0.45")
    assert pricing.unit_price(spec, pricing._decide(gold_user)) == Decimal("0.50")  # fallback
    assert pricing.pack_price(Decimal("0.45"), spec) == Decimal("9.00")
    for role in ("Admin", "CustomerService", "Salesman"):
        staff = _user(app, make.user(role))
        assert pricing.unit_price(spec, pricing._decide(staff)) == Decimal("0.50"), role
    driver = _user(app, make.user("Driver"))
    assert pricing.unit_price(spec, pricing._decide(driver)) is None


def _cart(app, user_ref):
    return {line.spec_id: line.quantity for line in db.session.scalars(
        select(CartLine).where(CartLine.user_id == user_ref.user_id))}


@pytest.mark.parametrize("raw", ["10", "0", "-20", "abc", "1.5", "99999999999", "", "20x"])
def test_cart_refuses_bad_quantities(app, ctx, make, raw):
    product = cf.product(stock=1000)
    ref = _member(make)
    with pytest.raises(ValidationError):
        cart.add_to_cart(_user(app, ref), {product.specs[0].id: raw})
    assert _cart(app, ref) == {}


def test_cart_accepts_multiples_and_respects_stock(app, ctx, make):
    product = cf.product(stock=100)
    spec_id = product.specs[0].id
    ref = _member(make)
    user = _user(app, ref)
    cart.add_to_cart(user, {spec_id: "40"})
    cart.add_to_cart(user, {spec_id: 60})
    assert _cart(app, ref) == {spec_id: 100}
    with pytest.raises(ValidationError, match="100"):
        cart.add_to_cart(user, {spec_id: 20})  # 120 > stock
    assert _cart(app, ref) == {spec_id: 100}
    assert cart.cart_count(user) == 1


def test_cart_refuses_off_shelf_and_inactive_specs_and_all_or_nothing(app, ctx, make):
    good = cf.product(name="好", item_no="G")
    off = cf.product(name="下架", item_no="O", on_shelf=False)
    ref = _member(make)
    user = _user(app, ref)
    with pytest.raises(ValidationError):
        cart.add_to_cart(user, {good.specs[0].id: 20, off.specs[0].id: 20})
    assert _cart(app, ref) == {}
    spec = db.session.get(Spec, good.specs[0].id)
    spec.active = False
    db.session.commit()
    with pytest.raises(ValidationError):
        cart.add_to_cart(user, {spec.id: 20})
    with pytest.raises(ValidationError):
        cart.add_to_cart(user, {987654: 20})


def test_only_approved_members_may_add_to_cart(app, ctx, make):
    product = cf.product()
    for ref in (_member(make, "pending"), make.user("Salesman"), make.user("Driver")):
        with pytest.raises(PermissionDenied):
            cart.add_to_cart(_user(app, ref), {product.specs[0].id: 20})


@pytest.mark.parametrize("query", ["kqs", "kuangquanshui", "矿泉", "KQS", "yb-001", "550ml",
                                   "怡宝", "yibao", "kq s"])
def test_pinyin_search_finds_the_product(app, ctx, query):
    cf.product(name="怡宝矿泉水", item_no="YB-001", brand="怡宝", model="550ml")
    cf.product(name="一次性牙刷", item_no="TS-9", model="T1")
    found = db.session.scalars(select(Product).where(search.search_condition(query))).all()
    assert [p.name for p in found] == ["怡宝矿泉水"], query


def test_search_escapes_wildcards_and_ignores_empty(app, ctx):
    cf.product(name="怡宝矿泉水")
    assert search.search_condition("   ") is None
    for q in ("%", "_", "\\"):
        found = db.session.scalars(select(Product).where(search.search_condition(q))).all()
        assert found == [], q


def test_brand_rename_refreshes_search(app, ctx):
    product = cf.product(name="卷纸", item_no="JZ", brand="清风")
    brand = product.brand
    brand.name = "椰岛"
    catalog.after_brand_change(brand)
    db.session.commit()
    found = db.session.scalars(select(Product).where(search.search_condition("yedao"))).all()
    assert [p.id for p in found] == [product.id]
