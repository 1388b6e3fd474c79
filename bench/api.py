"""(b) availability and (c) booking creation over HTTP against the local stack, on the seeded demo spa."""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from bench.scenario import next_monday
from bench.stack import LocalStack
from bench.stats import Summary, summarize

SLUG = "serenity-spa"
SERVICE_NAME = "Swedish massage"
ZONE = "Europe/London"
HTTP_TIMEOUT_SECONDS = 30
# Picked booking times keep this far apart (beyond the slot's own end), more than any demo buffer, so a
# benchmark booking never takes the time another one was planned for.
SPACING_MINUTES = 30
# What moto's server prints when a request handler crashes (it answers 500, and botocore retries).
MOTO_ERROR = "Error on request"
PROBE_TIMEOUT_SECONDS = 10


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
    failed: dict[str, int]  # "status title" -> count
    wall_seconds: float
    threads: int
    first_p50_ms: float  # median of the first (and last) tenth of the requests, in the order sent:
    last_p50_ms: float  # shows whether a booking gets slower as the table fills
    readable: int  # created bookings still readable through their manage link afterwards
    server_errors: int  # requests the embedded AWS answered with a crash (botocore retries them)

    @property
    def per_second(self) -> float:
        return self.created / self.wall_seconds if self.wall_seconds else 0.0


@dataclass(frozen=True)
class ProbeResult:
    """`requests` simultaneous GET /v1/health: do they all get an answer within the timeout?"""

    requests: int
    answered: int
    seconds: float


@dataclass(frozen=True)
class ApiResults:
    startup_seconds: float
    availability: AvailabilityResult
    bookings: list[BookingResult]
    probe: ProbeResult | None


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


def pick_starts(
    session: requests.Session, base_url: str, service_id: str, first: date, count: int
) -> list[str]:
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


@dataclass(frozen=True)
class Outcome:
    seconds: float
    status: int
    title: str  # the problem title when not 201
    booking_id: str = ""
    manage_token: str = ""


def _post(session: requests.Session, base_url: str, job: Job) -> Outcome:
    body, key = job
    started = time.perf_counter()
    response = session.post(
        f"{base_url}/v1/public/businesses/{SLUG}/bookings",
        json=body,
        headers={"Idempotency-Key": key},
        timeout=HTTP_TIMEOUT_SECONDS,
    )
    elapsed = time.perf_counter() - started
    if response.status_code == 201:
        booking = response.json()
        return Outcome(elapsed, 201, "", str(booking["id"]), str(booking["manage_token"]))
    try:
        title = str(response.json().get("title", ""))
    except ValueError:
        title = response.text[:80]
    return Outcome(elapsed, response.status_code, title)


def _readable(session: requests.Session, base_url: str, outcomes: list[Outcome]) -> int:
    """How many of the created bookings can still be read back (the embedded DynamoDB can lose writes)."""
    found = 0
    for outcome in outcomes:
        if outcome.status != 201:
            continue
        response = session.get(
            f"{base_url}/v1/public/bookings/{outcome.booking_id}",
            params={"token": outcome.manage_token},
            timeout=HTTP_TIMEOUT_SECONDS,
        )
        found += response.status_code == 200
    return found


def _tenth_median(values: list[float], last: bool) -> float:
    size = max(1, len(values) // 10)
    return statistics.median(values[-size:] if last else values[:size]) * 1000


def measure_bookings(stack: LocalStack, jobs: list[Job], threads: int, label: str) -> BookingResult:
    """POSTs the jobs from `threads` threads, each with its own keep-alive session; 201 is success."""
    local = threading.local()
    sessions: list[requests.Session] = []

    def one(job: Job) -> Outcome:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            sessions.append(local.session)
        return _post(local.session, stack.base_url, job)

    errors_before = stack.count_in_log(MOTO_ERROR)
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            outcomes = list(pool.map(one, jobs))
    finally:
        for session in sessions:
            session.close()
    wall = time.perf_counter() - started
    failed = Counter(f"{o.status} {o.title}" for o in outcomes if o.status != 201)
    latencies = [o.seconds for o in outcomes]
    with requests.Session() as session:
        readable = _readable(session, stack.base_url, outcomes)
    return BookingResult(
        label=label,
        timings=summarize(latencies),
        created=sum(1 for o in outcomes if o.status == 201),
        failed=dict(failed),
        wall_seconds=wall,
        threads=threads,
        first_p50_ms=_tenth_median(latencies, last=False),
        last_p50_ms=_tenth_median(latencies, last=True),
        readable=readable,
        server_errors=stack.count_in_log(MOTO_ERROR) - errors_before,
    )


def probe_concurrency(base_url: str, count: int) -> ProbeResult:
    """Sends `count` GET /v1/health at the same moment, each on its own connection."""
    barrier = threading.Barrier(count)

    def one(_: int) -> bool:
        with requests.Session() as session:
            barrier.wait()
            try:
                response = session.get(f"{base_url}/v1/health", timeout=PROBE_TIMEOUT_SECONDS)
            except requests.RequestException:
                return False
            return response.status_code == 200

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=count) as pool:
        answered = sum(pool.map(one, range(count)))
    return ProbeResult(count, answered, time.perf_counter() - started)


def run(
    availability_runs: int = 50,
    sequential: int = 25,
    concurrent: int = 12,
    threads: int = 2,
    retries: int = 10,
    probe: int = 8,
) -> ApiResults:
    with LocalStack() as stack, requests.Session() as session:
        base = stack.base_url
        service_id = _service_id(session, base)
        first = next_monday(datetime.now(ZoneInfo(ZONE)).date())
        availability = measure_availability(session, base, service_id, first, availability_runs)
        seq_jobs = booking_jobs(service_id, pick_starts(session, base, service_id, first, sequential))
        bookings = [measure_bookings(stack, seq_jobs, 1, "sequential")]
        if concurrent:
            # The next 31 days, so the concurrent run never competes with the sequential one's bookings.
            later = first + timedelta(days=31)
            con_jobs = booking_jobs(service_id, pick_starts(session, base, service_id, later, concurrent))
            bookings.append(measure_bookings(stack, con_jobs, threads, "concurrent"))
        if retries:
            # The same key and body again: the stored result comes back (201 with the original booking).
            bookings.append(measure_bookings(stack, seq_jobs[:retries], 1, "idempotent retry"))
        # Last, because a stack that deadlocks stays deadlocked: it is terminated right after.
        probed = probe_concurrency(base, probe) if probe else None
        return ApiResults(stack.startup_seconds, availability, bookings, probed)
