"""Cancellation policies and refunds: the customer sees the refund the policy gives before cancelling and
then gets exactly that, through Stripe (localstripe); staff choose the policy's, a full, a custom or no
refund; a refund never exceeds what was captured; a refund is only ever what was decided, whatever events Stripe
sends about it afterwards, in any order, any number of times; a policy whose tiers overlap or leave a gap
is refused."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from booking.domain.refunds import CancellationPolicy, policy_refund
from local.stripe_server import StripeServer
from tests.support.checkout import book, detail, pay, sdk, signed, stripe_salon, wait_until
from tests.support.lambda_api import LambdaApi
from tests.support.notification_fixtures import MakeTenant, Salon
from tests.support.stripe_webhooks import WebhookReceiver, deliver

# The demo policy of the issue: 48 h or more before, everything; 24-48 h, half; less, nothing.
POLICY = {
    "tiers": [
        {"notice_hours": 48, "refund_percent": 100},
        {"notice_hours": 24, "refund_percent": 50},
        {"notice_hours": 0, "refund_percent": 0},
    ]
}


def test_every_tier_of_the_policy() -> None:
    policy = CancellationPolicy.model_validate(POLICY)
    start = datetime(2027, 3, 10, 10, 0, tzinfo=UTC)
    for hours_before, expected in [
        (72, 6500),
        (48, 6500),
        (47.9, 3250),
        (30, 3250),
        (24, 3250),
        (23.9, 0),
        (1, 0),
    ]:
        quote = policy_refund(policy, 6500, 0, start, start - timedelta(hours=hours_before))
        assert quote.amount_minor == expected, hours_before
    # never more than what is left after earlier refunds; nothing after the start
    assert policy_refund(policy, 6500, 5000, start, start - timedelta(days=3)).amount_minor == 1500
    assert policy_refund(policy, 6500, 0, start, start + timedelta(minutes=5)).amount_minor == 0
    # no policy: everything paid comes back
    assert policy_refund(None, 6500, 0, start, start - timedelta(hours=2)).amount_minor == 6500
    # half of an odd amount rounds half up to the minor unit
    assert policy_refund(policy, 6501, 0, start, start - timedelta(hours=30)).amount_minor == 3251


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        (
            [{"notice_hours": 24, "refund_percent": 50}, {"notice_hours": 24, "refund_percent": 100}],
            "overlap",
        ),
        (
            [{"notice_hours": 48, "refund_percent": 100}, {"notice_hours": 24, "refund_percent": 50}],
            "short notice",
        ),
        (
            [{"notice_hours": 48, "refund_percent": 10}, {"notice_hours": 0, "refund_percent": 50}],
            "cannot refund more",
        ),
        ([{"notice_hours": 0, "refund_percent": 101}], "100"),
    ],
)
def test_a_policy_that_overlaps_or_leaves_a_gap_is_refused_naming_the_field(
    api: LambdaApi, make_tenant: MakeTenant, tiers: list[dict[str, int]], message: str
) -> None:
    tenant = make_tenant()
    business = api.get("/v1/admin/business", token=tenant.token()).json()
    settings = {k: v for k, v in business.items() if k not in ("id", "version", "created_at", "updated_at")}
    response = api.put(
        "/v1/admin/business",
        json_body=settings | {"cancellation_policy": {"tiers": tiers}},
        token=tenant.token(),
    )
    assert response.status == 422, response.text
    assert "cancellation_policy" in json.dumps(response.json()["errors"])
    assert message in json.dumps(response.json()["errors"])
    assert api.get("/v1/admin/business", token=tenant.token()).json()["cancellation_policy"] is None


@pytest.fixture(scope="module")
def spa(
    api: LambdaApi, make_tenant: MakeTenant, stripe_server: StripeServer, receiver: WebhookReceiver
) -> tuple[Salon, dict[str, str]]:
    """Paid in full at booking, the demo policy, cancellation online until 2 hours before."""
    salon, account = stripe_salon(
        api,
        make_tenant,
        stripe_server,
        receiver.base_url,
        cancellation_policy=POLICY,
        cancellation_cutoff_hours=2,
        min_notice_minutes=0,
    )
    return salon, account


def paid_booking(
    api: LambdaApi, salon: Salon, account: dict[str, str], stripe_server: StripeServer, start: datetime
) -> dict[str, Any]:
    response = book(api, salon, start)
    assert response.status == 201, response.text
    booking: dict[str, Any] = response.json()
    pay(stripe_server, account, detail(api, salon, booking["id"])["payment"]["intent_id"])
    wait_until(api, salon, booking["id"], lambda b: b["payment_status"] == "paid")
    return booking


def refunded_at_stripe(stripe_server: StripeServer, account: dict[str, str], intent_id: str) -> list[int]:
    refunds = sdk(stripe_server, account).v1.refunds.list(params={"payment_intent": intent_id})
    return sorted(r.amount for r in refunds.data)


def test_a_customer_sees_the_quote_then_gets_exactly_that_refund(
    api: LambdaApi, spa: tuple[Salon, dict[str, str]], stripe_server: StripeServer
) -> None:
    """Three days' notice: the policy's first tier (the tiers themselves are tested above, at every
    boundary; "30 hours before refunds 50 %" among them)."""
    salon, account = spa
    booking = paid_booking(api, salon, account, stripe_server, salon.at(salon.day(4), "10:00"))
    token = booking["manage_token"]

    quote = api.get(f"/v1/public/bookings/{booking['id']}/cancellation-quote?token={token}")
    assert quote.status == 200, quote.text
    assert (quote.json()["refund"]["amount_minor"], quote.json()["percent"]) == (6500, 100)
    assert quote.json()["refundable"]["amount_minor"] == 6500
    assert api.get(f"/v1/public/bookings/{booking['id']}/cancellation-quote?token=forged").status == 401

    cancelled = api.post(f"/v1/public/bookings/{booking['id']}/cancel?token={token}", json_body={})
    assert cancelled.status == 200, cancelled.text
    after = detail(api, salon, booking["id"])
    assert (after["status"], after["payment_status"], after["payment"]["refunded_minor"]) == (
        "cancelled",
        "refunded",
        6500,
    )
    assert refunded_at_stripe(stripe_server, account, after["payment"]["intent_id"]) == [6500]
    assert [h["action"] for h in after["history"]][-1] == "refunded"
    # nothing is left to refund: the quote says so
    again = api.get(f"/v1/public/bookings/{booking['id']}/cancellation-quote?token={token}").json()
    assert (again["refund"]["amount_minor"], again["refundable"]["amount_minor"]) == (0, 0)


@pytest.mark.parametrize(
    ("choice", "refunded", "status"),
    [
        ({"refund": "full"}, 6500, "refunded"),
        ({"refund": "custom", "refund_amount_minor": 1000}, 1000, "partially_refunded"),
        ({"refund": "none"}, 0, "paid"),
    ],
)
def test_staff_choose_the_refund_when_they_cancel(
    api: LambdaApi,
    spa: tuple[Salon, dict[str, str]],
    stripe_server: StripeServer,
    choice: dict[str, Any],
    refunded: int,
    status: str,
) -> None:
    salon, account = spa
    day = {"full": 20, "custom": 21, "none": 22}[choice["refund"]]
    booking = paid_booking(api, salon, account, stripe_server, salon.at(salon.day(day), "10:00"))
    response = api.post(
        f"/v1/admin/bookings/{booking['id']}/cancel",
        json_body={"reason": "staff ill", **choice},
        token=salon.tenant.token(),
    )
    assert response.status == 200, response.text
    after = response.json()
    assert (after["status"], after["payment"]["refunded_minor"], after["payment_status"]) == (
        "cancelled",
        refunded,
        status,
    )
    assert refunded_at_stripe(stripe_server, account, after["payment"]["intent_id"]) == (
        [refunded] if refunded else []
    )


def test_a_refund_above_what_was_captured_is_refused_and_nothing_changes(
    api: LambdaApi, spa: tuple[Salon, dict[str, str]], stripe_server: StripeServer
) -> None:
    salon, account = spa
    booking = paid_booking(api, salon, account, stripe_server, salon.at(salon.day(23), "10:00"))
    for choice in ({"refund": "custom", "refund_amount_minor": 6501}, {"refund": "custom"}):
        response = api.post(
            f"/v1/admin/bookings/{booking['id']}/cancel", json_body=choice, token=salon.tenant.token()
        )
        assert response.status == 422, response.text
        assert "refund_amount_minor" in json.dumps(response.json()["errors"])
    after = detail(api, salon, booking["id"])
    assert (after["status"], after["payment_status"], after["payment"]["refunded_minor"]) == (
        "confirmed",
        "paid",
        0,
    )
    assert refunded_at_stripe(stripe_server, account, after["payment"]["intent_id"]) == []


def events_about(
    stripe_server: StripeServer, account: dict[str, str], intent_id: str
) -> list[dict[str, Any]]:
    """The events Stripe sent about the intent (its Events API: newest first), as sent."""
    listed = sdk(stripe_server, account).v1.events.list(params={"limit": 100}).to_dict()["data"]
    return [
        event
        for event in listed
        if intent_id in (event["data"]["object"].get("id"), event["data"]["object"].get("payment_intent"))
    ]


def redeliver(salon: Salon, account: dict[str, str], event: dict[str, Any], new_id: bool = False) -> str:
    """A Stripe event delivered again as Stripe would (re-signed now); with `new_id`, as another event
    about the same change. Returns the webhooks function's outcome."""
    payload = json.dumps(event | ({"id": f"evt_{secrets.token_hex(8)}"} if new_id else {})).encode()
    answer = deliver(
        f"/v1/webhooks/stripe/{salon.tenant.id}",
        {"Stripe-Signature": signed(payload, account["webhook_secret"])},
        payload,
    )
    assert answer["statusCode"] == 200, answer
    outcome: str = json.loads(answer["body"])["outcome"]
    return outcome


