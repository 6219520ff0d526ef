"""Who is told what and how; templates; delivery outcomes (inline jobs, stand-in gateways).

Sends are counted at the stand-ins. Redis-backed worker faults: test_delivery_faults.py.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.members import services as members
from app.members import wechat_accounts
from app.members.models import Member
from app.messaging import consent, events, outbox, templates
from app.messaging.jobs import GAVE_UP, NO_ANSWER, backoff, sweep_pending_messages
from app.messaging.models import (
    Channel,
    Message,
    MessageStatus,
    MessageTemplate,
    SubscribeAcceptance,
)
from app.ordering import workflow
from app.platform import wechat as platform_wechat
from app.platform.errors import ValidationError
from app.platform.time import utcnow
from tests.order_factory import World
from tests.standins.tencent_sms import TencentSmsStandIn
from tests.standins.wechat import WeChatStandIn


@pytest.fixture
def world(app, make):
    with app.app_context():
        return World(app, make)


def _messages(**where):
    query = select(Message).order_by(Message.id)
    for key, value in where.items():
        query = query.where(getattr(Message, key) == value)
    return db.session.scalars(query).all()


# ---- recipients and channels -------------------------------------------------------------

def test_customer_without_openid_hears_of_confirmation_by_sms_and_in_app(app, world, ctx):
    order = world.order("pending")
    workflow.apply(order, "confirm", world.user(world.salesman))
    sent = {(m.channel, m.recipient) for m in _messages(event="order_confirmed")}
    assert sent == {(Channel.SMS, world.customer.mobile),
                    (Channel.INAPP, str(world.customer.user_id))}
    sms = _messages(event="order_confirmed", channel=Channel.SMS)[0]
    assert sms.body == f"订单确认通知：您的订单{order.order_no}已确认，我们会尽快为您发货。"


MINI_APP = "wxpifa-mini-0001"


def _on_wechat(app, monkeypatch, member_ref, openid, *, accepted=0, template="TPL-CONFIRM",
               appid=MINI_APP, secret="mini-secret"):  # noqa: S107
    """The customer signed in with the mini program and accepted `accepted` times the
    WeChat template of order_confirmed."""
    monkeypatch.setitem(app.config, "WECHAT_MINIPROGRAM_APP_ID", appid)
    monkeypatch.setitem(app.config, "WECHAT_MINIPROGRAM_APP_SECRET", secret)
    if not templates.get_template("order_confirmed", Channel.WECHAT).template_code:
        templates.save_template("order_confirmed", Channel.WECHAT, "订单{order_no}已确认",
                                template, "character_string1=order_no\nthing2=text",
                                actor=None)
    member = db.session.get(Member, member_ref.id)
    platform_wechat.remember(member.user_id, platform_wechat.Login(appid, openid, None),
                             platform_wechat.MINIPROGRAM)
    for _ in range(accepted):
        consent.record(member.user_id, {template: "accept"})
    db.session.commit()
    return member


def test_an_accepted_subscription_sends_by_wechat_once_then_sms(app, world, ctx,
                                                                monkeypatch):
    _on_wechat(app, monkeypatch, world.customer, "oPifa-customer-1", accepted=1)
    first, second = world.order("pending"), world.order("pending")
    workflow.apply(first, "confirm", world.user(world.salesman))
    workflow.apply(second, "confirm", world.user(world.salesman))

    sent = [(m.channel, m.recipient, m.route) for m in _messages(event="order_confirmed")
            if m.channel != Channel.INAPP]
    assert sent == [(Channel.WECHAT, "oPifa-customer-1", "wechat_subscribed"),
                    (Channel.SMS, world.customer.mobile, "sms_no_acceptance")]
    assert consent.unused(world.customer.user_id, "TPL-CONFIRM") == 0
    wechat_message = _messages(event="order_confirmed", channel=Channel.WECHAT)[0]
    spent = db.session.scalar(select(SubscribeAcceptance))
    assert spent.used_at is not None and spent.message_id == wechat_message.id
    assert len(_messages(event="order_confirmed", channel=Channel.INAPP)) == 2


def test_acceptances_are_recorded_for_our_templates_only(app, world, ctx, monkeypatch):
    member = _on_wechat(app, monkeypatch, world.customer, "oPifa-customer-1")
    left = consent.record(member.user_id, {"TPL-CONFIRM": "accept"})
    assert left == {"TPL-CONFIRM": 1}
    assert consent.record(member.user_id, {"TPL-CONFIRM": "reject"}) == {"TPL-CONFIRM": 1}
    with pytest.raises(ValidationError):
        consent.record(member.user_id, {"TPL-SOMEONE-ELSES": "accept"})
    with pytest.raises(ValidationError):
        consent.record(member.user_id, {})
    for _ in range(consent.MAX_UNUSED + 5):
        consent.record(member.user_id, {"TPL-CONFIRM": "accept"})
    assert consent.unused(member.user_id, "TPL-CONFIRM") == consent.MAX_UNUSED


def test_customer_route_says_why(app, world, ctx, monkeypatch):
    member = db.session.get(Member, world.customer.id)
    assert outbox.customer_route("order_confirmed", member)[2] == "sms_no_wechat"
    member = _on_wechat(app, monkeypatch, world.customer, "oPifa-customer-1")
    assert outbox.customer_route("order_confirmed", member)[2] == "sms_no_acceptance"
    consent.record(member.user_id, {"TPL-CONFIRM": "accept"})
    assert outbox.customer_route("order_confirmed", member) == (
        Channel.WECHAT, "oPifa-customer-1", "wechat_subscribed")
    assert outbox.customer_route("order_confirmed", member, account_news=True)[2] == \
        "sms_account_news"
    # An official-account template message needs the official-account identity instead.
    monkeypatch.setitem(app.config, "WECHAT_MESSAGE_KIND", "template")
    assert outbox.customer_route("order_confirmed", member)[2] == "sms_no_wechat"
    monkeypatch.setitem(app.config, "WECHAT_OFFICIAL_APP_ID", "wxpifa-official")
    monkeypatch.setitem(app.config, "WECHAT_OFFICIAL_APP_SECRET", "official-secret")
    platform_wechat.remember(member.user_id, platform_wechat.Login(
        "wxpifa-official", "oOfficial-1", None), platform_wechat.OFFICIAL)
    assert outbox.customer_route("order_confirmed", member) == (
        Channel.WECHAT, "oOfficial-1", "wechat_follower")


def test_unbound_identity_gets_no_wechat(app, world, ctx, monkeypatch):
    member = _on_wechat(app, monkeypatch, world.customer, "oPifa-customer-1", accepted=1)
    [identity] = wechat_accounts.bound_identities(member.user_id)
    wechat_accounts.unbind(member.user, identity["id"])
    assert outbox.customer_route("order_confirmed", member)[2] == "sms_no_wechat"
    assert wechat_accounts.bound_identities(member.user_id) == []


def test_openid_is_passed_over_while_only_sms_has_a_real_gateway(app, world, ctx,
                                                                 monkeypatch):
    member = _on_wechat(app, monkeypatch, world.customer, "oPifa-customer-1", accepted=1)
    monkeypatch.setitem(app.config, "SMS_PROVIDER", "tencent")
    monkeypatch.setitem(app.config, "WECHAT_PROVIDER", "log")
    assert outbox.customer_route("order_confirmed", member)[:1] == (Channel.SMS,)
    monkeypatch.setitem(app.config, "WECHAT_PROVIDER", "wechat")
    assert outbox.customer_route("order_confirmed", member)[0] == Channel.WECHAT


def test_driver_and_customer_are_told_of_the_assignment(app, world, ctx):
    order = world.order("confirmed")
    workflow.apply(order, "assign_driver", world.user(world.salesman),
                   driver_id=world.driver.id)
    driver_sms = _messages(event="driver_assigned")
    assert [(m.channel, m.recipient) for m in driver_sms] == [(Channel.SMS,
                                                               world.driver.mobile)]
    assert driver_sms[0].body == f"您的订单{order.order_no}待送货，请及时办理出库和送货。"
    customer = {m.channel for m in _messages(event="order_shipping")}
    assert customer == {Channel.SMS, Channel.INAPP}


def test_account_news_goes_by_sms_even_with_an_openid(app, make, ctx, monkeypatch):
    ref = make.member(status="pending")
    member = _on_wechat(app, monkeypatch, ref, "oPifa-member-2", accepted=1)
    members.reject(member, "照片不清晰", world_admin(app, make))
    rows = _messages(event="member_rejected")
    assert {m.channel for m in rows} == {Channel.SMS, Channel.INAPP}
    assert rows[0].body == "您的账号审核未通过，原因：照片不清晰。请修改资料后重新提交。"


def world_admin(app, make):
    ref = make.user("Admin")
    return app.appbuilder.sm.get_user_by_id(ref.user_id)


# ---- templates ---------------------------------------------------------------------------

def test_an_edited_template_words_new_messages(app, world, ctx):
    templates.save_template("order_confirmed", Channel.SMS, "【批发】{order_no}已确认",
                            "SMS_1", "order_no", actor=None)
    order = world.order("pending")
    workflow.apply(order, "confirm", world.user(world.salesman))
    sms = _messages(event="order_confirmed", channel=Channel.SMS)[0]
    assert sms.body == f"【批发】{order.order_no}已确认"
    inapp = _messages(event="order_confirmed", channel=Channel.INAPP)[0]
    assert inapp.body.startswith("订单确认通知")  # the in-app template was not changed
    templates.reset_template("order_confirmed", Channel.SMS)
    assert templates.get_template("order_confirmed", Channel.SMS).saved is False


@pytest.mark.parametrize("text, param_map, field", [
    ("您的订单{order}已确认", "", "text"),  # not a parameter of this event
    ("您的订单{order_no已确认", "", "text"),  # unmatched brace
    ("", "", "text"),
    ("您的订单{order_no}已确认", "no=amount", "param_map"),  # amount is not a parameter
    ("您的订单{order_no}已确认", "bad name=order_no", "param_map"),
    ("您的订单{order_no:d}已确认", "", "text"),  # a format would fail on a text value
    ("您的订单{order_no!r}已确认", "", "text"),
    ("您的订单{order_no.upper}已确认", "", "text"),
])
def test_a_bad_template_is_refused_and_nothing_is_saved(app, ctx, text, param_map, field):
    with pytest.raises(ValidationError) as refused:
        templates.save_template("order_confirmed", Channel.SMS, text, "SMS_1", param_map,
                                actor=None)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(MessageTemplate)) is None


def test_a_template_that_cannot_be_filled_never_stops_the_change_that_sends_it(
        app, world, ctx):
    # Saved before the checks existed (or by hand): the default wording is used instead.
    db.session.add(MessageTemplate(event="order_confirmed", channel=Channel.SMS,
                                   text="订单{order_no:.2f}已确认", template_code="SMS_1",
                                   param_map="order_no=order_no"))
    db.session.commit()
    order = world.order("pending")
    workflow.apply(order, "confirm", world.user(world.salesman))
    sms = _messages(event="order_confirmed", channel=Channel.SMS)[0]
    assert sms.body == f"订单确认通知：您的订单{order.order_no}已确认，我们会尽快为您发货。"


def test_an_in_app_template_keeps_no_provider_template(app, ctx):
    saved = templates.save_template("order_confirmed", Channel.INAPP, "订单{order_no}已确认",
                                    "SMS_1", "order_no=order_no", actor=None)
    assert (saved.template_code, saved.param_map) == ("", "")
    assert templates.preview("order_confirmed", Channel.INAPP, "订单{order_no}已确认",
                             "SMS_1", "nonsense=bad")["params"] == []


def test_preview_uses_sample_values_and_shows_provider_parameters(app, ctx):
    shown = templates.preview("order_shipped", Channel.WECHAT,
                              "订单{order_no}已发货（{ship}）", "tmpl-1",
                              "character_string1=order_no\nthing2=ship\nthing3=text")
    assert shown["text"] == "订单20261125000123已发货（快递发货：顺丰 SF1234567890）"
    assert shown["params"] == [("character_string1", "20261125000123"),
                               ("thing2", "快递发货：顺丰 SF1234567890"),
                               ("thing3", shown["text"])]


# ---- delivery outcomes (inline jobs) --------------------------------------------------

@pytest.fixture
def tencent(app, monkeypatch):
    with TencentSmsStandIn(templates={"100001": 1}) as standin:
        for key, value in {"SMS_PROVIDER": "tencent", "TENCENT_SMS_ENDPOINT": standin.url,
                           "TENCENT_SMS_SECRET_ID": standin.secret_id,
                           "TENCENT_SMS_SECRET_KEY": standin.secret_key,
                           "TENCENT_SMS_SDK_APP_ID": standin.sdk_app_id,
                           "TENCENT_SMS_SIGN_NAME": "批发平台",
                           "MESSAGE_READ_TIMEOUT": 1.0}.items():
            monkeypatch.setitem(app.config, key, value)
        with app.app_context():
            templates.save_template("new_order", Channel.SMS, events.EVENTS["new_order"].text,
                                    "100001", "order_no", actor=None)
        yield standin


def _send(number="N1") -> int:
    message = outbox.write_message("new_order", Channel.SMS, "13800138000",
                                      {"order_no": number})
    db.session.commit()  # inline: delivered right after the commit
    return message.id


def _get(message_id) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message_id)


def test_accepted_message_is_sent_once_with_the_gateway_reference(app, tencent, ctx):
    message = _get(_send())
    assert message.status == MessageStatus.SENT and message.provider == "tencent"
    assert message.provider_ref and message.attempts == 1
    assert [(a["phone"], a["params"]) for a in tencent.accepted] == [("+8613800138000",
                                                                      ["N1"])]
    assert sweep_pending_messages(now=utcnow() + timedelta(hours=2)) == 0
    assert len(tencent.accepted) == 1


def test_not_sent_waits_with_backoff_and_the_sweep_sends_it_when_due(app, tencent, ctx):
    tencent.plan("throttle")
    message = _get(_send())
    assert message.status == MessageStatus.PENDING and message.attempts == 1
    assert "RequestLimitExceeded" in message.last_error
    wait = (message.due_at - utcnow()).total_seconds()
    assert 0 < wait <= app.config["MESSAGE_RETRY_BASE"]
    assert sweep_pending_messages() == 0  # not due yet
    assert tencent.accepted == []
    message.due_at = utcnow() - timedelta(seconds=app.config["MESSAGE_SWEEP_AFTER"] + 1)
    db.session.commit()
    assert sweep_pending_messages() == 1
    message = _get(message.id)
    assert message.status == MessageStatus.SENT and message.attempts == 2
    assert len(tencent.accepted) == 1


def test_after_the_last_attempt_a_not_sent_message_is_failed(app, tencent, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGE_MAX_ATTEMPTS", 2)
    tencent.plan("unavailable", "unavailable", "unavailable")
    message_id = _send()
    message = _get(message_id)
    message.due_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    sweep_pending_messages()
    message = _get(message_id)
    assert message.status == MessageStatus.FAILED and message.attempts == 2
    assert message.last_error.startswith(GAVE_UP)
    assert tencent.accepted == [] and len(tencent.requests) == 2


def test_permanent_refusal_fails_at_once_and_retry_now_sends_after_the_fix(app, tencent, ctx):
    tencent.templates.pop("100001")  # the template is not approved at the gateway
    message_id = _send()
    message = _get(message_id)
    assert message.status == MessageStatus.FAILED and message.attempts == 1
    assert "TemplateIncorrectOrUnapproved" in message.last_error
    assert sweep_pending_messages(now=utcnow() + timedelta(hours=2)) == 0
    assert len(tencent.requests) == 1
    tencent.templates["100001"] = 1  # approved now; a person resends it
    outbox.retry_message(message, actor=None)
    message = _get(message_id)
    assert message.status == MessageStatus.SENT
    assert len(tencent.accepted) == 1


def test_no_answer_is_uncertain_and_only_a_person_resends(app, tencent, ctx):
    tencent.plan(("hold", 5))
    message_id = _send()
    message = _get(message_id)
    assert message.status == MessageStatus.UNCERTAIN
    assert sweep_pending_messages(now=utcnow() + timedelta(hours=2)) == 0
    tencent.release()
    assert len(tencent.accepted) == 1
    with pytest.raises(ValidationError):  # not without saying they checked
        outbox.retry_message(message, actor=None)
    assert _get(message_id).status == MessageStatus.UNCERTAIN
    outbox.retry_message(message, actor=None, confirmed=True)  # they checked: again
    assert _get(message_id).status == MessageStatus.SENT
    assert len(tencent.accepted) == 2


def test_sent_message_cannot_be_retried(app, tencent, ctx):
    message = _get(_send())
    with pytest.raises(ValidationError):
        outbox.retry_message(message, actor=None)
    assert _get(message.id).status == MessageStatus.SENT and len(tencent.accepted) == 1


def test_a_vanished_worker_leaves_the_message_uncertain(app, ctx):
    message = outbox.write_message("new_order", Channel.SMS, "13800138000",
                                      {"order_no": "X"})
    db.session.flush()
    message.status = MessageStatus.SENDING
    message.claimed_at = utcnow() - timedelta(seconds=app.config["MESSAGE_SENDING_STALE"] + 5)
    db.session.commit()  # its job finds it claimed and leaves it
    sweep_pending_messages()
    message = _get(message.id)
    assert message.status == MessageStatus.UNCERTAIN and message.last_error == NO_ANSWER


def test_a_provider_that_raises_while_sending_leaves_the_message_uncertain(app, ctx,
                                                                          monkeypatch):
    from app.messaging.providers import log as log_provider

    def explode(outgoing, config):
        raise RuntimeError("the SDK broke after the request left")

    monkeypatch.setattr(log_provider, "send", explode)
    message = _get(_send())
    assert message.status == MessageStatus.UNCERTAIN  # it may have gone out
    assert "RuntimeError" in message.last_error and message.claimed_at is None


def test_an_attempt_whose_message_was_taken_meanwhile_writes_nothing(app, tencent, ctx):
    """A stalled job's message was marked uncertain and resent by a person; when the
    stalled attempt ends it must not overwrite what the new attempt wrote."""
    from app.messaging.jobs import _claim, _record
    from app.messaging.providers import Outcome, ProviderResult

    message = outbox.write_message("new_order", Channel.SMS, "13800138000",
                                      {"order_no": "N9"})
    message.status = MessageStatus.FAILED  # keep the inline job off it for now
    db.session.commit()
    db.session.execute(Message.__table__.update().where(Message.id == message.id)
                       .values(status=MessageStatus.PENDING))
    db.session.commit()
    stalled = _claim(message.id)
    assert stalled is not None
    sweep_pending_messages(now=utcnow() + timedelta(hours=2))  # -> uncertain
    outbox.retry_message(_get(message.id), actor=None, confirmed=True)  # sent now
    assert _get(message.id).status == MessageStatus.SENT and len(tencent.accepted) == 1
    late = _record(message.id, stalled, ProviderResult(Outcome.RETRY, "tencent", "503"),
                   app.config)
    assert late is None
    row = _get(message.id)
    assert row.status == MessageStatus.SENT and row.due_at is None
    assert len(tencent.accepted) == 1


def test_a_message_due_by_another_clock_a_moment_ahead_is_still_claimed(app, ctx):
    from app.messaging.jobs import CLOCK_TOLERANCE, deliver_message

    message = outbox.write_message("new_order", Channel.SMS, "13800138000",
                                      {"order_no": "N8"}, body="x")
    message.status = MessageStatus.FAILED  # no inline job
    db.session.commit()
    db.session.execute(Message.__table__.update().where(Message.id == message.id).values(
        status=MessageStatus.PENDING, due_at=utcnow() + timedelta(seconds=CLOCK_TOLERANCE / 2)))
    db.session.commit()
    assert deliver_message(message.id) == MessageStatus.LOGGED
    db.session.execute(Message.__table__.update().where(Message.id == message.id).values(
        status=MessageStatus.PENDING, due_at=utcnow() + timedelta(minutes=5)))
    db.session.commit()
    assert deliver_message(message.id) is None  # a backoff not over yet: left alone


def test_a_code_sent_by_a_gateway_is_not_kept(app, tencent, ctx):
    templates.save_template("sms_code", Channel.SMS, events.EVENTS["sms_code"].text,
                            "100001", "code", actor=None)
    outbox.send_code("13800138000", "386120")
    db.session.commit()
    message = _messages(event="sms_code")[0]
    assert message.status == MessageStatus.SENT
    assert tencent.accepted[0]["params"] == ["386120"]  # the gateway had it
    assert "386120" not in message.body and message.params["code"] == "******"


def test_a_logged_code_is_kept_for_the_demo_log(app, ctx):
    outbox.send_code("13800138000", "386120")
    db.session.commit()
    message = _messages(event="sms_code")[0]
    assert message.status == MessageStatus.LOGGED and "386120" in message.body
    masked = "您的验证码为******，5分钟内有效，请勿告诉他人。"
    assert outbox.shown(message, reveal=False)[0] == masked
    assert outbox.shown(message, reveal=True)[0] == message.body


def test_the_sweep_queues_a_lost_job_once_per_wait(app, tmp_path_factory):
    """With the queue slow or gone, each sweep must not pile up another job per message."""
    from tests.conftest import app_config

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    down = create_app(app_config(tmp_path_factory, DATABASE_URL=uri,
                                 REDIS_URL="redis://127.0.0.1:1/0"))
    with down.app_context():
        message = outbox.write_message("new_order", Channel.SMS, "13800138000",
                                          {"order_no": "N7"})
        db.session.commit()
        db.session.execute(Message.__table__.update().where(Message.id == message.id)
                           .values(updated_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
        assert sweep_pending_messages() == 1  # Redis refuses the job: still pending
        assert sweep_pending_messages() == 0  # a minute later: its new job may still run
        later = utcnow() + timedelta(seconds=app.config["MESSAGE_SWEEP_AFTER"] + 1)
        assert sweep_pending_messages(now=later) == 1


def test_unknown_provider_setting_fails_the_message_with_the_reason(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_PROVIDER", "pigeon")
    message = _get(_send())
    assert message.status == MessageStatus.FAILED and "pigeon" in message.last_error


def test_backoff_doubles_up_to_the_cap(app):
    config = {"MESSAGE_RETRY_BASE": 30.0, "MESSAGE_RETRY_MAX": 3600.0}
    assert [backoff(n, config) for n in (1, 2, 3, 4, 8)] == [30, 60, 120, 240, 3600]


def test_wechat_confirmation_reaches_the_gateway_with_the_template(app, world, ctx,
                                                                  monkeypatch):
    platform_wechat.reset_clients()
    with WeChatStandIn("wxpifa0001", "wechat-secret", openids={"oPifa-1"},
                       templates={"TPL-CONFIRM": {"character_string1", "thing2"}}) as wx:
        for key, value in {"WECHAT_PROVIDER": "wechat", "WECHAT_MINIPROGRAM_APP_ID": "wxpifa0001",
                           "WECHAT_MINIPROGRAM_APP_SECRET": "wechat-secret",
                           "WECHAT_API_BASE": wx.url}.items():
            monkeypatch.setitem(app.config, key, value)
        templates.save_template("order_confirmed", Channel.WECHAT, "订单{order_no}已确认",
                                "TPL-CONFIRM", "character_string1=order_no\nthing2=text",
                                actor=None)
        _on_wechat(app, monkeypatch, world.customer, "oPifa-1", accepted=1,
                   appid="wxpifa0001", secret="wechat-secret")
        order = world.order("pending")
        workflow.apply(order, "confirm", world.user(world.salesman))
        message = _messages(event="order_confirmed", channel=Channel.WECHAT)[0]
        assert message.status == MessageStatus.SENT and message.provider == "wechat"
        assert wx.accepted == [{"openid": "oPifa-1", "template": "TPL-CONFIRM",
                                "kind": "subscribe",
                                "data": {"character_string1": {"value": order.order_no},
                                         "thing2": {"value": f"订单{order.order_no}已确认"}}}]
    platform_wechat.reset_clients()


def test_wechat_refused_for_good_falls_back_to_one_sms(app, world, ctx, monkeypatch):
    platform_wechat.reset_clients()
    with WeChatStandIn("wxpifa0002", "wechat-secret", openids={"oPifa-known"},
                       templates={"TPL-CONFIRM": {"thing2"}}) as wx:
        for key, value in {"WECHAT_PROVIDER": "wechat", "WECHAT_MINIPROGRAM_APP_ID": "wxpifa0002",
                           "WECHAT_MINIPROGRAM_APP_SECRET": "wechat-secret",
                           "WECHAT_API_BASE": wx.url}.items():
            monkeypatch.setitem(app.config, key, value)
        templates.save_template("order_confirmed", Channel.WECHAT, "订单{order_no}已确认",
                                "TPL-CONFIRM", "thing2=text", actor=None)
        _on_wechat(app, monkeypatch, world.customer, "oPifa-unknown", accepted=1,
                   appid="wxpifa0002", secret="wechat-secret")
        order = world.order("pending")
        workflow.apply(order, "confirm", world.user(world.salesman))
        db.session.expire_all()
        wechat = _messages(event="order_confirmed", channel=Channel.WECHAT)
        assert [m.status for m in wechat] == [MessageStatus.FAILED]
        assert wechat[0].last_error.startswith("40003")
        sms = _messages(event="order_confirmed", channel=Channel.SMS)
        assert [(m.recipient, m.status) for m in sms] == [(world.customer.mobile,
                                                           MessageStatus.LOGGED)]
        assert sms[0].params["_fallback_of"] == str(wechat[0].id)
        assert wx.accepted == []
        outbox.retry_message(wechat[0], actor=None)  # fails again: no second SMS
        assert len(_messages(event="order_confirmed", channel=Channel.SMS)) == 1
    platform_wechat.reset_clients()
