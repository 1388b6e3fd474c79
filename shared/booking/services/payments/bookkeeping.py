"""Bookkeeping: each booking's invoices and credit notes and the journal lines its money posts, from the
committed change (the table's stream, like the receipts); the documents staff and customers download; the
journal's export and the trial balance.

Documents are issued as a booking's billing changes (domain/invoices.py `next_documents`) and stored with
their files as issued, never rendered again. Every committed change posts the difference it made to the
booking's account as balanced journal lines (domain/journal.py).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from booking.domain.access import DIARY_ROLES, Principal, Role
from booking.domain.booking import Booking
from booking.domain.catalogue import Business
from booking.domain.errors import FieldProblem, InvalidInput, NotFound
from booking.domain.invoices import (
    Document,
    DocumentSet,
    DocumentSummary,
    InvoiceFile,
    Seller,
    account_of,
    invoiceable,
    issue_document,
    next_documents,
)
from booking.domain.journal import AccountBalance, journal_lines, trial_balance
from booking.domain.payments import minor_unit_exponent
from booking.ports import BookingRepository, CatalogueReader, Clock, Documents, Journal
from booking.retry import pause_before_retry

if TYPE_CHECKING:  # the booking API's alone: the reminders function renders receipts without it
    from booking.services.manage_links import ManageLinkService

InvoiceFormat = Literal["pdf", "html"]
MEDIA_TYPES: dict[InvoiceFormat, str] = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}
# The journal is the business's books: owners and admins export it; dispatchers and staff do not.
BOOKKEEPERS = frozenset({Role.OWNER, Role.ADMIN})
MAX_EXPORT_DAYS = 366
# Issuers of one booking's documents race only with each other (the stream, a download): a few rounds do.
ISSUE_ATTEMPTS = 12
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
NO_DOCUMENT = "this booking has no invoice: nothing has been charged or is due"


def _decimal_text(amount_minor: int, currency: str) -> str:
    """An amount in major units with the currency's decimals and no grouping: 12.50, 1500, 1.250."""
    exponent = minor_unit_exponent(currency)
    return f"{Decimal(amount_minor).scaleb(-exponent):.{exponent}f}"


@dataclass(frozen=True)
class TrialBalance:
    first: date
    last: date
    accounts: list[AccountBalance]


