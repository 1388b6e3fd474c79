"""Invoices and credit notes as documents people read: an issued Document (domain/invoices.py) laid out as
a printable HTML page and as a PDF, once, when it is issued; both files are stored as they are and never
rendered again (adapters/dynamodb/invoices.py).

The view is built once (pure, `document_view`) and both renderings only lay it out, so the HTML and the PDF
can never disagree on a figure. A credit note shows what it credits as positive amounts.

The PDF is written with pydyf: a small, pure-Python, dependency-free PDF writer (fpdf2 and reportlab pull in
Pillow and fonttools, too heavy for the Lambda layer). It uses the standard Helvetica fonts every PDF reader
has, with WinAnsiEncoding, so nothing is embedded; the price is that the PDF can only show the characters of
Windows-1252 (Latin scripts): any other character (a customer called "山田") prints as "?" in the PDF, while the
HTML shows every character. A known limit, until a font is embedded.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

import pydyf
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from booking.domain.invoices import STRIPE_METHOD, Document, RenderedDocument
from booking.domain.payments import money_text
from booking.messages import format_money, format_when

InvoiceStatus = Literal["Paid", "Due", "Credit due", "Nothing due", "Credit note"]

METHOD_LABELS: dict[str, str] = {
    STRIPE_METHOD: "Card (Stripe)",
    "cash": "Cash",
    "card_terminal": "Card terminal",
    "bank_transfer": "Bank transfer",
    "other": "Other",
}
TITLES = {"invoice": "Invoice", "credit_note": "Credit note"}


@dataclass(frozen=True)
class InvoiceLine:
    """One line as shown; net + tax == gross."""

    description: str
    net_minor: int
    tax_minor: int
    gross_minor: int


@dataclass(frozen=True)
class InvoicePayment:
    """Money received (positive) or given back (negative), on a day in the business's zone."""

    on: date
    method: str  # a label for people: "Card (Stripe)", "Cash", ...
    amount_minor: int


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything a document shows, in the business's zone and the booking's currency (minor units)."""

    title: str  # "Invoice" or "Credit note"
    reference: str  # INV-000042, CN-000007
    refers_to: str | None  # the first invoice, on a credit note or a later invoice
    business_name: str  # the legal name
    trading_name: str | None  # the name customers know, when it differs from the legal name
    business_address: str  # may span lines
    tax_id: str
    issued_on: date
    customer_name: str
    customer_email: str
    booking_id: str
    appointment_at: datetime  # the start, on the business's wall clock
    time_zone: str  # the business's IANA zone
    currency: str
    lines: tuple[InvoiceLine, ...]
    tax_rate: str  # "20%", "7.5%"
    prices_include_tax: bool
    net_minor: int
    tax_minor: int
    total_minor: int
    total_label: str  # "Total", or "Total credited"
    payments: tuple[InvoicePayment, ...]  # payments and refunds, dated, to the day of issue
    paid_minor: int
    refunded_minor: int
    balance_minor: int  # still owed by the customer when issued; negative: owed back to them
    status: InvoiceStatus


# --- building -------------------------------------------------------------------------------------------


def build_invoice_document(document: Document) -> InvoiceDocument:
    zone = ZoneInfo(document.time_zone)
    credit = document.kind == "credit_note"
    sign = -1 if credit else 1  # a credit note shows what it credits as positive amounts
    total = document.total
    seller = document.seller
    legal = seller.legal_name or seller.name
    return InvoiceDocument(
        title=TITLES[document.kind],
        reference=document.reference,
        refers_to=document.refers_to,
        business_name=legal,
        trading_name=seller.name if seller.name != legal else None,
        business_address=seller.address,
        tax_id=seller.tax_id,
        issued_on=document.issued_at.astimezone(zone).date(),
        customer_name=document.customer_name,
        customer_email=document.customer_email,
        booking_id=document.booking_id,
        appointment_at=document.appointment_at.astimezone(zone),
        time_zone=document.time_zone,
        currency=document.currency,
        lines=tuple(
            InvoiceLine(
                line.description, sign * line.net_minor, sign * line.tax_minor, sign * line.gross_minor
            )
            for line in document.lines
        ),
        tax_rate=percent_text(document.tax_rate_basis_points),
        prices_include_tax=document.prices_include_tax,
        net_minor=sign * total.net_minor,
        tax_minor=sign * total.tax_minor,
        total_minor=sign * total.gross_minor,
        total_label="Total credited" if credit else "Total",
        payments=tuple(
            InvoicePayment(
                on=movement.at.astimezone(zone).date(),
                method=method_label(movement.method),
                amount_minor=movement.amount_minor,
            )
            for movement in document.movements
        ),
        paid_minor=document.paid_minor,
        refunded_minor=document.refunded_minor,
        balance_minor=document.balance_minor,
        status="Credit note" if credit else status_of(total.gross_minor, document.balance_minor),
    )


def render_document(document: Document) -> RenderedDocument:
    """The document's PDF and HTML, as they are stored when it is issued."""
    view = build_invoice_document(document)
    return RenderedDocument(document, render_invoice_pdf(view), render_invoice_html(view).encode())


