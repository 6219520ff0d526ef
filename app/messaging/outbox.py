"""The outbox: every message is first a row written in the transaction of the change that
causes it; its delivery job (messaging/jobs.py, enqueued by dotted path) runs after that
commit. Nothing here commits except a person's retry.

How a customer is reached: order news by WeChat when we may (customer_route: an identity
in the sending app and, for a mini-program subscribe message, an unused acceptance),
otherwise SMS, and always in the in-app list on "我的"; account news by SMS and in-app; a
WeChat message refused for good falls back to one SMS. Each message keeps why (`route`).
"""

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.extensions import db
from app.jobs import enqueue
from app.messaging import consent
from app.messaging.events import EVENTS
from app.messaging.models import Channel, Message, MessageStatus
from app.messaging.providers import Outgoing, provider_name
from app.messaging.templates import get_template, provider_params, render
from app.platform import wechat
from app.platform.accounts import can
from app.platform.errors import ValidationError
from app.platform.time import utcnow
from app.platform.transactions import atomic

DELIVER = "app.messaging.jobs.deliver_message"  # enqueued by path: jobs import this module
FALLBACK_PHONE = "_sms_phone"  # a WeChat message's customer phone, for the SMS fallback


def write_message(event: str, channel: str, recipient: str, params: dict | None = None, *,
                  user_id: int | None = None, body: str | None = None,
                  route: str | None = None) -> Message:
    """Add one outbox row to the current transaction and schedule its delivery.

    The text is rendered now from the event's template, so the log and the in-app list
    show exactly what was meant; the provider template is looked up at sending time, so a
    template fixed in the back office applies to a "retry now"."""
    if channel not in Channel.ALL:
        raise ValueError(f"unknown channel {channel!r}")
    params = {key: str(value) for key, value in (params or {}).items()}
    if body is None:
        spec = EVENTS.get(event)
        body = render(get_template(event, channel).text, params,
                      fallback=spec.text if spec else "")
    # due_at empty means "now" (the claim then needs no clock agreement between hosts).
    message = Message(event=event, channel=channel, recipient=str(recipient), body=body,
                      user_id=user_id, template=event, params=params, route=route,
                      status=MessageStatus.PENDING, due_at=None)
    db.session.add(message)
    db.session.flush()
    enqueue(DELIVER, message.id)
    return message


def outgoing_for(message: Message):
    """The provider's view of a message (the template as it is configured now)."""
    template = get_template(message.event, message.channel)
    pairs = (provider_params(message.event, template.param_map, message.params or {},
                             message.body) if message.event in EVENTS else [])
    return Outgoing(message_id=message.id, recipient=message.recipient, text=message.body,
                    template_code=template.template_code, params=pairs, event=message.event)


@atomic
def retry_message(message: Message, actor, *, confirmed: bool = False) -> Message:
    """A person resends a failed or uncertain message (the only way an uncertain one is).

    An uncertain message may already have arrived, so it is resent only when the person
    confirms they checked (`confirmed`). One conditional UPDATE: two people pressing at
    once, or a job finishing meanwhile, give one resend."""
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
    enqueue(DELIVER, message.id)
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
    return can(user, "can_read_codes", "MessageLogView")


def forget_secrets(message: Message) -> None:
    """Once a gateway has accepted it, a message keeps no secret: nobody needs it again."""
    values = _secret_values(message)
    if not values:
        return
    body, params = shown(message, reveal=False)
    message.body, message.params = body, params


# Why a customer's news went by WeChat or by SMS: kept on the message, shown in the log.
ROUTES = {
    "wechat_subscribed": _l("WeChat: the customer accepted this message in the mini program "
                            "(one acceptance used)"),
    "wechat_follower": _l("WeChat: official-account template message"),
    "sms_account_news": _l("SMS: account news always goes by SMS"),
    "sms_no_wechat": _l("SMS: the customer has no WeChat identity in our app"),
    "sms_no_acceptance": _l("SMS: no unused acceptance of this WeChat message is left"),
    "sms_wechat_not_set_up": _l("SMS: WeChat messages are not set up (only SMS has a "
                                "gateway)"),
    "sms_no_wechat_template": _l("SMS: this message has no WeChat template id"),
    "sms_fallback": _l("SMS: WeChat refused the message, so it went by SMS instead"),
}


