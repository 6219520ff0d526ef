"""财务 · 微信支付退款: money that goes back through WeChat Pay and needs someone's eyes.

Two lists of the orders this person may see (payments.wechat_pay.refunds.for_finance):
refunds WeChat refused, closed or could not pay back (to settle another way), and the
automatic refunds of payments that arrived for a closed or already paid order. The
rules and the sending are in app/payments/wechat_pay/; this view only shows them.
"""

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_login import current_user

from app.payments.wechat_pay import gateway, refunds
from app.payments.wechat_pay.labels import AUTO_REASON_LABELS, REFUND_STATE_LABELS
from app.payments.wechat_pay.models import RefundKind
from app.platform import accounts
from app.platform.errors import DomainError, NotFound

LIMIT = 100  # newest first; older ones are settled history


class WeChatPayRefundView(BaseView):
    route_base = "/admin/wechat-pay"
    default_view = "list"
    base_permissions = ["can_list", "can_settle"]

    @expose("/")
    @has_access
    def list(self):
        return self.render_template(
            "admin/payments/wechat_pay_refunds.html", title=_("WeChat Pay refunds"),
            attention=refunds.for_finance(current_user, needing_a_person=True, limit=LIMIT),
            automatic=refunds.for_finance(current_user, needing_a_person=False, limit=LIMIT),
            limit=LIMIT, configured=gateway.configured(), fen=gateway.from_fen,
            state_labels=REFUND_STATE_LABELS, reason_labels=AUTO_REASON_LABELS,
            on_the_order=RefundKind.ON_THE_ORDER,
            can_open_orders=accounts.can(current_user, "can_show", "OrderListView"),
            can_settle=accounts.can(current_user, "can_settle", "WeChatPayRefundView"))

    @expose("/settle/<int:refund_id>", methods=["POST"])
    @has_access
    @permission_name("settle")
    def settle(self, refund_id):
        """An automatic refund WeChat did not pay back, given back another way."""
        try:
            refunds.settle_by_hand(current_user, refund_id, request.form.get("note"))
        except NotFound:
            raise
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(_("Recorded: the money went back to the payer another way."), "success")
        return redirect(url_for("WeChatPayRefundView.list"))
