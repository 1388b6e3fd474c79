"""(a) The pure slot engine: `find_slots` for 50 staff x 31 days with 5,000 existing bookings."""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bench.scenario import (
    BOOKING_COUNT,
    BUFFER_AFTER_MINUTES,
    DAYS,
    STAFF_COUNT,
    ZONE_NAME,
    business_settings,
    plan_bookings,
    service_draft,
    staff_draft,
)
from bench.stats import Summary, summarize
from booking.domain.availability import Appointment, Busy, Slot, SlotQuery, find_slots, to_minute
from booking.domain.catalogue import Business, Service, StaffMember

# A Monday; the 31 days cross the spring-forward change (29 March) and a closure (Good Friday).
FIRST_DAY = date(2026, 3, 9)
CLOSED = (date(2026, 4, 3),)
NOW = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # the Sunday before, so the whole range is bookable
WARMUP_RUNS = 3


@dataclass(frozen=True)
class EngineResult:
    timings: Summary  # wall clock
    cpu: Summary  # CPU time of the benchmarking thread: less sensitive to other load on the machine
    slots: int
    staff_slot_pairs: int
    busy: int


def _query(business: Business, service: Service, staff: list[StaffMember], busy: list[Busy]) -> SlotQuery:
    zone = ZoneInfo(ZONE_NAME)
    return SlotQuery(
        business=business,
        appointment=Appointment.for_services(business, [service]),
        staff=staff,
        busy=busy,
        now=NOW,
        range_start=datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=zone),
        range_end=datetime.combine(FIRST_DAY + timedelta(days=DAYS), datetime.min.time(), tzinfo=zone),
    )


def build_inputs() -> tuple[Business, Service, list[StaffMember], list[Busy]]:
    settings = business_settings("bench-engine", closures=CLOSED)
    business = Business(**settings.model_dump(), id="bench-business", created_at=NOW, updated_at=NOW)
    service = Service(**service_draft().model_dump(), id="svc-massage")
    staff = [
        StaffMember(**staff_draft(i, [service.id]).model_dump(), id=f"staff-{i:02d}")
        for i in range(STAFF_COUNT)
    ]
    planned = plan_bookings(FIRST_DAY, closed=CLOSED)
    busy = [Busy(staff[p.staff_index].id, to_minute(p.start), to_minute(p.occupied_end)) for p in planned]
    return business, service, staff, busy


def _check(slots: list[Slot], busy: list[Busy], interval: int) -> int:
    """Sanity check outside the timed runs: no slot collides with a booking of a staff member it names,
    and every start is on the grid. Returns the number of (slot, staff) pairs."""
    by_staff: dict[str, list[tuple[int, int]]] = {}
    for item in busy:
        by_staff.setdefault(item.staff_id, []).append((item.start, item.end))
    for intervals in by_staff.values():
        intervals.sort()
    pairs = 0
    for slot in slots:
        start, end = to_minute(slot.start), to_minute(slot.end)
        if slot.start.astimezone(ZoneInfo(ZONE_NAME)).minute % interval:
            raise AssertionError(f"slot {slot.start} is off the {interval}-minute grid")
        for staff_id in slot.staff_ids:
            intervals = by_staff.get(staff_id, [])
            # The buffer after the appointment must be free too. Bookings of one staff member never
            # overlap, so of those starting before the occupancy ends only the last can reach into it.
            i = bisect.bisect_left(intervals, (end + BUFFER_AFTER_MINUTES,))
            if i and intervals[i - 1][1] > start:
                raise AssertionError(f"slot {slot.start} offered with {staff_id}, who is busy then")
            pairs += 1
    return pairs


def run(runs: int = 20, with_bookings: bool = True) -> EngineResult:
    business, service, staff, busy = build_inputs()
    if len(busy) != BOOKING_COUNT:
        raise AssertionError(f"planned {len(busy)} bookings, wanted {BOOKING_COUNT}")
    if not with_bookings:
        busy = []
    slots: list[Slot] = []
    for _ in range(WARMUP_RUNS):
        slots = find_slots(_query(business, service, staff, busy))
    pairs = _check(slots, busy, business.slot_interval_minutes)
    if not slots:
        raise AssertionError("the engine found no slots at all in a month that is not fully booked")
    timings, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.thread_time()
        find_slots(_query(business, service, staff, busy))
        timings.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - started_cpu)
    return EngineResult(
        timings=summarize(timings),
        cpu=summarize(cpu),
        slots=len(slots),
        staff_slot_pairs=pairs,
        busy=len(busy),
    )
