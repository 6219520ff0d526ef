"""Pictures for the demo catalog, drawn with Pillow (no downloads, no bundled fonts).

Each picture is a flat colour derived from a name (the product's category, a brand)
with a simple drawn shape (bottle, roll, box, ...) and a short text. Latin text uses
Pillow's default font; Chinese text is drawn only when the system has a CJK font
(Noto / WenQuanYi), otherwise a Latin fallback is drawn. Every function returns PNG
bytes, which the demo loader stores through platform.uploads like any upload.
"""

import colorsys
import hashlib
import io
import os
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

# Looked up in this order; none is required.
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)

SHAPES = ("bottle", "tub", "roll", "box", "circle", "cup", "slipper", "comb", "bag", "sachet")

WHITE = (255, 255, 255)
INK = (51, 51, 51)


def colour_for(name: str, saturation: float = 0.45, value: float = 0.88) -> tuple:
    """A stable, pleasant colour for a name (same name, same colour)."""
    digest = hashlib.md5(name.encode("utf-8"), usedforsecurity=False).digest()
    hue = digest[0] / 255
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, value)
    return int(r * 255), int(g * 255), int(b * 255)


def _shade(colour: tuple, factor: float) -> tuple:
    """factor < 1 darkens, > 1 lightens toward white."""
    if factor <= 1:
        return tuple(int(c * factor) for c in colour)
    return tuple(int(c + (255 - c) * (factor - 1)) for c in colour)


@lru_cache(maxsize=1)
def _cjk_font_path() -> str | None:
    return next((p for p in CJK_FONTS if os.path.isfile(p)), None)


@lru_cache(maxsize=32)
def _font(size: int, cjk: bool = False):
    path = _cjk_font_path() if cjk else None
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def has_cjk_font() -> bool:
    return _cjk_font_path() is not None


def _text(draw, xy, text, size, fill, fallback=None, anchor="mm"):
    """Draw text centred on xy; Chinese only with a CJK font, else the Latin fallback."""
    if not text.isascii():
        if not has_cjk_font():
            if not fallback:
                return
            text = fallback
        else:
            draw.text(xy, text, font=_font(size, cjk=True), fill=fill, anchor=anchor)
            return
    draw.text(xy, text, font=_font(size), fill=fill, anchor=anchor)


def _png(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, "PNG", compress_level=1)
    return out.getvalue()


# ---- shapes, drawn in a box (x0, y0, x1, y1) --------------------------------------------

