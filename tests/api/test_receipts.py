"""Receipts: an email for every payment taken (online through Stripe, or at the desk) and every refund,
in the business's currency, sent from the committed change like every other message."""

from __future__ import annotations

from typing import Any

import pytest

from local.stripe_server import StripeServer
from tests.support.checkout import book, detail, pay, stripe_salon, wait_until
from tests.support.lambda_api import LambdaApi
from tests.support.notification_fixtures import MakeTenant, Salon, build_salon, emails
from tests.support.notification_wiring import Notifications, entry
from tests.support.stripe_webhooks import WebhookReceiver


@pytest.fixture(scope="module")
def paid_spa(
    api: LambdaApi, make_tenant: MakeTenant, stripe_server: StripeServer, receiver: WebhookReceiver
) -> tuple[Salon, dict[str, str]]:
    salon, account = stripe_salon(api, make_tenant, stripe_server, receiver.base_url)
    return salon, account


def receipts(sent: list[dict[str, Any]], email: str) -> list[dict[str, Any]]:
    return [m for m in emails(sent, email) if m["subject"].startswith("Receipt: ")]


def test_a_payment_and_its_refund_each_get_a_receipt(
    notifications: Notifications,
    api: LambdaApi,
    paid_spa: tuple[Salon, dict[str, str]],
    stripe_server: StripeServer,
) -> None:
    salon, account = paid_spa
    booking = book(api, salon, salon.at(salon.day(5), "10:00")).json()
    email = booking["customer"]["email"]
    pay(stripe_server, account, detail(api, salon, booking["id"])["payment"]["intent_id"])
    wait_until(api, salon, booking["id"], lambda b: b["payment_status"] == "paid")

    sent = notifications.deliver()
    [paid] = receipts(sent, email)
    assert "has received your payment of £65.00" in paid["text"]
    assert "£65.00" in paid["html"]
    assert entry(notifications.log(salon, booking["id"]), "receipt", "email")["status"] == "sent"
    assert [
        m for m in emails(sent, email) if m["subject"].startswith("Booking confirmed")
    ]  # and the confirmation

    cancelled = api.post(
        f"/v1/admin/bookings/{booking['id']}/cancel", json_body={"refund": "full"}, token=salon.tenant.token()
    )
    assert cancelled.status == 200, cancelled.text
    sent = notifications.deliver()
    refund = [m for m in receipts(sent, email) if "refunded" in m["text"]]
    assert len(refund) == 1
    assert "has refunded £65.00 to your card" in refund[0]["text"]


def test_a_payment_taken_at_the_desk_gets_a_receipt(
    notifications: Notifications, api: LambdaApi, make_tenant: MakeTenant
) -> None:
    salon = build_salon(api, make_tenant, booking_window_days=365)
    booking = api.post(
        "/v1/admin/bookings",
        json_body={
            "services": [salon.service_id],
            "staff": salon.staff_id,
            "start": salon.at(salon.day(3), "10:00").isoformat(),
            "customer": {"name": "Ada Desk", "email": "ada-desk@customers.example"},
        },
        token=salon.tenant.token(),
    ).json()
    notifications.deliver()
    api.post(
        f"/v1/admin/bookings/{booking['id']}/payment/offline",
        json_body={"amount_minor": 6500, "method": "cash"},
        token=salon.tenant.token(),
    )
    [receipt] = receipts(notifications.deliver(), "ada-desk@customers.example")
    assert "has received your payment of £65.00" in receipt["text"]
