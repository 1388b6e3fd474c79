"""What the notification tests share: parsing invites with icalendar and with ical.js (the parser calendar
clients are built on), a clock the tests move, a spa whose staff work every day, and the messages the
embedded SES and SNS received, read back the way the local outbox reads them.

ical.js is installed from tests/js/package-lock.json by `make test` (npm ci); it runs under node with a time
zone far from UTC, so a time it failed to place in its zone would show up as a wrong instant.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from booking.domain.booking import BookedService, Booking, BookingStatus, CustomerDetails
from booking.domain.catalogue import Business
from tests.conftest import Tenant
from tests.support.lambda_api import LambdaApi

REPO = Path(__file__).resolve().parents[2]
ICALJS_SCRIPT = REPO / "tests" / "js" / "parse_ics.mjs"
NODE = shutil.which("node") or "/usr/bin/node"
# Far from UTC and from every business zone in the tests, with a 45-minute offset: a floating time
# (one ical.js could not place in the event's zone) would land on a visibly wrong instant.
NODE_TZ = "Pacific/Chatham"
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MakeTenant = Callable[..., Tenant]


# --- invites --------------------------------------------------------------------------------------------


def parse_with_icaljs(ics: bytes | str) -> dict[str, Any]:
    """What ical.js sees in an .ics: method, uid, sequence, status, times (local, zone, UTC), people."""
    data = ics.decode() if isinstance(ics, bytes) else ics
    if not (REPO / "tests" / "js" / "node_modules" / "ical.js").is_dir():
        raise AssertionError("ical.js is not installed: run `make test` (or `cd tests/js && npm ci`)")
    result = subprocess.run(
        [NODE, str(ICALJS_SCRIPT)],
        input=data,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "TZ": NODE_TZ},
    )
    assert result.returncode == 0, f"ical.js could not parse the invite:\n{result.stderr}\n{data}"
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def parse_many_with_icaljs(invites: Sequence[bytes | str]) -> list[dict[str, Any]]:
    """What ical.js sees in each of `invites`, in one node process (for property tests)."""
    texts = [i.decode() if isinstance(i, bytes) else i for i in invites]
    if not (REPO / "tests" / "js" / "node_modules" / "ical.js").is_dir():
        raise AssertionError("ical.js is not installed: run `make test` (or `cd tests/js && npm ci`)")
    result = subprocess.run(
        [NODE, str(ICALJS_SCRIPT), "--many"],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "TZ": NODE_TZ},
    )
    assert result.returncode == 0, f"ical.js could not parse the invites:\n{result.stderr}"
    parsed: list[dict[str, Any]] = json.loads(result.stdout)
    return parsed


def parse_with_icalendar(ics: bytes | str) -> tuple[icalendar.Calendar, icalendar.Component]:
    """The calendar and its one event, as the icalendar library reads them."""
    calendar = icalendar.Calendar.from_ical(ics)
    events = [c for c in calendar.walk("VEVENT")]
    assert len(events) == 1, f"expected one VEVENT, found {len(events)}"
    return calendar, events[0]


def utc_instant(value: str) -> datetime:
    """An ISO 8601 instant as ical.js prints it (…Z), as an aware UTC datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


# --- domain objects for unit tests -----------------------------------------------------------------------

CREATED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
BOOKING_ID = "01KBZ6Q3R0AJ8M7T1EXAMPLE00"  # a ULID, as the booking service issues them
TENANT_ID = "01KBZ6Q3R0AJ8M7T1TENANT000"


def make_business(**fields: Any) -> Business:
    values: dict[str, Any] = {
        "id": TENANT_ID,
        "name": "Serenity Day Spa",
        "slug": "serenity-spa",
        "time_zone": "Europe/London",
        "currency": "GBP",
        "address": "1 High Street, Bath",
        "contact_email": "hello@serenity.example",
        "contact_phone": "+441225123456",
        "created_at": CREATED,
        "updated_at": CREATED,
        **fields,
    }
    return Business(**values)


