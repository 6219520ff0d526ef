"""Referral: each salesman's code, printed in their personal QR code; a member who signs
up through it belongs to that salesman (their customers and their performance)."""

import io
import secrets

import segno
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.members.models import StaffKind, StaffProfile
from app.members.staff import staff_of
from app.platform.errors import NotFound, ValidationError

# The QR code's image formats and their media types.
QR_FORMATS = {"png": "image/png", "svg": "image/svg+xml"}


def salesman_by_referral(code: str | None) -> StaffProfile | None:
    code = (code or "").strip()
    if not code or len(code) > 16:
        return None
    return db.session.scalar(select(StaffProfile).where(
        StaffProfile.referral_code == code, StaffProfile.kind == StaffKind.SALESMAN,
        StaffProfile.active.is_(True)))


def ensure_referral_code(profile: StaffProfile) -> str:
    if profile.kind != StaffKind.SALESMAN:
        raise ValidationError(_l("Only salesmen have a referral QR code."), "kind")
    while not profile.referral_code:
        code = secrets.token_urlsafe(6)[:8]
        if not db.session.scalar(select(StaffProfile.id).where(
                StaffProfile.referral_code == code)):
            profile.referral_code = code
            db.session.commit()
    return profile.referral_code


def my_referral(user) -> tuple[StaffProfile, str]:
    """The signed-in person's active salesman profile and referral code (made on first
    use), for their QR code; NotFound for anyone who is not an active salesman."""
    profile = staff_of(user, StaffKind.SALESMAN)
    if profile is None:
        raise NotFound(_l("The page you asked for does not exist."))
    return profile, ensure_referral_code(profile)


def qr_code(text: str, fmt: str) -> bytes:
    """`text` (a sign-up link) as a QR code image, fmt one of QR_FORMATS."""
    if fmt not in QR_FORMATS:
        raise NotFound(_l("The page you asked for does not exist."))
    out = io.BytesIO()
    code = segno.make(text, error="m")
    if fmt == "png":
        code.save(out, kind="png", scale=10, border=2)
    else:
        code.save(out, kind="svg", scale=10, border=2, xmldecl=False)
    return out.getvalue()
