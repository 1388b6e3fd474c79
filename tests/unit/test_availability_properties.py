"""Properties of the slot engine over every IANA time zone, around its daylight saving changes.

Hypothesis builds a business in one of the zones, staff with random shifts and breaks on the days around
one of that zone's clock changes, a diary of existing bookings and time off, and a moment "now". Whatever
it builds, the offered slots must be working time, on the grid, after the notice, clear of every busy
interval including buffers, and booking one must take it (and everything overlapping it) off the offer.

The reference used below turns a local wall time into the first moment the clock reads it (a repeated
time is its first occurrence; a time the clock skips is the moment it jumps past it) and then checks every
minute by brute force; it shares no code with the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.domain.availability import Appointment, Busy, Slot, SlotQuery, find_slots
from booking.domain.catalogue import (
    WEEKDAYS,
    Business,
    Closure,
    Shift,
    StaffMember,
    TimeOff,
    TimeWindow,
    WeeklyHours,
)
from tests.support.zones import AWKWARD, all_zones, change_days

# Any IANA zone (and always the awkward ones), around one of the days it changes its clocks in 2026, or
# around a day in each half of the year for a zone that does not.
NO_CHANGE_DAYS = [date(2026, 3, 29), date(2026, 10, 25)]
UNITS_PER_DAY = 24 * 60 // 5
CREATED = datetime(2025, 1, 1, tzinfo=UTC)
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@dataclass(frozen=True)
class Scenario:
    business: Business
    staff: list[StaffMember]
    appointment: Appointment
    diary: list[Busy]
    now: datetime
    first: date
    last: date

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.business.time_zone)

    @property
    def range_start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=self.zone)

    @property
    def range_end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.zone)

    def query(self, diary: list[Busy] | None = None) -> SlotQuery:
        return SlotQuery(
            business=self.business,
            appointment=self.appointment,
            staff=self.staff,
            busy=self.diary if diary is None else diary,
            now=self.now,
            range_start=self.range_start,
            range_end=self.range_end,
        )


# --- strategies ----------------------------------------------------------------------------------------


def _clock(unit: int) -> time:
    return time(unit * 5 // 60, unit * 5 % 60)


@st.composite
def windows(draw: st.DrawFn, count: int) -> list[tuple[int, int]]:
    """Up to `count` disjoint windows of one day, in 5-minute units (the end at most 23:55)."""
    points = draw(st.lists(st.integers(0, UNITS_PER_DAY - 1), min_size=0, max_size=2 * count, unique=True))
    points.sort()
    return [(points[i], points[i + 1]) for i in range(0, len(points) - 1, 2)]


@st.composite
def shifts(draw: st.DrawFn) -> list[Shift]:
    out = []
    for weekday in WEEKDAYS:
        for start, end in draw(windows(2)):
            breaks = []
            if end - start >= 4 and draw(st.booleans()):
                a, b = sorted(
                    draw(st.lists(st.integers(start + 1, end - 1), min_size=2, max_size=2, unique=True))
                )
                breaks.append(TimeWindow(start=_clock(a), end=_clock(b)))
            out.append(Shift(weekday=weekday, start=_clock(start), end=_clock(end), breaks=breaks))
    return out


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    zone_name = draw(st.one_of(st.sampled_from(AWKWARD), st.sampled_from(all_zones())))
    zone = ZoneInfo(zone_name)
    change = draw(st.sampled_from(change_days(zone_name, 2026) or NO_CHANGE_DAYS))
    first = change + timedelta(days=draw(st.integers(-2, 0)))
    last = first + timedelta(days=draw(st.integers(0, 3)))

    operating_hours = []
    if draw(st.booleans()):
        for weekday in WEEKDAYS:
            operating_hours += [
                WeeklyHours(weekday=weekday, start=_clock(a), end=_clock(b)) for a, b in draw(windows(2))
            ]
    closures = []
    if draw(st.booleans()):
        closed = first + timedelta(days=draw(st.integers(0, 3)))
        closures.append(Closure(start_date=closed, end_date=closed))
    business = Business(
        id="biz",
        name="Property spa",
        slug="property-spa",
        time_zone=zone_name,
        currency="GBP",
        operating_hours=operating_hours,
        closures=closures,
        booking_window_days=draw(st.integers(1, 10)),
        min_notice_minutes=draw(st.sampled_from([0, 5, 45, 60, 120, 24 * 60])),
        slot_interval_minutes=draw(st.sampled_from([5, 10, 15, 20, 30, 45, 60, 90])),
        created_at=CREATED,
        updated_at=CREATED,
    )

    range_start = datetime.combine(first, time(0), tzinfo=zone)
    span_minutes = int((datetime.combine(last, time(0), tzinfo=zone) - range_start).total_seconds() // 60)
    span_minutes += 26 * 60

    def instant(minutes: int) -> datetime:  # elapsed time, not wall-clock arithmetic
        return range_start.astimezone(UTC) + timedelta(minutes=minutes)

    staff, diary = [], []
    for index in range(draw(st.integers(1, 3))):
        staff_id = f"s{index}"
        time_off = []
        if draw(st.booleans()):
            begin = draw(st.integers(-120, span_minutes))
            time_off.append(
                TimeOff(
                    start=instant(begin), end=instant(begin + draw(st.integers(1, 8 * 60))), reason="away"
                )
            )
        staff.append(
            StaffMember(
                id=staff_id,
                name=f"Staff {index}",
                email=f"{staff_id}@property.example",
                service_ids=["svc"],
                shifts=draw(shifts()),
                time_off=time_off,
            )
        )
        for _ in range(draw(st.integers(0, 6))):
            begin = draw(st.integers(-300, span_minutes)) // 5 * 5
            length = draw(st.integers(1, 48)) * 5
            diary.append(Busy(staff_id, _minute(instant(begin)), _minute(instant(begin + length))))

    before = draw(st.sampled_from([0, 5, 10, 30]))
    after = draw(st.sampled_from([0, 5, 15, 30]))
    duration = draw(st.integers(1, 36)) * 5
    appointment = Appointment(duration=duration, buffer_before=before, buffer_after=after)

    # "now": anywhere from two days before the range to inside it, to the second.
    now = range_start.astimezone(UTC) + timedelta(seconds=draw(st.integers(-2 * 86400, 3 * 86400)))
    return Scenario(business, staff, appointment, diary, now, first, last)


# --- the reference -------------------------------------------------------------------------------------


def _minute(instant: datetime) -> int:
    return int(instant.timestamp() // 60)


def _at(day: date, wall: time, zone: ZoneInfo) -> int:
    """The first moment the local clock reads `wall` on `day`, or where the clock skips it (spring forward),
    the moment it jumps past it."""
    naive = datetime(day.year, day.month, day.day, wall.hour, wall.minute)
    readings = [naive.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    real = [r for r in readings if r.astimezone(zone).replace(tzinfo=None) == naive]
    if real:
        return _minute(min(real))
    minute = _minute(min(readings))
    while datetime.fromtimestamp(minute * 60, UTC).astimezone(zone).replace(tzinfo=None) < naive:
        minute += 1
    return minute


def _cut(pieces: list[tuple[int, int]], hole: tuple[int, int]) -> list[tuple[int, int]]:
    out = []
    for start, end in pieces:
        if hole[1] <= start or end <= hole[0]:
            out.append((start, end))
            continue
        if start < hole[0]:
            out.append((start, hole[0]))
        if hole[1] < end:
            out.append((hole[1], end))
    return out


def reference_windows(scenario: Scenario, member: StaffMember) -> list[tuple[int, int]]:
    """Working time of `member` over the days around the range, minute intervals."""
    business, zone = scenario.business, scenario.zone
    closed = {c.start_date for c in business.closures}
    out: list[tuple[int, int]] = []
    day = scenario.first - timedelta(days=1)
    while day <= scenario.last + timedelta(days=1):
        weekday = WEEKDAYS[day.weekday()]
        if day not in closed:
            hours = [
                (_at(day, h.start, zone), _at(day, h.end, zone))
                for h in business.operating_hours
                if h.weekday == weekday
            ]
            for shift in member.shifts:
                if shift.weekday != weekday:
                    continue
                pieces = [(_at(day, shift.start, zone), _at(day, shift.end, zone))]
                for brk in shift.breaks:
                    pieces = _cut(pieces, (_at(day, brk.start, zone), _at(day, brk.end, zone)))
                if business.operating_hours:
                    pieces = [
                        (max(a, c), min(b, d)) for a, b in pieces for c, d in hours if max(a, c) < min(b, d)
                    ]
                out.extend(pieces)
        day += timedelta(days=1)
    return out


def busy_of(scenario: Scenario, member: StaffMember, diary: list[Busy]) -> list[tuple[int, int]]:
    booked = [(b.start, b.end) for b in diary if b.staff_id == member.id]
    return booked + [(_minute(t.start), _minute(t.end)) for t in member.time_off]


def occupied(scenario: Scenario, start: int) -> tuple[int, int]:
    a = scenario.appointment
    return start - a.buffer_before, start + a.duration + a.buffer_after


def on_grid(scenario: Scenario, start: int) -> bool:
    wall = datetime.fromtimestamp(start * 60, UTC).astimezone(scenario.zone)
    return bool((wall.hour * 60 + wall.minute) % scenario.business.slot_interval_minutes == 0)


def bounds(scenario: Scenario) -> tuple[float, float]:
    """Slot starts must lie in [earliest, latest), in epoch seconds."""
    business, now = scenario.business, scenario.now.timestamp()
    earliest = max(scenario.range_start.timestamp(), now + business.min_notice_minutes * 60, now + 1)
    latest = min(scenario.range_end.timestamp(), now + business.booking_window_days * 86400)
    return earliest, latest


def reference_slots(scenario: Scenario, diary: list[Busy]) -> dict[int, set[str]]:
    earliest, latest = bounds(scenario)
    free: dict[int, set[str]] = {}
    for member in scenario.staff:
        taken = busy_of(scenario, member, diary)
        for window_start, window_end in reference_windows(scenario, member):
            for start in range(window_start, window_end - scenario.appointment.duration + 1):
                if not (earliest <= start * 60 < latest) or not on_grid(scenario, start):
                    continue
                lo, hi = occupied(scenario, start)
                if any(b_start < hi and lo < b_end for b_start, b_end in taken):
                    continue
                free.setdefault(start, set()).add(member.id)
    return free


def as_map(slots: list[Slot]) -> dict[int, set[str]]:
    return {_minute(s.start): set(s.staff_ids) for s in slots}


# --- properties ----------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(scenarios())
def test_every_slot_is_free_working_time_on_the_grid_after_the_notice(scenario: Scenario) -> None:
    slots = find_slots(scenario.query())
    earliest, latest = bounds(scenario)
    members = {m.id: m for m in scenario.staff}
    duration = timedelta(minutes=scenario.appointment.duration)
    for slot in slots:
        start = _minute(slot.start)
        assert slot.end - slot.start == duration
        assert slot.start.second == 0 and slot.start.microsecond == 0
        assert slot.staff_ids and list(slot.staff_ids) == sorted(set(slot.staff_ids))
        assert on_grid(scenario, start), slot
        assert slot.start > scenario.now
        assert earliest <= slot.start.timestamp() < latest, (slot, scenario.now)
        for staff_id in slot.staff_ids:
            member = members[staff_id]
            # inside one window of working time (shift minus breaks, within opening hours, not closed)
            assert any(
                a <= start and start + scenario.appointment.duration <= b
                for a, b in reference_windows(scenario, member)
            ), (slot, staff_id)
            lo, hi = occupied(scenario, start)
            for b_start, b_end in busy_of(scenario, member, scenario.diary):
                assert not (b_start < hi and lo < b_end), (slot, staff_id, b_start, b_end)
    assert [s.start for s in slots] == sorted({s.start for s in slots})


@PROPERTY_SETTINGS
@given(scenarios())
def test_every_free_working_grid_time_is_offered(scenario: Scenario) -> None:
    assert as_map(find_slots(scenario.query())) == reference_slots(scenario, scenario.diary)


@PROPERTY_SETTINGS
@given(scenarios(), st.data())
def test_booking_a_slot_takes_it_and_everything_overlapping_it_off_the_offer(
    scenario: Scenario, data: Any
) -> None:
    before = find_slots(scenario.query())
    if not before:
        return
    chosen = data.draw(st.sampled_from(before))
    staff_id = data.draw(st.sampled_from(chosen.staff_ids))
    lo, hi = occupied(scenario, _minute(chosen.start))
    after = find_slots(scenario.query([*scenario.diary, Busy(staff_id, lo, hi)]))

    def overlaps(slot: Slot) -> bool:
        s_lo, s_hi = occupied(scenario, _minute(slot.start))
        return s_lo < hi and lo < s_hi

    for slot in after:
        if slot.start == chosen.start:
            assert staff_id not in slot.staff_ids
        if staff_id in slot.staff_ids:
            assert not overlaps(slot), (slot, chosen)
    # Nothing else changes: the member keeps every slot that does not overlap, and others keep theirs.
    kept = {(s.start, m) for s in before for m in s.staff_ids if m != staff_id or not overlaps(s)}
    assert {(s.start, m) for s in after for m in s.staff_ids} == kept
