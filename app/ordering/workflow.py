"""THE order workflow: one declarative table and one `apply`.

Every state change of an order, from every channel (storefront, business end, driver
end, back office, API, periodic tasks), goes through `apply(order, action, actor,
**data)`. It locks the order, checks that the actor may see it (else NotFound), that
their role may take the action from the order's state (and, for salesmen and drivers,
that the order is theirs), runs the action's guards (ordering/guards.py: they only
check), moves the state, runs its effects (ordering/effects.py: what it does), writes
an OrderEvent with the actor as columns and the messages the table names, and commits
once. Nothing else assigns `Order.state`.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.members.models import Region, StaffKind, StaffProfile
from app.ordering import notify, refunds, scope
from app.ordering.effects import EFFECTS
from app.ordering.guards import GUARDS, clean
from app.ordering.models import Order, OrderEvent
from app.ordering.states import (
    Delivery,
    PaymentStatus,
    RefundStatus,
    State,
    state_label,
)
from app.platform import accounts
from app.platform.errors import NotFound, PermissionDenied, ValidationError
from app.platform.security import ADMIN, CUSTOMER_SERVICE, DRIVER, SALESMAN
from app.platform.settings import get_settings
from app.platform.time import utcnow

# Who acts, as the table names them (also the role an OrderEvent records).
CUSTOMER = "customer"  # the order's own customer
SALES = "salesman"  # a salesman of the order's region
DRIVER_ASSIGNED = "driver"  # the driver the order is assigned to
CS = "cs"  # customer service and admin
SYSTEM = "system"  # periodic tasks

BEFORE_DONE = State.OPEN  # close: any state before delivered / received


@dataclass(frozen=True)
class Send:
    """A message an action sends: always, or only when `when` holds (the acting role, or
    the outcome an effect reached, e.g. a refund approved)."""

    event: str
    when: str | None = None


@dataclass(frozen=True)
class Action:
    name: str
    sources: tuple[str, ...]
    target: str | None  # None: the state does not change
    who: frozenset[str]
    requires: tuple[str, ...] = ()  # data keys that must be given
    guards: tuple[str, ...] = ()  # checks (ordering/guards.py), in order
    effects: tuple[str, ...] = ()  # what it does (ordering/effects.py), in order
    messages: tuple[Send, ...] = ()  # order events for ordering/notify.py
    customer_visible: bool = True
    label: object = None


def _a(name, sources, target, who, label, *, requires=(), guards=(), effects=(), messages=(),
       customer_visible=True):
    return Action(name, tuple(sources), target, frozenset(who), tuple(requires),
                  tuple(guards), tuple(effects),
                  tuple(m if isinstance(m, Send) else Send(m) for m in messages),
                  customer_visible, label)


TABLE: dict[str, Action] = {a.name: a for a in [
    _a("submit", [State.DRAFT], State.PENDING, {CUSTOMER, SALES}, _l("Order submitted"),
       guards=["credit_ok"], messages=[Send("order_submitted", when=CUSTOMER),
                 Send("order_placed_for_you", when=SALES), "new_order"]),
    _a("edit", [State.PENDING], None, {SALES, CS}, _l("Order changed"),
       requires=["op"], guards=["edit_op", "credit_ok"],
       effects=["apply_edit", "credit_after_edit"]),
    _a("confirm", [State.PENDING], State.CONFIRMED, {SALES, CS}, _l("Order confirmed"),
       guards=["has_lines"], messages=["order_confirmed"]),
    _a("assign_driver", [State.CONFIRMED, State.ASSIGNED], State.ASSIGNED, {SALES, CS},
       _l("Driver assigned"), requires=["driver_id"], guards=["paid_first", "driver_ok"],
       effects=["set_driver"], messages=["driver_assigned", "order_shipping"]),
    _a("ship", [State.CONFIRMED], State.SHIPPED, {SALES, CS}, _l("Shipped without a driver"),
       requires=["ship_method", "note"], guards=["paid_first", "ship_ok"],
       effects=["set_shipping"], messages=["order_shipped"]),
    _a("ready_for_pickup", [State.CONFIRMED], State.READY_FOR_PICKUP, {SALES, CS},
       _l("Ready for pickup"), guards=["paid_first", "is_pickup"],
       messages=["order_ready_for_pickup"]),
    _a("start_delivery", [State.ASSIGNED], State.DELIVERING, {DRIVER_ASSIGNED},
       _l("Delivery started")),
    _a("complete_delivery", [State.DELIVERING], State.DELIVERED, {DRIVER_ASSIGNED},
       _l("Delivered, signed note uploaded"), guards=["has_photo", "door_ok"],
       effects=["record_door", "post_ledger"], messages=["order_delivered"]),
    _a("confirm_receipt", [State.SHIPPED, State.READY_FOR_PICKUP], State.RECEIVED,
       {CUSTOMER}, _l("Receipt confirmed"), effects=["post_ledger"]),
    _a("mark_collected", [State.READY_FOR_PICKUP], State.RECEIVED, {SALES, CS},
       _l("Pickup collected"), effects=["post_ledger"]),
    _a("auto_receive", [State.SHIPPED], State.RECEIVED, {SYSTEM},
       _l("Received automatically"), effects=["post_ledger"]),
    _a("cancel", [State.PENDING], State.CLOSED, {CUSTOMER}, _l("Cancelled by the customer"),
       effects=["release_stock", "close_wechat_prepay"]),
    _a("close", BEFORE_DONE, State.CLOSED, {SALES, CS}, _l("Order closed"),
       requires=["reason"], effects=["release_stock", "close_wechat_prepay"],
       messages=["order_closed"]),
    _a("override", State.ALL, None, {CS}, _l("Status changed by customer service"),
       requires=["target", "remark"], guards=["override_ok", "credit_ok"],
       effects=["release_stock", "close_wechat_prepay", "reopened_payment_status",
                "post_ledger"]),
    _a("change_driver", [State.ASSIGNED, State.DELIVERING], None, {CS}, _l("Driver changed"),
       requires=["driver_id"], guards=["driver_ok"], effects=["set_driver"],
       messages=["driver_assigned"]),
    _a("mark_paid", State.ALL, None, {SALES, CS}, _l("Payment recorded"),
       requires=["note"], guards=["unpaid"], effects=["record_payment", "post_ledger"]),
    # WeChat's notification or our query of it (app/payments/wechat_pay/): a payment for a
    # closed or already paid order is recorded too, and goes back automatically.
    _a("pay_online", State.ALL, None, {SYSTEM}, _l("Paid with WeChat Pay"),
       requires=["attempt_id"], guards=["online_payment_ok"],
       effects=["record_online_payment", "post_ledger"]),
    _a("refund_paid_back", State.ALL, None, {SYSTEM}, _l("Refund paid back through WeChat Pay"),
       requires=["online_refund_id"], guards=["online_payback_ok"],
       effects=["record_payback", "post_ledger"]),
    # Money paid by transfer or in cash goes back by hand; customer service records it.
    _a("pay_back_by_hand", State.ALL, None, {CS}, _l("Money paid back"),
       requires=["note"], guards=["pay_back_ok"],
       effects=["record_payback_by_hand", "post_ledger"]),
    _a("submit_voucher", State.ALL, None, {CUSTOMER}, _l("Transfer voucher uploaded"),
       requires=["photo", "image_hash", "amount", "paid_on"], guards=["voucher_ok"],
       effects=["add_voucher"], messages=["voucher_uploaded"]),
    _a("confirm_voucher", State.ALL, None, {SALES, CS}, _l("Transfer voucher confirmed"),
       requires=["voucher_id"], guards=["voucher_decision_ok"],
       effects=["confirm_voucher", "post_ledger"], messages=["voucher_confirmed"]),
    _a("reject_voucher", State.ALL, None, {SALES, CS}, _l("Transfer voucher rejected"),
       requires=["voucher_id", "reason"], guards=["voucher_decision_ok"],
       effects=["reject_voucher"], messages=["voucher_rejected"]),
    _a("request_refund", State.FINISHED, None, {CUSTOMER}, _l("Refund requested"),
       requires=["reason", "lines"], guards=["refund_request_ok"],
       effects=["add_refund_request"]),
    _a("decide_refund", State.FINISHED, None, {SALES, CS}, _l("Refund decided"),
       requires=["approve"], guards=["refund_decision_ok", "online_refund_ok"],
       effects=["decide_refund", "start_online_refund", "post_ledger"],
       messages=[Send("refund_approved", when=RefundStatus.APPROVED),
                 Send("refund_rejected", when=RefundStatus.REJECTED)]),
]}


@dataclass
class Context:
    order: object
    action: Action
    actor: object
    data: dict
    as_role: str = ""
    remark: str | None = None
    checked: dict = field(default_factory=dict)  # what the guards checked, for the effects
    event_data: dict = field(default_factory=dict)  # what the history shows
    outcome: str | None = None  # set by an effect whose messages depend on it


# ---- who is the actor for this order ------------------------------------------------------

def actor_roles(order, actor) -> set[str]:
    """The table's roles this actor holds for this order (region and assignment checked)."""
    if actor is SYSTEM:
        return {SYSTEM}
    roles = set()
    names = accounts.role_names(actor)
    if order.user_id == actor.id:
        roles.add(CUSTOMER)
    if names & {ADMIN, CUSTOMER_SERVICE}:
        roles.add(CS)
    if SALESMAN in names:
        salesman = scope.staff_profile(actor, StaffKind.SALESMAN)
        if salesman and order.region_id in {r.id for r in salesman.regions}:
            roles.add(SALES)
    if DRIVER in names:
        driver = scope.staff_profile(actor, StaffKind.DRIVER)
        if driver and order.driver_id == driver.id:
            roles.add(DRIVER_ASSIGNED)
    return roles


