"""The payment lifecycle after booking, against localstripe, with the reminders function fed by the local
dispatcher on a dev clock of the test's own (as `make dev` runs it): cancelling a booking whose card was only
authorised releases the hold on the card; the business is warned once before an authorisation lapses, and
not once it was captured or released; a capture after the lapse is refused; a payment for a booking
cancelled meanwhile is refunded; an abandoned checkout is tidied by its timer (its intent cancelled, the
booking cancelled without a message), and one paid meanwhile is left to its webhook.

The local Stripe sends the events Stripe sends (local/stripe_patches/); some tests also deliver one by
hand at a chosen moment (signed as Stripe signs it), which the handler takes like any redelivery.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stripe

from booking.adapters.scheduler import whole_second
from local.clock import DevClock
from local.dispatcher import Dispatcher
from local.moto import faults
from local.stripe_server import StripeServer
from tests.support.checkout import (
    book,
    detail,
    pay,
    sdk,
    send_event,
    stripe_account,
    stripe_salon,
    wait_until,
)
from tests.support.lambda_api import LambdaApi
from tests.support.notification_fixtures import (
    MakeTenant,
    ManualClock,
    Salon,
    at_expression,
    build_salon,
    emails,
)
from tests.support.notification_wiring import Notifications, context
from tests.support.stripe_webhooks import WebhookReceiver

LAPSING = "Payment authorisation lapsing"
CONTACT = "hello@serenity.example"  # build_salon's contact address: the owner and admins read it


@dataclass
class Lifecycle:
    """The reminders function on a dev clock: `run` delivers the stream and fires every timer now due."""

    notifications: Notifications
    clock: DevClock
    dispatcher: Dispatcher

    def run(self) -> list[dict[str, Any]]:
        self.dispatcher.run_once()
        return self.notifications.sent()

    def timers(self, prefix: str, booking_id: str) -> list[dict[str, Any]]:
        scheduler, group = self.notifications.scheduler, self.notifications.resources.schedule_group
        names = [n for n in self.notifications.schedule_names() if n.startswith(f"{prefix}-{booking_id}-")]
        return [scheduler.get_schedule(Name=name, GroupName=group) for name in names]


@pytest.fixture
def lifecycle(notifications: Notifications, tmp_path: Path) -> Iterator[Lifecycle]:
    from reminders.container import Reminders

    clock = DevClock(tmp_path)
    aws, resources = notifications.aws, notifications.resources
    dispatcher = Dispatcher(
        aws, resources.table_name, resources.schedule_group, clock, notifications.handler.lambda_handler
    )
    dispatcher.skip_to_latest()
    notifications.handler.install(
        Reminders(messages=Reminders(clock=clock).messages, payments=Reminders(clock=clock).payments)
    )
    yield Lifecycle(notifications, clock, dispatcher)
    dispatcher.close()
    notifications.handler.install(notifications.default)


@pytest.fixture(scope="module")
def authorising(
    api: LambdaApi, make_tenant: MakeTenant, stripe_server: StripeServer, receiver: WebhookReceiver
) -> tuple[Salon, dict[str, str]]:
    """Authorises the card at booking, captures when staff confirm the payment (GBP 65.00)."""
    return stripe_salon(api, make_tenant, stripe_server, receiver.base_url, capture="on_staff_confirmation")


@pytest.fixture(scope="module")
def paid_spa(
    api: LambdaApi, make_tenant: MakeTenant, stripe_server: StripeServer, receiver: WebhookReceiver
) -> tuple[Salon, dict[str, str]]:
    """Takes the payment in full at booking (GBP 65.00)."""
    return stripe_salon(api, make_tenant, stripe_server, receiver.base_url)


@pytest.fixture(scope="module")
def unheard_spa(api: LambdaApi, make_tenant: MakeTenant) -> tuple[Salon, dict[str, str]]:
    """Takes the payment at booking, its webhook endpoint not registered with Stripe (yet): a payment
    stays unheard of until the test delivers its event."""
    salon = build_salon(api, make_tenant, service={"payment": {"mode": "full"}}, booking_window_days=365)
    account = stripe_account()
    connected = api.put("/v1/admin/business/payments/stripe", json_body=account, token=salon.tenant.token())
    assert connected.status == 200, connected.text
    return salon, account


def event(kind: str, intent_id: str, account: dict[str, str], salon: Salon) -> dict[str, Any]:
    """Delivers a Stripe event about the intent, signed as Stripe signs it; the webhook's answer."""
    return send_event(salon, account, kind, {"id": intent_id, "object": "payment_intent"})


