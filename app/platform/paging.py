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


# Lists that grow without end (orders, members, messages) page by a key instead: "the
# rows before this id", served by an index, the same cost on page 1 and page 1,000.
COUNT_CAP = 99  # tab badges count up to this and then show "99+"


def keyset(query, key, before, per_page: int) -> tuple[list, int | None]:
    """The `per_page` rows of `query` with `key` below `before` (None: from the top),
    newest (highest key) first. Returns (rows, the `before` of the next page or None)."""
    query = query.order_by(key.desc()).limit(per_page + 1)
    if before:
        query = query.where(key < before)
    rows = db.session.scalars(query).unique().all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    return rows, (getattr(rows[-1], key.key) if more else None)


@dataclass
class KeysetPage:
    items: list
    newer: int | None  # the `after` of the page before this one (None: this is the newest)
    older: int | None  # the `before` of the page after this one (None: nothing older)


def keyset_both_ways(query, key, *, before=None, after=None, per_page: int) -> KeysetPage:
    """Newest first, from `before` (older rows) or `after` (newer rows) or the top; asks
    the database only the one row more that tells whether there is more each way."""
    if after and not before:
        rows = db.session.scalars(query.where(key > after).order_by(key.asc())
                                  .limit(per_page + 1)).unique().all()
        more_newer = len(rows) > per_page
        rows = rows[:per_page][::-1]
        if not rows:
            return KeysetPage([], None, None)
        older = db.session.scalar(query.with_only_columns(key).where(
            key < getattr(rows[-1], key.key)).limit(1))
        return KeysetPage(rows, getattr(rows[0], key.key) if more_newer else None,
                          getattr(rows[-1], key.key) if older is not None else None)
    rows, older = keyset(query, key, before, per_page)
    newer = None
    if before and rows:
        newer = db.session.scalar(query.with_only_columns(key).where(
            key > getattr(rows[0], key.key)).limit(1))
        newer = getattr(rows[0], key.key) if newer is not None else None
    return KeysetPage(rows, newer, older)


def capped_count(query, key) -> int:
    """How many rows `query` has, counted up to COUNT_CAP + 1 (shown as "99+")."""
    capped = query.with_only_columns(key).order_by(None).limit(COUNT_CAP + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(capped)) or 0
