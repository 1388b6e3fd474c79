"""localstripe as the Stripe server of the tests and `make dev` (`local/stripe_server.py`), through the official
SDK pointed at it as the payments adapter points it: what it does as Stripe does (payments, declines, manual
capture, refunds, signed webhooks) and, asserted as they are today, the gaps our code must not rely on."""

from __future__ import annotations

import json
import os
import queue
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from local.stripe_server import StripeServer

PAYMENT: dict[str, Any] = {"amount": 2500, "currency": "gbp"}


@pytest.fixture(scope="module")
def client(stripe_server: StripeServer) -> stripe.StripeClient:
    # Exactly how the payments adapter points the SDK elsewhere; any key starting with sk_ is accepted.
    return stripe.StripeClient(
        "sk_test_localstripe", base_addresses={"api": os.environ["STRIPE_API_BASE"]}, max_network_retries=0
    )


def pay(client: stripe.StripeClient, payment_method: str = "pm_card_visa", **params: Any) -> Any:
    intent: Any = {
        **PAYMENT,
        "metadata": {"booking_id": secrets.token_hex(6)},
        "payment_method": payment_method,
        "confirm": True,
        **params,
    }
    return client.v1.payment_intents.create(params=intent)


def charge_of(client: stripe.StripeClient, intent: Any) -> Any:
    # Expanded as on Stripe, which returns latest_charge as an id (localstripe always inlines it).
    return client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge"]}).latest_charge


def test_the_sdk_reaches_localstripe_through_the_environment(stripe_server: StripeServer) -> None:
    assert stripe_server.environment() == {"STRIPE_API_BASE": stripe_server.base_url}
    assert os.environ["STRIPE_API_BASE"] == stripe_server.base_url
    assert stripe_server.base_url.startswith("http://127.0.0.1:")


def test_a_confirmed_card_payment_succeeds_with_its_amount_and_metadata(client: stripe.StripeClient) -> None:
    intent = pay(client, metadata={"booking_id": "bk-1", "tenant_id": "t-1"})

    assert intent.status == "succeeded"
    assert (intent.amount, intent.currency) == (2500, "gbp")
    assert intent.metadata.to_dict() == {"booking_id": "bk-1", "tenant_id": "t-1"}
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_a_declined_card_raises_a_card_error(client: stripe.StripeClient) -> None:
    # localstripe declines charges on pm_card_chargeCustomerFail (4000 0000 0000 0341) only.
    with pytest.raises(stripe.CardError) as declined:
        pay(client, "pm_card_chargeCustomerFail")

    assert declined.value.http_status == 402
    assert declined.value.code == "card_declined"


def test_a_card_that_needs_3d_secure_waits_for_the_customer(client: stripe.StripeClient) -> None:
    # No pm_card_authenticationRequired in localstripe: a card made from Stripe's 3DS test number.
    card: Any = {"number": "4000002500003155", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    method = client.v1.payment_methods.create(params={"type": "card", "card": card})

    intent = pay(client, method.id)

    assert intent.status == "requires_action"
    assert intent.next_action is not None


def test_manual_capture_holds_the_amount_until_captured(client: stripe.StripeClient) -> None:
    intent = pay(client, capture_method="manual")
    assert intent.status == "requires_capture"

    captured = client.v1.payment_intents.capture(intent.id)

    assert captured.status == "succeeded"


def test_a_partial_refund_is_recorded_on_the_charge(client: stripe.StripeClient) -> None:
    intent = pay(client)

    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000})

    assert (refund.status, refund.amount, refund.currency) == ("succeeded", 1000, "gbp")
    charge = charge_of(client, intent)
    assert (charge.amount_refunded, charge.refunded) == (1000, False)


class _Receiver:
    """A webhook endpoint: records each delivery's raw body and Stripe-Signature header."""

    def __init__(self) -> None:
        self.deliveries: queue.Queue[tuple[bytes, str]] = queue.Queue()
        deliveries = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                deliveries.put((body, self.headers.get("Stripe-Signature", "")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/stripe"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def delivery_about(self, object_id: str, timeout: float = 10.0) -> tuple[bytes, str]:
        """The first delivery about `object_id` (other tests of this process make events too)."""
        while True:
            body, signature = self.deliveries.get(timeout=timeout)
            if json.loads(body)["data"]["object"]["id"] == object_id:
                return body, signature

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(stripe_server: StripeServer) -> Iterator[_Receiver]:
    endpoint = _Receiver()
    yield endpoint
    # localstripe cannot delete a webhook: an empty list of events silences it.
    stripe_server.register_webhook("test-receiver", endpoint.url, "unused", events=[])
    endpoint.close()


def test_a_registered_webhook_receives_a_signed_event(
    stripe_server: StripeServer, client: stripe.StripeClient, receiver: _Receiver
) -> None:
    secret = "whsec_" + secrets.token_hex(16)
    stripe_server.register_webhook("test-receiver", receiver.url, secret, events=["payment_intent.succeeded"])

    intent = pay(client)
    payload, signature = receiver.delivery_about(intent.id)  # sent about a second after the event

    event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=300)
    assert event.type == "payment_intent.succeeded"
    assert event.data.object.id == intent.id
    assert event.data.object.metadata["booking_id"] == intent.metadata["booking_id"]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_" + secrets.token_hex(16), tolerance=300)


def test_idempotency_keys_are_ignored(client: stripe.StripeClient) -> None:
    # A localstripe gap: our code must not rely on it (Stripe would return the first intent again).
    key = f"booking-{secrets.token_hex(6)}-charge"
    params: Any = {**PAYMENT, "payment_method_types": ["card"]}

    first = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    second = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})

    assert first.id != second.id


def test_a_refund_above_the_captured_amount_is_accepted(client: stripe.StripeClient) -> None:
    # A localstripe gap: our code must not rely on it (Stripe refuses to refund more than was captured).
    intent = pay(client)

    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 4000})

    assert (refund.status, refund.amount) == ("succeeded", 4000)
    assert charge_of(client, intent).amount_refunded == 4000


def test_the_generic_decline_card_is_only_declined_when_saved(client: stripe.StripeClient) -> None:
    # A localstripe gap: our code must not rely on it (on Stripe, pm_card_visa_chargeDeclined is declined
    # when charged too; localstripe declines it only when it is attached or set up for later).
    assert pay(client, "pm_card_visa_chargeDeclined").status == "succeeded"

    setup = client.v1.setup_intents.create(params={"usage": "off_session"})
    with pytest.raises(stripe.CardError):
        client.v1.setup_intents.confirm(setup.id, params={"payment_method": "pm_card_visa_chargeDeclined"})
