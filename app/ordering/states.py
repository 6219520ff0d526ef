"""The names of an order's world, in one place: states, payment and refund statuses,
delivery options and payment methods, and how each audience reads them (staff labels,
customer labels, the customer's tabs). Code and templates compare against these names,
never against bare strings."""

from flask_babel import lazy_gettext as _l


class State:
    DRAFT = "draft"  # inside the submit transaction only; never committed
    PENDING = "pending"
    CONFIRMED = "confirmed"
    ASSIGNED = "assigned"
    DELIVERING = "delivering"
    SHIPPED = "shipped"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELIVERED = "delivered"
    RECEIVED = "received"
    CLOSED = "closed"
    ALL = (PENDING, CONFIRMED, ASSIGNED, DELIVERING, SHIPPED, READY_FOR_PICKUP, DELIVERED,
           RECEIVED, CLOSED)
    OPEN = (PENDING, CONFIRMED, ASSIGNED, DELIVERING, SHIPPED, READY_FOR_PICKUP)
    FINISHED = (DELIVERED, RECEIVED)


STAFF_LABELS = {
    State.PENDING: _l("To confirm"),
    State.CONFIRMED: _l("Confirmed"),
    State.ASSIGNED: _l("Driver assigned"),
    State.DELIVERING: _l("Out for delivery"),
    State.SHIPPED: _l("Shipped"),
    State.READY_FOR_PICKUP: _l("Ready for pickup"),
    State.DELIVERED: _l("Delivered"),
    State.RECEIVED: _l("Received"),
    State.CLOSED: _l("Closed"),
}
CUSTOMER_LABELS = {
    State.PENDING: _l("Waiting for the salesman to confirm"),
    State.CONFIRMED: _l("Confirmed, waiting to ship"),
    State.ASSIGNED: _l("Being shipped"),
    State.DELIVERING: _l("The driver is on the way"),
    State.SHIPPED: _l("Shipped, waiting for receipt"),
    State.READY_FOR_PICKUP: _l("Ready for pickup"),
    State.DELIVERED: _l("Received"),
    State.RECEIVED: _l("Received"),
    State.CLOSED: _l("Closed"),
}
# Customer order-centre tabs, in order: (key, label, states).
CUSTOMER_TABS = [
    ("all", _l("All"), State.ALL),
    ("to_confirm", _l("To confirm"), (State.PENDING,)),
    ("to_ship", _l("To ship"), (State.CONFIRMED, State.ASSIGNED)),
    ("to_receive", _l("To receive"), (State.DELIVERING, State.SHIPPED,
                                      State.READY_FOR_PICKUP)),
    ("done", _l("Completed"), (State.DELIVERED, State.RECEIVED)),
    ("closed", _l("Closed"), (State.CLOSED,)),
]


class Delivery:
    DRIVER = "delivery"  # 送货
    PICKUP = "pickup"  # 自提
    FREIGHT_PICKUP = "freight_pickup"  # 发货运自提
    EXPRESS = "express"  # 快递
    ALL = (DRIVER, PICKUP, FREIGHT_PICKUP, EXPRESS)


DELIVERY_LABELS = {
    Delivery.DRIVER: _l("Delivery by our driver"),
    Delivery.PICKUP: _l("Self pickup"),
    Delivery.FREIGHT_PICKUP: _l("Logistics to a freight terminal"),
    Delivery.EXPRESS: _l("Express"),
}


class Pay:
    COD = "cod"
    BANK = "bank"
    PREPAY = "prepay"
    WECHAT_TRANSFER = "wechat_transfer"
    ALIPAY_TRANSFER = "alipay_transfer"
    LOGISTICS_COLLECT = "logistics_collect"
    MONTHLY = "monthly"
    ONLINE = "online"
    ALL = (COD, BANK, PREPAY, WECHAT_TRANSFER, ALIPAY_TRANSFER, LOGISTICS_COLLECT, MONTHLY,
           ONLINE)
    TRANSFER = (BANK, WECHAT_TRANSFER, ALIPAY_TRANSFER)  # proved by a voucher photo


