"""Paying at booking in the tests: a Stripe account for a business, the customer's browser paying through
localstripe (as Stripe.js would), and reading the booking back until Stripe's webhook has done its work."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime
from typing import Any

import stripe

from local.stripe_server import StripeServer
from tests.support.lambda_api import LambdaApi
from tests.support.notification_fixtures import MakeTenant, Salon, build_salon, new_customer
from tests.support.stripe_webhooks import deliver

WAIT_SECONDS = 15


def stripe_account() -> dict[str, str]:
    return {
        "secret_key": f"sk_test_{secrets.token_hex(12)}",
        "publishable_key": f"pk_test_{secrets.token_hex(12)}",
        "webhook_secret": f"whsec_{secrets.token_hex(16)}",
    }


def sdk(stripe_server: StripeServer, account: dict[str, str]) -> stripe.StripeClient:
    """The customer's browser, standing in: Stripe.js confirms the intent with the card entered."""
    return stripe.StripeClient(account["secret_key"], base_addresses={"api": stripe_server.base_url})


def pay(
    stripe_server: StripeServer, account: dict[str, str], intent_id: str, card: str = "pm_card_visa"
) -> None:
    """What Stripe.js does with the card the customer entered (localstripe takes the payment method by an
    update, then the confirmation)."""
    client = sdk(stripe_server, account)
    client.v1.payment_intents.update(intent_id, params={"payment_method": card})
    client.v1.payment_intents.confirm(intent_id)


def book(api: LambdaApi, spa: Salon, start: datetime, **extra: Any) -> Any:
    return api.post(
        f"/v1/public/businesses/{spa.slug}/bookings",
        json_body={
            "services": [spa.service_id],
            "staff": spa.staff_id,
            "start": start.isoformat(),
            "customer": new_customer().body(),
            **extra,
        },
        headers={"Idempotency-Key": secrets.token_hex(8)},
    )


def detail(api: LambdaApi, spa: Salon, booking_id: str) -> dict[str, Any]:
    found: dict[str, Any] = api.get(f"/v1/admin/bookings/{booking_id}", token=spa.tenant.token()).json()
    return found


def wait_until(api: LambdaApi, spa: Salon, booking_id: str, check: Any) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = detail(api, spa, booking_id)
        if check(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"booking never got there: {found['status']}, {found['payment_status']}")
        time.sleep(0.1)


def offered(api: LambdaApi, spa: Salon, start: datetime) -> bool:
    day = start.astimezone(spa.zone).date()
    availability = api.get(
        f"/v1/public/businesses/{spa.slug}/availability?services={spa.service_id}&staff={spa.staff_id}"
        f"&from={day}&to={day}&tz=UTC"
    ).json()
    return any(datetime.fromisoformat(s["start"]) == start for d in availability["days"] for s in d["slots"])


def signed(payload: bytes, secret: str, at: int | None = None) -> str:
    """Stripe-Signature as Stripe computes it: HMAC-SHA256 over "<timestamp>.<payload>" with the secret."""
    timestamp = at if at is not None else int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def connect_stripe(
    api: LambdaApi, stripe_server: StripeServer, salon: Salon, webhooks_url: str
) -> dict[str, str]:
    """Connects a new Stripe account for the business through the admin API and registers its webhook
    endpoint (at `webhooks_url`) with the Stripe server, as its Stripe dashboard would."""
    account = stripe_account()
    connected = api.put("/v1/admin/business/payments/stripe", json_body=account, token=salon.tenant.token())
    assert connected.status == 200, connected.text
    stripe_server.register_webhook(
        f"business-{salon.tenant.id}",
        f"{webhooks_url}/v1/webhooks/stripe/{salon.tenant.id}",
        account["webhook_secret"],
    )
    return account


def send_event(spa: Salon, account: dict[str, str], event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Delivers a Stripe event the local Stripe server never sends (setup_intent.*, charge.refunded), signed
    as Stripe signs it, to the business's webhook endpoint; returns the webhooks function's answer body."""
    event = json.dumps(
        {
            "id": f"evt_{secrets.token_hex(8)}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": obj},
        }
    ).encode()
    answer = deliver(
        f"/v1/webhooks/stripe/{spa.tenant.id}",
        {"Stripe-Signature": signed(event, account["webhook_secret"])},
        event,
    )
    assert answer["statusCode"] == 200, answer
    body: dict[str, Any] = json.loads(answer["body"])
    return body


def stripe_salon(
    api: LambdaApi,
    make_tenant: MakeTenant,
    stripe_server: StripeServer,
    webhooks_url: str,
    mode: str = "full",
    **settings: Any,
) -> tuple[Salon, dict[str, str]]:
    """A salon (tests/support/notification_fixtures.py) whose service is paid by `mode` at booking, booking a
    year ahead, with its own Stripe account connected and its webhooks delivered to `webhooks_url`."""
    salon = build_salon(
        api, make_tenant, service={"payment": {"mode": mode}}, booking_window_days=365, **settings
    )
    return salon, connect_stripe(api, stripe_server, salon, webhooks_url)