class Bookkeeping:
    def __init__(
        self,
        catalogue: CatalogueReader,
        bookings: BookingRepository,
        documents: Documents,
        journal: Journal,
        clock: Clock,
        links: ManageLinkService | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._bookings = bookings
        self._documents = documents
        self._journal = journal
        self._clock = clock
        self._links = links

    # --- from the committed change --------------------------------------------------------------------

    def booking_changed(self, old: Booking | None, new: Booking) -> list[Document]:
        """Issues what the change makes due (the first invoice, a credit note, a further invoice) and posts
        what it moved. A redelivered change issues nothing again and posts the same lines under the same
        keys: nothing twice. Returns the documents issued now."""
        before = account_of(old) if old is not None and invoiceable(old) else None
        if not invoiceable(new) and before is None:
            return []
        issued, current = self.up_to_date(new)
        latest = current.documents[-1].reference if current.documents else None
        lines = journal_lines(
            before,
            account_of(new),
            tenant_id=new.tenant_id,
            booking_id=new.id,
            version=new.version,
            at=new.updated_at,
            currency=new.currency,
            invoice=latest,
        )
        if lines:
            self._journal.post(lines)
        return issued

    def up_to_date(self, booking: Booking) -> tuple[list[Document], DocumentSet]:
        """Issues whatever the booking's billing at this version still needs; the documents issued now and
        the booking's set after. Idempotent: a version covered already issues nothing."""
        from booking.rendering.invoices import render_document  # noqa: PLC0415 - pydyf, on first issue only

        for attempt in range(ISSUE_ATTEMPTS):
            current = self._documents.issued(booking.tenant_id, booking.id)
            if current.covered_version >= booking.version:
                return [], current
            drafts = next_documents(booking, list(current.documents))
            if not drafts:
                return [], current
            business = self._business(booking.tenant_id)
            numbers = dict(current.last_numbers)
            first = current.first_invoice
            issued = []
            for draft in drafts:
                numbers[draft.kind] += 1
                document = issue_document(
                    draft,
                    booking,
                    Seller.of(business),
                    business.time_zone,
                    number=numbers[draft.kind],
                    at=booking.updated_at,
                    refers_to=first,
                )
                first = first or document.reference
                issued.append(render_document(document))
            if self._documents.record(booking.tenant_id, booking.id, current, issued):
                documents = [rendered.document for rendered in issued]
                return documents, DocumentSet((*current.documents, *documents), booking.version, numbers)
            pause_before_retry(attempt)
        raise RuntimeError(
            f"could not issue the documents of booking {booking.id} after {ISSUE_ATTEMPTS} tries"
        )

    # --- documents ------------------------------------------------------------------------------------

    def staff_documents(self, principal: Principal, booking_id: str) -> list[Document]:
        return self._all(self._staff_booking(principal, booking_id))

    def staff_file(
        self, principal: Principal, booking_id: str, reference: str | None, fmt: InvoiceFormat
    ) -> InvoiceFile:
        return self._file(self._staff_booking(principal, booking_id), reference, fmt)

    def customer_documents(self, booking_id: str, token: str | None) -> list[Document]:
        return self._all(self._customer_booking(booking_id, token))

    def customer_file(
        self, booking_id: str, token: str | None, reference: str | None, fmt: InvoiceFormat
    ) -> InvoiceFile:
        return self._file(self._customer_booking(booking_id, token), reference, fmt)

    def customer_summaries(self, tenant_id: str, email: str) -> list[DocumentSummary]:
        """Every document issued to a customer (signed in with their session), oldest first."""
        return self._documents.for_customer(tenant_id, email)

    def signed_in_file(
        self, tenant_id: str, email: str, booking_id: str, reference: str, fmt: InvoiceFormat
    ) -> InvoiceFile:
        """One of a signed-in customer's documents; another customer's is not found."""
        owned = any(
            s.booking_id == booking_id and s.reference == reference
            for s in self._documents.for_customer(tenant_id, email)
        )
        found = self._bookings.get(tenant_id, booking_id) if owned else None
        if found is None:
            raise NotFound(f"document {reference} not found")
        return self._file(found[0], reference, fmt)

    def document_for(self, booking: Booking) -> InvoiceFile | None:
        """The booking's latest document as a PDF, for a receipt, once issued."""
        documents = self._documents.issued(booking.tenant_id, booking.id).documents
        if not documents:
            return None
        return self._stored(booking, documents[-1].reference, "pdf")

    def _staff_booking(self, principal: Principal, booking_id: str) -> Booking:
        principal.require(DIARY_ROLES)
        found = self._bookings.get(principal.tenant_id, booking_id)
        if found is None or (principal.role is Role.STAFF and found[0].staff_id != principal.staff_id):
            raise NotFound(f"booking {booking_id} not found")  # staff see their own diary only
        return found[0]

    def _customer_booking(self, booking_id: str, token: str | None) -> Booking:
        assert self._links is not None, "built without manage links"
        return self._links.booking(booking_id, token)

    def _all(self, booking: Booking) -> list[Document]:
        # Normally issued already from the committed change; issuing here is the same idempotent step.
        _, current = self.up_to_date(booking)
        return list(current.documents)

    def _file(self, booking: Booking, reference: str | None, fmt: InvoiceFormat) -> InvoiceFile:
        documents = self._all(booking)
        if not documents:
            raise NotFound(NO_DOCUMENT)
        chosen = reference or documents[0].reference  # the booking's invoice: its first document
        if all(document.reference != chosen for document in documents):
            raise NotFound(f"document {chosen} not found on this booking")
        return self._stored(booking, chosen, fmt)

    def _stored(self, booking: Booking, reference: str, fmt: InvoiceFormat) -> InvoiceFile:
        content = self._documents.file(booking.tenant_id, booking.id, reference, fmt)
        if content is None:
            raise NotFound(f"document {reference} has no {fmt} file")
        name = "credit-note" if reference.startswith("CN-") else "invoice"
        return InvoiceFile(content, MEDIA_TYPES[fmt], f"{name}-{reference}.{fmt}")

    def _business(self, tenant_id: str) -> Business:
        catalogue = self._catalogue.load_catalogue(tenant_id)
        if catalogue is None:
            raise NotFound("business not found")
        return catalogue.business

    # --- the journal ----------------------------------------------------------------------------------

    def export_journal(self, principal: Principal, first: date, last: date) -> str:
        """The journal lines posted on the business's local days `first` to `last`, as CSV."""
        zone, start, end = self._period(principal, first, last)
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

    def trial_balance(self, principal: Principal, first: date, last: date) -> TrialBalance:
        """Each account of the chart with its debits and credits over the business's local days `first` to
        `last`: the same lines as the journal's export of those days, so the two always agree."""
        _, start, end = self._period(principal, first, last)
        return TrialBalance(first, last, trial_balance(self._journal.lines(principal.tenant_id, start, end)))

    def _period(self, principal: Principal, first: date, last: date) -> tuple[ZoneInfo, datetime, datetime]:
        principal.require(BOOKKEEPERS)
        if last < first:
            raise InvalidInput(
                "the last day is before the first", [FieldProblem(("query", "to"), "before from")]
            )
        if (last - first).days >= MAX_EXPORT_DAYS:
            raise InvalidInput(
                f"at most {MAX_EXPORT_DAYS} days at a time",
                [FieldProblem(("query", "to"), f"more than {MAX_EXPORT_DAYS} days after from")],
            )
        zone = ZoneInfo(self._business(principal.tenant_id).time_zone)
        return (
            zone,
            datetime.combine(first, time(), zone),
            datetime.combine(last + timedelta(days=1), time(), zone),
        )