def tell_customer(event: str, member, params: dict | None = None, *,
                  account_news: bool = False) -> None:
    """Order news by WeChat when we may (customer_route), else SMS; always in-app.
    Account news (approved, rejected) always goes by SMS, as the brief asks."""
    phone = member.phone or member.user.username
    channel, openid, route = customer_route(event, member, account_news=account_news)
    if channel == Channel.WECHAT:
        acceptance = None
        if route == "wechat_subscribed":
            template_id = get_template(event, Channel.WECHAT).template_code
            acceptance = consent.spend(member.user_id, template_id)
            if acceptance is None:  # spent meanwhile by another message
                channel, route = Channel.SMS, "sms_no_acceptance"
        if channel == Channel.WECHAT:
            message = write_message(event, Channel.WECHAT, openid,
                                    {**(params or {}), FALLBACK_PHONE: phone},
                                    user_id=member.user_id, route=route)
            if acceptance is not None:
                acceptance.message_id = message.id
    if channel == Channel.SMS:
        write_message(event, Channel.SMS, phone, params, user_id=member.user_id, route=route)
    write_message(event, Channel.INAPP, str(member.user_id), params, user_id=member.user_id)


def customer_route(event: str, member, *, account_news: bool = False):
    """(channel, openid, route) for one customer's news. WeChat needs the customer's
    identity in the app that sends (the mini program for subscribe messages, the official
    account for template messages), a WeChat template id, and for a subscribe message an
    unused acceptance of it; and it is passed over while only SMS has a real gateway
    (WeChat on `log` would reach nobody). The acceptance is spent by tell_customer."""
    if account_news:
        return Channel.SMS, None, "sms_account_news"
    if provider_name(Channel.WECHAT) == "log" and provider_name(Channel.SMS) != "log":
        return Channel.SMS, None, "sms_wechat_not_set_up"
    subscribe = (current_app.config.get("WECHAT_MESSAGE_KIND") or "subscribe") == "subscribe"
    openid = wechat.openid_for(member.user_id,
                               wechat.MINIPROGRAM if subscribe else wechat.OFFICIAL)
    if not openid:
        return Channel.SMS, None, "sms_no_wechat"
    template_id = get_template(event, Channel.WECHAT).template_code
    if not template_id:
        return Channel.SMS, None, "sms_no_wechat_template"
    if not subscribe:
        return Channel.WECHAT, openid, "wechat_follower"
    if consent.unused(member.user_id, template_id) == 0:
        return Channel.SMS, None, "sms_no_acceptance"
    return Channel.WECHAT, openid, "wechat_subscribed"


def fall_back(message: Message) -> Message | None:
    """A WeChat message refused for good (no subscription, unknown openid, bad template)
    goes to the customer by SMS instead, once. Called in the transaction that marks it
    failed; returns the SMS written, if any."""
    if message.channel != Channel.WECHAT or message.user_id is None:
        return None
    later_sms = db.session.scalars(select(Message.params).where(
        Message.user_id == message.user_id, Message.event == message.event,
        Message.channel == Channel.SMS, Message.id > message.id)).all()
    if any((params or {}).get("_fallback_of") == str(message.id) for params in later_sms):
        return None  # a person retried the WeChat message and it failed again
    params = dict(message.params or {})
    phone = params.pop(FALLBACK_PHONE, None) or _account_mobile(message.user_id)
    if not phone:
        return None
    return write_message(message.event, Channel.SMS, phone,
                         {**params, "_fallback_of": str(message.id)}, user_id=message.user_id,
                         route="sms_fallback")


def _account_mobile(user_id: int) -> str | None:
    """The sign-in mobile of an account (a WeChat message written before the phone was
    kept with it)."""
    user = current_app.appbuilder.sm.get_user_by_id(user_id)
    return user.username if user is not None else None


def send_code(phone: str, code: str) -> None:
    write_message("sms_code", Channel.SMS, phone, {"code": code})


def tell_phone_already_registered(phone: str) -> None:
    write_message("account_exists", Channel.SMS, phone)
