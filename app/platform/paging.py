"""Numbered pages of a list: one COUNT and one page of rows (no query per row)."""

from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.platform.ids import MAX_PAGE


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


def paged(query, order, page: int, per_page: int, shown=None) -> Page:
    """Page `page` of `query` in `order`; `shown` turns the rows into what the page lists."""
    page = max(1, min(int(page or 1), MAX_PAGE))
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None)
                                                               .subquery())) or 0
    rows = db.session.scalars(query.order_by(*order).limit(per_page)
                              .offset((page - 1) * per_page)).all()
    return Page(shown(rows) if shown else rows, total, page, per_page)