def _draw_shape(draw, shape: str, box: tuple, colour: tuple) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2
    dark, light = _shade(colour, 0.65), _shade(colour, 1.5)
    line = max(2, int(w / 60))
    if shape == "bottle":
        neck = w * 0.14
        draw.rounded_rectangle((cx - neck, y0, cx + neck, y0 + h * 0.12), radius=4, fill=dark)
        draw.rounded_rectangle((cx - neck * 1.2, y0 + h * 0.1, cx + neck * 1.2, y0 + h * 0.22),
                               radius=6, fill=light)
        draw.rounded_rectangle((x0 + w * 0.22, y0 + h * 0.2, x1 - w * 0.22, y1), radius=int(w / 8),
                               fill=light, outline=dark, width=line)
        draw.rectangle((x0 + w * 0.22 + line, y0 + h * 0.5, x1 - w * 0.22 - line, y0 + h * 0.75),
                       fill=dark)
    elif shape == "tub":
        draw.rounded_rectangle((x0 + w * 0.55, y0, x0 + w * 0.75, y0 + h * 0.15), radius=4,
                               fill=dark)
        draw.arc((x0 + w * 0.2, y0 - h * 0.05, x0 + w * 0.55, y0 + h * 0.35), 180, 0, fill=dark,
                 width=line * 3)
        draw.rounded_rectangle((x0 + w * 0.12, y0 + h * 0.15, x1 - w * 0.12, y1),
                               radius=int(w / 10), fill=light, outline=dark, width=line)
        draw.rectangle((x0 + w * 0.2, y0 + h * 0.45, x1 - w * 0.2, y0 + h * 0.75), fill=dark)
    elif shape == "roll":
        rx = w * 0.16
        draw.rectangle((x0 + rx, y0 + h * 0.15, x1 - rx, y1 - h * 0.15), fill=light)
        draw.line((x0 + rx, y0 + h * 0.15, x1 - rx, y0 + h * 0.15), fill=dark, width=line)
        draw.line((x0 + rx, y1 - h * 0.15, x1 - rx, y1 - h * 0.15), fill=dark, width=line)
        draw.ellipse((x1 - 2 * rx, y0 + h * 0.15, x1, y1 - h * 0.15), fill=WHITE, outline=dark,
                     width=line)
        draw.ellipse((x1 - 1.4 * rx, y0 + h * 0.38, x1 - 0.6 * rx, y1 - h * 0.38), fill=dark)
        draw.ellipse((x0, y0 + h * 0.15, x0 + 2 * rx, y1 - h * 0.15), fill=light, outline=dark,
                     width=line)
    elif shape == "box":
        d = w * 0.14
        front = (x0 + w * 0.08, y0 + h * 0.25, x1 - w * 0.08 - d, y1 - h * 0.05)
        draw.polygon([(front[0], front[1]), (front[0] + d, front[1] - d),
                      (front[2] + d, front[1] - d), (front[2], front[1])], fill=light,
                     outline=dark)
        draw.polygon([(front[2], front[1]), (front[2] + d, front[1] - d),
                      (front[2] + d, front[3] - d), (front[2], front[3])], fill=dark)
        draw.rectangle(front, fill=_shade(colour, 1.2), outline=dark, width=line)
        draw.rectangle((front[0], front[1] + (front[3] - front[1]) * 0.4, front[2],
                        front[1] + (front[3] - front[1]) * 0.6), fill=WHITE)
    elif shape == "circle":
        draw.ellipse((x0 + w * 0.1, y0 + h * 0.1, x1 - w * 0.1, y1 - h * 0.1), fill=light,
                     outline=dark, width=line * 2)
        draw.ellipse((x0 + w * 0.3, y0 + h * 0.3, x1 - w * 0.3, y1 - h * 0.3), fill=WHITE)
    elif shape == "cup":
        draw.polygon([(x0 + w * 0.18, y0 + h * 0.1), (x1 - w * 0.18, y0 + h * 0.1),
                      (x1 - w * 0.3, y1), (x0 + w * 0.3, y1)], fill=WHITE, outline=dark)
        draw.rectangle((x0 + w * 0.15, y0 + h * 0.06, x1 - w * 0.15, y0 + h * 0.13), fill=dark)
        draw.polygon([(x0 + w * 0.23, y0 + h * 0.4), (x1 - w * 0.23, y0 + h * 0.4),
                      (x1 - w * 0.26, y0 + h * 0.6), (x0 + w * 0.26, y0 + h * 0.6)], fill=colour)
    elif shape == "slipper":
        for dx in (0, w * 0.42):
            sole = (x0 + w * 0.08 + dx, y0 + h * 0.05, x0 + w * 0.5 + dx, y1 - h * 0.02)
            draw.rounded_rectangle(sole, radius=int(w * 0.2), fill=WHITE, outline=dark, width=line)
            draw.rounded_rectangle((sole[0] - w * 0.01, y0 + h * 0.25, sole[2] + w * 0.01,
                                    y0 + h * 0.5), radius=int(w * 0.06), fill=colour,
                                   outline=dark, width=line)
    elif shape == "comb":
        spine = (x0 + w * 0.05, y0 + h * 0.3, x1 - w * 0.05, y0 + h * 0.45)
        draw.rounded_rectangle(spine, radius=int(h * 0.06), fill=dark)
        teeth = 18
        step = (spine[2] - spine[0]) / teeth
        for i in range(teeth):
            tx = spine[0] + step * (i + 0.3)
            draw.rectangle((tx, spine[3], tx + step * 0.45, y0 + h * 0.75), fill=dark)
    elif shape == "bag":
        draw.polygon([(x0 + w * 0.15, y0 + h * 0.2), (x1 - w * 0.15, y0 + h * 0.2),
                      (x1 - w * 0.05, y1), (x0 + w * 0.05, y1)], fill=light, outline=dark)
        for hx in (x0 + w * 0.15, x1 - w * 0.42):
            draw.arc((hx, y0, hx + w * 0.27, y0 + h * 0.4), 180, 0, fill=dark, width=line * 2)
    else:  # sachet
        for i, dy in enumerate((0, h * 0.12, h * 0.24)):
            fill = light if i % 2 == 0 else _shade(colour, 1.2)
            draw.rectangle((x0 + w * 0.1 + dy * 0.6, y0 + h * 0.1 + dy, x1 - w * 0.25 + dy * 0.6,
                            y0 + h * 0.55 + dy), fill=fill, outline=dark, width=line)
        draw.line((x0 + w * 0.35, y0 + h * 0.55, x0 + w * 0.35, y0 + h * 0.85), fill=dark,
                  width=line)


