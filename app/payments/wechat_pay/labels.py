"""The words for WeChat Pay's refund states and reasons (the back office's list)."""

from flask_babel import lazy_gettext as _l

from app.payments.wechat_pay.models import AutoReason, RefundState

REFUND_STATE_LABELS = {
    RefundState.PENDING: _l("To be sent to WeChat"),
    RefundState.PROCESSING: _l("WeChat is refunding"),
    RefundState.SUCCESS: _l("Refunded"),
    RefundState.CLOSED: _l("Closed by WeChat, not refunded"),
    RefundState.ABNORMAL: _l("WeChat could not pay it back"),
    RefundState.FAILED: _l("Refused by WeChat"),
    RefundState.SETTLED: _l("Settled another way"),
}
AUTO_REASON_LABELS = {
    AutoReason.ORDER_CLOSED: _l("Paid after the order was closed"),
    AutoReason.ALREADY_PAID: _l("The order was already paid"),
    AutoReason.CLOSED_AFTER_PAYMENT: _l("The order was closed after it was paid"),
}