# What the order itself must be for an action to be possible at all (before any data is
# given). `allowed_actions` offers only these; the guards refuse the rest with a message.
POSSIBLE = {
    "mark_paid": lambda o: o.payment_status == PaymentStatus.UNPAID and o.state != State.CLOSED,
    "ready_for_pickup": lambda o: o.delivery_method == Delivery.PICKUP,
    "decide_refund": lambda o: refunds.waiting(o) is not None,
    "request_refund": lambda o: refunds.waiting(o) is None,
}


def allowed_actions(order, actor) -> list[str]:
    """Actions this actor may take now; data-dependent guards are checked when applied."""
    roles = actor_roles(order, actor)
    return [a.name for a in TABLE.values()
            if order.state in a.sources and a.who & roles and a.name != "submit"
            and POSSIBLE.get(a.name, lambda _o: True)(order)]


# What the business end (the salesman's phone, web and API) offers, and the data each
# action takes by name: the form fields and the API's JSON fields alike.
BUSINESS_END_ACTIONS = {
    "edit": ("op", "line_id", "quantity", "price", "reason", "spec_id", "method"),
    "confirm": (),
    "assign_driver": ("driver_id",),
    "ship": ("ship_method", "note"),
    "ready_for_pickup": (),
    "mark_collected": (),
    "close": ("reason",),
    "mark_paid": ("note", "amount"),
    "decide_refund": ("approve", "amount", "restock", "reason"),
    "confirm_voucher": ("voucher_id", "checked_elsewhere"),
    "reject_voucher": ("voucher_id", "reason"),
}

