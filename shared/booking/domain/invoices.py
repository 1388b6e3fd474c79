"""Invoices and credit notes: what a booking bills the customer, what was paid against it and what was
given back.

Pure arithmetic on one booking, in the currency's minor units.

The booking's account (`account_of`) is derived from the booking as it is now: its services at their price
(or, once cancelled or a no-show, only what the business keeps of what was paid for them), the fees its
policy charged or that are owed, what was paid by each method and what was refunded. The journal
(domain/journal.py) posts each change of the account.

Documents record what the booking billed when each was issued, and are never changed afterwards (in the UK
and the EU an issued invoice is not rewritten: corrections are documents of their own). The first invoice
bills the booking; a later change to what it bills issues a credit note (less is billed: a cancellation or
no-show credit) or a further invoice (more is billed: a fee), numbered in its own gapless sequence and
referring to the first invoice. Whatever happens, a booking's documents add up to what its account bills
(`next_documents` issues exactly the difference).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from booking.domain.booking import Booking, BookingStatus
from booking.domain.catalogue import Business
from booking.domain.payments import TaxSplit, tax_of

# How a payment reached the business: through Stripe, or one of the desk's methods (OfflineMethod).
STRIPE_METHOD = "stripe"
# The booking no longer delivers its services: it bills only what the business keeps of them.
UNDELIVERED = frozenset({BookingStatus.CANCELLED, BookingStatus.NO_SHOW})

DocumentKind = Literal["invoice", "credit_note"]
# What a line bills: the booking's services (and their credits) or its fees.
LineCategory = Literal["services", "fees"]
PREFIXES: dict[DocumentKind, str] = {"invoice": "INV", "credit_note": "CN"}
DOCUMENT_KINDS: tuple[DocumentKind, ...] = ("invoice", "credit_note")

FEE_LABELS: dict[str, str] = {"no_show": "No-show fee"}
CREDIT_LABELS: dict[BookingStatus, str] = {
    BookingStatus.CANCELLED: "Cancellation credit",
    BookingStatus.NO_SHOW: "No-show credit",
}


# --- the account --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingAccount:
    """One booking's money, as its documents bill it and its journal records it."""

    services: TaxSplit  # the services at their full price
    billed: TaxSplit  # what of the services is billed (the full price, or what is kept when undelivered)
    fees: TaxSplit  # the fees charged, kept by policy, or owed
    paid: dict[str, int] = field(default_factory=dict)  # by method, less what the desk gave back
    refunded_minor: int = 0  # through Stripe

    @property
    def credit(self) -> TaxSplit:
        """What of the services is not billed (a cancellation or no-show credit)."""
        return difference(self.services, self.billed)

    @property
    def total_minor(self) -> int:
        return self.billed.gross_minor + self.fees.gross_minor

    @property
    def paid_minor(self) -> int:
        return sum(self.paid.values())

    @property
    def balance_minor(self) -> int:
        """What the customer still owes (negative: what the business owes back, a credit)."""
        return self.total_minor - self.paid_minor + self.refunded_minor


def difference(after: TaxSplit, before: TaxSplit) -> TaxSplit:
    return TaxSplit(
        net_minor=after.net_minor - before.net_minor,
        tax_minor=after.tax_minor - before.tax_minor,
        gross_minor=after.gross_minor - before.gross_minor,
    )


ZERO = TaxSplit(net_minor=0, tax_minor=0, gross_minor=0)


