"""Payments: what the widget needs to pay (at booking, or later what is owed), what cancelling would
refund, what staff record by hand, the business's Stripe account, and the payment and refund policies of
its settings."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from booking.domain import booking, no_shows, payments, refunds
from booking.domain.checkout import StripeAccount
from booking.domain.menu import Price
from booking.services.payments.checkout import PaymentStart
from booking_api.schemas.documentation import Documentation, as_domain

__all__ = [
    "CancellationPolicy",
    "CheckoutOut",
    "CreditRefundRequest",
    "DuePaymentOut",
    "NoShowPolicy",
    "OfflinePaymentRequest",
    "PaymentRule",
    "PolicyTier",
    "RefundQuoteOut",
    "StripeAccount",
    "StripeConnection",
]


class CheckoutOut(BaseModel):
    """What the booking widget needs to collect the payment with Stripe's Payment Element."""

    kind: Literal["charge", "card_on_file"]
    client_secret: str
    publishable_key: str
    amount: Price
    expires_at: datetime  # the booking's time is held until then

    @classmethod
    def of(cls, start: PaymentStart) -> CheckoutOut:
        return cls(
            kind=start.kind,
            client_secret=start.client_secret,
            publishable_key=start.publishable_key,
            amount=Price(amount_minor=start.amount_minor, currency=start.currency),
            expires_at=start.expires_at,
        )


class RefundQuoteOut(BaseModel):
    """What cancelling now gives back, under the business's cancellation policy."""

    refund: Price
    percent: int
    refundable: Price  # what was paid and not refunded yet
    notice_hours: float


class DuePaymentOut(BaseModel):
    """What the widget needs to pay what is owed through Stripe's Payment Element."""

    purpose: Literal["balance", "no_show_fee"]
    client_secret: str
    publishable_key: str
    amount: Price


# --- what staff record ---------------------------------------------------------------------------------


class OfflinePaymentRequest(booking.OfflinePaymentRequest):
    model_config = ConfigDict(
        json_schema_extra=Documentation(examples=[{"amount_minor": 6500, "method": "cash"}])
    )

    def to_domain(self) -> booking.OfflinePaymentRequest:
        return as_domain(self, booking.OfflinePaymentRequest)


class CreditRefundRequest(booking.CreditRefundRequest):
    """Giving back a customer's credit (what they paid beyond what the booking bills): through Stripe
    (default), or recorded as handed back at the desk by one of its methods."""

    model_config = ConfigDict(
        json_schema_extra=Documentation(
            {"amount_minor": "default: the whole credit"}, examples=[{"method": "stripe"}]
        )
    )

    def to_domain(self) -> booking.CreditRefundRequest:
        return as_domain(self, booking.CreditRefundRequest)


# --- the business's Stripe account -------------------------------------------------------------------------


class StripeConnection(BaseModel):
    connected: bool
    publishable_key: str | None = None  # public by design: the widget uses it
    checked_at: datetime | None = None


# --- policies (parts of the business's settings and of a service) -------------------------------------------


class PaymentRule(payments.PaymentRule):
    """What a customer pays when booking a service.

    'none': nothing online; 'full': the price at booking; 'deposit': part of it at booking, a fixed amount
    (deposit_minor) or a percentage of the price (deposit_percent), exactly one of the two;
    'card_on_file': nothing now, a card saved for cancellation and no-show fees.
    """

    model_config = ConfigDict(
        json_schema_extra=Documentation(
            {
                "mode": "what is paid at booking (see the rule)",
                "deposit_minor": "mode 'deposit': a fixed deposit, in minor units of the business's currency",
                "deposit_percent": "mode 'deposit': the deposit as a percentage of the price",
            }
        )
    )


class PolicyTier(refunds.PolicyTier):
    model_config = ConfigDict(
        json_schema_extra=Documentation(
            {"notice_hours": "the least notice (hours before the start) this tier needs"}
        )
    )


class CancellationPolicy(refunds.CancellationPolicy):
    tiers: list[PolicyTier] = Field(min_length=1, max_length=10)  # type: ignore[assignment]


class NoShowPolicy(no_shows.NoShowPolicy):
    model_config = ConfigDict(
        json_schema_extra=Documentation(
            {
                "keep_payment": "keep what was paid at booking (a deposit or the full price) as the fee",
                "fee_minor": "a fixed fee charged to the card kept on file",
                "fee_percent": "a fee of this percentage of the price, to the card on file",
                "block_customer": "block the customer from booking online",
            }
        )
    )