# The back office's forms for these actions, in the order its order page offers them.
BACK_OFFICE_ACTIONS = ("confirm", "assign_driver", "change_driver", "ship",
                       "ready_for_pickup", "mark_collected", "mark_paid", "confirm_voucher",
                       "reject_voucher", "decide_refund", "pay_back_by_hand", "close",
                       "override")


MONEY_ACTIONS = {"mark_paid", "confirm_voucher", "reject_voucher",
                 "pay_back_by_hand"}  # can_mark_paid's


def back_office_actions(order, user) -> set[str]:
    """What the back office's order page offers this person: the actions the order allows
    them, kept to their back-office permissions (order actions, marking paid); of
    assigning and changing a driver, only the one that fits the order's state."""
    offered = set(allowed_actions(order, user)) & set(BACK_OFFICE_ACTIONS)
    if not accounts.can(user, "can_order_action", "OrderListView"):
        offered &= MONEY_ACTIONS
    if not accounts.can(user, "can_mark_paid", "OrderListView"):
        offered -= MONEY_ACTIONS
    if order.state in (State.ASSIGNED, State.DELIVERING) and "change_driver" in offered:
        offered.discard("assign_driver")
    return offered


def apply(order, action_name: str, actor, **data):
    """Take one action on an order; all or nothing, in one transaction. A refused action
    (a DomainError) has rolled back everything, so the caller only shows the message."""
    action = TABLE.get(action_name)
    if action is None:
        raise ValidationError(_l("Unknown action."), "action")
    try:
        if order.state != State.DRAFT:
            _lock(order)
        if actor is not SYSTEM and order.state != State.DRAFT and \
                not scope.can_see(actor, order):
            raise NotFound(_l("The page you asked for does not exist."))
        roles = actor_roles(order, actor)
        if not action.who & roles:
            raise PermissionDenied(_l("You may not do this with this order."))
        if order.state not in action.sources:
            raise ValidationError(_l("This cannot be done while the order is “%(state)s”.",
                                     state=state_label(order.state)), "state")
        for key in action.requires:
            value = data.get(key)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise ValidationError(_MISSING.get(key, _l("Some information is missing.")),
                                      key)
        ctx = Context(order, action, actor, data,
                      remark=clean(data.get("remark") or data.get("reason")))
        ctx.as_role = _acting_role(action, roles)
        for guard in action.guards:
            GUARDS[guard](ctx)
        before = order.state
        target = data["target"] if action.name == "override" else action.target
        if target is not None:
            order.state = target
            _stamp(order, target)
        if action.name == "override":
            ctx.event_data["override"] = target
        for effect in action.effects:
            EFFECTS[effect](ctx)
        db.session.add(OrderEvent(
            order=order, actor_id=None if actor is SYSTEM else actor.id,
            actor_name=None if actor is SYSTEM else accounts.display_name(actor)[:64],
            actor_role=ctx.as_role, action=action.name,
            from_state=None if before == State.DRAFT else before, to_state=order.state,
            remark=ctx.remark, data=ctx.event_data, customer_visible=action.customer_visible))
        for send in action.messages:
            if send.when is None or send.when in (ctx.as_role, ctx.outcome):
                notify.order_event(send.event, order, actor=actor, remark=ctx.remark)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return order


