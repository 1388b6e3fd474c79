"""(d) DynamoDB requests per availability call and per booking, counted with a botocore event hook.

Runs in-process: the embedded AWS (moto server) on a free port, the demo seeded as the local stack seeds
it, `before-call.dynamodb` / `before-parse.dynamodb` / `after-call.dynamodb` handlers on boto3's default
session (registered before the container builds its clients), then the use cases called the way the routes
call them. Then the write units of booking, rescheduling and cancelling one appointment (bench/write_units.py).
A last tenant is the issue's target case: one service, 50 staff, and a month holding 5,000 bookings, whose
availability reads that month's time-ledger sheets.
"""

from __future__ import annotations

import gc
import json
import os
import secrets
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast
from zoneinfo import ZoneInfo

import boto3
from ulid import ULID

from bench.demo import outside_services, seed_demo
from bench.scenario import (
    BOOKING_COUNT,
    SERVICE_MINUTES,
    STAFF_COUNT,
    ZONE_NAME,
    business_settings,
    next_monday,
    plan_bookings,
    service_draft,
    staff_draft,
)
from bench.stats import Summary, summarize
from bench.write_units import TransactionRecorder, WriteUnitResults, item_size, measure
from booking.adapters.cache import CachedCatalogue
from booking.adapters.dynamodb.bookings import DynamoBookingRepository
from booking.domain.access import Principal, Role
from booking.domain.availability import Appointment, occupancy
from booking.domain.booking import (
    Actor,
    BookedService,
    Booking,
    BookingOrder,
    BookingStatus,
    CustomerDetails,
    HistoryEntry,
)
from booking.domain.catalogue import Catalogue, Service
from booking.services.availability import Availability
from local.aws import EmbeddedAws

if TYPE_CHECKING:
    from booking_api.container import Container

DEMO_SLUG = "serenity-spa"
DEMO_SERVICE = "Swedish massage"
BIG_SLUG = "bench-fifty-staff"
READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
# The targets for the 50-staff month: what availability reads, and the work it does on the client
# (botocore parsing plus everything after it; the median of the timed runs, as a few runs on a shared
# machine make a poor p95), on top of the request count the tallies check.
BIG_READ_TARGET_BYTES = 256 * 1024
BIG_CLIENT_TARGET_MS = 50.0
Target = Literal["availability", "availability_cold", "booking"]


@dataclass
class Tally:
    """What one measured step asked DynamoDB for, and how long it took."""

    label: str
    target: Target | None = None
    operations: Counter[str] = field(default_factory=Counter)
    tables: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    dynamo_seconds: float = 0.0  # of which inside DynamoDB calls: sending, waiting (moto), parsing
    parse_seconds: float = 0.0  # of which botocore parsing the answers: client CPU, as on Lambda
    response_bytes: Counter[str] = field(default_factory=Counter)  # HTTP response bodies, by operation

    @property
    def total(self) -> int:
        return sum(self.operations.values())

    @property
    def reads(self) -> int:
        return sum(n for name, n in self.operations.items() if name in READS)

    @property
    def target_text(self) -> str:
        return {
            None: "",
            "availability": "<= 3 requests (catalogue cached)",
            "availability_cold": "<= 3 + catalogue load (GetItem + Query)",
            "booking": "1 TransactWriteItems + <= 2 reads",
        }[self.target]

    @property
    def met(self) -> bool | None:
        if self.target == "availability":
            return self.total <= 3
        if self.target == "availability_cold":
            return self.total <= 3 + 2
        if self.target == "booking":
            others = self.total - self.reads - self.operations["TransactWriteItems"]
            return self.operations["TransactWriteItems"] == 1 and self.reads <= 2 and others == 0
        return None

    def by_operation(self) -> str:
        return ", ".join(f"{name} {n}" for name, n in sorted(self.operations.items())) or "none"

    def by_table(self) -> str:
        return ", ".join(f"{name} {n}" for name, n in sorted(self.tables.items())) or "none"


