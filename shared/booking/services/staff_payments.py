"""Payments staff handle: capturing an authorisation when they confirm the payment (businesses that
authorise at booking), and recording a payment taken outside Stripe (cash, a card terminal, a transfer)."""

from __future__ import annotations

from booking.domain.access import DIARY_ROLES, Principal, Role
from booking.domain.booking import (
    Booking,
    BookingStatus,
    OfflinePayment,
    OfflinePaymentRequest,
    PaymentStatus,
)
from booking.domain.checkout import StripeAccount
from booking.domain.errors import Conflict, NotFound
from booking.ports import BookingRepository, Clock, CredentialsStore
from booking.services.booking_engine import BookingEngine, BookingView
from booking.services.bookings import actor_for
from booking.services.checkout import PaymentGateway
from booking.services.payment_changes import save_change


class StaffPayments:
    def __init__(
        self,
        engine: BookingEngine,
        bookings: BookingRepository,
        accounts: CredentialsStore,
        gateway: PaymentGateway,
        clock: Clock,
    ) -> None:
        self._engine = engine
        self._bookings = bookings
        self._accounts = accounts
        self._gateway = gateway
        self._clock = clock

    def _load(self, principal: Principal, booking_id: str) -> Booking:
        principal.require(DIARY_ROLES)
        booking, _ = self._engine.load(principal.tenant_id, booking_id)
        if principal.role is Role.STAFF and booking.staff_id != principal.staff_id:
            raise NotFound(f"booking {booking_id} not found")  # staff see their own diary only
        return booking

    def capture(self, principal: Principal, booking_id: str) -> BookingView:
        """Captures the authorisation in full, within its life (Stripe releases it after 7 days)."""
        booking = self._load(principal, booking_id)
        payment = booking.payment
        if booking.status is BookingStatus.CANCELLED:
            raise Conflict("the booking was cancelled: its authorisation is released, not captured")
        if payment is None or booking.payment_status != "pending":
            raise Conflict("there is no authorised payment to capture on this booking")
        expires = payment.authorisation_expires_at
        if expires is not None and self._clock.now() >= expires:
            raise Conflict(
                f"the authorisation lapsed at {expires.isoformat()}; ask the customer to pay again"
            )
        stored = self._accounts.get(booking.tenant_id, "stripe")
        if stored is None:
            raise Conflict("the business's Stripe account is not connected any more")
        state = self._gateway.capture(
            StripeAccount.model_validate(stored), payment.intent_id, key=f"booking-{booking.id}-capture"
        )
        changed = save_change(
            self._bookings,
            booking,
            at=self._clock.now(),
            actor=actor_for(principal),
            action="payment_captured",
            details={"amount_minor": str(state.received_minor)},
            payment_status="paid",
            payment=payment.model_copy(update={"captured_minor": state.received_minor}),
        )
        _, history = self._engine.load(booking.tenant_id, booking.id)
        return self._engine.view(changed, history)

    def record_offline(
        self, principal: Principal, booking_id: str, request: OfflinePaymentRequest
    ) -> BookingView:
        """A payment taken at the desk; the booking is paid once what was paid covers its total."""
        booking = self._load(principal, booking_id)
        now = self._clock.now()
        offline = [
            *booking.offline_payments,
            OfflinePayment(
                amount_minor=request.amount_minor,
                method=request.method,
                at=now,
                by=principal.user_id,
                note=request.note,
            ),
        ]
        online = booking.payment.captured_minor - booking.payment.refunded_minor if booking.payment else 0
        paid = online + sum(p.amount_minor for p in offline)
        status: PaymentStatus = "paid" if paid >= booking.gross_minor else booking.payment_status
        if status == "not_required" and paid < booking.gross_minor:
            status = "unpaid"
        changed = save_change(
            self._bookings,
            booking,
            at=now,
            actor=actor_for(principal),
            action="offline_payment_recorded",
            details={"amount_minor": str(request.amount_minor), "method": request.method},
            offline_payments=offline,
            payment_status=status,
        )
        _, history = self._engine.load(booking.tenant_id, booking.id)
        return self._engine.view(changed, history)
