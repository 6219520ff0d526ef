"""What the storefront shows: who may enter the shop, product cards, home blocks.

Every list here runs a fixed number of queries whatever the number of products or
specs (products, their specs and prices are loaded in bulk).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import defer, joinedload, selectinload

from app.catalog import pricing, search
from app.catalog import services as catalog
from app.catalog.models import Brand, Category, Product, Spec, Tag, product_tag
from app.extensions import db
from app.models import Article, ArticleKind, BlockKind, HomeBlock
from app.platform.settings import get_settings

PER_PAGE = 20
# Cards need neither the search text nor the description.
CARD_ONLY = (defer(Product.search_text), defer(Product.description))


def shop_is_open_for(user) -> bool:
    """Closed mode shows visitors a landing page; approved members and staff get the shop."""
    return bool(get_settings().is_open) or pricing.price_access(user).visible


@dataclass
class SpecPrice:
    spec: Spec
    unit_price: Decimal | None  # None: hidden for this person
    pack_price: Decimal | None


@dataclass
class ProductCard:
    product: Product
    specs: list[SpecPrice] = field(default_factory=list)

    @property
    def lowest(self) -> SpecPrice | None:
        priced = [s for s in self.specs if s.unit_price is not None]
        return min(priced, key=lambda s: s.unit_price) if priced else None


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def cards(products: list[Product], access: pricing.PriceAccess) -> list[ProductCard]:
    """Product cards with each active spec's price as this person may see it."""
    specs = [s for p in products for s in p.specs if s.active]
    prices = pricing.unit_prices(specs, access)
    result = []
    for product in products:
        card = ProductCard(product)
        for spec in product.specs:
            if not spec.active:
                continue
            unit = prices.get(spec.id)
            card.specs.append(SpecPrice(spec, unit,
                                        pricing.pack_price(unit, spec) if unit is not None
                                        else None))
        result.append(card)
    return result


def _listing(where, page: int, per_page: int, access) -> Page:
    page = max(1, min(int(page or 1), 10_000))
    base = select(Product).where(Product.on_shelf.is_(True), *where)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    products = db.session.scalars(
        base.options(selectinload(Product.specs), *CARD_ONLY)
        .order_by(Product.sort_order, Product.id)
        .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(cards(products, access), total, page, per_page)


def category_products(category: Category | None, page, access, per_page=PER_PAGE) -> Page:
    where = [Product.category_id.in_(catalog.descendant_ids(category))] if category else []
    return _listing(where, page, per_page, access)


def brand_products(brand: Brand, page, access, per_page=PER_PAGE) -> Page:
    return _listing([Product.brand_id == brand.id], page, per_page, access)


def search_products(q: str | None, page, access, per_page=PER_PAGE) -> Page:
    condition = search.search_condition(q)
    if condition is None:
        return Page([], 0, 1, per_page)
    return _listing([condition], page, per_page, access)


def product_detail(product_id: int, access) -> ProductCard | None:
    product = db.session.scalar(
        select(Product).options(selectinload(Product.specs), selectinload(Product.images),
                                joinedload(Product.brand), selectinload(Product.tags))
        .where(Product.id == product_id, Product.on_shelf.is_(True)))
    return cards([product], access)[0] if product else None


@dataclass
class RenderedBlock:
    block: HomeBlock
    cards: list[ProductCard] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)


def home_blocks(access) -> list[RenderedBlock]:
    """The visible home blocks in their order, each with its products or articles."""
    blocks = db.session.scalars(
        select(HomeBlock).options(selectinload(HomeBlock.items))
        .where(HomeBlock.visible.is_(True)).order_by(HomeBlock.position, HomeBlock.id)).all()
    rendered = []
    for block in blocks:
        item = RenderedBlock(block)
        if block.kind == BlockKind.PRODUCTS:
            query = select(Product).where(Product.on_shelf.is_(True))
            if block.category_id:
                category = db.session.get(Category, block.category_id)
                ids = catalog.descendant_ids(category) if category else [block.category_id]
                query = query.where(Product.category_id.in_(ids))
            if block.brand_id:
                query = query.where(Product.brand_id == block.brand_id)
            if block.tag_id:
                query = query.where(Product.id.in_(
                    select(product_tag.c.product_id).where(product_tag.c.tag_id == block.tag_id)))
            products = db.session.scalars(
                query.options(selectinload(Product.specs), *CARD_ONLY)
                .order_by(Product.sort_order, Product.id).limit(block.limit)).all()
            item.cards = cards(products, access)
        elif block.kind in (BlockKind.ARTICLES, BlockKind.NOTICE):
            kind = block.article_kind if block.kind == BlockKind.ARTICLES \
                else ArticleKind.ANNOUNCEMENT
            item.articles = db.session.scalars(
                select(Article).where(Article.published.is_(True), Article.kind == kind)
                .order_by(Article.sort_order, Article.id.desc()).limit(block.limit)).all()
        rendered.append(item)
    return rendered


def tags_used() -> list[Tag]:
    return db.session.scalars(select(Tag).order_by(Tag.name)).all()
