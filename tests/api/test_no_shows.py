"""No-shows under the business's policy: the card kept on file (saved by a SetupIntent at booking) is
charged the fee off-session, a deposit paid at booking is kept, a card that declines or needs its owner's
authentication ends as a visible failed fee the customer can pay through the manage link, and the customer
is blocked when the policy says so.

The API cannot book the past (rightly): a booking whose appointment has begun is written with the real
DynamoDB adapter, carrying a card saved at localstripe exactly as the booking flow saves it (that flow is
tested first, here too)."""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from ulid import ULID

from booking.adapters.dynamodb.bookings import DynamoBookingRepository
from booking.adapters.system import SystemClock
from booking.domain.booking import (
    Actor,
    BookedService,
    Booking,
    BookingStatus,
    CustomerDetails,
    HistoryEntry,
    Payment,
)
from local.aws import LocalResources
from local.stripe_server import StripeServer
from tests.support.checkout import (
    book,
    detail,
    pay,
    sdk,
    send_event,
    stripe_salon,
    wait_until,
)
from tests.support.lambda_api import LambdaApi
from tests.support.notification_fixtures import MakeTenant, Salon, emails
from tests.support.notification_wiring import Notifications
from tests.support.stripe_webhooks import WebhookReceiver

FEE = {"keep_payment": True, "fee_minor": 2000}
EARLIER = itertools.count()


def spa_with(
    api: LambdaApi,
    make_tenant: MakeTenant,
    stripe_server: StripeServer,
    receiver: WebhookReceiver,
    policy: dict[str, Any] | None,
    rule: str = "card_on_file",
) -> tuple[Salon, dict[str, str]]:
    return stripe_salon(api, make_tenant, stripe_server, receiver.base_url, rule, no_show_policy=policy)


@pytest.fixture(scope="module")
def card_spa(
    api: LambdaApi, make_tenant: MakeTenant, stripe_server: StripeServer, receiver: WebhookReceiver
) -> tuple[Salon, dict[str, str]]:
    return spa_with(api, make_tenant, stripe_server, receiver, FEE)


def saved_card(stripe_server: StripeServer, account: dict[str, str], card: str = "pm_card_visa") -> Payment:
    """A card saved on its own Stripe Customer by a confirmed SetupIntent, as the booking flow saves it."""
    client = sdk(stripe_server, account)
    if not card.startswith("pm_"):  # a test card number (e.g. one that always needs 3-D Secure)
        card = client.v1.payment_methods.create(
            params={"type": "card", "card": {"number": card, "exp_month": 12, "exp_year": 2035, "cvc": "123"}}
        ).id
    customer = client.v1.customers.create(params={"email": "nora@customers.example"})
    params: Any = {"customer": customer.id, "payment_method_types": ["card"], "usage": "off_session"}
    setup = client.v1.setup_intents.create(params=params)
    confirmed = client.v1.setup_intents.confirm(setup.id, params={"payment_method": card})
    return Payment(
        kind="card_on_file",
        intent_id=setup.id,
        amount_minor=0,
        currency="GBP",
        customer_ref=customer.id,
        saved_card=str(confirmed.payment_method),
    )


def booking_that_began(resources: LocalResources, salon: Salon, payment: Payment | None, status: str) -> str:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    # Each an hour and a half before the last: the module's bookings share one staff member's diary.
    start = now - timedelta(minutes=30 + now.minute % 5 + 90 * next(EARLIER))
    booking = Booking(
        id=str(ULID()),
        tenant_id=salon.tenant.id,
        status=BookingStatus.CONFIRMED,
        start=start,
        end=start + timedelta(minutes=60),
        occupied_start=start,
        occupied_end=start + timedelta(minutes=60),
        staff_id=salon.staff_id,
        services=[
            BookedService(id=salon.service_id, name="Swedish massage", duration_minutes=60, price_minor=6500)
        ],
        total_minor=6500,
        currency="GBP",
        customer=CustomerDetails(name="Nora No-Show", email=f"nora-{secrets.token_hex(3)}@customers.example"),
        payment=payment,
        payment_status=status,
        tax_rate_basis_points=2000,
        created_at=now - timedelta(days=7),
        updated_at=now - timedelta(days=7),
    )
    entry = HistoryEntry(
        at=booking.created_at, actor=Actor(kind="customer", id=booking.customer.email), action="created"
    )
    DynamoBookingRepository(boto3.client("dynamodb"), resources.table_name, SystemClock()).save(
        booking, None, entry
    )
    return booking.id


def mark_no_show(api: LambdaApi, salon: Salon, booking_id: str) -> dict[str, Any]:
    response = api.post(
        f"/v1/admin/bookings/{booking_id}/status", json_body={"status": "no_show"}, token=salon.tenant.token()
    )
    assert response.status == 200, response.text
    assert response.json()["status"] == "no_show"
    return detail(api, salon, booking_id)


