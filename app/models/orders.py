"""Cart (orders, events and payments arrive with the checkout issue)."""

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Integer, Numeric, UniqueConstraint
from sqlalchemy.orm import relationship

from .base import utcnow


class CartLine(Model):
    """One spec in a member's server-side cart, with what it cost when added.

    The price and MOQ seen when adding are kept so that a change since then can be
    shown on the cart, never silently applied.
    """

    __tablename__ = "cart_line"
    __table_args__ = (UniqueConstraint("user_id", "spec_id", name="uq_cart_line"),)
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False,
                     index=True)
    spec_id = Column(Integer, ForeignKey("spec.id", ondelete="CASCADE"), nullable=False)
    quantity = Column(Integer, nullable=False)  # base units, a multiple of the MOQ
    unit_price_at_add = Column(Numeric(12, 2))
    moq_at_add = Column(Integer, nullable=False)
    added_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    spec = relationship("Spec")
