"""Settling an attempt: WeChat's word that it was paid (a verified notification or our
query by out_trade_no) becomes the order's payment through the order workflow, once.

`settle` checks the transaction against the attempt (rules.mismatch) and applies the
workflow's `pay_online` action as the system; its guard (hooks.online_payment_ok) checks
again under the order's lock, so a notification, its resend and the periodic query
arriving together record one payment. Each verified notification is kept once by its
id (`note`), with what became of it, in the same transaction as the payment."""

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.ordering import workflow
from app.ordering.models import Order
from app.payments.wechat_pay import rules
from app.payments.wechat_pay.models import Notification, NotificationOutcome, PayAttempt
from app.platform.errors import DomainError
from app.platform.time import utcnow

log = logging.getLogger(__name__)

PAY_ACTION = "pay_online"  # the workflow table's action (see the package's docstring)


def note(info: dict | None, outcome: str, detail: str | None = None):
    """Record (or count again) a verified notification with its outcome, in the current
    transaction; `info` None (the periodic query) records nothing."""
    if info is None:
        return None
    row = db.session.scalar(select(Notification).where(
        Notification.notification_id == info["id"]))
    now = utcnow()
    if row is None:
        row = Notification(notification_id=info["id"], kind=info["kind"],
                           event_type=info["event_type"][:32],
                           out_trade_no=info.get("out_trade_no"),
                           out_refund_no=info.get("out_refund_no"),
                           transaction_id=info.get("transaction_id"), times=0,
                           received_at=now)
        db.session.add(row)
    row.times = (row.times or 0) + 1
    row.last_received_at = now
    row.outcome, row.detail = outcome, (detail or None) and detail[:255]
    return row


def seen(info: dict) -> Notification | None:
    """The notification, if it was answered 2xx before (a replay or WeChat's resend)."""
    row = db.session.scalar(select(Notification).where(
        Notification.notification_id == info["id"]))
    return row if row is not None and row.outcome in NotificationOutcome.FINAL else None


def _end(info, outcome: str, detail: str | None = None) -> str:
    db.session.rollback()
    try:
        note(info, outcome, detail)
        db.session.commit()
    except IntegrityError:  # the same notification recorded at this moment by another
        db.session.rollback()
        return NotificationOutcome.ERROR
    return outcome


def settle(settings, transaction: dict, source: str, info: dict | None = None) -> str:
    """Record WeChat's paid transaction for our attempt; returns a NotificationOutcome."""
    out_trade_no = str(transaction.get("out_trade_no") or "")[:32]
    attempt = db.session.scalar(select(PayAttempt).where(PayAttempt.out_trade_no == out_trade_no))
    if attempt is None:
        log.error("WeChat Pay: a payment for unknown out_trade_no %r", out_trade_no)
        return _end(info, NotificationOutcome.UNKNOWN, f"no attempt {out_trade_no}")
    if attempt.transaction_id is not None and \
            attempt.transaction_id == transaction.get("transaction_id"):
        return _end(info, NotificationOutcome.DUPLICATE)  # recorded: nothing changes
    problem = rules.mismatch(settings, attempt, transaction) or (
        "another transaction_id for a paid attempt" if attempt.transaction_id else None)
    if problem:
        log.error("WeChat Pay: %s for %s refused: %s", source, out_trade_no, problem)
        return _end(info, NotificationOutcome.MISMATCH, problem)
    order = db.session.get(Order, attempt.order_id)
    note(info, NotificationOutcome.RECORDED)
    try:
        workflow.apply(order, PAY_ACTION, workflow.SYSTEM, attempt_id=attempt.id,
                       transaction=transaction, source=source)
    except rules.AlreadyRecorded:
        return _end(info, NotificationOutcome.DUPLICATE)
    except DomainError as exc:
        log.error("WeChat Pay: %s for %s not recorded: %s", source, out_trade_no, exc)
        return _end(info, NotificationOutcome.ERROR, str(exc.message))
    except IntegrityError:  # recorded at this very moment by another process: WeChat resends
        db.session.rollback()
        return NotificationOutcome.ERROR
    return NotificationOutcome.RECORDED
