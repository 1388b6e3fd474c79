"""The catalogue a business sells from: its settings, categories, services and staff.

Drafts are what a client writes (request bodies); entities add the server-owned id and version. A
service and a staff member are linked by assignments, stored once and shown on both sides.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_extra_types.country import CountryAlpha2

from booking.domain.booking_requests import RequestSettings
from booking.domain.meetings import DEFAULT_JITSI_BASE_URL, HttpsBaseUrl, MeetingProvider
from booking.domain.no_shows import NoShowPolicy
from booking.domain.payments import CaptureMode, PaymentRule
from booking.domain.refunds import CancellationPolicy
from booking.domain.reminders import ReminderRule
from booking.domain.series import DEFAULT_MAX_OCCURRENCES, MAX_OCCURRENCES
from booking.domain.sms import DEFAULT_DAILY_CAP
from booking.domain.types import (
    Currency,
    Description,
    Email,
    Id,
    Instant,
    LocalTime,
    MinorUnits,
    Minutes,
    Model,
    Name,
    Origin,
    PhoneE164,
    ShortText,
    Slug,
    TimeZoneName,
)

BufferMinutes = Annotated[Minutes, Field(le=60)]
# A booking writes a ledger sheet and a diary entry for every UTC day it touches, and a reschedule may
# rewrite both the old days and the new ones: 21 days (22 days touched, 88 writes + 2) keeps the longest
# reschedule inside one 100-action DynamoDB transaction.
MAX_BOOKING_MINUTES = 21 * 24 * 60
DEFAULT_MAX_BOOKING_MINUTES = 14 * 24 * 60
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DeliveryMode = Literal["in_person", "online", "both"]


# --- time windows -------------------------------------------------------------------------------------


class TimeWindow(Model):
    """A local wall-clock window within one day, e.g. 09:00-17:30. End 00:00 is not allowed: use 23:59."""

    start: LocalTime
    end: LocalTime

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.start >= self.end:
            raise ValueError(f"start {self.start:%H:%M} must be before end {self.end:%H:%M}")
        return self

    def overlaps(self, other: TimeWindow) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: TimeWindow) -> bool:
        return self.start <= other.start and other.end <= self.end


class WeeklyHours(TimeWindow):
    """A window on one weekday, repeated every week (operating hours)."""

    weekday: Weekday


class Shift(WeeklyHours):
    """A staff member's weekly working window with its breaks."""

    breaks: list[TimeWindow] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _breaks_inside(self) -> Shift:
        for i, brk in enumerate(self.breaks):
            if not self.contains(brk):
                raise ValueError(
                    f"break {i} ({brk.start:%H:%M}-{brk.end:%H:%M}) lies outside its shift "
                    f"({self.start:%H:%M}-{self.end:%H:%M})"
                )
        _raise_on_overlap(self.breaks, "breaks")
        return self


def _raise_on_overlap(windows: Sequence[TimeWindow], what: str) -> None:
    ordered = sorted(enumerate(windows), key=lambda pair: pair[1].start)
    for (i, a), (j, b) in itertools.pairwise(ordered):
        if a.overlaps(b):
            raise ValueError(
                f"{what} {i} ({a.start:%H:%M}-{a.end:%H:%M}) and {j} ({b.start:%H:%M}-{b.end:%H:%M}) overlap"
            )


def _raise_on_weekly_overlap(windows: Sequence[WeeklyHours], what: str) -> None:
    for day in WEEKDAYS:
        _raise_on_overlap([w for w in windows if w.weekday == day], f"{what} on {day}:")


class Closure(Model):
    """Whole local days the business is closed (holidays, refurbishment), inclusive."""

    start_date: date
    end_date: date
    reason: ShortText = ""

    @model_validator(mode="after")
    def _ordered(self) -> Closure:
        if self.end_date < self.start_date:
            raise ValueError("end_date must be on or after start_date")
        return self


class TimeOff(Model):
    """A period a staff member is away, as absolute instants (holiday, appointment, sick leave)."""

    start: Instant
    end: Instant
    reason: ShortText = ""

    @model_validator(mode="after")
    def _ordered(self) -> TimeOff:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


# --- business -----------------------------------------------------------------------------------------


