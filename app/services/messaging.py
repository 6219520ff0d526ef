"""The outbox: write messages in the caller's transaction; pick recipients.

Nothing here commits. The caller commits its change and its messages together; the
delivery job is enqueued for after that commit (app/jobs).
"""

from ..extensions import db
from ..models import Channel, Message, MessageStatus


def write_message(event: str, channel: str, recipient: str, body: str, *,
                  user_id: int | None = None, template: str | None = None,
                  params: dict | None = None) -> Message:
    """Add one outbox row to the current transaction and schedule its delivery."""
    from ..jobs import enqueue
    from ..jobs.messages import deliver_message

    if channel not in Channel.ALL:
        raise ValueError(f"unknown channel {channel!r}")
    message = Message(event=event, channel=channel, recipient=str(recipient), body=body,
                      user_id=user_id, template=template, params=params or {},
                      status=MessageStatus.PENDING)
    db.session.add(message)
    db.session.flush()
    enqueue(deliver_message, message.id)
    return message


# ---- who is told what about an order -------------------------------------------------
# Events and their wording (SPEC.md "Order workflow"); the SMS templates and the WeChat
# channel are configured with the messaging issue, the wording here is the default.

ORDER_TEXTS = {
    "new_order": "有新订单{order_no}，请尽快登录小程序业务管理查看处理。",
    "order_submitted": "您的订单{order_no}已提交，等待业务经理确认。",
    "order_placed_for_you": "业务经理{salesman}已为您下单，订单号{order_no}，请在订单中心查看。",
    "order_confirmed": "订单确认通知：您的订单{order_no}已确认，我们会尽快为您发货。",
    "driver_assigned": "您的订单{order_no}待送货，请及时办理出库和送货。",
    "order_shipping": "您的订单{order_no}正在发货中，司机或物流信息可在“待发货”中查看。",
    "order_shipped": "您的订单{order_no}已发货（{ship}），请注意查收。",
    "order_ready_for_pickup": "您的订单{order_no}已备好，请到{pickup}自提。",
    "order_delivered": "您的订单{order_no}已送达，签收单已上传，感谢您的惠顾。",
    "order_closed": "您的订单{order_no}已关闭。{reason}",
    "refund_approved": "您的订单{order_no}退款/退货申请已通过，退款金额¥{amount}。",
    "refund_rejected": "您的订单{order_no}退款/退货申请未通过，原因：{reason}。",
}


def _customer(order, event, **ctx):
    """The customer is told by SMS and in the in-app list (WeChat comes later)."""
    body = ORDER_TEXTS[event].format(order_no=order.order_no, **ctx)
    phone = order.member.phone or order.user.username
    params = {"order_no": order.order_no, **{k: str(v) for k, v in ctx.items()}}
    write_message(event, Channel.SMS, phone, body, user_id=order.user_id, template=event,
                  params=params)
    write_message(event, Channel.INAPP, str(order.user_id), body, user_id=order.user_id,
                  template=event, params=params)


def new_order_recipients(order) -> list[tuple[str, int | None]]:
    """(phone, user id) of whom a new order alerts: the customer's own salesman when they
    serve the order's region, otherwise every salesman of the region, otherwise
    customer service (the phone in basic settings)."""
    from .settings import get_settings
    from .staff import salesmen_of_region

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
    if event == "new_order":
        body = ORDER_TEXTS[event].format(order_no=order.order_no)
        for phone, user_id in new_order_recipients(order):
            write_message(event, Channel.SMS, phone, body, user_id=user_id, template=event,
                          params={"order_no": order.order_no})
    elif event == "driver_assigned":
        driver = order.driver
        body = ORDER_TEXTS[event].format(order_no=order.order_no)
        write_message(event, Channel.SMS, driver.phone, body, user_id=driver.user_id,
                      template=event, params={"order_no": order.order_no})
    else:
        _customer(order, event, **ctx)
