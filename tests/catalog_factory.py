"""Catalog rows for tests (call inside an app context)."""

from decimal import Decimal

from app.catalog import services as catalog
from app.catalog.models import Brand, Category, LevelPrice, PackUnit, Product, Spec
from app.extensions import db
from app.members.models import MemberLevel


def pack(inner=20, outer=400, base="把", inner_unit="盒", outer_unit="箱") -> PackUnit:
    unit = db.session.query(PackUnit).filter_by(base_unit=base, inner_unit=inner_unit,
                                                inner_qty=inner, outer_unit=outer_unit,
                                                outer_qty=outer).first()
    if unit is None:
        unit = PackUnit(base_unit=base, inner_unit=inner_unit, inner_qty=inner,
                        outer_unit=outer_unit, outer_qty=outer)
        db.session.add(unit)
        db.session.flush()
    return unit


def level(name="银牌", sort=2) -> MemberLevel:
    row = db.session.query(MemberLevel).filter_by(name=name).first()
    if row is None:
        row = MemberLevel(name=name, sort_order=sort)
        db.session.add(row)
        db.session.flush()
    return row


def product(name="怡宝矿泉水", item_no="YB-001", brand=None, category=None, specs=1,
            price="0.50", stock=1000, unit=None, on_shelf=True, level_prices=None,
            model="550ml") -> Product:
    unit = unit or pack()
    if isinstance(brand, str):
        brand = db.session.query(Brand).filter_by(name=brand).first() or Brand(name=brand)
    if isinstance(category, str):
        category = Category(name=category, level=1)
    item = Product(name=name, item_no=item_no, brand=brand, category=category,
                   on_shelf=on_shelf)
    for n in range(specs):
        spec = Spec(model=f"{model}-{n}" if n else model, spec="整箱", pack_unit=unit,
                    stock=stock, base_price=Decimal(price), weight_kg=Decimal("0.55"))
        for lvl, lp in (level_prices or {}).items():
            spec.level_prices.append(LevelPrice(level=lvl, price=Decimal(lp)))
        item.specs.append(spec)
    db.session.add(item)
    db.session.flush()
    catalog.refresh_derived(item)
    db.session.commit()
    return item