class BusinessSettings(Model):
    """Everything an owner or admin configures about the business."""

    name: Name
    slug: Slug
    time_zone: TimeZoneName
    currency: Currency
    address: ShortText = ""
    legal_name: ShortText = ""  # on every invoice and credit note; empty: `name`
    tax_id: ShortText = ""  # the tax registration number (a VAT number) on every invoice and credit note
    contact_email: Email | None = None
    contact_phone: PhoneE164 | None = None
    operating_hours: list[WeeklyHours] = Field(default_factory=list, max_length=50)
    closures: list[Closure] = Field(default_factory=list, max_length=200)
    booking_window_days: int = Field(default=60, ge=1, le=730)
    min_notice_minutes: int = Field(default=60, ge=0, le=60 * 24 * 30)
    # How often a start is offered online, counted from local midnight.
    slot_interval_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # The longest one booking may occupy, buffers included.
    max_booking_minutes: int = Field(default=DEFAULT_MAX_BOOKING_MINUTES, ge=1, le=MAX_BOOKING_MINUTES)
    default_buffer_before_minutes: BufferMinutes = 0
    default_buffer_after_minutes: BufferMinutes = 0
    # Customers may cancel or reschedule online until this long before.
    cancellation_cutoff_hours: int = Field(default=24, ge=0, le=24 * 30)
    # Customers may reschedule bookings staff made for them through their link; false: they ask the
    # business instead (a job arranged from a booking request is always asked for).
    customers_move_staff_bookings: bool = True
    widget_origins: list[Origin] = Field(default_factory=list, max_length=20)
    # Reminders before each booking; None: 24 hours and 1 hour before, by email and SMS.
    reminders: list[ReminderRule] | None = Field(default=None, max_length=5)
    email_sender_name: Name | None = None  # the From name; None: the business's name
    reply_to_email: Email | None = None  # None: contact_email
    sms_enabled: bool = True  # text customers at all (each may still opt out)
    # Countries (ISO 3166 alpha-2) whose numbers may be texted; None: the business's own country, the one
    # its time zone belongs to.
    sms_countries: list[CountryAlpha2] | None = Field(default=None, max_length=50)
    sms_daily_cap: int = Field(default=DEFAULT_DAILY_CAP, ge=0, le=10_000)  # a business-local day
    # While off, 'online' services cannot be booked and services offered both ways are booked in person.
    online_appointments: bool = False
    meeting_provider: MeetingProvider = "manual"  # 'manual': staff add each booking's link
    jitsi_base_url: HttpsBaseUrl = DEFAULT_JITSI_BASE_URL  # where provider 'jitsi' makes its rooms
    # How long an online booking's confirmation waits for its meeting link; after that it goes out saying
    # the link will follow, and the link follows by itself.
    meeting_link_wait_seconds: int = Field(default=60, ge=0, le=900)
    max_series_occurrences: int = Field(default=DEFAULT_MAX_OCCURRENCES, ge=1, le=MAX_OCCURRENCES)
    # Reminders before each online booking; None: 3 days, 1 day and 1 hour before, by email and SMS, each
    # with the meeting link.
    online_reminders: list[ReminderRule] | None = Field(default=None, max_length=5)
    tax_rate_basis_points: int = Field(default=0, ge=0, le=10_000)  # hundredths of a percent: 2000 is 20 %
    prices_include_tax: bool = True  # false: the tax is added on top of the prices
    # 'immediate': taken at booking; 'on_staff_confirmation': authorised at booking, captured when staff
    # confirm the payment.
    capture: CaptureMode = "immediate"
    allow_skip_payment: bool = False  # customers may book now, unpaid, and pay later through a link
    # How long a booking that needs payment holds its time; unpaid by then, the time is free again.
    payment_hold_minutes: int = Field(default=15, ge=5, le=60)
    # Refunds by notice when a paid booking is cancelled; None: everything paid is refunded.
    cancellation_policy: CancellationPolicy | None = None
    booking_requests: RequestSettings = Field(default_factory=RequestSettings)  # off by default
    # What a no-show costs (keep the payment, charge a fee to the card on file, block); None: nothing.
    no_show_policy: NoShowPolicy | None = None
    # What customers pay at booking for services without their own rule; a change is not checked against
    # existing services' prices (each booking checks what it charges).
    default_payment: PaymentRule = Field(default_factory=PaymentRule)

    @field_validator("operating_hours")
    @classmethod
    def _hours_do_not_overlap(cls, value: list[WeeklyHours]) -> list[WeeklyHours]:
        _raise_on_weekly_overlap(value, "operating hours")
        return value


class Business(BusinessSettings):
    id: Id
    version: int = 1
    created_at: datetime
    updated_at: datetime


# --- categories, services, staff ----------------------------------------------------------------------


class CategoryDraft(Model):
    name: Name
    description: Description = ""
    position: int = Field(default=0, ge=0, le=10_000)


class Category(CategoryDraft):
    id: Id
    version: int = 1


# At most 40 links per side keeps replacing all of them within one 100-action DynamoDB transaction.
MAX_ASSIGNMENTS = 40


