"""Every message the product sends: events, recipients, channels, templates, the outbox.

Nothing here commits. The caller commits its change and its messages together; the
delivery job is enqueued for after that commit (app/jobs/messages.py).

Who hears of what, and on which channel, is decided here and only here:
- staff (salesmen, drivers, customer service) by SMS;
- a customer's account news (approved, rejected) by SMS and in-app;
- a customer's order news by WeChat when they have an openid (and WeChat is set up while
  SMS is), otherwise SMS, and always in the in-app list on "我的"; a WeChat message
  refused for good falls back to one SMS.
"""

import string
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.extensions import db
from app.models import Channel, Message, MessageStatus, MessageTemplate
from app.platform.errors import ValidationError
from app.platform.time import utcnow


@dataclass(frozen=True)
class EventSpec:
    label: object  # lazy translated name shown in the back office
    params: tuple[tuple[str, str], ...]  # (param, sample value for the preview)
    text: str  # default wording (SPEC.md / the brief), "{param}" placeholders
    channels: tuple[str, ...]  # channels that may carry it (templates exist for these)
    secret: tuple[str, ...] = ()  # params nobody but the recipient may read (a code)


_CUSTOMER = (Channel.SMS, Channel.WECHAT, Channel.INAPP)
_ORDER_NO = ("order_no", "20261125000123")

EVENTS: dict[str, EventSpec] = {
    "sms_code": EventSpec(
        _l("Verification code"), (("code", "386120"),),
        "您的验证码为{code}，5分钟内有效，请勿告诉他人。", (Channel.SMS,), secret=("code",)),
    "account_exists": EventSpec(
        _l("Sign-up with a registered phone"), (),
        "该手机号已注册，可直接登录；如忘记密码，请使用“忘记密码”重设。", (Channel.SMS,)),
    "member_approved": EventSpec(
        _l("Account approved"), (),
        "您的账号已通过审核，请刷新小程序，可获得内部批发价格。", (Channel.SMS, Channel.INAPP)),
    "member_rejected": EventSpec(
        _l("Account not approved"), (("reason", "营业执照照片不清晰"),),
        "您的账号审核未通过，原因：{reason}。请修改资料后重新提交。",
        (Channel.SMS, Channel.INAPP)),
    "new_order": EventSpec(
        _l("New order (to salesmen or customer service)"), (_ORDER_NO,),
        "有新订单{order_no}，请尽快登录小程序业务管理查看处理。", (Channel.SMS,)),
    "order_submitted": EventSpec(
        _l("Order submitted"), (_ORDER_NO,),
        "您的订单{order_no}已提交，等待业务经理确认。", _CUSTOMER),
    "order_placed_for_you": EventSpec(
        _l("Order placed by a salesman"), (_ORDER_NO, ("salesman", "王经理")),
        "业务经理{salesman}已为您下单，订单号{order_no}，请在订单中心查看。", _CUSTOMER),
    "order_confirmed": EventSpec(
        _l("Order confirmed"), (_ORDER_NO,),
        "订单确认通知：您的订单{order_no}已确认，我们会尽快为您发货。", _CUSTOMER),
    "driver_assigned": EventSpec(
        _l("Driver assigned (to the driver)"), (_ORDER_NO,),
        "您的订单{order_no}待送货，请及时办理出库和送货。", (Channel.SMS,)),
    "order_shipping": EventSpec(
        _l("Driver assigned (to the customer)"), (_ORDER_NO,),
        "您的订单{order_no}正在发货中，司机或物流信息可在“待发货”中查看。", _CUSTOMER),
    "order_shipped": EventSpec(
        _l("Shipped without a driver"), (_ORDER_NO, ("ship", "快递发货：顺丰 SF1234567890")),
        "您的订单{order_no}已发货（{ship}），请注意查收。", _CUSTOMER),
    "order_ready_for_pickup": EventSpec(
        _l("Ready for pickup"), (_ORDER_NO, ("pickup", "海口市龙华区仓库")),
        "您的订单{order_no}已备好，请到{pickup}自提。", _CUSTOMER),
    "order_delivered": EventSpec(
        _l("Delivered"), (_ORDER_NO,),
        "您的订单{order_no}已送达，签收单已上传，感谢您的惠顾。", _CUSTOMER),
    "order_closed": EventSpec(
        _l("Order closed"), (_ORDER_NO, ("reason", "原因：客户要求取消")),
        "您的订单{order_no}已关闭。{reason}", _CUSTOMER),
    "refund_approved": EventSpec(
        _l("Refund approved"), (_ORDER_NO, ("amount", "128.00")),
        "您的订单{order_no}退款/退货申请已通过，退款金额¥{amount}。", _CUSTOMER),
    "refund_rejected": EventSpec(
        _l("Refund refused"), (_ORDER_NO, ("reason", "商品已拆封")),
        "您的订单{order_no}退款/退货申请未通过，原因：{reason}。", _CUSTOMER),
}