def test_a_policy_refund_stays_partial_whatever_stripe_sends_after_it_in_any_order(
    api: LambdaApi, spa: tuple[Salon, dict[str, str]], stripe_server: StripeServer
) -> None:
    salon, account = spa
    now = datetime.now(UTC)
    start = next(
        s
        for s in (salon.at(salon.day(d), "10:00") for d in (1, 2))
        if timedelta(hours=24) < s - now < timedelta(hours=48)
    )
    booking = paid_booking(api, salon, account, stripe_server, start)
    token = booking["manage_token"]
    cancelled = api.post(f"/v1/public/bookings/{booking['id']}/cancel?token={token}", json_body={})
    assert cancelled.status == 200, cancelled.text
    intent_id = detail(api, salon, booking["id"])["payment"]["intent_id"]

    # Stripe then sends, as after every refund: charge.refunded, refund.created, charge.refund.updated.
    def refund_events() -> list[dict[str, Any]]:
        kinds = {"charge.refunded", "refund.created", "charge.refund.updated"}
        return [e for e in events_about(stripe_server, account, intent_id) if e["type"] in kinds]

    wait_until(api, salon, booking["id"], lambda _: len(refund_events()) == 3)
    sent = refund_events()
    assert [e["type"] for e in reversed(sent)] == [
        "charge.refunded",
        "refund.created",
        "charge.refund.updated",
    ]
    # Delivered again, twice each, newest first (racing Stripe's own delivery of them); and once more each
    # as another event about the same refund.
    twice = [[redeliver(salon, account, event) for _ in range(2)] for event in sent]
    fresh = [redeliver(salon, account, event, new_id=True) for event in sent]

    assert all(second == "duplicate" for _, second in twice)
    assert {first for first, _ in twice} <= {"duplicate", "already_settled"}
    assert set(fresh) == {"already_settled"}
    after = detail(api, salon, booking["id"])
    assert (after["payment"]["captured_minor"], after["payment"]["refunded_minor"]) == (6500, 3250)
    assert after["payment_status"] == "partially_refunded"
    assert [r["amount_minor"] for r in after["payment"]["refunds"]] == [3250]
    assert refunded_at_stripe(stripe_server, account, intent_id) == [3250]
    assert [h["action"] for h in after["history"]].count("refunded") == 1


def test_a_refund_made_in_stripe_is_recorded_once_by_its_id_from_its_events(
    api: LambdaApi, spa: tuple[Salon, dict[str, str]], stripe_server: StripeServer
) -> None:
    salon, account = spa
    booking = paid_booking(api, salon, account, stripe_server, salon.at(salon.day(24), "10:00"))
    intent_id = detail(api, salon, booking["id"])["payment"]["intent_id"]
    made = sdk(stripe_server, account).v1.refunds.create(params={"payment_intent": intent_id, "amount": 1000})

    after = wait_until(api, salon, booking["id"], lambda b: b["payment"]["refunded_minor"] > 0)
    [recorded] = after["payment"]["refunds"]
    assert (recorded["id"], recorded["amount_minor"]) == (made.id, 1000)
    for event in events_about(stripe_server, account, intent_id):  # newest first: out of order
        redeliver(salon, account, event, new_id=True)
    again = detail(api, salon, booking["id"])
    assert (again["payment"]["refunded_minor"], again["payment_status"]) == (1000, "partially_refunded")
    assert refunded_at_stripe(stripe_server, account, intent_id) == [1000]
