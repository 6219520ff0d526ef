"""Transfer vouchers (付款凭证): the customer proves a bank, WeChat or Alipay transfer with a
photo; customer service or the order's salesman confirms it (it becomes the order's
payment) or rejects it with a reason the customer sees. Every step is a workflow action
(ordering/workflow.py: submit_voucher, confirm_voucher, reject_voucher), so it is
checked, recorded in the order's history and posted to the ledger like any other."""

from datetime import date, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.ordering import scope, workflow
from app.ordering.guards import clean, parse_amount
from app.ordering.models import Order, Payment
from app.ordering.states import Pay, PaymentStatus, State
from app.payments.models import Voucher, VoucherStatus
from app.platform import ids, uploads
from app.platform.errors import ValidationError
from app.platform.time import local_date, utcnow

MAX_PENDING = 5  # vouchers waiting on one order at once
OLDEST_DAYS = 366  # a transfer older than this is not this order's


# ---- the services the views call ------------------------------------------------------

def upload(user, order_no: str, file_storage, form: dict) -> Voucher:
    """The customer's voucher for one of their own orders: the photo is stored privately
    with the order's files, then the workflow checks and records it; on a refusal the
    stored photo is removed again."""
    order = scope.own_order(user, order_no)
    _check_order(order)  # before storing anything
    stored = uploads.save_image(file_storage, private=True, folder=f"order/{order.id}/voucher")
    try:
        workflow.apply(order, "submit_voucher", user, photo=stored.key,
                       image_hash=stored.sha256, amount=form.get("amount"),
                       paid_on=form.get("paid_on"), remark=form.get("remark"))
    except Exception:
        uploads.delete_image(stored.key)
        raise
    return db.session.scalar(select(Voucher).where(Voucher.photo == stored.key))


def decide(user, order, voucher_id, approve: bool, reason: str | None = None,
           checked_elsewhere: bool = False):
    """Confirm (the voucher becomes the order's payment) or reject it with a reason. A
    voucher whose image was sent for another order too is confirmed only with
    `checked_elsewhere`: the person says they checked the bank record."""
    action = "confirm_voucher" if approve else "reject_voucher"
    data = {"voucher_id": voucher_id}
    if approve:
        data["checked_elsewhere"] = "1" if checked_elsewhere else ""
    else:
        data["reason"] = reason
    return workflow.apply(order, action, user, **data)


def of_order(order) -> list[Voucher]:
    return db.session.scalars(select(Voucher).where(Voucher.order_id == order.id)
                              .order_by(Voucher.id)).all()


def waiting(user, before_id: int | None = None, limit: int = 50) -> list[Voucher]:
    """Vouchers waiting for a decision on the orders this person may see, oldest first."""
    query = (select(Voucher).join(Order, Order.id == Voucher.order_id)
             .where(Voucher.status == VoucherStatus.PENDING, scope.order_condition(user))
             .options(selectinload(Voucher.order).selectinload(Order.member)))
    if before_id:
        query = query.where(Voucher.id > before_id)
    return db.session.scalars(query.order_by(Voucher.id).limit(limit)).all()


def used_elsewhere(vouchers) -> dict[int, list[str]]:
    """{voucher id: numbers of other orders whose vouchers are the same image}: one
    screenshot used to pay twice is flagged to whoever decides."""
    hashes = {v.image_hash for v in vouchers}
    if not hashes:
        return {}
    rows = db.session.execute(
        select(Voucher.id, Voucher.image_hash, Voucher.order_id, Order.order_no)
        .join(Order, Order.id == Voucher.order_id)
        .where(Voucher.image_hash.in_(hashes))).all()
    found: dict[int, list[str]] = {}
    for voucher in vouchers:
        others = sorted({r.order_no for r in rows if r.image_hash == voucher.image_hash
                         and r.id != voucher.id and r.order_id != voucher.order_id})
        if others:
            found[voucher.id] = others
    return found


def can_upload(order) -> bool:
    """Whether the order's page offers the customer to upload a voucher."""
    return order.payment_method in Pay.TRANSFER and \
        order.payment_status == PaymentStatus.UNPAID and order.state != State.CLOSED


# ---- the workflow's guards and effects (registered in payments/hooks.py) --------------

