"""localstripe as the Stripe server of the tests and `make dev` (`local/stripe_server.py`, patched by
`local/stripe_patches/`), through the official SDK pointed at it as the payments adapter points it:
Stripe's test cards declined or asking for 3-D Secure as at Stripe, idempotency keys honoured, refunds
kept within what was captured, the events Stripe sends (signed, to a registered endpoint, refunds' in
Stripe's order), deliveries retried; and the alarm when localstripe changes under the patches.

Most tests use a localstripe of this module's own, which delivers webhooks at once and retries quickly;
the suite's shared one (`stripe_server`) is the same program with Stripe's pauses."""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import localstripe
import pytest
import stripe

from local import stripe_patches
from local.stripe_server import StripeServer, start_stripe
from tests.support.stripe_endpoint import SignedEndpoint

PAYMENT: dict[str, Any] = {"amount": 2500, "currency": "gbp"}
PLAIN: Any = PAYMENT  # (the SDK's typed parameters, for a dict built at run time)
UNCONFIRMED: Any = {**PAYMENT, "payment_method_types": ["card"]}
CARD = {"exp_month": 12, "exp_year": 2034, "cvc": "123"}


@pytest.fixture(scope="module")
def local() -> Iterator[StripeServer]:
    server = start_stripe(webhook_delay=0.05, webhook_retry_pauses=(0.3, 0.6))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(local: StripeServer) -> stripe.StripeClient:
    # As the payments adapter points the SDK (without its retries); any key starting with sk_ is accepted.
    return stripe.StripeClient(
        "sk_test_localstripe", base_addresses={"api": local.base_url}, max_network_retries=0
    )


@pytest.fixture
def endpoint(local: StripeServer) -> Iterator[SignedEndpoint]:
    registered = SignedEndpoint(local)
    yield registered
    registered.close()


def error_of(raised: pytest.ExceptionInfo[Any] | stripe.StripeError) -> Any:
    """What Stripe said (`error` of its answer): code, decline_code, payment_intent, ..."""
    return (raised.value if isinstance(raised, pytest.ExceptionInfo) else raised).error


def card(client: stripe.StripeClient, number: str) -> str:
    """A PaymentMethod of a test card number (as Stripe.js makes one from what the customer typed)."""
    params: Any = {"type": "card", "card": {"number": number, **CARD}}
    return str(client.v1.payment_methods.create(params=params).id)


def pay(client: stripe.StripeClient, payment_method: str = "pm_card_visa", **params: Any) -> Any:
    intent: Any = {
        **PAYMENT,
        "metadata": {"booking_id": secrets.token_hex(6)},
        "payment_method": payment_method,
        "confirm": True,
        **params,
    }
    return client.v1.payment_intents.create(params=intent)


def charge_of(client: stripe.StripeClient, intent_id: str) -> Any:
    return client.v1.payment_intents.retrieve(intent_id, params={"expand": ["latest_charge"]}).latest_charge


def saved_card(client: stripe.StripeClient, payment_method: str) -> tuple[str, Any]:
    """A Customer and a SetupIntent confirmed with the card, as the booking flow keeps a card on file."""
    customer = client.v1.customers.create(params={"email": "nora@customers.example"})
    setup = client.v1.setup_intents.create(params={"customer": customer.id, "usage": "off_session"})
    return customer.id, client.v1.setup_intents.confirm(setup.id, params={"payment_method": payment_method})


def charge_off_session(client: stripe.StripeClient, customer: str, payment_method: str) -> Any:
    return pay(client, payment_method, customer=customer, off_session=True, amount=2000)


