"""Storefront navigation and lookups: the category tree and brands.

Each is one fixed query (no query per row)."""

from dataclasses import dataclass, field

from sqlalchemy import select

from app.catalog.models import Brand, Category
from app.extensions import db
from app.platform.paging import Page, paged

BRANDS_PER_PAGE = 30


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


def brands(page: int, per_page: int = BRANDS_PER_PAGE) -> Page:
    return paged(select(Brand), (Brand.sort_order, Brand.name, Brand.id), page, per_page)


def brand(brand_id: int) -> Brand | None:
    return db.session.get(Brand, brand_id)