def _check_order(order) -> None:
    if order.payment_method not in Pay.TRANSFER:
        raise ValidationError(_l("A transfer voucher is only for bank, WeChat or Alipay "
                                 "transfers."), "payment")
    if order.state == State.CLOSED:
        raise ValidationError(_l("This order is closed."), "state")
    if order.payment_status != PaymentStatus.UNPAID:
        raise ValidationError(_l("This order is already paid."), "payment")
    pending = db.session.scalar(select(func.count(Voucher.id)).where(
        Voucher.order_id == order.id, Voucher.status == VoucherStatus.PENDING))
    if pending >= MAX_PENDING:
        raise ValidationError(_l("Several vouchers are already waiting for this order; "
                                 "please wait until they are checked."), "voucher")


def _paid_on(value) -> date:
    text = str(value or "").strip()
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    today = local_date()
    if day is None or day > today + timedelta(days=1) or day < today - timedelta(
            days=OLDEST_DAYS):
        raise ValidationError(_l("Please enter the date of the transfer."), "paid_on")
    return day


def voucher_ok(ctx):
    _check_order(ctx.order)
    amount = parse_amount(ctx.data.get("amount"), "amount")
    if amount <= 0:
        raise ValidationError(_l("Please enter a valid amount."), "amount")
    ctx.checked["voucher"] = {"amount": amount, "paid_on": _paid_on(ctx.data.get("paid_on")),
                              "remark": (clean(ctx.data.get("remark")) or "")[:255] or None}


def add_voucher(ctx):
    checked = ctx.checked["voucher"]
    voucher = Voucher(order_id=ctx.order.id, photo=ctx.data["photo"],
                      image_hash=ctx.data["image_hash"], uploaded_by_id=ctx.actor.id,
                      **checked)
    db.session.add(voucher)
    ctx.remark = checked["remark"]
    ctx.event_data["voucher"] = {"amount": str(checked["amount"]),
                                 "paid_on": checked["paid_on"].isoformat()}


def voucher_decision_ok(ctx):
    voucher_id = ids.parse_id(ctx.data.get("voucher_id"))
    voucher = db.session.scalar(select(Voucher).where(
        Voucher.id == voucher_id, Voucher.order_id == ctx.order.id).with_for_update()) \
        if voucher_id else None
    if voucher is None or voucher.status != VoucherStatus.PENDING:
        raise ValidationError(_l("This voucher is not waiting for a decision."), "voucher_id")
    if ctx.action.name == "confirm_voucher":
        if ctx.order.state == State.CLOSED:
            raise ValidationError(_l("This order is closed."), "state")
        if ctx.order.payment_status != PaymentStatus.UNPAID:
            raise ValidationError(_l("This order is already paid: reject the voucher "
                                     "instead."), "payment")
        others = used_elsewhere([voucher]).get(voucher.id)
        if others and str(ctx.data.get("checked_elsewhere") or "").lower() not in (
                "1", "true", "yes", "on"):
            raise ValidationError(_l("The same image was sent for order %(orders)s. Check "
                                     "the bank record, tick “I checked” and confirm again.",
                                     orders=", ".join(others)), "checked_elsewhere")
    ctx.checked["voucher"] = voucher


def confirm_voucher(ctx):
    order, voucher = ctx.order, ctx.checked["voucher"]
    payment = Payment(order=order, amount=voucher.amount, method=order.payment_method,
                      note=voucher.remark, recorded_by_id=ctx.actor.id)
    db.session.add(payment)
    db.session.flush()
    voucher.status, voucher.payment_id = VoucherStatus.CONFIRMED, payment.id
    voucher.decided_by_id, voucher.decided_at = ctx.actor.id, utcnow()
    paid = sum((Decimal(p.amount) for p in order.payments), Decimal("0"))
    if paid >= Decimal(order.total or 0):
        order.payment_status = PaymentStatus.PAID
    ctx.event_data["voucher"] = {"id": voucher.id, "amount": str(voucher.amount)}


def reject_voucher(ctx):
    voucher = ctx.checked["voucher"]
    voucher.status, voucher.reject_reason = VoucherStatus.REJECTED, (ctx.remark or "")[:255]
    voucher.decided_by_id, voucher.decided_at = ctx.actor.id, utcnow()
    ctx.event_data["voucher"] = {"id": voucher.id, "amount": str(voucher.amount)}


def has_pending(order) -> bool:
    return db.session.scalar(select(Voucher.id).where(
        Voucher.order_id == order.id, Voucher.status == VoucherStatus.PENDING).limit(1)) \
        is not None
