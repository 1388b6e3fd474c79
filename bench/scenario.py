"""The busy business the benchmarks share: 50 staff on weekly shifts with lunch breaks, one 60-minute service
with a 10-minute buffer after it, a 15-minute slot grid in Europe/London, and a month of existing bookings
placed at random (seeded, so every run sees the same diary) on times the slot engine would have offered."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.domain.catalogue import (
    WEEKDAYS,
    BusinessSettings,
    Closure,
    ServiceDraft,
    Shift,
    StaffDraft,
    TimeWindow,
    Weekday,
    WeeklyHours,
)

ZONE_NAME = "Europe/London"
STAFF_COUNT = 50
DAYS = 31
BOOKING_COUNT = 5_000
SERVICE_MINUTES = 60
BUFFER_AFTER_MINUTES = 10
SLOT_INTERVAL_MINUTES = 15
RANDOM_SEED = 20260309


@dataclass(frozen=True)
class ShiftPattern:
    days: tuple[Weekday, ...]
    windows: tuple[tuple[str, str, tuple[str, str] | None], ...]  # (start, end, lunch break)


# Five rotas a real salon might run: early, late, long-late and a split shift, each five days a week.
PATTERNS: tuple[ShiftPattern, ...] = (
    ShiftPattern(("mon", "tue", "wed", "thu", "fri"), (("09:00", "17:00", ("13:00", "13:30")),)),
    ShiftPattern(("tue", "wed", "thu", "fri", "sat"), (("10:00", "18:00", ("14:00", "14:45")),)),
    ShiftPattern(("mon", "wed", "thu", "fri", "sat"), (("08:00", "16:00", ("12:00", "12:30")),)),
    ShiftPattern(("mon", "tue", "thu", "fri", "sat"), (("11:30", "19:30", ("15:30", "16:00")),)),
    ShiftPattern(("mon", "tue", "wed", "thu", "fri"), (("08:00", "12:00", None), ("15:00", "20:00", None))),
)


def next_monday(today: date) -> date:
    """The first Monday after `today` (a week ahead when today is a Monday)."""
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def _t(hhmm: str) -> time:
    return time.fromisoformat(hhmm)


def shifts_for(staff_index: int) -> list[Shift]:
    pattern = PATTERNS[staff_index % len(PATTERNS)]
    return [
        Shift(
            weekday=day,
            start=_t(start),
            end=_t(end),
            breaks=[TimeWindow(start=_t(lunch[0]), end=_t(lunch[1]))] if lunch else [],
        )
        for day in pattern.days
        for start, end, lunch in pattern.windows
    ]


def business_settings(slug: str, closures: Sequence[date] = ()) -> BusinessSettings:
    return BusinessSettings(
        name="Benchmark Spa",
        slug=slug,
        time_zone=ZONE_NAME,
        currency="GBP",
        operating_hours=[
            WeeklyHours(weekday=day, start=_t("08:00"), end=_t("20:00"))
            for day in ("mon", "tue", "wed", "thu", "fri", "sat")
        ],
        closures=[Closure(start_date=day, end_date=day, reason="bank holiday") for day in closures],
        booking_window_days=120,
        min_notice_minutes=120,
        slot_interval_minutes=SLOT_INTERVAL_MINUTES,
        default_buffer_after_minutes=BUFFER_AFTER_MINUTES,
    )


def service_draft() -> ServiceDraft:
    # Staff are linked from their side (StaffDraft.service_ids): a service lists at most 40 staff.
    return ServiceDraft(name="Massage (60 min)", duration_minutes=SERVICE_MINUTES, price_minor=6000)


def staff_draft(staff_index: int, service_ids: Sequence[str]) -> StaffDraft:
    return StaffDraft(
        name=f"Therapist {staff_index:02d}",
        email=f"therapist{staff_index:02d}@bench.example",
        service_ids=list(service_ids),
        shifts=shifts_for(staff_index),
    )


@dataclass(frozen=True)
class PlannedBooking:
    staff_index: int
    start: datetime  # UTC
    end: datetime  # start + the service's duration
    occupied_end: datetime  # end + the buffer after


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _free_windows(shifts: Sequence[Shift], weekday: Weekday) -> list[tuple[int, int]]:
    """Local minutes-of-day windows a staff member can be with a customer (shift minus breaks)."""
    windows: list[tuple[int, int]] = []
    for shift in shifts:
        if shift.weekday != weekday:
            continue
        cursor = _minutes(shift.start)
        for brk in sorted(shift.breaks, key=lambda b: b.start):
            windows.append((cursor, _minutes(brk.start)))
            cursor = _minutes(brk.end)
        windows.append((cursor, _minutes(shift.end)))
    return windows


def plan_bookings(
    first_day: date,
    days: int = DAYS,
    staff_count: int = STAFF_COUNT,
    count: int = BOOKING_COUNT,
    closed: Sequence[date] = (),
    seed: int = RANDOM_SEED,
) -> list[PlannedBooking]:
    """`count` non-overlapping bookings (occupancy = service + buffer) inside the staff's shifts, spread
    evenly over the working staff-days of the range, at random grid times."""
    zone = ZoneInfo(ZONE_NAME)
    rng = random.Random(seed)
    occupancy = SERVICE_MINUTES + BUFFER_AFTER_MINUTES
    staff_shifts = [shifts_for(i) for i in range(staff_count)]
    candidates: list[tuple[int, date, list[int]]] = []  # (staff, local date, shuffled grid starts)
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if day in closed:
            continue
        weekday = WEEKDAYS[day.weekday()]
        for index, shifts in enumerate(staff_shifts):
            starts = [
                minute
                for start, end in _free_windows(shifts, weekday)
                for minute in range(start, end - SERVICE_MINUTES + 1, SLOT_INTERVAL_MINUTES)
            ]
            if starts:
                rng.shuffle(starts)
                candidates.append((index, day, starts))
    if not candidates:
        raise ValueError("nobody works in the range")

    taken: list[list[int]] = [[] for _ in candidates]

    def take_one(slot: int) -> bool:
        _, _, starts = candidates[slot]
        while starts:
            minute = starts.pop()
            if all(abs(minute - other) >= occupancy for other in taken[slot]):
                taken[slot].append(minute)
                return True
        return False

    quota = [count // len(candidates)] * len(candidates)
    for slot in rng.sample(range(len(candidates)), count % len(candidates)):
        quota[slot] += 1
    placed = sum(sum(1 for _ in range(q) if take_one(slot)) for slot, q in enumerate(quota))
    order = list(range(len(candidates)))
    while placed < count:  # days where random placement left no room hand their share to others
        rng.shuffle(order)
        progress = False
        for slot in order:
            if placed == count:
                break
            if take_one(slot):
                placed += 1
                progress = True
        if not progress:
            raise ValueError(f"only {placed} of {count} bookings fit into the shifts")

    planned = []
    for (index, day, _), minutes in zip(candidates, taken, strict=True):
        for minute in minutes:
            local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
            start = local.astimezone(UTC)
            planned.append(
                PlannedBooking(
                    staff_index=index,
                    start=start,
                    end=start + timedelta(minutes=SERVICE_MINUTES),
                    occupied_end=start + timedelta(minutes=occupancy),
                )
            )
    planned.sort(key=lambda p: (p.start, p.staff_index))
    return planned
