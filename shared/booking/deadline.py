"""The time an invocation has left. Each function starts a deadline from what Lambda gives it (its
timeout); every outside call and every retry looks at it first, so none starts that could not finish in
time, and an attempt that has run out of time answers a clear "try again" (503 with Retry-After) instead
of the function being killed mid-way. Without a deadline (tests, the local stack's own calls) there is no
limit.

Used by: the booking write's retries after a lost race (adapters/dynamodb/bookings.py), the pauses between
tries (booking/retry.py), and every Stripe call (adapters/stripe_payments.py: its timeouts shrink to what is
left and it does not retry past it). AWS clients carry explicit timeouts and standard retries
(adapters/clients.py) sized to fit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from booking.domain.errors import Unavailable

RESERVE_SECONDS = 1.0  # kept back at the end to answer and log
RETRY_AFTER_SECONDS = 2

_ends: ContextVar[float | None] = ContextVar("deadline_ends", default=None)


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Everything inside must be done `seconds` from now (less RESERVE_SECONDS)."""
    token = _ends.set(time.monotonic() + max(0.0, seconds - RESERVE_SECONDS))
    try:
        yield
    finally:
        _ends.reset(token)


def remaining() -> float:
    """Seconds left (infinity without a deadline)."""
    ends = _ends.get()
    return math.inf if ends is None else ends - time.monotonic()


def require(seconds: float, what: str) -> None:
    """Raises Unavailable (503, Retry-After) unless at least `seconds` are left for `what`."""
    if remaining() < seconds:
        raise Unavailable(
            f"there was not enough time left to {what}; nothing was changed, please try again",
            RETRY_AFTER_SECONDS,
        )


def capped(seconds: float) -> float:
    """`seconds`, or what is left if that is less (never negative)."""
    return max(0.0, min(seconds, remaining()))
