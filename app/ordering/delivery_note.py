"""出库签收单: the printable delivery note of one or more orders, as one PDF.

`render(orders)` lays out every order on its own page(s) of A4: the shop's name, the
order's number (also as a QR code), customer, address, lines with their packing, totals,
payment, remark, driver, and a box for the customer's signature.

Chinese text uses reportlab's built-in CID font STSong-Light (not embedded: every PDF
viewer brings its own Song face), or the TrueType font at config `PDF_FONT_PATH` when
set (embedded; .ttf or .ttc with TrueType outlines, not CFF/OpenType .otf).
Call inside a request or app context: labels follow the current locale, times are shown
in BABEL_DEFAULT_TIMEZONE (Asia/Shanghai).
"""

import io
from decimal import Decimal
from xml.sax.saxutils import escape

from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from app.ordering.states import (
    DELIVERY_LABELS,
    PAYMENT_LABELS,
    PAYMENT_STATUS_LABELS,
    SHIP_METHOD_LABELS,
    State,
)
from app.platform.settings import get_settings
from app.platform.time import utcnow

CID_FONT = "STSong-Light"
PAGE = A4
MARGIN = 12 * mm
WIDTH = PAGE[0] - 2 * MARGIN
GRID = colors.HexColor("#888888")
SHADE = colors.HexColor("#F0F0F0")

_registered: dict[str, str] = {}  # font path (or "") -> registered font name
# Characters STSong-Light shows as an empty box, and what it shows instead: the middle
# dot of "琼A·5D321" or "送货 · 已付款" becomes the katakana middle dot its Song face has.
CID_SAFE = str.maketrans({"\u00b7": "\u30fb", "\u2022": "\u30fb", "\u2027": "\u30fb",
                          "\u2219": "\u30fb", "\u00a5": "\uffe5"})


def font_name() -> str:
    """The registered font for Chinese text: PDF_FONT_PATH's TrueType font, else the CID
    font STSong-Light. Registered once per process."""
    path = (current_app.config.get("PDF_FONT_PATH") or "").strip()
    if path in _registered:
        return _registered[path]
    name = None
    if path:
        try:
            name = f"PifaPDF{len(_registered)}"
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
        except Exception as exc:  # a missing file, or CFF outlines reportlab cannot embed
            current_app.logger.error("PDF_FONT_PATH %s cannot be used (%s); printing with "
                                     "%s instead", path, exc, CID_FONT)
            name = None
    if name is None:
        name = CID_FONT
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(name))
    _registered[path] = name
    return name


def render(orders) -> bytes:
    """One PDF with a delivery note per order (each starts on a new page)."""
    orders = list(orders)
    font = font_name()
    style_of = styles(font)
    buffer = io.BytesIO()
    shop = get_settings().shop_name or "Pifa"
    printed = format_datetime(utcnow(), "yyyy-MM-dd HH:mm")

    def footer(canvas, document):
        page = canvas.getPageNumber() - document.pifa_order_page + 1
        text = _("Order %(no)s, page %(page)d, printed %(time)s", no=document.pifa_order_no,
                 page=page, time=printed)
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawCentredString(PAGE[0] / 2, MARGIN, safe_text(text, font))
        canvas.restoreState()

    doc = _NoteDoc(buffer, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN,
                   topMargin=MARGIN, bottomMargin=MARGIN + 6 * mm,
                   title=f"{shop} {_('Delivery note')}", author=shop,
                   subject=", ".join(o.order_no for o in orders[:20]))
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="note")
    doc.addPageTemplates([PageTemplate(id="note", frames=[frame], onPageEnd=footer)])
    story = []
    for index, order in enumerate(orders):
        if index:
            story.append(PageBreak())
        story.append(_OrderStart(order.order_no))
        story.extend(_note(order, shop, style_of))
    if not story:
        story.append(Paragraph(escape(_("No orders selected.")), style_of["body"]))
    doc.build(story)
    return buffer.getvalue()


class _NoteDoc(BaseDocTemplate):
    """Knows which order it is laying out, for the footer of each page."""

    pifa_order_no = ""
    pifa_order_page = 1

    def afterFlowable(self, flowable):
        if isinstance(flowable, _OrderStart):
            self.pifa_order_no = flowable.order_no
            self.pifa_order_page = self.page


