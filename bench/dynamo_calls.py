"""(d) DynamoDB requests per availability call and per booking, counted with a botocore event hook.

Runs in-process: the embedded AWS (moto server) on a free port, the demo seeded as the local stack seeds
it, a `before-call.dynamodb` handler on boto3's default session (registered before the container builds
its clients), then the use cases called the way the routes call them. A second tenant is the issue's
target case: 50 staff on one service and a month holding 5,000 bookings.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3

from bench.scenario import (
    BOOKING_COUNT,
    SERVICE_MINUTES,
    STAFF_COUNT,
    ZONE_NAME,
    business_settings,
    plan_bookings,
    service_draft,
    staff_draft,
)
from bench.stats import Summary, summarize

DEMO_SLUG = "serenity-spa"
DEMO_SERVICE = "Swedish massage"
BIG_SLUG = "bench-fifty-staff"
SEED_THREADS = 4


@dataclass
class Tally:
    """What one measured step asked DynamoDB for."""

    label: str
    operations: Counter[str] = field(default_factory=Counter)
    tables: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.operations.values())

    def by_operation(self) -> str:
        return ", ".join(f"{name} {n}" for name, n in sorted(self.operations.items())) or "none"

    def by_table(self) -> str:
        return ", ".join(f"{name} {n}" for name, n in sorted(self.tables.items())) or "none"


def _tables(params: Any) -> list[str]:
    """Table names in a serialized DynamoDB request (JSON body): TableName, or each TransactItems entry's."""
    try:
        body = json.loads(params.get("body") or b"{}")
    except (AttributeError, ValueError):
        return []
    if "TableName" in body:
        return [str(body["TableName"])]
    names = [
        str(request["TableName"])
        for item in body.get("TransactItems", [])
        for request in item.values()
        if "TableName" in request
    ]
    return sorted(set(names)) or sorted(body.get("RequestItems", {}))


