"""What a no-show costs the customer, applied when staff mark one (the business's NoShowPolicy): the payment
made at booking kept (an authorisation captured first), or a fee charged to the card on file without the
customer (off-session), and optionally a block on booking online.

A fee the card refuses, or one the bank wants the customer to authenticate, is recorded as a failed fee on
the booking; the committed change then emails the customer a link to pay it (services/messaging/bookings.py).
Nothing fails silently, and the no-show itself stands whatever happens to the fee.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

from booking.domain.booking import Actor, Booking, Fee, FeeFailure, PaymentStatus
from booking.domain.checkout import AuthenticationRequired, PaymentError, StripeAccount
from booking.domain.no_shows import NoShowPolicy, no_show_charges
from booking.domain.payments import BelowMinimumCharge, check_chargeable, money_text
from booking.ports import (
    BookingRepository,
    CatalogueReader,
    Clock,
    CredentialsStore,
    CustomerRepository,
    PaymentGateway,
)
from booking.services.payments.changes import save_change

logger = Logger(child=True)


class NoShows:
    def __init__(
        self,
        catalogue: CatalogueReader,
        bookings: BookingRepository,
        customers: CustomerRepository,
        accounts: CredentialsStore,
        gateway: PaymentGateway,
        clock: Clock,
    ) -> None:
        self._catalogue = catalogue
        self._bookings = bookings
        self._customers = customers
        self._accounts = accounts
        self._gateway = gateway
        self._clock = clock

    def after_no_show(self, booking: Booking, actor: Actor) -> Booking:
        """Applies the business's policy to a booking just marked no-show; the booking as saved after."""
        catalogue = self._catalogue.load_catalogue(booking.tenant_id)
        policy = catalogue.business.no_show_policy if catalogue is not None else None
        if policy is None:
            return booking
        stored = self._accounts.get(booking.tenant_id, "stripe")
        account = StripeAccount.model_validate(stored) if stored is not None else None
        booking = self._capture_authorisation(booking, policy, account, actor)
        charges = no_show_charges(policy, booking)
        now = self._clock.now()
        fee: Fee | None = None
        if charges.kept_minor:
            fee = Fee(kind="no_show", amount_minor=charges.kept_minor, status="kept", at=now)
        elif charges.fee_minor:
            fee = self._charge_fee(booking, charges.fee_minor, account)
        if policy.block_customer:
            self._customers.set_blocked(
                booking.tenant_id,
                booking.customer.email.lower(),
                True,
                f"no-show on {booking.start.date().isoformat()} (the business's no-show policy)",
            )
        if fee is None and not policy.block_customer:
            return booking
        details: dict[str, str | int] = {"blocked": str(policy.block_customer).lower()}
        status: PaymentStatus = booking.payment_status
        if fee is not None:
            details |= {"fee": fee.status, "amount_minor": fee.amount_minor}
            if fee.failure:
                details["reason"] = fee.failure[:200]
            if fee.status == "failed":
                status = "unpaid"  # the fee is owed (invoiced, and the customer sent a link to pay it)
            elif fee.status == "charged" and status == "not_required":
                status = "paid"
        return save_change(
            self._bookings,
            booking,
            at=now,
            actor=actor,
            action="no_show_policy_applied",
            details=details,
            fees=[*booking.fees, fee] if fee is not None else booking.fees,
            payment_status=status,
        )

    def _capture_authorisation(
        self, booking: Booking, policy: NoShowPolicy, account: StripeAccount | None, actor: Actor
    ) -> Booking:
        """An authorisation the policy keeps is captured first (it would lapse otherwise)."""
        payment = booking.payment
        if (
            not policy.keep_payment
            or account is None
            or payment is None
            or booking.payment_status != "pending"
        ):
            return booking
        try:
            state = self._gateway.capture(account, payment.intent_id, key=f"booking-{booking.id}-capture")
        except PaymentError as error:  # lapsed or refused: the fee path below decides what else is due
            logger.warning("no-show capture failed", extra={"booking_id": booking.id, "error": error.kind})
            return booking
        return save_change(
            self._bookings,
            booking,
            at=self._clock.now(),
            actor=actor,
            action="payment_captured",
            details={"amount_minor": state.received_minor, "reason": "no-show"},
            payment_status="paid",
            payment=payment.model_copy(update={"captured_minor": state.received_minor}),
        )

    def _charge_fee(self, booking: Booking, amount: int, account: StripeAccount | None) -> Fee:
        now = self._clock.now()
        payment = booking.payment
        card = payment.saved_card if payment is not None and payment.kind == "card_on_file" else None
        customer_ref = payment.customer_ref if payment is not None else None

        def owed(kind: FeeFailure, failure: str) -> Fee:
            return Fee(
                kind="no_show",
                amount_minor=amount,
                status="failed",
                at=now,
                failure=failure,
                failure_kind=kind,
            )

        if card is None or customer_ref is None:
            return owed("no_card", "no card on file")
        if account is None:
            return owed("no_account", "the business's Stripe account is not connected")
        try:
            check_chargeable(amount, booking.currency)
        except BelowMinimumCharge as below:
            return owed(
                "below_minimum",
                f"{money_text(amount, booking.currency)} is below the smallest card charge "
                f"({money_text(below.minimum_minor, below.currency)})",
            )
        try:
            state = self._gateway.charge_saved_card(
                account,
                tenant_id=booking.tenant_id,
                booking_id=booking.id,
                customer_ref=customer_ref,
                card=card,
                amount_minor=amount,
                currency=booking.currency,
                key=f"booking-{booking.id}-no-show-fee",
                purpose="no_show_fee",
            )
        except AuthenticationRequired as error:
            return owed("authentication_required", error.detail)
        except PaymentError as error:
            return owed("declined", error.detail)
        return Fee(kind="no_show", amount_minor=amount, status="charged", at=now, intent_id=state.intent_id)
