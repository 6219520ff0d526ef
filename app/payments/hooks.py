"""What payments adds to the order workflow: the guards and effects that
ordering/workflow.py's table names and that live here, above ordering (they need the
ledger, the vouchers and the credit rules), and when its voucher actions are possible.
Registered when app.payments is imported (create_app imports it with the models)."""

from decimal import Decimal

from app.ordering import workflow
from app.ordering.effects import EFFECTS
from app.ordering.guards import GUARDS
from app.ordering.states import State
from app.payments import credit, ledger, paybacks, vouchers


def credit_ok(ctx):
    """At submit, and when customer service re-opens a closed order: within the limit.
    Before an edit, only what the order was (the edit's effect decides the rest)."""
    if ctx.action.name == "edit":
        ctx.checked["credit_before"] = (ctx.order.payment_method, ctx.order.total)
        return
    if ctx.action.name == "override" and (ctx.order.state != State.CLOSED
                                          or ctx.data.get("target") == State.CLOSED):
        return
    credit.check_order(ctx.order)


def credit_after_edit(ctx):
    """An edit that raises a 统一结算 order's total, or makes it 统一结算, must still fit
    the credit limit (refused: the whole edit is undone); one that lowers it always may."""
    method, total = ctx.checked["credit_before"]
    order = ctx.order
    if method != order.payment_method or Decimal(order.total or 0) > Decimal(total or 0):
        credit.check_order(order)


def post_ledger(ctx):
    ledger.post_order(ctx.order)


GUARDS.update({"credit_ok": credit_ok, "voucher_ok": vouchers.voucher_ok,
               "voucher_decision_ok": vouchers.voucher_decision_ok,
               "pay_back_ok": paybacks.pay_back_ok})
EFFECTS.update({"post_ledger": post_ledger, "credit_after_edit": credit_after_edit,
                "add_voucher": vouchers.add_voucher,
                "confirm_voucher": vouchers.confirm_voucher,
                "reject_voucher": vouchers.reject_voucher,
                "record_payback_by_hand": paybacks.record_payback_by_hand,
                "reopened_payment_status": paybacks.reopened_payment_status})
workflow.POSSIBLE.update({"submit_voucher": vouchers.can_upload,
                          "confirm_voucher": vouchers.has_pending,
                          "reject_voucher": vouchers.has_pending,
                          "pay_back_by_hand": paybacks.can_pay_back})
