"""Cart, addresses, delivery and payment settings, orders and their history."""

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from app.ordering.states import PaymentStatus, RefundStatus
from app.platform.time import utcnow


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


class Address(Model):
    __tablename__ = "address"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False,
                     index=True)
    province = Column(String(32), nullable=False)
    city = Column(String(32), nullable=False)
    district = Column(String(32))
    street = Column(String(255), nullable=False)
    contact = Column(String(64), nullable=False)
    phone = Column(String(20), nullable=False)
    is_default = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    def one_line(self):
        return "".join(p for p in (self.province, self.city, self.district, self.street) if p)


class PaymentMethodSetting(Model):
    """Each payment method switched on or off, and whether it is paid before shipping."""

    __tablename__ = "payment_method_setting"
    code = Column(String(24), primary_key=True)
    enabled = Column(Boolean, nullable=False, default=True)
    pay_before_shipping = Column(Boolean, nullable=False, default=False)
    sort_order = Column(Integer, nullable=False, default=0)


class DeliveryMethodSetting(Model):
    """Each delivery option switched on or off, with the payment methods it allows."""

    __tablename__ = "delivery_method_setting"
    code = Column(String(24), primary_key=True)
    enabled = Column(Boolean, nullable=False, default=True)
    allowed_payments = Column(JSON, nullable=False, default=list)  # payment codes
    sort_order = Column(Integer, nullable=False, default=0)


class RegionDeliveryFee(Model):
    """Driver delivery (送货) fee per business region, free above an amount."""

    __tablename__ = "region_delivery_fee"
    region_id = Column(Integer, ForeignKey("region.id", ondelete="CASCADE"), primary_key=True)
    fee = Column(Numeric(12, 2), nullable=False, default=0)
    free_above = Column(Numeric(12, 2))  # goods total at or above this: no fee

    region = relationship("Region")


class FreightTemplate(Model):
    """Express (快递) freight for a set of provinces, by weight."""

    __tablename__ = "freight_template"
    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)
    provinces = Column(JSON, nullable=False, default=list)  # province names
    first_kg = Column(Numeric(8, 3), nullable=False, default=1)
    first_fee = Column(Numeric(12, 2), nullable=False, default=0)
    extra_kg_fee = Column(Numeric(12, 2), nullable=False, default=0)  # per started kg
    free_above = Column(Numeric(12, 2))

    def province_list(self):
        return ", ".join(self.provinces or [])


class Order(Model):
    __tablename__ = "order"  # quoted by SQLAlchemy on every dialect
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key", name="uq_order_idempotency"),
        Index("ix_order_region_state_id", "region_id", "state", "id"),
        Index("ix_order_user_id_id", "user_id", "id"),
        Index("ix_order_driver_state", "driver_id", "state"),
        CheckConstraint("total >= 0", name="ck_order_total"),
    )
    id = Column(Integer, primary_key=True)
    order_no = Column(String(24), nullable=False, unique=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)  # the customer
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    region_id = Column(Integer, ForeignKey("region.id"), index=True)
    placed_by_id = Column(Integer, ForeignKey("ab_user.id"))  # customer or salesman
    state = Column(String(20), nullable=False, index=True)
    idempotency_key = Column(String(64), nullable=False)
    delivery_method = Column(String(24), nullable=False)
    payment_method = Column(String(24), nullable=False)
    pay_before_shipping = Column(Boolean, nullable=False, default=False)
    payment_status = Column(String(12), nullable=False, default=PaymentStatus.UNPAID)
    refund_status = Column(String(12))  # requested / approved / rejected
    # The address as it was at submit time.
    province = Column(String(32))
    city = Column(String(32))
    district = Column(String(32))
    street = Column(String(255))
    contact = Column(String(64))
    phone = Column(String(20))
    pickup_address = Column(String(255))
    goods_total = Column(Numeric(12, 2), nullable=False, default=0)
    freight = Column(Numeric(12, 2), nullable=False, default=0)
    total = Column(Numeric(12, 2), nullable=False, default=0)
    total_weight_kg = Column(Numeric(12, 3), nullable=False, default=0)
    remark = Column(String(500))
    invoice_title = Column(String(128))
    tax_number = Column(String(32))
    driver_id = Column(Integer, ForeignKey("staff_profile.id"))
    ship_method = Column(String(16))  # express / logistics / other, when shipped without driver
    ship_note = Column(String(255))  # company and tracking number
    cash_collected = Column(Numeric(12, 2))
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    shipped_at = Column(DateTime)
    delivered_at = Column(DateTime)
    received_at = Column(DateTime)
    closed_at = Column(DateTime)

    lines = relationship("OrderLine", order_by="OrderLine.id", cascade="all, delete-orphan",
                         back_populates="order")
    events = relationship("OrderEvent", order_by="OrderEvent.id", cascade="all, delete-orphan",
                          back_populates="order")
    photos = relationship("DeliveryPhoto", order_by="DeliveryPhoto.id",
                          cascade="all, delete-orphan", back_populates="order")
    payments = relationship("Payment", order_by="Payment.id", cascade="all, delete-orphan",
                            back_populates="order")
    refunds = relationship("Refund", order_by="Refund.id", cascade="all, delete-orphan",
                           back_populates="order")
    member = relationship("Member")
    region = relationship("Region")
    driver = relationship("StaffProfile")
    user = relationship("User", foreign_keys=[user_id])
    placed_by = relationship("User", foreign_keys=[placed_by_id])

    def __repr__(self):
        return self.order_no

    def address_line(self):
        return "".join(p for p in (self.province, self.city, self.district, self.street) if p)


