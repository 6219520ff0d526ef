"""WeChat Pay (API v3, wechatpayv3): 在线支付 for orders whose payment method is online.

- prepay.py: 统一下单 for the mini program (JSAPI), WeChat's browser (JSAPI) and a QR
  code elsewhere (Native); the signed parameters that start the payment.
- notify.py: WeChat's payment and refund notifications, verified (timestamp, signature,
  decryption), recorded once, checked against our attempt.
- settlement.py: a paid attempt becomes the order's payment through the workflow's
  `pay_online` action; a payment for a closed or already paid order goes back.
- refunds.py: approved refunds and automatic ones through WeChat's refund API.
- tasks.py: closing prepays, asking WeChat about what no notification told us, the
  periodic task (`reconcile`).
- hooks.py: the workflow's guards and effects (online_payment_ok,
  record_online_payment, online_refund_ok, start_online_refund, close_wechat_prepay),
  registered when this package is imported (with its models, by create_app).
- gateway.py: settings (WECHATPAY_*), the client, money in fen.
"""

from app.payments.wechat_pay import hooks  # noqa: F401  (registers the guards and effects)
