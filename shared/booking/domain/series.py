"""Recurring series: a client's sessions with one staff member at a fixed rhythm (weekly, every N weeks,
monthly on the same weekday or the same date), booked in one call. Each occurrence is its own booking
(own time, status, reminders and, online, its own meeting), linked by the series id.

Occurrences keep the first session's local wall-clock time in the business's zone (10:00 stays 10:00
across a change of clocks), computed with dateutil's rrule. A month without the date (the 31st) has no
session that month; "monthly on the same weekday" takes the same ordinal weekday (the 2nd Tuesday), and the
last one when the first session is on a fifth weekday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator, model_validator

from booking.domain.booking import CustomerDetails
from booking.domain.types import Delivery, Description, Id, Instant, Model

Frequency = Literal["weekly", "monthly_by_weekday", "monthly_by_date"]
DEFAULT_MAX_OCCURRENCES = 52
MAX_OCCURRENCES = 104  # what a business may raise its maximum to: two years of weekly sessions


class SeriesRequest(Model):
    """A series for a client, as staff book it: the first session (`start`) with one staff member (a
    series is with one person), repeated every `interval` weeks or months, `count` times or `until` a
    business-local day. `skip_clashes` books the free dates and reports the others instead of refusing."""

    services: list[Id] = Field(min_length=1, max_length=5)
    staff: Id
    start: Instant
    customer: CustomerDetails
    notes: Description = ""
    delivery: Delivery | None = None  # needed when a service is offered both ways
    frequency: Frequency
    interval: Annotated[int, Field(ge=1, le=12)] = 1
    count: Annotated[int, Field(ge=1, le=MAX_OCCURRENCES)] | None = None
    until: date | None = None
    skip_clashes: bool = False
    allow_outside_shift: bool = False

    @field_validator("staff")
    @classmethod
    def _one_person(cls, value: str) -> str:
        if value == "any":
            raise ValueError("a series is with one staff member: name them (not 'any')")
        return value

    @model_validator(mode="after")
    def _one_end(self) -> SeriesRequest:
        if self.count is None and self.until is None:
            raise ValueError("a series needs an end: give `count` or `until`")
        if self.count is not None and self.until is not None:
            raise ValueError("give `count` or `until`, not both")
        return self


class SeriesCancel(Model):
    """Cancelling a series: the sessions on or after `from` (a business-local day), or every future one."""

    reason: Annotated[str, Field(max_length=200)] = ""
    from_: date | None = Field(default=None, alias="from")


def occurrence_starts(
    first: datetime,
    zone: ZoneInfo,
    frequency: Frequency,
    interval: int,
    count: int | None,
    until: date | None,
) -> list[datetime]:
    """Every session's start (UTC), the first included, at the first session's local wall-clock time."""
    from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday  # noqa: PLC0415 - only staff booking series

    local = first.astimezone(zone)
    naive = local.replace(tzinfo=None)
    if frequency == "weekly":
        rule = rrule(WEEKLY, interval=interval, dtstart=naive, count=count, until=_until(until))
    elif frequency == "monthly_by_date":
        rule = rrule(
            MONTHLY, interval=interval, dtstart=naive, bymonthday=naive.day, count=count, until=_until(until)
        )
    else:
        nth = (naive.day - 1) // 7 + 1
        which = weekday(naive.weekday(), -1 if nth == 5 else nth)
        rule = rrule(
            MONTHLY, interval=interval, dtstart=naive, byweekday=which, count=count, until=_until(until)
        )
    return [_instant(wall, zone) for wall in rule]


def _until(day: date | None) -> datetime | None:
    return datetime.combine(day, time(23, 59, 59)) if day is not None else None


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time; a time the clocks skip (spring forward) is taken an
    hour later, as the wall clock then reads it."""
    aware = wall.replace(tzinfo=zone)
    round_trip = aware.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != wall:
        aware = (wall + timedelta(hours=1)).replace(tzinfo=zone)
    return aware.astimezone(UTC)


class Occurrence(BaseModel):
    index: int
    start: datetime
    booking_id: str | None  # None: skipped
    skipped: str | None = None  # why it was not booked


class Series(BaseModel):
    """What was asked for and what was booked; each occurrence's state lives on its own booking."""

    id: str
    tenant_id: str
    staff_id: str
    customer_email: str
    frequency: Frequency
    interval: int
    occurrences: list[Occurrence]
    created_at: datetime

    @property
    def booked(self) -> list[Occurrence]:
        return [o for o in self.occurrences if o.booking_id is not None]
