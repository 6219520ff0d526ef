"""Untrusted image uploads: checked, decoded with limits, re-encoded, thumbnailed, stored.

Only the pixels survive: every accepted image is decoded by Pillow and written anew,
so EXIF (GPS), comments, ICC tricks and anything appended to the file are dropped.
Files are named by the server. Public images live under "public/", private photos
(licences, delivery notes) under "private/" and are served only after a permission
check (app/views/media.py).
"""

import contextlib
import hashlib
import io
import os
import uuid
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from PIL import Image, ImageFile, ImageOps, PngImagePlugin, UnidentifiedImageError

from app.platform.errors import ValidationError

# Formats we accept, by Pillow's name. Phones save JPEGs with a depth map or a
# preview as MPO; its first frame is the photo.
ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}
MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF")
MAX_FRAMES = {"MPO": 4}  # other formats must be single-frame (no animated bombs)
MAX_STORED_SIDE = 2560
THUMB_SIZE = (400, 400)
# Compressed PNG text chunks may not expand beyond this (zTXt/iTXt bombs).
PngImagePlugin.MAX_TEXT_CHUNK = 256 * 1024
PngImagePlugin.MAX_TEXT_MEMORY = 1024 * 1024
ImageFile.LOAD_TRUNCATED_IMAGES = False


class Storage(Protocol):
    def save(self, key: str, data: bytes) -> None: ...
    def read(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files in a local folder (MEDIA_ROOT); keys are relative paths made by us."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def path(self, key: str) -> str:
        full = os.path.abspath(os.path.join(self.root, key))
        if not full.startswith(self.root + os.sep):
            raise ValueError("key outside the media root")
        return full

    def save(self, key: str, data: bytes) -> None:
        full = self.path(key)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        tmp = full + ".part"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, full)

    def read(self, key: str) -> bytes:
        with open(self.path(key), "rb") as fh:
            return fh.read()

    def exists(self, key: str) -> bool:
        try:
            return os.path.isfile(self.path(key))
        except ValueError:
            return False

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError, ValueError):
            os.remove(self.path(key))


def get_storage() -> Storage:
    return LocalStorage(current_app.config["MEDIA_ROOT"])


@dataclass(frozen=True)
class StoredImage:
    key: str
    thumb_key: str
    width: int
    height: int
    sha256: str = ""  # of the stored image: the same upload stores the same bytes


def thumb_key_of(key: str) -> str:
    base, ext = os.path.splitext(key)
    return f"{base}_t{ext}"


def media_url(key: str | None, thumb: bool = False) -> str | None:
    """The path a stored image is served at (/media/, app/views/media.py), or None."""
    if not key:
        return None
    return "/media/" + (thumb_key_of(key) if thumb else key)


SIGNED_SALT = "media-url"


def _signer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SIGNED_SALT)


def signed_media_url(key: str | None, thumb: bool = False) -> str | None:
    """A short-lived path to a private photo for a client without cookies (the API: the
    mini program's <image> sends no Authorization header). Whoever holds it may fetch
    the photo until MEDIA_URL_TTL seconds after it was made, so it is given only to a
    person the services let see the photo, and kept out of logs and caches."""
    if not key:
        return None
    return "/media/signed/" + _signer().dumps(thumb_key_of(key) if thumb else key)


def key_of_signed(token: str) -> str | None:
    """The key a signed path was made for, or None once expired, altered or not ours."""
    try:
        key = _signer().loads(token, max_age=current_app.config["MEDIA_URL_TTL"])
    except BadSignature:  # SignatureExpired is one
        return None
    return key if isinstance(key, str) else None


def original_key_of(key: str) -> str:
    """The image a key belongs to: itself, or the original of a thumbnail."""
    base, ext = os.path.splitext(key)
    return base[:-2] + ext if base.endswith("_t") else key


def _refuse(message=None):
    raise ValidationError(message or _l("This file is not a JPEG, PNG or WebP image."), "image")


def _read_limited(stream, limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(
            _l("The image is too large (at most %(mb)d MB).", mb=limit // (1024 * 1024)), "image")
    if not data:
        raise ValidationError(_l("The file is empty."), "image")
    return data


def decode_image(data: bytes) -> Image.Image:
    """Decode untrusted bytes into a clean RGB/RGBA image, or raise ValidationError."""
    if not data.startswith(MAGIC) or (data.startswith(b"RIFF") and data[8:12] != b"WEBP"):
        _refuse()
    max_pixels = current_app.config["MAX_IMAGE_PIXELS"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = max_pixels
            im = Image.open(io.BytesIO(data))
            if im.format not in ACCEPTED_FORMATS:
                _refuse()
            width, height = im.size
            if width * height > max_pixels or width < 1 or height < 1:
                _refuse(_l("The image has too many pixels."))
            frames = getattr(im, "n_frames", 1)
            if frames > MAX_FRAMES.get(im.format, 1):
                _refuse(_l("Animated or multi-frame images are not accepted."))
            im.seek(0)
            im.load()
            ImageOps.exif_transpose(im, in_place=True)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _refuse(_l("The image has too many pixels."))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        _refuse(_l("The image is damaged or incomplete."))
    has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    mode = "RGBA" if has_alpha else "RGB"
    return im if im.mode == mode else im.convert(mode)


def _fresh(im: Image.Image) -> Image.Image:
    """A new image holding the pixels alone: no EXIF, GPS, comments, ICC or other info."""
    fresh = Image.new(im.mode, im.size)
    fresh.paste(im)
    return fresh


def _encode(im: Image.Image) -> tuple[bytes, str]:
    out = io.BytesIO()
    if im.mode == "RGBA":
        im.save(out, "PNG", optimize=True)
        return out.getvalue(), ".png"
    im.save(out, "JPEG", quality=85, progressive=True)
    return out.getvalue(), ".jpg"


def save_image(file_storage, *, private: bool = False, folder: str = "img") -> StoredImage:
    """Check, re-encode, thumbnail and store an uploaded image. Nothing is stored on error."""
    if file_storage is None or not getattr(file_storage, "filename", None):
        raise ValidationError(_l("Please choose an image."), "image")
    data = _read_limited(file_storage.stream, current_app.config["MAX_UPLOAD_BYTES"])
    im = decode_image(data)
    del data
    if max(im.size) > MAX_STORED_SIDE:
        im.thumbnail((MAX_STORED_SIDE, MAX_STORED_SIDE), Image.Resampling.LANCZOS)
    im = _fresh(im)
    body, ext = _encode(im)
    thumb = im.copy()
    thumb.thumbnail(THUMB_SIZE, Image.Resampling.LANCZOS)
    thumb_body, _ = _encode(thumb)
    now = datetime.now(UTC)
    key = (f"{'private' if private else 'public'}/{folder}/{now:%Y%m}/"
           f"{uuid.uuid4().hex}{ext}")
    storage = get_storage()
    storage.save(key, body)
    storage.save(thumb_key_of(key), thumb_body)
    return StoredImage(key, thumb_key_of(key), im.size[0], im.size[1],
                       hashlib.sha256(body).hexdigest())


def delete_image(key: str | None) -> None:
    if key:
        storage = get_storage()
        storage.delete(key)
        storage.delete(thumb_key_of(key))


def is_public_key(key: str) -> bool:
    return key.startswith("public/") and ".." not in key