class _OrderStart(Flowable):
    """Invisible mark where an order starts: the footer shows its number and counts its
    pages from here."""

    def __init__(self, order_no):
        super().__init__()
        self.order_no = order_no
        self.width = self.height = 0

    def wrap(self, available_width, available_height):
        return 0, 0

    def draw(self):
        """Nothing to draw: this flowable only marks where an order's pages begin."""


def safe_text(text, font) -> str:
    return text.translate(CID_SAFE) if font == CID_FONT else text


def styles(font):
    def style(name, size, **kw):
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.35,
                              wordWrap="CJK", **kw)

    return {
        "shop": style("shop", 17, alignment=TA_CENTER),
        "title": style("title", 15, alignment=TA_CENTER, spaceBefore=2),
        "body": style("body", 9.5),
        "small": style("small", 8, textColor=colors.HexColor("#555555")),
        "cell": style("cell", 8.5),
        "head": style("head", 8.5, alignment=TA_CENTER),
        "num": style("num", 8.5, alignment=TA_RIGHT),
        "total": style("total", 11, alignment=TA_RIGHT),
        "mark": style("mark", 7.5, textColor=colors.HexColor("#B00000")),
    }


def para(text, style):
    text = str(text if text is not None else "")
    return Paragraph(escape(safe_text(text, style.fontName)), style)


def yuan(value) -> str:
    return f"¥{Decimal(value or 0):.2f}"


def packs_text(quantity, inner_qty, inner_unit, base_unit) -> str:
    """60 把 in boxes of 20: "3 盒"; 65 把: "3 盒 5 把"; no inner pack: "65 把"."""
    quantity = int(quantity or 0)
    if not inner_qty or inner_qty <= 1 or inner_unit == base_unit:
        return f"{quantity} {base_unit}"
    packs, rest = divmod(quantity, inner_qty)
    if not rest:
        return f"{packs} {inner_unit}"
    if not packs:
        return f"{rest} {base_unit}"
    return f"{packs} {inner_unit} {rest} {base_unit}"


def _qr(text, size=26 * mm):
    widget = QrCodeWidget(text, barLevel="M")
    x1, y1, x2, y2 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(widget)
    return drawing


