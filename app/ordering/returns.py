"""A customer's refund or return request: what they ask back, why, and their photos.

The photos are kept private with the order's files (ordering/scope.py decides who may
open them), at most MAX_PHOTOS; a request the workflow refuses keeps none of them."""

from app.ordering import scope, workflow
from app.platform import uploads
from app.platform.errors import DomainError

MAX_PHOTOS = 6


def request_refund(order, customer, reason, quantities: dict, photos) -> None:
    """`quantities`: {line id: quantity to return (text as typed)}; `photos`: uploads."""
    lines = [{"line_id": line_id, "quantity": quantity or "0"}
             for line_id, quantity in quantities.items()]
    stored = []
    try:
        for photo in [p for p in photos if p and p.filename][:MAX_PHOTOS]:
            stored.append(uploads.save_image(photo, private=True,
                                             folder=scope.order_folder(order.id, "refund")).key)
        workflow.apply(order, "request_refund", customer, reason=reason, lines=lines,
                       photos=stored)
    except DomainError:
        for key in stored:
            uploads.delete_image(key)
        raise
