"""Money: the receivables ledger, credit limits, transfer vouchers, drivers' cash,
statements and WeChat Pay (wechat_pay/).

Above ordering: its guards and effects join the order workflow (hooks.py)."""

from app.payments import (
    hooks,  # noqa: F401  (registers the workflow's guards and effects)
    wechat_pay,  # noqa: F401  (WeChat Pay's guards and effects)
)