def test_a_card_on_file_is_saved_when_stripe_says_the_setup_succeeded(
    api: LambdaApi, card_spa: tuple[Salon, dict[str, str]], stripe_server: StripeServer
) -> None:
    salon, account = card_spa
    answer = book(api, salon, salon.at(salon.day(4), "10:00"))
    assert answer.status == 201, answer.text
    assert answer.json()["checkout"]["kind"] == "card_on_file"
    booking_id = answer.json()["id"]
    payment = detail(api, salon, booking_id)["payment"]
    assert payment["customer_ref"].startswith("cus_")  # its own Stripe Customer: off-session needs one
    client = sdk(stripe_server, account)
    setup = client.v1.setup_intents.retrieve(payment["intent_id"])
    assert setup.customer == payment["customer_ref"] and setup.usage == "off_session"

    client.v1.setup_intents.confirm(payment["intent_id"], params={"payment_method": "pm_card_visa"})
    # Stripe now sends setup_intent.succeeded; localstripe does not (a gap): delivered as Stripe signs it.
    outcome = send_event(
        salon, account, "setup_intent.succeeded", {"id": payment["intent_id"], "object": "setup_intent"}
    )
    assert outcome["outcome"] == "confirmed"
    confirmed = wait_until(api, salon, booking_id, lambda b: b["status"] == "confirmed")
    assert confirmed["payment"]["saved_card"].startswith("pm_")
    assert confirmed["payment_status"] == "not_required"  # nothing charged: the card is kept for fees


def test_a_no_show_is_charged_the_fee_on_the_card_on_file(
    api: LambdaApi,
    card_spa: tuple[Salon, dict[str, str]],
    stripe_server: StripeServer,
    resources: LocalResources,
) -> None:
    salon, account = card_spa
    booking_id = booking_that_began(resources, salon, saved_card(stripe_server, account), "not_required")
    after = mark_no_show(api, salon, booking_id)
    [fee] = after["fees"]
    assert (fee["kind"], fee["status"], fee["amount_minor"]) == ("no_show", "charged", 2000)
    charged = sdk(stripe_server, account).v1.payment_intents.retrieve(fee["intent_id"])
    assert (charged.status, charged.amount, charged.customer) == (
        "succeeded",
        2000,
        after["payment"]["customer_ref"],
    )
    assert charged.metadata["purpose"] == "no_show_fee"
    applied = after["history"][-1]
    assert applied["action"] == "no_show_policy_applied"
    assert applied["details"]["fee"] == "charged"

    # Marking it again is refused by the lifecycle: the fee is never charged twice.
    again = api.post(
        f"/v1/admin/bookings/{booking_id}/status", json_body={"status": "no_show"}, token=salon.tenant.token()
    )
    assert again.status == 409
    assert len(detail(api, salon, booking_id)["fees"]) == 1


def test_a_declined_fee_is_recorded_and_the_customer_can_pay_it_through_the_manage_link(
    notifications: Notifications,
    api: LambdaApi,
    card_spa: tuple[Salon, dict[str, str]],
    stripe_server: StripeServer,
    resources: LocalResources,
    container: Any,
) -> None:
    salon, account = card_spa
    on_file = saved_card(stripe_server, account, "pm_card_chargeCustomerFail")  # saves, then declines charges
    booking_id = booking_that_began(resources, salon, on_file, "not_required")
    after = mark_no_show(api, salon, booking_id)
    [fee] = after["fees"]
    assert (fee["status"], fee["amount_minor"]) == ("failed", 2000)
    assert "declined" in fee["failure"]
    assert fee["failure_kind"] == "declined"
    assert after["status"] == "no_show"  # the no-show stands whatever the card does
    assert (after["payment_status"], after["balance_minor"]) == ("unpaid", 2000)  # the fee is owed
    [told] = [
        m
        for m in emails(notifications.deliver(), after["customer"]["email"])
        if "Payment due" in m["subject"]
    ]
    assert "a fee of £20.00 is due" in told["text"]
    assert "the card you saved when booking was declined" in told["text"]
    # Owed, so invoiced at once: the fee on an invoice of its own.
    [owed] = api.get(f"/v1/admin/bookings/{booking_id}/documents", token=salon.tenant.token()).json()[
        "documents"
    ]
    assert (owed["kind"], owed["total_minor"], owed["balance_at_issue_minor"]) == ("invoice", 2000, 2000)
    assert (
        f"/bookings/{booking_id}?token=" in told["text"]
    )  # the manage link, where the widget takes the payment

    token = container.manage_links._tokens.issue(salon.tenant.id, booking_id, 0)
    due = api.post(f"/v1/public/bookings/{booking_id}/payment?token={token}", json_body={})
    assert due.status == 200, due.text
    assert (due.json()["purpose"], due.json()["amount"]["amount_minor"]) == ("no_show_fee", 2000)
    intent_id = due.json()["client_secret"].split("_secret_")[0]
    again = api.post(f"/v1/public/bookings/{booking_id}/payment?token={token}", json_body={})
    assert again.json()["client_secret"] == due.json()["client_secret"]  # the same intent, not a second one

    pay(stripe_server, account, intent_id)  # the customer pays with a working card; Stripe's webhook follows
    paid = wait_until(api, salon, booking_id, lambda b: b["fees"][0]["status"] == "charged")
    assert paid["fees"][0]["intent_id"] == intent_id
    assert any(h["action"] == "fee_paid" for h in paid["history"])
    assert (paid["payment_status"], paid["balance_minor"]) == ("paid", 0)
    settled = api.post(f"/v1/public/bookings/{booking_id}/payment?token={token}", json_body={})
    assert settled.status == 409  # nothing is owed any more


