"""Storefront navigation and lookups: the category tree, brands, stores, articles.

Each is one fixed query (no query per row)."""

from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from sqlalchemy import func, select

from app.catalog.models import Brand, Category
from app.catalog.storefront import Page
from app.extensions import db
from app.models import Article, Store

BRANDS_PER_PAGE = 30
STORES_PER_PAGE = 20


@dataclass
class NavNode:
    category: Category
    children: list["NavNode"] = field(default_factory=list)
    parent: "NavNode | None" = None

    @property
    def id(self) -> int:
        return self.category.id

    @property
    def name(self) -> str:
        return self.category.name

    def root(self) -> "NavNode":
        node = self
        while node.parent is not None:
            node = node.parent
        return node

    def path(self) -> list["NavNode"]:
        nodes, node = [], self
        while node is not None:
            nodes.append(node)
            node = node.parent
        return list(reversed(nodes))


@dataclass
class CategoryNav:
    roots: list[NavNode]
    by_id: dict[int, NavNode]


def category_nav() -> CategoryNav:
    """The active category tree in one query: a category shows only when it and every
    ancestor are active."""
    rows = db.session.scalars(select(Category).where(Category.active.is_(True))
                              .order_by(Category.sort_order, Category.id)).all()
    nodes = {c.id: NavNode(c) for c in rows}
    roots = []
    for category in rows:
        node = nodes[category.id]
        if category.parent_id is None:
            roots.append(node)
        elif category.parent_id in nodes:
            node.parent = nodes[category.parent_id]
            node.parent.children.append(node)
    reachable: dict[int, NavNode] = {}
    stack = list(roots)
    while stack:
        node = stack.pop()
        reachable[node.id] = node
        stack.extend(node.children)
    return CategoryNav(roots, reachable)


def _paged(query, order, page: int, per_page: int) -> Page:
    page = max(1, min(int(page or 1), 10_000))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(query.order_by(*order).limit(per_page)
                               .offset((page - 1) * per_page)).all()
    return Page(items, total, page, per_page)


def brands(page: int, per_page: int = BRANDS_PER_PAGE) -> Page:
    return _paged(select(Brand), (Brand.sort_order, Brand.name, Brand.id), page, per_page)


def brand(brand_id: int) -> Brand | None:
    return db.session.get(Brand, brand_id)


def stores(page: int, per_page: int = STORES_PER_PAGE) -> Page:
    return _paged(select(Store).where(Store.active.is_(True)), (Store.sort_order, Store.id),
                  page, per_page)


def published_article(article_id: int) -> Article | None:
    return db.session.scalar(select(Article).where(Article.id == article_id,
                                                   Article.published.is_(True)))


def map_url(store: Store) -> str:
    """Amap (高德) link: a marker when the store has coordinates, else an address search."""
    if store.latitude is not None and store.longitude is not None:
        return "https://uri.amap.com/marker?" + urlencode(
            {"position": f"{store.longitude},{store.latitude}", "name": store.name},
            quote_via=quote, safe=",")
    return "https://uri.amap.com/search?" + urlencode({"keyword": store.address},
                                                      quote_via=quote)
