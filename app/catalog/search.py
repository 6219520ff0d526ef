"""Product search: name, item number, model, brand, and the pinyin of Chinese names.

Each product keeps a lower-case `search_text` (refreshed whenever the product, its
specs or its brand change) holding those fields, the full pinyin and the pinyin
initials, so `kqs`, `kuangquanshui` and `矿泉` all find 矿泉水. The query is a LIKE per
term; PostgreSQL serves it from a trigram index.
"""

import re

from pypinyin import Style, lazy_pinyin
from sqlalchemy import and_

from app.catalog.models import Product

MAX_QUERY = 64


def _pinyin(text: str) -> tuple[str, str]:
    full = "".join(lazy_pinyin(text, errors="ignore"))
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore"))
    return full, initials


def build_search_text(product: Product) -> str:
    parts = [product.name or "", product.item_no or ""]
    if product.brand is not None:
        parts.append(product.brand.name)
    for spec in product.specs:
        parts.extend([spec.model or "", spec.spec or ""])
    words = [p for p in parts if p]
    for chinese in (product.name or "", product.brand.name if product.brand else ""):
        if chinese:
            words.extend(_pinyin(chinese))
    return " ".join(w.lower() for w in words if w)[:4000]


def normalize_query(q: str | None) -> list[str]:
    """Terms to look for: lower-case, at most MAX_QUERY characters, wildcards escaped."""
    q = (q or "").strip().lower()[:MAX_QUERY]
    terms = [t for t in re.split(r"\s+", q) if t]
    return [t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for t in terms][:5]


def search_condition(q: str | None):
    """A WHERE clause for the query, or None when there is nothing to search for."""
    terms = normalize_query(q)
    if not terms:
        return None
    return and_(*[Product.search_text.like(f"%{t}%", escape="\\") for t in terms])