def _note(order, shop, s):
    member = order.member
    customer = (member.shop_name if member else None) or order.contact or "—"
    placed = format_datetime(order.created_at, "yyyy-MM-dd HH:mm") if order.created_at else ""
    qr_size = 26 * mm

    heading = Table(
        [[[para(shop, s["shop"]), para(_("Delivery note"), s["title"])], _qr(order.order_no)]],
        colWidths=[WIDTH - qr_size - 4 * mm, qr_size + 4 * mm])
    heading.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (1, 0), (1, 0), "RIGHT"),
        ("LEFTPADDING", (0, 0), (0, 0), qr_size + 4 * mm),  # keeps the title centred
    ]))

    if order.delivery_method == "pickup":
        address = order.pickup_address or ""
    else:
        address = order.address_line() or ""
    label_w, value_w = 20 * mm, WIDTH / 2 - 20 * mm
    info = Table([
        [para(_("Order no."), s["cell"]), para(order.order_no, s["cell"]),
         para(_("Placed at"), s["cell"]), para(placed, s["cell"])],
        [para(_("Customer"), s["cell"]), para(customer, s["cell"]),
         para(_("Delivery"), s["cell"]),
         para(DELIVERY_LABELS.get(order.delivery_method, order.delivery_method), s["cell"])],
        [para(_("Contact"), s["cell"]), para(order.contact or "—", s["cell"]),
         para(_("Mobile"), s["cell"]), para(order.phone or "—", s["cell"])],
        [para(_("Pickup address") if order.delivery_method == "pickup" else _("Address"),
            s["cell"]), para(address or "—", s["cell"]), "", ""],
    ], colWidths=[label_w, value_w, label_w, value_w])
    info.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, GRID), ("SPAN", (1, 3), (3, 3)),
        ("BACKGROUND", (0, 0), (0, -1), SHADE), ("BACKGROUND", (2, 0), (2, 2), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))

    widths = [8 * mm, 46 * mm, 30 * mm, 24 * mm, 22 * mm, 20 * mm, 18 * mm, 18 * mm]
    widths[1] += WIDTH - sum(widths)
    rows = [[para(t, s["head"]) for t in (
        "#", _("Product"), _("Model / spec"), _("Packing"), _("Quantity"),
        _("Base units"), _("Unit price"), _("Amount"))]]
    for number, line in enumerate(order.lines, 1):
        name = [para(line.product_name, s["cell"])]
        marks = []
        if line.is_gift:
            marks.append(_("Gift"))
        if line.out_of_stock:
            marks.append(_("Out of stock"))
        if line.refused_qty:
            marks.append(_("Refused at the door: %(n)s %(unit)s", n=line.refused_qty,
                           unit=line.base_unit))
        if marks:
            name.append(para("; ".join(marks), s["mark"]))
        model = " ".join(p for p in (line.model, line.spec_text) if p) or "—"
        packing = f"{line.inner_qty} {line.base_unit}/{line.inner_unit}"
        rows.append([
            para(number, s["head"]), name, para(model, s["cell"]), para(packing, s["cell"]),
            # An out-of-stock line does not leave the warehouse: no quantity to load.
            para("—" if line.out_of_stock else packs_text(
                line.quantity, line.inner_qty, line.inner_unit, line.base_unit), s["num"]),
            para("—" if line.out_of_stock else f"{line.quantity} {line.base_unit}", s["num"]),
            para(f"{yuan(line.unit_price)}/{line.base_unit}", s["num"]),
            para(yuan(line.amount), s["num"]),
        ])
    lines = Table(rows, colWidths=widths, repeatRows=1)
    lines.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, GRID), ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))

    totals = Table([
        [para(_("Goods"), s["num"]), para(yuan(order.goods_total), s["num"])],
        [para(_("Freight"), s["num"]), para(yuan(order.freight), s["num"])],
        [para(_("Total"), s["total"]), para(yuan(order.total), s["total"])],
    ], colWidths=[WIDTH - 30 * mm, 30 * mm])
    totals.setStyle(TableStyle([("LINEABOVE", (0, 2), (-1, 2), 0.8, colors.black),
                                ("TOPPADDING", (0, 0), (-1, -1), 1),
                                ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))

    method = PAYMENT_LABELS.get(order.payment_method, order.payment_method)
    paid = PAYMENT_STATUS_LABELS.get(order.payment_status, order.payment_status)
    details = [[_("Payment"), f"{method} / {paid}"]]
    if order.cash_collected is not None:
        details.append([_("Cash collected"), yuan(order.cash_collected)])
    if order.driver is not None and order.state != State.CLOSED:
        driver = order.driver
        details.append([_("Driver"), " / ".join(
            p for p in (driver.name, driver.plate, driver.phone) if p)])
    if order.ship_method:
        details.append([SHIP_METHOD_LABELS.get(order.ship_method, order.ship_method),
                        order.ship_note or ""])
    details.append([_("Remark"), order.remark or "—"])
    extra = Table([[para(k, s["cell"]), para(v, s["cell"])] for k, v in details],
                  colWidths=[24 * mm, WIDTH - 24 * mm])
    extra.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, GRID),
                               ("BACKGROUND", (0, 0), (0, -1), SHADE),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))

    sign = Table([
        [para(_("Goods received in good order and quantity."), s["small"]), "", "", ""],
        [para(_("Signed by"), s["body"]), "", para(_("Date"), s["body"]), ""],
    ], colWidths=[24 * mm, WIDTH / 2 - 24 * mm, 24 * mm, WIDTH / 2 - 24 * mm],
        rowHeights=[None, 18 * mm])
    sign.setStyle(TableStyle([
        ("SPAN", (0, 0), (-1, 0)), ("BOX", (0, 0), (-1, -1), 0.8, colors.black),
        ("GRID", (0, 1), (-1, 1), 0.5, GRID), ("BACKGROUND", (0, 1), (0, 1), SHADE),
        ("BACKGROUND", (2, 1), (2, 1), SHADE), ("VALIGN", (0, 1), (-1, 1), "MIDDLE"),
    ]))

    return [heading, Spacer(1, 3 * mm), info, Spacer(1, 4 * mm), lines, Spacer(1, 2 * mm),
            totals, Spacer(1, 3 * mm), extra, Spacer(1, 5 * mm), KeepTogether([sign])]
