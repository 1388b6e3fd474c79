"""Refunds: what a cancellation gives back under the cancellation policy (a quote the customer sees before
confirming), and paying it back through Stripe, never more than what was captured less what was refunded.

A customer cancelling through the manage link gets exactly the quoted refund; staff choose the policy's,
a full one, a custom amount, or none. Each refund is one Stripe refund with an idempotency key derived
from what decided it (the booking's version when it was decided), then one booking change recording it by
Stripe's refund id, so Stripe's own events about the same refund never record it twice.

A card only authorised (a business that captures when staff confirm) was never charged: cancelling such a
booking refunds nothing, it releases the hold on the card (`release_authorisation`: the PaymentIntent is
cancelled at Stripe). The booking then owes nothing and holds nothing, so its payment status becomes
`not_required`, with "authorisation_released" in its history: not `refunded` (no money moved back; receipts,
invoices and journals must not show a refund), and not `pending` (there is nothing left to capture).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aws_lambda_powertools import Logger

from booking.domain.booking import Actor, Booking, BookingStatus, HistoryEntry, PaymentStatus, RefundRecord
from booking.domain.checkout import PaymentError, PaymentProviderDown, StripeAccount
from booking.domain.errors import Conflict
from booking.domain.refunds import CancellationPolicy, RefundQuote, check_refund, policy_refund
from booking.ports import BookingRepository, CatalogueReader, Clock, CredentialsStore, PaymentGateway
from booking.services.booking_engine import invalid
from booking.services.payments.changes import save_change

logger = Logger(child=True)

RefundChoice = Literal["policy", "full", "custom", "none"]
RECORD_ATTEMPTS = 3


def authorisation_held(booking: Booking) -> bool:
    """A cancelled booking whose card is still only authorised: a hold on the customer's card to release."""
    payment = booking.payment
    return (
        booking.status is BookingStatus.CANCELLED
        and payment is not None
        and payment.kind == "charge"
        and booking.payment_status == "pending"
        and payment.authorised_at is not None
        and payment.captured_minor == 0
    )


