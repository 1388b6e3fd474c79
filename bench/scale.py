"""(e) Thousands of bookings into one local stack: booking latency and the dev server's resident memory,
step by step. The embedded AWS used to copy the whole table for every item of every transaction and keep
every copy, so both grew with each booking; issue 7's targets are a flat p50 and bounded memory.

Through the public API, one thread, each booking its own customer and Idempotency-Key, with a named staff
member at a start the availability offered for them (spaced so bookings never collide). The demo spa's
booking window is widened first (admin API), so 2,000 bookings fit. The dispatcher runs meanwhile, as in
`make dev`: every booking's confirmation, SMS, staff notice and two reminder schedules are part of the load.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from bench.api import SERVICE_NAME, SLUG, ZONE, _service_id
from bench.stack import LocalStack
from bench.stats import Summary, summarize

HTTP_TIMEOUT_SECONDS = 30
SPACING_MINUTES = 30
DRAIN_LIMIT_SECONDS = 900


@dataclass(frozen=True)
class Step:
    bookings: int  # made so far, at the end of this step
    timings: Summary  # of this step's bookings
    rss_mb: float  # the dev server's resident memory at the end of this step


@dataclass(frozen=True)
class ScaleResult:
    total: int
    step: int
    rss_start_mb: float
    steps: list[Step]
    failed: int
    wall_seconds: float
    confirmations: int  # confirmation emails in the outbox at the end
    drain_seconds: float  # after the last booking, until the dispatcher had sent every confirmation

    @property
    def p50_ratio(self) -> float:
        return self.steps[-1].timings.p50_ms / self.steps[0].timings.p50_ms

    @property
    def rss_growth_mb(self) -> float:
        return self.steps[-1].rss_mb - self.rss_start_mb


def _owner_token(session: requests.Session, base: str) -> str:
    demo = session.get(f"{base}/dev/demo", timeout=HTTP_TIMEOUT_SECONDS).json()
    [spa] = [b for b in demo["businesses"] if b["slug"] == SLUG]
    return str(spa["users"]["owner"]["token"])


def _widen_booking_window(session: requests.Session, base: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    settings = session.get(f"{base}/v1/admin/business", headers=headers, timeout=HTTP_TIMEOUT_SECONDS).json()
    editable = {k: v for k, v in settings.items() if k not in ("id", "version", "created_at", "updated_at")}
    response = session.put(
        f"{base}/v1/admin/business",
        json={**editable, "booking_window_days": 730},
        headers=headers,
        timeout=HTTP_TIMEOUT_SECONDS,
    )
    response.raise_for_status()


def plan(
    session: requests.Session, base: str, service_id: str, first: date, count: int
) -> list[tuple[str, str]]:
    """`count` (start, staff id) pairs the availability offers, one month at a time, each staff member's
    bookings spaced so that none can collide."""
    planned: list[tuple[str, str]] = []
    free_from: dict[str, datetime] = {}
    month = first
    while len(planned) < count:
        response = session.get(
            f"{base}/v1/public/businesses/{SLUG}/availability",
            params={
                "services": service_id,
                "staff": "any",
                "from": month.isoformat(),
                "to": (month + timedelta(days=30)).isoformat(),
                "tz": ZONE,
            },
            timeout=HTTP_TIMEOUT_SECONDS,
        )
        response.raise_for_status()
        days = response.json()["days"]
        if not days and month > first + timedelta(days=700):
            raise RuntimeError(f"only {len(planned)} bookable times in the booking window; wanted {count}")
        for day in days:
            for slot in day["slots"]:
                start, end = datetime.fromisoformat(slot["start"]), datetime.fromisoformat(slot["end"])
                for staff in slot["staff_ids"]:
                    if start >= free_from.get(staff, start):
                        planned.append((slot["start"], staff))
                        free_from[staff] = end + timedelta(minutes=SPACING_MINUTES)
                        break
        month += timedelta(days=31)
    return planned[:count]


def run(total: int = 2000, step: int = 200) -> ScaleResult:
    with LocalStack() as stack, requests.Session() as session:
        base = stack.base_url
        service_id = _service_id(session, base)
        _widen_booking_window(session, base, _owner_token(session, base))
        first = datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=2)
        jobs = plan(session, base, service_id, first, total)
        time.sleep(2)  # let the dispatcher finish the set-up's work before measuring memory
        rss_start = stack.rss_mb()
        run_id = uuid.uuid4().hex[:8]
        steps: list[Step] = []
        latencies: list[float] = []
        failed = 0
        started = time.perf_counter()
        for n, (start, staff) in enumerate(jobs, 1):
            body: dict[str, Any] = {
                "services": [service_id],
                "staff": staff,
                "start": start,
                "customer": {
                    "name": f"Scale {n}",
                    "email": f"scale-{run_id}-{n}@example.com",
                    "phone": "+447911123456",
                },
            }
            began = time.perf_counter()
            response = session.post(
                f"{base}/v1/public/businesses/{SLUG}/bookings",
                json=body,
                headers={"Idempotency-Key": f"scale-{run_id}-{n}"},
                timeout=HTTP_TIMEOUT_SECONDS,
            )
            latencies.append(time.perf_counter() - began)
            failed += response.status_code != 201
            if n % step == 0:
                steps.append(Step(n, summarize(latencies), stack.rss_mb()))
                latencies = []
        wall = time.perf_counter() - started
        confirmations, drained = _wait_for_confirmations(stack, run_id, total - failed)
        return ScaleResult(total, step, rss_start, steps, failed, wall, confirmations, drained)


def _wait_for_confirmations(stack: LocalStack, run_id: str, expected: int) -> tuple[int, float]:
    """Confirmations in the outbox file once the dispatcher has caught up (or the wait ran out), and how
    long after the last booking that was."""
    started = time.perf_counter()
    outbox = stack.data_dir / "outbox.jsonl"
    while True:
        lines = outbox.read_text(encoding="utf-8").splitlines() if outbox.exists() else []
        entries = [json.loads(line) for line in lines if line.endswith("}")]
        found = sum(
            1
            for m in entries
            if (m.get("subject") or "").startswith(f"Booking confirmed: {SERVICE_NAME}")
            and m["to"][0].startswith(f"scale-{run_id}-")
        )
        waited = time.perf_counter() - started
        if found >= expected or waited > DRAIN_LIMIT_SECONDS:
            return found, waited
        time.sleep(2)