CHANNEL_LABELS = {Channel.SMS: _l("SMS"), Channel.WECHAT: _l("WeChat"),
                  Channel.INAPP: _l("In-app")}
TEXT_PARAM = "text"  # a provider variable may carry the whole rendered text


# ---- templates -------------------------------------------------------------------------

@dataclass
class Template:
    event: str
    channel: str
    text: str
    template_code: str
    param_map: str
    saved: bool  # False: the built-in default


def default_param_map(event: str) -> str:
    return "\n".join(f"{name}={name}" for name, _sample in EVENTS[event].params)


def get_template(event: str, channel: str) -> Template:
    spec = EVENTS.get(event)
    row = db.session.scalar(select(MessageTemplate).where(
        MessageTemplate.event == event, MessageTemplate.channel == channel))
    if row is not None:
        return Template(event, channel, row.text, row.template_code or "", row.param_map or "",
                        True)
    if spec is None:
        return Template(event, channel, "", "", "", False)
    return Template(event, channel, spec.text, "", default_param_map(event), False)


def all_templates() -> list[Template]:
    return [get_template(event, channel) for event, spec in EVENTS.items()
            for channel in spec.channels]


def _placeholders(text: str) -> list[str]:
    try:
        fields = [(name, spec, conv) for _lit, name, spec, conv
                  in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise ValidationError(_l("The text has an unmatched { or }."), "text") from exc
    for name, spec, conv in fields:
        if spec or conv:  # every value is text: "{amount:.2f}" would fail when sent
            written = "{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") \
                + "}"
            raise ValidationError(_l("Write placeholders plainly, like {order_no}: “%(written)s” "
                                     "cannot be used.", written=written), "text")
    return [name for name, _spec, _conv in fields]


def parse_param_map(event: str, param_map: str) -> list[tuple[str, str]]:
    """'provider_var=param' per line (or comma) -> ordered pairs; refuses unknown params."""
    known = {name for name, _ in EVENTS[event].params} | {TEXT_PARAM}
    pairs = []
    for raw in param_map.replace(",", "\n").replace("，", "\n").splitlines():
        item = raw.strip()
        if not item:
            continue
        var, sep, param = (part.strip() for part in item.partition("="))
        param = param if sep else var
        if not var or not var.replace("_", "").replace(".", "").isalnum():
            raise ValidationError(_l("“%(item)s” is not a valid provider variable name.",
                                     item=item), "param_map")
        if param not in known:
            raise ValidationError(_l("“%(param)s” is not a parameter of this message. "
                                     "Use: %(known)s.", param=param,
                                     known=", ".join(sorted(known))), "param_map")
        pairs.append((var, param))
    return pairs


def render(text: str, params: dict, fallback: str | None = None) -> str:
    """`text` with its placeholders filled. A text that cannot be filled (a template saved
    before the checks above) gives `fallback` filled instead, so that the change which
    sends the message is never refused for its wording."""
    values = {key: str(value) for key, value in params.items()}
    try:
        return string.Formatter().vformat(text, (), _Missing(values))
    except (ValueError, KeyError, IndexError, AttributeError, TypeError):
        if fallback is None:
            raise
        return render(fallback, params)


class _Missing(dict):
    def __missing__(self, key):  # a placeholder without a value renders empty, never fails
        return ""


def check_template(event: str, channel: str, text: str, template_code: str,
                   param_map: str) -> None:
    if event not in EVENTS or channel not in EVENTS[event].channels:
        raise ValidationError(_l("Unknown message."), "event")
    text = (text or "").strip()
    if not text:
        raise ValidationError(_l("Please enter the text of the message."), "text")
    if len(text) > 500:
        raise ValidationError(_l("The text is too long (at most 500 characters)."), "text")
    known = {name for name, _ in EVENTS[event].params}
    for name in _placeholders(text):
        if name not in known:
            raise ValidationError(_l("{%(name)s} is not a parameter of this message. "
                                     "Use: %(known)s.", name=name,
                                     known=", ".join(f"{{{k}}}" for k in sorted(known))
                                     or "—"), "text")
    if len(template_code or "") > 64:
        raise ValidationError(_l("The template code is too long."), "template_code")
    parse_param_map(event, param_map or "")


def _provider_fields(channel: str, template_code: str, param_map: str) -> tuple[str, str]:
    """In-app messages are shown as written: they have no provider template."""
    if channel == Channel.INAPP:
        return "", ""
    return template_code or "", param_map or ""