def post(server: StripeServer, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A request as localstripe's Stripe.js makes it: JSON, the publishable key in the body."""
    request = urllib.request.Request(  # noqa: S310 (a local URL)
        server.base_url + path,
        data=json.dumps({"key": "pk_test_localstripe", **body}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (a local URL)
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def authenticate(server: StripeServer, intent: Any, success: bool) -> dict[str, Any]:
    """The customer's answer to 3-D Secure (what localstripe's Stripe.js sends from its dialog)."""
    kind = "payment_intents" if intent.id.startswith("pi_") else "setup_intents"
    path = f"/v1/{kind}/{intent.id}/_authenticate?success={'true' if success else 'false'}"
    status, body = post(server, path, {"client_secret": intent.client_secret})
    assert status == 200, body
    return body


# --- the server the suite shares --------------------------------------------------------------------------


def test_the_sdk_reaches_localstripe_through_the_environment(stripe_server: StripeServer) -> None:
    assert stripe_server.environment() == {"STRIPE_API_BASE": stripe_server.base_url}
    assert os.environ["STRIPE_API_BASE"] == stripe_server.base_url
    assert stripe_server.base_url.startswith("http://127.0.0.1:")


def test_the_suites_localstripe_is_patched_too(stripe_server: StripeServer) -> None:
    shared = stripe.StripeClient(
        "sk_test_localstripe", base_addresses={"api": os.environ["STRIPE_API_BASE"]}, max_network_retries=0
    )
    with pytest.raises(stripe.CardError) as declined:
        pay(shared, "pm_card_visa_chargeDeclined")
    assert error_of(declined).decline_code == "generic_decline"


# --- payments and Stripe's fields -------------------------------------------------------------------------


def test_a_confirmed_card_payment_succeeds_with_the_fields_stripe_gives(client: stripe.StripeClient) -> None:
    intent = pay(client, metadata={"booking_id": "bk-1", "tenant_id": "t-1"})

    assert intent.status == "succeeded"
    assert (intent.amount, intent.currency, intent.amount_received, intent.amount_capturable) == (
        2500,
        "gbp",
        2500,
        0,
    )
    assert intent.metadata.to_dict() == {"booking_id": "bk-1", "tenant_id": "t-1"}
    assert intent.payment_method.startswith("pm_") and intent.payment_method != "pm_card_visa"
    assert isinstance(intent.latest_charge, str)  # an id, unless expanded
    charge = charge_of(client, intent.id)
    assert (charge.id, charge.payment_intent, charge.amount_captured) == (
        intent.latest_charge,
        intent.id,
        2500,
    )
    assert intent.cancellation_reason is None


DECLINES = [
    ("4000000000000002", "card_declined", "generic_decline", "Your card was declined."),
    ("4000000000009995", "card_declined", "insufficient_funds", "Your card has insufficient funds."),
    ("4000000000009987", "card_declined", "lost_card", "Your card was declined."),
    ("4000000000009979", "card_declined", "stolen_card", "Your card was declined."),
    ("4000000000000069", "expired_card", "expired_card", "Your card has expired."),
    ("4000000000000127", "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
    (
        "4000000000000119",
        "processing_error",
        "processing_error",
        "An error occurred while processing your card.",
    ),
]


@pytest.mark.parametrize(("number", "code", "decline_code", "message"), DECLINES)
def test_a_decline_test_card_is_declined_when_charged_as_at_stripe(
    client: stripe.StripeClient, number: str, code: str, decline_code: str, message: str
) -> None:
    intent = client.v1.payment_intents.create(params=UNCONFIRMED)

    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": card(client, number)})

    error = error_of(declined)
    assert (declined.value.http_status, error.type, error.code, error.decline_code) == (
        402,
        "card_error",
        code,
        decline_code,
    )
    assert str(error.message).startswith(message)
    assert error.payment_intent["id"] == intent.id
    assert error.payment_intent["status"] == "requires_payment_method"
    after = client.v1.payment_intents.retrieve(intent.id)
    assert (after.status, after.payment_method) == ("requires_payment_method", None)
    last: Any = after.last_payment_error
    assert (last.type, last.code, last.decline_code) == ("card_error", code, decline_code)
    assert str(last.message).startswith(message)
    assert last.payment_method["card"]["last4"] == number[-4:]


def test_an_intent_declined_at_creation_can_be_paid_with_another_card(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as declined:
        pay(client, "pm_card_chargeDeclinedInsufficientFunds")
    intent_id = error_of(declined).payment_intent["id"]

    paid = client.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})

    assert (paid.status, paid.amount_received, paid.last_payment_error) == ("succeeded", 2500, None)


def test_a_payment_method_given_by_an_update_is_confirmed_as_before(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(params=UNCONFIRMED)
    client.v1.payment_intents.update(intent.id, params={"payment_method": "pm_card_mastercard"})

    assert client.v1.payment_intents.confirm(intent.id).status == "succeeded"


@pytest.mark.parametrize(
    ("test_id", "outcome"),
    [
        ("pm_card_visa", "succeeded"),
        ("pm_card_mastercard", "succeeded"),
        ("pm_card_visa_chargeDeclined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("pm_card_visa_chargeDeclinedLostCard", "lost_card"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card"),
        ("pm_card_chargeCustomerFail", "generic_decline"),
        ("pm_card_authenticationRequired", "requires_action"),
        ("pm_card_authenticationRequiredOnSetup", "requires_action"),
        ("pm_card_threeDSecureOptional", "succeeded"),
    ],
)
def test_stripes_test_payment_methods_name_its_test_cards(
    client: stripe.StripeClient, test_id: str, outcome: str
) -> None:
    try:
        found = pay(client, test_id).status
    except stripe.CardError as declined:
        found = error_of(declined).decline_code
    assert found == outcome


def test_a_declined_charge_sends_payment_failed(
    client: stripe.StripeClient, endpoint: SignedEndpoint
) -> None:
    with pytest.raises(stripe.CardError) as declined:
        pay(client, "pm_card_visa_chargeDeclinedStolenCard")

    [event] = endpoint.events_about(error_of(declined).payment_intent["id"])
    assert event.type == "payment_intent.payment_failed"
    assert event.data.object.status == "requires_payment_method"
    assert event.data.object.last_payment_error.decline_code == "stolen_card"


# --- cards kept on file ---------------------------------------------------------------------------------


def test_a_decline_card_is_refused_when_saved_and_the_setup_intent_waits_for_another(
    client: stripe.StripeClient, endpoint: SignedEndpoint
) -> None:
    customer = client.v1.customers.create(params={"email": "nora@customers.example"})
    setup = client.v1.setup_intents.create(params={"customer": customer.id, "usage": "off_session"})

    with pytest.raises(stripe.CardError) as declined:
        client.v1.setup_intents.confirm(setup.id, params={"payment_method": card(client, "4000000000009995")})

    error = error_of(declined)
    assert (declined.value.http_status, error.code, error.decline_code) == (
        402,
        "card_declined",
        "insufficient_funds",
    )
    assert error.setup_intent["status"] == "requires_payment_method"
    refused: Any = client.v1.setup_intents.retrieve(setup.id)
    assert (refused.status, refused.payment_method) == ("requires_payment_method", None)  # not canceled
    assert (refused.last_setup_error.type, refused.last_setup_error.decline_code) == (
        "card_error",
        "insufficient_funds",
    )

    saved: Any = client.v1.setup_intents.confirm(setup.id, params={"payment_method": "pm_card_visa"})

    assert (saved.status, saved.last_setup_error) == ("succeeded", None)
    assert client.v1.payment_methods.retrieve(saved.payment_method).customer == customer.id
    failed, succeeded = endpoint.events_about(setup.id, count=2)
    assert (failed.type, failed.data.object.last_setup_error.code) == (
        "setup_intent.setup_failed",
        "card_declined",
    )
    assert (succeeded.type, succeeded.data.object.payment_method) == (
        "setup_intent.succeeded",
        saved.payment_method,
    )


def test_a_saved_card_that_declines_charges_is_declined_off_session(client: stripe.StripeClient) -> None:
    customer, setup = saved_card(client, "pm_card_chargeCustomerFail")
    assert setup.status == "succeeded"  # saved without complaint

    with pytest.raises(stripe.CardError) as declined:
        charge_off_session(client, customer, setup.payment_method)

    assert (declined.value.code, error_of(declined).decline_code) == ("card_declined", "generic_decline")


def test_3d_secure_on_session_waits_for_the_customer_who_completes_it(
    local: StripeServer, client: stripe.StripeClient
) -> None:
    intent = pay(client, card(client, "4000002500003155"))
    assert (intent.status, intent.next_action.type) == ("requires_action", "use_stripe_sdk")

    assert authenticate(local, intent, success=True)["status"] == "succeeded"


def test_failed_3d_secure_on_session_is_a_failed_payment_the_customer_may_retry(
    local: StripeServer, client: stripe.StripeClient, endpoint: SignedEndpoint
) -> None:
    intent = pay(client, "pm_card_threeDSecure2Required")

    failed = authenticate(local, intent, success=False)

    assert (failed["status"], failed["payment_method"]) == ("requires_payment_method", None)
    assert failed["last_payment_error"]["code"] == "payment_intent_authentication_failure"
    assert [e.type for e in endpoint.events_about(intent.id, count=2)] == [
        "payment_intent.requires_action",
        "payment_intent.payment_failed",
    ]
    paid = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert paid.status == "succeeded"


def test_a_3155_card_set_up_through_3d_secure_is_charged_off_session_without_asking(
    local: StripeServer, client: stripe.StripeClient, endpoint: SignedEndpoint
) -> None:
    customer, setup = saved_card(client, "pm_card_authenticationRequiredOnSetup")
    assert setup.status == "requires_action"
    with pytest.raises(stripe.CardError) as not_yet:  # not set up yet: the bank asks
        charge_off_session(client, customer, setup.payment_method)
    assert not_yet.value.code == "authentication_required"

    assert authenticate(local, setup, success=True)["status"] == "succeeded"
    fee = charge_off_session(client, customer, setup.payment_method)

    assert (fee.status, fee.amount_received) == ("succeeded", 2000)
    assert [e.type for e in endpoint.events_about(setup.id, count=2)] == [
        "setup_intent.requires_action",
        "setup_intent.succeeded",
    ]


def test_a_card_that_always_asks_is_authentication_required_off_session(
    local: StripeServer, client: stripe.StripeClient, endpoint: SignedEndpoint
) -> None:
    customer, setup = saved_card(client, card(client, "4000002760003184"))
    authenticate(local, setup, success=True)

    with pytest.raises(stripe.CardError) as asked:
        charge_off_session(client, customer, setup.payment_method)

    error = error_of(asked)
    assert (asked.value.http_status, error.type, error.code, error.decline_code) == (
        402,
        "card_error",
        "authentication_required",
        "authentication_required",
    )
    assert (error.payment_intent["status"], error.payment_intent["payment_method"]) == (
        "requires_payment_method",
        None,
    )
    [event] = endpoint.events_about(error.payment_intent["id"])
    assert event.type == "payment_intent.payment_failed"
    assert event.data.object.last_payment_error.code == "authentication_required"


def test_failed_3d_secure_leaves_the_setup_intent_waiting_for_another_card(
    local: StripeServer, client: stripe.StripeClient
) -> None:
    _, setup = saved_card(client, "pm_card_authenticationRequired")

    failed = authenticate(local, setup, success=False)

    assert (failed["status"], failed["payment_method"]) == ("requires_payment_method", None)
    assert failed["last_setup_error"]["code"] == "setup_intent_authentication_failure"


@pytest.mark.parametrize("completed", [True, False])
def test_localstripes_stripe_js_completes_or_fails_3d_secure_on_a_setup_intent(
    local: StripeServer, client: stripe.StripeClient, completed: bool
) -> None:
    setup = client.v1.setup_intents.create(params={"usage": "off_session"})
    browser = {"use_stripe_sdk": True, "client_secret": setup.client_secret}
    number = {"number": "4000002500003155", "exp_month": "12", "exp_year": "2034", "cvc": "123"}

    # confirmCardSetup(): the card typed in its fake element, then its 3-D Secure dialog's answer
    status, asked = post(
        local,
        f"/v1/setup_intents/{setup.id}/confirm",
        {**browser, "payment_method_data": {"type": "card", "card": number}},
    )
    assert (status, asked["status"]) == (200, "requires_action")
    status, answered = post(
        local, f"/v1/setup_intents/{setup.id}/{'confirm' if completed else 'cancel'}", browser
    )

    assert status == 200
    if completed:
        assert (answered["status"], answered["payment_method"]) == ("succeeded", asked["payment_method"])
    else:
        assert answered["status"] == "requires_payment_method"  # a failed setup, not a cancellation
        assert answered["last_setup_error"]["code"] == "setup_intent_authentication_failure"


# --- idempotency ----------------------------------------------------------------------------------------


def test_a_repeated_key_replays_the_first_answer_without_acting_again(client: stripe.StripeClient) -> None:
    key = f"booking-{secrets.token_hex(6)}-charge"
    params: Any = {**PAYMENT, "payment_method": "pm_card_visa", "confirm": True}

    first: Any = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    again: Any = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})

    assert (again.id, again.latest_charge) == (first.id, first.latest_charge)  # no second charge
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers


def test_a_repeated_key_with_other_parameters_or_on_another_endpoint_is_an_idempotency_error(
    client: stripe.StripeClient,
) -> None:
    key = f"booking-{secrets.token_hex(6)}-charge"
    client.v1.payment_intents.create(params=PLAIN, options={"idempotency_key": key})

    with pytest.raises(stripe.IdempotencyError) as other_amount:
        client.v1.payment_intents.create(params=PLAIN | {"amount": 2600}, options={"idempotency_key": key})
    with pytest.raises(stripe.IdempotencyError) as other_endpoint:
        client.v1.customers.create(params={"email": "a@customers.example"}, options={"idempotency_key": key})

    assert other_amount.value.http_status == 400
    assert "same parameters" in str(other_amount.value.user_message)
    assert "same endpoint" in str(other_endpoint.value.user_message)


def test_keys_belong_to_one_api_key(local: StripeServer, client: stripe.StripeClient) -> None:
    other = stripe.StripeClient(
        "sk_test_another_account", base_addresses={"api": local.base_url}, max_network_retries=0
    )
    key = f"booking-{secrets.token_hex(6)}-charge"

    mine = client.v1.payment_intents.create(params=PLAIN, options={"idempotency_key": key})
    theirs = other.v1.payment_intents.create(params=PLAIN, options={"idempotency_key": key})

    assert mine.id != theirs.id


def test_a_decline_is_replayed_but_a_refused_request_is_not_kept(client: stripe.StripeClient) -> None:
    declined_key, refused_key = secrets.token_hex(8), secrets.token_hex(8)
    params: Any = {**PAYMENT, "payment_method": "pm_card_visa_chargeDeclined", "confirm": True}
    errors: list[Any] = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as declined:
            client.v1.payment_intents.create(params=params, options={"idempotency_key": declined_key})
        errors.append(declined.value)
    assert errors[0].error.payment_intent["id"] == errors[1].error.payment_intent["id"]
    assert errors[1].headers["Idempotent-Replayed"] == "true"

    with pytest.raises(stripe.InvalidRequestError):  # refused before anything was made: not kept
        client.v1.refunds.create(
            params={"payment_intent": "pi_missing"}, options={"idempotency_key": refused_key}
        )
    paid = pay(client)
    refund = client.v1.refunds.create(
        params={"payment_intent": paid.id}, options={"idempotency_key": refused_key}
    )
    assert refund.amount == 2500


# --- refunds --------------------------------------------------------------------------------------------


def test_refunds_never_exceed_what_is_refundable(client: stripe.StripeClient) -> None:
    intent = pay(client)

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 4000})
    assert (too_much.value.http_status, error_of(too_much).type) == (400, "invalid_request_error")
    assert too_much.value.user_message == "Refund amount (£40.00) is greater than charge amount (£25.00)"

    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000})
    with pytest.raises(stripe.InvalidRequestError) as beyond_the_rest:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 2000})
    assert beyond_the_rest.value.user_message == (
        "Refund amount (£20.00) is greater than unrefunded amount on charge (£15.00)"
    )
    assert (charge_of(client, intent.id).amount_refunded, charge_of(client, intent.id).refunded) == (
        1000,
        False,
    )

    rest = client.v1.refunds.create(params={"payment_intent": intent.id})  # no amount: what is left
    assert rest.amount == 1500
    charge = charge_of(client, intent.id)
    assert (charge.amount_refunded, charge.refunded) == (2500, True)
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 1})
    assert again.value.code == "charge_already_refunded"


