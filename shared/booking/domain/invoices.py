"""Invoices: what a booking bills the customer, what was paid against it and what was given back.

Pure arithmetic on one booking, in the currency's minor units. The invoice is always derived from the
booking as it is now (services, cancellation credit, fees, payments, refunds); only its number and date
are stored, so an invoice and the journal (domain/journal.py) can never disagree.

What is billed:
- an active or completed booking: its services at their price, with the tax the booking was made under;
- a cancelled or no-show booking: only what the business keeps of what was paid for the services (the
  rest is credited), plus any fee its policy charged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel

from booking.domain.booking import Booking, BookingStatus
from booking.domain.payments import TaxSplit, tax_of

# How a payment reached the business: through Stripe, or one of the desk's methods (OfflineMethod).
STRIPE_METHOD = "stripe"
# The booking no longer delivers its services: it bills only what the business keeps of them.
UNDELIVERED = frozenset({BookingStatus.CANCELLED, BookingStatus.NO_SHOW})


class Invoice(BaseModel):
    """An issued invoice: its number in the business's gapless sequence and when it was issued."""

    tenant_id: str
    booking_id: str
    number: int
    issued_at: datetime

    @property
    def reference(self) -> str:
        return invoice_reference(self.number)


def invoice_reference(number: int) -> str:
    """How an invoice number is printed: INV-000042."""
    return f"INV-{number:06d}"


@dataclass(frozen=True)
class InvoiceFile:
    """An invoice rendered for download or attachment."""

    content: bytes
    media_type: str
    filename: str


@dataclass(frozen=True)
class BookingAccount:
    """One booking's money, as its invoice shows it and its journal records it."""

    services: TaxSplit  # the services at their full price
    billed: TaxSplit  # what of the services is billed (the full price, or what is kept when undelivered)
    fees: TaxSplit  # the fees charged or kept by policy
    paid: dict[str, int] = field(default_factory=dict)  # by method: "stripe", "cash", "card_terminal", ...
    refunded_minor: int = 0

    @property
    def credit(self) -> TaxSplit:
        """What of the services is not billed (a cancellation or no-show credit)."""
        return TaxSplit(
            net_minor=self.services.net_minor - self.billed.net_minor,
            tax_minor=self.services.tax_minor - self.billed.tax_minor,
            gross_minor=self.services.gross_minor - self.billed.gross_minor,
        )

    @property
    def total_minor(self) -> int:
        return self.billed.gross_minor + self.fees.gross_minor

    @property
    def paid_minor(self) -> int:
        return sum(self.paid.values())

    @property
    def balance_minor(self) -> int:
        """What the customer still owes (negative: what the business owes back)."""
        return self.total_minor - self.paid_minor + self.refunded_minor


def account_of(booking: Booking) -> BookingAccount:
    rate, included = booking.tax_rate_basis_points, booking.prices_include_tax
    services = tax_of(booking.total_minor, rate, included)
    paid: dict[str, int] = {}
    online = booking.payment.captured_minor if booking.payment is not None else 0
    fees_collected = sum(fee.collected_minor for fee in booking.fees)
    if online + fees_collected:
        paid[STRIPE_METHOD] = online + fees_collected
    for offline in booking.offline_payments:
        paid[offline.method] = paid.get(offline.method, 0) + offline.amount_minor
    refunded = booking.payment.refunded_minor if booking.payment is not None else 0
    # A deposit kept as a no-show fee is billed as the fee, not again as the service.
    kept_as_fee = sum(fee.amount_minor for fee in booking.fees if fee.status == "kept")
    if booking.status in UNDELIVERED:
        paid_for_services = sum(paid.values()) - fees_collected - refunded - kept_as_fee
        kept = max(0, min(services.gross_minor, paid_for_services))
        billed = services if kept == services.gross_minor else tax_of(kept, rate, True)
    else:
        billed = services
    fee_total = sum(fee.amount_minor for fee in booking.fees if fee.status != "failed")
    return BookingAccount(
        services=services,
        billed=billed,
        fees=tax_of(fee_total, rate, True),
        paid=paid,
        refunded_minor=refunded,
    )


def invoiceable(booking: Booking) -> bool:
    """Money is or was involved: the booking has a payment due, taken, refunded or recorded at the desk,
    or a fee. A booking paid at the venue with nothing recorded, or still in its checkout, has no invoice."""
    if booking.awaiting_payment:
        return False
    return (
        booking.payment_status != "not_required"
        or bool(booking.offline_payments)
        or any(fee.status != "failed" for fee in booking.fees)
    )