def _lock(order) -> None:
    """Read the order again under a row lock held until this action commits: two people
    acting at once (two salesmen confirming, a driver completing while customer service
    closes) act one after the other, and the second sees what the first did."""
    db.session.flush()
    db.session.refresh(order, with_for_update=True)
    db.session.expire(order, ["lines", "refunds", "photos", "payments", "events"])


def _acting_role(action, roles) -> str:
    for role in (CUSTOMER, DRIVER_ASSIGNED, SALES, CS, SYSTEM):
        if role in roles and role in action.who:
            return role
    return ""


def _stamp(order, target):
    now = utcnow()
    stamps = {State.SHIPPED: "shipped_at", State.DELIVERED: "delivered_at",
              State.RECEIVED: "received_at", State.CLOSED: "closed_at"}
    if target in stamps:
        setattr(order, stamps[target], now)


_MISSING = {
    "reason": _l("Please give a reason."),
    "remark": _l("Please write a remark."),
    "driver_id": _l("Please choose a driver."),
    "ship_method": _l("Please choose how it is shipped."),
    "note": _l("Please write a note (company and tracking number, or how it was paid)."),
    "target": _l("Please choose the new status."),
    "lines": _l("Please choose what to return and how many."),
    "op": _l("Unknown change."),
    "approve": _l("Please approve or reject."),
    "photo": _l("Please choose an image."),
    "amount": _l("Please enter a valid amount."),
    "paid_on": _l("Please enter the date of the transfer."),
    "voucher_id": _l("This voucher is not waiting for a decision."),
}


def drivers_for(order) -> list[tuple[StaffProfile, int]]:
    """Drivers of the order's region with their current load (assigned or delivering)."""
    load = (select(Order.driver_id, func.count(Order.id).label("n"))
            .where(Order.state.in_([State.ASSIGNED, State.DELIVERING]))
            .group_by(Order.driver_id).subquery())
    rows = db.session.execute(
        select(StaffProfile, func.coalesce(load.c.n, 0))
        .join(StaffProfile.regions).outerjoin(load, load.c.driver_id == StaffProfile.id)
        .where(Region.id == order.region_id, StaffProfile.kind == StaffKind.DRIVER,
               StaffProfile.active.is_(True)).order_by(StaffProfile.name)).all()
    return [(driver, n) for driver, n in rows]


def auto_receive_shipped() -> int:
    """Periodic: shipped orders older than the setting's days count as received."""
    days = get_settings().auto_receive_days or 7
    cutoff = utcnow() - timedelta(days=days)
    ids = db.session.scalars(select(Order.id).where(Order.state == State.SHIPPED,
                                                    Order.shipped_at < cutoff)).all()
    done = 0
    for order_id in ids:
        order = db.session.get(Order, order_id)
        try:
            apply(order, "auto_receive", SYSTEM)
            done += 1
        except ValidationError:
            db.session.rollback()
    return done

