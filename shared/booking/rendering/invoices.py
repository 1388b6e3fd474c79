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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from booking.domain.invoices import STRIPE_METHOD, Document, RenderedDocument
from booking.domain.payments import money_text
from booking.rendering.pdf import (
    MARGIN,
    RIGHT,
    Font,
    Pages,
    fit_text,
    wrap_text,
    write_pdf,
)
from booking.rendering.times import format_money, format_when

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


# Right edges of the amount columns; the description fills the rest.
_NET_RIGHT, _TAX_RIGHT, _TOTAL_RIGHT = RIGHT - 170, RIGHT - 85, RIGHT
_DESCRIPTION_WIDTH = _NET_RIGHT - 80 - MARGIN


def render_invoice_pdf(doc: InvoiceDocument) -> bytes:
    money = _pdf_money(doc.currency)
    pages = Pages()
    _draw_header(pages, doc)
    _draw_lines(pages, doc, money)
    _draw_money_received(pages, doc, money)
    _draw_footers(pages, doc)
    return write_pdf(pages.streams, title=f"{doc.business_name} {doc.reference}")


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


def _draw_header(pages: Pages, doc: InvoiceDocument) -> None:
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


def _draw_lines(pages: Pages, doc: InvoiceDocument, money: Callable[[int], str]) -> None:
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


def _draw_money_received(pages: Pages, doc: InvoiceDocument, money: Callable[[int], str]) -> None:
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


def _draw_row(pages: Pages, cells: Sequence[str], *, font: Font = "regular") -> None:
    description, *amounts = cells
    pages.text(MARGIN, description, font=font)
    for right, amount in zip((_NET_RIGHT, _TAX_RIGHT, _TOTAL_RIGHT), amounts, strict=True):
        pages.text(right, amount, font=font, align="right")


def _draw_total(pages: Pages, label: str, amount: str, *, font: Font = "regular", size: float = 10) -> None:
    pages.text(_TAX_RIGHT, label, font=font, size=size, align="right")
    pages.text(_TOTAL_RIGHT, amount, font=font, size=size, align="right")


def _draw_footers(pages: Pages, doc: InvoiceDocument) -> None:
    count = len(pages.streams)
    for number, stream in enumerate(pages.streams, start=1):
        footer = f"{doc.business_name} \u00b7 {doc.reference} \u00b7 page {number} of {count}"
        footer = fit_text(footer, "regular", 8, RIGHT - MARGIN)
        pages.text(MARGIN, footer, size=8, y=MARGIN, stream=stream)
