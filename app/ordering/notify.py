"""Who hears of an order's events: the one place that decides it.

A new order alerts the customer's own salesman when they serve the order's region,
otherwise every salesman of the region, otherwise customer service (the phone in basic
settings); an assigned driver hears by SMS; every other order event reaches the
customer (messaging.outbox.tell_customer decides WeChat or SMS, and in-app).
"""

from app.members.staff import salesmen_of_region
from app.messaging import outbox
from app.messaging.events import EVENTS
from app.messaging.models import Channel
from app.ordering import refunds
from app.ordering.states import SHIP_METHOD_LABELS
from app.platform import accounts
from app.platform.settings import get_settings


def new_order_recipients(order) -> list[tuple[str, int | None]]:
    """(phone, user id) of whom a new order alerts: the customer's own salesman when they
    serve the order's region, otherwise every salesman of the region, otherwise
    customer service (the phone in basic settings)."""
    salesmen = salesmen_of_region(order.region_id) if order.region_id else []
    own = order.member.own_salesman
    if own is not None and own.active and own in salesmen:
        return [(own.phone, own.user_id)]
    if salesmen:
        return [(s.phone, s.user_id) for s in salesmen]
    phone = get_settings().cs_phone
    return [(phone, None)] if phone else []


STAFF_EVENTS = ("new_order", "voucher_uploaded")  # to whom a new order goes


def order_event(event: str, order, *, actor=None, remark: str | None = None) -> None:
    """Write the messages of one order event into the current transaction (the table of
    ordering/workflow.py says which events an action sends)."""
    params = {"order_no": order.order_no, **_params(event, order, actor, remark)}
    if event in STAFF_EVENTS:
        for phone, user_id in new_order_recipients(order):
            outbox.write_message(event, Channel.SMS, phone, params, user_id=user_id)
    elif event == "driver_assigned":
        driver = order.driver
        outbox.write_message(event, Channel.SMS, driver.phone, params,
                             user_id=driver.user_id)
    elif event in EVENTS:
        outbox.tell_customer(event, order.member, params)
    else:
        raise ValueError(f"unknown order event {event!r}")


def _params(event: str, order, actor, remark: str | None) -> dict:
    """Each event's own placeholders, from the order as the action left it."""
    if event == "order_placed_for_you":
        return {"salesman": accounts.display_name(actor)}
    if event == "order_shipped":
        return {"ship": f"{SHIP_METHOD_LABELS[order.ship_method]}：{order.ship_note or ''}"}
    if event == "order_ready_for_pickup":
        return {"pickup": order.pickup_address or ""}
    if event == "order_closed":
        return {"reason": f"原因：{remark}" if remark else ""}
    if event == "refund_approved":
        return {"amount": refunds.latest_decided(order).amount}
    if event in ("refund_rejected", "voucher_rejected"):
        return {"reason": remark or ""}
    if event == "voucher_confirmed":
        return {"amount": order.payments[-1].amount}
    return {}
