"""The cart rule: positive multiples of the MOQ, on-shelf specs only, stock respected.

Enforced here, on the server, for every way a quantity reaches a cart (the product
page's stepper, a reorder, the API), not only by the page's buttons.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from app.catalog import pricing
from app.catalog.models import Product, Spec
from app.extensions import db
from app.ordering.models import CartLine
from app.platform import ids
from app.platform.errors import PermissionDenied, ValidationError
from app.platform.transactions import atomic

MAX_QUANTITY = 1_000_000
ADD_ATTEMPTS = 3


def moq(spec: Spec) -> int:
    return spec.pack_unit.inner_qty


def parse_quantity(raw) -> int:
    try:
        text = str(raw).strip()
        if not text.lstrip("-").isdigit() or len(text) > 9:
            raise ValueError
        return int(text)
    except (TypeError, ValueError):
        raise ValidationError(_l("Please enter the quantity as a whole number."),
                              "quantity") from None


def check_quantity(spec: Spec, quantity: int) -> int:
    """Raise ValidationError unless `quantity` base units of `spec` may be ordered."""
    name = f"{spec.product.name} {spec!r}".strip()
    if not spec.active or not spec.product.on_shelf:
        raise ValidationError(_l("%(name)s is no longer on sale.", name=name), "spec")
    step = moq(spec)
    unit = spec.pack_unit
    if quantity <= 0 or quantity > MAX_QUANTITY:
        raise ValidationError(_l("%(name)s: the quantity must be at least one %(pack)s.",
                                 name=name, pack=unit.inner_unit), "quantity")
    if quantity % step:
        raise ValidationError(
            _l("%(name)s is sold by the %(pack)s of %(n)d %(unit)s: order a multiple of %(n)d.",
               name=name, pack=unit.inner_unit, n=step, unit=unit.base_unit), "quantity")
    if quantity > spec.stock:
        raise ValidationError(_l("%(name)s: only %(stock)d %(unit)s in stock.", name=name,
                                 stock=spec.stock, unit=unit.base_unit), "quantity")
    return quantity


@atomic
def add_to_cart(user, quantities: dict[int, object]) -> int:
    """Add {spec id: quantity in base units}; all valid or nothing added. Returns lines added."""
    access = pricing.price_access(user)
    if not access.can_order:
        raise PermissionDenied(_l("Only approved members can order. Wholesale prices and "
                                  "ordering open after approval."))
    wanted = {}
    for spec_id, raw in quantities.items():
        quantity = parse_quantity(raw)
        if quantity == 0:
            continue
        spec_key = ids.parse_id(spec_id)
        if spec_key is None:  # beyond any id the database holds (PostgreSQL: 32-bit)
            raise ValidationError(_l("That spec does not exist."), "spec")
        wanted[spec_key] = quantity
    if not wanted:
        raise ValidationError(_l("Please choose a quantity for at least one spec."), "quantity")
    # Two phones of one shop may add while a third checks out: a line that another
    # request inserted, changed or ordered meanwhile makes the write fail; read the cart
    # again and redo the add on what is there now.
    for _attempt in range(ADD_ATTEMPTS):
        try:
            return _add(user, wanted, access)
        except (StaleDataError, IntegrityError):
            db.session.rollback()
    raise ValidationError(_l("Your cart was changed on another device at the same time. "
                             "Please try again."), "cart")


def _add(user, wanted: dict[int, int], access) -> int:
    specs = {s.id: s for s in db.session.scalars(
        select(Spec).options(joinedload(Spec.product), joinedload(Spec.pack_unit))
        .where(Spec.id.in_(wanted)))}
    if len(specs) != len(wanted):
        raise ValidationError(_l("That spec does not exist."), "spec")
    # Locked until commit: two adds of one line add up instead of one overwriting the other.
    lines = {line.spec_id: line for line in db.session.scalars(
        select(CartLine).where(CartLine.user_id == user.id, CartLine.spec_id.in_(wanted))
        .with_for_update())}
    totals = {}
    for spec_id, quantity in wanted.items():  # check everything before changing anything
        line = lines.get(spec_id)
        totals[spec_id] = check_quantity(specs[spec_id],
                                         quantity + (line.quantity if line else 0))
    prices = pricing.unit_prices(list(specs.values()), access)
    for spec_id, total in totals.items():
        spec = specs[spec_id]
        line = lines.get(spec_id)
        if line is None:
            line = CartLine(user_id=user.id, spec_id=spec_id, quantity=0)
            db.session.add(line)
        line.quantity = total
        line.unit_price_at_add = prices.get(spec_id)
        line.moq_at_add = moq(spec)
    db.session.commit()
    return len(wanted)


def cart_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return db.session.scalar(select(func.count(CartLine.id)).where(
        CartLine.user_id == user.id)) or 0


def on_shelf_products():
    return select(Product).where(Product.on_shelf.is_(True))
