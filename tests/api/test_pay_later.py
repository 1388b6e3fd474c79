"""Paying later through the manage link: a booking made with "skip payment" is paid through the Payment
Element, recorded by Stripe's webhook (never the browser), for exactly what is owed when it is asked for; a
cancelled booking or one with nothing owed cannot be paid (409, nothing written); an overpayment is a
credit the business gives back in one action."""

from __future__ import annotations

from typing import Any

import pytest

from local.stripe_server import StripeServer
from tests.support.checkout import book, detail, pay, sdk, stripe_salon, wait_until
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


def test_paying_later_after_cash_at_the_desk_charges_only_what_is_still_owed(
    api: LambdaApi, lenient: tuple[Salon, dict[str, str]], stripe_server: StripeServer
) -> None:
    salon, account = lenient
    booking = skipped(api, salon, 6)
    first = pay_later(api, booking)
    assert first.json()["amount"]["amount_minor"] == 6500
    old_intent = first.json()["client_secret"].split("_secret_")[0]
    cash = api.post(
        f"/v1/admin/bookings/{booking['id']}/payment/offline",
        json_body={"amount_minor": 3000, "method": "cash"},
        token=salon.tenant.token(),
    )
    assert cash.status == 200, cash.text

    again = pay_later(api, booking)

    assert again.status == 200, again.text
    assert again.json()["amount"]["amount_minor"] == 3500
    new_intent = again.json()["client_secret"].split("_secret_")[0]
    assert new_intent != old_intent
    client = sdk(stripe_server, account)
    assert client.v1.payment_intents.retrieve(old_intent).status == "canceled"  # can never be paid now
    assert client.v1.payment_intents.retrieve(new_intent).amount == 3500
    assert (
        pay_later(api, booking).json()["client_secret"] == again.json()["client_secret"]
    )  # same amount: reused

    pay(stripe_server, account, new_intent)
    paid = wait_until(api, salon, booking["id"], lambda b: b["payment_status"] == "paid")
    assert (paid["payment"]["captured_minor"], paid["balance_minor"], paid["credit_minor"]) == (3500, 0, 0)
    received = [h for h in paid["history"] if h["action"] == "payment_captured"][-1]
    assert received["details"]["amount_minor"] == 3500 and "overpaid_minor" not in received["details"]


def test_an_overpayment_is_a_credit_the_business_refunds_in_one_action(
    api: LambdaApi, lenient: tuple[Salon, dict[str, str]], stripe_server: StripeServer
) -> None:
    salon, account = lenient
    booked = book(api, salon, salon.at(salon.day(8), "10:00")).json()
    intent_id = detail(api, salon, booked["id"])["payment"]["intent_id"]
    pay(stripe_server, account, intent_id)
    wait_until(api, salon, booked["id"], lambda b: b["payment_status"] == "paid")
    owner = salon.tenant.token()
    # The customer also paid cash at the desk: GBP 20 more than the booking bills.
    api.post(
        f"/v1/admin/bookings/{booked['id']}/payment/offline",
        json_body={"amount_minor": 2000, "method": "cash"},
        token=owner,
    )
    credited = detail(api, salon, booked["id"])
    assert (credited["balance_minor"], credited["credit_minor"]) == (-2000, 2000)
    too_much = api.post(
        f"/v1/admin/bookings/{booked['id']}/payment/refund-credit",
        json_body={"amount_minor": 2001},
        token=owner,
    )
    assert too_much.status == 422, too_much.text
    assert detail(api, salon, booked["id"])["history"] == credited["history"]  # nothing written

    refunded = api.post(f"/v1/admin/bookings/{booked['id']}/payment/refund-credit", json_body={}, token=owner)

    assert refunded.status == 200, refunded.text
    after = refunded.json()
    assert (after["balance_minor"], after["credit_minor"], after["payment"]["refunded_minor"]) == (0, 0, 2000)
    assert [
        r.amount
        for r in sdk(stripe_server, account).v1.refunds.list(params={"payment_intent": intent_id}).data
    ] == [2000]
    nothing = api.post(f"/v1/admin/bookings/{booked['id']}/payment/refund-credit", json_body={}, token=owner)
    assert nothing.status == 409, nothing.text
    for role in ("staff",):  # not this staff member's booking
        assert (
            api.post(
                f"/v1/admin/bookings/{booked['id']}/payment/refund-credit",
                json_body={},
                token=salon.tenant.token(role),
            ).status
            == 404
        )


def test_a_credit_can_be_handed_back_at_the_desk(
    api: LambdaApi, lenient: tuple[Salon, dict[str, str]]
) -> None:
    salon, _ = lenient
    booking = skipped(api, salon, 9)
    owner = salon.tenant.token()
    api.post(
        f"/v1/admin/bookings/{booking['id']}/payment/offline",
        json_body={"amount_minor": 7000, "method": "card_terminal"},
        token=owner,
    )
    given = api.post(
        f"/v1/admin/bookings/{booking['id']}/payment/refund-credit", json_body={"method": "cash"}, token=owner
    )
    assert given.status == 200, given.text
    assert (given.json()["balance_minor"], given.json()["offline_payments"][-1]["kind"]) == (0, "refund")
    by_card = api.post(f"/v1/admin/bookings/{booking['id']}/payment/refund-credit", json_body={}, token=owner)
    assert by_card.status == 409  # nothing is owed back any more
