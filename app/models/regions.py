"""Business regions and the staff (salesmen, drivers) who serve them."""

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from app.platform.time import utcnow

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
        from flask_babel import lazy_gettext as _l

        labels = {StaffKind.SALESMAN: _l("Salesman"), StaffKind.DRIVER: _l("Driver")}
        return labels.get(self.kind, self.kind)

    def region_names(self):
        from flask_babel import gettext

        # TRANSLATORS: separator between names in a list (Chinese uses 、)
        return gettext(", ").join(r.name for r in self.regions)

