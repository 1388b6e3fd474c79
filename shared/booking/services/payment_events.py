"""What Stripe's verified events do to a booking (the webhooks function): confirm it when its payment
succeeds or is authorised, record a decline, cancel it when its intent is cancelled. Events come in any
order and more than once: each is recorded by id with a conditional write (a replay does nothing), and the
intent is re-read from Stripe, so the object as it is now decides, not the event.

A payment that arrives after the hold lapsed still confirms the booking when the time is free; when
someone else has the time, the payment is refunded in full and the booking cancelled, saying why.
"""

from __future__ import annotations

from datetime import timedelta

from aws_lambda_powertools import Logger

from booking.domain.booking import Actor, Booking, BookingStatus, HistoryEntry, PaymentStatus
from booking.domain.checkout import IntentState, StripeAccount
from booking.domain.errors import NotFound, SlotTaken
from booking.ports import BookingRepository, Clock, CredentialsStore, WebhookEvents
from booking.services.checkout import PaymentGateway
from booking.services.payment_changes import save_change

logger = Logger(child=True)

STRIPE = Actor(kind="system", id="stripe")
# Stripe retries an event for up to 3 days: remembering it a week covers every redelivery.
EVENT_MEMORY = timedelta(days=7)
INTENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.amount_capturable_updated",
        "payment_intent.canceled",
        "setup_intent.succeeded",
        "setup_intent.setup_failed",
        "charge.refunded",
    }
)