def account_of(booking: Booking) -> BookingAccount:
    rate, included = booking.tax_rate_basis_points, booking.prices_include_tax
    services = tax_of(booking.total_minor, rate, included)
    paid: dict[str, int] = {}
    online = booking.payment.captured_minor if booking.payment is not None else 0
    fees_collected = sum(fee.collected_minor for fee in booking.fees)
    if online + fees_collected:
        paid[STRIPE_METHOD] = online + fees_collected
    for offline in booking.offline_payments:
        signed = offline.amount_minor if offline.kind == "payment" else -offline.amount_minor
        paid[offline.method] = paid.get(offline.method, 0) + signed
    refunded = booking.payment.refunded_minor if booking.payment is not None else 0
    # A deposit kept as a no-show fee is billed as the fee, not again as the service.
    kept_as_fee = sum(fee.amount_minor for fee in booking.fees if fee.status == "kept")
    if booking.status in UNDELIVERED:
        paid_for_services = sum(paid.values()) - fees_collected - refunded - kept_as_fee
        kept = max(0, min(services.gross_minor, paid_for_services))
        billed = services if kept == services.gross_minor else tax_of(kept, rate, True)
    else:
        billed = services
    # Every fee is billed: charged, kept from the deposit, or owed (the card did not pay it).
    fee_total = sum(fee.amount_minor for fee in booking.fees)
    return BookingAccount(
        services=services,
        billed=billed,
        fees=tax_of(fee_total, rate, True),
        paid={method: amount for method, amount in paid.items() if amount},
        refunded_minor=refunded,
    )


def invoiceable(booking: Booking) -> bool:
    """Money is or was involved: the booking has a payment due, taken, refunded or recorded at the desk, a
    fee, or it was completed (its revenue is earned, paid or not). A booking paid at the venue with nothing
    recorded yet, or still in its checkout, has no invoice."""
    if booking.awaiting_payment:
        return False
    return (
        booking.status is BookingStatus.COMPLETED
        or booking.payment_status != "not_required"
        or bool(booking.offline_payments)
        or bool(booking.fees)
    )


def owes(booking: Booking) -> bool:
    """Whether the customer owes anything on the booking now."""
    return account_of(booking).balance_minor > 0


# --- documents ----------------------------------------------------------------------------------------


class DocumentLine(BaseModel):
    """One line; a credit has negative amounts. net + tax == gross."""

    description: str
    category: LineCategory
    net_minor: int
    tax_minor: int
    gross_minor: int

    @property
    def split(self) -> TaxSplit:
        return TaxSplit(net_minor=self.net_minor, tax_minor=self.tax_minor, gross_minor=self.gross_minor)


class MoneyMovement(BaseModel):
    """Money received (positive) or given back (negative), as known when a document was issued."""

    at: datetime
    method: str  # "stripe", "cash", "card_terminal", ...
    amount_minor: int


class Seller(BaseModel):
    """Who issues the document, as the business's settings said when it was issued."""

    name: str
    legal_name: str
    address: str
    tax_id: str

    @classmethod
    def of(cls, business: Business) -> Seller:
        return cls(
            name=business.name,
            legal_name=business.legal_name or business.name,
            address=business.address,
            tax_id=business.tax_id,
        )


class Document(BaseModel):
    """An issued invoice or credit note: everything it shows, fixed when it was issued."""

    tenant_id: str
    booking_id: str
    kind: DocumentKind
    number: int
    issued_at: datetime
    covers_version: int  # the booking version whose change issued it
    refers_to: str | None = None  # the first invoice's reference, on every later document
    seller: Seller
    customer_name: str
    customer_email: str
    appointment_at: datetime
    time_zone: str  # the business's IANA zone: dates on the document are its wall clock's
    currency: str
    tax_rate_basis_points: int
    prices_include_tax: bool
    lines: list[DocumentLine]
    movements: list[MoneyMovement]  # payments and refunds to the day of issue, oldest first
    balance_minor: int  # what the customer owed (negative: was owed back) when it was issued

    @property
    def reference(self) -> str:
        return document_reference(self.kind, self.number)

    @property
    def total(self) -> TaxSplit:
        return TaxSplit(
            net_minor=sum(line.net_minor for line in self.lines),
            tax_minor=sum(line.tax_minor for line in self.lines),
            gross_minor=sum(line.gross_minor for line in self.lines),
        )

    @property
    def paid_minor(self) -> int:
        return sum(m.amount_minor for m in self.movements if m.amount_minor > 0)

    @property
    def refunded_minor(self) -> int:
        return -sum(m.amount_minor for m in self.movements if m.amount_minor < 0)


def document_reference(kind: DocumentKind, number: int) -> str:
    """How a document number is printed: INV-000042, CN-000007."""
    return f"{PREFIXES[kind]}-{number:06d}"


@dataclass(frozen=True)
class DocumentDraft:
    """A document to issue, before its number: its kind and lines."""

    kind: DocumentKind
    lines: tuple[DocumentLine, ...]


