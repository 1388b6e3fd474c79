"""The slot engine: which start times are bookable, and with whom.

Pure: everything it needs is passed in, including the current instant. Time is handled as whole minutes
since the Unix epoch (UTC) in the inner loops, which keeps 50 staff x 31 days fast; wall-clock rules
(shifts, breaks, operating hours, closures) are turned into UTC per business-local date, so a 09:00
shift stays 09:00 local across a DST change. A local time that does not exist (spring forward) maps to
the instant just after the gap; a repeated one (fall back) means its first occurrence.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from booking.domain.catalogue import WEEKDAYS, Business, Service, StaffMember, TimeWindow, WeeklyHours

MAX_RANGE_DAYS = 31

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_minute(instant: datetime) -> int:
    """Whole minutes since the epoch (floored)."""
    return int((instant - _EPOCH).total_seconds() // 60)


def _ceil_minute(instant: datetime) -> int:
    return -int((_EPOCH - instant).total_seconds() // 60)


def from_minute(minute: int) -> datetime:
    return _EPOCH + timedelta(minutes=minute)


@functools.lru_cache(maxsize=8192)  # pure; staff share shift times, so a month repeats a few conversions
def local_to_minute(day: date, wall: time, zone: ZoneInfo) -> int:
    """A wall-clock time on a local date as epoch minutes (gap -> after the gap, repeat -> first)."""
    local = datetime.combine(day, wall, tzinfo=zone)
    minute = to_minute(local.astimezone(UTC))  # fold=0: a repeated time is its first occurrence
    naive = local.replace(tzinfo=None)
    if from_minute(minute).astimezone(zone).replace(tzinfo=None) != naive:
        # In a spring-forward gap fold=0 overshoots by the time into the gap (02:30 -> 03:30), so a shift
        # ending at 02:30 would overlap one starting at 03:00. Step back to the moment the clock jumps.
        while from_minute(minute - 1).astimezone(zone).replace(tzinfo=None) > naive:
            minute -= 1
    return minute


@dataclass(frozen=True)
class Appointment:
    """What is being booked: the customer's time, plus the staff member's buffers around it."""

    duration: int
    buffer_before: int
    buffer_after: int

    @property
    def total_minutes(self) -> int:
        """Duration plus both buffers: how long the staff member is kept busy."""
        return self.buffer_before + self.duration + self.buffer_after

    @classmethod
    def for_services(cls, business: Business, services: Sequence[Service]) -> Appointment:
        """Services run back to back with one staff member: the first one's buffer before, the last one's
        buffer after."""
        if not services:
            raise ValueError("an appointment needs at least one service")
        before, _ = services[0].buffers(business)
        _, after = services[-1].buffers(business)
        return cls(
            duration=sum(s.duration_minutes for s in services), buffer_before=before, buffer_after=after
        )


class Busy(NamedTuple):
    """Time a staff member is not available: a booking's occupancy (with buffers), a hold, or time off.
    A tuple: availability builds thousands of these per request."""

    staff_id: str
    start: int  # epoch minutes
    end: int
    owner: str = ""  # the ledger's tag of the booking or hold (empty for time off)


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    staff_ids: tuple[str, ...]


@dataclass
class SlotQuery:
    business: Business
    appointment: Appointment
    staff: Sequence[StaffMember]  # already qualified for the services
    busy: Iterable[Busy]
    now: datetime
    range_start: datetime  # inclusive; slots starting in [range_start, range_end)
    range_end: datetime
    _zone: ZoneInfo = field(init=False)

    def __post_init__(self) -> None:
        self._zone = ZoneInfo(self.business.time_zone)


def qualified_staff(
    staff: Iterable[StaffMember], services: Sequence[Service], *, public: bool
) -> list[StaffMember]:
    """Staff assigned every requested service; for public booking also bookable online with shifts."""
    wanted = {s.id for s in services}
    return [
        member
        for member in staff
        if wanted <= set(member.service_ids) and (not public or (member.bookable_online and member.shifts))
    ]


def _subtract(window: tuple[int, int], holes: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    pieces = [window]
    for hole_start, hole_end in holes:
        next_pieces = []
        for start, end in pieces:
            if hole_end <= start or end <= hole_start:
                next_pieces.append((start, end))
                continue
            if start < hole_start:
                next_pieces.append((start, hole_start))
            if hole_end < end:
                next_pieces.append((hole_end, end))
        pieces = next_pieces
    return pieces


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for a_start, a_end in a:
        for b_start, b_end in b:
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                out.append((start, end))
    return sorted(out)


def _closed_dates(business: Business) -> set[date]:
    closed: set[date] = set()
    for closure in business.closures:
        day = closure.start_date
        while day <= closure.end_date:
            closed.add(day)
            day += timedelta(days=1)
    return closed


def _local_windows(windows: Iterable[TimeWindow], day: date, zone: ZoneInfo) -> list[tuple[int, int]]:
    return [(local_to_minute(day, w.start, zone), local_to_minute(day, w.end, zone)) for w in windows]


def working_windows(
    business: Business, member: StaffMember, day: date, zone: ZoneInfo
) -> list[tuple[int, int]]:
    """When `member` can be with a customer on local date `day`: shifts minus breaks, within operating
    hours (if the business sets any), nothing on a closure day. Epoch minutes, sorted."""
    weekday = WEEKDAYS[day.weekday()]
    windows: list[tuple[int, int]] = []
    for shift in member.shifts:
        if shift.weekday != weekday:
            continue
        [whole] = _local_windows([shift], day, zone)
        windows.extend(_subtract(whole, _local_windows(shift.breaks, day, zone)))
    if business.operating_hours:
        hours = _local_windows([h for h in business.operating_hours if h.weekday == weekday], day, zone)
        windows = _intersect(sorted(windows), hours)
    return sorted(windows)


def within_working_hours(business: Business, member: StaffMember, start: datetime, end: datetime) -> bool:
    """Whether a job placed by hand from `start` to `end` lies within one of `member`'s shifts that day,
    breaks included (a full day's job spans the lunch break; the worker takes it on the job), inside the
    business's operating hours if it sets any, on no closure day and clear of the member's time off."""
    zone = ZoneInfo(business.time_zone)
    day = start.astimezone(zone).date()
    weekday = WEEKDAYS[day.weekday()]
    lo, hi = to_minute(start), to_minute(end)

    def inside(windows: Iterable[WeeklyHours]) -> bool:
        spans = _local_windows([w for w in windows if w.weekday == weekday], day, zone)
        return any(s <= lo and hi <= e for s, e in spans)

    if not inside(member.shifts):
        return False
    if business.operating_hours and not inside(business.operating_hours):
        return False
    if day in _closed_dates(business):
        return False
    return not any(t.start < end and start < t.end for t in member.time_off)


def _merge(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _local_dates(start: int, end: int, zone: ZoneInfo) -> list[date]:
    first = from_minute(start).astimezone(zone).date() - timedelta(days=1)
    last = from_minute(end).astimezone(zone).date() + timedelta(days=1)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _grid_from(minute: int, anchor: int | None, interval: int, zone: ZoneInfo) -> int:
    """The first start at or after `minute` on the local grid. With `anchor` (a start on the grid, the
    clocks keeping one offset) by arithmetic; without, on the night the clocks change, by the wall clock."""
    if anchor is not None:
        return anchor + -(-(minute - anchor) // interval) * interval
    while True:
        wall = from_minute(minute).astimezone(zone)
        if (wall.hour * 60 + wall.minute) % interval == 0:
            return minute
        minute += 1


def _shift_pattern(member: StaffMember) -> object:
    return tuple(
        (shift.weekday, shift.start, shift.end, tuple((b.start, b.end) for b in shift.breaks))
        for shift in member.shifts
    )


def _gridded_windows(
    business: Business, member: StaffMember, day: date, zone: ZoneInfo, interval: int
) -> list[tuple[int, int, int, bool]]:
    """The member's working windows on `day`, each with its first start on the business's local grid
    (multiples of the interval from local midnight) and whether the clocks keep one offset through it."""
    gridded = []
    for window_start, window_end in working_windows(business, member, day, zone):
        local_start = from_minute(window_start).astimezone(zone)
        first_on_grid = window_start + (-(local_start.hour * 60 + local_start.minute)) % interval
        # Plain arithmetic keeps to that grid unless the clocks change inside the window.
        steady = local_start.utcoffset() == from_minute(window_end).astimezone(zone).utcoffset()
        gridded.append((window_start, window_end, first_on_grid, steady))
    return gridded


def find_slots(query: SlotQuery) -> list[Slot]:
    """Every bookable start in the range, each with the staff free for the whole appointment."""
    business = query.business
    zone = query._zone
    interval = business.slot_interval_minutes
    appointment = query.appointment
    before, duration, after = appointment.buffer_before, appointment.duration, appointment.buffer_after

    now = to_minute(query.now)
    # The notice ends at a moment, not a minute: rounded up, so 10:00:30 + 60 minutes offers 11:01 on.
    notice_ends = query.now + timedelta(minutes=business.min_notice_minutes)
    earliest = max(to_minute(query.range_start), _ceil_minute(notice_ends))
    # A start must be strictly in the future even with zero notice, and within the booking window.
    earliest = max(earliest, now + 1)
    latest = min(to_minute(query.range_end), _ceil_minute(query.now) + business.booking_window_days * 24 * 60)
    if earliest >= latest:
        return []

    busy_by_staff: dict[str, list[tuple[int, int]]] = {}
    for item in query.busy:
        busy_by_staff.setdefault(item.staff_id, []).append((item.start, item.end))
    for member in query.staff:
        time_off = [(to_minute(t.start), to_minute(t.end)) for t in member.time_off]
        busy_by_staff[member.id] = _merge(busy_by_staff.get(member.id, []) + time_off)

    closed = _closed_dates(business)
    dates = [d for d in _local_dates(earliest, latest, zone) if d not in closed]
    free: dict[int, list[str]] = {}
    # Staff mostly share shift patterns: each pattern's windows (and where the grid starts in them) are
    # worked out once per day, not once per staff member and day.
    windows_of: dict[tuple[object, date], list[tuple[int, int, int, bool]]] = {}
    for member in query.staff:
        busy = busy_by_staff[member.id]
        n_busy = len(busy)
        j = 0  # candidates only move forward in time, so one pointer sweeps the member's busy list
        pattern = _shift_pattern(member)
        for day in dates:
            windows = windows_of.get((pattern, day))
            if windows is None:
                windows = windows_of[(pattern, day)] = _gridded_windows(business, member, day, zone, interval)
            for window_start, window_end, first_on_grid, steady in windows:
                candidate = first_on_grid
                anchor = candidate if steady else None
                if not steady:
                    candidate = _grid_from(window_start, None, interval, zone)
                candidate = _grid_from(max(candidate, earliest), anchor, interval, zone)
                last_start = min(window_end - duration, latest - 1)
                while candidate <= last_start:
                    occupied_start = candidate - before
                    while j < n_busy and busy[j][1] <= occupied_start:
                        j += 1
                    # busy is sorted and merged, so only busy[j] can overlap; jump past it if it does.
                    if j < n_busy and busy[j][0] < candidate + duration + after:
                        candidate = _grid_from(busy[j][1] + before, anchor, interval, zone)
                        continue
                    free.setdefault(candidate, []).append(member.id)
                    candidate = (
                        candidate + interval if steady else _grid_from(candidate + 1, None, interval, zone)
                    )
    return [
        Slot(start=from_minute(start), end=from_minute(start + duration), staff_ids=tuple(sorted(staff)))
        for start, staff in sorted(free.items())
    ]


def overlaps_busy(busy: Iterable[Busy], staff_id: str, start: datetime, end: datetime) -> bool:
    """Whether [start, end) collides with anything busy for the staff member."""
    lo, hi = to_minute(start), to_minute(end)
    return any(b.staff_id == staff_id and b.start < hi and lo < b.end for b in busy)


def occupancy(start: datetime, appointment: Appointment) -> tuple[datetime, datetime]:
    """The span a booking starting at `start` keeps its staff member busy (buffers included)."""
    return (
        start - timedelta(minutes=appointment.buffer_before),
        start + timedelta(minutes=appointment.duration + appointment.buffer_after),
    )
