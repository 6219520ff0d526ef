"""Demo data: a Hainan hotel-supplies distributor (seed data; Chinese on purpose).

`flask pifa seed-demo` is idempotent: every row is looked up by a natural key
first (a level, brand or tag by its name, a category by name and parent, a product
by its item number, an article by kind and title, a home block by kind and title, a
customer's saved address by the customer), so a second run creates nothing and changes
nothing. Pictures are drawn by app/demo/images.py and stored through platform.uploads
like any upload, only when the row that uses them is created. Delivery fees, saved
addresses and the orders are loaded by app/demo/orders.py.

A database seeded by an older demo is repaired once: spec-library entries whose carton
held a single inner pack get their real packing, and the identical addresses the demo
orders used to save, one per order, become one per customer.
"""

from decimal import Decimal

from sqlalchemy import select

from app.catalog import services as catalog
from app.catalog.models import (
    Brand,
    Category,
    LevelPrice,
    PackUnit,
    Product,
    ProductImage,
    Spec,
    Tag,
)
from app.content import services as content
from app.content.models import Article, ArticleKind, BlockKind, HomeBlock, HomeBlockItem, Store
from app.demo import images as demo_images
from app.demo import orders as demo_orders
from app.demo import rows
from app.demo.data import (
    ADMINS,
    ARTICLES,
    BANNERS,
    BRANDS,
    CATEGORIES,
    CUSTOMERS,
    DEFAULT_LEVEL,
    DEMO_PASSWORD,
    HOT,
    ICON_NAV,
    LEGACY_PACKS,
    LEVELS,
    NOTICE,
    PACKS,
    PRODUCTS,
    REGIONS,
    SHAPE_OF,
    SHOP,
    STAFF,
    STORES,
    TAGS,
)
from app.extensions import db
from app.members import staff
from app.members.models import Member, MemberLevel, MemberStatus, Region, StaffProfile
from app.ordering.models import (
    OrderLine,
)
from app.platform import accounts
from app.platform.html import sanitize_html
from app.platform.models import ShopSettings
from app.platform.security import CUSTOMER
from app.platform.time import utcnow

# ---- the seed ---------------------------------------------------------------------------

def seed_demo() -> int:
    """Load the demo distributor; returns how many rows were created (or repaired)."""
    created: list = []
    levels = _seed_levels(created)
    _seed_settings(levels, created)
    _seed_people(levels, created)
    categories = _seed_categories(created)
    brands = _seed_brands(created)
    tags = _seed_tags(created)
    _repair_packs(created)
    packs = _seed_packs(created)
    _seed_products(categories, brands, tags, packs, levels, created)
    _seed_content(categories, tags, created)
    demo_orders.delivery_fees(created)
    demo_orders.addresses(created)
    db.session.commit()
    demo_orders.orders(created)
    return len(created)


def _seed_levels(created) -> dict[str, MemberLevel]:
    levels = {}
    for name, order, _ in LEVELS:
        level = rows.one(MemberLevel, name=name)
        if level is None:
            level = MemberLevel(name=name, sort_order=order)
            db.session.add(level)
            created.append(level)
        levels[name] = level
    db.session.flush()
    return levels


def _seed_settings(levels, created) -> None:
    settings = db.session.scalar(select(ShopSettings).order_by(ShopSettings.id).limit(1))
    if settings is None:
        settings = ShopSettings(**SHOP)
        db.session.add(settings)
        created.append(settings)
    # Filled only when empty: a database seeded by an older demo gets them, a second run
    # finds them set and changes nothing.
    if settings.default_level_id is None:
        settings.default_level_id = levels[DEFAULT_LEVEL].id
    if not settings.logo:
        settings.logo = rows.store_png(
            demo_images.logo("椰城", "YC", (216, 59, 45), size=240), "shop")


