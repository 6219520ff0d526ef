"""The demo data (`flask pifa seed-demo`): idempotent, one saved address per customer who
orders, real packing in the spec library, demo orders in whole inner packs, and the
one-time repair of a database an older demo seeded."""

from sqlalchemy import func, select

from app.catalog.models import PackUnit, Product, Spec
from app.demo import seed as demo
from app.extensions import db
from app.members.models import Member, MemberStatus
from app.ordering import delivery
from app.ordering.models import Address, Order, OrderLine
from app.platform import accounts

LEGACY = {v: k for k, v in demo.LEGACY_PACKS.items()}  # new key -> the old packing


def _packing(unit):
    return (unit.base_unit, unit.inner_unit, unit.inner_qty, unit.outer_unit, unit.outer_qty)


def _addresses():
    """Saved addresses per demo customer mobile."""
    found = {}
    for mobile, *_rest in demo.CUSTOMERS:
        user = accounts.find_account(mobile)
        found[mobile] = db.session.scalar(select(func.count(Address.id))
                                          .where(Address.user_id == user.id))
    return found


def _statuses():
    return {mobile: status for mobile, _c, _s, _r, _a, status, *_rest in demo.CUSTOMERS}


def _demo_units():
    return db.session.scalars(select(PackUnit).join(Spec).join(Product).where(
        Product.item_no.in_([row[0] for row in demo.PRODUCTS])).distinct()).all()


def _assert_consistent():
    statuses = _statuses()
    assert _addresses() == {m: 1 if s == MemberStatus.APPROVED else 0
                            for m, s in statuses.items()}
    for mobile, status in statuses.items():
        if status != MemberStatus.APPROVED:
            continue
        user = accounts.find_account(mobile)
        member = db.session.scalar(select(Member).where(Member.user_id == user.id))
        address = db.session.scalar(select(Address).where(Address.user_id == user.id))
        assert address.is_default and address.phone == mobile
        assert member.address.endswith(address.street)
    units = _demo_units()
    assert len(units) >= len(demo.PACKS) - 1  # every library entry but spare ones is used
    for unit in units:
        assert unit.outer_qty > unit.inner_qty, _packing(unit)
        assert unit.outer_qty % unit.inner_qty == 0, _packing(unit)
    for line in db.session.scalars(select(OrderLine)):
        spec = db.session.get(Spec, line.spec_id)
        assert (line.base_unit, line.inner_unit, line.inner_qty, line.outer_unit,
                line.outer_qty) == _packing(spec.pack_unit), line.product_name
        assert line.quantity % spec.pack_unit.inner_qty == 0, line.product_name


def test_seed_demo_twice_adds_nothing_the_second_time(app, ctx):
    assert demo.seed_demo() > 0
    addresses = db.session.scalar(select(func.count(Address.id)))
    assert demo.seed_demo() == 0
    assert db.session.scalar(select(func.count(Address.id))) == addresses
    _assert_consistent()
    for key, values in demo.PACKS.items():  # the library as written, used or not
        assert values[4] > values[2] and values[4] % values[2] == 0, key

    water = db.session.scalar(select(Spec).join(Product)
                              .where(Product.item_no == "QQ-KQS-550"))
    assert _packing(water.pack_unit) == ("瓶", "提", 12, "箱", 24)
    # The loading list of 陈师傅 (海口 + 琼海): the assigned 海口 order's water is whole
    # cartons, counted in the same packs as the shop sells them.
    driver = accounts.find_account("13800000021")
    rows = [r for r in delivery.loading_list(driver).rows if r.product_name == water.product.name]
    assert [(r.inner_unit, r.outer_unit, r.quantity, r.text) for r in rows] == \
        [("提", "箱", 72, "3 箱 = 72 瓶")]


def test_an_older_demo_database_is_repaired_once(app, ctx):
    demo.seed_demo()
    # What an older demo left: single-pack cartons, its order lines under them, and an
    # identical address saved by every order of a customer.
    for key, old in LEGACY.items():
        unit = db.session.scalar(select(PackUnit).filter_by(
            **dict(zip(("base_unit", "inner_unit", "inner_qty", "outer_unit", "outer_qty"),
                       demo.PACKS[key], strict=True))))
        unit.base_unit, unit.inner_unit, unit.inner_qty, unit.outer_unit, unit.outer_qty = old
        for line in db.session.scalars(select(OrderLine).join(Spec)
                                       .where(Spec.pack_unit_id == unit.id)):
            line.inner_unit, line.inner_qty, line.outer_unit, line.outer_qty = old[1:]
    for address in db.session.scalars(select(Address)).all():
        for _ in range(3):
            db.session.add(Address(user_id=address.user_id, province=address.province,
                                   city=address.city, district=address.district,
                                   street=address.street, contact=address.contact,
                                   phone=address.phone))
    db.session.commit()
    assert max(_addresses().values()) == 4
    lines = db.session.scalar(select(func.count(OrderLine.id)))
    orders = db.session.scalar(select(func.count(Order.id)))

    assert demo.seed_demo() > 0
    db.session.commit()
    _assert_consistent()
    assert db.session.scalar(select(func.count(OrderLine.id))) == lines
    assert db.session.scalar(select(func.count(Order.id))) == orders
    assert demo.seed_demo() == 0
