"""The slot engine, by worked example: each test states a business, its staff and diary, and the exact start
times a customer is offered. Times are written as the business's local wall clock, as an owner would.

Also the small pure pieces around it: lock units, the lifecycle transition table and manage tokens.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking.domain.availability import (
    Appointment,
    Busy,
    Slot,
    SlotQuery,
    find_slots,
    occupancy,
    qualified_staff,
    to_minute,
    working_windows,
)
from booking.domain.booking import TRANSITIONS, BookingStatus, check_transition
from booking.domain.catalogue import (
    Business,
    Closure,
    Service,
    Shift,
    StaffMember,
    TimeOff,
    TimeWindow,
    WeeklyHours,
)
from booking.domain.errors import Conflict
from booking.domain.tokens import ManageTokens

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
CREATED = datetime(2025, 1, 1, tzinfo=UTC)
MONDAY = date(2026, 6, 1)  # a Monday in British Summer Time
LONG_AGO = datetime(2025, 12, 1, tzinfo=UTC)  # before every date used here


# --- builders -----------------------------------------------------------------------------------------


def t(hhmm: str) -> time:
    return time.fromisoformat(hhmm)


def make_business(**overrides: Any) -> Business:
    fields: dict[str, Any] = {
        "id": "biz",
        "name": "Serenity Day Spa",
        "slug": "serenity",
        "time_zone": "Europe/London",
        "currency": "GBP",
        "min_notice_minutes": 0,
        "slot_interval_minutes": 15,
        "booking_window_days": 365,
        "created_at": CREATED,
        "updated_at": CREATED,
        **overrides,
    }
    return Business(**fields)


def shift(weekday: str, start: str, end: str, *breaks: tuple[str, str]) -> Shift:
    return Shift(
        weekday=weekday,
        start=t(start),
        end=t(end),
        breaks=[TimeWindow(start=t(b[0]), end=t(b[1])) for b in breaks],
    )


def member(
    staff_id: str,
    *shifts: Shift,
    services: Sequence[str] = ("swedish",),
    time_off: Iterable[TimeOff] = (),
    bookable_online: bool = True,
) -> StaffMember:
    return StaffMember(
        id=staff_id,
        name=staff_id.title(),
        email=f"{staff_id}@serenity.example",
        service_ids=list(services),
        shifts=list(shifts),
        time_off=list(time_off),
        bookable_online=bookable_online,
    )


def service(
    service_id: str = "swedish",
    minutes: int = 60,
    before: int | None = None,
    after: int | None = None,
) -> Service:
    return Service(
        id=service_id,
        name=service_id.title(),
        duration_minutes=minutes,
        price_minor=5000,
        buffer_before_minutes=before,
        buffer_after_minutes=after,
    )


def local(day: date, hhmm: str, zone: ZoneInfo = LONDON) -> datetime:
    return datetime.combine(day, t(hhmm), tzinfo=zone)


def busy(staff_id: str, start: datetime, end: datetime) -> Busy:
    return Busy(staff_id, to_minute(start), to_minute(end))


def run(
    business: Business,
    staff: Sequence[StaffMember],
    appointment: Appointment,
    *,
    first: date = MONDAY,
    last: date | None = None,
    now: datetime = LONG_AGO,
    diary: Iterable[Busy] = (),
) -> list[Slot]:
    zone = ZoneInfo(business.time_zone)
    slots: list[Slot] = find_slots(
        SlotQuery(
            business=business,
            appointment=appointment,
            staff=staff,
            busy=list(diary),
            now=now,
            range_start=datetime.combine(first, time(0), tzinfo=zone),
            range_end=datetime.combine((last or first) + timedelta(days=1), time(0), tzinfo=zone),
        )
    )
    return slots


def wall(slots: Iterable[Slot], zone: ZoneInfo = LONDON, staff_id: str | None = None) -> list[str]:
    """Slot starts as local HH:MM (only those `staff_id` is free for, when given)."""
    return [
        s.start.astimezone(zone).strftime("%H:%M")
        for s in slots
        if staff_id is None or staff_id in s.staff_ids
    ]


def every(start: str, last: str, minutes: int = 15) -> list[str]:
    """Local HH:MM from `start` to `last` inclusive, every `minutes`."""
    out, cursor = [], datetime.combine(MONDAY, t(start))
    end = datetime.combine(MONDAY, t(last))
    while cursor <= end:
        out.append(cursor.strftime("%H:%M"))
        cursor += timedelta(minutes=minutes)
    return out


HOUR = Appointment(duration=60, buffer_before=0, buffer_after=0)
HALF_HOUR = Appointment(duration=30, buffer_before=0, buffer_after=0)
AMELIA = member("amelia", shift("mon", "09:00", "17:00", ("13:00", "13:30")))


# --- shifts, breaks, operating hours, closures, time off ----------------------------------------------


def test_a_shift_with_a_lunch_break_offers_every_quarter_hour_that_fits() -> None:
    slots = run(make_business(), [AMELIA], HOUR)
    # 60 minutes must end by the break (13:00) or by the end of the shift (17:00).
    assert wall(slots) == every("09:00", "12:00") + every("13:30", "16:00")
    assert all(s.end - s.start == timedelta(minutes=60) for s in slots)
    assert all(s.staff_ids == ("amelia",) for s in slots)
    # Times are UTC instants: 09:00 BST is 08:00Z.
    assert slots[0].start == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def test_no_slots_on_a_day_without_a_shift() -> None:
    assert run(make_business(), [AMELIA], HOUR, first=MONDAY + timedelta(days=1)) == []


def test_operating_hours_narrow_the_shift() -> None:
    business = make_business(operating_hours=[WeeklyHours(weekday="mon", start=t("10:00"), end=t("16:00"))])
    assert wall(run(business, [AMELIA], HOUR)) == every("10:00", "12:00") + every("13:30", "15:00")


def test_a_day_without_operating_hours_is_closed_when_the_business_sets_hours() -> None:
    business = make_business(operating_hours=[WeeklyHours(weekday="tue", start=t("09:00"), end=t("17:00"))])
    assert run(business, [AMELIA], HOUR) == []


def test_a_closure_removes_its_days_and_only_those() -> None:
    business = make_business(closures=[Closure(start_date=MONDAY, end_date=MONDAY, reason="Bank holiday")])
    next_monday = MONDAY + timedelta(days=7)
    slots = run(business, [AMELIA], HOUR, first=MONDAY, last=next_monday)
    assert {s.start.astimezone(LONDON).date() for s in slots} == {next_monday}


def test_time_off_blocks_every_start_whose_appointment_would_touch_it() -> None:
    away = TimeOff(start=local(MONDAY, "10:00"), end=local(MONDAY, "11:00"), reason="dentist")
    amelia = member("amelia", shift("mon", "09:00", "17:00", ("13:00", "13:30")), time_off=[away])
    assert wall(run(make_business(), [amelia], HOUR)) == [
        "09:00",
        *every("11:00", "12:00"),
        *every("13:30", "16:00"),
    ]


def test_a_whole_day_of_time_off_leaves_nothing() -> None:
    away = TimeOff(start=local(MONDAY, "00:00"), end=local(MONDAY + timedelta(days=1), "00:00"))
    amelia = member("amelia", shift("mon", "09:00", "17:00"), time_off=[away])
    assert run(make_business(), [amelia], HOUR) == []


# --- the clock: notice, the past, the booking window ---------------------------------------------------


def test_minimum_notice_moves_the_first_slot() -> None:
    now = local(MONDAY, "10:07")
    slots = run(make_business(min_notice_minutes=60), [AMELIA], HOUR, now=now)
    assert wall(slots)[0] == "11:15"  # 10:07 + 60 minutes, rounded up to the quarter hour


def test_minimum_notice_counts_the_seconds_of_now() -> None:
    now = local(MONDAY, "10:00").replace(second=30)
    slots = run(make_business(min_notice_minutes=60, slot_interval_minutes=5), [AMELIA], HOUR, now=now)
    # 11:00 would be 59.5 minutes away: too soon for an hour's notice.
    assert wall(slots)[0] == "11:05"


def test_past_times_never_appear_even_with_no_notice() -> None:
    now = local(MONDAY, "10:00")
    slots = run(make_business(min_notice_minutes=0), [AMELIA], HOUR, now=now)
    assert wall(slots)[0] == "10:15"  # "now" itself is not bookable any more
    assert all(s.start > now for s in slots)
    late = local(MONDAY, "16:30")
    assert run(make_business(), [AMELIA], HOUR, now=late) == []


def test_the_booking_window_ends_the_offer() -> None:
    now = local(MONDAY, "08:00")
    business = make_business(booking_window_days=7)
    slots = run(business, [AMELIA], HOUR, first=MONDAY, last=MONDAY + timedelta(days=7), now=now)
    # Exactly 7 days later is 08:00 next Monday: that day's 09:00 is beyond the window.
    assert {s.start.astimezone(LONDON).date() for s in slots} == {MONDAY}
    wider = run(
        make_business(booking_window_days=8), [AMELIA], HOUR, first=MONDAY + timedelta(days=7), now=now
    )
    assert wall(wider)[0] == "09:00"


# --- the grid ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (30, every("09:00", "12:00", 30) + every("13:30", "16:00", 30)),
        (60, [*every("09:00", "12:00", 60), "14:00", "15:00", "16:00"]),
        # The grid runs from local midnight: after the 13:30 break the next 20-minute mark is 13:40.
        (20, every("09:00", "12:00", 20) + every("13:40", "16:00", 20)),
    ],
)
def test_the_slot_interval_sets_the_grid_from_local_midnight(interval: int, expected: list[str]) -> None:
    assert wall(run(make_business(slot_interval_minutes=interval), [AMELIA], HOUR)) == expected


# --- buffers -------------------------------------------------------------------------------------------


def test_buffers_keep_a_new_booking_clear_of_an_existing_one() -> None:
    # Existing booking 11:00-12:00 with a 10 minute buffer before and after: busy 10:50-12:10.
    diary = [busy("amelia", local(MONDAY, "10:50"), local(MONDAY, "12:10"))]
    appointment = Appointment(duration=30, buffer_before=10, buffer_after=15)
    slots = run(make_business(), [AMELIA], appointment, diary=diary)
    # start + 30 + 15 <= 10:50  ->  start <= 10:05;  start - 10 >= 12:10  ->  start >= 12:20 (12:30 on grid)
    assert wall(slots) == [*every("09:00", "10:00"), "12:30", *every("13:30", "16:30")]


def test_a_buffer_before_may_not_overlap_the_previous_booking_by_a_minute() -> None:
    diary = [busy("amelia", local(MONDAY, "09:00"), local(MONDAY, "10:00"))]
    tight = Appointment(duration=60, buffer_before=0, buffer_after=0)
    padded = Appointment(duration=60, buffer_before=5, buffer_after=0)
    assert wall(run(make_business(), [AMELIA], tight, diary=diary))[0] == "10:00"
    assert wall(run(make_business(), [AMELIA], padded, diary=diary))[0] == "10:15"


def test_service_buffers_fall_back_to_the_business_defaults() -> None:
    business = make_business(default_buffer_before_minutes=5, default_buffer_after_minutes=10)
    assert Appointment.for_services(business, [service()]) == Appointment(60, 5, 10)
    own = service(before=0, after=20)
    assert Appointment.for_services(business, [own]) == Appointment(60, 0, 20)


def test_several_services_take_their_summed_duration_and_the_outer_buffers() -> None:
    business = make_business()
    first = service("facial", minutes=30, before=10, after=5)
    second = service("massage", minutes=45, before=20, after=15)
    assert Appointment.for_services(business, [first, second]) == Appointment(75, 10, 15)
    assert Appointment.for_services(business, [second, first]) == Appointment(75, 20, 5)
    assert Appointment.for_services(business, [first, second]).total_minutes == 100
    with pytest.raises(ValueError, match="at least one service"):
        Appointment.for_services(business, [])


def test_a_multi_service_booking_needs_the_whole_summed_time_in_one_window() -> None:
    amelia = member("amelia", shift("mon", "09:00", "17:00"), services=["facial", "massage"])
    appointment = Appointment.for_services(
        make_business(), [service("facial", minutes=30), service("massage", minutes=45)]
    )
    slots = run(make_business(), [amelia], appointment)
    assert wall(slots) == every("09:00", "15:45")  # 15:45 + 75 minutes = 17:00
    assert slots[-1].end == local(MONDAY, "17:00")


def test_occupancy_spans_the_buffers() -> None:
    start = local(MONDAY, "10:00")
    assert occupancy(start, Appointment(60, 10, 15)) == (local(MONDAY, "09:50"), local(MONDAY, "11:15"))


# --- who can do it -------------------------------------------------------------------------------------


def test_any_combines_staff_and_a_specific_member_only_shows_their_own_times() -> None:
    ben = member("ben", shift("mon", "12:00", "18:00"))
    business = make_business()
    both = run(business, [AMELIA, ben], HOUR)
    by_start = {wall([s])[0]: s.staff_ids for s in both}
    assert by_start["09:00"] == ("amelia",)
    assert by_start["12:00"] == ("amelia", "ben")
    assert by_start["12:30"] == ("ben",)  # Amelia's lunch starts at 13:00
    assert by_start["17:00"] == ("ben",)
    assert wall(run(business, [ben], HOUR)) == every("12:00", "17:00")


def test_a_booked_member_disappears_from_the_slot_and_a_fully_booked_day_has_no_slots() -> None:
    ben = member("ben", shift("mon", "09:00", "17:00"))
    whole_day = [busy("amelia", local(MONDAY, "09:00"), local(MONDAY, "17:00"))]
    slots = run(make_business(), [AMELIA, ben], HOUR, diary=whole_day)
    assert slots and all(s.staff_ids == ("ben",) for s in slots)
    both_booked = [*whole_day, busy("ben", local(MONDAY, "08:00"), local(MONDAY, "18:00"))]
    assert run(make_business(), [AMELIA, ben], HOUR, diary=both_booked) == []


def test_qualified_staff_must_offer_every_requested_service() -> None:
    massage, facial = service("massage"), service("facial", minutes=30)
    everything = member("amelia", shift("mon", "09:00", "17:00"), services=["massage", "facial"])
    massage_only = member("ben", shift("mon", "09:00", "17:00"), services=["massage"])
    offline = member("olive", shift("mon", "09:00", "17:00"), services=["massage"], bookable_online=False)
    shiftless = member("sam", services=["massage"])
    staff = [everything, massage_only, offline, shiftless]

    assert [m.id for m in qualified_staff(staff, [massage, facial], public=True)] == ["amelia"]
    assert [m.id for m in qualified_staff(staff, [massage], public=True)] == ["amelia", "ben"]
    # Staff booking on a client's behalf may use anyone assigned, online or not, with shifts or not.
    assert [m.id for m in qualified_staff(staff, [massage], public=False)] == [
        "amelia",
        "ben",
        "olive",
        "sam",
    ]
    assert qualified_staff(staff, [facial], public=True) == [everything]


def test_the_whole_appointment_must_lie_inside_one_shift() -> None:
    split = member("amelia", shift("mon", "09:00", "12:00"), shift("mon", "12:00", "15:00"))
    slots = run(make_business(), [split], HOUR)
    # Back-to-back shifts are still two shifts: nothing straddles 12:00.
    assert wall(slots) == every("09:00", "11:00") + every("12:00", "14:00")


def test_working_windows_are_shifts_minus_breaks_within_operating_hours() -> None:
    business = make_business(operating_hours=[WeeklyHours(weekday="mon", start=t("08:00"), end=t("16:00"))])
    amelia = member("amelia", shift("mon", "09:00", "17:00", ("13:00", "13:30"), ("15:00", "15:15")))
    windows = working_windows(business, amelia, MONDAY, LONDON)
    expected = [("09:00", "13:00"), ("13:30", "15:00"), ("15:15", "16:00")]
    assert windows == [(to_minute(local(MONDAY, a)), to_minute(local(MONDAY, b))) for a, b in expected]


# --- daylight saving time ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before_change", "change", "after_change"),
    [
        (date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)),  # clocks go forward (GMT -> BST)
        (date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)),  # clocks go back (BST -> GMT)
    ],
)
def test_a_nine_oclock_shift_stays_at_nine_across_a_london_clock_change(
    before_change: date, change: date, after_change: date
) -> None:
    days = [before_change, change, after_change]
    weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    everyday = member("amelia", *(shift(d, "09:00", "17:00") for d in weekdays))
    slots = run(make_business(), [everyday], HOUR, first=before_change, last=after_change)
    first_of_day: dict[date, datetime] = {}
    for slot in slots:
        first_of_day.setdefault(slot.start.astimezone(LONDON).date(), slot.start)
    assert sorted(first_of_day) == days
    for day in days:
        assert first_of_day[day].astimezone(LONDON).time() == time(9, 0)
    offsets = [first_of_day[d].astimezone(LONDON).utcoffset() for d in days]
    summer, winter = timedelta(hours=1), timedelta(0)
    if before_change.month == 3:
        assert offsets == [winter, summer, summer]
        assert [first_of_day[d].astimezone(UTC).hour for d in days] == [9, 8, 8]
    else:
        assert offsets == [summer, winter, winter]
        assert [first_of_day[d].astimezone(UTC).hour for d in days] == [8, 9, 9]
    # Every day still offers the same wall-clock times, 09:00 to 16:00.
    for day in days:
        assert wall(s for s in slots if s.start.astimezone(LONDON).date() == day) == every("09:00", "16:00")


def test_a_shift_starting_in_the_spring_forward_gap_starts_when_the_clock_does() -> None:
    sunday = date(2026, 3, 8)  # New York: 02:00 EST jumps to 03:00 EDT
    business = make_business(time_zone="America/New_York")
    early = member("amelia", shift("sun", "02:00", "06:00"))
    slots = run(business, [early], HOUR, first=sunday)
    first = slots[0].start.astimezone(NEW_YORK)
    assert (first.time(), first.utcoffset()) == (time(3, 0), timedelta(hours=-4))
    assert slots[0].start == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    # Three real hours of shift: 03:00 to 06:00 EDT, so 03:00 .. 05:00 for a one-hour appointment.
    assert wall(slots, NEW_YORK) == every("03:00", "05:00")
    assert not any(s.start.astimezone(NEW_YORK).hour == 2 for s in slots)


def test_a_shift_ending_in_the_gap_ends_when_the_clock_jumps() -> None:
    sunday = date(2026, 3, 8)  # New York: 02:00 EST jumps to 03:00 EDT; 02:30 never happens
    business = make_business(time_zone="America/New_York", slot_interval_minutes=30)
    split = member("amelia", shift("sun", "00:00", "02:30"), shift("sun", "03:00", "04:00"))
    slots = run(business, [split], HALF_HOUR, first=sunday)
    assert [s.start.astimezone(NEW_YORK).strftime("%H:%M%z") for s in slots] == [
        "00:00-0500",
        "00:30-0500",
        "01:00-0500",
        "01:30-0500",
        "03:00-0400",
        "03:30-0400",
    ]
    assert all(s.staff_ids == ("amelia",) for s in slots)  # offered once, not once per shift


def test_the_fall_back_hour_is_offered_twice_as_two_distinct_instants() -> None:
    sunday = date(2026, 11, 1)  # New York: 02:00 EDT falls back to 01:00 EST
    business = make_business(time_zone="America/New_York")
    night = member("amelia", shift("sun", "00:00", "04:00"))
    slots = run(business, [night], HOUR, first=sunday)
    # 00:00 EDT (04:00Z) to 04:00 EST (09:00Z) is five real hours: starts every 15 minutes up to 08:00Z.
    starts = [s.start for s in slots]
    assert starts[0] == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert starts[-1] == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    assert len(starts) == len(set(starts)) == 17
    one_am = [s.start.astimezone(NEW_YORK) for s in slots if wall([s], NEW_YORK) == ["01:00"]]
    assert [d.utcoffset() for d in one_am] == [timedelta(hours=-4), timedelta(hours=-5)]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # London falls back at 02:00 BST: the 45-minute wall-clock grid continues through the repeated hour.
        (
            date(2026, 10, 25),
            [
                "00:00+0100",
                "00:45+0100",
                "01:30+0100",
                "01:30+0000",
                "02:15+0000",
                "03:00+0000",
                "03:45+0000",
            ],
        ),
        # London springs forward at 01:00 GMT: 01:30 does not exist, the grid resumes at 02:15 BST.
        (date(2026, 3, 29), ["00:00+0000", "00:45+0000", "02:15+0100", "03:00+0100", "03:45+0100"]),
    ],
)
def test_the_grid_follows_the_wall_clock_through_a_change_inside_a_shift(
    day: date, expected: list[str]
) -> None:
    night = member("amelia", shift("sun", "00:00", "05:00"))
    slots = run(make_business(slot_interval_minutes=45), [night], HOUR, first=day)
    assert [s.start.astimezone(LONDON).strftime("%H:%M%z") for s in slots] == expected


def test_a_shift_starting_in_the_repeated_hour_starts_at_its_first_occurrence() -> None:
    sunday = date(2026, 11, 1)
    business = make_business(time_zone="America/New_York")
    night = member("amelia", shift("sun", "01:30", "03:00"))
    slots = run(business, [night], HOUR, first=sunday)
    assert slots[0].start == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    # 01:30 EDT to 03:00 EST is two and a half real hours.
    assert slots[-1].end == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


# --- the lifecycle -------------------------------------------------------------------------------------

S = BookingStatus
ALLOWED = [
    (S.PENDING, S.CONFIRMED),
    (S.PENDING, S.CANCELLED),
    (S.CONFIRMED, S.STARTED),
    (S.CONFIRMED, S.CANCELLED),
    (S.CONFIRMED, S.NO_SHOW),
    (S.STARTED, S.COMPLETED),
]


def test_the_transition_table_is_exactly_the_documented_lifecycle() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == set(ALLOWED)
    assert set(TRANSITIONS) == set(BookingStatus)


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_every_allowed_transition_passes(current: BookingStatus, target: BookingStatus) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.COMPLETED, S.STARTED),
        (S.CANCELLED, S.CONFIRMED),
        (S.NO_SHOW, S.CONFIRMED),
        (S.STARTED, S.CANCELLED),
        (S.STARTED, S.NO_SHOW),
        (S.PENDING, S.STARTED),
        (S.CONFIRMED, S.COMPLETED),
        (S.CONFIRMED, S.CONFIRMED),
        (S.CANCELLED, S.CANCELLED),
    ],
)
def test_illegal_transitions_are_conflicts_that_say_what_is_allowed(
    current: BookingStatus, target: BookingStatus
) -> None:
    with pytest.raises(Conflict) as raised:
        check_transition(current, target)
    assert current.value in raised.value.detail and target.value in raised.value.detail
    allowed = sorted(s.value for s in TRANSITIONS[current])
    assert all(a in raised.value.detail for a in allowed) or "final state" in raised.value.detail


# --- manage tokens -------------------------------------------------------------------------------------


@pytest.fixture
def tokens() -> ManageTokens:
    return ManageTokens(secrets.token_bytes(32))


def test_a_manage_token_opens_its_own_booking(tokens: ManageTokens) -> None:
    token = tokens.issue("tenant-a", "booking-1")
    assert tokens.tenant_of(token, "booking-1") == "tenant-a"
    assert len(token.partition(".")[2]) >= 43  # a full HMAC-SHA256: unguessable


def test_a_manage_token_opens_nothing_else(tokens: ManageTokens) -> None:
    token = tokens.issue("tenant-a", "booking-1")
    tenant, _, mac = token.partition(".")
    assert tokens.tenant_of(token, "booking-2") is None  # another booking
    assert tokens.tenant_of(f"tenant-b.{mac}", "booking-1") is None  # pointed at another tenant
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    assert tokens.tenant_of(f"{tenant}.{flipped}", "booking-1") is None  # tampered
    assert tokens.tenant_of(tenant, "booking-1") is None
    assert tokens.tenant_of("", "booking-1") is None
    assert tokens.tenant_of(f".{mac}", "booking-1") is None
    other_deployment = ManageTokens(secrets.token_bytes(32))
    assert other_deployment.tenant_of(token, "booking-1") is None


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        ManageTokens(b"too short")
