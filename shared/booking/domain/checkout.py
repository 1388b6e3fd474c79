"""Paying at booking: the business's Stripe account, what Stripe answered, and how a payment can fail.

A booking that needs payment is made awaiting it (status pending, its time held until the hold expires)
with a PaymentIntent (or a SetupIntent for a card on file) whose client secret the widget uses; only the
verified webhook confirms it, never the browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from booking.domain.errors import DomainError
from booking.domain.types import Model

StripeKey = Annotated[str, StringConstraints(min_length=8, max_length=255, pattern=r"^[\x21-\x7e]+$")]


class StripeAccount(Model):
    """The business's own Stripe account: a restricted (or secret) key for the back end, the publishable
    key for the widget, and the signing secret of the webhook endpoint it registered with us."""

    secret_key: Annotated[StripeKey, StringConstraints(pattern=r"^(rk|sk)_(test|live)_[\x21-\x7e]+$")]
    publishable_key: Annotated[StripeKey, StringConstraints(pattern=r"^pk_(test|live)_[\x21-\x7e]+$")]
    webhook_secret: Annotated[StripeKey, StringConstraints(pattern=r"^whsec_[\x21-\x7e]+$")]


@dataclass(frozen=True)
class StartedIntent:
    intent_id: str
    client_secret: str
    customer_ref: str | None = None  # the Stripe Customer a card on file is saved to


@dataclass(frozen=True)
class StripeRefund:
    """A refund as Stripe has it: its id, amount and when it was made."""

    id: str
    amount_minor: int
    created: datetime
    status: str = "succeeded"  # pending, requires_action, succeeded, failed, canceled


@dataclass(frozen=True)
class IntentState:
    intent_id: str
    status: str  # Stripe's: requires_payment_method, requires_capture, succeeded, canceled...
    amount_minor: int
    received_minor: int
    capturable_minor: int
    currency: str = ""  # ISO 4217, upper case
    metadata: dict[str, str] = field(default_factory=dict)
    client_secret: str = ""
    failure: str | None = None
    saved_card: str | None = None  # a succeeded SetupIntent's payment method
    refunded_minor: int = 0  # refunded so far, wherever it was done (our API or Stripe's dashboard)
    refunds: tuple[StripeRefund, ...] = ()  # each refund, when refunded_minor is not 0
    cancellation_reason: str | None = None  # a cancelled intent's: "automatic" when an authorisation lapsed
    decline_code: str | None = None  # the last decline's reason code (generic_decline, insufficient_funds...)


@dataclass(frozen=True)
class StripeEvent:
    """A verified Stripe event: its id (to recognise a replay), type, and the intent it is about."""

    id: str
    type: str
    intent_id: str | None  # a PaymentIntent or SetupIntent id (a charge's or dispute's intent)


class BadSignature(DomainError):
    """A webhook delivery not signed with the business's webhook secret, or signed too long ago."""

    kind = "invalid-webhook-signature"
    title = "The webhook's signature does not verify"


class PaymentError(DomainError):
    kind = "payment-error"
    title = "The payment could not be made"


class CardDeclined(PaymentError):
    kind = "card-declined"
    title = "The card was declined"


class AuthenticationRequired(CardDeclined):
    """The card's bank wants the customer present (3-D Secure) for a charge made without them."""

    kind = "authentication-required"
    title = "The card needs the customer's authentication"


class PaymentRefused(PaymentError):
    """Stripe refused the request (a bad key, a missing permission, an invalid request)."""

    kind = "payment-refused"


class PaymentProviderDown(PaymentError):
    """Stripe could not be reached or failed; trying again later may work."""

    kind = "payment-provider-unavailable"
