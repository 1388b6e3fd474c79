"""Bookkeeping: each booking's invoice and the journal lines its money posts, from the committed change
(the table's stream, like the receipts), and the documents and exports staff and customers download.

An invoice is issued the first time a committed version of the booking involves money (domain/invoices.py
`invoiceable`); its content is always derived from the booking as it is now. Every committed change then
posts the difference it made as balanced journal lines (domain/journal.py).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from booking.domain.access import DIARY_ROLES, Principal, Role
from booking.domain.booking import Booking
from booking.domain.catalogue import Business
from booking.domain.errors import FieldProblem, InvalidInput, NotFound
from booking.domain.invoices import Invoice, InvoiceFile, account_of, invoiceable
from booking.domain.journal import journal_lines
from booking.domain.payments import minor_unit_exponent
from booking.ports import BookingRepository, CatalogueReader, Clock, Invoices, Journal

if TYPE_CHECKING:  # the booking API's alone: the reminders function renders receipts without it
    from booking.services.manage_links import ManageLinkService

InvoiceFormat = Literal["pdf", "html"]
# The journal is the business's books: owners and admins export it; dispatchers and staff do not.
BOOKKEEPERS = frozenset({Role.OWNER, Role.ADMIN})
MAX_EXPORT_DAYS = 366
JOURNAL_COLUMNS = (
    "date",
    "posted_at",
    "entry",
    "booking_id",
    "invoice",
    "account",
    "account_name",
    "debit",
    "credit",
    "currency",
    "memo",
)


def _decimal_text(amount_minor: int, currency: str) -> str:
    """An amount in major units with the currency's decimals and no grouping: 12.50, 1500, 1.250."""
    exponent = minor_unit_exponent(currency)
    return f"{Decimal(amount_minor).scaleb(-exponent):.{exponent}f}"


class Bookkeeping:
    def __init__(
        self,
        catalogue: CatalogueReader,
        bookings: BookingRepository,
        invoices: Invoices,
        journal: Journal,
        clock: Clock,
        links: ManageLinkService | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._bookings = bookings
        self._invoices = invoices
        self._journal = journal
        self._clock = clock
        self._links = links

    # --- from the committed change --------------------------------------------------------------------

    def booking_changed(self, old: Booking | None, new: Booking) -> Invoice | None:
        """Issues the booking's invoice once money is involved and posts what this change moved. A
        redelivered change posts the same lines under the same keys: nothing twice."""
        before = account_of(old) if old is not None and invoiceable(old) else None
        if not invoiceable(new) and before is None:
            return None
        invoice = self._invoices.issue(new.tenant_id, new.id, new.updated_at)
        lines = journal_lines(
            before,
            account_of(new),
            tenant_id=new.tenant_id,
            booking_id=new.id,
            version=new.version,
            at=new.updated_at,
            currency=new.currency,
            invoice=invoice.reference,
        )
        if lines:
            self._journal.post(lines)
        return invoice

    # --- documents ------------------------------------------------------------------------------------

    def staff_invoice(self, principal: Principal, booking_id: str, fmt: InvoiceFormat) -> InvoiceFile:
        principal.require(DIARY_ROLES)
        found = self._bookings.get(principal.tenant_id, booking_id)
        if found is None or (principal.role is Role.STAFF and found[0].staff_id != principal.staff_id):
            raise NotFound(f"booking {booking_id} not found")  # staff see their own diary only
        return self._document(found[0], fmt)

    def customer_invoice(self, booking_id: str, token: str | None, fmt: InvoiceFormat) -> InvoiceFile:
        assert self._links is not None, "built without manage links"
        return self._document(self._links.booking(booking_id, token), fmt)

    def document_for(self, booking: Booking) -> InvoiceFile | None:
        """The booking's invoice as a PDF for a receipt, if it has been issued."""
        invoice = self._invoices.get(booking.tenant_id, booking.id)
        if invoice is None:
            return None
        return self._render(booking, invoice, "pdf")

    def _document(self, booking: Booking, fmt: InvoiceFormat) -> InvoiceFile:
        if not invoiceable(booking):
            raise NotFound("this booking has no invoice: nothing has been charged or is due")
        # Normally issued already from the committed change; issuing here is the same idempotent step.
        invoice = self._invoices.issue(booking.tenant_id, booking.id, self._clock.now())
        return self._render(booking, invoice, fmt)

    def _render(self, booking: Booking, invoice: Invoice, fmt: InvoiceFormat) -> InvoiceFile:
        # The PDF writer and the template are loaded by these downloads and receipts alone.
        from booking.invoice_documents import (  # noqa: PLC0415
            build_invoice_document,
            render_invoice_html,
            render_invoice_pdf,
        )

        business = self._business(booking.tenant_id)
        document = build_invoice_document(booking, business, invoice)
        name = f"invoice-{invoice.reference}"
        if fmt == "pdf":
            return InvoiceFile(render_invoice_pdf(document), "application/pdf", f"{name}.pdf")
        return InvoiceFile(render_invoice_html(document).encode(), "text/html; charset=utf-8", f"{name}.html")

    def _business(self, tenant_id: str) -> Business:
        catalogue = self._catalogue.load_catalogue(tenant_id)
        if catalogue is None:
            raise NotFound("business not found")
        return catalogue.business

    # --- the journal ----------------------------------------------------------------------------------

    def export_journal(self, principal: Principal, first: date, last: date) -> str:
        """The journal lines posted on the business's local days `first` to `last`, as CSV."""
        principal.require(BOOKKEEPERS)
        if last < first:
            raise InvalidInput(
                "the last day is before the first", [FieldProblem(("query", "to"), "before from")]
            )
        if (last - first).days >= MAX_EXPORT_DAYS:
            raise InvalidInput(
                f"export at most {MAX_EXPORT_DAYS} days at a time",
                [FieldProblem(("query", "to"), f"more than {MAX_EXPORT_DAYS} days after from")],
            )
        zone = ZoneInfo(self._business(principal.tenant_id).time_zone)
        start = datetime.combine(first, time(), zone)
        end = datetime.combine(last + timedelta(days=1), time(), zone)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(JOURNAL_COLUMNS)
        for line in self._journal.lines(principal.tenant_id, start, end):
            writer.writerow(
                (
                    line.at.astimezone(zone).date().isoformat(),
                    line.at.isoformat(),
                    f"{line.booking_id}-v{line.version}",
                    line.booking_id,
                    line.invoice or "",
                    line.account,
                    line.account_name,
                    _decimal_text(line.debit_minor, line.currency) if line.debit_minor else "",
                    _decimal_text(line.credit_minor, line.currency) if line.credit_minor else "",
                    line.currency,
                    line.memo,
                )
            )
        return out.getvalue()