def percent_text(basis_points: int) -> str:
    """2000 -> "20%", 750 -> "7.5%", 1234 -> "12.34%"."""
    return f"{Decimal(basis_points).scaleb(-2).normalize():f}%"


def status_of(total_minor: int, balance_minor: int) -> InvoiceStatus:
    if balance_minor > 0:
        return "Due"
    if balance_minor < 0:
        return "Credit due"
    # A booking cancelled and refunded in full bills nothing: there was nothing left to pay.
    return "Paid" if total_minor > 0 else "Nothing due"


def method_label(method: str) -> str:
    return METHOD_LABELS.get(method, method.replace("_", " ").capitalize())


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def appointment_text(doc: InvoiceDocument) -> str:
    return format_when(doc.appointment_at, ZoneInfo(doc.time_zone))


# --- HTML -----------------------------------------------------------------------------------------------

# Its own environment (same loader and settings as messages.py's): the template uses no custom filter, only
# functions passed in, so messages.compile_templates() can compile it too.
_env = Environment(
    loader=PackageLoader("booking", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
)


def render_invoice_html(doc: InvoiceDocument) -> str:
    return _env.get_template("invoice.html").render(
        doc=doc,
        money=lambda amount_minor: format_money(amount_minor, doc.currency),
        long_date=long_date,
        appointment=appointment_text(doc),
        tax_wording=tax_wording(doc),
    )


def tax_wording(doc: InvoiceDocument) -> str:
    if doc.prices_include_tax:
        return f"Prices include tax at {doc.tax_rate}."
    return f"Prices exclude tax; tax at {doc.tax_rate} is added."


# --- PDF ------------------------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = 595.28, 841.89  # A4, in points
MARGIN = 50.0
RIGHT = PAGE_WIDTH - MARGIN
BOTTOM = MARGIN + 20  # room for the page footer
Font = Literal["regular", "bold"]
_FONT_NAMES: dict[Font, str] = {"regular": "Helvetica", "bold": "Helvetica-Bold"}
_FONT_RESOURCES: dict[Font, str] = {"regular": "F1", "bold": "F2"}

# Glyph widths (1/1000 em) of bytes 32-255 under WinAnsiEncoding, from Adobe's Core 14 AFM files
# (Helvetica.afm, Helvetica-Bold.afm), to right-align amounts and cut text to a column without a font library.
# 0 marks the bytes cp1252 leaves undefined, which _pdf_bytes never produces.
# fmt: off
_HELVETICA = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0,
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667,
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
)
_HELVETICA_BOLD = (
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0,
    556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,
    0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667,
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278,
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
)
# fmt: on
_WIDTHS: dict[Font, tuple[int, ...]] = {"regular": _HELVETICA, "bold": _HELVETICA_BOLD}
_ELLIPSIS = "\u2026"


def _pdf_bytes(text: str) -> bytes:
    """The text as the standard fonts' WinAnsiEncoding (cp1252) bytes. Accents are composed first (e + ¨ is
    ë); control characters become spaces; a character cp1252 lacks becomes "?" (see the module docstring)."""
    composed = unicodedata.normalize("NFC", text)
    printable = "".join(" " if unicodedata.category(c) in {"Cc", "Zl", "Zp"} else c for c in composed)
    return printable.encode("cp1252", errors="replace")


def text_width(text: str, font: Font, size: float) -> float:
    widths = _WIDTHS[font]
    return sum(widths[byte - 32] for byte in _pdf_bytes(text)) * size / 1000


def fit_text(text: str, font: Font, size: float, width: float) -> str:
    """The text, cut and ended with an ellipsis when it is wider than `width`."""
    if text_width(text, font, size) <= width:
        return text
    composed = unicodedata.normalize("NFC", text)
    room = width - text_width(_ELLIPSIS, font, size)
    used, end = 0.0, 0
    for end, character in enumerate(composed):  # noqa: B007 - `end` is where the room runs out
        used += text_width(character, font, size)
        if used > room:
            break
    return composed[:end].rstrip() + _ELLIPSIS


