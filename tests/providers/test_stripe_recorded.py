"""The Stripe adapter against recorded responses of the real Stripe API: the shapes the local Stripe
(local/stripe_patches/) imitates, checked against Stripe's own. An off-session charge Stripe refuses with
402 `authentication_required`, a decline, a refund made in Stripe's dashboard read from the latest charge's
`amount_refunded` and then listed by id (`GET /v1/refunds?payment_intent=`), a saved card read from its
SetupIntent, and the events we act on (`charge.refunded`, `refund.created`, `setup_intent.succeeded`) naming
their intent.

The bodies follow Stripe's API reference (2025 API versions) with ids and secrets replaced; a small HTTP
server answers them to the official SDK, so the adapter's real requests (paths, expand, idempotency keys)
are what is checked."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from booking import deadline
from booking.adapters.stripe_payments import StripePayments
from booking.domain.checkout import AuthenticationRequired, CardDeclined, PaymentProviderDown, StripeAccount
from booking.domain.errors import Unavailable

ACCOUNT = StripeAccount(
    secret_key="sk_test_recorded_0000000000",
    publishable_key="pk_test_recorded_0000000000",
    webhook_secret="whsec_recorded_000000000000000000",
)

# POST /v1/payment_intents with off_session=true, confirm=true, for a card whose bank requires 3-D Secure
# (test card 4000 0027 6000 3184): HTTP 402.
AUTHENTICATION_REQUIRED = {
    "error": {
        "code": "authentication_required",
        "decline_code": "authentication_required",
        "doc_url": "https://stripe.com/docs/error-codes/authentication-required",
        "message": "Your card was declined. This transaction requires authentication.",
        "payment_intent": {
            "id": "pi_3RecordedAuth000000000001",
            "object": "payment_intent",
            "amount": 2000,
            "amount_capturable": 0,
            "amount_received": 0,
            "capture_method": "automatic_async",
            "client_secret": "pi_3RecordedAuth000000000001_secret_recorded",
            "currency": "gbp",
            "customer": "cus_RecordedCustomer01",
            "last_payment_error": {"code": "authentication_required", "type": "card_error"},
            "livemode": False,
            "metadata": {"booking_id": "b-1", "purpose": "no_show_fee", "tenant_id": "t-1"},
            "payment_method": None,
            "status": "requires_payment_method",
        },
        "type": "card_error",
    }
}
# The same charge with an insufficient-funds card (4000 0000 0000 9995): HTTP 402.
DECLINED = {
    "error": {
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
        "type": "card_error",
    }
}
# GET /v1/payment_intents/{id}?expand[]=latest_charge after £15.00 of £65.00 was refunded in the dashboard.
PARTLY_REFUNDED = {
    "id": "pi_3RecordedRefund00000000001",
    "object": "payment_intent",
    "amount": 6500,
    "amount_capturable": 0,
    "amount_received": 6500,
    "client_secret": "pi_3RecordedRefund00000000001_secret_recorded",
    "currency": "gbp",
    "latest_charge": {
        "id": "ch_3RecordedRefund00000000001",
        "object": "charge",
        "amount": 6500,
        "amount_captured": 6500,
        "amount_refunded": 1500,
        "captured": True,
        "payment_intent": "pi_3RecordedRefund00000000001",
        "refunded": False,
        "status": "succeeded",
    },
    "last_payment_error": None,
    "metadata": {"booking_id": "b-2", "tenant_id": "t-1"},
    "status": "succeeded",
}
# The refund itself, as Stripe lists it (GET /v1/refunds?payment_intent=...) and as refund.created carries it.
DASHBOARD_REFUND = {
    "id": "re_3RecordedRefund00000000001",
    "object": "refund",
    "amount": 1500,
    "balance_transaction": "txn_3RecordedRefund0000000001",
    "charge": "ch_3RecordedRefund00000000001",
    "created": 1764930000,
    "currency": "gbp",
    "metadata": {},
    "payment_intent": "pi_3RecordedRefund00000000001",
    "reason": None,
    "status": "succeeded",
}
REFUND_LIST = {
    "object": "list",
    "data": [DASHBOARD_REFUND],
    "has_more": False,
    "url": "/v1/refunds",
}
# GET /v1/setup_intents/{id} once the customer saved a card.
SETUP_SUCCEEDED = {
    "id": "seti_1RecordedSetup0000000001",
    "object": "setup_intent",
    "client_secret": "seti_1RecordedSetup0000000001_secret_recorded",
    "customer": "cus_RecordedCustomer01",
    "last_setup_error": None,
    "metadata": {"booking_id": "b-3", "tenant_id": "t-1"},
    "payment_method": "pm_1RecordedCard00000000001",
    "status": "succeeded",
    "usage": "off_session",
}
# charge.refunded as Stripe delivers it: the object is the charge, naming its intent by id.
CHARGE_REFUNDED_EVENT = {
    "id": "evt_3RecordedChargeRefunded01",
    "object": "event",
    "api_version": "2025-03-31.basil",
    "created": 0,
    "data": {"object": PARTLY_REFUNDED["latest_charge"]},
    "livemode": False,
    "pending_webhooks": 1,
    "type": "charge.refunded",
}
REFUND_CREATED_EVENT = {
    "id": "evt_3RecordedRefundCreated001",
    "object": "event",
    "api_version": "2025-03-31.basil",
    "created": 0,
    "data": {"object": DASHBOARD_REFUND},
    "livemode": False,
    "pending_webhooks": 1,
    "type": "refund.created",
}
SETUP_SUCCEEDED_EVENT = {
    "id": "evt_1RecordedSetupSucceeded01",
    "object": "event",
    "api_version": "2025-03-31.basil",
    "created": 0,
    "data": {"object": SETUP_SUCCEEDED},
    "livemode": False,
    "pending_webhooks": 1,
    "type": "setup_intent.succeeded",
}


class RecordedStripe:
    """Answers each request with the recorded response queued for its method and path."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, dict[str, list[str]], dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                path, _, query = self.path.partition("?")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                fields = parse_qs(query) | parse_qs(body)
                outer.requests.append((self.command, path, fields, dict(self.headers)))
                status, answer = outer.answers.get(
                    (self.command, path), (404, {"error": {"type": "invalid_request_error"}})
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def recorded() -> Iterator[RecordedStripe]:
    server = RecordedStripe()
    yield server
    server.stop()


def charge_fee(gateway: StripePayments) -> Any:
    return gateway.charge_saved_card(
        ACCOUNT,
        tenant_id="t-1",
        booking_id="b-1",
        customer_ref="cus_RecordedCustomer01",
        card="pm_1RecordedCard00000000001",
        amount_minor=2000,
        currency="GBP",
        key="booking-b-1-no-show-fee",
        purpose="no_show_fee",
    )


def test_an_off_session_charge_needing_authentication_is_told_apart_from_a_decline(
    recorded: RecordedStripe,
) -> None:
    gateway = StripePayments(recorded.base_url)
    recorded.answers[("POST", "/v1/payment_intents")] = (402, AUTHENTICATION_REQUIRED)
    with pytest.raises(AuthenticationRequired, match="authenticate"):
        charge_fee(gateway)
    method, _, fields, headers = recorded.requests[-1]
    assert method == "POST"
    assert fields["off_session"] == ["true"] and fields["confirm"] == ["true"]
    assert fields["customer"] == ["cus_RecordedCustomer01"]
    assert fields["metadata[purpose]"] == ["no_show_fee"]
    assert headers["Idempotency-Key"] == "booking-b-1-no-show-fee"

    recorded.answers[("POST", "/v1/payment_intents")] = (402, DECLINED)
    with pytest.raises(CardDeclined) as declined:
        charge_fee(gateway)
    assert not isinstance(declined.value, AuthenticationRequired)
    assert "insufficient funds" in declined.value.detail


def test_a_dashboard_refund_is_read_from_the_latest_charge(recorded: RecordedStripe) -> None:
    gateway = StripePayments(recorded.base_url)
    recorded.answers[("GET", "/v1/payment_intents/pi_3RecordedRefund00000000001")] = (200, PARTLY_REFUNDED)
    recorded.answers[("GET", "/v1/refunds")] = (200, REFUND_LIST)
    state = gateway.intent(ACCOUNT, "pi_3RecordedRefund00000000001")
    assert (state.status, state.received_minor, state.refunded_minor) == ("succeeded", 6500, 1500)
    assert state.currency == "GBP"
    [refund] = state.refunds  # each refund by id and date, so it is recorded once whatever event names it
    assert (refund.id, refund.amount_minor, refund.created.timestamp()) == (
        "re_3RecordedRefund00000000001",
        1500,
        1764930000,
    )
    intent_read, refunds_read = recorded.requests[-2:]
    expanded = [v for k, v in intent_read[2].items() if k.startswith("expand[")]
    assert expanded == [["latest_charge"]]
    assert (refunds_read[1], refunds_read[2]["payment_intent"]) == (
        "/v1/refunds",
        ["pi_3RecordedRefund00000000001"],
    )


def test_a_saved_card_is_read_from_the_setup_intent(recorded: RecordedStripe) -> None:
    gateway = StripePayments(recorded.base_url)
    recorded.answers[("GET", "/v1/setup_intents/seti_1RecordedSetup0000000001")] = (200, SETUP_SUCCEEDED)
    state = gateway.intent(ACCOUNT, "seti_1RecordedSetup0000000001")
    assert (state.status, state.saved_card) == ("succeeded", "pm_1RecordedCard00000000001")
    assert state.metadata == {"booking_id": "b-3", "tenant_id": "t-1"}


@pytest.mark.parametrize(
    ("event", "intent"),
    [
        (CHARGE_REFUNDED_EVENT, "pi_3RecordedRefund00000000001"),
        (REFUND_CREATED_EVENT, "pi_3RecordedRefund00000000001"),
        (SETUP_SUCCEEDED_EVENT, "seti_1RecordedSetup0000000001"),
    ],
)
def test_the_events_we_act_on_name_their_intent(event: dict[str, Any], intent: str) -> None:
    payload = json.dumps(event | {"created": int(time.time())}).encode()
    stamp = int(time.time())
    digest = hmac.new(ACCOUNT.webhook_secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    verified = StripePayments().verify_event(ACCOUNT, payload, f"t={stamp},v1={digest.hexdigest()}")
    assert (verified.id, verified.type, verified.intent_id) == (event["id"], event["type"], intent)


def test_the_recorded_server_saw_only_our_key() -> None:
    """The requests carry the business's own key as Stripe's bearer token (a guard on the fixture itself:
    a recorded answer is only meaningful for a request made the way the adapter makes it)."""
    server = RecordedStripe()
    try:
        server.answers[("GET", "/v1/setup_intents/seti_x")] = (200, SETUP_SUCCEEDED)
        StripePayments(server.base_url).intent(ACCOUNT, "seti_x")
        assert server.requests[-1][3]["Authorization"] == f"Bearer {ACCOUNT.secret_key}"
        assert urlsplit(server.base_url).hostname == "127.0.0.1"
    finally:
        server.stop()


def test_a_stripe_that_does_not_answer_is_given_up_on_within_the_deadline() -> None:
    """The SDK would wait 80 s (and retry); inside a function with 3 s left the call ends in time."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections and never answers
    try:
        gateway = StripePayments(f"http://127.0.0.1:{silent.getsockname()[1]}")
        started = time.monotonic()
        with deadline.within(3 + deadline.RESERVE_SECONDS), pytest.raises((PaymentProviderDown, Unavailable)):
            gateway.intent(ACCOUNT, "pi_3RecordedRefund00000000001")
        assert time.monotonic() - started < 3.5
    finally:
        silent.close()
