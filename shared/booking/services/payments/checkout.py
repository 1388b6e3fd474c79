"""Paying at booking (issue 11): a customer books a service whose rule charges at booking (in full or a
deposit) or keeps a card on file; the business's Stripe account takes the payment; Stripe's verified
webhook, never the browser, confirms the booking.

    book ──> pending, time held until hold_expires_at, PaymentIntent / SetupIntent made
               │  webhook: succeeded / requires_capture / setup succeeded ──> confirmed (paid / pending)
               │  webhook: payment_failed ──> still pending, payment "failed" (the customer may retry)
               └─ hold lapses ──> the time is free again by itself (the ledger ignores expired holds)

What Stripe's events do to the booking is services/payments/events.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from aws_lambda_powertools import Logger

from booking.domain.booking import (
    Actor,
    Booking,
    BookingOrder,
    Hold,
    Payment,
    PaymentStatus,
)
from booking.domain.catalogue import Business, Catalogue, Service
from booking.domain.checkout import (
    PaymentError,
    StripeAccount,
)
from booking.domain.errors import Conflict
from booking.domain.payments import PaymentRule, PaymentRuleError, charge_at_booking, tax_of
from booking.ports import BookingRepository, Clock, CredentialsStore, IdGenerator, PaymentGateway
from booking.services.booking_engine import BookingEngine, BookingView, invalid

logger = Logger(child=True)

STRIPE = Actor(kind="system", id="stripe")
Kind = Literal["charge", "card_on_file"]


@dataclass(frozen=True)
class PaymentStart:
    """What the widget needs for Stripe's Payment Element."""

    kind: Kind
    client_secret: str
    publishable_key: str
    amount_minor: int
    currency: str
    expires_at: datetime


@dataclass(frozen=True)
class CheckoutView:
    view: BookingView
    payment: PaymentStart | None


def rule_for(business: Business, services: list[Service]) -> PaymentRule:
    """The first booked service with its own rule decides; otherwise the business's default."""
    for service in services:
        if service.payment is not None:
            return service.payment
    return business.default_payment


class Checkout:
    def __init__(
        self,
        engine: BookingEngine,
        bookings: BookingRepository,
        accounts: CredentialsStore,
        gateway: PaymentGateway,
        clock: Clock,
        ids: IdGenerator,
    ) -> None:
        self._engine = engine
        self._bookings = bookings
        self._accounts = accounts
        self._gateway = gateway
        self._clock = clock
        self._ids = ids

    # --- the business's Stripe account ------------------------------------------------------------------

    def account(self, tenant_id: str) -> StripeAccount | None:
        stored = self._accounts.get(tenant_id, "stripe")
        return StripeAccount.model_validate(stored) if stored is not None else None

    def connect(self, tenant_id: str, account: StripeAccount) -> datetime:
        """Checks the key with Stripe, then stores the account (write-only: never returned)."""
        self._gateway.check_account(account)
        self._accounts.put(tenant_id, "stripe", account.model_dump(mode="json"))
        return self._clock.now()

    # --- booking ------------------------------------------------------------------------------------

    def book(self, slug: str, order: BookingOrder, on_behalf_of: str | None = None) -> CheckoutView:
        """Books for the customer; `on_behalf_of`: the owner or admin acting as them ('login as client')."""
        catalogue = self._engine.public_catalogue(slug)
        business = catalogue.business
        services = self._engine.services(catalogue, order.services)
        rule = rule_for(business, services)
        # What the customer owes: the prices with the tax on top when the business quotes them without.
        price = tax_of(
            sum(s.price_minor for s in services), business.tax_rate_basis_points, business.prices_include_tax
        ).gross_minor
        try:
            due = charge_at_booking(price, rule, business.currency)
        except PaymentRuleError as error:  # e.g. the business's default rule on a very cheap service
            raise invalid("services", f"these services cannot be paid for online: {error}") from None
        kind: Kind | None = "card_on_file" if rule.mode == "card_on_file" else ("charge" if due > 0 else None)
        actor = Actor(kind="customer", id=order.customer.email.lower(), on_behalf_of=on_behalf_of)
        if kind is None:
            return CheckoutView(self._plain(catalogue, order, actor, "not_required"), None)
        if order.skip_payment:
            if not business.allow_skip_payment:
                raise invalid("skip_payment", f"{business.name} takes payment when you book")
            return CheckoutView(self._plain(catalogue, order, actor, "unpaid"), None)
        account = self.account(business.id)
        if account is None:
            raise Conflict(f"{business.name} cannot take payments online yet; please contact them to book")
        booking_id = self._ids.new_id()
        if kind == "charge":
            started = self._gateway.start_charge(
                account,
                tenant_id=business.id,
                booking_id=booking_id,
                amount_minor=due,
                currency=business.currency,
                manual_capture=business.capture == "on_staff_confirmation",
            )
        else:
            started = self._gateway.start_setup(
                account,
                tenant_id=business.id,
                booking_id=booking_id,
                email=str(order.customer.email),
                name=order.customer.name,
            )
        hold_until = self._clock.now() + timedelta(minutes=business.payment_hold_minutes)
        payment = Payment(
            kind=kind,
            intent_id=started.intent_id,
            amount_minor=due if kind == "charge" else 0,
            currency=business.currency,
            capture=business.capture,
            customer_ref=started.customer_ref,
        )
        try:
            command = replace(
                order.command(actor, "public"), booking_id=booking_id, hold=Hold(hold_until, payment)
            )
            view = self._engine.create(catalogue, command)
        except Exception:
            if kind == "charge":  # nothing was booked: the intent must not be payable
                self._gateway.cancel(account, started.intent_id)
            raise
        return CheckoutView(view, self._start(view.booking, account, started.client_secret))

    def _plain(
        self, catalogue: Catalogue, order: BookingOrder, actor: Actor, status: PaymentStatus
    ) -> BookingView:
        """Booked at once, nothing to pay now: `status` is 'not_required', or 'unpaid' (pay later)."""
        command = replace(order.command(actor, "public"), payment_status=status)
        return self._engine.create(catalogue, command)

    def _start(self, booking: Booking, account: StripeAccount, client_secret: str) -> PaymentStart | None:
        payment = booking.payment
        if payment is None or not booking.awaiting_payment or booking.hold_expires_at is None:
            return None
        return PaymentStart(
            kind=payment.kind,
            client_secret=client_secret,
            publishable_key=account.publishable_key,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            expires_at=booking.hold_expires_at,
        )

    def resume(self, booking: Booking) -> PaymentStart | None:
        """What the widget needs to (re)try paying for a booking still awaiting payment: a repeated request,
        or the customer coming back through the manage link before the hold lapses."""
        if not booking.awaiting_payment or booking.payment is None:
            return None
        account = self.account(booking.tenant_id)
        if account is None:
            return None
        try:
            state = self._gateway.intent(account, booking.payment.intent_id)
        except PaymentError as error:  # the booking is still there to see; paying can wait a moment
            logger.warning(
                "payment could not be resumed", extra={"booking_id": booking.id, "error": error.kind}
            )
            return None
        return self._start(booking, account, state.client_secret)
