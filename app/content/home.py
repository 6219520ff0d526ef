"""The home page (店铺装修): the visible blocks in their order, each with what it shows."""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.catalog import services as catalog
from app.catalog.models import Category, Product, product_tag
from app.catalog.storefront import CARD_ONLY, ProductCard, cards
from app.content.models import Article, ArticleKind, BlockKind, HomeBlock
from app.extensions import db


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