def test_a_card_that_needs_authentication_off_session_ends_as_a_failed_fee(
    api: LambdaApi,
    card_spa: tuple[Salon, dict[str, str]],
    stripe_server: StripeServer,
    resources: LocalResources,
) -> None:
    salon, account = card_spa
    on_file = saved_card(stripe_server, account, "4000002760003184")  # always asks for 3-D Secure
    booking_id = booking_that_began(resources, salon, on_file, "not_required")
    [fee] = mark_no_show(api, salon, booking_id)["fees"]
    assert fee["status"] == "failed"
    assert "authenticate" in fee["failure"]
    assert fee["failure_kind"] == "authentication_required"


def test_a_fee_with_no_card_on_file_says_so_and_is_owed(
    notifications: Notifications,
    api: LambdaApi,
    card_spa: tuple[Salon, dict[str, str]],
    resources: LocalResources,
) -> None:
    salon, _ = card_spa
    booking_id = booking_that_began(resources, salon, None, "not_required")  # booked with nothing saved
    after = mark_no_show(api, salon, booking_id)
    [fee] = after["fees"]
    assert (fee["status"], fee["failure_kind"]) == ("failed", "no_card")
    assert (after["payment_status"], after["balance_minor"]) == ("unpaid", 2000)
    [told] = [
        m
        for m in emails(notifications.deliver(), after["customer"]["email"])
        if "Payment due" in m["subject"]
    ]
    assert "no card was saved with your booking" in told["text"]
    assert "card you saved" not in told["text"]
    invoice = api.get(f"/v1/admin/bookings/{booking_id}/invoice?format=html", token=salon.tenant.token())
    assert invoice.status == 200 and "No-show fee" in invoice.text and "Due" in invoice.text


def test_a_deposit_paid_at_booking_is_kept_and_nothing_more_is_charged(
    api: LambdaApi, card_spa: tuple[Salon, dict[str, str]], resources: LocalResources
) -> None:
    salon, _ = card_spa
    deposit = Payment(
        kind="charge",
        intent_id="pi_deposit_paid_last_week",
        amount_minor=2500,
        currency="GBP",
        captured_minor=2500,
    )
    booking_id = booking_that_began(resources, salon, deposit, "paid")
    [fee] = mark_no_show(api, salon, booking_id)["fees"]
    assert (fee["status"], fee["amount_minor"], fee["intent_id"]) == ("kept", 2500, None)


def test_the_policy_can_block_the_customer_and_no_policy_changes_nothing(
    api: LambdaApi,
    make_tenant: MakeTenant,
    stripe_server: StripeServer,
    receiver: WebhookReceiver,
    resources: LocalResources,
) -> None:
    blocking, account = spa_with(
        api,
        make_tenant,
        stripe_server,
        receiver,
        {"keep_payment": False, "fee_percent": 50, "block_customer": True},
    )
    booking_id = booking_that_began(resources, blocking, saved_card(stripe_server, account), "not_required")
    after = mark_no_show(api, blocking, booking_id)
    assert [(f["status"], f["amount_minor"]) for f in after["fees"]] == [("charged", 3250)]  # half of 65.00
    email = after["customer"]["email"]
    profile = api.get(f"/v1/admin/customers/{email}", token=blocking.tenant.token()).json()
    assert profile["profile"]["blocked"] is True

    lenient, account = spa_with(api, make_tenant, stripe_server, receiver, None)
    booking_id = booking_that_began(resources, lenient, saved_card(stripe_server, account), "not_required")
    after = mark_no_show(api, lenient, booking_id)
    assert after["fees"] == []
    assert after["history"][-1]["action"] != "no_show_policy_applied"


def test_a_policy_with_two_kinds_of_fee_is_refused(
    api: LambdaApi, card_spa: tuple[Salon, dict[str, str]]
) -> None:
    salon, _ = card_spa
    before = api.get("/v1/admin/business", token=salon.tenant.token()).json()
    body = {
        "name": before["name"],
        "slug": before["slug"],
        "time_zone": before["time_zone"],
        "currency": before["currency"],
        "no_show_policy": {"fee_minor": 1000, "fee_percent": 10},
    }
    response = api.put("/v1/admin/business", json_body=body, token=salon.tenant.token())
    assert response.status == 422, response.text
    assert "no_show_policy" in response.text
    assert api.get("/v1/admin/business", token=salon.tenant.token()).json() == before
