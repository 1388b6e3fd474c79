"""Payments staff handle: capturing an authorisation when they confirm the payment (businesses that
authorise at booking), recording a payment taken outside Stripe (cash, a card terminal, a transfer), and
giving back a customer's credit (an overpayment) in one action, through Stripe or at the desk."""

from __future__ import annotations

from booking.domain.access import DIARY_ROLES, Principal, Role
from booking.domain.booking import (
    Booking,
    BookingStatus,
    CreditRefundRequest,
    OfflinePayment,
    OfflinePaymentRequest,
    PaymentStatus,
)
from booking.domain.checkout import StripeAccount
from booking.domain.errors import Conflict, NotFound
from booking.domain.invoices import account_of
from booking.ports import BookingRepository, Clock, CredentialsStore, PaymentGateway
from booking.services.booking_engine import BookingEngine, BookingView, invalid
from booking.services.bookings import actor_for
from booking.services.payments.changes import save_change
from booking.services.payments.refunds import Refunds


class StaffPayments:
    def __init__(
        self,
        engine: BookingEngine,
        bookings: BookingRepository,
        accounts: CredentialsStore,
        gateway: PaymentGateway,
        refunds: Refunds,
        clock: Clock,
    ) -> None:
        self._engine = engine
        self._bookings = bookings
        self._accounts = accounts
        self._gateway = gateway
        self._refunds = refunds
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
            details={"amount_minor": state.received_minor},
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
        after = account_of(booking.model_copy(update={"offline_payments": offline}))
        status: PaymentStatus = booking.payment_status
        if after.balance_minor <= 0:
            status = "paid"
        elif status == "not_required":
            status = "unpaid"  # part paid: the rest is owed
        changed = save_change(
            self._bookings,
            booking,
            at=now,
            actor=actor_for(principal),
            action="offline_payment_recorded",
            details={"amount_minor": request.amount_minor, "method": request.method},
            offline_payments=offline,
            payment_status=status,
        )
        _, history = self._engine.load(booking.tenant_id, booking.id)
        return self._engine.view(changed, history)

    def refund_credit(
        self, principal: Principal, booking_id: str, request: CreditRefundRequest
    ) -> BookingView:
        """Gives back what the customer paid beyond what the booking bills (their credit): through Stripe,
        from the card payment, or recorded as handed back at the desk."""
        booking = self._load(principal, booking_id)
        credit = -account_of(booking).balance_minor
        if credit <= 0:
            raise Conflict("the customer has no credit on this booking: nothing is owed back")
        amount = request.amount_minor or credit
        if amount > credit:
            raise invalid("amount_minor", f"the customer's credit is {credit}: refund at most that")
        actor = actor_for(principal)
        reason = request.note or "the customer's credit (an overpayment)"
        if request.method == "stripe":
            payment = booking.payment
            by_card = payment.captured_minor - payment.refunded_minor if payment is not None else 0
            if amount > by_card:
                raise invalid(
                    "method", f"only {by_card} of it can go back to the card; give the rest back at the desk"
                )
            changed = self._refunds.refund(
                booking, amount, actor, reason, key=f"booking-{booking.id}-v{booking.version}-credit"
            )
        else:
            given_back = OfflinePayment(
                amount_minor=amount,
                method=request.method,
                kind="refund",
                at=self._clock.now(),
                by=principal.user_id,
                note=request.note,
            )
            changed = save_change(
                self._bookings,
                booking,
                at=self._clock.now(),
                actor=actor,
                action="offline_refund_recorded",
                details={"amount_minor": amount, "method": request.method, "reason": reason[:200]},
                offline_payments=[*booking.offline_payments, given_back],
            )
        _, history = self._engine.load(booking.tenant_id, booking.id)
        return self._engine.view(changed, history)
