"""Background work: closing prepays at WeChat, asking WeChat about attempts and refunds
whose notification never came, and the periodic task that does both.

Jobs take ids (app.jobs runs them after the commit that enqueued them, on RQ or inline)
and look their rows up again; each is safe to run twice."""

import logging
from datetime import timedelta

from sqlalchemy import or_, select

from app.extensions import db
from app.payments.wechat_pay import gateway, refunds, settlement
from app.payments.wechat_pay.models import (
    AttemptStatus,
    OnlineRefund,
    PayAttempt,
    RefundState,
)
from app.platform.time import utcnow

log = logging.getLogger(__name__)

QUERY_AFTER = timedelta(seconds=60)  # give the notification this long before asking
QUERY_EVERY = timedelta(seconds=60)  # ask about one attempt or refund at most this often
BATCH = 100  # attempts and refunds per run of the periodic task
NOT_FOUND = ("ORDER_NOT_EXIST", "RESOURCE_NOT_EXISTS")


def close_attempt(attempt_id: int) -> str | None:
    """Close one prepay at WeChat so it can never be paid. Already paid there: settle it
    (a payment of a closed order then goes back automatically)."""
    attempt = db.session.get(PayAttempt, attempt_id)
    if attempt is None or attempt.status not in AttemptStatus.UNSETTLED:
        return attempt.status if attempt else None
    try:
        s = gateway.settings()
        gateway.call("close", lambda: gateway.client(s).close(out_trade_no=attempt.out_trade_no))
    except gateway.NotConfigured as exc:
        log.error("WeChat Pay: cannot close %s: %s", attempt.out_trade_no, exc.why)
        return attempt.status
    except gateway.Unavailable as exc:
        log.warning("WeChat Pay: close %s: %s (retried later)", attempt.out_trade_no, exc.why)
        attempt.status, attempt.checked_at = AttemptStatus.CLOSING, utcnow()
        db.session.commit()
        return attempt.status
    except gateway.Refused as exc:
        if exc.code in NOT_FOUND:  # WeChat never made it: nothing can pay it
            _closed(attempt)
        elif exc.code in ("ORDERPAID", "ORDER_PAID"):
            db.session.commit()
            return query_attempt(attempt_id)
        else:
            log.error("WeChat Pay: close %s refused: %s", attempt.out_trade_no, exc)
            attempt.status, attempt.error = AttemptStatus.CLOSING, str(exc)[:255]
            attempt.checked_at = utcnow()
        db.session.commit()
        return attempt.status
    _closed(attempt)
    db.session.commit()
    return attempt.status


def _closed(attempt) -> None:
    attempt.status, attempt.closed_at = AttemptStatus.CLOSED, utcnow()


def query_attempt(attempt_id: int) -> str | None:
    """Ask WeChat about one unsettled attempt by out_trade_no and act on its answer: paid
    is settled as a notification would be; closed is closed; unpaid past its expiry, or
    meant to be closed, is closed now."""
    attempt = db.session.get(PayAttempt, attempt_id)
    if attempt is None or attempt.status not in AttemptStatus.UNSETTLED:
        return attempt.status if attempt else None
    try:
        s = gateway.settings()
    except gateway.NotConfigured:
        return attempt.status
    attempt.checked_at = utcnow()
    try:
        answer = gateway.call("query", lambda: gateway.client(s).query(
            out_trade_no=attempt.out_trade_no))
    except gateway.Unavailable as exc:
        log.warning("WeChat Pay: query %s: %s", attempt.out_trade_no, exc.why)
        db.session.commit()
        return attempt.status
    except gateway.Refused as exc:
        if exc.code in NOT_FOUND and attempt.status != AttemptStatus.OPEN:
            _closed(attempt)  # a prepay WeChat never made, or one to close: never payable
        else:
            log.error("WeChat Pay: query %s refused: %s", attempt.out_trade_no, exc)
        db.session.commit()
        return attempt.status
    state = answer.get("trade_state")
    db.session.commit()
    if state == "SUCCESS":
        settlement.settle(s, answer, "query")
    elif state in ("CLOSED", "REVOKED", "PAYERROR"):
        _closed(attempt)
        db.session.commit()
    elif state in ("NOTPAY", "USERPAYING"):
        if attempt.status == AttemptStatus.CLOSING or attempt.expires_at <= utcnow():
            return close_attempt(attempt_id)
    else:  # REFUND: paid and refunded outside Pifa; a person has to look
        log.error("WeChat Pay: %s is %s at WeChat", attempt.out_trade_no, state)
    db.session.expire_all()
    attempt = db.session.get(PayAttempt, attempt_id)
    return attempt.status if attempt else None


def reconcile() -> dict:
    """Periodic (no arguments): settle the attempts whose notification never came, close
    the ones left to close, send the refunds not accepted yet and ask about the ones in
    progress. Does nothing while WeChat Pay is not configured."""
    if not gateway.configured():
        return {"configured": False}
    now = utcnow()
    due = or_(PayAttempt.checked_at.is_(None), PayAttempt.checked_at < now - QUERY_EVERY)
    attempt_ids = db.session.scalars(select(PayAttempt.id).where(
        PayAttempt.status.in_(AttemptStatus.UNSETTLED), PayAttempt.created_at < now - QUERY_AFTER,
        due).order_by(PayAttempt.id).limit(BATCH)).all()
    settled = 0
    for attempt_id in attempt_ids:
        if query_attempt(attempt_id) == AttemptStatus.PAID:
            settled += 1
    refund_due = or_(OnlineRefund.checked_at.is_(None), OnlineRefund.checked_at < now - QUERY_EVERY)
    refund_rows = db.session.execute(select(OnlineRefund.id, OnlineRefund.status).where(
        OnlineRefund.status.in_(RefundState.OPEN), refund_due)
        .order_by(OnlineRefund.id).limit(BATCH)).all()
    for refund_id, status in refund_rows:
        if status == RefundState.PENDING:
            refunds.send_refund(refund_id)
        else:
            refunds.check_refund(refund_id)
    for refund_id in refunds.unrecorded_paybacks(BATCH):
        refunds.record_paid_back(refund_id)
    return {"attempts": len(attempt_ids), "settled": settled, "refunds": len(refund_rows)}
