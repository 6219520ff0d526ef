"""Uploaded files under /media/: public images for everyone; private ones are checked."""

import mimetypes

from flask import Blueprint, Response, abort

from ..services.uploads import get_storage, is_public_key

bp = Blueprint("media", __name__, url_prefix="/media")


@bp.route("/<path:key>")
def serve(key):
    # Private photos get their own checked views with the members and orders issues;
    # until then nothing private is served at all.
    if not is_public_key(key):
        abort(404)
    storage = get_storage()
    if not storage.exists(key):
        abort(404)
    mime = mimetypes.guess_type(key)[0] or "application/octet-stream"
    resp = Response(storage.read(key), mimetype=mime)
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