def wrap_text(text: str, font: Font, size: float, width: float) -> list[str]:
    """The text broken into lines at spaces (and at its own line breaks) to fit `width`; a word wider than a
    whole line is cut."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if current and text_width(candidate, font, size) > width:
                lines.append(current)
                candidate = word
            current = fit_text(candidate, font, size, width)
        lines.append(current)
    return lines


class _Pages:
    """Draws text top-down on A4 pages, starting a new page when the next row would not fit."""

    def __init__(self) -> None:
        self.streams: list[pydyf.Stream] = []
        self.y = 0.0
        self._new_page()

    def _new_page(self) -> None:
        self.streams.append(pydyf.Stream(compress=True))
        self.y = PAGE_HEIGHT - MARGIN

    def advance(self, height: float) -> float:
        """Moves down by `height` (to a new page when it would cross the bottom margin); the row's baseline."""
        if self.y - height < BOTTOM:
            self._new_page()
        self.y -= height
        return self.y

    def text(
        self,
        x: float,
        text: str,
        *,
        font: Font = "regular",
        size: float = 10,
        align: Literal["left", "right"] = "left",
        y: float | None = None,
        stream: pydyf.Stream | None = None,
    ) -> None:
        if align == "right":
            x -= text_width(text, font, size)
        target = stream if stream is not None else self.streams[-1]
        target.begin_text()
        target.set_font_size(_FONT_RESOURCES[font], size)
        target.set_text_matrix(1, 0, 0, 1, round(x, 2), round(self.y if y is None else y, 2))
        # pydyf escapes the bytes of a literal string ( \ ( ) ); a str it would write as UTF-16, which a
        # simple font does not read.
        target.show_text_string(_pdf_bytes(text))
        target.end_text()

    def rule(self, y_offset: float = -4, width: float = 0.5) -> None:
        stream = self.streams[-1]
        stream.set_line_width(width)
        stream.move_to(MARGIN, round(self.y + y_offset, 2))
        stream.line_to(RIGHT, round(self.y + y_offset, 2))
        stream.stroke()


# Right edges of the amount columns; the description fills the rest.
_NET_RIGHT, _TAX_RIGHT, _TOTAL_RIGHT = RIGHT - 170, RIGHT - 85, RIGHT
_DESCRIPTION_WIDTH = _NET_RIGHT - 80 - MARGIN


def render_invoice_pdf(doc: InvoiceDocument) -> bytes:
    money = _pdf_money(doc.currency)
    pages = _Pages()
    _draw_header(pages, doc)
    _draw_lines(pages, doc, money)
    _draw_money_received(pages, doc, money)
    _draw_footers(pages, doc)
    return _write_pdf(pages.streams, title=f"{doc.business_name} {doc.reference}")


def _pdf_money(currency: str) -> Callable[[int], str]:
    """format_money, or the ISO code form ("INR 1,500.00") when the symbol is not in cp1252 (₹, ₽, zł)."""

    def money(amount_minor: int) -> str:
        shown = format_money(amount_minor, currency)
        try:
            shown.encode("cp1252")
        except UnicodeEncodeError:
            return money_text(amount_minor, currency)
        return shown

    return money


def _draw_header(pages: _Pages, doc: InvoiceDocument) -> None:
    width = RIGHT - MARGIN
    pages.advance(16)
    pages.text(MARGIN, fit_text(doc.business_name, "bold", 16, width), font="bold", size=16)
    if doc.trading_name:
        pages.advance(13)
        pages.text(MARGIN, fit_text(f"trading as {doc.trading_name}", "regular", 10, width))
    for line in wrap_text(doc.business_address, "regular", 10, width) if doc.business_address else []:
        pages.advance(13)
        pages.text(MARGIN, line)
    if doc.tax_id:
        pages.advance(13)
        pages.text(MARGIN, fit_text(f"Tax registration number: {doc.tax_id}", "regular", 10, width))
    pages.advance(36)
    pages.text(MARGIN, f"{doc.title} {doc.reference}", font="bold", size=18)
    pages.text(RIGHT, doc.status, font="bold", size=14, align="right")
    pages.advance(16)
    pages.text(MARGIN, f"Issued {long_date(doc.issued_on)}")
    if doc.refers_to:
        pages.advance(13)
        pages.text(MARGIN, f"For invoice {doc.refers_to}")
    pages.advance(24)
    pages.text(MARGIN, "Bill to", font="bold")
    for line in (doc.customer_name, doc.customer_email):
        pages.advance(13)
        pages.text(MARGIN, fit_text(line, "regular", 10, width))
    pages.advance(22)
    pages.text(MARGIN, "Booking", font="bold")
    pages.advance(13)
    pages.text(MARGIN, fit_text(f"{doc.booking_id}, {appointment_text(doc)}", "regular", 10, width))
    pages.advance(13)
    pages.text(MARGIN, tax_wording(doc))