def _seed_people(levels, created) -> None:
    regions = {}
    for name, order in REGIONS:
        region = db.session.scalar(select(Region).where(Region.name == name))
        if region is None:
            region = Region(name=name, sort_order=order, active=True)
            db.session.add(region)
            created.append(region)
        regions[name] = region
    db.session.flush()

    for mobile, name, roles in ADMINS:
        rows.account(mobile, name, roles, created)

    profiles = {}
    for mobile, name, kind, plate, region_names in STAFF:
        user = accounts.find_account(mobile)
        profile = None
        if user is not None:
            profile = db.session.scalar(select(StaffProfile).where(
                StaffProfile.user_id == user.id, StaffProfile.kind == kind))
        if profile is None:
            profile = StaffProfile(name=name, phone=mobile, kind=kind, plate=plate,
                                   regions=[regions[r] for r in region_names], active=True)
            staff.prepare_staff(profile, DEMO_PASSWORD)
            db.session.add(profile)
            created.append(profile)
        profiles[mobile] = profile
    db.session.flush()

    for mobile, contact, shop, region, address, status, reason, salesman, level in CUSTOMERS:
        user = rows.account(mobile, contact, [CUSTOMER], created)
        member = db.session.scalar(select(Member).where(Member.user_id == user.id))
        if member is None:
            member = Member(
                user_id=user.id, shop_name=shop, contact_name=contact, phone=mobile,
                address=address, region_id=regions[region].id, status=status,
                reject_reason=reason,
                own_salesman_id=profiles[salesman].id if salesman else None,
                approved_at=utcnow() if status == MemberStatus.APPROVED else None)
            db.session.add(member)
            created.append(member)
        if level and member.level_id is None:
            member.level_id = levels[level].id
        # Every demo customer has sent a complete profile (the rejected one: a blurry licence).
        if member.shop_photo is None:
            member.shop_photo = rows.store_png(demo_images.shop_front(
                shop, demo_images.colour_for(shop, 0.6, 0.7)), "member", private=True)
            member.submitted_at = member.submitted_at or utcnow()
        if member.licence_photo is None:
            member.licence_photo = rows.store_png(demo_images.licence(
                shop, contact, f"91460100MA5T{mobile[-6:]}X"), "member", private=True)


def _seed_categories(created) -> dict[str, Category]:
    """The tree, by name (names are unique in the demo tree)."""
    found: dict[str, Category] = {}

    def walk(nodes, parent, depth):
        for order, (name, shape, children) in enumerate(nodes, start=1):
            category = rows.one(Category, name=name, parent_id=parent.id if parent else None)
            if category is None:
                category = Category(
                    name=name, parent=parent, level=depth, sort_order=order, active=True,
                    icon=rows.store_png(demo_images.icon(shape, demo_images.colour_for(name)),
                                    "category"))
                db.session.add(category)
                db.session.flush()
                created.append(category)
            found[name] = category
            walk(children, category, depth + 1)

    walk(CATEGORIES, None, 1)
    return found


def _seed_brands(created) -> dict[str, Brand]:
    brands = {}
    for order, (name, code, story) in enumerate(BRANDS, start=1):
        brand = rows.one(Brand, name=name)
        if brand is None:
            brand = Brand(name=name, story=story, sort_order=order, logo=rows.store_png(
                demo_images.logo(name, code, demo_images.colour_for(name, 0.6, 0.75)),
                "brand"))
            db.session.add(brand)
            created.append(brand)
        brands[name] = brand
    return brands


def _seed_tags(created) -> dict[str, Tag]:
    tags = {}
    for name in TAGS:
        tag = rows.one(Tag, name=name)
        if tag is None:
            tag = Tag(name=name)
            db.session.add(tag)
            created.append(tag)
        tags[name] = tag
    return tags


def _pack_of(values):
    base, inner_unit, inner, outer_unit, outer = values
    return rows.one(PackUnit, base_unit=base, inner_unit=inner_unit, inner_qty=inner,
                outer_unit=outer_unit, outer_qty=outer)


def _repair_packs(created) -> None:
    """Give an older demo's single-pack cartons their real packing (LEGACY_PACKS).

    The entry is edited in place, as in the spec library, so every spec using it follows;
    the lines of orders ordered under it keep their quantities (multiples of the old inner
    pack, so of the new one too) and take the new packing, so that the loading list and
    the delivery note count the same packs as the shop.
    """
    for old, key in LEGACY_PACKS.items():
        unit = _pack_of(old)
        if unit is None:
            continue
        new = PACKS[key]
        if _pack_of(new) is not None:
            continue  # both exist (someone added it by hand): leave the library to a person
        unit.base_unit, unit.inner_unit, unit.inner_qty, unit.outer_unit, unit.outer_qty = new
        catalog.validate_pack_unit(unit)
        spec_ids = select(Spec.id).where(Spec.pack_unit_id == unit.id)
        for line in db.session.scalars(select(OrderLine).where(
                OrderLine.spec_id.in_(spec_ids), OrderLine.base_unit == old[0],
                OrderLine.inner_unit == old[1], OrderLine.inner_qty == old[2],
                OrderLine.outer_unit == old[3], OrderLine.outer_qty == old[4])):
            line.inner_unit, line.inner_qty = new[1], new[2]
            line.outer_unit, line.outer_qty = new[3], new[4]
            created.append(line)
        created.append(unit)
    db.session.flush()