def save_template(event: str, channel: str, text: str, template_code: str, param_map: str,
                  actor) -> Template:
    template_code, param_map = _provider_fields(channel, template_code, param_map)
    check_template(event, channel, text, template_code, param_map)
    row = db.session.scalar(select(MessageTemplate).where(
        MessageTemplate.event == event, MessageTemplate.channel == channel))
    if row is None:
        row = MessageTemplate(event=event, channel=channel)
        db.session.add(row)
    row.text = text.strip()
    row.template_code = (template_code or "").strip()
    row.param_map = "\n".join(f"{var}={param}"
                              for var, param in parse_param_map(event, param_map or ""))
    row.updated_by_id = getattr(actor, "id", None)
    db.session.commit()
    return get_template(event, channel)


def reset_template(event: str, channel: str) -> None:
    row = db.session.scalar(select(MessageTemplate).where(
        MessageTemplate.event == event, MessageTemplate.channel == channel))
    if row is not None:
        db.session.delete(row)
        db.session.commit()


def provider_params(event: str, param_map: str, params: dict, text: str) -> list[tuple]:
    values = {**{key: str(value) for key, value in params.items()}, TEXT_PARAM: text}
    return [(var, values.get(param, "")) for var, param in parse_param_map(event, param_map)]


def preview(event: str, channel: str, text: str, template_code: str, param_map: str) -> dict:
    """What the message looks like with sample values, and what the provider is sent."""
    template_code, param_map = _provider_fields(channel, template_code, param_map)
    check_template(event, channel, text, template_code, param_map)
    samples = dict(EVENTS[event].params)
    body = render(text, samples)
    pairs = provider_params(event, param_map, samples, body)
    return {"text": body, "template_code": template_code, "params": pairs}


# ---- the outbox ------------------------------------------------------------------------

def write_message(event: str, channel: str, recipient: str, params: dict | None = None, *,
                  user_id: int | None = None, body: str | None = None) -> Message:
    """Add one outbox row to the current transaction and schedule its delivery.

    The text is rendered now from the event's template, so the log and the in-app list
    show exactly what was meant; the provider template is looked up at sending time, so a
    template fixed in the back office applies to a "retry now"."""
    from app.jobs import enqueue
    from app.jobs.messages import deliver_message

    if channel not in Channel.ALL:
        raise ValueError(f"unknown channel {channel!r}")
    params = {key: str(value) for key, value in (params or {}).items()}
    if body is None:
        spec = EVENTS.get(event)
        body = render(get_template(event, channel).text, params,
                      fallback=spec.text if spec else "")
    # due_at empty means "now" (the claim then needs no clock agreement between hosts).
    message = Message(event=event, channel=channel, recipient=str(recipient), body=body,
                      user_id=user_id, template=event, params=params,
                      status=MessageStatus.PENDING, due_at=None)
    db.session.add(message)
    db.session.flush()
    enqueue(deliver_message, message.id)
    return message


def outgoing_for(message: Message):
    """The provider's view of a message (the template as it is configured now)."""
    from app.jobs.providers import Outgoing

    template = get_template(message.event, message.channel)
    pairs = (provider_params(message.event, template.param_map, message.params or {},
                             message.body) if message.event in EVENTS else [])
    return Outgoing(message_id=message.id, recipient=message.recipient, text=message.body,
                    template_code=template.template_code, params=pairs, event=message.event)


