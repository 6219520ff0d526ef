"""Who may open an order's private files (delivery-note photos, refund photos): exactly
the people who may see the order (scope.order_condition); anyone else gets 404."""

from sqlalchemy import select

from app.extensions import db
from app.models import Order
from app.platform import ids
from app.services import scope


def order_folder(order_id: int, kind: str) -> str:
    """Upload folder of an order's files: private/order/<id>/<kind>/..."""
    return f"order/{int(order_id)}/{kind}"


def can_view_order_file(user, order_id_text: str) -> bool:
    order_id = ids.parse_id(order_id_text)
    if order_id is None:
        return False
    return db.session.scalar(select(Order.id).where(
        Order.id == order_id, scope.order_condition(user))) is not None
