"""(b) availability and (c) booking creation over HTTP against the local stack, on the seeded demo spa."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from bench.stack import LocalStack
from bench.stats import Summary, summarize

SLUG = "serenity-spa"
SERVICE_NAME = "Swedish massage"
ZONE = "Europe/London"
HTTP_TIMEOUT_SECONDS = 30
# Picked booking times keep this far apart (beyond the slot's own end), more than any demo buffer, so a
# benchmark booking never takes the time another one was planned for.
SPACING_MINUTES = 30


@dataclass(frozen=True)
class AvailabilityResult:
    timings: Summary
    slots: int
    days: int
    response_bytes: int
    first: date
    last: date


@dataclass(frozen=True)
class BookingResult:
    label: str
    timings: Summary
    created: int
    failed: dict[str, int]  # "status: title" -> count
    wall_seconds: float
    threads: int

    @property
    def per_second(self) -> float:
        return self.created / self.wall_seconds if self.wall_seconds else 0.0


@dataclass(frozen=True)
class ApiResults:
    startup_seconds: float
    availability: AvailabilityResult
    bookings: list[BookingResult]


def next_monday(today: date) -> date:
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def _service_id(session: requests.Session, base_url: str) -> str:
    response = session.get(f"{base_url}/v1/public/businesses/{SLUG}/services", timeout=HTTP_TIMEOUT_SECONDS)
    response.raise_for_status()
    for category in response.json()["categories"]:
        for service in category["services"]:
            if service["name"] == SERVICE_NAME:
                return str(service["id"])
    raise LookupError(f"the seeded demo has no service called {SERVICE_NAME!r}")


def _availability_url(base_url: str, service_id: str, first: date, last: date) -> str:
    return (
        f"{base_url}/v1/public/businesses/{SLUG}/availability?services={service_id}&staff=any"
        f"&from={first.isoformat()}&to={last.isoformat()}&tz={ZONE}"
    )


def _get_availability(session: requests.Session, url: str) -> requests.Response:
    response = session.get(url, timeout=HTTP_TIMEOUT_SECONDS)
    if response.status_code != 200:
        raise RuntimeError(f"availability answered {response.status_code}: {response.text[:500]}")
    return response


def measure_availability(
    session: requests.Session, base_url: str, service_id: str, first: date, runs: int, warmup: int = 5
) -> AvailabilityResult:
    last = first + timedelta(days=30)
    url = _availability_url(base_url, service_id, first, last)
    for _ in range(warmup):
        _get_availability(session, url)
    timings = []
    response: requests.Response | None = None
    for _ in range(runs):
        started = time.perf_counter()
        response = _get_availability(session, url)
        timings.append(time.perf_counter() - started)
    assert response is not None
    days = response.json()["days"]
    return AvailabilityResult(
        timings=summarize(timings),
        slots=sum(len(day["slots"]) for day in days),
        days=len(days),
        response_bytes=len(response.content),
        first=first,
        last=last,
    )


def pick_starts(session: requests.Session, base_url: str, service_id: str, first: date, count: int) -> list[str]:
    """`count` free starts from the availability of the 31 days from `first`, far enough apart that
    booking them in any order (with any free staff member) never collides."""
    url = _availability_url(base_url, service_id, first, first + timedelta(days=30))
    starts: list[str] = []
    free_from: datetime | None = None
    for day in _get_availability(session, url).json()["days"]:
        for slot in day["slots"]:
            start = datetime.fromisoformat(slot["start"])
            if free_from is None or start >= free_from:
                starts.append(slot["start"])
                free_from = datetime.fromisoformat(slot["end"]) + timedelta(minutes=SPACING_MINUTES)
            if len(starts) == count:
                return starts
    raise RuntimeError(f"only {len(starts)} well-spaced free slots from {first}; wanted {count}")


Job = tuple[dict[str, Any], str]  # (request body, Idempotency-Key)


def booking_jobs(service_id: str, starts: list[str]) -> list[Job]:
    """One public booking per start, 'any' staff, each for its own customer and with its own key."""
    run = uuid.uuid4().hex[:8]
    return [
        (
            {
                "services": [service_id],
                "staff": "any",
                "start": start,
                "customer": {
                    "name": f"Bench Customer {n}",
                    "email": f"bench-{run}-{n}@example.com",
                    "phone": "+447911123456",
                },
            },
            f"bench-{run}-{n:04d}",
        )
        for n, start in enumerate(starts)
    ]


def _post(session: requests.Session, base_url: str, job: Job) -> tuple[float, int, str]:
    body, key = job
    started = time.perf_counter()
    response = session.post(
        f"{base_url}/v1/public/businesses/{SLUG}/bookings",
        json=body,
        headers={"Idempotency-Key": key},
        timeout=HTTP_TIMEOUT_SECONDS,
    )
    elapsed = time.perf_counter() - started
    title = ""
    if response.status_code != 201:
        try:
            title = str(response.json().get("title", ""))
        except ValueError:
            title = response.text[:80]
    return elapsed, response.status_code, title


def measure_bookings(base_url: str, jobs: list[Job], threads: int, label: str) -> BookingResult:
    """POSTs the jobs from `threads` threads, each with its own keep-alive session; 201 is success."""
    local = threading.local()
    sessions: list[requests.Session] = []

    def one(job: Job) -> tuple[float, int, str]:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            sessions.append(local.session)
        return _post(local.session, base_url, job)

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            results = list(pool.map(one, jobs))
    finally:
        for session in sessions:
            session.close()
    wall = time.perf_counter() - started
    failed: dict[str, int] = {}
    for _, status, title in results:
        if status != 201:
            failed[f"{status} {title}"] = failed.get(f"{status} {title}", 0) + 1
    return BookingResult(
        label=label,
        timings=summarize([elapsed for elapsed, _, _ in results]),
        created=sum(1 for _, status, _ in results if status == 201),
        failed=failed,
        wall_seconds=wall,
        threads=threads,
    )


def run(
    availability_runs: int = 50, sequential: int = 100, concurrent: int = 100, threads: int = 4, retries: int = 20
) -> ApiResults:
    with LocalStack() as stack, requests.Session() as session:
        base = stack.base_url
        service_id = _service_id(session, base)
        first = next_monday(datetime.now(ZoneInfo(ZONE)).date())
        availability = measure_availability(session, base, service_id, first, availability_runs)
        seq_jobs = booking_jobs(service_id, pick_starts(session, base, service_id, first, sequential))
        bookings = [measure_bookings(base, seq_jobs, 1, "sequential")]
        if concurrent:
            # The next 31 days, so the concurrent run never competes with the sequential one's bookings.
            later = first + timedelta(days=31)
            con_jobs = booking_jobs(service_id, pick_starts(session, base, service_id, later, concurrent))
            bookings.append(measure_bookings(base, con_jobs, threads, f"{threads} threads"))
        if retries:
            # The same key and body again: the stored result comes back (201 with the original booking).
            bookings.append(measure_bookings(base, seq_jobs[:retries], 1, "idempotent retry"))
        return ApiResults(startup_seconds=stack.startup_seconds, availability=availability, bookings=bookings)
