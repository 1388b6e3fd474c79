"""Payments and the books: Stripe, invoices and credit notes, the journal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from booking.domain.checkout import IntentState, StartedIntent, StripeAccount, StripeEvent, StripeRefund
from booking.domain.invoices import DocumentSet, DocumentSummary, RenderedDocument
from booking.domain.journal import JournalLine


class PaymentGateway(Protocol):
    """Stripe (adapters/stripe_payments.py). Raises CardDeclined, PaymentRefused or PaymentProviderDown."""

    def check_account(self, account: StripeAccount) -> None: ...

    def start_charge(
        self,
        account: StripeAccount,
        *,
        tenant_id: str,
        booking_id: str,
        amount_minor: int,
        currency: str,
        manual_capture: bool,
        key: str | None = None,
        purpose: str = "booking",
    ) -> StartedIntent: ...

    def start_setup(
        self, account: StripeAccount, *, tenant_id: str, booking_id: str, email: str, name: str
    ) -> StartedIntent: ...

    def charge_saved_card(
        self,
        account: StripeAccount,
        *,
        tenant_id: str,
        booking_id: str,
        customer_ref: str,
        card: str,
        amount_minor: int,
        currency: str,
        key: str,
        purpose: str,
    ) -> IntentState:
        """Off-session: AuthenticationRequired when the bank wants the customer, CardDeclined."""
        ...

    def intent(self, account: StripeAccount, intent_id: str) -> IntentState: ...

    def refund(
        self, account: StripeAccount, intent_id: str, amount_minor: int, key: str, reason: str = ""
    ) -> StripeRefund:
        """Refunds `amount_minor` of a captured intent; `key` names what decided it (one refund per key)."""
        ...

    def cancel(self, account: StripeAccount, intent_id: str) -> None: ...

    def capture(self, account: StripeAccount, intent_id: str, key: str) -> IntentState:
        """Captures an authorised PaymentIntent in full; the intent as it is after."""
        ...

    def verify_event(self, account: StripeAccount, payload: bytes, signature: str | None) -> StripeEvent:
        """The event, once its Stripe-Signature verifies with the account's webhook secret (300 s
        tolerance); BadSignature otherwise."""
        ...


class Documents(Protocol):
    """Each booking's invoices and credit notes, numbered from the business's gapless sequences and never
    changed once issued (adapters/dynamodb/invoices.py)."""

    def issued(self, tenant_id: str, booking_id: str) -> DocumentSet: ...

    def record(self, tenant_id: str, booking_id: str, seen: DocumentSet, new: list[RenderedDocument]) -> bool:
        """Stores `new` (numbered next in their sequences after `seen`) in one transaction, on condition
        that nothing was issued meanwhile for the booking or in those sequences: False when it was."""
        ...

    def file(self, tenant_id: str, booking_id: str, reference: str, fmt: str) -> bytes | None:
        """A document's file ("pdf" or "html") exactly as it was issued."""
        ...

    def for_customer(self, tenant_id: str, email: str) -> list[DocumentSummary]:
        """A customer's documents, oldest first."""
        ...


class Journal(Protocol):
    def post(self, lines: list[JournalLine]) -> None:
        """Writes journal lines; writing the same lines again changes nothing."""
        ...

    def lines(self, tenant_id: str, start: datetime, end: datetime) -> Iterator[JournalLine]:
        """The lines posted in [start, end), oldest first."""
        ...
