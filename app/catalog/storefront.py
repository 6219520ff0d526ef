"""What the storefront shows: who may enter the shop, product cards, home blocks.

Every list here runs a fixed number of queries whatever the number of products or
specs (products, their specs and prices are loaded in bulk).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import defer, joinedload, selectinload

from app.catalog import pricing, search
from app.catalog import services as catalog
from app.catalog.models import Brand, Category, Product, Spec
from app.extensions import db
from app.platform.paging import Page, paged
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


def spec_prices(specs: list[Spec], access: pricing.PriceAccess) -> list[SpecPrice]:
    """Each spec with its prices as this person may see them (None: hidden), in one query."""
    prices = pricing.unit_prices(specs, access)
    return [SpecPrice(spec, prices.get(spec.id),
                      pricing.pack_price(prices[spec.id], spec) if spec.id in prices else None)
            for spec in specs]


def cards(products: list[Product], access: pricing.PriceAccess) -> list[ProductCard]:
    """Product cards with each active spec's price as this person may see it."""
    priced = {price.spec.id: price for price in
              spec_prices([s for p in products for s in p.specs if s.active], access)}
    return [ProductCard(product, [priced[spec.id] for spec in product.specs if spec.active])
            for product in products]


def _listing(where, page: int, per_page: int, access) -> Page:
    return paged(select(Product).where(Product.on_shelf.is_(True), *where)
                 .options(selectinload(Product.specs), *CARD_ONLY),
                 (Product.sort_order, Product.id), page, per_page,
                 shown=lambda products: cards(products, access))


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
