"""Paying at booking against a real Stripe server (localstripe) through the official SDK: the booking
awaits its payment holding its time, the verified webhook (delivered by localstripe over HTTP, signed)
confirms it, never the browser; a decline is recorded; an abandoned checkout frees the time by itself; a
payment that arrives after someone else took the time is refunded in full; a bad or stale signature and a
replay change nothing.

The local Stripe behaves as Stripe where we lean on it (local/stripe_patches/); the refund-on-taken path
still checks our own state first.
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe

from booking.adapters.secrets_manager import REFRESH_SECONDS
from local.aws import CREDENTIALS_SECRET_PREFIX, EmbeddedAws, LocalResources
from local.stripe_server import StripeServer
from tests.support.checkout import (
    book,
    detail,
    offered,
    pay,
    sdk,
    signed,
    stripe_account,
    stripe_salon,
    wait_until,
)
from tests.support.lambda_api import LambdaApi
from tests.support.notification_fixtures import MakeTenant, ManualClock, Salon, build_salon, new_customer
from tests.support.stripe_webhooks import WebhookReceiver, deliver


@pytest.fixture(scope="module")
def paid_spa(
    api: LambdaApi, make_tenant: MakeTenant, stripe_server: StripeServer, receiver: WebhookReceiver
) -> tuple[Salon, dict[str, str]]:
    """A spa whose massage (GBP 65.00) is paid in full at booking, its Stripe account connected and its
    webhook endpoint registered with the Stripe server."""
    spa = build_salon(
        api,
        make_tenant,
        service={"payment": {"mode": "full"}},
        booking_window_days=365,
        allow_skip_payment=False,
    )
    account = stripe_account()
    connected = api.put("/v1/admin/business/payments/stripe", json_body=account, token=spa.tenant.token())
    assert connected.status == 200, connected.text
    assert connected.json()["connected"] is True
    assert account["secret_key"] not in connected.text
    stripe_server.register_webhook(
        f"spa-{spa.tenant.id}",
        f"{receiver.base_url}/v1/webhooks/stripe/{spa.tenant.id}",
        account["webhook_secret"],
    )
    return spa, account


def test_a_paid_booking_awaits_its_payment_and_the_verified_webhook_confirms_it(
    api: LambdaApi,
    paid_spa: tuple[Salon, dict[str, str]],
    stripe_server: StripeServer,
    receiver: WebhookReceiver,
) -> None:
    spa, account = paid_spa
    start = spa.at(spa.day(3), "10:00")
    response = book(api, spa, start)
    assert response.status == 201, response.text
    booking = response.json()
    assert (booking["status"], booking["payment_status"]) == ("pending", "unpaid")
    checkout = booking["checkout"]
    assert checkout["kind"] == "charge"
    assert checkout["publishable_key"] == account["publishable_key"]
    assert checkout["amount"] == {"amount_minor": 6500, "currency": "GBP"} | {
        k: v for k, v in checkout["amount"].items() if k not in ("amount_minor", "currency")
    }
    assert checkout["client_secret"].startswith("pi_")
    held_until = datetime.fromisoformat(checkout["expires_at"])
    assert timedelta(minutes=14) < held_until - datetime.now(UTC) <= timedelta(minutes=15)
    assert not offered(api, spa, start)  # the time is held while the customer pays

    # the browser says nothing to us; Stripe's webhook does
    intent_id = detail(api, spa, booking["id"])["payment"]["intent_id"]
    pay(stripe_server, account, intent_id)
    try:
        confirmed = wait_until(api, spa, booking["id"], lambda b: b["status"] == "confirmed")
    except AssertionError:
        raise AssertionError(f"webhook deliveries: {receiver.answers}") from None
    assert confirmed["payment_status"] == "paid"
    assert confirmed["payment"]["captured_minor"] == 6500
    assert confirmed["hold_expires_at"] is None
    assert [h["action"] for h in confirmed["history"]][-1] == "payment_received"
    assert not offered(api, spa, start)
    view = api.get(f"/v1/public/bookings/{booking['id']}?token={booking['manage_token']}").json()
    assert (view["status"], view["payment_status"], view["checkout"]) == ("confirmed", "paid", None)


def test_a_declined_card_is_recorded_and_the_booking_keeps_waiting(
    api: LambdaApi, paid_spa: tuple[Salon, dict[str, str]], stripe_server: StripeServer
) -> None:
    spa, account = paid_spa
    booking = book(api, spa, spa.at(spa.day(4), "10:00")).json()
    intent_id = detail(api, spa, booking["id"])["payment"]["intent_id"]
    with pytest.raises(stripe.CardError):
        pay(stripe_server, account, intent_id, "pm_card_chargeCustomerFail")
    failed = wait_until(api, spa, booking["id"], lambda b: b["payment_status"] == "failed")
    assert failed["status"] == "pending"  # the customer may try another card until the hold lapses
    assert failed["payment"]["failure"]
    assert not offered(api, spa, datetime.fromisoformat(failed["start"]).astimezone(UTC))  # still held
    # The customer retries the same intent with another card, as Stripe lets them: the webhook confirms.
    pay(stripe_server, account, intent_id)
    paid = wait_until(api, spa, booking["id"], lambda b: b["payment_status"] == "paid")
    assert (paid["status"], paid["payment"]["failure"]) == ("confirmed", None)


def test_a_booking_that_cannot_finish_before_the_function_times_out_answers_503_and_books_nothing(
    api: LambdaApi, paid_spa: tuple[Salon, dict[str, str]]
) -> None:
    spa, _ = paid_spa
    start = spa.at(spa.day(30), "10:00")
    late = api.post(
        f"/v1/public/businesses/{spa.slug}/bookings",
        json_body={
            "services": [spa.service_id],
            "staff": spa.staff_id,
            "start": start.isoformat(),
            "customer": new_customer().body(),
        },
        headers={"Idempotency-Key": secrets.token_hex(8)},
        remaining_millis=1_500,  # the function is nearly out of time: too little to reach Stripe and back
    )
    assert late.status == 503, late.text
    assert late.header("Retry-After") == "2"
    assert late.json()["type"] == "urn:booking:problem:service-unavailable"
    assert offered(api, spa, start)  # nothing held: the call to Stripe was not even started
    # With the time a request normally has, the same booking goes through.
    assert book(api, spa, start).status == 201


def test_a_retried_request_returns_the_same_booking_and_checkout(
    api: LambdaApi, paid_spa: tuple[Salon, dict[str, str]]
) -> None:
    spa, _ = paid_spa
    body = {
        "services": [spa.service_id],
        "staff": spa.staff_id,
        "start": spa.at(spa.day(5), "10:00").isoformat(),
        "customer": new_customer().body(),
    }
    key = {"Idempotency-Key": secrets.token_hex(8)}
    first = api.post(f"/v1/public/businesses/{spa.slug}/bookings", json_body=body, headers=key).json()
    again = api.post(f"/v1/public/businesses/{spa.slug}/bookings", json_body=body, headers=key).json()
    assert again["id"] == first["id"]
    assert again["checkout"]["client_secret"] == first["checkout"]["client_secret"]


def test_skip_payment_only_where_the_business_allows_it(
    api: LambdaApi, paid_spa: tuple[Salon, dict[str, str]], make_tenant: MakeTenant
) -> None:
    spa, _ = paid_spa
    refused = book(api, spa, spa.at(spa.day(6), "10:00"), skip_payment=True)
    assert refused.status == 422, refused.text
    assert "skip_payment" in json.dumps(refused.json()["errors"])

    lenient = build_salon(
        api,
        make_tenant,
        service={"payment": {"mode": "full"}},
        booking_window_days=365,
        allow_skip_payment=True,
    )
    booked = book(api, lenient, lenient.at(lenient.day(6), "10:00"), skip_payment=True)
    assert booked.status == 201, booked.text
    assert (booked.json()["status"], booked.json()["payment_status"]) == ("confirmed", "unpaid")
    assert booked.json()["checkout"] is None


def test_a_business_without_stripe_cannot_take_a_paid_booking(
    api: LambdaApi, make_tenant: MakeTenant
) -> None:
    unconnected = build_salon(
        api, make_tenant, service={"payment": {"mode": "full"}}, booking_window_days=365
    )
    refused = book(api, unconnected, unconnected.at(unconnected.day(3), "10:00"))
    assert refused.status == 409, refused.text
    assert "cannot take payments online" in refused.json()["detail"]
    assert offered(api, unconnected, unconnected.at(unconnected.day(3), "10:00"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("secret_key", "pk_test_not_a_secret_key"),
        ("publishable_key", "sk_test_1234567890"),
        ("webhook_secret", "secret"),
    ],
)
def test_a_malformed_stripe_account_is_refused_naming_the_field(
    api: LambdaApi, make_tenant: MakeTenant, field: str, value: str
) -> None:
    tenant = make_tenant()
    response = api.put(
        "/v1/admin/business/payments/stripe",
        json_body=stripe_account() | {field: value},
        token=tenant.token(),
    )
    assert response.status == 422, response.text
    assert field in json.dumps(response.json()["errors"])
    assert api.get("/v1/admin/business/payments/stripe", token=tenant.token()).json()["connected"] is False


# --- webhook signatures -------------------------------------------------------------------------------------


def event_for(intent_id: str, event_type: str = "payment_intent.succeeded") -> bytes:
    return json.dumps(
        {
            "id": f"evt_{secrets.token_hex(8)}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": {"id": intent_id, "object": "payment_intent"}},
        }
    ).encode()


def test_bad_or_stale_signatures_are_refused_and_a_replay_does_nothing(
    api: LambdaApi, paid_spa: tuple[Salon, dict[str, str]], stripe_server: StripeServer
) -> None:
    spa, account = paid_spa
    booking = book(api, spa, spa.at(spa.day(8), "10:00")).json()
    intent_id = detail(api, spa, booking["id"])["payment"]["intent_id"]
    path = f"/v1/webhooks/stripe/{spa.tenant.id}"
    payload = event_for(intent_id)

    for signature in (
        signed(payload, "whsec_someone_else"),
        signed(payload, account["webhook_secret"], at=int(time.time()) - 600),  # 10 minutes old
        "t=1,v1=nonsense",
        "",
    ):
        answer = deliver(path, {"Stripe-Signature": signature} if signature else {}, payload)
        assert answer["statusCode"] == 400, answer
        assert json.loads(answer["body"])["type"].endswith("invalid-webhook-signature")
    assert detail(api, spa, booking["id"])["payment_status"] == "unpaid"
    assert (
        deliver(f"/v1/webhooks/stripe/{'0' * 26}", {"Stripe-Signature": signed(payload, "x")}, payload)[
            "statusCode"
        ]
        == 404
    )

    # a genuine event: the intent is re-read, so an event claiming success changes nothing until Stripe says so
    good = deliver(path, {"Stripe-Signature": signed(payload, account["webhook_secret"])}, payload)
    assert good["statusCode"] == 200 and json.loads(good["body"])["outcome"] == "unchanged"
    replay = deliver(path, {"Stripe-Signature": signed(payload, account["webhook_secret"])}, payload)
    assert json.loads(replay["body"])["outcome"] == "duplicate"


def test_a_rotated_webhook_secret_or_a_new_account_is_honoured_at_once(
    api: LambdaApi,
    make_tenant: MakeTenant,
    stripe_server: StripeServer,
    receiver: WebhookReceiver,
    embedded_aws: tuple[EmbeddedAws, LocalResources],
) -> None:
    spa, account = stripe_salon(api, make_tenant, stripe_server, receiver.base_url)
    path = f"/v1/webhooks/stripe/{spa.tenant.id}"
    warm = event_for("pi_unknown_0001")
    assert (
        deliver(path, {"Stripe-Signature": signed(warm, account["webhook_secret"])}, warm)["statusCode"]
        == 200
    )
    # The secret is rotated (by another copy of the API, say): this copy still has the old one cached.
    rotated = account | {"webhook_secret": f"whsec_{secrets.token_hex(16)}"}
    secrets_manager = embedded_aws[0].client("secretsmanager")
    secrets_manager.put_secret_value(
        SecretId=f"{CREDENTIALS_SECRET_PREFIX}{spa.tenant.id}/payments/stripe",
        SecretString=json.dumps(rotated),
    )
    time.sleep(REFRESH_SECONDS)  # a fresh read is made at most this often per secret (forged floods)
    payload = event_for("pi_unknown_0002")
    answer = deliver(path, {"Stripe-Signature": signed(payload, rotated["webhook_secret"])}, payload)
    assert answer["statusCode"] == 200, answer  # read afresh once before refusing
    old = event_for("pi_unknown_0003")
    assert (
        deliver(path, {"Stripe-Signature": signed(old, account["webhook_secret"])}, old)["statusCode"] == 400
    )

    # A business whose account this copy last saw missing (a 404 cached) is found once connected.
    newcomer = make_tenant()
    new_path = f"/v1/webhooks/stripe/{newcomer.id}"
    first = event_for("pi_unknown_0004")
    assert deliver(new_path, {"Stripe-Signature": signed(first, "whsec_x")}, first)["statusCode"] == 404
    secrets_manager.create_secret(
        Name=f"{CREDENTIALS_SECRET_PREFIX}{newcomer.id}/payments/stripe", SecretString=json.dumps(account)
    )
    time.sleep(REFRESH_SECONDS)
    later = event_for("pi_unknown_0005")
    found = deliver(new_path, {"Stripe-Signature": signed(later, account["webhook_secret"])}, later)
    assert found["statusCode"] == 200, found


def test_a_signed_event_about_an_intent_the_account_cannot_read_is_answered_as_not_ours(
    paid_spa: tuple[Salon, dict[str, str]],
) -> None:
    spa, account = paid_spa
    payload = event_for("pi_3NoSuchIntentAtThisAccount")
    answer = deliver(
        f"/v1/webhooks/stripe/{spa.tenant.id}",
        {"Stripe-Signature": signed(payload, account["webhook_secret"])},
        payload,
    )
    assert answer["statusCode"] == 200, answer  # not a 502 Stripe would retry for three days
    assert json.loads(answer["body"])["outcome"] == "not_ours"


# --- holds lapse; a late payment for a taken time is refunded -----------------------------------------------


def test_an_abandoned_checkout_frees_the_time_and_a_late_payment_for_a_taken_time_is_refunded(
    api: LambdaApi, paid_spa: tuple[Salon, dict[str, str]], stripe_server: StripeServer, embedded_aws: Any
) -> None:
    """No clean-up job runs: the hold simply lapses. The test takes the time for another client through the
    repository on a clock 16 minutes on (the API's own runs on the wall clock)."""
    from booking.adapters.dynamodb.bookings import DynamoBookingRepository
    from booking.domain.booking import Actor, BookingStatus, HistoryEntry
    from booking_api.deps import container

    spa, account = paid_spa
    aws, resources = embedded_aws
    start = spa.at(spa.day(10), "10:00")
    first = book(api, spa, start).json()
    assert not offered(api, spa, start)

    later = ManualClock(datetime.now(UTC) + timedelta(minutes=16))
    repository = DynamoBookingRepository(aws.client("dynamodb"), resources.table_name, later)
    held = container().bookings.booking_for_business(spa.slug, first["id"]).booking
    other = held.model_copy(
        update={
            "id": "01" + secrets.token_hex(12).upper(),
            "status": BookingStatus.CONFIRMED,
            "hold_expires_at": None,
            "payment": None,
            "payment_status": "not_required",
            "customer": held.customer.model_copy(update={"email": "other@customers.example"}),
        }
    )
    repository.save(other, None, HistoryEntry(at=later.now(), actor=Actor(kind="staff"), action="created"))

    # the first customer pays after all: Stripe's webhook finds the time taken, refunds in full, cancels
    intent_id = detail(api, spa, first["id"])["payment"]["intent_id"]
    pay(stripe_server, account, intent_id)
    cancelled = wait_until(api, spa, first["id"], lambda b: b["status"] == "cancelled")
    assert cancelled["payment_status"] == "refunded"
    assert cancelled["payment"]["refunded_minor"] == 6500
    assert "taken before the payment arrived" in cancelled["cancellation_reason"]
    refunds = sdk(stripe_server, account).v1.refunds.list(params={"payment_intent": intent_id})
    assert [r.amount for r in refunds.data] == [6500]
    assert detail(api, spa, other.id)["status"] == "confirmed"
