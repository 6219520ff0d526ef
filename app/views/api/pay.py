"""WeChat Pay over the API: the mini program's wx.requestPayment parameters for one of
my orders, and asking WeChat whether it is paid. Each route is one call of
payments.wechat_pay.prepay; the order is the signed-in customer's own (scope.own_order)."""

from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.ordering.states import PaymentStatus
from app.payments.wechat_pay import prepay
from app.payments.wechat_pay.models import Channel
from app.views.api.order_shapes import money

blp = Blueprint("api_pay", __name__, description="WeChat Pay for my orders (mini program)")
SECURED = [{"bearer": []}]


class RequestPaymentSchema(Schema):
    """Pass timeStamp, nonceStr, package, signType and paySign to wx.requestPayment as
    they are."""

    timeStamp = fields.String(required=True)  # WeChat's names, as wx.requestPayment takes them
    nonceStr = fields.String(required=True)
    package = fields.String(required=True, metadata={"example": "prepay_id=wx2017..."})
    signType = fields.String(required=True, metadata={"example": "RSA"})
    paySign = fields.String(required=True)
    out_trade_no = fields.String(required=True, metadata={
        "description": "our number of this payment attempt"})
    amount = money(required=True, metadata={"description": "what this payment pays, in yuan"})


class PaidSchema(Schema):
    paid = fields.Boolean(required=True)
    payment_status = fields.String(required=True)


@blp.route("/orders/<order_no>/wechat-pay")
class WeChatPayment(MethodView):
    @jwt_required()
    @blp.response(200, RequestPaymentSchema)
    @blp.doc(security=SECURED)
    def post(self, order_no):
        """Start (or resume) paying one of my online-payment orders in the mini program:
        needs my WeChat sign-in in the mini program; 503 payment_not_configured /
        payment_unavailable when WeChat Pay is not set up or not answering."""
        started = prepay.prepay(current_user, order_no, Channel.MINIPROGRAM)
        return {**started.params, "out_trade_no": started.attempt.out_trade_no,
                "amount": started.amount}


@blp.route("/orders/<order_no>/wechat-pay/check")
class WeChatPaymentCheck(MethodView):
    @jwt_required()
    @blp.response(200, PaidSchema)
    @blp.doc(security=SECURED)
    def post(self, order_no):
        """After wx.requestPayment succeeded: ask WeChat now instead of waiting for its
        notification; answers whether the order is paid."""
        order = prepay.check(current_user, order_no)
        return {"paid": order.payment_status == PaymentStatus.PAID,
                "payment_status": order.payment_status}
