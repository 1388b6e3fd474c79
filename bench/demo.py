"""The demo businesses in an in-process embedded AWS, seeded as `make dev` seeds them: with the meeting
providers' fakes and localstripe running, since the seed connects the demo's accounts through them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local.fakes.providers import start_fakes
from local.seed import seed
from local.stripe_server import start_stripe


@contextmanager
def outside_services() -> Iterator[None]:
    """The fakes and localstripe, with the environment pointing the adapters at them (enter before the
    container is built: it reads the endpoints then)."""
    fakes = start_fakes()
    os.environ.update(fakes.environment())
    stripe = start_stripe()
    os.environ.update(stripe.environment())
    try:
        yield
    finally:
        stripe.stop()
        fakes.stop()


def seed_demo(container: Any, cognito: Any, pool_id: str, data_dir: Path) -> None:
    seed(
        container.catalogue,
        container.meetings,
        container.checkout,
        container.customers,
        cognito,
        pool_id,
        data_dir,
    )
