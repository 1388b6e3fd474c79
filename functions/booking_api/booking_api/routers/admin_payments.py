"""Admin API for the business's Stripe account: connect it (the key is checked with Stripe, then stored in
Secrets Manager; write-only) and see whether it is connected."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from booking.domain.access import Principal, Role
from booking.domain.checkout import PaymentRefused
from booking.services.booking_engine import invalid
from booking.services.payments.checkout import Checkout
from booking_api.deps import checkout_service, principal
from booking_api.openapi import ADMIN_SECURITY
from booking_api.schemas.payments import StripeAccount, StripeConnection

router = APIGatewayRouter()

Caller = Annotated[Principal, Depends(principal)]
Checkouts = Annotated[Checkout, Depends(checkout_service)]
TAGS = ["admin: payments"]
KEEPERS = frozenset({Role.OWNER, Role.ADMIN})


@router.get("/v1/admin/business/payments/stripe", tags=TAGS, security=ADMIN_SECURITY)
def stripe_connection(caller: Caller, checkout: Checkouts) -> StripeConnection:
    """Whether the business's Stripe account is connected (never its secret key or webhook secret)."""
    caller.require(KEEPERS)
    account = checkout.account(caller.tenant_id)
    return StripeConnection(
        connected=account is not None, publishable_key=account.publishable_key if account else None
    )


@router.put("/v1/admin/business/payments/stripe", tags=TAGS, security=ADMIN_SECURITY)
def connect_stripe(body: StripeAccount, caller: Caller, checkout: Checkouts) -> StripeConnection:
    """The business's own Stripe account: a restricted key (rk_…) with PaymentIntents, SetupIntents and
    Refunds write access, the publishable key, and the signing secret of the webhook endpoint
    `/v1/webhooks/stripe/{tenant id}` registered in its Stripe dashboard. The key is checked with Stripe."""
    caller.require(KEEPERS)
    try:
        checked = checkout.connect(caller.tenant_id, body)
    except PaymentRefused as refused:
        raise invalid("secret_key", refused.detail) from None
    return StripeConnection(connected=True, publishable_key=body.publishable_key, checked_at=checked)
