"""The payment lifecycle after booking, run by the reminders function: what a committed booking change means
for its payment at Stripe, and two one-time timers (EventBridge Scheduler, like reminders; on the dev clock
locally), each re-reading the booking (and the intent at Stripe) when it fires, never trusting the schedule.

    authorised (authorised_at set)  ──timer at authorisation_expires_at - 24 h──> still pending: the staff
                                       member and the business's contact address are told, once
    awaiting payment (hold set)     ──timer at hold_expires_at + 5 min──> still awaiting and not paid at
                                       Stripe: the intent is cancelled, then the booking ("the payment was
                                       not completed in time"), without a message: nobody was told of it
    cancelled, card only authorised ──> the authorisation is released (Refunds.release_authorisation)
    cancelled while awaiting payment ──> its PaymentIntent is cancelled: nothing can be paid for it any more

The time of an abandoned checkout is free once its hold lapses whether or not its timer ever runs (the
ledger ignores expired holds): the timer only tidies the record and the intent. The warning is a message
kind like any other (services/messaging/kinds.py: AUTHORISATION_LAPSING), sent and retried by the one
message pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from aws_lambda_powertools import Logger

from booking.domain.booking import AUTHORISATION_LIFE, Actor, Booking, BookingStatus, HistoryEntry
from booking.domain.catalogue import Catalogue
from booking.domain.checkout import PaymentError, PaymentProviderDown, StripeAccount
from booking.domain.communications import MessageRequest
from booking.domain.errors import Conflict
from booking.ports import (
    BookingRepository,
    CatalogueReader,
    Clock,
    CredentialsStore,
    PaymentGateway,
    TimerScheduler,
)
from booking.services.messaging.checks import lapse_key, lapse_not_due
from booking.services.messaging.kinds import AUTHORISATION_LAPSING, booking_subject
from booking.services.messaging.pipeline import MessagePipeline
from booking.services.payments.changes import save_change
from booking.services.payments.refunds import Refunds, authorisation_held

logger = Logger(child=True)

PAYMENTS = Actor(kind="system", id="payments")
TIMER_EVENT = "payment_timer"  # the `type` of a payment timer's payload
LAPSE_WARNING = timedelta(hours=24)  # how long before an authorisation lapses the business is told
CHECKOUT_GRACE = timedelta(minutes=5)  # after the hold: a payment confirmed at the last second has landed
MIN_LEAD = timedelta(minutes=1)  # a timer due already (the stream ran late) fires this soon
ABANDONED_REASON = "the payment was not completed in time"
# Intents that are paid or being paid: their webhook confirms the booking; a timer leaves them alone.
PAID = frozenset({"succeeded", "requires_capture", "processing"})
LAPSE_KIND = AUTHORISATION_LAPSING.name

TimerKind = Literal["authorisation_lapsing", "checkout_expired"]


@dataclass(frozen=True)
class PaymentTimer:
    """One timer of one booking: `about` names what it is for (the authorisation's time, or the hold's
    expiry), so a new authorisation or a moved hold gets a timer of its own."""

    kind: TimerKind
    tenant_id: str
    booking_id: str
    intent_id: str
    about: datetime

    @property
    def due(self) -> datetime:
        if self.kind == "authorisation_lapsing":
            return self.about + AUTHORISATION_LIFE - LAPSE_WARNING
        return self.about + CHECKOUT_GRACE

    @property
    def name(self) -> str:
        """Deterministic EventBridge Scheduler name (<= 64 chars, [0-9A-Za-z_.-])."""
        prefix = "pay-lapse" if self.kind == "authorisation_lapsing" else "pay-hold"
        return f"{prefix}-{self.booking_id}-{int(self.about.timestamp())}"

    def payload(self) -> dict[str, Any]:
        """What the reminders function receives when the timer fires."""
        return {
            "type": TIMER_EVENT,
            "timer": self.kind,
            "tenant_id": self.tenant_id,
            "booking_id": self.booking_id,
            "intent_id": self.intent_id,
            "about": self.about.isoformat(),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> PaymentTimer:
        kind = payload["timer"]
        if kind not in ("authorisation_lapsing", "checkout_expired"):
            raise ValueError(f"not a payment timer: {kind!r}")
        return cls(
            kind=kind,
            tenant_id=str(payload["tenant_id"]),
            booking_id=str(payload["booking_id"]),
            intent_id=str(payload["intent_id"]),
            about=datetime.fromisoformat(payload["about"]),
        )


def timers_for(old: Booking | None, new: Booking) -> list[PaymentTimer]:
    """The timers a committed change calls for: a newly authorised payment's lapse warning, and a newly
    held checkout's expiry."""
    payment = new.payment
    if payment is None:
        return []
    timers: list[PaymentTimer] = []
    before = old.payment if old is not None else None
    authorised = payment.authorised_at
    if (
        authorised is not None
        and new.payment_status == "pending"
        and (before is None or before.authorised_at != authorised)
    ):
        timers.append(
            PaymentTimer("authorisation_lapsing", new.tenant_id, new.id, payment.intent_id, authorised)
        )
    hold = new.hold_expires_at
    if (
        new.awaiting_payment
        and hold is not None
        and (old is None or not old.awaiting_payment or old.hold_expires_at != hold)
    ):
        timers.append(PaymentTimer("checkout_expired", new.tenant_id, new.id, payment.intent_id, hold))
    return timers


