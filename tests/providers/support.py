"""What the provider adapters' tests share: a clock moved by hand, a local fake run for one test, an address
where nothing listens, and the meeting a booking asks for (`spec`)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from booking.domain.meetings import MeetingSpec
from local.fakes.server import FakeServer

Fake = TypeVar("Fake", bound=FakeServer)


class StepClock:
    """A clock the test moves by hand, shared by the adapter and the fake (tokens expire by it)."""

    def __init__(self) -> None:
        self.instant = datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self.instant

    def advance(self, **delta: float) -> None:
        self.instant += timedelta(**delta)


def running(server: Fake) -> Iterator[Fake]:
    """The fake started for the test and stopped after it: `yield from running(FakeX(clock=clock))` in a
    module's `fake` fixture."""
    server.start()
    yield server
    server.stop()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # closed again: nothing listens there


def calls(fake: FakeServer, method: str, pattern: str) -> int:
    """How many requests the fake had with `method` and a path matching `pattern` whole."""
    return sum(1 for r in fake.requests if r.method == method and re.fullmatch(pattern, r.path))


def at_ten(clock: StepClock, days: int) -> datetime:
    """Ten o'clock (on the clock's UTC face) `days` days from now."""
    return (clock.now() + timedelta(days=days)).replace(hour=10, minute=0, second=0)


def meeting_spec(
    start: datetime, booking_id: str, *, minutes: int, topic: str = "Consultation with Ana"
) -> MeetingSpec:
    """The meeting a booking of tenant-1 asks for: `minutes` long from `start`, in London time."""
    return MeetingSpec(
        tenant_id="tenant-1",
        booking_id=booking_id,
        topic=topic,
        start=start,
        end=start + timedelta(minutes=minutes),
        time_zone="Europe/London",
    )


def spec(
    clock: StepClock,
    booking_id: str = "01JBOOKING0000000000000001",
    *,
    days: int = 2,
    minutes: int = 45,
    topic: str = "Consultation with Ana",
) -> MeetingSpec:
    """The meeting a booking asks for: at ten `days` from now, `minutes` long."""
    return meeting_spec(at_ten(clock, days), booking_id, minutes=minutes, topic=topic)