def _seed_packs(created) -> dict[str, PackUnit]:
    packs = {}
    for key, (base, inner_unit, inner, outer_unit, outer) in PACKS.items():
        unit = _pack_of((base, inner_unit, inner, outer_unit, outer))
        if unit is None:
            unit = PackUnit(base_unit=base, inner_unit=inner_unit, inner_qty=inner,
                            outer_unit=outer_unit, outer_qty=outer)
            catalog.validate_pack_unit(unit)
            db.session.add(unit)
            created.append(unit)
        packs[key] = unit
    db.session.flush()
    return packs


def _seed_products(categories, brands, tags, packs, levels, created) -> None:
    existing = set(db.session.scalars(select(Product.item_no).where(
        Product.item_no.in_([row[0] for row in PRODUCTS]))))
    priced_levels = [(levels[name], off) for name, _, off in LEVELS if off is not None]
    for number, (item_no, name, brand, leaf, tag_names, specs, extra) in \
            enumerate(PRODUCTS, start=1):
        if item_no in existing:
            continue
        category = categories[leaf]
        product = Product(
            name=name, item_no=item_no, brand=brands[brand], category=category,
            tags=[tags[t] for t in tag_names], on_shelf=not extra.get("off"),
            sort_order=number * 10,
            description=sanitize_html(extra["desc"]) if extra.get("desc") else None)
        colour = demo_images.colour_for(leaf)
        for position in range(1 + number % 3):  # 1 to 3 pictures, the first is the cover
            key = rows.store_png(demo_images.product_image(item_no, SHAPE_OF[leaf], colour,
                                                       variant=position), "product")
            product.images.append(ProductImage(key=key, position=position))
            created.append(key)
        for index, (model, text, pack, kg, cartons, price) in enumerate(specs):
            unit = packs[pack]
            base = Decimal(price)
            spec = Spec(model=model, spec=text, pack_unit=unit, weight_kg=Decimal(kg),
                        stock=cartons * unit.outer_qty, base_price=base, active=True,
                        sort_order=index)
            for level, off in priced_levels:
                if level.name == "金牌" and extra.get("no_gold") == index:
                    continue  # shows the fallback: 金牌 members pay the base price here
                spec.level_prices.append(LevelPrice(level=level, price=rows.cents(base * off)))
                created.append(level.name)
            product.specs.append(spec)
            created.append(spec)
        catalog.refresh_derived(product)
        db.session.add(product)
        created.append(product)
    db.session.flush()


def _seed_content(categories, tags, created) -> None:
    for kind, title, order, body in ARTICLES:
        if rows.one(Article, kind=kind, title=title) is None:
            article = Article(kind=kind, title=title, body=body, published=True,
                              sort_order=order)
            content.validate_article(article)
            db.session.add(article)
            created.append(article)

    for name, address, phone, hours, lat, lng, order in STORES:
        if rows.one(Store, name=name) is None:
            store = Store(name=name, address=address, phone=phone, hours=hours, latitude=lat,
                          longitude=lng, sort_order=order, active=True)
            content.validate_store(store)
            db.session.add(store)
            created.append(store)

    def block(position, kind, title, items=(), **fields):
        if rows.one(HomeBlock, kind=kind, title=title) is not None:
            return
        home_block = HomeBlock(kind=kind, title=title, position=position, visible=True,
                               **fields)
        for index, item in enumerate(items):
            home_block.items.append(HomeBlockItem(position=index, **item))
            created.append(item["label"])
        content.validate_block(home_block)
        db.session.add(home_block)
        created.append(home_block)

    # Pictures are drawn only for a block that is created (generators run lazily).
    def banner_items():
        for title, subtitle, latin, target, shape in BANNERS:
            yield {"label": title[:32], "link": f"/category/{categories[target].id}",
                   "image": rows.store_png(demo_images.banner(
                       title, subtitle, latin, demo_images.colour_for(target, 0.55, 0.8),
                       shape), "home")}

    def icon_items():
        for name in ICON_NAV:
            category = categories[name]
            yield {"label": name, "link": f"/category/{category.id}",
                   "image": rows.store_png(demo_images.icon(
                       SHAPE_OF[name], demo_images.colour_for(name)), "home")}

    if rows.one(HomeBlock, kind=BlockKind.BANNER, title="首页轮播") is None:
        block(1, BlockKind.BANNER, "首页轮播", list(banner_items()))
    if rows.one(HomeBlock, kind=BlockKind.ICON_NAV, title="分类导航") is None:
        block(2, BlockKind.ICON_NAV, "分类导航", list(icon_items()))
    block(3, BlockKind.NOTICE, "公告", text=NOTICE)
    block(4, BlockKind.PRODUCTS, "热销推荐", tag=tags[HOT], limit=6)
    block(5, BlockKind.PRODUCTS, "客房洗漱", category=categories["一次性洗漱"], limit=6)
    block(6, BlockKind.ARTICLES, "采购指南", article_kind=ArticleKind.ARTICLE, limit=3)