def test_an_authorisation_is_cancelled_not_refunded(client: stripe.StripeClient) -> None:
    intent = pay(client, capture_method="manual")

    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"payment_intent": intent.id})

    assert refused.value.code == "payment_intent_unexpected_state"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"


def test_a_refund_sends_stripes_three_events_in_order(
    client: stripe.StripeClient, endpoint: SignedEndpoint
) -> None:
    intent = pay(client)
    charge_id = intent.latest_charge

    refund = client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 1000, "metadata": {"booking_id": "bk-9"}}
    )

    charged, created, updated = endpoint.events_about(charge_id, refund.id, count=3)
    assert [charged.type, created.type, updated.type] == [
        "charge.refunded",
        "refund.created",
        "charge.refund.updated",
    ]
    charge = charged.data.object
    assert (charge.id, charge.payment_intent, charge.amount_refunded, charge.refunded) == (
        charge_id,
        intent.id,
        1000,
        False,
    )
    assert [r.id for r in charge.refunds.data] == [refund.id]
    for event in (created, updated):
        made = event.data.object
        assert (made.id, made.amount, made.currency, made.charge, made.payment_intent, made.status) == (
            refund.id,
            1000,
            "gbp",
            charge_id,
            intent.id,
            "succeeded",
        )
        assert (made.created, made.metadata.to_dict()) == (refund.created, {"booking_id": "bk-9"})


