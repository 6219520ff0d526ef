"""Parsing of ids, cursors, page numbers and redirect targets taken from a request.

One place for values that come from a URL, a query string or a form and are then used
in a query or a redirect. A value that cannot be what it claims to be (not a number,
negative, beyond the database's integer, a redirect to another site) becomes None or
the default here, so that no view sends it to the database or into a Location header.
"""

import re
from urllib.parse import unquote, urlsplit

from werkzeug.routing import BaseConverter
from werkzeug.routing import ValidationError as NoMatch

# Our primary keys are PostgreSQL `integer` columns (and SQLite's 64-bit integers):
# anything above this cannot name a row, and SQLite would overflow on it.
MAX_ID = 2**31 - 1
# A page number beyond this would only ask the database for an absurd OFFSET.
MAX_PAGE = 100_000
_DIGITS = re.compile(r"^[0-9]{1,10}$")
# Control characters (tabs and newlines that browsers drop from a URL) and backslashes
# (which browsers read as slashes) have no place in one of our paths.
_UNSAFE_IN_PATH = re.compile(r"[\x00-\x1f\x7f\\]")


def parse_id(value) -> int | None:
    """A positive database id, or None (not a number, zero or less, too large)."""
    text = str(value).strip() if value is not None else ""
    if not _DIGITS.match(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def parse_cursor(value) -> int | None:
    """A keyset cursor ("before this id"); anything that is not an id means the first page."""
    return parse_id(value)


def parse_page(value, default: int = 1) -> int:
    """A page number from 1 to MAX_PAGE; anything else is the default."""
    text = str(value).strip() if value is not None else ""
    if not _DIGITS.match(text):
        return default
    number = int(text)
    return number if 1 <= number <= MAX_PAGE else default


def safe_target(value, default: str, prefix: str = "/") -> str:
    """A redirect target from a request: a path on this site (starting with `prefix`),
    or `default`. Refuses other sites in every spelling browsers accept: `//host`,
    `/\\host`, `/<tab>/host`, a newline, a scheme, `%2F%2Fhost`, `user@host`."""
    target = value if isinstance(value, str) else ""
    if not target.startswith(prefix) or _UNSAFE_IN_PATH.search(target):
        return default
    decoded = unquote(target)
    if _UNSAFE_IN_PATH.search(decoded) or decoded.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


class IdConverter(BaseConverter):
    """The `int` converter of every route: an id the database can hold, else 404.

    Werkzeug's own accepts `99999999999999999999`, which then overflows in the query."""

    regex = r"\d{1,10}"
    part_isolating = True

    def to_python(self, value):
        number = parse_id(value)
        if number is None:
            raise NoMatch()
        return number

    def to_url(self, value):
        return str(int(value))
