"""Refunds through WeChat Pay's refund API: sending one (after the commit that approved
it), asking about one, and WeChat's refund notifications.

An online refund is sent with its out_refund_no (models.OnlineRefund: derived from what
it refunds), as often as needed until WeChat accepts it; WeChat answers a repeated
out_refund_no with the refund it made the first time, so a resend never refunds twice.
Once accepted it is never sent again, only asked about, until WeChat's final status."""

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.ordering import scope, workflow
from app.ordering.guards import clean
from app.ordering.models import Order
from app.payments.wechat_pay import gateway, rules
from app.payments.wechat_pay.models import OnlineRefund, RefundKind, RefundState
from app.platform import ids
from app.platform.errors import DomainError, NotFound, ValidationError
from app.platform.time import utcnow
from app.platform.transactions import atomic

log = logging.getLogger(__name__)
PAID_BACK = "refund_paid_back"  # the workflow table's action

# WeChat's codes that mean "not now": the same out_refund_no is sent again later.
RETRY_LATER = {"NOT_ENOUGH", "SYSTEM_ERROR", "FREQUENCY_LIMITED", "HTTP_429"}
STATUSES = {"PROCESSING": RefundState.PROCESSING, "SUCCESS": RefundState.SUCCESS,
            "CLOSED": RefundState.CLOSED, "ABNORMAL": RefundState.ABNORMAL}
FINAL = (RefundState.SUCCESS, RefundState.CLOSED, RefundState.ABNORMAL)


def send_refund(online_refund_id: int) -> str | None:
    """Send one online refund that WeChat has not accepted yet (a job, and the periodic
    task for those left pending)."""
    row = db.session.get(OnlineRefund, online_refund_id)
    if row is None or row.status != RefundState.PENDING:
        return row.status if row else None
    try:
        s = gateway.settings()
    except gateway.NotConfigured as exc:
        log.error("WeChat Pay: refund %s not sent: %s", row.out_refund_no, exc.why)
        return row.status
    attempt = row.attempt
    row.tries, row.checked_at = (row.tries or 0) + 1, utcnow()
    db.session.commit()  # counted even if this process dies while WeChat answers
    reason = f"{row.order.order_no} {row.refund.reason if row.refund else ''}".strip()[:80]
    try:
        answer = gateway.call("refund", lambda: gateway.client(s).refund(
            out_refund_no=row.out_refund_no,
            amount={"refund": row.amount_fen, "total": attempt.amount_fen, "currency": "CNY"},
            transaction_id=attempt.transaction_id, reason=reason,
            notify_url=s.refund_notify_url or s.notify_url))
    except gateway.Unavailable as exc:
        row.error = exc.why[:255]
        db.session.commit()
        return row.status
    except gateway.Refused as exc:
        row.error = str(exc)[:255]
        if exc.code not in RETRY_LATER:
            row.status = RefundState.FAILED
            log.error("WeChat Pay: refund %s refused: %s", row.out_refund_no, exc)
        db.session.commit()
        return row.status
    take_answer(row, answer)
    db.session.commit()
    record_paid_back(row.id)
    return row.status


def check_refund(online_refund_id: int) -> str | None:
    """Ask WeChat about one refund it accepted (or may have: a lost answer)."""
    row = db.session.get(OnlineRefund, online_refund_id)
    if row is None or row.status not in RefundState.OPEN:
        return row.status if row else None
    try:
        s = gateway.settings()
    except gateway.NotConfigured:
        return row.status
    row.checked_at = utcnow()
    try:
        answer = gateway.call("refund query", lambda: gateway.client(s).query_refund(
            out_refund_no=row.out_refund_no))
    except gateway.Unavailable as exc:
        row.error = exc.why[:255]
    except gateway.Refused as exc:
        if exc.code == "RESOURCE_NOT_EXISTS":
            row.status = RefundState.PENDING  # never reached WeChat: send it (again)
        else:
            row.error = str(exc)[:255]
    else:
        take_answer(row, answer)
    db.session.commit()
    record_paid_back(row.id)
    return row.status


def take_answer(row: OnlineRefund, answer: dict) -> None:
    """WeChat's answer about a refund (the refund API, its query, or a notification's
    resource, whose status field is refund_status) onto our row."""
    amount = answer.get("amount") if isinstance(answer.get("amount"), dict) else {}
    matches = answer.get("out_refund_no") == row.out_refund_no and \
        amount.get("refund") == row.amount_fen
    status = STATUSES.get(answer.get("status") or answer.get("refund_status"))
    if row.status == RefundState.SETTLED:
        # A person gave this money back another way; it stays settled (never recorded as
        # paid back a second time). WeChat paying it after all means it went back twice.
        if matches and status == RefundState.SUCCESS:
            row.error = "WeChat paid this back after it was settled another way: paid twice"
            log.error("WeChat Pay: refund %s paid by WeChat after it was settled another "
                      "way: the payer got the money twice", row.out_refund_no)
        return
    if not matches:
        row.status = RefundState.FAILED
        row.error = "WeChat's answer does not match this refund"
        log.error("WeChat Pay: refund %s: answer does not match: %r", row.out_refund_no, answer)
        return
    if status is None:
        return
    row.wechat_refund_id = str(answer.get("refund_id") or "")[:64] or row.wechat_refund_id
    row.sent_at = row.sent_at or utcnow()
    if row.status not in FINAL:
        row.status = status
        if status in FINAL:
            row.settled_at = utcnow()
    row.error = None if status == RefundState.SUCCESS else row.error