def billed_so_far(documents: list[Document], category: LineCategory) -> TaxSplit:
    total = ZERO
    for document in documents:
        for line in document.lines:
            if line.category == category:
                total = TaxSplit(
                    net_minor=total.net_minor + line.net_minor,
                    tax_minor=total.tax_minor + line.tax_minor,
                    gross_minor=total.gross_minor + line.gross_minor,
                )
    return total


def next_documents(booking: Booking, issued: list[Document]) -> list[DocumentDraft]:
    """What to issue so that the booking's documents add up to what its account bills now: nothing, the
    first invoice, or a credit note and/or a further invoice for the difference."""
    account = account_of(booking)
    if not issued:
        if not invoiceable(booking):
            return []
        first = first_invoice(booking)
        if all(line.gross_minor == 0 for line in first.lines):
            return []  # nothing billed (e.g. a late payment refunded in full): no document to issue
        return [first]
    changes: list[DocumentLine] = []
    services = difference(account.billed, billed_so_far(issued, "services"))
    if services != ZERO:
        if services.gross_minor < 0:
            label = CREDIT_LABELS.get(booking.status, "Credit")
        elif booking.status in UNDELIVERED:
            label = "Services (kept after " + (
                "cancellation)" if booking.status is BookingStatus.CANCELLED else "no-show)"
            )
        else:
            label = "Services"
        changes.append(_line(label, "services", services))
    fees = difference(account.fees, billed_so_far(issued, "fees"))
    if fees != ZERO:
        label = _fee_label(booking) if fees.gross_minor > 0 else "Fee credit"
        changes.append(_line(label, "fees", fees))
    drafts = []
    more = tuple(line for line in changes if line.gross_minor > 0)
    less = tuple(line for line in changes if line.gross_minor < 0)
    if less:
        drafts.append(DocumentDraft("credit_note", less))
    if more:
        drafts.append(DocumentDraft("invoice", more))
    return drafts


def movements_of(booking: Booking) -> list[MoneyMovement]:
    """Every payment and refund of the booking, dated, oldest first."""
    moved: list[MoneyMovement] = []
    payment = booking.payment
    if payment is not None and payment.captured_minor > 0:
        # Dated when the money was taken; a booking paid before captured_at was recorded has only its
        # last change to go by.
        moved.append(
            MoneyMovement(
                at=payment.captured_at or booking.updated_at,
                method=STRIPE_METHOD,
                amount_minor=payment.captured_minor,
            )
        )
    if payment is not None:
        moved += [
            MoneyMovement(at=r.at, method=STRIPE_METHOD, amount_minor=-r.amount_minor)
            for r in payment.refunds
        ]
        unrecorded = payment.refunded_minor - sum(r.amount_minor for r in payment.refunds)
        if unrecorded > 0:  # refunded before refunds were recorded one by one
            moved.append(MoneyMovement(at=booking.updated_at, method=STRIPE_METHOD, amount_minor=-unrecorded))
    moved += [
        MoneyMovement(at=fee.paid_at or fee.at, method=STRIPE_METHOD, amount_minor=fee.collected_minor)
        for fee in booking.fees
        if fee.collected_minor
    ]
    moved += [
        MoneyMovement(
            at=offline.at,
            method=offline.method,
            amount_minor=offline.amount_minor if offline.kind == "payment" else -offline.amount_minor,
        )
        for offline in booking.offline_payments
    ]
    return sorted(moved, key=lambda m: m.at)


def issue_document(
    draft: DocumentDraft,
    booking: Booking,
    seller: Seller,
    time_zone: str,
    *,
    number: int,
    at: datetime,
    refers_to: str | None,
) -> Document:
    return Document(
        tenant_id=booking.tenant_id,
        booking_id=booking.id,
        kind=draft.kind,
        number=number,
        issued_at=at,
        covers_version=booking.version,
        refers_to=refers_to,
        seller=seller,
        customer_name=booking.customer.name,
        customer_email=str(booking.customer.email),
        appointment_at=booking.start,
        time_zone=time_zone,
        currency=booking.currency,
        tax_rate_basis_points=booking.tax_rate_basis_points,
        prices_include_tax=booking.prices_include_tax,
        lines=list(draft.lines),
        movements=movements_of(booking),
        balance_minor=account_of(booking).balance_minor,
    )


