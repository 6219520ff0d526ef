"""Catalog rules: the three-level category tree, the spec library, products, specs, images."""

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.catalog import search
from app.catalog.models import (
    MAX_CATEGORY_DEPTH,
    Brand,
    Category,
    LevelPrice,
    PackUnit,
    Product,
    ProductImage,
    Spec,
)
from app.extensions import db
from app.members.models import Member, MemberLevel
from app.platform import uploads
from app.platform.errors import ValidationError
from app.platform.html import sanitize_html
from app.platform.models import ShopSettings
from app.platform.transactions import atomic

MAX_STOCK = 100_000_000
MAX_PRICE = Decimal("9999999.99")


# ---- categories ---------------------------------------------------------------------

def _subtree_height(category: Category) -> int:
    if category.id is None:
        return 1
    return 1 + max((_subtree_height(c) for c in category.children), default=0)


def validate_category(category: Category) -> None:
    """Name required; at most three levels, also when a subtree moves under a new parent."""
    category.name = (category.name or "").strip()
    if not category.name:
        raise ValidationError(_l("Please enter the category's name."), "name")
    if len(category.name) > 64:
        raise ValidationError(_l("The category's name is too long."), "name")
    parent = category.parent
    if parent is None and category.parent_id:
        parent = db.session.get(Category, category.parent_id)
    ancestors = []
    node = parent
    while node is not None:
        if category.id is not None and node.id == category.id:
            raise ValidationError(_l("A category cannot be placed under itself or its own "
                                     "subcategory."), "parent")
        ancestors.append(node)
        node = node.parent
        if len(ancestors) > MAX_CATEGORY_DEPTH:
            break
    level = len(ancestors) + 1
    if level + _subtree_height(category) - 1 > MAX_CATEGORY_DEPTH:
        raise ValidationError(
            _l("Categories have at most three levels: this would make a fourth."), "parent")
    _set_levels(category, level)


def _set_levels(category: Category, level: int) -> None:
    category.level = level
    if category.id is not None:
        for child in category.children:
            _set_levels(child, level + 1)


def check_category_deletable(category: Category) -> None:
    if category.children:
        raise ValidationError(_l("This category has subcategories; delete or move them first."),
                              "name")
    if db.session.scalar(select(func.count(Product.id)).where(
            Product.category_id == category.id)):
        raise ValidationError(_l("This category still has products; move them first."), "name")


def descendant_ids(category: Category) -> list[int]:
    """The category and its active subcategories, from one query of the whole tree."""
    children: dict[int | None, list[int]] = {}
    for cat_id, parent_id in db.session.execute(
            select(Category.id, Category.parent_id).where(Category.active.is_(True))):
        children.setdefault(parent_id, []).append(cat_id)
    ids, stack = [], [category.id]
    while stack:
        node = stack.pop()
        ids.append(node)
        stack.extend(children.get(node, []))
    return ids


# ---- brands, levels -----------------------------------------------------------------

def validate_brand(brand: Brand) -> None:
    brand.name = (brand.name or "").strip()
    if not brand.name:
        raise ValidationError(_l("Please enter the brand's name."), "name")
    clash = db.session.scalar(select(Brand.id).where(Brand.name == brand.name,
                                                     Brand.id != (brand.id or 0)))
    if clash:
        raise ValidationError(_l("A brand with this name already exists."), "name")


def after_brand_change(brand: Brand) -> None:
    """Brand names are searched: refresh the products of a renamed brand."""
    for product in db.session.scalars(select(Product).where(Product.brand_id == brand.id)):
        product.search_text = search.build_search_text(product)


def validate_member_level(level: MemberLevel) -> None:
    level.name = (level.name or "").strip()
    if not level.name:
        raise ValidationError(_l("Please enter the level's name."), "name")
    clash = db.session.scalar(select(MemberLevel.id).where(MemberLevel.name == level.name,
                                                           MemberLevel.id != (level.id or 0)))
    if clash:
        raise ValidationError(_l("A level with this name already exists."), "name")