def test_the_events_are_listed_newest_first(client: stripe.StripeClient) -> None:
    intent = pay(client)
    client.v1.refunds.create(params={"payment_intent": intent.id})

    newest = client.v1.events.list(params={"limit": 3}).data

    assert [e.type for e in newest] == ["charge.refund.updated", "refund.created", "charge.refunded"]


# --- authorisations -------------------------------------------------------------------------------------


def test_an_authorisation_sends_amount_capturable_updated_and_a_cancellation_its_reason(
    client: stripe.StripeClient, endpoint: SignedEndpoint
) -> None:
    intent = pay(client, capture_method="manual")
    assert (intent.status, intent.amount_capturable, intent.amount_received) == ("requires_capture", 2500, 0)

    cancelled = client.v1.payment_intents.cancel(
        intent.id, params={"cancellation_reason": "requested_by_customer"}
    )

    assert (cancelled.status, cancelled.cancellation_reason) == ("canceled", "requested_by_customer")
    authorised, ended = endpoint.events_about(intent.id, count=2)
    assert authorised.type == "payment_intent.amount_capturable_updated"
    assert (authorised.data.object.status, authorised.data.object.amount_capturable) == (
        "requires_capture",
        2500,
    )
    assert ended.type == "payment_intent.canceled"
    assert ended.data.object.cancellation_reason == "requested_by_customer"
    with pytest.raises(stripe.InvalidRequestError) as too_late:  # localstripe captured a cancelled intent
        client.v1.payment_intents.capture(intent.id)
    assert too_late.value.code == "payment_intent_unexpected_state"