def make_booking(start: datetime, *, minutes: int = 60, price_minor: int = 6500, **fields: Any) -> Booking:
    """A confirmed booking of one service, stored as the booking service stores it (times in UTC)."""
    start = start.astimezone(UTC)
    end = start + timedelta(minutes=minutes)
    values: dict[str, Any] = {
        "id": BOOKING_ID,
        "tenant_id": TENANT_ID,
        "status": BookingStatus.CONFIRMED,
        "start": start,
        "end": end,
        "occupied_start": start,
        "occupied_end": end,
        "staff_id": "staff-amelia",
        "services": [
            BookedService(
                id="svc-swedish", name="Swedish massage", duration_minutes=minutes, price_minor=price_minor
            )
        ],
        "total_minor": price_minor,
        "currency": "GBP",
        "customer": CustomerDetails(
            name="Ada Lovelace", email="ada@customers.example", phone="+447911123456"
        ),
        "created_at": CREATED,
        "updated_at": CREATED,
        **fields,
    }
    return Booking(**values)


# --- a clock the tests move -----------------------------------------------------------------------------


class ManualClock:
    """The notification service's clock: starts at the real time and moves only when a test moves it."""

    def __init__(self, instant: datetime | None = None) -> None:
        self.instant = instant or datetime.now(UTC)

    def now(self) -> datetime:
        return self.instant

    def set(self, instant: datetime) -> None:
        self.instant = instant


# --- a business to book with ----------------------------------------------------------------------------


@dataclass
class Salon:
    """A business whose one staff member works 09:00-17:00 every day, with one 60-minute service."""

    tenant: Tenant
    zone: ZoneInfo
    staff_id: str
    staff_email: str
    service_id: str
    extra: dict[str, str]  # further staff or services by name -> id
    offset: int = 0  # days added to every day(): tests sharing a salon each take their own part of the diary

    @property
    def slug(self) -> str:
        return self.tenant.slug

    def at(self, day: date, hhmm: str) -> datetime:
        return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=self.zone)

    def day(self, days_ahead: int) -> date:
        today = datetime.now(UTC).astimezone(self.zone).date()
        return today + timedelta(days=self.offset + days_ahead)