def check_member_level_deletable(level: MemberLevel) -> None:
    members = db.session.scalar(select(func.count(Member.id)).where(Member.level_id == level.id))
    default = db.session.scalar(select(ShopSettings.id).where(
        ShopSettings.default_level_id == level.id))
    if members or default:
        raise ValidationError(
            _l("This level is used by members or is the default level; it cannot be deleted."),
            "name")


# ---- spec library ---------------------------------------------------------------------

def validate_pack_unit(unit: PackUnit) -> None:
    """e.g. 20 把/盒 — 400 把/箱: the carton holds a whole number of inner packs."""
    for field in ("base_unit", "inner_unit", "outer_unit"):
        value = (getattr(unit, field) or "").strip()
        if not value or len(value) > 8:
            raise ValidationError(_l("Please enter each unit (at most 8 characters)."), field)
        setattr(unit, field, value)
    inner = _int(unit.inner_qty, "inner_qty", 1, 100_000)
    outer = _int(unit.outer_qty, "outer_qty", 1, 10_000_000)
    if outer < inner or outer % inner:
        raise ValidationError(
            _l("The outer pack must hold a whole number of inner packs "
               "(e.g. 400 per carton with 20 per box)."), "outer_qty")
    unit.inner_qty, unit.outer_qty = inner, outer
    clash = db.session.scalar(select(PackUnit.id).where(
        PackUnit.base_unit == unit.base_unit, PackUnit.inner_unit == unit.inner_unit,
        PackUnit.inner_qty == inner, PackUnit.outer_unit == unit.outer_unit,
        PackUnit.outer_qty == outer, PackUnit.id != (unit.id or 0)))
    if clash:
        raise ValidationError(_l("This packing is already in the spec library."), "inner_qty")


def check_pack_unit_deletable(unit: PackUnit) -> None:
    used = db.session.scalar(select(func.count(Spec.id)).where(Spec.pack_unit_id == unit.id))
    if used:
        raise ValidationError(
            _l("This packing is used by %(n)d specs and cannot be deleted.", n=used),
            "base_unit")


# ---- products --------------------------------------------------------------------------

def save_product(product: Product) -> None:
    """Validate a product's own fields and refresh what is derived from them."""
    product.name = (product.name or "").strip()
    if not product.name:
        raise ValidationError(_l("Please enter the product's name."), "name")
    if len(product.name) > 128:
        raise ValidationError(_l("The product's name is too long."), "name")
    product.item_no = (product.item_no or "").strip() or None
    product.description = sanitize_html(product.description) or None
    refresh_derived(product)


def refresh_derived(product: Product) -> None:
    product.search_text = search.build_search_text(product)
    product.cover = product.images[0].key if product.images else None


def set_shelf(products: list[Product], on_shelf: bool) -> int:
    for product in products:
        product.on_shelf = on_shelf
    db.session.commit()
    return len(products)


@atomic
def add_images(product: Product, files) -> int:
    """Store uploaded images after the existing ones. All or nothing."""
    files = [f for f in files if f is not None and getattr(f, "filename", "")]
    if not files:
        raise ValidationError(_l("Please choose an image."), "image")
    stored = []
    try:
        for f in files:
            stored.append(uploads.save_image(f, folder="product"))
    except ValidationError:
        for image in stored:
            uploads.delete_image(image.key)
        raise
    start = max((i.position for i in product.images), default=-1) + 1
    for offset, image in enumerate(stored):
        product.images.append(ProductImage(key=image.key, position=start + offset))
    refresh_derived(product)
    db.session.commit()
    return len(stored)


@atomic
def move_image(product: Product, image_id: int, step: int) -> None:
    images = list(product.images)
    index = next((i for i, im in enumerate(images) if im.id == image_id), None)
    if index is None:
        raise ValidationError(_l("That image does not belong to this product."), "image")
    target = min(max(index + step, 0), len(images) - 1)
    images.insert(target, images.pop(index))
    for position, image in enumerate(images):
        image.position = position
    product.images.sort(key=lambda im: im.position)
    refresh_derived(product)
    db.session.commit()


@atomic
def remove_image(product: Product, image_id: int) -> None:
    image = next((im for im in product.images if im.id == image_id), None)
    if image is None:
        raise ValidationError(_l("That image does not belong to this product."), "image")
    key = image.key
    product.images.remove(image)
    refresh_derived(product)
    db.session.commit()
    uploads.delete_image(key)