def retry_message(message: Message, actor, *, confirmed: bool = False) -> Message:
    """A person resends a failed or uncertain message (the only way an uncertain one is).

    An uncertain message may already have arrived, so it is resent only when the person
    confirms they checked (`confirmed`). One conditional UPDATE: two people pressing at
    once, or a job finishing meanwhile, give one resend."""
    from app.jobs import enqueue
    from app.jobs.messages import deliver_message

    if message.status not in MessageStatus.RETRYABLE_BY_HAND:
        raise ValidationError(_l("Only failed or uncertain messages can be sent again."),
                              "status")
    if message.status == MessageStatus.UNCERTAIN and not confirmed:
        raise ValidationError(_l("This message may already have arrived. Tick the box to "
                                 "confirm you checked with the recipient before sending it "
                                 "again."), "confirm")
    changed = db.session.execute(
        update(Message)
        .where(Message.id == message.id, Message.status == message.status)
        .values(status=MessageStatus.PENDING, attempts=0, due_at=None, claimed_at=None,
                updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        db.session.rollback()
        raise ValidationError(_l("Someone else has just sent this message again."), "status")
    enqueue(deliver_message, message.id)
    db.session.commit()
    db.session.refresh(message)
    return message


# ---- secrets (a verification code) -------------------------------------------------------

SECRET_MASK = "******"  # noqa: S105  (what a code is shown as, not a password)


def _secret_values(message: Message) -> list[str]:
    spec = EVENTS.get(message.event)
    params = message.params or {}
    return [str(params[name]) for name in (spec.secret if spec else ())
            if params.get(name) and params[name] != SECRET_MASK]


def shown(message: Message, reveal: bool) -> tuple[str, dict]:
    """(body, params) as the message log shows them: a secret (a verification code) only
    to a person allowed to read it (`reveal`), masked for everyone else."""
    body, params = message.body or "", dict(message.params or {})
    if reveal:
        return body, params
    for value in _secret_values(message):
        body = body.replace(value, SECRET_MASK)
    spec = EVENTS.get(message.event)
    for name in spec.secret if spec else ():
        if name in params:
            params[name] = SECRET_MASK
    return body, params


def may_read_secrets(user) -> bool:
    """Whether the log shows `user` a code unmasked: the `can_read_codes` permission,
    Admin's alone (the embedded `log` provider sends nothing, so that is how one signs up
    on a demo); customer service could otherwise take over an account by asking for a
    password reset and reading its code."""
    from app.platform.accounts import can

    return can(user, "can_read_codes", "MessageLogView")


def forget_secrets(message: Message) -> None:
    """Once a gateway has accepted it, a message keeps no secret: nobody needs it again."""
    values = _secret_values(message)
    if not values:
        return
    body, params = shown(message, reveal=False)
    message.body, message.params = body, params


def secret_events() -> list[str]:
    return [event for event, spec in EVENTS.items() if spec.secret]


# ---- who is told what ------------------------------------------------------------------

def tell_customer(event: str, member, params: dict | None = None, *,
                  account_news: bool = False) -> None:
    """Order news: WeChat when the customer has an openid, else SMS; always in-app.
    Account news (approved, rejected) always goes by SMS, as the brief asks."""
    phone = member.phone or member.user.username
    if customer_channel(member, account_news=account_news) == Channel.WECHAT:
        write_message(event, Channel.WECHAT, member.wechat_openid, params,
                      user_id=member.user_id)
    else:
        write_message(event, Channel.SMS, phone, params, user_id=member.user_id)
    write_message(event, Channel.INAPP, str(member.user_id), params, user_id=member.user_id)


def customer_channel(member, *, account_news: bool = False) -> str:
    """WeChat or SMS for one customer's news. WeChat needs an openid, and is passed over
    while only SMS has a real gateway (WeChat on `log` would reach nobody)."""
    from app.jobs.providers import provider_name

    if account_news or not member.wechat_openid:
        return Channel.SMS
    if provider_name(Channel.WECHAT) == "log" and provider_name(Channel.SMS) != "log":
        return Channel.SMS
    return Channel.WECHAT


def fall_back(message: Message) -> Message | None:
    """A WeChat message refused for good (no subscription, unknown openid, bad template)
    goes to the customer by SMS instead, once. Called in the transaction that marks it
    failed; returns the SMS written, if any."""
    from app.models import Member

    if message.channel != Channel.WECHAT or message.user_id is None:
        return None
    later_sms = db.session.scalars(select(Message.params).where(
        Message.user_id == message.user_id, Message.event == message.event,
        Message.channel == Channel.SMS, Message.id > message.id)).all()
    if any((params or {}).get("_fallback_of") == str(message.id) for params in later_sms):
        return None  # a person retried the WeChat message and it failed again
    member = db.session.scalar(select(Member).where(Member.user_id == message.user_id))
    phone = member and (member.phone or member.user.username)
    if not phone:
        return None
    return write_message(message.event, Channel.SMS, phone,
                         {**(message.params or {}), "_fallback_of": str(message.id)},
                         user_id=message.user_id)


def send_code(phone: str, code: str) -> None:
    write_message("sms_code", Channel.SMS, phone, {"code": code})


def tell_phone_already_registered(phone: str) -> None:
    write_message("account_exists", Channel.SMS, phone)


def member_approved(member) -> None:
    tell_customer("member_approved", member, account_news=True)


def member_rejected(member, reason: str) -> None:
    tell_customer("member_rejected", member, {"reason": reason}, account_news=True)


def new_order_recipients(order) -> list[tuple[str, int | None]]:
    """(phone, user id) of whom a new order alerts: the customer's own salesman when they
    serve the order's region, otherwise every salesman of the region, otherwise
    customer service (the phone in basic settings)."""
    from app.platform.settings import get_settings
    from app.services.staff import salesmen_of_region

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
            write_message(event, Channel.SMS, phone, params, user_id=user_id)
    elif event == "driver_assigned":
        driver = order.driver
        write_message(event, Channel.SMS, driver.phone, params, user_id=driver.user_id)
    elif event in EVENTS:
        tell_customer(event, order.member, params)
    else:
        raise ValueError(f"unknown order event {event!r}")
