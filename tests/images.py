"""Image files made on the fly for upload tests."""

import io

from PIL import Image


def image_bytes(fmt="JPEG", size=(64, 48), color=(200, 30, 30), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def upload(data: bytes, name="photo.jpg"):
    return (io.BytesIO(data), name)