class Refunds:
    def __init__(
        self,
        catalogue: CatalogueReader,
        bookings: BookingRepository,
        accounts: CredentialsStore,
        gateway: PaymentGateway,
        clock: Clock,
    ) -> None:
        self._catalogue = catalogue
        self._bookings = bookings
        self._accounts = accounts
        self._gateway = gateway
        self._clock = clock

    def policy_for(self, booking: Booking) -> CancellationPolicy | None:
        """The first booked service's own policy, or the business's."""
        catalogue = self._catalogue.load_catalogue(booking.tenant_id)
        if catalogue is None:
            return None
        for booked in booking.services:
            service = catalogue.service(booked.id)
            if service is not None and service.cancellation_policy is not None:
                return service.cancellation_policy
        return catalogue.business.cancellation_policy

    def quote(self, booking: Booking, at: datetime | None = None) -> RefundQuote:
        payment = booking.payment
        captured = payment.captured_minor if payment is not None and payment.kind == "charge" else 0
        refunded = payment.refunded_minor if payment is not None else 0
        return policy_refund(
            self.policy_for(booking), captured, refunded, booking.start, at or self._clock.now()
        )

    def amount_for(
        self, booking: Booking, choice: RefundChoice, custom_minor: int | None, quote: RefundQuote
    ) -> int:
        """What staff chose to refund, checked against what can be refunded (a 422 naming the field)."""
        if choice == "none":
            return 0
        if choice == "full":
            return quote.refundable_minor
        if choice == "policy":
            return quote.amount_minor
        if custom_minor is None:
            raise invalid("refund_amount_minor", "give the amount of a custom refund")
        try:
            check_refund(custom_minor, quote.refundable_minor)
        except ValueError as error:
            raise invalid("refund_amount_minor", str(error)) from None
        return custom_minor

    def refund(
        self, booking: Booking, amount_minor: int, actor: Actor, reason: str, key: str | None = None
    ) -> Booking:
        """Pays `amount_minor` back and records it; nothing when the amount is 0. The Stripe idempotency key
        names the decision (by default: this version of the booking), so a retried request refunds once."""
        payment = booking.payment
        if amount_minor <= 0 or payment is None:
            return booking
        refundable = payment.captured_minor - payment.refunded_minor
        try:
            check_refund(amount_minor, refundable)
        except ValueError as error:
            raise invalid("refund_amount_minor", str(error)) from None
        stored = self._accounts.get(booking.tenant_id, "stripe")
        if stored is None:
            raise Conflict("the business's Stripe account is not connected any more; refund in Stripe")
        account = StripeAccount.model_validate(stored)
        made = self._gateway.refund(
            account,
            payment.intent_id,
            amount_minor,
            key or f"booking-{booking.id}-v{booking.version}-refund",
            reason,
        )
        record = RefundRecord(
            id=made.id, amount_minor=made.amount_minor, at=made.created, reason=reason[:200]
        )
        return self.record(booking, record, actor)

    def record(self, booking: Booking, refund: RefundRecord, actor: Actor) -> Booking:
        """Records a refund Stripe made; once only, by its id. When the booking moved on meanwhile (Stripe's
        own event about this refund may have recorded it first), it is read again and the refund recorded
        on it unless it is there already."""
        for _ in range(RECORD_ATTEMPTS):
            payment = booking.payment
            assert payment is not None
            if payment.knows_refund(refund.id):
                return booking
            changed = payment.with_refund(refund)
            status: PaymentStatus = (
                "refunded" if changed.refunded_minor >= changed.captured_minor else "partially_refunded"
            )
            try:
                return save_change(
                    self._bookings,
                    booking,
                    at=self._clock.now(),
                    actor=actor,
                    action="refunded",
                    details={
                        "amount_minor": refund.amount_minor,
                        "refund": refund.id,
                        "reason": refund.reason[:200],
                    },
                    payment=changed,
                    payment_status=status,
                )
            except Conflict:
                found = self._bookings.get(booking.tenant_id, booking.id)
                if found is None:
                    raise
                booking = found[0]
        raise Conflict("the booking keeps changing; the refund was made at Stripe and will be recorded")

    def after_cancellation(self, booking: Booking, amount_minor: int, actor: Actor, reason: str) -> Booking:
        """The refund a cancellation gives, once the booking is cancelled: a Stripe failure then does not
        undo the cancellation; it is recorded on the booking for staff to refund in Stripe."""
        try:
            return self.refund(booking, amount_minor, actor, reason)
        except PaymentError as error:
            entry = HistoryEntry(
                at=self._clock.now(),
                actor=actor,
                action="refund_failed",
                details={"amount_minor": amount_minor, "reason": error.detail[:200]},
            )
            self._bookings.add_history(
                booking.tenant_id, booking.id, entry, f"refund-failed-{booking.version}"
            )
            return booking

    def release_authorisation(self, booking: Booking, actor: Actor, reason: str) -> Booking:
        """Releases the hold a cancelled booking's authorised, never captured payment keeps on the card: the
        intent is cancelled at Stripe (a release, not a refund), then recorded. An intent captured at Stripe
        meanwhile is left to its webhook, which refunds a cancelled booking's payment. Stripe being down
        raises PaymentProviderDown (to be tried again); any other refusal is recorded for staff to release
        the hold in Stripe's dashboard."""
        payment = booking.payment
        if payment is None or not authorisation_held(booking):
            return booking
        stored = self._accounts.get(booking.tenant_id, "stripe")
        if stored is None:
            return self._release_failed(booking, actor, "the business's Stripe account is not connected")
        account = StripeAccount.model_validate(stored)
        try:
            state = self._gateway.intent(account, payment.intent_id)
            if state.status == "requires_capture":
                # Cancelling is idempotent at Stripe (a second cancel is refused, and the adapter ignores
                # that); the gateway's cancel takes no idempotency key of ours yet.
                self._gateway.cancel(account, payment.intent_id)
                state = self._gateway.intent(account, payment.intent_id)
        except PaymentProviderDown:
            raise
        except PaymentError as error:
            return self._release_failed(booking, actor, error.detail)
        if state.status != "canceled":
            logger.warning(
                "an authorisation to release was not released",
                extra={"booking_id": booking.id, "intent_status": state.status},
            )
            return booking  # captured meanwhile: payment_intent.succeeded refunds it
        return save_change(
            self._bookings,
            booking,
            at=self._clock.now(),
            actor=actor,
            action="authorisation_released",
            details={
                "intent": payment.intent_id,
                "amount_minor": payment.amount_minor,
                "reason": reason[:200],
            },
            payment_status="not_required",
            payment=payment.model_copy(update={"failure": None}),
        )

    def _release_failed(self, booking: Booking, actor: Actor, why: str) -> Booking:
        # Timed as the cancellation, so the same change delivered again records it once.
        entry = HistoryEntry(
            at=booking.updated_at,
            actor=actor,
            action="authorisation_release_failed",
            details={"reason": why[:200]},
        )
        self._bookings.add_history(booking.tenant_id, booking.id, entry, f"release-failed-{booking.version}")
        return booking
