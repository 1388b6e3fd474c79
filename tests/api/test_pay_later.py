"""Paying later through the manage link: a booking made with "skip payment" is paid through the Payment
Element, recorded by Stripe's webhook (never the browser); a cancelled booking or one with nothing owed
cannot be paid (409, nothing written)."""

from __future__ import annotations

from typing import Any

import pytest

from local.stripe_server import StripeServer
from tests.support.checkout import book, detail, pay, stripe_salon, wait_until
from tests.support.lambda_api import LambdaApi
from tests.support.notification_fixtures import MakeTenant, Salon
from tests.support.stripe_webhooks import WebhookReceiver


@pytest.fixture(scope="module")
def lenient(
    api: LambdaApi, make_tenant: MakeTenant, stripe_server: StripeServer, receiver: WebhookReceiver
) -> tuple[Salon, dict[str, str]]:
    return stripe_salon(api, make_tenant, stripe_server, receiver.base_url, allow_skip_payment=True)


def skipped(api: LambdaApi, salon: Salon, day: int) -> dict[str, Any]:
    booked = book(api, salon, salon.at(salon.day(day), "10:00"), skip_payment=True)
    assert booked.status == 201, booked.text
    found: dict[str, Any] = booked.json()
    return found


def pay_later(api: LambdaApi, booking: dict[str, Any]) -> Any:
    return api.post(
        f"/v1/public/bookings/{booking['id']}/payment?token={booking['manage_token']}", json_body={}
    )


def test_a_booking_made_without_paying_is_paid_later_through_the_manage_link(
    api: LambdaApi, lenient: tuple[Salon, dict[str, str]], stripe_server: StripeServer
) -> None:
    salon, account = lenient
    booking = skipped(api, salon, 3)
    due = pay_later(api, booking)
    assert due.status == 200, due.text
    assert due.json()["purpose"] == "balance"
    assert due.json()["amount"] == {"amount_minor": 6500, "currency": "GBP"}
    assert due.json()["publishable_key"] == account["publishable_key"]
    assert detail(api, salon, booking["id"])["payment_status"] == "unpaid"  # the browser confirms nothing

    intent_id = due.json()["client_secret"].split("_secret_")[0]
    pay(stripe_server, account, intent_id)
    paid = wait_until(api, salon, booking["id"], lambda b: b["payment_status"] == "paid")
    assert (paid["payment"]["intent_id"], paid["payment"]["captured_minor"]) == (intent_id, 6500)
    assert pay_later(api, booking).status == 409  # nothing is owed any more


def test_a_cancelled_booking_cannot_be_paid_and_nothing_is_written(
    api: LambdaApi, lenient: tuple[Salon, dict[str, str]]
) -> None:
    salon, _ = lenient
    booking = skipped(api, salon, 4)
    cancelled = api.post(
        f"/v1/public/bookings/{booking['id']}/cancel?token={booking['manage_token']}", json_body={}
    )
    assert cancelled.status == 200, cancelled.text
    before = detail(api, salon, booking["id"])
    refused = pay_later(api, booking)
    assert refused.status == 409, refused.text
    assert "cancelled" in refused.json()["detail"]
    assert detail(api, salon, booking["id"]) == before


def test_a_forged_link_pays_nothing(api: LambdaApi, lenient: tuple[Salon, dict[str, str]]) -> None:
    salon, _ = lenient
    booking = skipped(api, salon, 5)
    forged = api.post(f"/v1/public/bookings/{booking['id']}/payment?token=not-a-token", json_body={})
    assert forged.status == 401, forged.text
    assert detail(api, salon, booking["id"])["payment"] is None
