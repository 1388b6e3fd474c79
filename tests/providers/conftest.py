"""Fixtures every provider adapter's tests use alike. A provider's own test module names its row of
contract.py as `PROVIDER`; the contract suite parametrises `provider` instead. `fake` is that provider's
fake, run for the test (None for a provider with no server), and `links` its adapter talking to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from booking.ports import MeetingLinks
from local.fakes.server import FakeServer
from tests.providers.contract import Provider
from tests.providers.support import StepClock, running


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def provider(request: pytest.FixtureRequest) -> Provider:
    found: Provider = request.module.PROVIDER
    return found


@pytest.fixture
def fake(provider: Provider, clock: StepClock) -> Iterator[FakeServer | None]:
    if provider.fake is None:
        yield None
    else:
        yield from running(provider.fake(clock))


@pytest.fixture
def links(provider: Provider, fake: FakeServer | None, clock: StepClock) -> MeetingLinks:
    return provider.adapter(fake.base_url if fake else "", clock)
