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


def order_event(event: str, order, **ctx) -> None:
    """Write the messages of one order event into the current transaction."""
    params = {"order_no": order.order_no, **ctx}
    if event == "new_order":
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
