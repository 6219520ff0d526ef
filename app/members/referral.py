"""Referral: each salesman's code, printed in their personal QR code; a member who signs
up through it belongs to that salesman (their customers and their performance)."""

import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.members.models import StaffKind, StaffProfile
from app.platform.errors import ValidationError


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