class PaymentTimers:
    def __init__(
        self,
        catalogue: CatalogueReader,
        bookings: BookingRepository,
        accounts: CredentialsStore,
        gateway: PaymentGateway,
        refunds: Refunds,
        timers: TimerScheduler,
        messages: MessagePipeline,
        clock: Clock,
    ) -> None:
        self._catalogue = catalogue
        self._bookings = bookings
        self._accounts = accounts
        self._gateway = gateway
        self._refunds = refunds
        self._timers = timers
        self.pipeline = messages
        self._clock = clock

    # --- reacting to committed changes ----------------------------------------------------------------

    def booking_changed(self, old: Booking | None, new: Booking) -> None:
        now = self._clock.now()
        for timer in timers_for(old, new):
            self._timers.schedule_at(timer.name, max(timer.due, now + MIN_LEAD), timer.payload())
        if (
            old is not None
            and old.status is not BookingStatus.CANCELLED
            and new.status is BookingStatus.CANCELLED
        ):
            self._cancelled(old, new)

    def _cancelled(self, old: Booking, new: Booking) -> None:
        """A booking just cancelled (by anyone, by any path): an authorisation on the card is released; an
        unpaid checkout's intent is cancelled, so the customer cannot pay for a booking that is gone."""
        if new.payment is None:
            return  # nothing at Stripe
        found = self._bookings.get(new.tenant_id, new.id)
        if found is None:
            return
        current = found[0]
        if authorisation_held(current):
            reason = current.cancellation_reason or "the booking was cancelled"
            self._refunds.release_authorisation(current, PAYMENTS, reason)
            return
        payment = current.payment
        unpaid = (
            payment is not None
            and payment.kind == "charge"
            and payment.captured_minor == 0
            and current.payment_status in ("unpaid", "failed")
        )
        if old.awaiting_payment and payment is not None and unpaid:
            account = self._account(current.tenant_id)
            if account is None:
                return
            try:
                self._gateway.cancel(account, payment.intent_id)  # one paid meanwhile is kept (and refunded)
            except PaymentProviderDown:
                raise
            except PaymentError as error:
                logger.warning(
                    "an unpaid checkout's intent could not be cancelled",
                    extra={"booking_id": current.id, "error": error.kind},
                )

    def _account(self, tenant_id: str) -> StripeAccount | None:
        stored = self._accounts.get(tenant_id, "stripe")
        if stored is None:
            logger.warning("no Stripe account to act on a payment with", extra={"tenant": tenant_id})
            return None
        return StripeAccount.model_validate(stored)

    # --- timers ---------------------------------------------------------------------------------------

    def fire(self, payload: dict[str, Any]) -> str:
        """A payment timer fired: does what is still due; returns what was done."""
        timer = PaymentTimer.from_payload(payload)
        if timer.kind == "authorisation_lapsing":
            return self._lapsing(timer)
        return self._checkout_expired(timer)

    def _lapsing(self, timer: PaymentTimer) -> str:
        found = self._load(timer.tenant_id, timer.booking_id)
        if found is None:
            return "no_booking"
        booking, catalogue = found
        payment = booking.payment
        why = lapse_not_due(booking, timer.about, self._clock.now())
        if why is not None or payment is None:
            logger.info("no authorisation warning", extra={"booking_id": booking.id, "reason": why})
            return "not_due"
        expires = payment.authorisation_expires_at
        entry = HistoryEntry(
            at=timer.due,  # the timer's own time: a second firing writes the same entry, refused
            actor=PAYMENTS,
            action="authorisation_lapsing",
            details={
                "intent": payment.intent_id,
                "amount_minor": payment.amount_minor,
                "expires_at": expires.isoformat() if expires is not None else "",
            },
        )
        self._bookings.add_history(
            booking.tenant_id, booking.id, entry, f"lapsing-{int(timer.about.timestamp())}"
        )
        # To the booking's staff member and the business's contact address, each once per authorisation.
        about = MessageRequest(kind=LAPSE_KIND, about_start=booking.start, about_staff_id=booking.staff_id)
        subject = booking_subject(booking, catalogue)
        self.pipeline.send(AUTHORISATION_LAPSING, subject, lapse_key(timer.about), about)
        return "flagged"

    def _checkout_expired(self, timer: PaymentTimer) -> str:
        found = self._bookings.get(timer.tenant_id, timer.booking_id)
        if found is None:
            return "no_booking"
        booking = found[0]
        payment = booking.payment
        if not booking.awaiting_payment or payment is None or payment.intent_id != timer.intent_id:
            return "settled"
        if booking.hold_expires_at is None or self._clock.now() < booking.hold_expires_at:
            return "not_due"  # the hold was moved on: its own timer comes later
        account = self._account(booking.tenant_id)
        if account is None:
            return "no_account"
        try:
            state = self._gateway.intent(account, payment.intent_id)
            if state.status not in PAID and state.status != "canceled":
                # Cancelling is idempotent at Stripe (a second cancel is refused and ignored); a payment
                # that lands first makes the cancel fail, and the intent read again says so.
                self._gateway.cancel(account, payment.intent_id)
                state = self._gateway.intent(account, payment.intent_id)
        except PaymentProviderDown:
            raise  # the invocation fails and is retried
        except PaymentError as error:
            logger.warning(
                "an abandoned checkout could not be checked at Stripe",
                extra={"booking_id": booking.id, "error": error.kind},
            )
            return "stripe_refused"
        if state.status in PAID:
            return "paid"  # its webhook confirms the booking (or refunds it when the time was taken)
        try:
            save_change(
                self._bookings,
                booking,
                at=self._clock.now(),
                actor=PAYMENTS,
                action="checkout_abandoned",
                details={"intent": payment.intent_id, "intent_status": state.status},
                status=BookingStatus.CANCELLED,
                cancellation_reason=ABANDONED_REASON,
            )
        except Conflict:
            again = self._bookings.get(timer.tenant_id, timer.booking_id)
            if again is not None and again[0].awaiting_payment:
                raise
            return "settled"  # a webhook got there first
        return "cancelled"

    def _load(self, tenant_id: str, booking_id: str) -> tuple[Booking, Catalogue] | None:
        found = self._bookings.get(tenant_id, booking_id)
        catalogue = self._catalogue.load_catalogue(tenant_id)
        if found is None or catalogue is None:
            logger.warning(
                "payment timer for a booking that does not exist", extra={"booking_id": booking_id}
            )
            return None
        return found[0], catalogue