# ---- pictures --------------------------------------------------------------------------

def product_image(item_no: str, shape: str, colour: tuple, variant: int = 0,
                  size: int = 600) -> bytes:
    """A product photo stand-in: the shape on a tinted ground, the item number below.

    variant 0 is the cover (one item); 1 shows a pack of three; 2 a close-up.
    """
    background = _shade(colour, 1.75 if variant != 2 else 1.45)
    im = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(im)
    s = size / 600
    if variant == 1:
        for i in range(3):
            x = 40 + i * 175
            _draw_shape(draw, shape, (x * s, 170 * s, (x + 170) * s, 430 * s), colour)
        _text(draw, (size / 2, 80 * s), "x 3", int(40 * s), _shade(colour, 0.5))
    elif variant == 2:
        _draw_shape(draw, shape, (60 * s, 40 * s, 540 * s, 470 * s), colour)
    else:
        _draw_shape(draw, shape, (150 * s, 70 * s, 450 * s, 440 * s), colour)
    draw.rectangle((0, 500 * s, size, size), fill=_shade(colour, 0.55))
    _text(draw, (size / 2, 550 * s), item_no, int(44 * s), WHITE)
    return _png(im)


def icon(shape: str, colour: tuple, size: int = 120) -> bytes:
    """A round category icon with the category's shape."""
    im = Image.new("RGB", (size, size), WHITE)
    draw = ImageDraw.Draw(im)
    draw.ellipse((2, 2, size - 3, size - 3), fill=_shade(colour, 1.6))
    m = size * 0.22
    _draw_shape(draw, shape, (m, m, size - m, size - m), colour)
    return _png(im)


def logo(name: str, code: str, colour: tuple, size: int = 200) -> bytes:
    """A brand logo: a coloured disc with the brand's first two characters (or its code)."""
    im = Image.new("RGB", (size, size), WHITE)
    draw = ImageDraw.Draw(im)
    draw.ellipse((4, 4, size - 5, size - 5), fill=colour)
    draw.ellipse((size * 0.1, size * 0.1, size * 0.9, size * 0.9), outline=WHITE,
                 width=max(2, size // 50))
    _text(draw, (size / 2, size / 2), name[:2], int(size * 0.3), WHITE, fallback=code)
    return _png(im)


def banner(title: str, subtitle: str, fallback: str, colour: tuple, shape: str,
           size: tuple = (750, 300)) -> bytes:
    """A home-page slide: a title and a subtitle beside a big shape."""
    w, h = size
    im = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(im)
    # Text and shape keep clear of the outer 12 %: carousels often crop a 5:2 slide to 2:1.
    draw.ellipse((w * 0.6, -h * 0.3, w * 1.15, h * 1.2), fill=_shade(colour, 1.3))
    _draw_shape(draw, shape, (w * 0.64, h * 0.18, w * 0.86, h * 0.82), _shade(colour, 0.8))
    _text(draw, (w * 0.13, h * 0.4), title, int(h * 0.14), WHITE, fallback=fallback,
          anchor="lm")
    _text(draw, (w * 0.13, h * 0.62), subtitle, int(h * 0.075), WHITE, anchor="lm")
    return _png(im)


def shop_front(shop_name: str, colour: tuple, size: tuple = (800, 600)) -> bytes:
    """A shop-front photo stand-in: a facade with a sign, a door and two windows."""
    w, h = size
    im = Image.new("RGB", size, (200, 225, 240))
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, h * 0.85, w, h), fill=(150, 150, 150))
    draw.rectangle((w * 0.08, h * 0.12, w * 0.92, h * 0.85), fill=(235, 228, 215))
    draw.rectangle((w * 0.08, h * 0.12, w * 0.92, h * 0.3), fill=colour)
    _text(draw, (w / 2, h * 0.21), shop_name, int(h * 0.08), WHITE, fallback="SHOP")
    draw.rectangle((w * 0.4, h * 0.45, w * 0.6, h * 0.85), fill=_shade(colour, 0.6))
    for x in (0.14, 0.66):
        draw.rectangle((w * x, h * 0.42, w * (x + 0.2), h * 0.68), fill=(170, 205, 230),
                       outline=INK, width=3)
    return _png(im)


