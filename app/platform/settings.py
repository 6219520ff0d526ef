"""Basic settings (one row): reading them, and the rules for changing them."""

import re
from types import SimpleNamespace

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.platform import ids, uploads
from app.platform.errors import ValidationError
from app.platform.models import ShopSettings

COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
PHONE_RE = re.compile(r"^[0-9+\-() ]{5,20}$")
DEFAULTS = {"shop_name": "Pifa", "theme_color": "#E4393C", "is_open": True,
            "auto_receive_days": 7}


# The settings last read in this process, as plain values: what an error page shows, so
# that it needs nothing from a database that may be the very thing that failed.
_last_read = SimpleNamespace(**{**{c.name: None for c in ShopSettings.__table__.columns},
                               **DEFAULTS})


def get_settings() -> ShopSettings:
    """The settings row; a transient default object when none was saved yet (no write)."""
    global _last_read
    if has_request_context() and "pifa_settings" in g:
        return g.pifa_settings
    row = db.session.scalar(select(ShopSettings).order_by(ShopSettings.id).limit(1))
    if row is None:
        row = ShopSettings(**DEFAULTS)
    _last_read = SimpleNamespace(**{c.name: getattr(row, c.name)
                                    for c in ShopSettings.__table__.columns})
    if has_request_context():
        g.pifa_settings = row
    return row


def settings_without_database():
    """The settings for a page that must not touch the database (error pages)."""
    return _last_read


def _text(data, key, max_len, required=False, label=None):
    value = (data.get(key) or "").strip()
    if required and not value:
        raise ValidationError(_l("%(field)s is required.", field=label or key), key)
    if len(value) > max_len:
        raise ValidationError(
            _l("%(field)s is too long (at most %(n)d characters).", field=label or key,
               n=max_len), key)
    return value or None


def update_settings(data: dict, logo=None, cs_qr=None, remove_logo=False,
                    remove_cs_qr=False) -> ShopSettings:
    """Validate and save the settings; on any error nothing changes (files included)."""
    shop_name = _text(data, "shop_name", 64, required=True, label=_l("Shop name"))
    theme_color = (data.get("theme_color") or "").strip()
    if not COLOR_RE.match(theme_color):
        raise ValidationError(_l("The theme colour must look like #E4393C."), "theme_color")
    cs_phone = (data.get("cs_phone") or "").strip() or None
    if cs_phone and not PHONE_RE.match(cs_phone):
        raise ValidationError(_l("Please enter a valid customer-service phone number."),
                              "cs_phone")
    try:
        days = int(str(data.get("auto_receive_days", "")).strip())
    except ValueError:
        days = -1
    if not 1 <= days <= 90:
        raise ValidationError(
            _l("Days until a shipped order counts as received must be 1 to 90."),
            "auto_receive_days")
    level_id = str(data.get("default_level_id") or "").strip()
    if level_id:
        # The level's model through the relationship: the platform imports no domain.
        level_model = ShopSettings.default_level.property.mapper.class_
        level = db.session.get(level_model, ids.parse_id(level_id) or 0)
        if level is None:
            raise ValidationError(_l("Please choose a member level."), "default_level_id")
    values = {
        "default_level_id": ids.parse_id(level_id),
        "shop_name": shop_name,
        "theme_color": theme_color.upper(),
        "cs_phone": cs_phone,
        "auto_receive_days": days,
        "intro": _text(data, "intro", 2000),
        "bank_account": _text(data, "bank_account", 1000),
        "pickup_address": _text(data, "pickup_address", 255),
        "is_open": str(data.get("is_open", "")).lower() in ("1", "true", "on", "y", "yes"),
    }
    # Images last: they are validated before anything is written.
    new_logo = uploads.save_image(logo, folder="shop") if _has_file(logo) else None
    try:
        new_qr = uploads.save_image(cs_qr, folder="shop") if _has_file(cs_qr) else None
    except ValidationError:
        if new_logo:
            uploads.delete_image(new_logo.key)
        raise

    row = db.session.scalar(select(ShopSettings).order_by(ShopSettings.id).limit(1))
    if row is None:
        row = ShopSettings()
        db.session.add(row)
    old_files = []
    for key, value in values.items():
        setattr(row, key, value)
    if new_logo or remove_logo:
        old_files.append(row.logo)
        row.logo = new_logo.key if new_logo else None
    if new_qr or remove_cs_qr:
        old_files.append(row.cs_qr_image)
        row.cs_qr_image = new_qr.key if new_qr else None
    db.session.commit()
    for key in old_files:
        uploads.delete_image(key)
    if has_request_context():
        g.pifa_settings = row
    return row


def _has_file(f) -> bool:
    return f is not None and bool(getattr(f, "filename", ""))
