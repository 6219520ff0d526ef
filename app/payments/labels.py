"""The words for payments' states and kinds, one mapping each, for every end."""

from flask_babel import lazy_gettext as _l

from app.payments.models import EntryKind, StatementStatus, VoucherStatus

ENTRY_KIND_LABELS = {
    EntryKind.DELIVERY: _l("Goods delivered (owed)"),
    EntryKind.DELIVERY_REVERSAL: _l("Delivery reversed"),
    EntryKind.PAYMENT: _l("Payment received"),
    EntryKind.REFUND: _l("Refund"),
    EntryKind.PAYBACK: _l("Money paid back"),
}
STATEMENT_STATUS_LABELS = {
    StatementStatus.ISSUED: _l("Waiting for confirmation"),
    StatementStatus.CONFIRMED: _l("Confirmed"),
    StatementStatus.DISPUTED: _l("Disputed"),
}
VOUCHER_STATUS_LABELS = {
    VoucherStatus.PENDING: _l("Waiting to be checked"),
    VoucherStatus.CONFIRMED: _l("Payment confirmed"),
    VoucherStatus.REJECTED: _l("Not accepted"),
}
AGING_LABELS = (_l("0–30 days"), _l("31–60 days"), _l("61–90 days"), _l("Over 90 days"))
