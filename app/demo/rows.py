"""Shared by the demo loaders: find-or-create by a natural key, store a drawn picture
like an upload."""

import io
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.demo.data import DEMO_PASSWORD
from app.extensions import db
from app.platform import accounts, uploads


def account(mobile, name, roles, counter):
    user = accounts.find_account(mobile)
    if user is None:
        user = accounts.create_account(mobile, name, DEMO_PASSWORD, roles)
        counter.append(user)
    return user


def store_png(data: bytes, folder: str, private: bool = False) -> str:
    """Store generated PNG bytes like an upload (re-encoded, thumbnailed); the key."""
    upload = FileStorage(stream=io.BytesIO(data), filename="demo.png", content_type="image/png")
    return uploads.save_image(upload, private=private, folder=folder).key


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def one(model, **by):
    return db.session.scalar(select(model).filter_by(**by).limit(1))
