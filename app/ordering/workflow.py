"""THE order workflow: one declarative table and one `apply`.

Every state change of an order, from every channel (storefront, business end, driver
end, back office, API, periodic tasks), goes through `apply(order, action, actor,
**data)`. It checks that the actor may see the order (else NotFound), that their role
may take the action from the order's state (and, for salesmen and drivers, that the
order is theirs), runs the action's guards, moves the state, writes an OrderEvent and
the outbox messages, and commits once. Nothing else assigns `Order.state`.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.catalog.pricing import money
from app.extensions import db
from app.members.models import StaffKind, StaffProfile
from app.ordering import notify, refunds, scope
from app.ordering.effects import held_quantity, recompute_totals, return_stock
from app.ordering.models import OrderEvent, Payment
from app.ordering.states import Delivery, Pay, State
from app.platform import accounts, ids
from app.platform.errors import NotFound, PermissionDenied, ValidationError
from app.platform.security import ADMIN, CUSTOMER_SERVICE, DRIVER, SALESMAN
from app.platform.time import utcnow

# Who acts, as the table names them.
CUSTOMER = "customer"  # the order's own customer
SALES = "salesman"  # a salesman of the order's region
DRIVER_ASSIGNED = "driver"  # the driver the order is assigned to
CS = "cs"  # customer service and admin
SYSTEM = "system"  # periodic tasks

ANY_OPEN = State.OPEN
BEFORE_DONE = State.OPEN  # close: any state before delivered / received


@dataclass(frozen=True)
class Action:
    name: str
    sources: tuple[str, ...]
    target: str | None  # None: the state does not change
    who: frozenset[str]
    requires: tuple[str, ...] = ()  # data keys that must be given
    guards: tuple[str, ...] = ()  # names of checks below
    messages: tuple[str, ...] = ()  # order events for ordering.notify
    customer_visible: bool = True
    label: object = None


def _a(name, sources, target, who, label, **kw):
    return Action(name, tuple(sources), target, frozenset(who), label=label,
                  requires=tuple(kw.get("requires", ())), guards=tuple(kw.get("guards", ())),
                  messages=tuple(kw.get("messages", ())),
                  customer_visible=kw.get("customer_visible", True))


TABLE: dict[str, Action] = {a.name: a for a in [
    _a("submit", [State.DRAFT], State.PENDING, {CUSTOMER, SALES}, _l("Order submitted"),
       messages=["new_order"]),
    _a("edit", [State.PENDING], None, {SALES, CS}, _l("Order changed"),
       requires=["op"], guards=["edit_op"]),
    _a("confirm", [State.PENDING], State.CONFIRMED, {SALES, CS}, _l("Order confirmed"),
       guards=["has_lines"], messages=["order_confirmed"]),
    _a("assign_driver", [State.CONFIRMED, State.ASSIGNED], State.ASSIGNED, {SALES, CS},
       _l("Driver assigned"), requires=["driver_id"], guards=["paid_first", "driver_ok"],
       messages=["driver_assigned", "order_shipping"]),
    _a("ship", [State.CONFIRMED], State.SHIPPED, {SALES, CS}, _l("Shipped without a driver"),
       requires=["ship_method", "note"], guards=["paid_first", "ship_ok"],
       messages=["order_shipped"]),
    _a("ready_for_pickup", [State.CONFIRMED], State.READY_FOR_PICKUP, {SALES, CS},
       _l("Ready for pickup"), guards=["paid_first", "is_pickup"],
       messages=["order_ready_for_pickup"]),
    _a("start_delivery", [State.ASSIGNED], State.DELIVERING, {DRIVER_ASSIGNED},
       _l("Delivery started")),
    _a("complete_delivery", [State.DELIVERING], State.DELIVERED, {DRIVER_ASSIGNED},
       _l("Delivered, signed note uploaded"), guards=["has_photo", "door_ok"],
       messages=["order_delivered"]),
    _a("confirm_receipt", [State.SHIPPED, State.READY_FOR_PICKUP], State.RECEIVED,
       {CUSTOMER}, _l("Receipt confirmed")),
    _a("mark_collected", [State.READY_FOR_PICKUP], State.RECEIVED, {SALES, CS},
       _l("Pickup collected")),
    _a("auto_receive", [State.SHIPPED], State.RECEIVED, {SYSTEM},
       _l("Received automatically")),
    _a("cancel", [State.PENDING], State.CLOSED, {CUSTOMER}, _l("Cancelled by the customer"),
       guards=["release_stock"]),
    _a("close", BEFORE_DONE, State.CLOSED, {SALES, CS}, _l("Order closed"),
       requires=["reason"], guards=["release_stock"], messages=["order_closed"]),
    _a("override", State.ALL, None, {CS}, _l("Status changed by customer service"),
       requires=["target", "remark"], guards=["override_ok"]),
    _a("change_driver", [State.ASSIGNED, State.DELIVERING], None, {CS}, _l("Driver changed"),
       requires=["driver_id"], guards=["driver_ok"], messages=["driver_assigned"]),
    _a("mark_paid", State.ALL, None, {SALES, CS}, _l("Payment recorded"),
       requires=["note"], guards=["unpaid", "payment_ok"]),
    _a("request_refund", State.FINISHED, None, {CUSTOMER}, _l("Refund requested"),
       requires=["reason", "lines"], guards=["refund_request_ok"]),
    _a("decide_refund", State.FINISHED, None, {SALES, CS}, _l("Refund decided"),
       requires=["approve"], guards=["refund_decision_ok"]),
]}

# Where customer service may force an order (the brief's "关闭、发货中、完成等").
OVERRIDE_TARGETS = (State.CLOSED, State.DELIVERING, State.RECEIVED)


@dataclass
class Context:
    order: object
    action: Action
    actor: object
    data: dict
    as_role: str = ""
    remark: str | None = None
    event_data: dict = field(default_factory=dict)
    messages: list = field(default_factory=list)
    message_ctx: dict = field(default_factory=dict)


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


def _refund_waiting(order) -> bool:
    return refunds.waiting(order) is not None


# What the order itself must be for an action to be possible at all (before any data is
# given). `allowed_actions` offers only these; the guards refuse the rest with a message.
POSSIBLE = {
    "mark_paid": lambda o: o.payment_status == "unpaid" and o.state != State.CLOSED,
    "ready_for_pickup": lambda o: o.delivery_method == Delivery.PICKUP,
    "decide_refund": _refund_waiting,
    "request_refund": lambda o: not _refund_waiting(o),
}


def allowed_actions(order, actor) -> list[str]:
    """Actions this actor may take now; data-dependent guards are checked when applied."""
    roles = actor_roles(order, actor)
    return [a.name for a in TABLE.values()
            if order.state in a.sources and a.who & roles and a.name != "submit"
            and POSSIBLE.get(a.name, lambda _o: True)(order)]


def apply(order, action_name: str, actor, **data):
    """Take one action on an order; all or nothing, in one transaction."""
    action = TABLE.get(action_name)
    if action is None:
        raise ValidationError(_l("Unknown action."), "action")
    if order.state != State.DRAFT:
        _lock(order)
    if actor is not SYSTEM and order.state != State.DRAFT and not scope.can_see(actor, order):
        raise NotFound(_l("The page you asked for does not exist."))
    roles = actor_roles(order, actor)
    if not action.who & roles:
        raise PermissionDenied(_l("You may not do this with this order."))
    if order.state not in action.sources:
        raise ValidationError(_l("This cannot be done while the order is “%(state)s”.",
                                 state=_state_label(order.state)), "state")
    for key in action.requires:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValidationError(_MISSING.get(key, _l("Some information is missing.")), key)
    ctx = Context(order, action, actor, data, remark=_clean(data.get("remark")
                                                            or data.get("reason")))
    ctx.as_role = _acting_role(action, roles)
    try:
        for guard in action.guards:
            GUARDS[guard](ctx)
        before = order.state
        target = data["target"] if action.name == "override" else action.target
        if target is not None:
            order.state = target
            _stamp(order, target)
        db.session.add(OrderEvent(
            order=order, actor_id=None if actor is SYSTEM else actor.id,
            actor_label=_actor_label(actor, ctx.as_role), action=action.name,
            from_state=None if before == State.DRAFT else before, to_state=order.state,
            remark=ctx.remark, data=ctx.event_data, customer_visible=action.customer_visible))
        for event in list(action.messages) + ctx.messages:
            notify.order_event(event, order, **ctx.message_ctx.get(event, {}))
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


def _actor_label(actor, role) -> str:
    if actor is SYSTEM:
        return "system"
    return f"{accounts.display_name(actor)} ({role})"[:64]


def _state_label(state):
    from app.ordering.states import STAFF_LABELS

    return STAFF_LABELS.get(state, state)


def _clean(text) -> str | None:
    text = (str(text) if text is not None else "").strip()
    return text[:500] or None


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
}


# ---- guards: each raises ValidationError or does the action's extra work ---------------

def _paid_first(ctx):
    order = ctx.order
    if order.pay_before_shipping and order.payment_status != "paid":
        raise ValidationError(_l("This order must be paid before it ships."), "payment")


def _driver(ctx):
    driver_id = ids.parse_id(ctx.data["driver_id"])
    driver = db.session.get(StaffProfile, driver_id) if driver_id else None
    if driver is None or driver.kind != StaffKind.DRIVER or not driver.active or \
            ctx.order.region_id not in {r.id for r in driver.regions}:
        raise ValidationError(_l("Please choose an active driver of the order's region."),
                              "driver_id")
    if ctx.order.driver_id == driver.id and ctx.action.name == "change_driver":
        raise ValidationError(_l("The order already has this driver."), "driver_id")
    ctx.event_data["driver"] = {"id": driver.id, "name": driver.name, "plate": driver.plate}
    ctx.order.driver = driver


def _ship(ctx):
    method = ctx.data["ship_method"]
    if method not in ("express", "logistics", "other"):
        raise ValidationError(_l("Please choose how it is shipped."), "ship_method")
    note = _clean(ctx.data["note"])
    ctx.order.ship_method, ctx.order.ship_note = method, note[:255]
    ctx.remark = note
    from app.ordering.states import SHIP_METHOD_LABELS

    ctx.message_ctx["order_shipped"] = {"ship": f"{SHIP_METHOD_LABELS[method]}：{note}"}
    ctx.event_data["ship"] = {"method": method, "note": note}


def _is_pickup(ctx):
    if not POSSIBLE["ready_for_pickup"](ctx.order):
        raise ValidationError(_l("Only self-pickup orders can be made ready for pickup."),
                              "delivery_method")
    ctx.message_ctx["order_ready_for_pickup"] = {"pickup": ctx.order.pickup_address or ""}


def _has_photo(ctx):
    if not ctx.order.photos:
        raise ValidationError(_l("Please upload at least one photo of the signed delivery "
                                 "note first."), "photos")


def _door(ctx):
    """Lines refused or short at the door, and cash collected for cash on delivery."""
    order = ctx.order
    lines = {line.id: line for line in order.lines}
    refused = []
    for item in ctx.data.get("refused") or []:
        line = lines.get(ids.parse_id(item.get("line_id")))
        qty = _int(item.get("quantity"))
        if line is None or qty is None or qty < 0 or qty > held_quantity(line):
            raise ValidationError(_l("A refused quantity is not possible for that line."),
                                  "refused")
        if qty:
            line.refused_qty = (line.refused_qty or 0) + qty
            line.refused_reason = _clean(item.get("reason"))
            return_stock(line.spec_id, qty)
            refused.append({"line_id": line.id, "quantity": qty,
                            "reason": line.refused_reason})
    if refused:
        recompute_totals(order)
        ctx.event_data["refused"] = refused
    cash = ctx.data.get("cash_collected")
    if cash not in (None, ""):
        if order.payment_method != Pay.COD:
            raise ValidationError(_l("Cash is recorded only for cash-on-delivery orders."),
                                  "cash_collected")
        amount = _money(cash, "cash_collected")
        order.cash_collected = amount
        ctx.event_data["cash_collected"] = str(amount)
        if amount >= order.total:
            order.payment_status = "paid"
        # No note: the method (cash on delivery) and the driver say what it was.
        db.session.add(Payment(order=order, amount=amount, method=Pay.COD,
                               recorded_by_id=ctx.actor.id))


def _release_stock(ctx):
    for line in ctx.order.lines:
        return_stock(line.spec_id, held_quantity(line))
    if ctx.action.name == "close":
        ctx.message_ctx["order_closed"] = {"reason": f"原因：{ctx.remark}" if ctx.remark
                                           else ""}


def _override(ctx):
    target = ctx.data["target"]
    if target not in OVERRIDE_TARGETS:
        raise ValidationError(_l("Customer service may set an order to closed, out for "
                                 "delivery or received."), "target")
    if target == ctx.order.state:
        raise ValidationError(_l("The order already has this status."), "target")
    if target == State.CLOSED:
        for line in ctx.order.lines:
            return_stock(line.spec_id, held_quantity(line))
    ctx.event_data["override"] = target


def _unpaid(ctx):
    if ctx.order.state == State.CLOSED:
        raise ValidationError(_l("This order is closed."), "state")
    if not POSSIBLE["mark_paid"](ctx.order):
        raise ValidationError(_l("This order is already paid."), "payment")


def _payment(ctx):
    order = ctx.order
    amount = _money(ctx.data.get("amount") or order.total, "amount")
    order.payment_status = "paid"
    db.session.add(Payment(order=order, amount=amount, method=order.payment_method,
                           note=_clean(ctx.data["note"]), recorded_by_id=ctx.actor.id))
    ctx.remark = _clean(ctx.data["note"])
    ctx.event_data["amount"] = str(amount)


def _has_lines(ctx):
    if not [line for line in ctx.order.lines if not line.out_of_stock]:
        raise ValidationError(_l("Every line is out of stock: close the order instead."),
                              "lines")


def _refund_request(ctx):
    from app.ordering.models import Refund

    order = ctx.order
    if _refund_waiting(order):
        raise ValidationError(_l("A refund request for this order is already waiting."),
                              "refund")
    lines = {line.id: line for line in order.lines}
    asked: dict[int, int] = {}  # a line named twice counts once, with both quantities
    for item in ctx.data["lines"]:
        line = lines.get(ids.parse_id(item.get("line_id")))
        qty = _int(item.get("quantity"))
        if line is None or qty is None or qty < 0:
            raise ValidationError(_l("You cannot return more than was delivered."), "lines")
        asked[line.id] = asked.get(line.id, 0) + qty
    wanted = []
    for line_id, qty in asked.items():
        if qty > refunds.returnable_quantity(order, lines[line_id]):
            raise ValidationError(_l("You cannot return more than was delivered."), "lines")
        if qty:
            wanted.append({"line_id": line_id, "quantity": qty})
    if not wanted:
        raise ValidationError(_l("Please choose what to return and how many."), "lines")
    refund = Refund(order=order, reason=_clean(ctx.data["reason"]), lines=wanted,
                    photos=list(ctx.data.get("photos") or []), requested_by_id=ctx.actor.id)
    db.session.add(refund)
    order.refund_status = refunds.REQUESTED
    ctx.event_data["lines"] = wanted


def _refund_decision(ctx):
    order = ctx.order
    refund = refunds.waiting(order)
    if refund is None:
        raise ValidationError(_l("There is no refund request waiting."), "refund")
    approve = str(ctx.data["approve"]).lower() in ("1", "true", "yes", "on")
    refund.decided_by_id, refund.decided_at = ctx.actor.id, utcnow()
    refund.decision_note = ctx.remark
    if approve:
        amount = _money(ctx.data.get("amount"), "amount")
        if amount > refunds.refundable_amount(order):
            raise ValidationError(
                _l("The refund cannot be more than %(amount)s: the order total less the "
                   "refunds already approved.", amount=f"¥{refunds.refundable_amount(order)}"),
                "amount")
        refund.amount = amount
        refund.restock = str(ctx.data.get("restock", "")).lower() in ("1", "true", "yes", "on")
        if refund.restock:
            lines = {line.id: line for line in order.lines}
            for item in refund.lines:
                line = lines.get(item["line_id"])
                if line is not None:
                    return_stock(line.spec_id, item["quantity"])
        refund.status = order.refund_status = refunds.APPROVED
        ctx.messages.append("refund_approved")
        ctx.message_ctx["refund_approved"] = {"amount": refund.amount}
    else:
        if not ctx.remark:
            raise ValidationError(_l("Please give a reason."), "reason")
        refund.status = order.refund_status = refunds.REJECTED
        ctx.messages.append("refund_rejected")
        ctx.message_ctx["refund_rejected"] = {"reason": ctx.remark}
    ctx.event_data["refund"] = {"approved": approve, "amount": str(refund.amount or "")}


def _edit(ctx):
    from app.ordering import edits

    edits.apply_edit(ctx)


GUARDS = {
    "paid_first": _paid_first, "driver_ok": _driver, "ship_ok": _ship, "is_pickup": _is_pickup,
    "has_photo": _has_photo, "door_ok": _door, "release_stock": _release_stock,
    "override_ok": _override, "unpaid": _unpaid, "payment_ok": _payment,
    "has_lines": _has_lines, "refund_request_ok": _refund_request,
    "refund_decision_ok": _refund_decision, "edit_op": _edit,
}


def _int(value):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _money(value, field_name) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount > Decimal("99999999"):
        raise ValidationError(_l("Please enter a valid amount."), field_name)
    return money(amount)


def drivers_for(order) -> list[tuple[StaffProfile, int]]:
    """Drivers of the order's region with their current load (assigned or delivering)."""
    from sqlalchemy import func

    from app.members.models import Region
    from app.ordering.models import Order

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
    from datetime import timedelta

    from app.ordering.models import Order
    from app.platform.settings import get_settings

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

