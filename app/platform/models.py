"""What the platform keeps: the server-side state of sign-ins, the WeChat identities of
accounts (platform/wechat.py) and the shop's settings."""

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from app.platform.time import utcnow


class AccountSession(Model):
    """The session version of an account. Every session cookie records the version it was
    issued under; signing out, a password change or reset and disabling the account raise
    it, so every cookie issued before is refused on the server (a copied cookie included).
    No row means version 0."""

    __tablename__ = "account_session"
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    version = Column(Integer, nullable=False, default=0)


class WechatIdentity(Model):
    """One WeChat identity of an account: its openid in one of our apps (mini program or
    official account; platform/wechat.py)."""

    __tablename__ = "wechat_identity"
    __table_args__ = (UniqueConstraint("appid", "openid", name="uq_wechat_identity_openid"),
                      UniqueConstraint("user_id", "appid", name="uq_wechat_identity_user_app"))
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False,
                     index=True)
    kind = Column(String(16), nullable=False)  # MINIPROGRAM | OFFICIAL
    appid = Column(String(32), nullable=False)
    openid = Column(String(64), nullable=False)
    unionid = Column(String(64), index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_used_at = Column(DateTime, nullable=False, default=utcnow)
    # Unbound by the person: no longer signs in or receives messages, and WeChat's
    # browser does not bind it again silently; binding it on purpose clears this.
    unbound_at = Column(DateTime)


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
