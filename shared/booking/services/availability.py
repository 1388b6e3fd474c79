"""Availability: the free start times of one or more services over a range of days, for a booking widget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.domain.availability import MAX_RANGE_DAYS, Slot, SlotQuery, find_slots
from booking.ports import BookingRepository, Clock
from booking.services.booking_engine import BookingEngine, check_day_range, invalid


@dataclass(frozen=True)
class AvailableDay:
    date: date
    slots: list[Slot]


@dataclass(frozen=True)
class Availability:
    time_zone: ZoneInfo
    days: list[AvailableDay]


class AvailabilityService:
    def __init__(self, engine: BookingEngine, bookings: BookingRepository, clock: Clock) -> None:
        self._engine = engine
        self._bookings = bookings
        self._clock = clock

    def availability(
        self, slug: str, service_ids: Sequence[str], staff: str, first: date, last: date, time_zone: str
    ) -> Availability:
        catalogue = self._engine.public_catalogue(slug)
        try:
            zone = ZoneInfo(time_zone)
        except (KeyError, ValueError) as error:
            raise invalid("tz", f"unknown IANA time zone {time_zone!r}") from error
        check_day_range(first, last)
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise invalid("to", f"at most {MAX_RANGE_DAYS} days per request")
        services = self._engine.services(catalogue, service_ids)
        self._engine.delivery_choices(catalogue.business, services)  # nothing to offer if none
        appointment = self._engine.appointment(catalogue, services)
        candidates = self._engine.candidates(catalogue, services, staff, public=True, field="staff")

        range_start = datetime.combine(first, time(0), tzinfo=zone)
        range_end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
        busy = self._bookings.busy(catalogue.business.id, range_start, range_end)
        slots = find_slots(
            SlotQuery(
                business=catalogue.business,
                appointment=appointment,
                staff=candidates,
                busy=busy,
                now=self._clock.now(),
                range_start=range_start,
                range_end=range_end,
            )
        )
        by_day: dict[date, list[Slot]] = {}
        for slot in slots:
            by_day.setdefault(slot.start.astimezone(zone).date(), []).append(slot)
        return Availability(zone, [AvailableDay(day, by_day[day]) for day in sorted(by_day)])