def admin_create(api: LambdaApi, tenant: Tenant, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(path, token=tenant.token(), json_body=body)
    assert response.status == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def every_day(start: str = "09:00", end: str = "17:00") -> list[dict[str, Any]]:
    return [{"weekday": day, "start": start, "end": end} for day in WEEK]


def build_salon(
    api: LambdaApi,
    make_tenant: MakeTenant,
    *,
    service: dict[str, Any] | None = None,
    second_staff: bool = False,
    **settings: Any,
) -> Salon:
    fields: dict[str, Any] = {
        "name": "Serenity Day Spa",
        "time_zone": "Europe/London",
        "currency": "GBP",
        "address": "1 High Street, Bath",
        "contact_email": "hello@serenity.example",
        "contact_phone": "+441225123456",
        "min_notice_minutes": 60,
        "cancellation_cutoff_hours": 24,
        "online_appointments": True,
        **settings,
    }
    tenant = make_tenant(**fields)
    suffix = tenant.slug.removeprefix("test-")
    staff_email = f"amelia-{suffix}@staff.example"
    amelia = admin_create(
        api,
        tenant,
        "/v1/admin/staff",
        {"name": "Amelia Hart", "email": staff_email, "shifts": every_day()},
    )
    staff_ids = [amelia["id"]]
    extra: dict[str, str] = {}
    if second_staff:
        ben = admin_create(
            api,
            tenant,
            "/v1/admin/staff",
            {"name": "Ben Okafor", "email": f"ben-{suffix}@staff.example", "shifts": every_day()},
        )
        staff_ids.append(ben["id"])
        extra["ben"] = ben["id"]
        extra["ben_email"] = f"ben-{suffix}@staff.example"
    created = admin_create(
        api,
        tenant,
        "/v1/admin/services",
        {
            "name": "Swedish massage",
            "duration_minutes": 60,
            "price_minor": 6500,
            "staff_ids": staff_ids,
            **(service or {}),
        },
    )
    return Salon(
        tenant=tenant,
        zone=ZoneInfo(fields["time_zone"]),
        staff_id=amelia["id"],
        staff_email=staff_email,
        service_id=created["id"],
        extra=extra,
    )


@dataclass(frozen=True)
class Customer:
    name: str
    email: str
    phone: str | None

    def body(self) -> dict[str, Any]:
        return {"name": self.name, "email": self.email, **({"phone": self.phone} if self.phone else {})}


def new_customer(name: str = "Ada Lovelace", phone: bool = True) -> Customer:
    """A customer no other test uses: unique email and (valid UK mobile) phone number."""
    token = secrets.token_hex(4)
    number = f"+4479111{secrets.randbelow(100_000):05d}" if phone else None
    return Customer(name=name, email=f"ada-{token}@customers.example", phone=number)


def book(
    api: LambdaApi,
    salon: Salon,
    start: datetime,
    customer: Customer,
    *,
    staff: str = "any",
    status: int = 201,
) -> dict[str, Any]:
    """Books through the public API, as the widget does; returns the booking with its manage token."""
    response = api.post(
        f"/v1/public/businesses/{salon.slug}/bookings",
        json_body={
            "services": [salon.service_id],
            "staff": staff,
            "start": start.isoformat(),
            "customer": customer.body(),
        },
        headers={"Idempotency-Key": secrets.token_hex(8)},
    )
    assert response.status == status, response.text
    booking: dict[str, Any] = response.json()
    return booking


# --- what the embedded SES and SNS received -------------------------------------------------------------


def messages_to(entries: list[dict[str, Any]], *recipients: str | None) -> list[dict[str, Any]]:
    """The outbox entries (newest first) addressed to any of `recipients`."""
    wanted = {r for r in recipients if r}
    return [e for e in entries if wanted & set(e.get("to", []))]


def emails(entries: list[dict[str, Any]], to: str) -> list[dict[str, Any]]:
    return [e for e in messages_to(entries, to) if e["channel"] == "email"]


def texts(entries: list[dict[str, Any]], to: str | None) -> list[dict[str, Any]]:
    return [e for e in messages_to(entries, to) if e["channel"] == "sms"]


def invite_of(message: dict[str, Any]) -> dict[str, Any]:
    """The message's one calendar attachment."""
    invites = [a for a in message["attachments"] if a["content_type"] == "text/calendar"]
    assert len(invites) == 1, message["attachments"]
    invite: dict[str, Any] = invites[0]
    return invite


# --- the booking table's stream and the reminder schedules, read through the AWS APIs --------------------


class StreamTap:
    """Reads the booking table's stream from the moment it is created, independently of any dispatcher,
    keeping the booking records (the template's filter), so a test can deliver them again."""

    def __init__(self, aws: Any, table_name: str) -> None:
        self._streams = aws.client("dynamodbstreams")
        self._arn = aws.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        self._iterators = {
            shard["ShardId"]: self._streams.get_shard_iterator(
                StreamArn=self._arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for shard in shards
        }

    def records(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for shard_id, iterator in list(self._iterators.items()):
            response = self._streams.get_records(ShardIterator=iterator)
            self._iterators[shard_id] = response["NextShardIterator"]
            found.extend(
                {**record, "eventSourceARN": self._arn}
                for record in response.get("Records", [])
                if (record["dynamodb"].get("NewImage") or {}).get("kind") == {"S": "booking"}
            )
        return found


def reminder_schedules(scheduler: Any, group: str, booking_id: str) -> dict[str, dict[str, Any]]:
    """The booking's reminder schedules in EventBridge Scheduler, by name, with their full definitions."""
    names = [
        s["Name"]
        for page in scheduler.get_paginator("list_schedules").paginate(
            GroupName=group, NamePrefix=f"rem-{booking_id}-"
        )
        for s in page["Schedules"]
    ]
    return {name: scheduler.get_schedule(Name=name, GroupName=group) for name in names}


def at_expression(instant: datetime) -> str:
    return f"at({instant.astimezone(UTC):%Y-%m-%dT%H:%M:%S})"