class CallCounter:
    """A `before-call.dynamodb` handler: one event per API call (pages of a paginator count one each)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: Tally | None = None

    def __call__(self, model: Any = None, params: Any = None, **_: Any) -> None:
        with self._lock:
            if self._current is None:
                return
            self._current.operations[model.name] += 1
            for table in _tables(params):
                self._current.tables[table] += 1

    @contextmanager
    def measure(self, label: str) -> Iterator[Tally]:
        tally = Tally(label)
        with self._lock:
            self._current = tally
        started = time.perf_counter()
        try:
            yield tally
        finally:
            tally.seconds = time.perf_counter() - started
            with self._lock:
                self._current = None


@dataclass(frozen=True)
class DynamoResults:
    tallies: list[Tally]
    big_availability: Summary  # in-process availability use case, 50 staff and 5,000 bookings, warm cache
    big_slots: int
    seed_seconds: float


def next_monday(today: date) -> date:
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def run(big: bool = True, big_runs: int = 10) -> DynamoResults:
    # Heavy imports only here: `python -m bench --only engine` should not pay for moto.
    from local.aws import EmbeddedAws
    from local.seed import seed

    aws = EmbeddedAws()
    aws.start()
    try:
        resources = aws.provision()
        os.environ.update(resources.environment())
        os.environ["APP_SECRET"] = secrets.token_urlsafe(36)  # 48 characters
        counter = CallCounter()
        boto3._get_default_session().events.register("before-call.dynamodb", counter)

        from booking_api.container import build_container  # reads the environment set above

        container = build_container(claims=lambda event: None)
        with tempfile.TemporaryDirectory(prefix="bench-dynamo-") as data_dir:
            seed(container.catalogue, aws.client("cognito-idp"), resources.user_pool_id, Path(data_dir))
        tallies = _demo(container, counter)
        if not big:
            return DynamoResults(tallies, summarize([0.0]), 0, 0.0)
        return _fifty_staff(container, counter, tallies, big_runs)
    finally:
        aws.stop()


def _service_id(container: Any, slug: str, name: str) -> str:
    catalogue = container.catalogue.public_catalogue(slug)
    return next(s.id for s in catalogue.services if s.name == name)


def _book_like_the_route(container: Any, slug: str, request: Any, key: str) -> str:
    """What POST /v1/public/businesses/{slug}/bookings does: the idempotent use case, then the re-read."""
    result = container.idempotency.run(
        scope=f"public-booking:{slug}",
        key=key,
        payload=request.model_dump(mode="json"),
        action=lambda: {"booking_id": container.bookings.book(slug, request).booking.id, "slug": slug},
    )
    booking_id = str(result["booking_id"])
    container.bookings.booking_for_business(slug, booking_id)
    return booking_id


def _availability_like_the_route(container: Any, slug: str, service_id: str, first: date) -> Any:
    """What GET .../availability does: the use case, then the business for the CORS headers."""
    result = container.bookings.availability(
        slug, [service_id], "any", first, first + timedelta(days=30), ZONE_NAME
    )
    container.bookings.public_business(slug)
    return result


def _request(service_id: str, start: datetime, n: int, staff: str = "any") -> Any:
    from booking.domain.booking import BookingRequest, CustomerDetails

    return BookingRequest(
        services=[service_id],
        staff=staff,
        start=start,
        customer=CustomerDetails(
            name=f"Bench Customer {n}", email=f"bench-{n}@example.com", phone="+447911123456"
        ),
    )


def _first_free(availability: Any, taken: set[datetime]) -> tuple[datetime, str]:
    for day in availability.days:
        for slot in day.slots:
            if slot.start not in taken:
                return slot.start, slot.staff_ids[0]
    raise RuntimeError("no free slot to book")


def _demo(container: Any, counter: CallCounter) -> list[Tally]:
    """The seeded spa: availability cold and warm, then bookings as the public route makes them."""
    service_id = _service_id(container, DEMO_SLUG, DEMO_SERVICE)
    container.catalogue_reader.invalidate()
    first = next_monday(datetime.now(ZoneInfo(ZONE_NAME)).date())
    tallies = []
    with counter.measure("demo: availability, cold catalogue cache") as tally:
        availability = _availability_like_the_route(container, DEMO_SLUG, service_id, first)
    tallies.append(tally)
    with counter.measure("demo: availability, warm cache") as tally:
        availability = _availability_like_the_route(container, DEMO_SLUG, service_id, first)
    tallies.append(tally)

    taken: set[datetime] = set()
    start, _ = _first_free(availability, taken)
    taken.add(start)
    with counter.measure("demo: book() use case alone, staff any") as tally:
        container.bookings.book(DEMO_SLUG, _request(service_id, start, 1))
    tallies.append(tally)

    # A later day, so the next bookings cannot touch the one above.
    later = _availability_like_the_route(container, DEMO_SLUG, service_id, first + timedelta(days=7))
    start, staff_id = _first_free(later, taken)
    taken.add(start)
    with counter.measure("demo: book() use case alone, one named staff") as tally:
        container.bookings.book(DEMO_SLUG, _request(service_id, start, 2, staff=staff_id))
    tallies.append(tally)

    later = _availability_like_the_route(container, DEMO_SLUG, service_id, first + timedelta(days=14))
    start, _ = _first_free(later, taken)
    request = _request(service_id, start, 3)
    key = f"bench-{secrets.token_hex(8)}"
    with counter.measure("demo: POST booking as the route does (idempotency + book + re-read)") as tally:
        _book_like_the_route(container, DEMO_SLUG, request, key)
    tallies.append(tally)
    with counter.measure("demo: same POST retried with its Idempotency-Key") as tally:
        _book_like_the_route(container, DEMO_SLUG, request, key)
    tallies.append(tally)
    return tallies


def _fifty_staff(container: Any, counter: CallCounter, tallies: list[Tally], runs: int) -> DynamoResults:
    """The issue's target case: one service, one month, 50 staff, and 5,000 bookings in that month."""
    from booking.adapters.dynamodb.bookings import DynamoBookingRepository
    from booking.domain.access import Principal, Role

    first = next_monday(datetime.now(ZoneInfo(ZONE_NAME)).date())
    business = container.catalogue.create_business(business_settings(BIG_SLUG))
    owner = Principal(user_id="bench", tenant_id=business.id, role=Role.OWNER)
    service = container.catalogue.create_service(owner, service_draft())
    staff = [container.catalogue.create_staff(owner, staff_draft(i, [service.id])) for i in range(STAFF_COUNT)]

    # The month's bookings go straight through the repository's one write (the same transaction a booking
    # makes), from a few threads: the use case would re-read the diary for each one and take minutes.
    started = time.perf_counter()
    repository = DynamoBookingRepository(boto3.client("dynamodb"), os.environ["TABLE_NAME"])
    planned = plan_bookings(first, count=BOOKING_COUNT)
    catalogue = container.catalogue_reader.load_catalogue(business.id)
    assert catalogue is not None
    make = _booking_factory(business, service, catalogue)
    chunks = [planned[i::SEED_THREADS] for i in range(SEED_THREADS)]

    def save_all(chunk: list[Any]) -> None:
        for p in chunk:
            booking, entry = make(staff[p.staff_index].id, p.start)
            repository.save(booking, None, entry)

    threads = [threading.Thread(target=save_all, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seed_seconds = time.perf_counter() - started

    container.catalogue_reader.invalidate()
    with counter.measure(f"{STAFF_COUNT} staff, {BOOKING_COUNT:,} bookings: availability, cold cache") as tally:
        result = _availability_like_the_route(container, BIG_SLUG, service.id, first)
    tallies.append(tally)
    with counter.measure(f"{STAFF_COUNT} staff, {BOOKING_COUNT:,} bookings: availability, warm cache") as tally:
        _availability_like_the_route(container, BIG_SLUG, service.id, first)
    tallies.append(tally)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        _availability_like_the_route(container, BIG_SLUG, service.id, first)
        timings.append(time.perf_counter() - started)
    slots = sum(len(day.slots) for day in result.days)

    start, _ = _first_free(result, set())
    key = f"bench-{secrets.token_hex(8)}"
    with counter.measure(f"{STAFF_COUNT} staff: POST booking as the route does, staff any") as tally:
        _book_like_the_route(container, BIG_SLUG, _request(service.id, start, 4), key)
    tallies.append(tally)
    return DynamoResults(tallies, summarize(timings), slots, seed_seconds)


def _booking_factory(business: Any, service: Any, catalogue: Any) -> Callable[[str, datetime], Any]:
    """Bookings as the use case would build them (same shape, same occupancy), for seeding only."""
    from booking.domain.availability import Appointment, occupancy
    from booking.domain.booking import (
        Actor,
        BookedService,
        Booking,
        BookingStatus,
        CustomerDetails,
        HistoryEntry,
    )
    from ulid import ULID

    appointment = Appointment.for_services(catalogue.business, [service])
    now = datetime.now(UTC)

    def make(staff_id: str, start: datetime) -> tuple[Any, Any]:
        booking_id = str(ULID())
        busy_start, busy_end = occupancy(start, appointment)
        booking = Booking(
            id=booking_id,
            tenant_id=business.id,
            status=BookingStatus.CONFIRMED,
            start=start,
            end=start + timedelta(minutes=SERVICE_MINUTES),
            occupied_start=busy_start,
            occupied_end=busy_end,
            staff_id=staff_id,
            services=[
                BookedService(
                    id=service.id,
                    name=service.name,
                    duration_minutes=service.duration_minutes,
                    price_minor=service.price_minor,
                )
            ],
            total_minor=service.price_minor,
            currency=business.currency,
            customer=CustomerDetails(name="Seeded Customer", email=f"seed-{booking_id.lower()}@example.com"),
            created_at=now,
            updated_at=now,
        )
        entry = HistoryEntry(
            at=now, actor=Actor(kind="system"), action="created", to_status=BookingStatus.CONFIRMED
        )
        return booking, entry

    return make
