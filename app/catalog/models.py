"""Catalog: categories (three levels), brands, tags, the spec library, products, specs, prices."""

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from app.platform.time import utcnow

MAX_CATEGORY_DEPTH = 3

product_tag = Table(
    "product_tag",
    Model.metadata,
    Column("product_id", Integer, ForeignKey("product.id", ondelete="CASCADE"),
           primary_key=True),
    Column("tag_id", Integer, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
)


class Category(Model):
    __tablename__ = "category"
    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)
    parent_id = Column(Integer, ForeignKey("category.id"), index=True)
    level = Column(Integer, nullable=False, default=1)  # 1..3, kept by catalog.services
    icon = Column(String(255))  # media key
    sort_order = Column(Integer, nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)

    parent = relationship("Category", remote_side=[id], back_populates="children")
    children = relationship("Category", back_populates="parent",
                            order_by="(Category.sort_order, Category.id)")

    def __repr__(self):
        return self.name

    def path_name(self):
        names, node = [], self
        while node is not None and len(names) <= MAX_CATEGORY_DEPTH:
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))


class Brand(Model):
    __tablename__ = "brand"
    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, unique=True)
    logo = Column(String(255))
    story = Column(Text)
    sort_order = Column(Integer, nullable=False, default=0)

    def __repr__(self):
        return self.name


class Tag(Model):
    __tablename__ = "tag"
    id = Column(Integer, primary_key=True)
    name = Column(String(32), nullable=False, unique=True)

    def __repr__(self):
        return self.name


class PackUnit(Model):
    """A spec-library entry (规格库): e.g. 20 把/盒 — 400 把/箱.

    `inner_qty` base units make one inner pack: the minimum order quantity and the step
    of every quantity. `outer_qty` base units make one outer pack (a whole carton).
    """

    __tablename__ = "pack_unit"
    __table_args__ = (
        CheckConstraint("inner_qty >= 1", name="ck_pack_unit_inner_qty"),
        CheckConstraint("outer_qty >= inner_qty", name="ck_pack_unit_outer_qty"),
        UniqueConstraint("base_unit", "inner_unit", "inner_qty", "outer_unit", "outer_qty",
                         name="uq_pack_unit_definition"),
    )
    id = Column(Integer, primary_key=True)
    base_unit = Column(String(8), nullable=False)  # 把 瓶 卷 ...
    inner_unit = Column(String(8), nullable=False)  # 盒
    inner_qty = Column(Integer, nullable=False)
    outer_unit = Column(String(8), nullable=False)  # 箱
    outer_qty = Column(Integer, nullable=False)

    def __repr__(self):
        return self.label()

    def label(self):
        return (f"{self.inner_qty} {self.base_unit}/{self.inner_unit} — "
                f"{self.outer_qty} {self.base_unit}/{self.outer_unit}")


class Product(Model):
    __tablename__ = "product"
    __table_args__ = (
        Index("ix_product_shelf_order", "on_shelf", "sort_order", "id"),
        # A trigram index on PostgreSQL serves LIKE '%q%' (a plain index elsewhere).
        Index("ix_product_search_trgm", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"}),
    )
    id = Column(Integer, primary_key=True)
    name = Column(String(128), nullable=False)
    item_no = Column(String(64), index=True)
    brand_id = Column(Integer, ForeignKey("brand.id"), index=True)
    category_id = Column(Integer, ForeignKey("category.id"), index=True)
    description = Column(Text)  # sanitised HTML
    on_shelf = Column(Boolean, nullable=False, default=True)
    sort_order = Column(Integer, nullable=False, default=0)
    cover = Column(String(255))  # key of the first image, kept by catalog.services
    # Lower-case text searched by /search: name, item no, brand, models, pinyin.
    search_text = Column(Text, nullable=False, default="")
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    brand = relationship("Brand")
    category = relationship("Category")
    tags = relationship("Tag", secondary=product_tag, order_by="Tag.name")
    images = relationship("ProductImage", order_by="ProductImage.position",
                          cascade="all, delete-orphan", back_populates="product")
    specs = relationship("Spec", order_by="(Spec.sort_order, Spec.id)",
                         cascade="all, delete-orphan", back_populates="product")

    def __repr__(self):
        return self.name


class ProductImage(Model):
    __tablename__ = "product_image"
    id = Column(Integer, primary_key=True)
    product_id = Column(Integer, ForeignKey("product.id", ondelete="CASCADE"), nullable=False,
                        index=True)
    key = Column(String(255), nullable=False)
    position = Column(Integer, nullable=False, default=0)

    product = relationship("Product", back_populates="images")


class Spec(Model):
    """One orderable SKU of a product. Quantities are base units; prices are per base unit."""

    __tablename__ = "spec"
    __table_args__ = (CheckConstraint("stock >= 0", name="ck_spec_stock_not_negative"),
                      CheckConstraint("base_price >= 0", name="ck_spec_price"))
    id = Column(Integer, primary_key=True)
    product_id = Column(Integer, ForeignKey("product.id", ondelete="CASCADE"), nullable=False,
                        index=True)
    model = Column(String(64))  # 型号
    spec = Column(String(64))  # 规格
    pack_unit_id = Column(Integer, ForeignKey("pack_unit.id"), nullable=False, index=True)
    weight_kg = Column(Numeric(10, 3), nullable=False, default=0)  # per base unit
    stock = Column(Integer, nullable=False, default=0)
    base_price = Column(Numeric(12, 2), nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)
    sort_order = Column(Integer, nullable=False, default=0)

    product = relationship("Product", back_populates="specs")
    pack_unit = relationship("PackUnit", lazy="joined")
    level_prices = relationship("LevelPrice", cascade="all, delete-orphan",
                                back_populates="spec")

    def __repr__(self):
        return " ".join(p for p in (self.model, self.spec) if p) or f"#{self.id}"


class LevelPrice(Model):
    __tablename__ = "level_price"
    __table_args__ = (UniqueConstraint("spec_id", "level_id", name="uq_level_price"),
                      CheckConstraint("price >= 0", name="ck_level_price"))
    id = Column(Integer, primary_key=True)
    spec_id = Column(Integer, ForeignKey("spec.id", ondelete="CASCADE"), nullable=False)
    level_id = Column(Integer, ForeignKey("member_level.id", ondelete="CASCADE"),
                      nullable=False, index=True)
    price = Column(Numeric(12, 2), nullable=False)

    spec = relationship("Spec", back_populates="level_prices")
    level = relationship("MemberLevel")