def licence(shop_name: str, holder: str, number: str, size: tuple = (800, 560)) -> bytes:
    """A business-licence photo stand-in (营业执照): a framed certificate with a seal."""
    w, h = size
    im = Image.new("RGB", size, (120, 110, 100))
    draw = ImageDraw.Draw(im)
    draw.rectangle((w * 0.05, h * 0.05, w * 0.95, h * 0.95), fill=(250, 246, 236),
                   outline=(190, 40, 40), width=8)
    _text(draw, (w / 2, h * 0.17), "营业执照", int(h * 0.09), (190, 40, 40),
          fallback="BUSINESS LICENCE")
    red = (190, 40, 40)
    for i, line in enumerate((shop_name, holder)):
        _text(draw, (w * 0.12, h * (0.36 + i * 0.12)), line, int(h * 0.05), INK, anchor="lm")
    _text(draw, (w * 0.12, h * 0.62), number, int(h * 0.05), INK, anchor="lm")
    draw.ellipse((w * 0.66, h * 0.58, w * 0.86, h * 0.58 + w * 0.2), outline=red, width=6)
    return _png(im)


def delivery_note(order_no: str, shop_name: str, size: tuple = (900, 1200)) -> bytes:
    """A photographed, signed delivery note (出库签收单) for the demo orders."""
    im = Image.new("RGB", size, (238, 236, 228))
    draw = ImageDraw.Draw(im)
    w, h = size
    draw.rectangle((40, 40, w - 40, h - 40), fill=(252, 251, 246), outline=(170, 165, 150),
                   width=3)
    _text(draw, (w // 2, 110), "出库签收单", 44, (40, 40, 40), fallback="DELIVERY NOTE")
    draw.text((80, 190), f"No. {order_no}", fill=(60, 60, 60), font=_font(28))
    _text(draw, (80, 240), shop_name, 28, (60, 60, 60), anchor="lm")
    for row in range(8):
        y = 320 + row * 70
        draw.line((80, y, w - 80, y), fill=(200, 196, 185), width=2)
    _text(draw, (80, h - 250), "签收人：", 28, (60, 60, 60), fallback="Signed:", anchor="lm")
    # a scribbled signature
    points = [(240 + i * 18, h - 250 + ((i * 37) % 29) - 14) for i in range(20)]
    draw.line(points, fill=(30, 50, 140), width=5, joint="curve")
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def transfer_screenshot(amount: str, payee: str, size: tuple = (720, 1280)) -> bytes:
    """A phone screenshot of a bank transfer (转账成功), the demo's payment voucher."""
    im = Image.new("RGB", size, (245, 246, 248))
    draw = ImageDraw.Draw(im)
    w, h = size
    draw.rectangle((0, 0, w, 120), fill=(196, 30, 58))
    _text(draw, (w // 2, 60), "手机银行", 34, (255, 255, 255), fallback="MOBILE BANK")
    draw.ellipse((w // 2 - 70, 200, w // 2 + 70, 340), fill=(46, 160, 90))
    draw.line([(w // 2 - 35, 270), (w // 2 - 5, 300), (w // 2 + 40, 240)], fill="white",
              width=12)
    _text(draw, (w // 2, 400), "转账成功", 40, (30, 30, 30), fallback="TRANSFER DONE")
    _text(draw, (w // 2, 480), f"¥{amount}", 56, (30, 30, 30))
    _text(draw, (80, 600), f"收款方：{payee}", 28, (90, 90, 90), fallback="Payee", anchor="lm")
    _text(draw, (80, 660), "付款账户：工商银行 **** 1234", 28, (90, 90, 90),
          fallback="From: **** 1234", anchor="lm")
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()
