"""Fixtures the notification and delivery tests share (see tests/support/notification_wiring.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from tests.support.lambda_api import LambdaApi
from tests.support.notification_fixtures import MakeTenant, ManualClock, Salon, build_salon
from tests.support.notification_wiring import DIARY, Aws, Notifications
from tests.support.stripe_webhooks import WebhookReceiver


@pytest.fixture(scope="module")
def wiring(
    api: LambdaApi, embedded_aws: Aws, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Notifications]:
    wired = Notifications(api, embedded_aws, tmp_path_factory.mktemp("notifications"))
    yield wired
    wired.outbox.detach()
    wired.dispatcher.close()
    # leave the process's reminders function as Lambda would build it (system clock, environment sender)
    wired.handler.services.clear()


@pytest.fixture
def notifications(wiring: Notifications) -> Iterator[Notifications]:
    wiring.reset()
    yield wiring
    wiring.clean_up()


@pytest.fixture
def clock(notifications: Notifications) -> ManualClock:
    return notifications.clock


@pytest.fixture(scope="module")
def shared_salon(api: LambdaApi, make_tenant: MakeTenant) -> Salon:
    return build_salon(api, make_tenant, booking_window_days=365)


@pytest.fixture
def salon(shared_salon: Salon) -> Salon:
    return dataclasses.replace(shared_salon, offset=next(DIARY))


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    """Where the Stripe server delivers its webhooks: a small HTTP server handing them to the webhooks
    function (tests/support/stripe_webhooks.py)."""
    server = WebhookReceiver()
    yield server
    server.stop()
