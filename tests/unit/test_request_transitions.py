"""The booking request's one transition table: every move either party may make is allowed, every other
move of every state is refused naming what is allowed; a lapsed counter-proposal is back with the
business. Also where an answer may place the job (within the working hours, breaks spanned, for a
dispatcher) and the windows submissions are counted in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from booking.domain.availability import within_working_hours
from booking.domain.booking import Actor
from booking.domain.booking_requests import (
    FINAL,
    OPEN,
    TRANSITIONS,
    BusinessResponse,
    Party,
    RequestCustomer,
    RequestSettings,
    RequestState,
    ServiceRequest,
    TooManyOpen,
    answering_state,
    check_transition,
    submission_windows,
)
from booking.domain.catalogue import Business, Closure, Shift, StaffMember, TimeOff, WeeklyHours
from booking.domain.errors import Conflict
from tests.unit.test_availability import LONDON, MONDAY, make_business, member, shift, t

PARTIES: tuple[Party, ...] = ("customer", "business")
EVERY_MOVE = [(a, b, p) for a in RequestState for b in RequestState for p in PARTIES]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("current", "target", "party"), EVERY_MOVE)
def test_every_move_is_allowed_exactly_when_the_table_gives_it_to_that_party(
    current: RequestState, target: RequestState, party: Party
) -> None:
    if TRANSITIONS.get((current, target)) == party:
        check_transition(current, target, party)
    else:
        with pytest.raises(Conflict, match=f"a {current.value} request cannot become {target.value}"):
            check_transition(current, target, party)


def test_the_table_is_the_documented_lifecycle() -> None:
    business = {(a.value, b.value) for (a, b), p in TRANSITIONS.items() if p == "business"}
    customer = {(a.value, b.value) for (a, b), p in TRANSITIONS.items() if p == "customer"}
    assert business == {
        ("submitted", "under_review"),
        *{
            (s, t)
            for s in ("submitted", "under_review")
            for t in ("confirmed", "counter_proposed", "declined")
        },
    }
    assert customer == {
        ("submitted", "cancelled"),
        ("under_review", "cancelled"),
        ("counter_proposed", "cancelled"),
        ("counter_proposed", "confirmed"),
        ("counter_proposed", "under_review"),
    }
    assert not any(a in FINAL for a, _ in TRANSITIONS)  # settled requests move no more


def request_with_counter(expires: datetime) -> ServiceRequest:
    proposal = BusinessResponse(
        kind="counter_proposal",
        at=NOW - timedelta(hours=1),
        by=Actor(kind="dispatcher", id="d-1"),
        message="Tuesday?",
        hold_expires_at=expires,
        booking_id="r-1-r2",
    )
    return ServiceRequest(
        id="r-1",
        tenant_id="t-1",
        state=RequestState.COUNTER_PROPOSED,
        customer=RequestCustomer(name="Harriet Home", email="harriet@homeowners.example"),
        service_id="s-1",
        preferred_dates=[date(2026, 12, 3)],
        time_preference="morning",
        address="4 Mill Lane\nBath",
        responses=[proposal],
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(hours=1),
    )


def test_a_counter_proposal_is_the_customers_until_its_hold_lapses() -> None:
    held = request_with_counter(NOW + timedelta(minutes=1))
    assert answering_state(held, NOW) is RequestState.COUNTER_PROPOSED
    assert held.open_counter is not None and held.open_counter[0] == 0
    lapsed = request_with_counter(NOW)
    assert answering_state(lapsed, NOW) is RequestState.UNDER_REVIEW


# --- where an answer may place the job (one rule for accepting and proposing a time) -----------------------


def plumber_day(*extra: Shift, **business: Any) -> tuple[Business, StaffMember]:
    """A plumber working 08:00-17:00 on Mondays with a lunch break 12:00-13:00."""
    lunch = shift("mon", "08:00", "17:00", ("12:00", "13:00"))
    return make_business(**business), member("pat", lunch, *extra)


def on_monday(start: str, end: str) -> tuple[datetime, datetime]:
    return (
        datetime.combine(MONDAY, t(start), tzinfo=LONDON),
        datetime.combine(MONDAY, t(end), tzinfo=LONDON),
    )


@pytest.mark.parametrize(
    ("start", "end", "within"),
    [
        ("08:00", "17:00", True),  # the full day, across the lunch break
        ("11:00", "14:00", True),
        ("08:00", "12:00", True),
        ("07:30", "17:00", False),  # before the shift
        ("08:00", "17:30", False),  # after it
    ],
)
def test_a_job_within_the_shift_may_span_its_breaks(start: str, end: str, within: bool) -> None:
    business, pat = plumber_day()
    assert within_working_hours(business, pat, *on_monday(start, end)) is within


def test_a_job_over_two_days_is_outside_the_working_hours() -> None:
    business, pat = plumber_day(shift("tue", "08:00", "17:00"))
    start, _ = on_monday("08:00", "17:00")
    assert not within_working_hours(business, pat, start, start + timedelta(days=1, hours=9))


def test_closures_operating_hours_and_time_off_still_hold() -> None:
    day = on_monday("08:00", "17:00")
    closed, pat = plumber_day(closures=[Closure(start_date=MONDAY, end_date=MONDAY)])
    assert not within_working_hours(closed, pat, *day)
    shorter, pat = plumber_day(operating_hours=[WeeklyHours(weekday="mon", start=t("09:00"), end=t("17:00"))])
    assert not within_working_hours(shorter, pat, *day)
    assert within_working_hours(shorter, pat, *on_monday("09:00", "17:00"))
    business, pat = plumber_day()
    away = pat.model_copy(
        update={"time_off": [TimeOff(start=day[0] + timedelta(hours=5), end=day[0] + timedelta(hours=6))]}
    )
    assert not within_working_hours(business, away, *day)


# --- flood limits ------------------------------------------------------------------------------------------


def test_submissions_count_per_customer_hour_and_day_and_per_business_hour() -> None:
    settings = RequestSettings(max_per_customer_hour=4, max_per_customer_day=9, max_per_business_hour=50)
    at = datetime(2026, 12, 1, 9, 59, 30, tzinfo=UTC)
    hour, day, business = submission_windows(settings, "Harriet@Homeowners.example", at)
    assert (hour.counter, hour.start, hour.length, hour.limit) == (
        "requests-customer-hour:harriet@homeowners.example",
        datetime(2026, 12, 1, 9, tzinfo=UTC),
        timedelta(hours=1),
        4,
    )
    assert (day.start, day.length, day.limit) == (datetime(2026, 12, 1, tzinfo=UTC), timedelta(days=1), 9)
    assert (business.counter, business.limit) == ("requests-business-hour", 50)
    assert hour.retry_after(at) == 30  # until the hour turns: the Retry-After of a refusal
    assert day.retry_after(at) == 14 * 3600 + 30
    assert "4 requests this hour" in hour.refusal


def test_the_default_limits_and_which_states_are_open() -> None:
    defaults = RequestSettings()
    assert (
        defaults.max_open_per_customer,
        defaults.max_per_customer_hour,
        defaults.max_per_customer_day,
        defaults.max_per_business_hour,
    ) == (3, 5, 10, 100)
    assert {s.value for s in OPEN} == {"submitted", "under_review", "counter_proposed"}
    refused = TooManyOpen(3)
    assert refused.retry_after is None and "3 requests waiting for an answer" in refused.detail