def _tables(params: Any) -> list[str]:
    """Table names in a serialized DynamoDB request (the JSON body botocore is about to send)."""
    try:
        body = json.loads(params.get("body") or b"{}")
    except (AttributeError, ValueError):
        return []
    if "TableName" in body:
        return [str(body["TableName"])]
    names = {
        str(request["TableName"])
        for item in body.get("TransactItems", [])
        for request in item.values()
        if "TableName" in request
    }
    return sorted(names) or sorted(body.get("RequestItems", {}))


class CallCounter:
    """Handlers for `before-call.dynamodb` and `after-call.dynamodb`: one event pair per API call (every
    page of a paginator is a call of its own; botocore's retries of one call are not counted again)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: Tally | None = None
        self._started = threading.local()

    def install(self, session: Any) -> None:
        session.events.register("before-call.dynamodb", self.before_call)
        session.events.register("before-parse.dynamodb", self.before_parse)
        session.events.register("after-call.dynamodb", self.after_call)

    def before_call(self, model: Any = None, params: Any = None, **_: Any) -> None:
        self._started.at = time.perf_counter()
        self._started.parse = None
        with self._lock:
            if self._current is not None:
                self._current.operations[model.name] += 1
                for table in _tables(params):
                    self._current.tables[table] += 1

    def before_parse(self, operation_model: Any = None, response_dict: Any = None, **_: Any) -> None:
        body = (response_dict or {}).get("body") or b""
        with self._lock:
            if self._current is not None and operation_model is not None:
                self._current.response_bytes[operation_model.name] += len(body)
        self._started.parse = time.perf_counter()

    def after_call(self, **_: Any) -> None:
        now = time.perf_counter()
        started = getattr(self._started, "at", None)
        parse = getattr(self._started, "parse", None)
        with self._lock:
            if self._current is not None and started is not None:
                self._current.dynamo_seconds += now - started
                if parse is not None:
                    self._current.parse_seconds += now - parse

    @contextmanager
    def measure(self, label: str, target: Target | None = None) -> Iterator[Tally]:
        tally = Tally(label, target)
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
class BigAvailability:
    """The availability use case in-process for 50 staff and 5,000 bookings (warm catalogue cache)."""

    first: date
    last: date
    total: Summary
    wait: Summary  # sending requests and waiting for the embedded DynamoDB (moto)
    parse: Summary  # botocore parsing the answers
    rest: Summary  # everything else: sheets into busy time, the slot engine, grouping by day
    client: Summary  # parse + rest, run by run: the work a Lambda would do
    slots: int
    bookings: int
    sheets: int  # time-ledger sheets of the month (one per staff member and UTC day with bookings)
    sheet_bytes: int  # their DynamoDB item size, all together: what a Query is charged for
    response_bytes: int  # the Query responses of one availability call, as received (JSON)

    @property
    def read_units(self) -> int:
        """About the strongly consistent read units a Query of these sheets costs: 1 per 4 KB."""
        return -(-self.sheet_bytes // 4096)

    @property
    def met(self) -> bool:
        read = max(self.sheet_bytes, self.response_bytes)
        return read <= BIG_READ_TARGET_BYTES and self.client.p50_ms <= BIG_CLIENT_TARGET_MS


@dataclass(frozen=True)
class DynamoResults:
    tallies: list[Tally]
    big: BigAvailability | None
    seed_seconds: float
    writes: WriteUnitResults | None = None


def run(big: bool = True, big_runs: int = 2) -> DynamoResults:
    # Powertools warns once that there is no Lambda context to take the remaining time from: not news here.
    warnings.filterwarnings("ignore", message="Couldn't determine the remaining time left")
    aws = EmbeddedAws()
    aws.start()
    services = ExitStack()
    try:
        services.enter_context(outside_services())
        resources = aws.provision()
        os.environ.update(resources.environment())
        os.environ["APP_SECRET"] = secrets.token_urlsafe(36)  # 48 characters
        counter = CallCounter()
        counter.install(boto3._get_default_session())
        recorder = TransactionRecorder()
        recorder.install(boto3._get_default_session())

        # Imported once the environment points at the embedded AWS, as the dev server does.
        from booking_api.container import build_container  # noqa: PLC0415

        container = build_container(claims=lambda event: None)
        with tempfile.TemporaryDirectory(prefix="bench-dynamo-") as data_dir:
            seed_demo(container, aws.client("cognito-idp"), resources.user_pool_id, Path(data_dir))
        tallies = _demo(container, counter)
        # While the table is small (moto copies the whole table for each item of a transaction).
        writes = measure(container, recorder)
        if not big:
            return DynamoResults(tallies, None, 0.0, writes)
        return replace(_fifty_staff(container, counter, tallies, big_runs), writes=writes)
    finally:
        services.close()
        aws.stop()


# --- what the routes do ---------------------------------------------------------------------------------


def _availability_like_the_route(
    container: Container, slug: str, service_id: str, first: date, last: date | None = None
) -> Availability:
    """GET .../availability: the use case (31 days unless `last` is given), then the business (for the
    CORS headers)."""
    last = last or first + timedelta(days=30)
    result: Availability = container.availability.availability(
        slug, [service_id], "any", first, last, ZONE_NAME
    )
    container.bookings.public_business(slug)
    return result


def _book_like_the_route(container: Container, slug: str, request: BookingOrder, key: str) -> str:
    """POST .../bookings as routers/public_bookings.py does it: the use case inside the idempotency
    wrapper; the booking is read back only when a retry replays the stored result."""
    made: list[str] = []

    def book() -> dict[str, str]:
        made.append(container.bookings.book(slug, request).booking.id)
        return {"booking_id": made[0], "slug": slug}

    result = container.idempotency.run(
        scope=f"public-booking:{slug}", key=key, payload=request.model_dump(mode="json"), action=book
    )
    booking_id = str(result["booking_id"])
    if not made:
        container.bookings.booking_for_business(slug, booking_id)
    return booking_id


def _drop_catalogue_cache(container: Container) -> None:
    reader = container.catalogue_reader
    assert isinstance(reader, CachedCatalogue)
    reader.invalidate()


def _request(service_id: str, start: datetime, n: int, staff: str = "any") -> BookingOrder:
    return BookingOrder(
        services=[service_id],
        staff=staff,
        start=start,
        customer=CustomerDetails(
            name=f"Bench Customer {n}", email=f"bench-{n}@example.com", phone="+447911123456"
        ),
    )


def _first_slot(availability: Availability, min_staff: int = 1) -> tuple[datetime, str]:
    for day in availability.days:
        for slot in day.slots:
            if len(slot.staff_ids) >= min_staff:
                return slot.start, slot.staff_ids[0]
    raise RuntimeError(f"no slot with {min_staff} free staff to book")


# --- the demo spa ---------------------------------------------------------------------------------------


def _demo(container: Container, counter: CallCounter) -> list[Tally]:
    """The seeded spa: availability cold and warm, then bookings as the use case and as the route."""
    catalogue = container.catalogue.public_catalogue(DEMO_SLUG)
    service_id = next(s.id for s in catalogue.services if s.name == DEMO_SERVICE)
    first = next_monday(datetime.now(ZoneInfo(ZONE_NAME)).date())
    week = timedelta(days=7)
    tallies = []

    # GET .../services, which a widget calls before availability: the route reads through the catalogue
    # service (not the cached reader), so it is measured right after a warm availability call.
    _availability_like_the_route(container, DEMO_SLUG, service_id, first)
    with counter.measure("demo: services menu as GET .../services does, warm cache") as tally:
        container.catalogue.public_catalogue(DEMO_SLUG)
    tallies.append(tally)

    _drop_catalogue_cache(container)
    with counter.measure("demo: availability, cold catalogue cache", "availability_cold") as tally:
        _availability_like_the_route(container, DEMO_SLUG, service_id, first)
    tallies.append(tally)
    with counter.measure("demo: availability, warm cache", "availability") as tally:
        _availability_like_the_route(container, DEMO_SLUG, service_id, first)
    tallies.append(tally)

    # Each booking on a later week, so none of them can touch another. Two free staff, so 'any' applies
    # the fair rule; the availability calls that find the slots are not counted.
    start, _ = _first_slot(_availability_like_the_route(container, DEMO_SLUG, service_id, first), 2)
    with counter.measure("demo: book() use case, staff any (2 free)", "booking") as tally:
        container.bookings.book(DEMO_SLUG, _request(service_id, start, 1))
    tallies.append(tally)

    later = _availability_like_the_route(container, DEMO_SLUG, service_id, first + week)
    start, staff_id = _first_slot(later)
    with counter.measure("demo: book() use case, one named staff", "booking") as tally:
        container.bookings.book(DEMO_SLUG, _request(service_id, start, 2, staff=staff_id))
    tallies.append(tally)

    later = _availability_like_the_route(container, DEMO_SLUG, service_id, first + 2 * week)
    start, _ = _first_slot(later, 2)
    request = _request(service_id, start, 3)
    key = f"bench-{secrets.token_hex(8)}"
    with counter.measure("demo: POST booking as the route does, staff any", "booking") as tally:
        _book_like_the_route(container, DEMO_SLUG, request, key)
    tallies.append(tally)
    with counter.measure("demo: the same POST retried (same Idempotency-Key)") as tally:
        _book_like_the_route(container, DEMO_SLUG, request, key)
    tallies.append(tally)
    return tallies


# --- one service, 50 staff, 5,000 bookings in the month -------------------------------------------------


def _fifty_staff(
    container: Container, counter: CallCounter, tallies: list[Tally], runs: int
) -> DynamoResults:
    # "One month" as a month view asks for it: the whole next calendar month.
    today = datetime.now(ZoneInfo(ZONE_NAME)).date()
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    business = container.catalogue.create_business(business_settings(BIG_SLUG))
    owner = Principal(user_id="bench", tenant_id=business.id, role=Role.OWNER)
    service = container.catalogue.create_service(owner, service_draft())
    staff = [
        container.catalogue.create_staff(owner, staff_draft(i, [service.id])) for i in range(STAFF_COUNT)
    ]
    big = f"{STAFF_COUNT} staff"
    month = f"{first:%B %Y}"

    # The booking first, while the table is small: moto deep-copies the whole table for every item of a
    # TransactWriteItems (see docs/benchmarks.md), so after the month is written one booking takes many
    # seconds locally. The requests it makes do not depend on how full the month is (a day's sheets are
    # one page). It is booked after the seeded month, so the two never overlap.
    after_month = last + timedelta(days=7)
    start, _ = _first_slot(_availability_like_the_route(container, BIG_SLUG, service.id, after_month), 2)
    with counter.measure(f"{big}: POST booking as the route does, staff any", "booking") as tally:
        _book_like_the_route(
            container, BIG_SLUG, _request(service.id, start, 4), f"bench-{secrets.token_hex(8)}"
        )
    tallies.append(tally)

    # The month's bookings go through DynamoBookingRepository.save against an in-memory table (reading
    # and rewriting the sheets as it would in DynamoDB), then its diary entries and sheets are written in
    # batches: availability reads only the sheets.
    started = time.perf_counter()
    catalogue = container.catalogue_reader.load_catalogue(business.id)
    assert catalogue is not None
    make = _booking_factory(catalogue, service)
    table = _MemoryTable()
    repository = DynamoBookingRepository(cast(Any, table), os.environ["TABLE_NAME"], container.clock)
    history = _history()
    days = (last - first).days + 1
    for planned in plan_bookings(first, days=days, count=BOOKING_COUNT):
        repository.save(make(staff[planned.staff_index].id, planned.start), None, history)
    sheets = table.sheets()
    _batch_write(boto3.client("dynamodb"), os.environ["TABLE_NAME"], [*table.diary(), *sheets])
    seed_seconds = time.perf_counter() - started

    _drop_catalogue_cache(container)
    # The embedded AWS shares this process and now holds the whole month: frozen, its objects are left out
    # of the collector's passes, which on Lambda would have no such heap to walk.
    gc.collect()
    gc.freeze()
    label = f"{big}, {BOOKING_COUNT:,} bookings in {month}: availability {first:%d}-{last:%d %b}"
    with counter.measure(f"{label}, cold cache", "availability_cold") as tally:
        result = _availability_like_the_route(container, BIG_SLUG, service.id, first, last)
    tallies.append(tally)
    with counter.measure(f"{label}, warm cache", "availability") as tally:
        _availability_like_the_route(container, BIG_SLUG, service.id, first, last)
    tallies.append(tally)
    timed = [tally]
    for n in range(runs):
        with counter.measure(f"timed run {n}") as tally:
            _availability_like_the_route(container, BIG_SLUG, service.id, first, last)
        timed.append(tally)
    big_result = BigAvailability(
        first=first,
        last=last,
        total=summarize([t.seconds for t in timed]),
        wait=summarize([t.dynamo_seconds - t.parse_seconds for t in timed]),
        parse=summarize([t.parse_seconds for t in timed]),
        rest=summarize([t.seconds - t.dynamo_seconds for t in timed]),
        client=summarize([t.seconds - t.dynamo_seconds + t.parse_seconds for t in timed]),
        slots=sum(len(day.slots) for day in result.days),
        bookings=BOOKING_COUNT,
        sheets=len(sheets),
        sheet_bytes=sum(item_size(item) for item in sheets),
        response_bytes=timed[0].response_bytes["Query"],
    )
    return DynamoResults(tallies, big_result, seed_seconds)


class _MemoryTable:
    """Stands in for the DynamoDB client in DynamoBookingRepository.save: answers batch_get_item from what
    it holds and applies the puts and deletes of transact_write_items (checking their key and version
    conditions), so each staff member's sheets fill up booking by booking as they would in the table."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    @staticmethod
    def _key(key: dict[str, Any]) -> tuple[str, str]:
        return key["pk"]["S"], key["sk"]["S"]

    def batch_get_item(self, **request: Any) -> dict[str, Any]:
        responses = {
            table: [self.items[k] for k in map(self._key, wanted["Keys"]) if k in self.items]
            for table, wanted in request["RequestItems"].items()
        }
        return {"Responses": responses, "UnprocessedKeys": {}}

    def transact_write_items(self, **request: Any) -> dict[str, Any]:
        for operation in request["TransactItems"]:
            ((action, write),) = operation.items()
            key = self._key(write["Item"] if action == "Put" else write["Key"])
            condition = write.get("ConditionExpression")
            stored = self.items.get(key)
            if condition == "attribute_not_exists(pk)" and stored is not None:
                raise RuntimeError(f"{key} exists already")
            if (
                condition == "v = :read"
                and (stored or {}).get("v") != write["ExpressionAttributeValues"][":read"]
            ):
                raise RuntimeError(f"{key} is not at the version read")
            if action == "Put":
                self.items[key] = write["Item"]
            elif action == "Delete":
                self.items.pop(key, None)
        return {}

    def diary(self) -> list[dict[str, Any]]:
        return [item for item in self.items.values() if item.get("kind") == {"S": "diary"}]

    def sheets(self) -> list[dict[str, Any]]:
        return [item for key, item in self.items.items() if "#SHEET#" in key[0]]


def _batch_write(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {
            table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        }
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _history() -> HistoryEntry:
    return HistoryEntry(
        at=datetime.now(UTC), actor=Actor(kind="system"), action="created", to_status=BookingStatus.CONFIRMED
    )


def _booking_factory(catalogue: Catalogue, service: Service) -> Callable[[str, datetime], Booking]:
    """Bookings shaped as the use case builds them (same occupancy, buffers from the catalogue)."""
    business = catalogue.business
    appointment = Appointment.for_services(business, [service])
    now = datetime.now(UTC)

    def make(staff_id: str, start: datetime) -> Booking:
        booking_id = str(ULID())
        busy_start, busy_end = occupancy(start, appointment)
        return Booking(
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

    return make