PAYMENT_LABELS = {
    Pay.COD: _l("Cash on delivery"),
    Pay.BANK: _l("Bank transfer"),
    Pay.PREPAY: _l("Pay before shipping"),
    Pay.WECHAT_TRANSFER: _l("WeChat transfer"),
    Pay.ALIPAY_TRANSFER: _l("Alipay transfer"),
    Pay.LOGISTICS_COLLECT: _l("Collected by the logistics company"),
    Pay.MONTHLY: _l("Monthly settlement"),
    Pay.ONLINE: _l("Online payment (WeChat Pay)"),
}

# How money paid by hand goes back to a customer (payments/paybacks.py); cash is recorded
# with the cash method, cod.
PAYBACK_METHOD_LABELS = {**{m: PAYMENT_LABELS[m] for m in Pay.TRANSFER}, Pay.COD: _l("Cash")}


class PaymentStatus:
    UNPAID = "unpaid"
    PAID = "paid"
    REFUNDED = "refunded"
    ALL = (UNPAID, PAID, REFUNDED)


PAYMENT_STATUS_LABELS = {PaymentStatus.UNPAID: _l("Unpaid"), PaymentStatus.PAID: _l("Paid"),
                         PaymentStatus.REFUNDED: _l("Refunded")}


class RefundStatus:
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    ALL = (REQUESTED, APPROVED, REJECTED)


# The same words for the customer and staff.
REFUND_LABELS = {RefundStatus.REQUESTED: _l("Refund requested"),
                 RefundStatus.APPROVED: _l("Refund approved"),
                 RefundStatus.REJECTED: _l("Refund rejected")}


class ShipMethod:
    EXPRESS = "express"
    LOGISTICS = "logistics"
    OTHER = "other"
    ALL = (EXPRESS, LOGISTICS, OTHER)


SHIP_METHOD_LABELS = {ShipMethod.EXPRESS: _l("Express"), ShipMethod.LOGISTICS: _l("Logistics"),
                      ShipMethod.OTHER: _l("Other way")}

# Where customer service may force an order (the brief's "关闭、发货中、完成等").
OVERRIDE_TARGETS = (State.CLOSED, State.DELIVERING, State.RECEIVED)

STAFF, CUSTOMER = "staff", "customer"  # the two audiences of an order's words


def state_label(state: str, audience: str = STAFF):
    """A state as one audience reads it (customers: 已收货 where staff read 已送达)."""
    labels = CUSTOMER_LABELS if audience == CUSTOMER else STAFF_LABELS
    return labels.get(state, state)

# Defaults written by `flask pifa seed-demo` and shown in the back office.
DEFAULT_PAYMENTS = {  # code: (enabled, pay before shipping)
    Pay.COD: (True, False), Pay.BANK: (True, False), Pay.PREPAY: (True, True),
    Pay.WECHAT_TRANSFER: (True, False), Pay.ALIPAY_TRANSFER: (True, False),
    Pay.LOGISTICS_COLLECT: (True, False), Pay.MONTHLY: (True, False), Pay.ONLINE: (True, True),
}
DEFAULT_DELIVERY_PAYMENTS = {
    Delivery.DRIVER: [Pay.COD, Pay.BANK, Pay.PREPAY, Pay.WECHAT_TRANSFER, Pay.ALIPAY_TRANSFER,
                      Pay.MONTHLY, Pay.ONLINE],
    Delivery.PICKUP: [Pay.BANK, Pay.PREPAY, Pay.WECHAT_TRANSFER, Pay.ALIPAY_TRANSFER,
                      Pay.MONTHLY, Pay.ONLINE],
    Delivery.FREIGHT_PICKUP: [Pay.BANK, Pay.PREPAY, Pay.WECHAT_TRANSFER, Pay.ALIPAY_TRANSFER,
                              Pay.LOGISTICS_COLLECT, Pay.MONTHLY, Pay.ONLINE],
    Delivery.EXPRESS: [Pay.BANK, Pay.PREPAY, Pay.WECHAT_TRANSFER, Pay.ALIPAY_TRANSFER,
                       Pay.MONTHLY, Pay.ONLINE],
}