class OrderLine(Model):
    __tablename__ = "order_line"
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("order.id", ondelete="CASCADE"), nullable=False,
                      index=True)
    # Kept when the spec is deleted later: the line holds its own copy of what it was.
    spec_id = Column(Integer, ForeignKey("spec.id", ondelete="SET NULL"), index=True)
    # What was ordered, as it was at that moment.
    product_name = Column(String(128), nullable=False)
    model = Column(String(64))
    spec_text = Column(String(64))
    base_unit = Column(String(8), nullable=False)
    inner_unit = Column(String(8), nullable=False)
    inner_qty = Column(Integer, nullable=False)
    outer_unit = Column(String(8), nullable=False)
    outer_qty = Column(Integer, nullable=False)
    weight_kg = Column(Numeric(10, 3), nullable=False, default=0)
    unit_price = Column(Numeric(12, 2), nullable=False)  # per base unit
    quantity = Column(Integer, nullable=False)  # base units
    refused_qty = Column(Integer, nullable=False, default=0)  # refused or short at the door
    refused_reason = Column(String(255))
    amount = Column(Numeric(12, 2), nullable=False)
    is_gift = Column(Boolean, nullable=False, default=False)
    out_of_stock = Column(Boolean, nullable=False, default=False)
    price_note = Column(String(255))  # why a salesman changed the price

    order = relationship("Order", back_populates="lines")
    spec = relationship("Spec")


class OrderEvent(Model):
    """One entry of an order's history, written with the change it records."""

    __tablename__ = "order_event"
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("order.id", ondelete="CASCADE"), nullable=False,
                      index=True)
    actor_id = Column(Integer, ForeignKey("ab_user.id"))  # None: the system
    # Who acted, as they were at that moment: their name, and the workflow's role they
    # acted in (customer, salesman, driver, cs, system).
    actor_name = Column(String(64))
    actor_role = Column(String(16))
    action = Column(String(24), nullable=False)
    from_state = Column(String(20))
    to_state = Column(String(20))
    remark = Column(String(500))
    data = Column(JSON, nullable=False, default=dict)
    customer_visible = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    order = relationship("Order", back_populates="events")


class DeliveryPhoto(Model):
    __tablename__ = "delivery_photo"
    # A photo sent again on a weak signal carries the same upload id: stored once.
    __table_args__ = (UniqueConstraint("order_id", "upload_id", name="uq_delivery_photo_upload"),)
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("order.id", ondelete="CASCADE"), nullable=False,
                      index=True)
    key = Column(String(255), nullable=False, unique=True)
    uploaded_by_id = Column(Integer, ForeignKey("ab_user.id"))
    upload_id = Column(String(64))  # the client's id of this upload (API), if it gave one
    created_at = Column(DateTime, nullable=False, default=utcnow)

    order = relationship("Order", back_populates="photos")


class Payment(Model):
    __tablename__ = "payment"
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("order.id", ondelete="CASCADE"), nullable=False,
                      index=True)
    amount = Column(Numeric(12, 2), nullable=False)
    method = Column(String(24), nullable=False)
    note = Column(String(255))
    recorded_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(DateTime, nullable=False, default=utcnow)

    order = relationship("Order", back_populates="payments")


class Refund(Model):
    __tablename__ = "refund"
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("order.id", ondelete="CASCADE"), nullable=False,
                      index=True)
    status = Column(String(12), nullable=False, default=RefundStatus.REQUESTED)
    reason = Column(String(500), nullable=False)
    lines = Column(JSON, nullable=False, default=list)  # [{"line_id", "quantity"}]
    photos = Column(JSON, nullable=False, default=list)  # private media keys
    amount = Column(Numeric(12, 2))  # decided amount
    restock = Column(Boolean, nullable=False, default=False)
    decision_note = Column(String(500))
    requested_by_id = Column(Integer, ForeignKey("ab_user.id"))
    decided_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    decided_at = Column(DateTime)

    order = relationship("Order", back_populates="refunds")
