"""The messages Pifa sends: each event's name, parameters, default wording and channels.

Pure data, read by templates, the outbox and the message log. Who is told of what is
decided by the domain whose event it is (ordering/notify.py for orders, members for
account news); how a customer is reached (WeChat or SMS) by outbox.customer_route.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.messaging.models import Channel


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
    "voucher_uploaded": EventSpec(
        _l("Transfer voucher uploaded (to salesmen or customer service)"), (_ORDER_NO,),
        "订单{order_no}的客户上传了付款凭证，请尽快核对确认收款。", (Channel.SMS,)),
    "voucher_confirmed": EventSpec(
        _l("Transfer confirmed"), (_ORDER_NO, ("amount", "1280.00")),
        "您的订单{order_no}付款¥{amount}已确认收到，感谢您的惠顾。", _CUSTOMER),
    "voucher_rejected": EventSpec(
        _l("Transfer voucher refused"), (_ORDER_NO, ("reason", "金额与转账记录不符")),
        "您的订单{order_no}付款凭证未通过，原因：{reason}。请核对后重新上传。", _CUSTOMER),
}

CHANNEL_LABELS = {Channel.SMS: _l("SMS"), Channel.WECHAT: _l("WeChat"),
                  Channel.INAPP: _l("In-app")}
TEXT_PARAM = "text"  # a provider variable may carry the whole rendered text


def secret_events() -> list[str]:
    return [event for event, spec in EVENTS.items() if spec.secret]
