"""Uploaded files under /media/: public images for everyone; private photos checked.

A private photo (shop front, business licence; later delivery notes) is served only to
the people the services say may see it; anyone else gets 404, as if it did not exist.
"""

import mimetypes

from flask import Blueprint, Response, abort
from flask_login import current_user

from app.ordering import scope
from app.platform.errors import NotFound
from app.platform.uploads import get_storage, is_public_key, key_of_signed

bp = Blueprint("media", __name__, url_prefix="/media")


def _allowed(key: str) -> bool:
    if is_public_key(key):
        return True
    if not key.startswith("private/") or ".." in key:
        return False
    parts = key.split("/")
    if len(parts) > 3 and parts[1] == "order":  # private/order/<id>/...: the order's people
        return scope.can_view_order_file(current_user, parts[2])
    try:
        scope.member_for_photo(current_user, key)
    except NotFound:
        return False
    return True


@bp.route("/signed/<token>")
def serve_signed(token):
    """A private photo by a signed path (uploads.signed_media_url): the API decided who
    may see it when it made the path."""
    key = key_of_signed(token)
    if key is None or not key.startswith("private/") or ".." in key:
        abort(404)
    resp = _send(key)
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


@bp.route("/<path:key>")
def serve(key):
    if not _allowed(key):
        abort(404)
    return _send(key)


def _send(key: str):
    storage = get_storage()
    if not storage.exists(key):
        abort(404)
    mime = mimetypes.guess_type(key)[0] or "application/octet-stream"
    resp = Response(storage.read(key), mimetype=mime)
    if is_public_key(key):
        resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
