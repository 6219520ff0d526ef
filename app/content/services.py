"""Articles, stores and home-page blocks: validation, the store list and published
articles."""

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.content.models import Article, ArticleKind, BlockKind, HomeBlock, Store
from app.extensions import db
from app.platform import maps
from app.platform.errors import ValidationError
from app.platform.html import sanitize_html
from app.platform.paging import Page, paged


def _required(value, message, field):
    value = (value or "").strip()
    if not value:
        raise ValidationError(message, field)
    return value


def validate_article(article: Article) -> None:
    article.title = _required(article.title, _l("Please enter a title."), "title")[:128]
    if article.kind not in ArticleKind.ALL:
        raise ValidationError(_l("Please choose the kind of article."), "kind")
    article.body = sanitize_html(article.body)


def validate_store(store: Store) -> None:
    store.name = _required(store.name, _l("Please enter the store's name."), "name")
    store.address = _required(store.address, _l("Please enter the address."), "address")
    for field, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
        value = getattr(store, field)
        if value in (None, ""):
            setattr(store, field, None)
            continue
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            number = None
        if number is None or not low <= number <= high:
            raise ValidationError(_l("Coordinates must be a latitude from -90 to 90 and a "
                                     "longitude from -180 to 180."), field)
        setattr(store, field, number)


def validate_block(block: HomeBlock) -> None:
    if block.kind not in BlockKind.ALL:
        raise ValidationError(_l("Please choose the kind of block."), "kind")
    if block.kind == BlockKind.PRODUCTS and not (block.category_id or block.brand_id
                                                 or block.tag_id or block.category
                                                 or block.brand or block.tag):
        raise ValidationError(_l("A product list needs a category, a brand or a tag."),
                              "category")
    if block.kind == BlockKind.ARTICLES and block.article_kind not in ArticleKind.ALL:
        raise ValidationError(_l("Please choose which articles the block shows."),
                              "article_kind")
    if block.kind == BlockKind.NOTICE and block.text:
        block.text = block.text.strip()[:255]
    limit = block.limit if block.limit is not None else 6
    if not 1 <= int(limit) <= 20:
        raise ValidationError(_l("A block shows 1 to 20 entries."), "limit")
    block.limit = int(limit)


def safe_link(link: str | None) -> str | None:
    """Block links stay inside the shop: a path such as /category/3, nothing else."""
    link = (link or "").strip()
    if not link:
        return None
    if not link.startswith("/") or link.startswith("//") or "\\" in link:
        raise ValidationError(_l("A link must be a path in the shop, such as /category/3."),
                              "link")
    return link[:255]


# ---- stores (for navigation) and published articles ------------------------------------

STORES_PER_PAGE = 20


def stores(page: int, per_page: int = STORES_PER_PAGE) -> Page:
    return paged(select(Store).where(Store.active.is_(True)), (Store.sort_order, Store.id),
                  page, per_page)


def published_article(article_id: int) -> Article | None:
    return db.session.scalar(select(Article).where(Article.id == article_id,
                                                   Article.published.is_(True)))


def map_url(store: Store) -> str:
    return maps.place_link(store.name, store.address, store.latitude, store.longitude)
