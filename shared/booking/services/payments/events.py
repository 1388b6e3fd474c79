"""What Stripe's verified events do to a booking (the webhooks function): confirm it when its payment
succeeds or is authorised, record a decline, cancel it when its intent is cancelled, record refunds made in
Stripe's dashboard. Events come in any order and more than once: each is recorded by id with a conditional
write (a replay does nothing), and the intent is re-read from Stripe, so the object as it is now decides,
not the event.

Money is recorded as Stripe took it: what was received is compared with what the intent was made for and
with what the booking owed; a difference is recorded as it is (an overpayment shows as a credit the
business can refund), never silently. Refunds are recorded one by one by Stripe's refund id, so our own
refund and Stripe's events about it never count twice; a refund is only ever what a person or a policy
decided, or a payment that arrived after the booking was cancelled (exactly that payment, once).

A payment that arrives after the hold lapsed still confirms the booking when the time is free; when
someone else has the time, the payment is refunded in full and the booking cancelled, saying why.
"""

from __future__ import annotations

from datetime import timedelta

from aws_lambda_powertools import Logger

from booking.domain.booking import (
    Actor,
    Booking,
    BookingStatus,
    HistoryEntry,
    PaymentStatus,
    RefundRecord,
)
from booking.domain.checkout import BadSignature, IntentState, PaymentRefused, StripeAccount, StripeRefund
from booking.domain.errors import Conflict, NotFound, SlotTaken
from booking.domain.invoices import account_of
from booking.ports import BookingRepository, Clock, CredentialsStore, PaymentGateway, WebhookEvents
from booking.services.payments.changes import save_change

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
        "charge.refund.updated",
        "refund.created",
        "refund.updated",
    }
)
SAVE_ATTEMPTS = 3  # an event racing our own change of the same booking reads it again


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
        account = self._account(tenant_id)
        try:
            event = self._gateway.verify_event(account, payload, signature)
        except BadSignature:
            # Perhaps the webhook secret was just rotated: read it afresh once before refusing.
            fresh = self._account(tenant_id, fresh=True)
            if fresh.webhook_secret == account.webhook_secret:
                raise
            account = fresh
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

    def _account(self, tenant_id: str, fresh: bool = False) -> StripeAccount:
        stored = self._accounts.get(tenant_id, "stripe", fresh)
        if stored is None and not fresh:
            stored = self._accounts.get(tenant_id, "stripe", fresh=True)  # connected since it was cached
        if stored is None:
            raise NotFound("no Stripe account is connected for this business")
        return StripeAccount.model_validate(stored)

    def intent_changed(self, account: StripeAccount, tenant_id: str, intent_id: str) -> str:
        """Brings the booking in line with the intent as Stripe has it now. Returns what was done."""
        try:
            state = self._gateway.intent(account, intent_id)
        except PaymentRefused:
            # Signed with this business's secret, about an object its key cannot read (another account's,
            # or gone): not ours to act on. Answered, so Stripe does not retry it for three days.
            logger.warning(
                "a Stripe event about an intent this account cannot read", extra={"intent": intent_id}
            )
            return "not_ours"
        booking_id = state.metadata.get("booking_id")
        if state.metadata.get("tenant_id") != tenant_id or not booking_id:
            logger.warning("a Stripe intent that is not one of ours", extra={"intent": intent_id})
            return "not_ours"
        for _ in range(SAVE_ATTEMPTS):
            found = self._bookings.get(tenant_id, booking_id)
            if found is None:
                return "no_booking"
            try:
                return self._apply(account, found[0], state)
            except Conflict as conflict:
                if isinstance(conflict, SlotTaken):
                    raise
                continue  # the booking changed meanwhile (our own refund or capture): read it again
        raise Conflict("the booking keeps changing; Stripe will deliver the event again")

    def _apply(self, account: StripeAccount, booking: Booking, state: IntentState) -> str:
        if state.metadata.get("purpose") == "no_show_fee":
            return self._fee_paid(booking, state)
        if booking.payment is None or booking.payment.intent_id != state.intent_id:
            return "not_this_booking"
        if state.currency and state.currency != booking.currency.upper() and state.received_minor:
            return self._wrong_currency(account, booking, state)
        unknown = [
            r
            for r in state.refunds
            if r.status in RECORDED_REFUNDS and not booking.payment.knows_refund(r.id)
        ]
        if unknown and not booking.awaiting_payment:
            booking = self._refunded_at_stripe(booking, state, unknown)
        if state.status in ("succeeded", "requires_capture"):
            outcome = self._paid(account, booking, state)
            return "refunded" if unknown and outcome == "already_settled" else outcome
        if unknown:
            return "refunded"
        if state.status == "canceled":
            return self._abandoned(booking)
        if state.failure:
            return self._failed(booking, state.failure)
        return "unchanged"

    def _paid(self, account: StripeAccount, booking: Booking, state: IntentState) -> str:
        payment = booking.payment
        assert payment is not None
        authorised = state.status == "requires_capture"
        if not booking.awaiting_payment:
            late = state.received_minor - payment.captured_minor  # taken at Stripe, not yet recorded here
            if booking.status is BookingStatus.CANCELLED:
                # Money taken, or a card authorised, after the cancellation: given back. An authorisation the
                # booking knew of is released by the cancellation itself (services/payments/refunds.py).
                if late > 0 or (authorised and payment.authorised_at is None):
                    return self._refund_late(
                        account, booking, state, "the booking was cancelled before payment"
                    )
                return "already_settled"
            if late > 0 and state.status == "succeeded":
                # Captured in Stripe's dashboard (an authorisation), or paid later through the manage link.
                return self._captured(booking, state)
            return "already_settled"
        now = self._clock.now()
        status: PaymentStatus = "pending" if authorised else "paid"
        if payment.kind == "card_on_file":
            status = "not_required"  # nothing is charged now: the card is kept for later fees
        taken = state.received_minor or state.capturable_minor
        try:
            save_change(
                self._bookings,
                booking,
                at=now,
                actor=STRIPE,
                action="payment_authorised" if authorised else "payment_received",
                details={"intent": state.intent_id} | _compared(taken, payment.amount_minor, booking),
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
            return self._refund_late(account, booking, state, "the time was taken before the payment arrived")
        return "confirmed"

    def _captured(self, booking: Booking, state: IntentState) -> str:
        """Money Stripe took that the booking had not recorded: recorded as Stripe took it, compared with
        what the intent was for and what was owed."""
        payment = booking.payment
        assert payment is not None
        taken = state.received_minor - payment.captured_minor
        changed = payment.model_copy(update={"captured_minor": state.received_minor, "failure": None})
        after = booking.model_copy(update={"payment": changed})
        save_change(
            self._bookings,
            booking,
            at=self._clock.now(),
            actor=STRIPE,
            action="payment_captured",
            details={"intent": state.intent_id} | _compared(taken, payment.amount_minor, booking),
            payment_status="unpaid" if account_of(after).balance_minor > 0 else "paid",
            payment=changed,
        )
        return "captured"

    def _refunded_at_stripe(
        self, booking: Booking, state: IntentState, unknown: list[StripeRefund]
    ) -> Booking:
        """Refunds Stripe made that the booking has not recorded (made in Stripe's dashboard, or ours whose
        own record has not been saved yet): recorded by their ids, as Stripe has them."""
        payment = booking.payment
        assert payment is not None
        for refund in unknown:
            payment = payment.with_refund(
                RefundRecord(
                    id=refund.id,
                    amount_minor=refund.amount_minor,
                    at=refund.created,
                    reason="refunded in Stripe",
                )
            )
        status: PaymentStatus = (
            "refunded" if payment.refunded_minor >= payment.captured_minor else "partially_refunded"
        )
        return save_change(
            self._bookings,
            booking,
            at=self._clock.now(),
            actor=STRIPE,
            action="payment_refunded",
            details={
                "intent": state.intent_id,
                "amount_minor": sum(refund.amount_minor for refund in unknown),
                "refunds": ",".join(refund.id for refund in unknown),
                "reason": "refunded in Stripe",
            },
            payment_status=status if payment.captured_minor else booking.payment_status,
            payment=payment,
        )

    def _fee_paid(self, booking: Booking, state: IntentState) -> str:
        """A no-show fee paid: charged to the card on file, or paid by the customer through the link."""
        index = next((i for i, fee in enumerate(booking.fees) if fee.intent_id == state.intent_id), None)
        if index is None:
            return "not_this_booking"
        fee = booking.fees[index]
        if state.status != "succeeded" or fee.status == "charged":
            return "unchanged" if state.status != "succeeded" else "already_settled"
        now = self._clock.now()
        fees = list(booking.fees)
        fees[index] = fee.model_copy(update={"status": "charged", "failure": None, "paid_at": now})
        after = booking.model_copy(update={"fees": fees})
        save_change(
            self._bookings,
            booking,
            at=now,
            actor=STRIPE,
            action="fee_paid",
            details={"intent": state.intent_id} | _compared(state.received_minor, fee.amount_minor, booking),
            fees=fees,
            payment_status=settled_status(after),
        )
        return "fee_paid"

    def _refund_late(self, account: StripeAccount, booking: Booking, state: IntentState, why: str) -> str:
        """A payment that arrived for a booking that cannot have it (cancelled meanwhile, or its time taken):
        exactly what arrived late is refunded, once (the key names the intent and what it had received),
        and an authorisation is released rather than refunded."""
        payment = booking.payment
        assert payment is not None
        released = state.status == "requires_capture"
        record: RefundRecord | None = None
        late = state.received_minor - payment.captured_minor
        if released:
            self._gateway.cancel(account, state.intent_id)  # an authorisation is released, not refunded
        elif late > 0:
            made = self._gateway.refund(
                account,
                state.intent_id,
                late,
                key=f"{state.intent_id}-late-{state.received_minor}",
                reason=why,
            )
            record = RefundRecord(id=made.id, amount_minor=made.amount_minor, at=made.created, reason=why)
        changed = payment.model_copy(update={"captured_minor": state.received_minor})
        if record is not None:
            changed = changed.with_refund(record)
        status: PaymentStatus = booking.payment_status
        if record is not None:
            status = "refunded" if changed.refunded_minor >= changed.captured_minor else "partially_refunded"
        elif released:
            status = "not_required"  # nothing was taken, and nothing is held any more
        details: dict[str, str | int] = {"intent": state.intent_id, "reason": why}
        details |= (
            {"amount_minor": record.amount_minor, "refund": record.id} if record else {"amount_minor": 0}
        )
        save_change(
            self._bookings,
            booking,
            at=self._clock.now(),
            actor=STRIPE,
            action="authorisation_released" if released else "payment_refunded",
            details=details,
            status=BookingStatus.CANCELLED,
            hold_expires_at=None,
            cancellation_reason=booking.cancellation_reason
            or f"{why}; the payment was {'released' if released else 'refunded in full'}",
            payment_status=status,
            payment=changed,
        )
        return "refunded"

    def _wrong_currency(self, account: StripeAccount, booking: Booking, state: IntentState) -> str:
        """Money taken in another currency than the booking's cannot be set against what it owes: it is
        refunded in full (once) and the booking says so; nothing is added to what was paid."""
        payment = booking.payment
        assert payment is not None
        why = f"paid in {state.currency}, not {booking.currency.upper()}"
        refundable = state.received_minor - state.refunded_minor
        if refundable > 0:
            self._gateway.refund(
                account, state.intent_id, refundable, key=f"{state.intent_id}-wrong-currency", reason=why
            )
        entry = HistoryEntry(
            at=self._clock.now(),
            actor=STRIPE,
            action="payment_refunded",
            details={"intent": state.intent_id, "amount_minor": refundable, "reason": why},
        )
        self._bookings.add_history(booking.tenant_id, booking.id, entry, f"wrong-currency-{state.intent_id}")
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
        try:
            state = self._gateway.intent(account, intent_id)
        except PaymentRefused:
            return "not_ours"
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


# Refunds Stripe has made, or is making: recorded as soon as they exist (a failed one is not money back).
RECORDED_REFUNDS = frozenset({"succeeded", "pending", "requires_action"})


def _compared(taken_minor: int, intended_minor: int, booking: Booking) -> dict[str, str | int]:
    """History details for money taken: the amount, and any difference from what the intent was made for
    or from what the booking owed before it."""
    details: dict[str, str | int] = {"amount_minor": taken_minor}
    owed = account_of(booking).balance_minor
    if taken_minor != intended_minor:
        details["intended_minor"] = intended_minor
    if taken_minor > owed:
        details["overpaid_minor"] = taken_minor - max(owed, 0)
    return details


def settled_status(booking: Booking) -> PaymentStatus:
    """The payment status once money owed was paid: "unpaid" while anything is still owed, else "paid"
    (or as it was, for a booking refunded or needing no payment that now owes nothing)."""
    if account_of(booking).balance_minor > 0:
        return "unpaid"
    return "paid" if booking.payment_status in ("unpaid", "failed", "pending") else booking.payment_status
