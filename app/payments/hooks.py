"""What payments adds to the order workflow: the guards and effects that
ordering/workflow.py's table names and that live here, above ordering (they need the
ledger, the vouchers and the credit rules). Registered when app.payments is imported
(create_app imports it with the models)."""

from app.ordering.effects import EFFECTS
from app.ordering.guards import GUARDS
from app.ordering.states import State
from app.payments import credit, ledger


def credit_ok(ctx):
    """At submit, and when customer service re-opens a closed order: within the limit."""
    if ctx.action.name == "override" and (ctx.order.state != State.CLOSED
                                          or ctx.data.get("target") == State.CLOSED):
        return
    credit.check_order(ctx.order)


def post_ledger(ctx):
    ledger.post_order(ctx.order)


GUARDS.update({"credit_ok": credit_ok})
EFFECTS.update({"post_ledger": post_ledger})
