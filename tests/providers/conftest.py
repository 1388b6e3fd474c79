"""Fixtures every provider adapter's tests use alike; each module keeps its own `fake` (its provider's
fake, run with `support.running`) and its adapter fixture."""

from __future__ import annotations

import pytest

from tests.providers.support import StepClock


@pytest.fixture
def clock() -> StepClock:
    return StepClock()
