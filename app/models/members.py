"""Customers (members): the shop profile of an account and its approval state."""

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from .base import utcnow


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
    created_at = Column(DateTime, nullable=False, default=utcnow)
    approved_at = Column(DateTime)

    user = relationship("User")
    region = relationship("Region")
    own_salesman = relationship("StaffProfile")
    level = relationship("MemberLevel")

    def __repr__(self):
        return self.shop_name or self.phone or f"#{self.id}"

    def status_label(self):
        from flask_babel import lazy_gettext as _l

        labels = {MemberStatus.INCOMPLETE: _l("Profile incomplete"),
                  MemberStatus.PENDING: _l("Pending approval"),
                  MemberStatus.APPROVED: _l("Approved"),
                  MemberStatus.REJECTED: _l("Rejected")}
        return labels.get(self.status, self.status)
