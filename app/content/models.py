"""Storefront content: articles, stores, and the home page's blocks (店铺装修)."""

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import relationship

from app.platform.time import utcnow


class ArticleKind:
    ANNOUNCEMENT = "announcement"
    ARTICLE = "article"
    PAGE = "page"
    ALL = (ANNOUNCEMENT, ARTICLE, PAGE)


class Article(Model):
    __tablename__ = "article"
    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False, default=ArticleKind.ARTICLE, index=True)
    title = Column(String(128), nullable=False)
    cover = Column(String(255))
    body = Column(Text, nullable=False, default="")  # sanitised HTML (content.services)
    published = Column(Boolean, nullable=False, default=False)
    sort_order = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    def __repr__(self):
        return self.title


class Store(Model):
    __tablename__ = "store"
    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)
    address = Column(String(255), nullable=False)
    phone = Column(String(20))
    hours = Column(String(64))
    latitude = Column(Numeric(9, 6))
    longitude = Column(Numeric(9, 6))
    sort_order = Column(Integer, nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)

    def __repr__(self):
        return self.name


class BlockKind:
    BANNER = "banner"  # image carousel: items with image and link
    ICON_NAV = "icon_nav"  # icon grid: items with image, label and link
    NOTICE = "notice"  # one line of text, or the latest announcements
    PRODUCTS = "products"  # products of a category, brand or tag
    ARTICLES = "articles"  # latest published articles of a kind
    ALL = (BANNER, ICON_NAV, NOTICE, PRODUCTS, ARTICLES)


class HomeBlock(Model):
    __tablename__ = "home_block"
    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False)
    title = Column(String(64))
    position = Column(Integer, nullable=False, default=0, index=True)
    visible = Column(Boolean, nullable=False, default=True)
    text = Column(String(255))  # notice bar text
    category_id = Column(Integer, ForeignKey("category.id"))
    brand_id = Column(Integer, ForeignKey("brand.id"))
    tag_id = Column(Integer, ForeignKey("tag.id"))
    article_kind = Column(String(16))
    limit = Column(Integer, nullable=False, default=6)

    category = relationship("Category")
    brand = relationship("Brand")
    tag = relationship("Tag")
    items = relationship("HomeBlockItem", order_by="HomeBlockItem.position",
                         cascade="all, delete-orphan", back_populates="block")

    def __repr__(self):
        return self.title or self.kind


class HomeBlockItem(Model):
    """A banner slide or an icon of an icon-navigation block."""

    __tablename__ = "home_block_item"
    id = Column(Integer, primary_key=True)
    block_id = Column(Integer, ForeignKey("home_block.id", ondelete="CASCADE"), nullable=False,
                      index=True)
    image = Column(String(255))
    label = Column(String(32))
    link = Column(String(255))  # a path inside the shop, e.g. /category/3
    position = Column(Integer, nullable=False, default=0)

    block = relationship("HomeBlock", back_populates="items")
