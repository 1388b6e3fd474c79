"""Authorisations lapse on the dev clock, as Stripe lets them lapse after 7 days: the local stack's
dispatcher tells localstripe the dev clock's time on its passes (`local/stripe_clock.py`), and
localstripe cancels what was authorised 7 days before (`payment_intent.canceled`, cancellation_reason
"automatic", to the registered webhooks), without the dispatcher ever failing for it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stripe

from local.aws import EmbeddedAws, LocalResources
from local.clock import DevClock
from local.dispatcher import Dispatcher
from local.stripe_clock import StripeClock
from local.stripe_server import StripeServer, start_stripe
from tests.support.stripe_endpoint import SignedEndpoint

Aws = tuple[EmbeddedAws, LocalResources]
SEVEN_DAYS = timedelta(days=7)


@pytest.fixture(scope="module")
def local() -> Iterator[StripeServer]:
    # Its own localstripe: the dev clock it is told about is this module's.
    server = start_stripe(webhook_delay=0.05, webhook_retry_pauses=(0.3,))
    yield server
    server.stop()


@pytest.fixture
def client(local: StripeServer) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_localstripe", base_addresses={"api": local.base_url}, max_network_retries=0
    )


@pytest.fixture
def clock(tmp_path: Path) -> DevClock:
    return DevClock(tmp_path)


@pytest.fixture
def dispatcher(embedded_aws: Aws, local: StripeServer, clock: DevClock) -> Iterator[Dispatcher]:
    """The local stack's dispatcher on a dev clock of the test's own, with the Stripe clock as `make dev`
    wires it; its schedules are a group of its own (nothing of the other tests' fires on this clock)."""
    aws, resources = embedded_aws
    group = f"stripe-clock-{secrets.token_hex(4)}"
    aws.client("scheduler").create_schedule_group(Name=group)
    passes = Dispatcher(
        aws,
        resources.table_name,
        group,
        clock,
        lambda event, context: None,
        kinds=frozenset(),
        clock_watchers=[StripeClock(local)],
    )
    passes.skip_to_latest()
    yield passes
    passes.close()


def authorise(client: stripe.StripeClient) -> Any:
    intent = client.v1.payment_intents.create(
        params={
            "amount": 6500,
            "currency": "gbp",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    assert intent.status == "requires_capture"
    return intent


def test_advancing_the_dev_clock_seven_days_lapses_an_authorisation(
    local: StripeServer, client: stripe.StripeClient, clock: DevClock, dispatcher: Dispatcher
) -> None:
    endpoint = SignedEndpoint(local, ["payment_intent.canceled"])
    try:
        intent = authorise(client)
        dispatcher.run_once()
        clock.advance(SEVEN_DAYS - timedelta(minutes=1))
        dispatcher.run_once()
        assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"

        clock.advance(timedelta(minutes=2))
        dispatcher.run_once()

        lapsed = client.v1.payment_intents.retrieve(intent.id)
        assert (lapsed.status, lapsed.cancellation_reason) == ("canceled", "automatic")
        [event] = endpoint.events_about(intent.id)
    finally:
        endpoint.close()
    assert event.type == "payment_intent.canceled"
    assert (event.data.object.status, event.data.object.cancellation_reason) == ("canceled", "automatic")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.capture(intent.id)


def test_an_authorisation_made_once_the_dev_clock_is_ahead_lapses_seven_dev_days_later(
    client: stripe.StripeClient, clock: DevClock, dispatcher: Dispatcher
) -> None:
    clock.advance(timedelta(days=30))
    dispatcher.run_once()  # localstripe learns the dev clock's time
    intent = authorise(client)
    dispatcher.run_once()
    clock.advance(timedelta(days=6))
    dispatcher.run_once()
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"

    clock.advance(timedelta(days=1, minutes=1))
    dispatcher.run_once()

    assert client.v1.payment_intents.retrieve(intent.id).cancellation_reason == "automatic"


def test_a_captured_or_cancelled_payment_never_lapses(
    local: StripeServer, client: stripe.StripeClient
) -> None:
    captured = client.v1.payment_intents.capture(authorise(client).id)
    cancelled = client.v1.payment_intents.cancel(
        authorise(client).id, params={"cancellation_reason": "abandoned"}
    )

    lapsed = local.lapse_authorisations(datetime.now(UTC) + timedelta(days=365))

    assert captured.id not in lapsed and cancelled.id not in lapsed
    assert client.v1.payment_intents.retrieve(captured.id).status == "succeeded"
    assert client.v1.payment_intents.retrieve(cancelled.id).cancellation_reason == "abandoned"


class _Counting:
    def __init__(self, answer: Exception | None = None) -> None:
        self.asked: list[datetime] = []
        self._answer = answer

    def lapse_authorisations(self, now: datetime) -> list[str]:
        self.asked.append(now)
        if self._answer is not None:
            raise self._answer
        return []


def test_localstripe_is_asked_only_when_the_dev_clock_moved() -> None:
    server = _Counting()
    watch = StripeClock(server, recheck_seconds=3600)
    now = datetime.now(UTC)

    watch(now)
    watch(now + timedelta(milliseconds=200))  # real time running: nothing to ask
    watch(now + timedelta(hours=1))  # the dev clock moved

    assert server.asked == [now, now + timedelta(hours=1)]


def test_the_dispatcher_carries_on_when_localstripe_is_down(embedded_aws: Aws, clock: DevClock) -> None:
    class Gone:
        base_url = "http://127.0.0.1:9"  # nothing listens there
        lapse_authorisations = StripeServer.lapse_authorisations

    down = _Counting(answer=OSError("connection refused"))
    aws, resources = embedded_aws
    group = f"stripe-clock-{secrets.token_hex(4)}"
    aws.client("scheduler").create_schedule_group(Name=group)
    passes = Dispatcher(
        aws,
        resources.table_name,
        group,
        clock,
        lambda event, context: None,
        kinds=frozenset(),
        clock_watchers=[StripeClock(Gone()), StripeClock(down)],
    )
    try:
        passes.skip_to_latest()
        passes.run_once()
        clock.advance(SEVEN_DAYS)
        passes.run_once()  # asked again only after a pause
    finally:
        passes.close()

    assert len(down.asked) == 1  # the passes went on, neither watcher's failure theirs