def test_a_manual_capture_takes_the_authorised_amount(client: stripe.StripeClient) -> None:
    intent = pay(client, capture_method="manual")

    captured = client.v1.payment_intents.capture(intent.id)

    assert (captured.status, captured.amount_received, captured.amount_capturable) == ("succeeded", 2500, 0)


def test_a_partial_capture_receives_what_was_captured_and_refunds_no_more(
    client: stripe.StripeClient,
) -> None:
    intent = pay(client, capture_method="manual")

    captured = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 1500})

    assert (captured.status, captured.amount_received) == ("succeeded", 1500)
    assert charge_of(client, intent.id).amount_captured == 1500
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1600})
    assert client.v1.refunds.create(params={"payment_intent": intent.id}).amount == 1500


# --- webhook deliveries ---------------------------------------------------------------------------------


def test_a_delivery_answered_with_an_error_is_retried_signed_afresh(
    local: StripeServer, client: stripe.StripeClient
) -> None:
    failing = SignedEndpoint(local, ["payment_intent.succeeded"], answers=[500])
    try:
        intent = pay(client)
        first, second = failing.wait_for(lambda d: d.object["id"] == intent.id, count=2)
    finally:
        failing.close()

    assert (first.answered, second.answered) == (500, 200)
    assert first.body == second.body
    assert failing.verified(first).id == failing.verified(second).id  # the same event, each signature good
    log = local.log_path.read_text()
    assert "failed with response code 500 (attempt 1); retrying in 0.3 s" in log
    assert "successfully delivered (attempt 2)" in log


