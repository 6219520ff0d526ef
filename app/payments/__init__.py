"""Money: the receivables ledger, credit limits, transfer vouchers and drivers' cash.

Above ordering: its guards and effects join the order workflow (hooks.py)."""

from app.payments import hooks  # noqa: F401  (registers the workflow's guards and effects)