def record_paid_back(online_refund_id: int) -> bool:
    """Once WeChat paid an approved refund out, the order and the member's account show
    the money gone back: the workflow's `refund_paid_back` (as the system; its guard reads
    the row again under the order's lock, so two callers at once record it once)."""
    row = db.session.get(OnlineRefund, online_refund_id)
    if row is None or row.kind not in RefundKind.ON_THE_ORDER or \
            row.status != RefundState.SUCCESS or row.payment_id is not None:
        return False
    try:
        workflow.apply(row.order, PAID_BACK, workflow.SYSTEM, online_refund_id=row.id)
    except rules.AlreadyRecorded:
        return False
    except DomainError as exc:
        log.error("WeChat Pay: refund %s paid back, not recorded: %s", row.out_refund_no,
                  exc.message)
        return False
    return True


def unrecorded_paybacks(limit: int) -> list[int]:
    """Approved refunds WeChat paid out whose payback is not on the order yet (a process
    that died between the two): for the periodic task."""
    return list(db.session.scalars(select(OnlineRefund.id).where(
        OnlineRefund.kind.in_(RefundKind.ON_THE_ORDER), OnlineRefund.status == RefundState.SUCCESS,
        OnlineRefund.payment_id.is_(None)).order_by(OnlineRefund.id).limit(limit)))


def for_finance(user, needing_a_person: bool, limit: int = 100) -> list[OnlineRefund]:
    """The back office's lists, newest first, of the orders this person may see: refunds
    WeChat refused, closed or could not pay back (a person has to settle them another
    way), or every automatic refund (a payment that arrived for a closed or already paid
    order, or the payment of an order closed after it was paid, sent back)."""
    query = select(OnlineRefund).join(Order, Order.id == OnlineRefund.order_id).where(
        scope.order_condition(user))
    if needing_a_person:
        query = query.where(OnlineRefund.status.in_(RefundState.NEEDS_A_PERSON))
    else:
        query = query.where(OnlineRefund.kind.in_((RefundKind.AUTOMATIC, RefundKind.ORDER_CLOSED)))
    return list(db.session.scalars(
        query.options(selectinload(OnlineRefund.order).selectinload(Order.member),
                      selectinload(OnlineRefund.attempt))
        .order_by(OnlineRefund.id.desc()).limit(limit)))


@atomic
def settle_by_hand(user, online_refund_id, note) -> OnlineRefund:
    """Customer service gave back another way (a transfer, cash) money WeChat did not pay
    back: the refund leaves the list of those needing a person, with who, when and how.
    Only for money that was not the order's (an automatic refund): the order's own is
    recorded on the order page (payments/paybacks.py), which settles its refunds too, so
    the account shows it."""
    refund_id = ids.parse_id(online_refund_id)
    row = db.session.get(OnlineRefund, refund_id, with_for_update=True,
                         populate_existing=True) if refund_id is not None else None
    if row is None or not scope.can_see(user, row.order):
        raise NotFound(_l("The page you asked for does not exist."))
    if row.status not in RefundState.NEEDS_A_PERSON:
        raise ValidationError(_l("This refund does not need anyone: it went through, is on "
                                 "its way or was settled already."), "status")
    if row.kind in RefundKind.ON_THE_ORDER:
        raise ValidationError(_l("This money was paid on the order: record the payback on "
                                 "the order page, so the customer's account shows it."), "kind")
    text = clean(note)
    if not text:
        raise ValidationError(_l("Say how the money went back, e.g. the transfer's reference."),
                              "note")
    mark_settled(row, user, text)
    db.session.commit()
    return row


def mark_settled(row: OnlineRefund, user, note: str) -> None:
    row.status = RefundState.SETTLED
    row.handled_by_id = getattr(user, "id", None)  # None: the system
    row.handled_at, row.handled_note = utcnow(), (note or "")[:255] or None


def settle_when_nothing_owed(order, user, note: str | None) -> None:
    """Once an order owes its customer nothing (paybacks.owed_back), its online refunds
    that WeChat did not pay back are settled: the money went back another way."""
    for row in db.session.scalars(select(OnlineRefund).where(
            OnlineRefund.order_id == order.id, OnlineRefund.kind.in_(RefundKind.ON_THE_ORDER),
            OnlineRefund.status.in_(RefundState.NEEDS_A_PERSON))):
        mark_settled(row, user, note)
