"""What the driver end 司机端 lists, the loading list 拣货单, and delivery-note photos.

The driver end's lists are in ordering/queries.py. State changes are not made here: the
screens call workflow.apply ('start_delivery', 'complete_delivery'). Photos of the signed
delivery note are not a state change; add_delivery_photos keeps them as DeliveryPhoto
rows. driver_money decides the only money a driver page shows.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.catalog.pricing import money
from app.extensions import db
from app.ordering import queries, scope
from app.ordering.lines import held_quantity
from app.ordering.models import DeliveryPhoto, Order
from app.ordering.states import Pay, PaymentStatus, State
from app.platform import ids, uploads
from app.platform.errors import NotFound, PermissionDenied, ValidationError
from app.platform.transactions import atomic

MAX_PHOTOS_PER_ORDER = 20  # signed notes of one order; more is a mistake or abuse
PHOTO_STATES = (State.ASSIGNED, State.DELIVERING)
UPLOAD_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")



def is_my_order(order: Order, user) -> bool:
    """Whether the order is assigned to this person as its driver."""
    driver = scope.driver_of(user)
    return driver is not None and order.driver_id == driver.id


# ---- the loading list 拣货单 -----------------------------------------------------------------

def split_packs(quantity: int, inner_qty: int, outer_qty: int) -> tuple[int, int, int]:
    """Base units as (outer packs, inner packs, loose units): 860 把 at 20/盒, 400/箱 is
    (2, 3, 0)."""
    outer = inner = 0
    rest = quantity
    if outer_qty and outer_qty > 1:
        outer, rest = divmod(rest, outer_qty)
    if inner_qty and inner_qty > 1:
        inner, rest = divmod(rest, inner_qty)
    return outer, inner, rest


def pack_text(quantity: int, base_unit: str, inner_unit: str, inner_qty: int,
              outer_unit: str, outer_qty: int) -> str:
    """ "2 箱 3 盒 = 860 把" (just "860 把" when no pack fits)."""
    outer, inner, loose = split_packs(quantity, inner_qty, outer_qty)
    parts = []
    if outer:
        parts.append(f"{outer} {outer_unit}")
    if inner:
        parts.append(f"{inner} {inner_unit}")
    if loose and parts:
        parts.append(f"{loose} {base_unit}")
    if not parts:
        return f"{quantity} {base_unit}"
    return f"{' '.join(parts)} = {quantity} {base_unit}"


def line_packs(line, quantity: int | None = None) -> str:
    """An order line's quantity (or `quantity` of it) as cartons, boxes and units."""
    return pack_text(line.quantity if quantity is None else quantity, line.base_unit,
                     line.inner_unit, line.inner_qty, line.outer_unit, line.outer_qty)


@dataclass
class LoadRow:
    """One product, spec and packing of the loading list, summed over my orders."""

    product_name: str
    model: str | None
    spec_text: str | None
    base_unit: str
    inner_unit: str
    inner_qty: int
    outer_unit: str
    outer_qty: int
    quantity: int = 0
    order_nos: list[str] = field(default_factory=list)

    @property
    def packs(self) -> tuple[int, int, int]:
        return split_packs(self.quantity, self.inner_qty, self.outer_qty)

    @property
    def text(self) -> str:
        return pack_text(self.quantity, self.base_unit, self.inner_unit, self.inner_qty,
                         self.outer_unit, self.outer_qty)


@dataclass
class LoadingList:
    rows: list[LoadRow]
    orders: list[Order]


def loading_list(user) -> LoadingList:
    """Every line of the orders assigned to me (not yet out), added up by spec and pack.

    Lines out of stock or already refused do not leave the warehouse (held_quantity).
    Lines are grouped by what they were ordered as (spec and the packing kept on the
    line), so one spec sold under two packings is two rows.
    """
    orders = db.session.scalars(
        queries.driver_tab(user, "to_load").options(joinedload(Order.member),
                                                   selectinload(Order.lines))
        .order_by(Order.id)).unique().all()
    rows: dict[tuple, LoadRow] = {}
    for order in orders:
        for line in order.lines:
            qty = held_quantity(line)
            if qty <= 0:
                continue
            key = (line.spec_id if line.spec_id is not None else f"x{line.product_name}",
                   line.model, line.spec_text, line.base_unit, line.inner_unit,
                   line.inner_qty, line.outer_unit, line.outer_qty)
            row = rows.get(key)
            if row is None:
                row = rows[key] = LoadRow(line.product_name, line.model, line.spec_text,
                                          line.base_unit, line.inner_unit, line.inner_qty,
                                          line.outer_unit, line.outer_qty)
            row.quantity += qty
            if order.order_no not in row.order_nos:
                row.order_nos.append(order.order_no)
    ordered = sorted(rows.values(), key=lambda r: (r.product_name, r.model or "",
                                                   r.spec_text or "", r.inner_qty))
    return LoadingList(ordered, list(orders))