def _draw_lines(pages: _Pages, doc: InvoiceDocument, money: Callable[[int], str]) -> None:
    pages.advance(28)
    _draw_row(pages, ("Description", "Net", "Tax", "Total"), font="bold")
    pages.rule()
    for line in doc.lines:
        pages.advance(16)
        description = fit_text(line.description, "regular", 10, _DESCRIPTION_WIDTH)
        _draw_row(pages, (description, money(line.net_minor), money(line.tax_minor), money(line.gross_minor)))
    pages.rule()
    totals: list[tuple[str, int, Font]] = [
        ("Net", doc.net_minor, "regular"),
        (f"Tax ({doc.tax_rate})", doc.tax_minor, "regular"),
        (doc.total_label, doc.total_minor, "bold"),
    ]
    for label, amount, font in totals:
        pages.advance(16)
        _draw_total(pages, label, money(amount), font=font)


def _draw_money_received(pages: _Pages, doc: InvoiceDocument, money: Callable[[int], str]) -> None:
    if doc.payments:
        pages.advance(28)
        pages.text(MARGIN, f"Payments and refunds to {long_date(doc.issued_on)}", font="bold")
        pages.rule()
        for payment in doc.payments:
            pages.advance(15)
            pages.text(MARGIN, long_date(payment.on))
            pages.text(MARGIN + 120, payment.method + (" (refund)" if payment.amount_minor < 0 else ""))
            pages.text(_TOTAL_RIGHT, money(payment.amount_minor), align="right")
    pages.advance(28)
    _draw_total(pages, "Paid", money(doc.paid_minor))
    if doc.refunded_minor:
        pages.advance(16)
        _draw_total(pages, "Refunded", money(-doc.refunded_minor))
    pages.advance(18)
    label = "Credit due to you" if doc.balance_minor < 0 else "Balance due"
    _draw_total(pages, label, money(abs(doc.balance_minor)), font="bold", size=12)


def _draw_row(pages: _Pages, cells: Sequence[str], *, font: Font = "regular") -> None:
    description, *amounts = cells
    pages.text(MARGIN, description, font=font)
    for right, amount in zip((_NET_RIGHT, _TAX_RIGHT, _TOTAL_RIGHT), amounts, strict=True):
        pages.text(right, amount, font=font, align="right")


def _draw_total(pages: _Pages, label: str, amount: str, *, font: Font = "regular", size: float = 10) -> None:
    pages.text(_TAX_RIGHT, label, font=font, size=size, align="right")
    pages.text(_TOTAL_RIGHT, amount, font=font, size=size, align="right")


def _draw_footers(pages: _Pages, doc: InvoiceDocument) -> None:
    count = len(pages.streams)
    for number, stream in enumerate(pages.streams, start=1):
        footer = f"{doc.business_name} \u00b7 {doc.reference} \u00b7 page {number} of {count}"
        footer = fit_text(footer, "regular", 8, RIGHT - MARGIN)
        pages.text(MARGIN, footer, size=8, y=MARGIN, stream=stream)


def _write_pdf(streams: Iterable[pydyf.Stream], *, title: str) -> bytes:
    pdf = pydyf.PDF()
    fonts = pydyf.Dictionary()
    for font, resource in _FONT_RESOURCES.items():
        font_object = pydyf.Dictionary(
            {
                "Type": "/Font",
                "Subtype": "/Type1",
                "BaseFont": f"/{_FONT_NAMES[font]}",
                "Encoding": "/WinAnsiEncoding",
            }
        )
        pdf.add_object(font_object)
        fonts[resource] = font_object.reference
    resources = pydyf.Dictionary({"Font": fonts})
    for stream in streams:
        pdf.add_object(stream)
        page = pydyf.Dictionary(
            {
                "Type": "/Page",
                "Parent": pdf.pages.reference,
                "MediaBox": pydyf.Array([0, 0, PAGE_WIDTH, PAGE_HEIGHT]),
                "Resources": resources,
                "Contents": stream.reference,
            }
        )
        pdf.add_page(page)
    # Metadata is a text string, which pydyf writes as UTF-16 when needed: any script shows there.
    pdf.info["Title"] = pydyf.String(title)
    output = io.BytesIO()
    pdf.write(output)
    return output.getvalue()
