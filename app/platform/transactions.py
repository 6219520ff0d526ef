"""One rule for every service a view calls: a refused change leaves nothing behind.

A service entry point marked `@atomic` rolls back when it raises a DomainError, so the
view that called it only shows the message; it never rolls back itself."""

import functools

from app.extensions import db
from app.platform.errors import DomainError


def atomic(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DomainError:
            db.session.rollback()
            raise

    return wrapper
