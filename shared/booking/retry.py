"""Pauses between tries of something that lost a race or was throttled: exponential backoff with full
jitter (a random 0..min(CAP, BASE * 2**attempt) seconds), so writers that collided spread out instead of
colliding again. Used by the repositories, bookkeeping and the ledger rebuild alike."""

from __future__ import annotations

import random
import time

from booking import deadline

BASE_SECONDS = 0.01
CAP_SECONDS = 0.4


def pause_before_retry(attempt: int) -> None:
    """A random pause of 0..min(CAP_SECONDS, BASE_SECONDS * 2**attempt) seconds, never past the deadline."""
    pause = min(CAP_SECONDS, BASE_SECONDS * 2**attempt)
    time.sleep(deadline.capped(random.uniform(0, pause)))  # noqa: S311 - jitter, not a secret
