"""Meeting links made late: the meeting-links state machine's retries held at a gate the test opens, so a
link arrives after a confirmation stopped waiting for it (tests/api/test_series.py, test_online_meetings.py,
whose `gate` fixtures yield from `gated_retries`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from local.fakes.providers import MeetingFakes
from local.moto import set_retry_pause
from tests.support.meetings import executions
from tests.support.notification_wiring import Notifications


def gated_retries(meeting_fakes: MeetingFakes) -> Iterator[threading.Event]:
    """The state machine's retries wait at a gate (each on its execution's thread) until the test sets it."""
    gate = threading.Event()

    def pause(_seconds: float) -> None:
        gate.wait(60)

    previous = set_retry_pause(pause)
    meeting_fakes.zoom.clear_faults()
    yield gate
    gate.set()
    set_retry_pause(previous)
    meeting_fakes.zoom.clear_faults()


def wait_for_executions(notifications: Notifications, ids: list[str], running: int) -> list[str]:
    """Waits until every booking's execution has finished but `running` (held at the gate); returns the
    bookings whose links are still being made."""
    deadline = time.monotonic() + 30
    while True:
        found = {i: executions(notifications, i) for i in ids}
        still = [i for i, listed in found.items() if any(e["status"] == "RUNNING" for e in listed)]
        if all(found.values()) and len(still) == running:
            return still
        assert time.monotonic() < deadline, found
        time.sleep(0.05)
