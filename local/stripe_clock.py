"""Stripe's own timers, on the dev clock: Stripe cancels a card authorisation not captured within 7 days
(`payment_intent.canceled`, cancellation_reason "automatic"), and localstripe, which runs on real time
and has no timers, learns of the dev clock's time from the dispatcher (`local/dispatcher.py`), which
calls a `StripeClock` on each of its passes (`clock_watchers`). Patch 6 (`local/stripe_patches/lapses.py`)
does the rest: `POST /_local/lapse_authorisations` stamps authorisations on the dev clock and cancels the
lapsed.

Cheap on every pass: localstripe is asked only when the dev clock moved (by `/dev/clock`, or a test)
or, as real time runs, once a minute; and never makes a pass fail: while localstripe does not answer,
it is asked again every few seconds, and the failure is logged once.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Protocol

logger = logging.getLogger("local.stripe_clock")

MOVED_SECONDS = 1.0  # the dev clock moved when its lead on real time changed by more than this
RECHECK_SECONDS = 60.0  # otherwise real time is let run this long between two questions
RETRY_SECONDS = 5.0  # after localstripe did not answer


class LapsingServer(Protocol):
    def lapse_authorisations(self, now: datetime) -> list[str]: ...


class StripeClock:
    """Called with the dev clock's now (`dispatcher.run_once` does); returns the intents that lapsed."""

    def __init__(self, server: LapsingServer, recheck_seconds: float = RECHECK_SECONDS) -> None:
        self._server = server
        self._recheck = recheck_seconds
        self._told_lead: float | None = None  # the dev clock's lead on real time localstripe last heard
        self._next_check = 0.0  # time.monotonic() before which nothing is asked unless the clock moved
        self._retry_at = 0.0  # time.monotonic() before which nothing is asked after a failure
        self._down = False

    def __call__(self, now: datetime) -> list[str]:
        lead = now.timestamp() - time.time()
        at = time.monotonic()
        moved = self._told_lead is None or abs(lead - self._told_lead) > MOVED_SECONDS
        if at < self._retry_at or (not moved and at < self._next_check):
            return []
        try:
            lapsed = self._server.lapse_authorisations(now)
        except Exception as error:  # down, restarting, or answering nonsense: never the dispatcher's problem
            if not self._down:
                logger.warning("localstripe did not answer (%s); authorisations lapse once it does", error)
            self._down = True
            self._retry_at = at + RETRY_SECONDS
            return []
        if self._down:
            logger.info("localstripe answers again")
        self._down = False
        self._told_lead = lead
        self._next_check = at + self._recheck
        if lapsed:
            logger.info("Stripe let %d authorisation(s) lapse at %s: %s", len(lapsed), now, ", ".join(lapsed))
        return lapsed
