"""Upload overhead: accept + thumbnail a 12-megapixel phone photo through our checks,
beside Pillow's own bare decode + save of the same file, in the same run.

    .venv/bin/python bench/uploads.py [--runs 5]

Prints wall time (median) and the peak memory added (resident set, measured in a child
process per variant, so Pillow's C buffers count) for each, and their ratio:
the ratio is the overhead of our checks (magic bytes, pixel cap, frame count, EXIF
orientation, re-encoding into a fresh image, downscale, thumbnail, storage).
"""

import argparse
import io
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("PIFA_ENV", "development")

from PIL import Image  # noqa: E402
from werkzeug.datastructures import FileStorage  # noqa: E402


def phone_photo(width=4000, height=3000) -> bytes:
    """A 12 MP JPEG with an EXIF rotation tag and GPS, with real-looking noise."""
    im = Image.effect_noise((width, height), 64).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (20.0, 2.0, 0.0), 3: "E", 4: (110.0, 20.0, 0.0)}
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child(kind, data, media, runs, queue):
    if kind == "ours":
        from app import create_app
        from app.platform import uploads

        app = create_app({"TESTING": True, "MEDIA_ROOT": media,
                          "SQLALCHEMY_DATABASE_URI": "sqlite://"})

        def fn():
            with app.app_context():
                uploads.save_image(FileStorage(stream=io.BytesIO(data), filename="p.jpg"),
                                   private=True, folder="bench")
    else:
        def fn():
            im = Image.open(io.BytesIO(data))
            im.load()
            out = io.BytesIO()
            im.save(out, "JPEG", quality=85)
    base = _rss()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    queue.put((statistics.median(times), _rss() - base))


def measure(kind, data, media, runs):
    queue = multiprocessing.get_context("fork").Queue()
    proc = multiprocessing.get_context("fork").Process(
        target=_child, args=(kind, data, media, runs, queue))
    proc.start()
    result = queue.get(timeout=600)
    proc.join()
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = phone_photo()
    print(f"photo: 4000x3000 JPEG, {len(data) / 1e6:.1f} MB, EXIF rotation + GPS")

    with tempfile.TemporaryDirectory() as media:
        bare_t, bare_mem = measure("bare", data, media, args.runs)
        ours_t, ours_mem = measure("ours", data, media, args.runs)
    print(f"Pillow bare decode + save : {bare_t * 1000:8.0f} ms   peak {bare_mem / 1e6:7.1f} MB")
    print(f"Pifa accept + thumbnail   : {ours_t * 1000:8.0f} ms   peak {ours_mem / 1e6:7.1f} MB")
    print(f"ratio (ours / bare)       : time {ours_t / bare_t:.2f}x   memory "
          f"{ours_mem / max(bare_mem, 1):.2f}x")


if __name__ == "__main__":
    main()