class ServiceDraft(Model):
    name: Name
    description: Description = ""
    category_id: Id | None = None
    duration_minutes: int = Field(ge=1, le=MAX_BOOKING_MINUTES)
    price_minor: MinorUnits
    buffer_before_minutes: BufferMinutes | None = None  # None: the business's default
    buffer_after_minutes: BufferMinutes | None = None  # None: the business's default
    delivery_mode: DeliveryMode = "in_person"
    staff_ids: list[Id] = Field(default_factory=list, max_length=MAX_ASSIGNMENTS)
    active: bool = True
    # The service's own reminders, cancellation policy and payment rule; None: the business's.
    reminders: list[ReminderRule] | None = Field(default=None, max_length=5)
    cancellation_policy: CancellationPolicy | None = None
    payment: PaymentRule | None = None

    @field_validator("staff_ids")
    @classmethod
    def _unique_staff(cls, value: list[Id]) -> list[Id]:
        return _unique(value, "staff_ids")


class Service(ServiceDraft):
    id: Id
    version: int = 1
    # An assignment is made from either side, each request naming at most MAX_ASSIGNMENTS: the stored
    # service may be offered by more staff than one request names (50 stylists doing haircuts).
    staff_ids: list[Id] = Field(default_factory=list)

    def buffers(self, business: BusinessSettings) -> tuple[int, int]:
        """Minutes kept free before and after, falling back to the business defaults."""
        before = self.buffer_before_minutes
        after = self.buffer_after_minutes
        return (
            business.default_buffer_before_minutes if before is None else before,
            business.default_buffer_after_minutes if after is None else after,
        )

    def payment_rule(self, business: BusinessSettings) -> PaymentRule:
        """What is paid at booking: the service's own rule, or the business's default."""
        return business.default_payment if self.payment is None else self.payment


class StaffDraft(Model):
    name: Name
    email: Email
    phone: PhoneE164 | None = None
    service_ids: list[Id] = Field(default_factory=list, max_length=MAX_ASSIGNMENTS)
    shifts: list[Shift] = Field(default_factory=list, max_length=50)
    time_off: list[TimeOff] = Field(default_factory=list, max_length=200)
    bookable_online: bool = True

    @field_validator("service_ids")
    @classmethod
    def _unique_services(cls, value: list[Id]) -> list[Id]:
        return _unique(value, "service_ids")

    @field_validator("shifts")
    @classmethod
    def _shifts_do_not_overlap(cls, value: list[Shift]) -> list[Shift]:
        _raise_on_weekly_overlap(value, "shifts")
        return value


class StaffMember(StaffDraft):
    id: Id
    version: int = 1
    service_ids: list[Id] = Field(default_factory=list)  # as Service.staff_ids: any number, both ways


def _unique(values: list[Id], what: str) -> list[Id]:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} lists an id twice")
    return values


# --- the whole catalogue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    """One tenant's catalogue, read in one go. Assignments are already reflected on both sides."""

    business: Business
    categories: tuple[Category, ...]
    services: tuple[Service, ...]
    staff: tuple[StaffMember, ...]

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def service(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def staff_member(self, staff_id: str) -> StaffMember | None:
        return next((s for s in self.staff if s.id == staff_id), None)

    def unknown_staff(self, staff_ids: Iterable[str]) -> list[str]:
        known = {s.id for s in self.staff}
        return [i for i in staff_ids if i not in known]

    def unknown_services(self, service_ids: Iterable[str]) -> list[str]:
        known = {s.id for s in self.services}
        return [i for i in service_ids if i not in known]

    def publicly_bookable_staff(self, service: Service) -> list[StaffMember]:
        """Staff a customer may pick for a service: assigned, bookable online, with at least one shift."""
        return [
            member
            for member in self.staff
            if member.id in service.staff_ids and member.bookable_online and member.shifts
        ]


def assemble_catalogue(
    business: Business,
    categories: Iterable[Category],
    services: Iterable[Service],
    staff: Iterable[StaffMember],
    assignments: Iterable[tuple[str, str]],
) -> Catalogue:
    """Builds a catalogue from stored parts, projecting (service_id, staff_id) assignments onto both sides."""
    services = list(services)
    staff = list(staff)
    known_services = {s.id for s in services}
    known_staff = {m.id for m in staff}
    # A pair whose side was deleted in a race is ignored rather than shown: ids are never reused.
    pairs = sorted(p for p in set(assignments) if p[0] in known_services and p[1] in known_staff)
    staff_by_service: dict[str, list[str]] = {}
    services_by_staff: dict[str, list[str]] = {}
    for service_id, staff_id in pairs:
        staff_by_service.setdefault(service_id, []).append(staff_id)
        services_by_staff.setdefault(staff_id, []).append(service_id)
    return Catalogue(
        business=business,
        categories=tuple(sorted(categories, key=lambda c: (c.position, c.name.lower(), c.id))),
        services=tuple(
            s.model_copy(update={"staff_ids": staff_by_service.get(s.id, [])})
            for s in sorted(services, key=lambda s: (s.name.lower(), s.id))
        ),
        staff=tuple(
            m.model_copy(update={"service_ids": services_by_staff.get(m.id, [])})
            for m in sorted(staff, key=lambda m: (m.name.lower(), m.id))
        ),
    )
