"""财务 · 微信支付退款: money that goes back through WeChat Pay and needs someone's eyes.

Two lists of the orders this person may see (payments.wechat_pay.refunds.for_finance):
refunds WeChat refused, closed or could not pay back (to settle another way), and the
automatic refunds of payments that arrived for a closed or already paid order. The
rules and the sending are in app/payments/wechat_pay/; this view only shows them.
"""

from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_login import current_user

from app.payments.wechat_pay import gateway, refunds
from app.payments.wechat_pay.labels import AUTO_REASON_LABELS, REFUND_STATE_LABELS
from app.platform import accounts

LIMIT = 100  # newest first; older ones are settled history


class WeChatPayRefundView(BaseView):
    route_base = "/admin/wechat-pay"
    default_view = "list"
    base_permissions = ["can_list"]

    @expose("/")
    @has_access
    def list(self):
        return self.render_template(
            "admin/payments/wechat_pay_refunds.html", title=_("WeChat Pay refunds"),
            attention=refunds.for_finance(current_user, needing_a_person=True, limit=LIMIT),
            automatic=refunds.for_finance(current_user, needing_a_person=False, limit=LIMIT),
            limit=LIMIT, configured=gateway.configured(), fen=gateway.from_fen,
            state_labels=REFUND_STATE_LABELS, reason_labels=AUTO_REASON_LABELS,
            can_open_orders=accounts.can(current_user, "can_show", "OrderListView"))