def test_an_unreachable_endpoint_is_retried_a_bounded_number_of_times(
    local: StripeServer, client: stripe.StripeClient
) -> None:
    name = f"gone-{secrets.token_hex(4)}"
    local.register_webhook(name, "http://127.0.0.1:9/nothing-listens", "whsec_gone", ["customer.created"])
    try:
        customer = client.v1.customers.create(params={"email": "gone@customers.example"})
        assert customer.id  # the API answered at once: deliveries never hold it up
        deadline = time.monotonic() + 10  # the first attempt, then two retries 0.3 s and 0.6 s apart
        attempts = attempts_to(local, name)
        while not (attempts and "giving up" in attempts[-1]) and time.monotonic() < deadline:
            time.sleep(0.1)
            attempts = attempts_to(local, name)
    finally:
        local.register_webhook(name, "http://127.0.0.1:9/nothing-listens", "whsec_gone", events=[])

    assert len(attempts) == 3, attempts
    assert [f"(attempt {n})" in line for n, line in enumerate(attempts, 1)] == [True, True, True]
    assert "giving up" in attempts[-1]


def attempts_to(server: StripeServer, endpoint: str) -> list[str]:
    return [line for line in server.log_path.read_text().splitlines() if f'to "{endpoint}"' in line]


# --- the upgrade alarm ----------------------------------------------------------------------------------