# ---- photos of the signed delivery note -------------------------------------------------------

def may_add_photos(order: Order, actor) -> bool:
    return is_my_order(order, actor) and order.state in PHOTO_STATES


def _check_photo_change(order: Order, actor) -> None:
    """Only the order's assigned driver, while the order is assigned or out for delivery,
    adds or removes photos of its delivery note."""
    driver = scope.driver_of(actor)
    if driver is None or order.driver_id != driver.id:
        raise PermissionDenied(_l("Only the order's driver may add photos of its delivery "
                                  "note."))
    if order.state not in PHOTO_STATES:
        raise ValidationError(_l("Photos of the delivery note can be added only while the "
                                 "order is assigned to you or out for delivery."), "state")


@atomic
def add_delivery_photos(order: Order, files, actor, upload_id: str | None = None
                        ) -> list[DeliveryPhoto]:
    """Store photos of the signed delivery note of an order; all or nothing.

    Each file is checked and re-encoded by uploads.save_image (private, in the order's
    folder); if any file is refused, the ones already stored are removed and nothing
    is added.
    """
    _check_photo_change(order, actor)
    files = [f for f in (files or []) if f is not None and getattr(f, "filename", None)]
    if not files:
        raise ValidationError(_l("Please choose an image."), "photos")
    if len(order.photos) + len(files) > MAX_PHOTOS_PER_ORDER:
        raise ValidationError(_l("An order can have at most %(n)d photos.",
                                 n=MAX_PHOTOS_PER_ORDER), "photos")
    folder = scope.order_folder(order.id, "delivery")
    stored: list[str] = []
    try:
        photos = []
        for file in files:
            image = uploads.save_image(file, private=True, folder=folder)
            stored.append(image.key)
            photo = DeliveryPhoto(order=order, key=image.key, uploaded_by_id=actor.id,
                                  upload_id=upload_id)
            db.session.add(photo)
            photos.append(photo)
        db.session.commit()
    except Exception:
        db.session.rollback()
        for key in stored:
            uploads.delete_image(key)
        raise
    return photos


def _photo_by_upload(order: Order, upload_id: str) -> DeliveryPhoto | None:
    return db.session.scalar(select(DeliveryPhoto).where(
        DeliveryPhoto.order_id == order.id, DeliveryPhoto.upload_id == upload_id))


@atomic
def add_delivery_photo_once(order: Order, file, actor, upload_id) -> DeliveryPhoto:
    """One photo with the client's id for this upload. Sent again (a retry on a weak
    signal, the answer lost), the photo stored the first time is returned and nothing
    more is stored."""
    upload_id = str(upload_id or "")
    if not UPLOAD_ID_RE.match(upload_id):
        raise ValidationError(_l("Each photo needs an upload id (8 to 64 letters, digits, "
                                 "- or _)."), "upload_id")
    _check_photo_change(order, actor)
    existing = _photo_by_upload(order, upload_id)
    if existing is not None:
        return existing
    try:
        return add_delivery_photos(order, [file], actor, upload_id=upload_id)[0]
    except IntegrityError:  # its twin, sent at the same time, was stored first
        existing = _photo_by_upload(order, upload_id)
        if existing is None:
            raise
        return existing


@atomic
def remove_delivery_photo(order: Order, photo_id, actor) -> None:
    """A wrong photo removed by the driver before completing the delivery."""
    _check_photo_change(order, actor)
    photo = next((p for p in order.photos if p.id == ids.parse_id(photo_id)), None)
    if photo is None:
        raise NotFound(_l("That photo is not on this order."))
    key = photo.key
    db.session.delete(photo)
    db.session.commit()
    uploads.delete_image(key)


# ---- the driver end -----------------------------------------------------------------------

@dataclass(frozen=True)
class DriverMoney:
    """The only money a driver page shows of an order."""

    collect: Decimal | None = None  # cash to collect at the door
    collected: Decimal | None = None  # cash this driver recorded on delivery


NO_DRIVER_MONEY = DriverMoney()


def driver_money(order: Order, user) -> DriverMoney:
    """What money `user` may see of `order` on a driver page: for the order's own driver,
    the amount to collect of a cash-on-delivery order not paid yet and not delivered yet,
    and the cash they recorded; nothing for any other order or person."""
    if order.payment_method != Pay.COD or order.driver_id is None \
            or order.driver_id != _driver_id(user):
        return NO_DRIVER_MONEY
    # Cash is due while the order is with its driver (loading or out for delivery): before,
    # no driver collects it; after (delivered, received, closed), the door is behind them.
    due = order.payment_status == PaymentStatus.UNPAID and order.state in (State.ASSIGNED,
                                                               State.DELIVERING)
    return DriverMoney(collect=money(order.total) if due else None,
                       collected=order.cash_collected)


def _driver_id(user) -> int | None:
    driver = scope.driver_of(user)
    return driver.id if driver is not None else None
