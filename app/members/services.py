"""Members: sign-up, password reset, the profile and its gate, approval, referral, hand-over."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.extensions import db
from app.members import verification
from app.members.models import (
    CodePurpose,
    Member,
    MemberLevel,
    MemberStatus,
    Region,
    StaffKind,
    StaffProfile,
)
from app.members.referral import salesman_by_referral
from app.messaging import outbox
from app.platform import accounts, ids, uploads
from app.platform.errors import PermissionDenied, ValidationError
from app.platform.security import CUSTOMER
from app.platform.settings import get_settings
from app.platform.time import utcnow
from app.platform.transactions import atomic

REQUIRED_TEXT = {"shop_name": (_l("Shop name"), 100), "contact_name": (_l("Contact"), 64),
                 "address": (_l("Address"), 255)}
OPTIONAL_TEXT = {"wechat_id": 64, "invoice_title": 128, "tax_number": 32}


def member_of(user) -> Member | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Member).where(Member.user_id == user.id))


# ---- sign-up and reset ----------------------------------------------------------------

def register(raw_phone: str, code: str, password: str, referral: str | None = None):
    """Create a customer account after the SMS code proves the phone; returns the user."""
    phone = accounts.normalize_mobile(raw_phone)
    accounts.validate_password(password)
    verification.check_code(phone, CodePurpose.REGISTER, code)
    if accounts.find_account(phone) is not None:
        # The code proved this person owns the phone, so saying so reveals nothing.
        db.session.commit()
        raise ValidationError(_l("This mobile number is already registered: please sign in "
                                 "or reset your password."), "mobile")
    user = accounts.create_account(phone, phone, password, [CUSTOMER])
    salesman = salesman_by_referral(referral)
    db.session.add(Member(user_id=user.id, phone=phone, status=MemberStatus.INCOMPLETE,
                          own_salesman_id=salesman.id if salesman else None,
                          referred_by_id=salesman.id if salesman else None))
    db.session.commit()
    return user


def reset_password(raw_phone: str, code: str, password: str) -> None:
    phone = accounts.normalize_mobile(raw_phone)
    accounts.validate_password(password)
    verification.check_code(phone, CodePurpose.RESET, code)
    user = accounts.find_account(phone)
    if user is None:
        db.session.commit()
        raise ValidationError(_l("The verification code is wrong or has expired."), "code")
    accounts.set_password(user, password)
    db.session.commit()


# ---- profile -----------------------------------------------------------------------------

def active_regions() -> list[Region]:
    """The regions a customer may choose on the profile form (save_profile accepts these)."""
    return db.session.scalars(select(Region).where(Region.active.is_(True))
                              .order_by(Region.sort_order, Region.id)).all()


def is_complete(member: Member | None) -> bool:
    return bool(member and member.shop_name and member.contact_name and member.phone
                and member.address and member.region_id and member.shop_photo
                and member.licence_photo)


def needs_profile(user) -> bool:
    """The profile gate: a signed-in customer whose profile is not complete yet."""
    if CUSTOMER not in accounts.role_names(user):
        return False
    member = member_of(user)
    return member is not None and not is_complete(member)


@atomic
def save_profile(user, data: dict, shop_photo=None, licence_photo=None) -> Member:
    """Validate and save the profile, then (re)submit it for approval. All or nothing."""
    member = member_of(user)
    if member is None:
        raise PermissionDenied(_l("Only customer accounts have a shop profile."))
    values = {}
    for field, (label, size) in REQUIRED_TEXT.items():
        value = (data.get(field) or "").strip()
        if not value:
            raise ValidationError(_l("%(field)s is required.", field=label), field)
        if len(value) > size:
            raise ValidationError(_l("%(field)s is too long (at most %(n)d characters).",
                                     field=label, n=size), field)
        values[field] = value
    values["phone"] = accounts.normalize_mobile(data.get("phone"))
    for field, size in OPTIONAL_TEXT.items():
        values[field] = (data.get(field) or "").strip()[:size] or None
    region_id = str(data.get("region_id") or "")
    region_id = ids.parse_id(region_id)
    region = db.session.get(Region, region_id) if region_id else None
    if region is None or not region.active:
        raise ValidationError(_l("Please choose your region."), "region_id")
    values["region_id"] = region.id
    has_shop = bool(member.shop_photo) or _has_file(shop_photo)
    has_licence = bool(member.licence_photo) or _has_file(licence_photo)
    if not has_shop:
        raise ValidationError(_l("Please add a photo of the shop front."), "shop_photo")
    if not has_licence:
        raise ValidationError(_l("Please add a photo of the business licence."),
                              "licence_photo")
    new_files = []
    try:
        if _has_file(shop_photo):
            new_files.append(("shop_photo", uploads.save_image(shop_photo, private=True,
                                                               folder="member")))
        if _has_file(licence_photo):
            new_files.append(("licence_photo", uploads.save_image(licence_photo, private=True,
                                                                  folder="member")))
    except ValidationError:
        for _, stored in new_files:
            uploads.delete_image(stored.key)
        raise
    old_keys = []
    for field, value in values.items():
        setattr(member, field, value)
    for field, stored in new_files:
        old_keys.append(getattr(member, field))
        setattr(member, field, stored.key)
    if member.status != MemberStatus.APPROVED:
        member.status = MemberStatus.PENDING
        member.reject_reason = None
        member.submitted_at = utcnow()
    db.session.commit()
    for key in old_keys:
        uploads.delete_image(key)
    return member


def _has_file(f) -> bool:
    return f is not None and bool(getattr(f, "filename", ""))


# ---- approval --------------------------------------------------------------------------

@atomic
def approve(member: Member, level_id, actor) -> Member:
    if member.status not in (MemberStatus.PENDING, MemberStatus.REJECTED):
        raise ValidationError(_l("Only members waiting for approval can be approved."),
                              "status")
    if not is_complete(member):
        raise ValidationError(_l("This member's profile is not complete."), "status")
    level_id = level_id or get_settings().default_level_id
    level_id = ids.parse_id(level_id)
    level = db.session.get(MemberLevel, level_id) if level_id else None
    if level is None:
        raise ValidationError(_l("Please choose a member level."), "level_id")
    member.status = MemberStatus.APPROVED
    member.level_id = level.id
    member.reject_reason = None
    member.approved_at = member.reviewed_at = utcnow()
    member.reviewed_by_id = actor.id
    outbox.tell_customer("member_approved", member, account_news=True)
    db.session.commit()
    return member


@atomic
def reject(member: Member, reason: str, actor) -> Member:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_l("Please give the reason for rejecting."), "reason")
    if len(reason) > 500:
        raise ValidationError(_l("The reason is too long (at most 500 characters)."), "reason")
    if member.status != MemberStatus.PENDING:
        raise ValidationError(_l("Only members waiting for approval can be rejected."),
                              "status")
    member.status = MemberStatus.REJECTED
    member.reject_reason = reason
    member.reviewed_at = utcnow()
    member.reviewed_by_id = actor.id
    outbox.tell_customer("member_rejected", member, {"reason": reason}, account_news=True)
    db.session.commit()
    return member


# ---- own salesman, referral codes, hand-over -----------------------------------------------

def _salesman(salesman_id) -> StaffProfile:
    salesman_id = ids.parse_id(salesman_id)
    profile = db.session.get(StaffProfile, salesman_id) if salesman_id else None
    if profile is None or profile.kind != StaffKind.SALESMAN:
        raise ValidationError(_l("Please choose a salesman."), "salesman_id")
    return profile


def set_own_salesman(member: Member, salesman_id) -> Member:
    member.own_salesman_id = _salesman(salesman_id).id if salesman_id else None
    db.session.commit()
    return member


def hand_over_customers(from_id, to_id) -> int:
    """Give every customer of a departing salesman to another one, in one action."""
    source, target = _salesman(from_id), _salesman(to_id)
    if source.id == target.id:
        raise ValidationError(_l("Please choose a different salesman to hand over to."),
                              "salesman_id")
    result = db.session.execute(update(Member).where(Member.own_salesman_id == source.id)
                                .values(own_salesman_id=target.id))
    db.session.commit()
    return result.rowcount


def check_member_edit(member: Member) -> None:
    """Back-office edits: the own salesman must be a salesman; the region must exist."""
    if member.own_salesman is not None and member.own_salesman.kind != StaffKind.SALESMAN:
        raise ValidationError(_l("Please choose a salesman."), "own_salesman")
    if member.status == MemberStatus.APPROVED and member.level is None:
        raise ValidationError(_l("An approved member needs a member level."), "level")