def test_localstripe_is_the_version_the_patches_were_written_for() -> None:
    assert localstripe.__version__ == stripe_patches.LOCALSTRIPE_VERSION, (
        f"localstripe {localstripe.__version__} is installed; local/stripe_patches/ was written for "
        f"{stripe_patches.LOCALSTRIPE_VERSION}. Re-read the functions it patches, then update LOCALSTRIPE_VERSION."
    )


@pytest.mark.parametrize("name", sorted(stripe_patches.PATCHED))
def test_no_patched_localstripe_function_changed(name: str) -> None:
    changed = stripe_patches.source_hash(stripe_patches.original(name))
    assert changed == stripe_patches.PATCHED[name], (
        f"localstripe's {name} is not the one local/stripe_patches/ replaces or wraps: read the new one, "
        "check the patch still holds, then record the new hash in PATCHED"
    )


@pytest.mark.parametrize("name", sorted(stripe_patches.RELIED_ON))
def test_no_localstripe_function_the_patches_rely_on_changed(name: str) -> None:
    changed = stripe_patches.source_hash(stripe_patches.lookup(name))
    assert changed == stripe_patches.RELIED_ON[name], (
        f"localstripe's {name} changed, and local/stripe_patches/ relies on how it works: read it, check "
        "the patch still holds, then record the new hash in RELIED_ON"
    )
