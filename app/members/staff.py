"""Regions and staff profiles: the rules behind 业务管理."""

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.members.models import Member, Region, StaffKind, StaffProfile
from app.platform import accounts
from app.platform.errors import ValidationError
from app.platform.security import DRIVER, SALESMAN

PLATE_RE = re.compile(r"^[\u4e00-\u9fa5][A-Z][A-Z0-9·\-]{4,7}$")
ROLE_OF_KIND = {StaffKind.SALESMAN: SALESMAN, StaffKind.DRIVER: DRIVER}


def validate_region(region: Region) -> None:
    region.name = (region.name or "").strip()
    if not region.name:
        raise ValidationError(_l("Please enter the region's name."), "name")
    if len(region.name) > 64:
        raise ValidationError(_l("The region's name is too long."), "name")
    clash = db.session.scalar(
        select(Region.id).where(func.lower(Region.name) == region.name.lower(),
                                Region.id != (region.id or 0))
    )
    if clash:
        raise ValidationError(_l("A region with this name already exists."), "name")


def normalize_plate(raw: str | None) -> str:
    plate = re.sub(r"\s", "", raw or "").upper()
    if not PLATE_RE.match(plate):
        raise ValidationError(_l("Please enter a licence plate such as 琼A·12345."), "plate")
    return plate


def prepare_staff(profile: StaffProfile, password: str | None = None) -> StaffProfile:
    """Validate a staff profile and link it to the account of its mobile number.

    An account that does not exist yet is created with `password`; the account gets
    the role of the profile's kind (a person may hold several roles).
    """
    profile.name = (profile.name or "").strip()
    if not profile.name:
        raise ValidationError(_l("Please enter a name."), "name")
    if profile.kind not in StaffKind.ALL:
        raise ValidationError(_l("Please choose salesman or driver."), "kind")
    profile.phone = accounts.normalize_mobile(profile.phone)
    if profile.kind == StaffKind.DRIVER:
        profile.plate = normalize_plate(profile.plate)
    else:
        profile.plate = (profile.plate or "").strip() or None
    if not profile.regions:
        raise ValidationError(_l("Please choose at least one region."), "regions")

    with db.session.no_autoflush:  # the profile may not be in the session yet
        return _link_account(profile, password)


def _link_account(profile: StaffProfile, password: str | None) -> StaffProfile:
    user = accounts.find_account(profile.phone)
    if user is None:
        if not password:
            raise ValidationError(
                _l("No account has this mobile number yet: enter an initial password."),
                "password")
        # No flush: the profile may not be in the session yet; both are saved together.
        user = accounts.create_account(profile.phone, profile.name, password,
                                       [ROLE_OF_KIND[profile.kind]], flush=False)
        profile.user = user
        return profile
    accounts.grant_role(user, ROLE_OF_KIND[profile.kind])
    clash = db.session.scalar(
        select(StaffProfile.id).where(StaffProfile.user_id == user.id,
                                      StaffProfile.kind == profile.kind,
                                      StaffProfile.id != (profile.id or 0)))
    if clash:
        raise ValidationError(_l("This person already has a profile of this kind."), "phone")
    profile.user = user
    return profile


def staff_of(user, kind: str) -> StaffProfile | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(StaffProfile).where(StaffProfile.user_id == user.id, StaffProfile.kind == kind,
                                   StaffProfile.active.is_(True)))


def salesmen_of_region(region_id: int) -> list[StaffProfile]:
    return list(db.session.scalars(
        select(StaffProfile)
        .join(StaffProfile.regions)
        .where(Region.id == region_id, StaffProfile.kind == StaffKind.SALESMAN,
               StaffProfile.active.is_(True))
        .order_by(StaffProfile.id)))


def check_region_deletable(region: Region) -> None:
    in_use = db.session.scalar(select(func.count(Member.id)).where(Member.region_id == region.id))
    if in_use or region.staff:
        raise ValidationError(
            _l("This region still has customers or staff; mark it inactive instead."), "name")


def check_staff_deletable(profile: StaffProfile) -> None:
    customers = db.session.scalar(
        select(func.count(Member.id)).where(Member.own_salesman_id == profile.id))
    if customers:
        raise ValidationError(
            _l("This salesman still has %(n)d customers: hand them to another salesman or "
               "mark the profile inactive.", n=customers), "name")
