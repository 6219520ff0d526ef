"""People: customers (members, their shop profile and approval state, price levels,
verification codes) and the staff (salesmen, drivers) who serve the business regions."""

from flask_appbuilder import Model
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from app.platform import wechat
from app.platform.time import utcnow


class MemberLevel(Model):
    """A price level (普通 / 银牌 / 金牌): each spec may have a price per level."""

    __tablename__ = "member_level"
    id = Column(Integer, primary_key=True)
    name = Column(String(32), nullable=False, unique=True)
    sort_order = Column(Integer, nullable=False, default=0)

    def __repr__(self):
        return self.name


class MemberStatus:
    INCOMPLETE = "incomplete"  # signed up, profile not yet saved
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ALL = (INCOMPLETE, PENDING, APPROVED, REJECTED)


class Member(Model):
    __tablename__ = "member"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, unique=True)
    shop_name = Column(String(100))
    contact_name = Column(String(64))
    phone = Column(String(20))
    address = Column(String(255))
    region_id = Column(Integer, ForeignKey("region.id"), index=True)
    wechat_id = Column(String(64))
    invoice_title = Column(String(128))
    tax_number = Column(String(32))
    status = Column(String(16), nullable=False, default=MemberStatus.INCOMPLETE, index=True)
    reject_reason = Column(Text)
    own_salesman_id = Column(Integer, ForeignKey("staff_profile.id"), index=True)
    level_id = Column(Integer, ForeignKey("member_level.id", name="fk_member_level_id"),
                      index=True)
    shop_photo = Column(String(255))  # private media key: shop front 店门照片
    licence_photo = Column(String(255))  # private media key: business licence 营业执照
    monthly_settlement = Column(Boolean, nullable=False, default=False)  # 统一结算 allowed
    # 信用额度 of a 统一结算 member: what it may owe at most (none: no limit set)
    credit_limit = Column(Numeric(12, 2))
    # The salesman whose QR code brought this member (kept for performance reports).
    referred_by_id = Column(Integer, ForeignKey("staff_profile.id",
                                                name="fk_member_referred_by_id"), index=True)
    submitted_at = Column(DateTime)  # last time the profile was sent for approval
    reviewed_at = Column(DateTime)
    reviewed_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_member_reviewed_by_id"))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    approved_at = Column(DateTime)

    user = relationship("User", foreign_keys=[user_id])
    region = relationship("Region")
    own_salesman = relationship("StaffProfile", foreign_keys=[own_salesman_id])
    referred_by = relationship("StaffProfile", foreign_keys=[referred_by_id])
    level = relationship("MemberLevel")

    def __repr__(self):
        return self.shop_name or self.phone or f"#{self.id}"

    def account_state(self):
        return _l("Enabled") if self.user.active else _l("Disabled")

    def wechat_bindings(self):
        """Which WeChat identities the account has, in words (the back office)."""
        return gettext(", ").join(str(wechat.KIND_LABELS.get(row.kind, row.kind))
                                  for row in wechat.identities(self.user_id)) or "—"

    def status_label(self):
        labels = {MemberStatus.INCOMPLETE: _l("Profile incomplete"),
                  MemberStatus.PENDING: _l("Pending approval"),
                  MemberStatus.APPROVED: _l("Approved"),
                  MemberStatus.REJECTED: _l("Rejected")}
        return labels.get(self.status, self.status)


class CodePurpose:
    REGISTER = "register"
    RESET = "reset"
    SIGN_IN = "sign_in"  # sign-in by SMS code, and binding a WeChat identity to a phone
    ALL = (REGISTER, RESET, SIGN_IN)


class VerificationCode(Model):
    """An SMS verification code: stored hashed, valid 5 minutes, 5 tries, used once."""

    __tablename__ = "verification_code"
    __table_args__ = (Index("ix_verification_code_phone", "phone", "purpose", "created_at"),)
    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False)
    purpose = Column(String(16), nullable=False)
    code_hash = Column(String(128), nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    expires_at = Column(DateTime, nullable=False)
    used_at = Column(DateTime)
    created_at = Column(DateTime, nullable=False, default=utcnow)


# ---- business regions and the staff who serve them -----------------------------------

staff_region = Table(
    "staff_region",
    Model.metadata,
    Column("staff_id", Integer, ForeignKey("staff_profile.id", ondelete="CASCADE"),
           primary_key=True),
    Column("region_id", Integer, ForeignKey("region.id", ondelete="CASCADE"), primary_key=True),
)


class Region(Model):
    __tablename__ = "region"
    id = Column(Integer, primary_key=True)
    name = Column(String(64), unique=True, nullable=False)
    sort_order = Column(Integer, nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    staff = relationship("StaffProfile", secondary=staff_region, back_populates="regions")

    def __repr__(self):
        return self.name


class StaffKind:
    SALESMAN = "salesman"
    DRIVER = "driver"
    ALL = (SALESMAN, DRIVER)


class StaffProfile(Model):
    """A salesman's or driver's working profile, linked to one account.

    One account may have a salesman profile and a driver profile (a person may hold
    several roles); the pair (user, kind) is unique.
    """

    __tablename__ = "staff_profile"
    __table_args__ = (UniqueConstraint("user_id", "kind", name="uq_staff_profile_user_kind"),
                      UniqueConstraint("referral_code", name="uq_staff_profile_referral_code"))
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    kind = Column(String(16), nullable=False)
    name = Column(String(64), nullable=False)
    phone = Column(String(20), nullable=False)
    plate = Column(String(20))  # drivers: vehicle licence plate
    # Salesmen: the code in their personal QR code's sign-up link.
    referral_code = Column(String(16))
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    user = relationship("User")
    regions = relationship("Region", secondary=staff_region, back_populates="staff",
                           order_by="Region.sort_order")

    def __repr__(self):
        return self.name

    def kind_label(self):
        labels = {StaffKind.SALESMAN: _l("Salesman"), StaffKind.DRIVER: _l("Driver")}
        return labels.get(self.kind, self.kind)

    def region_names(self):
        # TRANSLATORS: separator between names in a list (Chinese uses 、)
        return gettext(", ").join(r.name for r in self.regions)