# --- lines --------------------------------------------------------------------------------------------


def first_invoice(booking: Booking) -> DocumentDraft:
    """The booking's first invoice: a line per service at its price, the credit of what is not billed of
    them (a cancelled or no-show booking), and its fees; adding up to its account to the minor unit."""
    return DocumentDraft("invoice", tuple(_first_invoice_lines(booking, account_of(booking))))


def _first_invoice_lines(booking: Booking, account: BookingAccount) -> list[DocumentLine]:
    rate, included = booking.tax_rate_basis_points, booking.prices_include_tax
    lines = _reconciled(
        [
            _line(
                f"{service.name} ({duration_text(service.duration_minutes)})",
                "services",
                tax_of(service.price_minor, rate, included),
            )
            for service in booking.services
        ],
        account.services,
    )
    credit = account.credit
    if credit.gross_minor > 0:
        label = CREDIT_LABELS.get(booking.status, "Credit")
        lines.append(_line(label, "services", difference(ZERO, credit)))
    fee_lines = [
        # Fees are charged as they are, tax inside them, as account_of splits them.
        _line(_fee_label_of(fee.kind, fee.status), "fees", tax_of(fee.amount_minor, rate, True))
        for fee in booking.fees
    ]
    return lines + _reconciled(fee_lines, account.fees)


def _fee_label(booking: Booking) -> str:
    latest = booking.fees[-1] if booking.fees else None
    return _fee_label_of(latest.kind, latest.status) if latest is not None else "Fee"


def _fee_label_of(kind: str, status: str) -> str:
    label = FEE_LABELS.get(kind, "Fee")
    if status == "kept":
        label += " (kept from the deposit)"
    return label


def _line(description: str, category: LineCategory, split: TaxSplit) -> DocumentLine:
    return DocumentLine(
        description=description,
        category=category,
        net_minor=split.net_minor,
        tax_minor=split.tax_minor,
        gross_minor=split.gross_minor,
    )


def _reconciled(lines: list[DocumentLine], whole: TaxSplit) -> list[DocumentLine]:
    """The lines, with the last one taking the difference between the tax rounded per line and the tax
    rounded on the whole (the account's figures, which the journal records), and any difference between
    the prices and the booking's total: the document must add up to the account to the minor unit."""
    if not lines:
        return lines
    gap = difference(
        whole,
        TaxSplit(
            net_minor=sum(line.net_minor for line in lines),
            tax_minor=sum(line.tax_minor for line in lines),
            gross_minor=sum(line.gross_minor for line in lines),
        ),
    )
    last = lines[-1]
    adjusted = last.model_copy(
        update={
            "net_minor": last.net_minor + gap.net_minor,
            "tax_minor": last.tax_minor + gap.tax_minor,
            "gross_minor": last.gross_minor + gap.gross_minor,
        }
    )
    return [*lines[:-1], adjusted]


def duration_text(minutes: int) -> str:
    """45 -> "45 min", 60 -> "1 h", 90 -> "1 h 30 min"."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


@dataclass(frozen=True)
class DocumentSet:
    """A booking's issued documents, oldest first, as read together with what issuing the next needs."""

    documents: tuple[Document, ...]
    covered_version: int  # the booking version the last issue covered (0: none issued)
    last_numbers: dict[DocumentKind, int]  # the business's last number in each sequence, as read

    @property
    def first_invoice(self) -> str | None:
        return self.documents[0].reference if self.documents else None


@dataclass(frozen=True)
class RenderedDocument:
    """A document with its files, rendered once when it is issued and stored as they are."""

    document: Document
    pdf: bytes
    html: bytes


@dataclass(frozen=True)
class DocumentSummary:
    """One of a customer's documents, for a list."""

    reference: str
    kind: DocumentKind
    booking_id: str
    issued_at: datetime
    total_minor: int
    currency: str


@dataclass(frozen=True)
class InvoiceFile:
    """A document rendered for download or attachment."""

    content: bytes
    media_type: str
    filename: str
