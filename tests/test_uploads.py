"""Hostile uploads are refused with a message and nothing stored; good ones come out clean."""

import io
import os
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin
from werkzeug.datastructures import FileStorage

from app.platform import uploads
from app.platform.errors import ValidationError
from tests.images import image_bytes


def _file(data: bytes, name="photo.jpg") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def _stored_files(app) -> list[str]:
    root = app.config["MEDIA_ROOT"]
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def _bomb_png(width, height) -> bytes:
    """A PNG header claiming width x height pixels, with a tiny compressed body."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = zlib.compress(b"\x00" * 1024)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", raw)
            + _png_chunk(b"IEND", b""))


def _ztxt_bomb() -> bytes:
    info = PngImagePlugin.PngInfo()
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG", pnginfo=info)
    data = out.getvalue()
    bomb = _png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * (50 * 1024 * 1024)))
    return data[:33] + bomb + data[33:]


def _animated(fmt) -> bytes:
    out = io.BytesIO()
    frames = [Image.new("RGB", (16, 16), (i * 40, 0, 0)) for i in range(5)]
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:])
    return out.getvalue()


HOSTILE = {
    "text named .jpg": (b"hello, I am not an image" * 10, "x.jpg"),
    "svg with script": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
                        b"<script>alert(1)</script></svg>", "x.jpg"),
    "eps named .jpg": (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
                       "x.jpg"),
    "html": (b"<html><script>alert(1)</script></html>", "x.png"),
    "truncated jpeg": (image_bytes("JPEG", (400, 300))[:600], "x.jpg"),
    "pixel bomb": (_bomb_png(20000, 20000), "x.png"),
    "animated png": (_animated("PNG"), "x.png"),
    "animated webp": (_animated("WEBP"), "x.webp"),
    "ztxt bomb": (_ztxt_bomb(), "x.png"),
    "gif": (image_bytes("GIF", (10, 10), mode="P", color=1), "x.gif"),
    "empty": (b"", "x.jpg"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_refused_and_nothing_is_stored(app, ctx, name):
    data, filename = HOSTILE[name]
    with pytest.raises(ValidationError) as info:
        uploads.save_image(_file(data, filename))
    assert str(info.value.message)  # a message for the person
    assert _stored_files(app) == []


def test_a_30_mb_file_is_refused(app, ctx):
    data = image_bytes("JPEG", (16, 16)) + os.urandom(30 * 1024 * 1024)
    with pytest.raises(ValidationError, match="10 MB"):
        uploads.save_image(_file(data))
    assert _stored_files(app) == []


def test_appended_payload_is_dropped_by_reencoding(app, ctx):
    payload = b"<?php system($_GET['c']); ?>" + b"PK\x03\x04zipfile"
    stored = uploads.save_image(_file(image_bytes("JPEG", (120, 80)) + payload))
    data = uploads.get_storage().read(stored.key)
    assert payload not in data and b"php" not in data
    assert Image.open(io.BytesIO(data)).size == (120, 80)


def test_exif_orientation_applied_and_metadata_dropped(app, ctx):
    im = Image.new("RGB", (400, 200), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    exif[0x010E] = "secret description"
    exif[0x8825] = {1: "N", 2: (20.0, 2.0, 0.0), 3: "E", 4: (110.0, 20.0, 0.0)}  # GPS
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif.tobytes(), comment=b"my comment")
    stored = uploads.save_image(_file(out.getvalue()))
    data = uploads.get_storage().read(stored.key)
    clean = Image.open(io.BytesIO(data))
    assert clean.size == (200, 400)  # upright
    assert not clean.getexif() and b"secret description" not in data
    assert b"my comment" not in data and "comment" not in clean.info
    thumb = Image.open(io.BytesIO(uploads.get_storage().read(stored.thumb_key)))
    assert max(thumb.size) <= 400


def test_phone_mpo_png_and_webp_are_accepted(app, ctx):
    out = io.BytesIO()
    frames = [Image.new("RGB", (64, 48), (200, 0, 0)), Image.new("RGB", (32, 24), (0, 0, 0))]
    frames[0].save(out, "MPO", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    for data, name in ((out.getvalue(), "phone.jpg"),
                       (image_bytes("PNG", (30, 30), mode="RGBA", color=(0, 0, 0, 0)), "a.png"),
                       (image_bytes("WEBP", (30, 30)), "a.webp")):
        stored = uploads.save_image(_file(data, name))
        assert uploads.get_storage().exists(stored.key)
        assert uploads.get_storage().exists(stored.thumb_key)


def test_large_photo_is_scaled_down_for_storage(app, ctx):
    stored = uploads.save_image(_file(image_bytes("JPEG", (4000, 3000))))
    assert (stored.width, stored.height) == (2560, 1920)


def test_media_serves_public_only_and_no_path_tricks(app, ctx, client):
    transparent = image_bytes("PNG", (10, 10), mode="RGBA", color=(0, 0, 0, 0))
    stored = uploads.save_image(_file(transparent, "a.png"))
    resp = client.get("/media/" + stored.key)
    assert resp.status_code == 200 and resp.mimetype == "image/png"  # alpha kept as PNG
    opaque = uploads.save_image(_file(image_bytes("PNG", (10, 10)), "b.png"))
    assert client.get("/media/" + opaque.key).mimetype == "image/jpeg"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    for bad in ("private/x.jpg", "public/../private/x.jpg", "../config.py",
                "public/%2e%2e/%2e%2e/config.py", "public/nothing.jpg"):
        assert client.get("/media/" + bad).status_code == 404, bad


def test_an_uploaded_file_is_kept_only_up_to_the_size_we_accept():
    from app.platform.requests import CappedFile

    stored = CappedFile(10)
    for _ in range(1000):  # 100 kB arrive; 10 bytes are kept
        assert stored.write(b"x" * 100) == 100
    stored.seek(0)
    assert stored.read() == b"x" * 10