class PaymentEvents:
    def __init__(
        self,
        bookings: BookingRepository,
        accounts: CredentialsStore,
        gateway: PaymentGateway,
        events: WebhookEvents,
        clock: Clock,
    ) -> None:
        self._bookings = bookings
        self._accounts = accounts
        self._gateway = gateway
        self._events = events
        self._clock = clock

    def receive(self, tenant_id: str, payload: bytes, signature: str | None) -> str:
        """Verifies and handles one webhook delivery; returns what was done. NotFound for a business
        without a Stripe account, BadSignature for anything not signed by it."""
        stored = self._accounts.get(tenant_id, "stripe")
        if stored is None:
            raise NotFound("no Stripe account is connected for this business")
        account = StripeAccount.model_validate(stored)
        event = self._gateway.verify_event(account, payload, signature)
        if self._events.seen(tenant_id, "stripe", event.id):
            return "duplicate"
        outcome = "ignored"
        if event.type in INTENT_EVENTS and event.intent_id:
            outcome = self.intent_changed(account, tenant_id, event.intent_id)
        elif event.type == "charge.dispute.created" and event.intent_id:
            outcome = self._disputed(account, tenant_id, event.intent_id)
        now = self._clock.now()
        self._events.record(tenant_id, "stripe", event.id, outcome, now, now + EVENT_MEMORY)
        return outcome

    def intent_changed(self, account: StripeAccount, tenant_id: str, intent_id: str) -> str:
        """Brings the booking in line with the intent as Stripe has it now. Returns what was done."""
        state = self._gateway.intent(account, intent_id)
        booking_id = state.metadata.get("booking_id")
        if state.metadata.get("tenant_id") != tenant_id or not booking_id:
            logger.warning("a Stripe intent that is not one of ours", extra={"intent": intent_id})
            return "not_ours"
        found = self._bookings.get(tenant_id, booking_id)
        if found is None:
            return "no_booking"
        booking = found[0]
        if state.metadata.get("purpose") == "no_show_fee":
            return self._fee_paid(booking, state)
        if booking.payment is None or booking.payment.intent_id != intent_id:
            return "not_this_booking"
        if state.refunded_minor > booking.payment.refunded_minor and not booking.awaiting_payment:
            return self._refunded_at_stripe(booking, state)
        if state.status in ("succeeded", "requires_capture"):
            return self._paid(account, booking, state)
        if state.status == "canceled":
            return self._abandoned(booking)
        if state.failure:
            return self._failed(booking, state.failure)
        return "unchanged"

    def _paid(self, account: StripeAccount, booking: Booking, state: IntentState) -> str:
        payment = booking.payment
        assert payment is not None
        authorised = state.status == "requires_capture"
        status: PaymentStatus = "pending" if authorised else "paid"
        if payment.kind == "card_on_file":
            status = "not_required"  # nothing is charged now: the card is kept for later fees
        if not booking.awaiting_payment:
            if booking.status is BookingStatus.CANCELLED and state.received_minor > payment.refunded_minor:
                return self._refund_all(account, booking, state, "the booking was cancelled before payment")
            if booking.payment_status == "pending" and state.status == "succeeded":
                return self._captured(booking, state)  # captured in Stripe's dashboard, not through us
            if booking.payment_status in ("unpaid", "failed") and state.status == "succeeded":
                return self._captured(booking, state)  # paid later, through the manage link
            return "already_settled"
        now = self._clock.now()
        try:
            save_change(
                self._bookings,
                booking,
                at=now,
                actor=STRIPE,
                action="payment_authorised" if authorised else "payment_received",
                details={
                    "intent": state.intent_id,
                    "amount_minor": str(state.received_minor or state.capturable_minor),
                },
                status=BookingStatus.CONFIRMED,
                hold_expires_at=None,
                payment_status=status,
                payment=payment.model_copy(
                    update={
                        "captured_minor": state.received_minor,
                        "failure": None,
                        "authorised_at": now if authorised else None,
                        "saved_card": state.saved_card,
                    }
                ),
            )
        except SlotTaken:
            # The hold lapsed and someone else booked the time before the payment arrived.
            return self._refund_all(account, booking, state, "the time was taken before the payment arrived")
        return "confirmed"

    def _captured(self, booking: Booking, state: IntentState) -> str:
        payment = booking.payment
        assert payment is not None
        save_change(
            self._bookings,
            booking,
            at=self._clock.now(),
            actor=STRIPE,
            action="payment_captured",
            details={"amount_minor": str(state.received_minor)},
            payment_status="paid",
            payment=payment.model_copy(update={"captured_minor": state.received_minor}),
        )
        return "captured"

    def _refunded_at_stripe(self, booking: Booking, state: IntentState) -> str:
        """A refund made outside our API (Stripe's dashboard), learnt from charge.refunded or any later
        event of the intent: recorded as Stripe has it."""
        payment = booking.payment
        assert payment is not None
        refunded = state.refunded_minor
        status: PaymentStatus = "refunded" if refunded >= payment.captured_minor else "partially_refunded"
        save_change(
            self._bookings,
            booking,
            at=self._clock.now(),
            actor=STRIPE,
            action="payment_refunded",
            details={
                "intent": state.intent_id,
                "amount_minor": str(refunded - payment.refunded_minor),
                "reason": "refunded in Stripe",
            },
            payment_status=status,
            payment=payment.model_copy(update={"refunded_minor": refunded}),
        )
        return "refunded"

    def _fee_paid(self, booking: Booking, state: IntentState) -> str:
        """A no-show fee paid: charged to the card on file, or paid by the customer through the link."""
        index = next((i for i, fee in enumerate(booking.fees) if fee.intent_id == state.intent_id), None)
        if index is None:
            return "not_this_booking"
        fee = booking.fees[index]
        if state.status != "succeeded" or fee.status == "charged":
            return "unchanged" if state.status != "succeeded" else "already_settled"
        fees = list(booking.fees)
        fees[index] = fee.model_copy(update={"status": "charged", "failure": None})
        save_change(
            self._bookings,
            booking,
            at=self._clock.now(),
            actor=STRIPE,
            action="fee_paid",
            details={"intent": state.intent_id, "amount_minor": str(fee.amount_minor)},
            fees=fees,
        )
        return "fee_paid"

    def _refund_all(self, account: StripeAccount, booking: Booking, state: IntentState, why: str) -> str:
        payment = booking.payment
        assert payment is not None
        now = self._clock.now()
        if state.status == "requires_capture":
            self._gateway.cancel(account, state.intent_id)  # an authorisation is released, not refunded
            refunded = 0
        else:
            refunded = state.received_minor - payment.refunded_minor
            if refunded > 0:
                self._gateway.refund(
                    account, state.intent_id, refunded, key=f"booking-{booking.id}-refund-all"
                )
        released = state.status == "requires_capture"
        status: PaymentStatus = booking.payment_status
        if refunded > 0:
            status = "refunded"
        elif released:
            status = "not_required"  # nothing was taken, and nothing is held any more
        save_change(
            self._bookings,
            booking,
            at=now,
            actor=STRIPE,
            action="authorisation_released" if released else "payment_refunded",
            details={"intent": state.intent_id, "amount_minor": str(refunded), "reason": why},
            status=BookingStatus.CANCELLED,
            hold_expires_at=None,
            cancellation_reason=booking.cancellation_reason
            or f"{why}; the payment was {'released' if released else 'refunded in full'}",
            payment_status=status,
            payment=payment.model_copy(
                update={
                    "captured_minor": state.received_minor,
                    "refunded_minor": payment.refunded_minor + refunded,
                }
            ),
        )
        return "refunded"

    def _abandoned(self, booking: Booking) -> str:
        payment = booking.payment
        if booking.payment_status == "pending" and payment is not None and payment.authorised_at is not None:
            # Stripe let an uncaptured authorisation go (after 7 days): the booking stands, now unpaid.
            save_change(
                self._bookings,
                booking,
                at=self._clock.now(),
                actor=STRIPE,
                action="authorisation_lapsed",
                details={"intent": payment.intent_id},
                payment_status="unpaid",
                payment=payment.model_copy(update={"failure": "the card authorisation lapsed uncaptured"}),
            )
            return "authorisation_lapsed"
        if not booking.awaiting_payment:
            return "already_settled"
        save_change(
            self._bookings,
            booking,
            at=self._clock.now(),
            actor=STRIPE,
            action="payment_cancelled",
            status=BookingStatus.CANCELLED,
            cancellation_reason="the payment was cancelled",
        )
        return "cancelled"

    def _failed(self, booking: Booking, failure: str) -> str:
        payment = booking.payment
        if payment is None or not booking.awaiting_payment or payment.failure == failure:
            return "unchanged"
        save_change(
            self._bookings,
            booking,
            at=self._clock.now(),
            actor=STRIPE,
            action="payment_failed",
            details={"reason": failure[:200]},
            payment_status="failed",
            payment=payment.model_copy(update={"failure": failure}),
        )
        return "failed"

    def _disputed(self, account: StripeAccount, tenant_id: str, intent_id: str) -> str:
        """A chargeback: recorded on the booking's history for staff to answer in Stripe."""
        state = self._gateway.intent(account, intent_id)
        booking_id = state.metadata.get("booking_id")
        if state.metadata.get("tenant_id") != tenant_id or not booking_id:
            return "not_ours"
        if self._bookings.get(tenant_id, booking_id) is None:
            return "no_booking"
        entry = HistoryEntry(
            at=self._clock.now(), actor=STRIPE, action="payment_disputed", details={"intent": intent_id}
        )
        self._bookings.add_history(tenant_id, booking_id, entry, f"dispute-{intent_id}")
        return "disputed"
