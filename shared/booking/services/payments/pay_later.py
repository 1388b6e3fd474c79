"""Paying later through the manage link: a booking made with "skip payment", or a no-show fee the card
on file refused (or that its bank wanted the customer to authenticate). The customer opens the link, the
widget asks for a payment here and confirms it with Stripe's Payment Element; Stripe's verified webhook
records it (services/payments/events.py), never the browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from booking.domain.booking import Actor, Booking, BookingStatus, Payment
from booking.domain.checkout import StripeAccount
from booking.domain.errors import Conflict
from booking.domain.invoices import account_of
from booking.ports import BookingRepository, Clock, CredentialsStore, PaymentGateway
from booking.services.manage_links import ManageLinkService
from booking.services.payments.changes import save_change

# An intent the customer can still confirm: one Stripe left waiting for a card or the customer's action.
STILL_PAYABLE = frozenset({"requires_payment_method", "requires_confirmation", "requires_action"})


@dataclass(frozen=True)
class DuePayment:
    purpose: Literal["balance", "no_show_fee"]
    client_secret: str
    publishable_key: str
    amount_minor: int
    currency: str


def _customer(booking: Booking) -> Actor:
    return Actor(kind="customer", id=booking.customer.email.lower())


class PayLater:
    def __init__(
        self,
        links: ManageLinkService,
        bookings: BookingRepository,
        accounts: CredentialsStore,
        gateway: PaymentGateway,
        clock: Clock,
    ) -> None:
        self._links = links
        self._bookings = bookings
        self._accounts = accounts
        self._gateway = gateway
        self._clock = clock

    def start(self, booking_id: str, token: str | None) -> DuePayment:
        """What the widget needs to pay what is owed on the booking. Conflict when nothing is owed, the
        booking was cancelled, or the business takes no online payments."""
        booking = self._links.booking(booking_id, token)
        if booking.status is BookingStatus.CANCELLED:
            raise Conflict("this booking was cancelled: there is nothing to pay")
        stored = self._accounts.get(booking.tenant_id, "stripe")
        if stored is None:
            raise Conflict("the business does not take payments online; please pay them directly")
        account = StripeAccount.model_validate(stored)
        failed = next((i for i, fee in enumerate(booking.fees) if fee.status == "failed"), None)
        if failed is not None:
            return self._fee(booking, failed, account)
        return self._balance(booking, account)

    def _fee(self, booking: Booking, index: int, account: StripeAccount) -> DuePayment:
        fee = booking.fees[index]
        secret = self._reusable(account, fee.intent_id, fee.amount_minor, booking.currency)
        if secret is None:
            started = self._gateway.start_charge(
                account,
                tenant_id=booking.tenant_id,
                booking_id=booking.id,
                amount_minor=fee.amount_minor,
                currency=booking.currency,
                manual_capture=False,
                key=f"booking-{booking.id}-fee-{index}-v{booking.version}",
                purpose="no_show_fee",
            )
            fees = list(booking.fees)
            fees[index] = fee.model_copy(update={"intent_id": started.intent_id})
            save_change(
                self._bookings,
                booking,
                at=self._clock.now(),
                actor=_customer(booking),
                action="fee_payment_started",
                details={"intent": started.intent_id},
                fees=fees,
            )
            secret = started.client_secret
        return DuePayment("no_show_fee", secret, account.publishable_key, fee.amount_minor, booking.currency)

    def _balance(self, booking: Booking, account: StripeAccount) -> DuePayment:
        due = account_of(booking).balance_minor
        if due <= 0 or booking.payment_status not in ("unpaid", "failed") or booking.awaiting_payment:
            raise Conflict("nothing is owed on this booking")
        payment = booking.payment
        if payment is not None and payment.captured_minor > 0:
            # Part was paid by card already: one booking keeps one card payment (the rest is paid at the desk).
            raise Conflict(
                "part of this booking was paid by card already; please pay the rest to the business"
            )
        secret = self._reusable(
            account, payment.intent_id if payment is not None else None, due, booking.currency
        )
        if secret is None or payment is None:
            started = self._gateway.start_charge(
                account,
                tenant_id=booking.tenant_id,
                booking_id=booking.id,
                amount_minor=due,
                currency=booking.currency,
                manual_capture=False,
                key=f"booking-{booking.id}-balance-v{booking.version}",
                purpose="balance",
            )
            save_change(
                self._bookings,
                booking,
                at=self._clock.now(),
                actor=_customer(booking),
                action="payment_started",
                details={"intent": started.intent_id, "amount_minor": due},
                payment=Payment(
                    kind="charge", intent_id=started.intent_id, amount_minor=due, currency=booking.currency
                ),
            )
            secret = started.client_secret
        return DuePayment("balance", secret, account.publishable_key, due, booking.currency)

    def _reusable(
        self, account: StripeAccount, intent_id: str | None, amount_minor: int, currency: str
    ) -> str | None:
        """The client secret of an intent the customer can still confirm for exactly what is owed now
        (Stripe recommends bringing the customer back to the same intent after an off-session charge needed
        their authentication). One for another amount (something was paid at the desk meanwhile) is
        cancelled, so it can never be paid, and None returned: a new one is made. Conflict when the old one
        was paid meanwhile: its webhook records it."""
        if intent_id is None:
            return None
        state = self._gateway.intent(account, intent_id)
        if state.status not in STILL_PAYABLE:
            if state.status in ("succeeded", "requires_capture", "processing"):
                raise Conflict("a payment for this booking was just received; it will show in a moment")
            return None
        if state.amount_minor == amount_minor and state.currency == currency.upper():
            return state.client_secret
        self._gateway.cancel(account, intent_id)
        if self._gateway.intent(account, intent_id).status != "canceled":  # paid as we cancelled it
            raise Conflict("a payment for this booking was just received; it will show in a moment")
        return None
