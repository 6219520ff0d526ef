"""Basic settings of the shop: one row, edited in the back office (设置)."""

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from app.models.base import utcnow


class ShopSettings(Model):
    __tablename__ = "shop_settings"
    id = Column(Integer, primary_key=True)
    shop_name = Column(String(64), nullable=False, default="Pifa")
    logo = Column(String(255))  # media key of a public image
    intro = Column(Text)
    cs_qr_image = Column(String(255))  # customer-service WeChat QR code, media key
    cs_phone = Column(String(20))  # also receives new-order alerts of regions without salesman
    is_open = Column(Boolean, nullable=False, default=True)
    theme_color = Column(String(7), nullable=False, default="#E4393C")
    bank_account = Column(Text)
    pickup_address = Column(String(255))
    auto_receive_days = Column(Integer, nullable=False, default=7)
    default_level_id = Column(  # the level given to newly approved members
        Integer, ForeignKey("member_level.id", name="fk_shop_settings_default_level_id"))
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    default_level = relationship("MemberLevel")
