"""A statement as a PDF (reportlab, the delivery note's fonts) and as an Excel workbook.

Call inside a request or app context: labels follow the current locale, times are shown
in Asia/Shanghai."""

import io
from decimal import Decimal

from flask_babel import format_datetime
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from app.ordering.delivery_note import font_name, para, styles, yuan
from app.payments.labels import AGING_LABELS, ENTRY_KIND_LABELS, STATEMENT_STATUS_LABELS
from app.platform.settings import get_settings

MARGIN = 12 * mm
WIDTH = A4[0] - 2 * MARGIN
GRID = colors.HexColor("#888888")
SHADE = colors.HexColor("#F0F0F0")


def kind_label(kind: str) -> str:
    return str(ENTRY_KIND_LABELS.get(kind, kind))


def status_label(status: str) -> str:
    return str(STATEMENT_STATUS_LABELS.get(status, status))


def aging_labels() -> list[str]:
    return [str(label) for label in AGING_LABELS]


def _month(statement) -> str:
    return f"{statement.period:%Y-%m}"


def _rows(statement):
    """(date, what, order no, debit, credit, balance) per line."""
    for line in statement.lines:
        amount = Decimal(line.amount)
        yield (format_datetime(line.posted_at, "yyyy-MM-dd"), kind_label(line.kind),
               line.order_no, amount if amount > 0 else None,
               -amount if amount < 0 else None, Decimal(line.balance))


def pdf(statement) -> bytes:
    font = font_name()
    s = styles(font)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN,
                            title=f"{_('Statement')} {statement.number}")
    member = statement.member
    story = [para(get_settings().shop_name or "Pifa", s["shop"]),
             para(_("Statement of account %(month)s", month=_month(statement)), s["title"]),
             Spacer(1, 4 * mm)]
    info = Table([
        [para(_("Statement no."), s["cell"]), para(statement.number, s["cell"]),
         para(_("Customer"), s["cell"]), para(member.shop_name or member.contact_name or "—",
                                              s["cell"])],
        [para(_("Opening balance"), s["cell"]), para(yuan(statement.opening), s["num"]),
         para(_("Status"), s["cell"]), para(status_label(statement.status), s["cell"])],
    ], colWidths=[24 * mm, WIDTH / 2 - 24 * mm, 24 * mm, WIDTH / 2 - 24 * mm])
    info.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, GRID),
                              ("BACKGROUND", (0, 0), (0, -1), SHADE),
                              ("BACKGROUND", (2, 0), (2, -1), SHADE)]))
    story += [info, Spacer(1, 4 * mm)]
    head = [_("Date"), _("Item"), _("Order no."), _("Owed"), _("Paid"), _("Balance")]
    body = [[para(h, s["head"]) for h in head]]
    for day, what, order_no, debit, credit, balance in _rows(statement):
        body.append([para(day, s["cell"]), para(what, s["cell"]), para(order_no, s["cell"]),
                     para(yuan(debit) if debit is not None else "", s["num"]),
                     para(yuan(credit) if credit is not None else "", s["num"]),
                     para(yuan(balance), s["num"])])
    if len(body) == 1:
        body.append([para(_("Nothing was delivered or paid this month."), s["cell"]),
                     "", "", "", "", ""])
    lines = Table(body, colWidths=[22 * mm, 34 * mm, 38 * mm, 28 * mm, 28 * mm,
                                   WIDTH - 150 * mm], repeatRows=1)
    style = [("GRID", (0, 0), (-1, -1), 0.5, GRID), ("BACKGROUND", (0, 0), (-1, 0), SHADE),
             ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    if len(statement.lines) == 0:
        style.append(("SPAN", (0, 1), (-1, 1)))
    lines.setStyle(TableStyle(style))
    story += [lines, Spacer(1, 3 * mm)]
    totals = Table([
        [para(_("Owed this month"), s["cell"]), para(yuan(statement.debits), s["num"]),
         para(_("Paid this month"), s["cell"]), para(yuan(-statement.credits), s["num"])],
        [para(_("Closing balance"), s["cell"]), para(yuan(statement.closing), s["total"]),
         "", ""],
    ], colWidths=[30 * mm, WIDTH / 2 - 30 * mm, 30 * mm, WIDTH / 2 - 30 * mm])
    totals.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, GRID)]))
    aging = Table([[para(label, s["head"]) for label in aging_labels()],
                   [para(yuan(v), s["num"]) for v in statement.aging]],
                  colWidths=[WIDTH / 4] * 4)
    aging.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, GRID),
                               ("BACKGROUND", (0, 0), (-1, 0), SHADE)]))
    story += [totals, Spacer(1, 3 * mm), para(_("Aging of the closing balance"), s["body"]),
              aging]
    if statement.member_remark:
        story += [Spacer(1, 3 * mm),
                  para(_("Customer's remark: %(remark)s", remark=statement.member_remark),
                       s["body"])]
    doc.build(story)
    return buffer.getvalue()


def xlsx(statement) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _month(statement)
    member = statement.member
    sheet.append([get_settings().shop_name or "Pifa",
                  _("Statement of account %(month)s", month=_month(statement))])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([_("Statement no."), statement.number, _("Customer"),
                  member.shop_name or member.contact_name or ""])
    sheet.append([_("Opening balance"), statement.opening, _("Status"),
                  status_label(statement.status)])
    sheet.append([])
    sheet.append([_("Date"), _("Item"), _("Order no."), _("Owed"), _("Paid"), _("Balance")])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in _rows(statement):
        sheet.append(list(row))
    sheet.append([])
    sheet.append([_("Owed this month"), statement.debits, _("Paid this month"),
                  -statement.credits])
    sheet.append([_("Closing balance"), statement.closing])
    sheet.append(aging_labels())
    sheet.append(list(statement.aging))
    if statement.member_remark:
        sheet.append([_("Customer's remark: %(remark)s", remark=statement.member_remark)])
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
                cell.alignment = Alignment(horizontal="right")
    for column, width in zip("ABCDEF", (14, 16, 20, 14, 14, 14), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"pdf": (pdf, "application/pdf"), "xlsx": (xlsx, XLSX)}


def render(statement, fmt: str) -> tuple[bytes, str, str] | None:
    """(file, MIME type, file name) of a statement as `fmt` (pdf, xlsx); None for any
    other format."""
    if fmt not in FORMATS:
        return None
    make, mime = FORMATS[fmt]
    return make(statement), mime, f"{statement.number}.{fmt}"