# ---- specs and prices --------------------------------------------------------------------

def _int(value, field, low, high) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise ValidationError(_l("Please enter a whole number from %(low)d to %(high)d.",
                                 low=low, high=high), field)
    return number


def _decimal(value, field, places: int, maximum: Decimal, required=True) -> Decimal | None:
    text = str(value if value is not None else "").strip()
    if not text:
        if required:
            raise ValidationError(_l("Please enter an amount."), field)
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < 0 or number > maximum or \
            number.as_tuple().exponent < -places:
        raise ValidationError(
            _l("Please enter an amount from 0 to %(max)s with at most %(places)d decimals.",
               max=maximum, places=places), field)
    return number


@atomic
def save_specs(product: Product, rows: list[dict], levels: list[MemberLevel]) -> None:
    """Replace a product's specs from the editor's rows; all rows valid or nothing saved.

    A row: id (empty for a new spec), delete, model, spec, pack_unit_id, weight_kg,
    stock, base_price, active, sort_order, and price_<level id> for each level (empty:
    the level pays the base price).
    """
    existing = {s.id: s for s in product.specs}
    units = {u.id: u for u in db.session.scalars(select(PackUnit))}
    kept = []
    for number, row in enumerate(rows, start=1):
        try:
            spec_id = int(row["id"]) if str(row.get("id") or "").strip() else None
            if spec_id is not None and spec_id not in existing:
                raise ValidationError(_l("That spec does not belong to this product."), "id")
            if row.get("delete"):
                continue
            model = (row.get("model") or "").strip()[:64] or None
            spec_text = (row.get("spec") or "").strip()[:64] or None
            if not model and not spec_text:
                raise ValidationError(_l("Please enter a model or a spec."), "model")
            try:
                unit = units.get(int(row.get("pack_unit_id") or 0))
            except ValueError:
                unit = None
            if unit is None:
                raise ValidationError(_l("Please choose a packing from the spec library."),
                                      "pack_unit_id")
            values = {
                "model": model, "spec": spec_text, "pack_unit_id": unit.id,
                "weight_kg": _decimal(row.get("weight_kg") or "0", "weight_kg", 3,
                                      Decimal("10000")),
                "stock": _int(row.get("stock") or "0", "stock", 0, MAX_STOCK),
                "base_price": _decimal(row.get("base_price"), "base_price", 2, MAX_PRICE),
                "active": bool(row.get("active")),
                "sort_order": _int(row.get("sort_order") or "0", "sort_order", -9999, 9999),
            }
            level_prices = {level.id: _decimal(row.get(f"price_{level.id}"), "price", 2,
                                               MAX_PRICE, required=False) for level in levels}
        except ValidationError as exc:
            raise ValidationError(_l("Spec row %(n)d: %(error)s", n=number,
                                     error=exc.message), exc.field) from exc
        kept.append((spec_id, values, level_prices))

    keep_ids = {spec_id for spec_id, _, _ in kept if spec_id}
    for spec_id, spec in existing.items():
        if spec_id not in keep_ids:
            product.specs.remove(spec)
    for spec_id, values, level_prices in kept:
        spec = existing[spec_id] if spec_id else Spec()
        for key, value in values.items():
            setattr(spec, key, value)
        if not spec_id:
            product.specs.append(spec)
        current = {lp.level_id: lp for lp in spec.level_prices}
        for level_id, price in level_prices.items():
            if price is None:
                if level_id in current:
                    spec.level_prices.remove(current[level_id])
            elif level_id in current:
                current[level_id].price = price
            else:
                spec.level_prices.append(LevelPrice(level_id=level_id, price=price))
    refresh_derived(product)
    db.session.commit()


def decrement_stock(spec_id: int, quantity: int) -> bool:
    """Take `quantity` base units atomically; False (and nothing taken) if not enough."""
    result = db.session.execute(
        update(Spec).where(Spec.id == spec_id, Spec.stock >= quantity)
        .values(stock=Spec.stock - quantity))
    return result.rowcount == 1