def authorised_booking(
    api: LambdaApi, stripe_server: StripeServer, salon: Salon, account: dict[str, str], days: int
) -> tuple[dict[str, Any], str]:
    """A booking whose card the customer authorised, confirmed by the (signed) webhook; and its intent."""
    booking = book(api, salon, salon.at(salon.day(days), "10:00")).json()
    intent_id = detail(api, salon, booking["id"])["payment"]["intent_id"]
    pay(stripe_server, account, intent_id)
    event("payment_intent.amount_capturable_updated", intent_id, account, salon)
    authorised = wait_until(api, salon, booking["id"], lambda b: b["status"] == "confirmed")
    assert authorised["payment_status"] == "pending"
    return booking, intent_id


def actions(found: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [h for h in found["history"] if h["action"] == action]


def warnings(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in sent if str(m.get("subject", "")).startswith(LAPSING)]


# --- cancelling releases an authorisation ------------------------------------------------------------------


@pytest.mark.parametrize("by", ["staff", "customer"])
def test_cancelling_a_booking_whose_card_was_only_authorised_releases_the_hold(
    by: str,
    lifecycle: Lifecycle,
    api: LambdaApi,
    authorising: tuple[Salon, dict[str, str]],
    stripe_server: StripeServer,
) -> None:
    salon, account = authorising
    booking, intent_id = authorised_booking(
        api, stripe_server, salon, account, days=3 if by == "staff" else 4
    )
    lifecycle.run()
    if by == "staff":
        cancelled = api.post(
            f"/v1/admin/bookings/{booking['id']}/cancel",
            json_body={"reason": "staff ill"},
            token=salon.tenant.token(),
        )
    else:
        cancelled = api.post(
            f"/v1/public/bookings/{booking['id']}/cancel?token={booking['manage_token']}",
            json_body={"reason": "cannot make it"},
        )
    assert cancelled.status == 200, cancelled.text

    sent = lifecycle.run()  # the committed cancellation reaches the reminders function
    released = detail(api, salon, booking["id"])
    assert released["status"] == "cancelled"
    # Nothing was charged, so nothing was refunded: the hold on the card is gone and nothing is owed.
    assert released["payment_status"] == "not_required"
    assert (released["payment"]["captured_minor"], released["payment"]["refunded_minor"]) == (0, 0)
    [entry] = actions(released, "authorisation_released")
    assert entry["details"]["intent"] == intent_id and entry["details"]["amount_minor"] == 6500
    client = sdk(stripe_server, account)
    assert client.v1.payment_intents.retrieve(intent_id).status == "canceled"
    assert client.v1.refunds.list(params={"payment_intent": intent_id}).data == []
    mail = [m["subject"] for m in emails(sent, booking["customer"]["email"])]
    assert any(s.startswith("Booking cancelled") for s in mail), mail
    assert not any(s.startswith("Receipt") for s in mail), mail  # no refund to give a receipt for

    # nothing is left to capture, and the stream delivered again releases nothing twice
    refused = api.post(f"/v1/admin/bookings/{booking['id']}/payment/capture", token=salon.tenant.token())
    assert refused.status == 409, refused.text
    lifecycle.run()
    assert len(actions(detail(api, salon, booking["id"]), "authorisation_released")) == 1


# --- an authorisation about to lapse ---------------------------------------------------------------------


def test_the_business_is_warned_once_a_day_before_an_authorisation_lapses(
    lifecycle: Lifecycle,
    api: LambdaApi,
    authorising: tuple[Salon, dict[str, str]],
    stripe_server: StripeServer,
) -> None:
    salon, account = authorising
    booking, intent_id = authorised_booking(api, stripe_server, salon, account, days=5)
    lifecycle.run()
    expires = datetime.fromisoformat(detail(api, salon, booking["id"])["authorisation_expires_at"])
    [timer] = lifecycle.timers("pay-lapse", booking["id"])
    assert timer["ScheduleExpression"] == at_expression(whole_second(expires - timedelta(hours=24)))

    lifecycle.clock.set(expires - timedelta(hours=24, minutes=1))
    assert warnings(lifecycle.run()) == []  # not yet
    lifecycle.clock.set(expires - timedelta(hours=23, minutes=59))
    sent = warnings(lifecycle.run())
    assert sorted(to for m in sent for to in m["to"]) == sorted([salon.staff_email, CONTACT])
    [to_staff] = emails(sent, salon.staff_email)
    assert "Hi Amelia Hart" in to_staff["text"]
    assert "£65.00" in to_staff["text"] and "Confirm the payment" in to_staff["text"]
    assert f"{expires.astimezone(salon.zone):%H:%M}" in to_staff["text"]  # when it lapses, business time
    flagged = detail(api, salon, booking["id"])
    [entry] = actions(flagged, "authorisation_lapsing")
    assert entry["details"]["intent"] == intent_id
    logged = [c for c in flagged["communications"] if c["kind"] == "authorisation_lapsing"]
    assert sorted((c["recipient"], c["status"]) for c in logged) == sorted(
        [(salon.staff_email, "sent"), (CONTACT, "sent")]
    )

    # Scheduler delivers the timer again: nothing more is sent or recorded
    answer = lifecycle.notifications.handler.lambda_handler(json.loads(timer["Target"]["Input"]), context())
    assert answer["handled"] == "payment_timer"
    assert len(warnings(lifecycle.run())) == 2
    assert len(actions(detail(api, salon, booking["id"]), "authorisation_lapsing")) == 1
    # the payment is still there to take
    captured = api.post(f"/v1/admin/bookings/{booking['id']}/payment/capture", token=salon.tenant.token())
    assert captured.status == 200, captured.text


def test_a_warning_the_provider_refused_is_sent_by_its_retry_timer(
    lifecycle: Lifecycle,
    api: LambdaApi,
    authorising: tuple[Salon, dict[str, str]],
    stripe_server: StripeServer,
) -> None:
    """The contact address is no staff member: its retry is rendered by the payment timers, not by the
    notification service (which only knows staff by id)."""
    salon, account = authorising
    booking, _ = authorised_booking(api, stripe_server, salon, account, days=9)
    lifecycle.run()
    expires = datetime.fromisoformat(detail(api, salon, booking["id"])["authorisation_expires_at"])
    faults.refuse_to = {CONTACT}  # SES throttles the business's address
    try:
        lifecycle.clock.set(expires - timedelta(hours=23, minutes=59))
        assert [m["to"] for m in warnings(lifecycle.run())] == [[salon.staff_email]]
        [retrying] = [
            c
            for c in detail(api, salon, booking["id"])["communications"]
            if c["kind"] == "authorisation_lapsing" and c["recipient"] == CONTACT
        ]
        assert (retrying["status"], retrying["attempts"]) == ("retrying", 1)
    finally:
        faults.refuse_to = set()  # SES recovers

    lifecycle.clock.set(datetime.fromisoformat(retrying["next_attempt_at"]) + timedelta(seconds=1))
    assert sorted(to for m in warnings(lifecycle.run()) for to in m["to"]) == sorted(
        [salon.staff_email, CONTACT]
    )
    [to_contact] = emails(lifecycle.notifications.sent(), CONTACT)
    assert "Hi Serenity Day Spa" in to_contact["text"]


@pytest.mark.parametrize("first", ["captured", "cancelled"])
def test_no_warning_once_the_payment_was_captured_or_the_booking_cancelled(
    first: str,
    lifecycle: Lifecycle,
    api: LambdaApi,
    authorising: tuple[Salon, dict[str, str]],
    stripe_server: StripeServer,
) -> None:
    salon, account = authorising
    booking, _ = authorised_booking(api, stripe_server, salon, account, days=6 if first == "captured" else 7)
    lifecycle.run()
    expires = datetime.fromisoformat(detail(api, salon, booking["id"])["authorisation_expires_at"])
    path = "payment/capture" if first == "captured" else "cancel"
    done = api.post(f"/v1/admin/bookings/{booking['id']}/{path}", json_body={}, token=salon.tenant.token())
    assert done.status == 200, done.text
    lifecycle.run()

    lifecycle.clock.set(expires - timedelta(hours=23))
    assert warnings(lifecycle.run()) == []
    assert lifecycle.timers("pay-lapse", booking["id"]) == []  # it fired, and found nothing to do
    assert actions(detail(api, salon, booking["id"]), "authorisation_lapsing") == []


def test_a_capture_after_the_authorisation_lapsed_is_refused_and_changes_nothing(
    api: LambdaApi, authorising: tuple[Salon, dict[str, str]], stripe_server: StripeServer
) -> None:
    """The webhook runs on a clock 8 days back, so the authorisation it records is 8 days old."""
    from webhooks import handler as webhooks
    from webhooks.container import build_payment_events, build_zoom_webhooks

    salon, account = authorising
    webhooks.install(
        build_zoom_webhooks(), build_payment_events(clock=ManualClock(datetime.now(UTC) - timedelta(days=8)))
    )
    try:
        booking, intent_id = authorised_booking(api, stripe_server, salon, account, days=8)
    finally:
        webhooks.install(build_zoom_webhooks())
    before = detail(api, salon, booking["id"])
    assert datetime.fromisoformat(before["authorisation_expires_at"]) < datetime.now(UTC)

    refused = api.post(f"/v1/admin/bookings/{booking['id']}/payment/capture", token=salon.tenant.token())
    assert refused.status == 409, refused.text
    assert "lapsed" in refused.json()["detail"]
    assert detail(api, salon, booking["id"]) == before
    assert sdk(stripe_server, account).v1.payment_intents.retrieve(intent_id).status == "requires_capture"


def test_an_authorisation_stripe_lets_lapse_leaves_the_booking_standing_but_unpaid(
    api: LambdaApi, authorising: tuple[Salon, dict[str, str]], stripe_server: StripeServer
) -> None:
    salon, account = authorising
    booking, intent_id = authorised_booking(api, stripe_server, salon, account, days=10)
    # After 7 days Stripe cancels the uncaptured intent itself and says so with payment_intent.canceled.
    sdk(stripe_server, account).v1.payment_intents.cancel(intent_id)
    assert event("payment_intent.canceled", intent_id, account, salon)["outcome"] in (
        "authorisation_lapsed",
        "duplicate",
    )
    lapsed = wait_until(api, salon, booking["id"], lambda b: b["payment_status"] == "unpaid")
    assert lapsed["status"] == "confirmed"  # the appointment stands; the business collects another way
    assert "lapsed" in lapsed["payment"]["failure"]
    assert len(actions(lapsed, "authorisation_lapsed")) == 1
    refused = api.post(f"/v1/admin/bookings/{booking['id']}/payment/capture", token=salon.tenant.token())
    assert refused.status == 409


# --- payments for cancelled bookings ------------------------------------------------------------------------


def test_a_payment_for_a_booking_cancelled_meanwhile_is_refunded_and_it_stays_cancelled(
    api: LambdaApi, paid_spa: tuple[Salon, dict[str, str]], stripe_server: StripeServer
) -> None:
    """The customer pays in a tab left open after staff cancelled the booking awaiting its payment."""
    salon, account = paid_spa
    booking = book(api, salon, salon.at(salon.day(3), "11:00")).json()
    intent_id = detail(api, salon, booking["id"])["payment"]["intent_id"]
    cancelled = api.post(
        f"/v1/admin/bookings/{booking['id']}/cancel", json_body={}, token=salon.tenant.token()
    )
    assert cancelled.status == 200, cancelled.text

    pay(stripe_server, account, intent_id)
    refunded = wait_until(api, salon, booking["id"], lambda b: b["payment_status"] == "refunded")
    assert refunded["status"] == "cancelled"
    assert refunded["payment"]["refunded_minor"] == 6500
    refunds = sdk(stripe_server, account).v1.refunds.list(params={"payment_intent": intent_id})
    assert [r.amount for r in refunds.data] == [6500]


def test_cancelling_a_booking_awaiting_payment_cancels_its_intent(
    lifecycle: Lifecycle, api: LambdaApi, paid_spa: tuple[Salon, dict[str, str]], stripe_server: StripeServer
) -> None:
    salon, account = paid_spa
    booking = book(api, salon, salon.at(salon.day(4), "11:00")).json()
    intent_id = detail(api, salon, booking["id"])["payment"]["intent_id"]
    lifecycle.run()
    cancelled = api.post(
        f"/v1/admin/bookings/{booking['id']}/cancel", json_body={}, token=salon.tenant.token()
    )
    assert cancelled.status == 200, cancelled.text
    lifecycle.run()

    assert sdk(stripe_server, account).v1.payment_intents.retrieve(intent_id).status == "canceled"
    with pytest.raises(stripe.StripeError):
        pay(stripe_server, account, intent_id)  # the open checkout can no longer take the money
    assert detail(api, salon, booking["id"])["payment_status"] == "unpaid"


# --- an abandoned checkout -------------------------------------------------------------------------------


def test_an_abandoned_checkout_is_cancelled_with_its_intent_and_without_a_message(
    lifecycle: Lifecycle, api: LambdaApi, paid_spa: tuple[Salon, dict[str, str]], stripe_server: StripeServer
) -> None:
    salon, account = paid_spa
    booking = book(api, salon, salon.at(salon.day(5), "11:00")).json()
    waiting = detail(api, salon, booking["id"])
    intent_id = waiting["payment"]["intent_id"]
    hold = datetime.fromisoformat(waiting["hold_expires_at"])
    lifecycle.run()
    [timer] = lifecycle.timers("pay-hold", booking["id"])
    assert timer["ScheduleExpression"] == at_expression(whole_second(hold + timedelta(minutes=5)))

    lifecycle.clock.set(hold + timedelta(minutes=4))
    lifecycle.run()
    assert detail(api, salon, booking["id"])["status"] == "pending"  # not yet
    lifecycle.clock.set(hold + timedelta(minutes=5, seconds=1))
    sent = lifecycle.run()

    tidied = detail(api, salon, booking["id"])
    assert tidied["status"] == "cancelled"
    assert tidied["cancellation_reason"] == "the payment was not completed in time"
    assert tidied["payment_status"] == "unpaid"
    [entry] = actions(tidied, "checkout_abandoned")
    assert (entry["from_status"], entry["to_status"]) == ("pending", "cancelled")
    assert sdk(stripe_server, account).v1.payment_intents.retrieve(intent_id).status == "canceled"
    # never confirmed, never announced: nobody is told it ended
    assert emails(sent, booking["customer"]["email"]) == []
    assert emails(sent, salon.staff_email) == []


def test_the_checkout_timer_leaves_a_checkout_paid_meanwhile_to_its_webhook(
    lifecycle: Lifecycle,
    api: LambdaApi,
    unheard_spa: tuple[Salon, dict[str, str]],
    stripe_server: StripeServer,
) -> None:
    """Paid at Stripe, its webhook not yet arrived when the timer fires: the intent is read again there."""
    salon, account = unheard_spa
    booking = book(api, salon, salon.at(salon.day(6), "11:00")).json()
    waiting = detail(api, salon, booking["id"])
    intent_id = waiting["payment"]["intent_id"]
    lifecycle.run()
    pay(stripe_server, account, intent_id)

    lifecycle.clock.set(datetime.fromisoformat(waiting["hold_expires_at"]) + timedelta(minutes=6))
    lifecycle.run()
    still = detail(api, salon, booking["id"])
    assert (still["status"], still["payment_status"]) == ("pending", "unpaid")
    assert actions(still, "checkout_abandoned") == []
    assert sdk(stripe_server, account).v1.payment_intents.retrieve(intent_id).status == "succeeded"

    assert event("payment_intent.succeeded", intent_id, account, salon)["outcome"] == "confirmed"
    confirmed = detail(api, salon, booking["id"])
    assert (confirmed["status"], confirmed["payment_status"]) == ("confirmed", "paid")
