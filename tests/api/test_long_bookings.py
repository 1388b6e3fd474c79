"""Bookings of any length and alignment through the admin API: a full working day, a three-day job, a
night across a clock change, any start minute; and the clear 4xx for lengths that cannot be."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tests.support.booking_fixtures import (
    MakeTenant,
    Spa,
    assert_problem,
    availability,
    book,
    booking_body,
    build_spa,
    calendar_ok,
    days_ahead,
    local_time,
)
from tests.support.lambda_api import ApiResponse, LambdaApi


@pytest.fixture
def spa(container: Any, make_tenant: MakeTenant) -> Spa:
    """A spa of its own (long jobs take many days of the diary), bookable a year ahead."""
    return build_spa(container, make_tenant, booking_window_days=365)


def job(
    api: LambdaApi, spa: Spa, start: str, end: str | None, staff: str = "ben", **extra: Any
) -> ApiResponse:
    body = booking_body(spa, start, staff=staff, allow_outside_shift=True, **extra)
    if end is not None:
        body["end"] = end
    return api.post("/v1/admin/bookings", token=spa.tenant.token(), json_body=body)


def slots_of(api: LambdaApi, spa: Spa, staff: str, day: date) -> list[datetime]:
    response = availability(api, spa, "swedish", staff, first=day)
    assert response.status == 200, response.text
    return [local_time(s["start"]) for d in response.json()["days"] for s in d["slots"]]


def test_a_full_day_job_from_9_to_17_30_is_booked_shown_and_blocks_the_day(api: LambdaApi, spa: Spa) -> None:
    assert slots_of(api, spa, "ben", spa.day)  # Ben is bookable that day before the job
    created = job(api, spa, spa.iso("09:00"), spa.iso("17:30"))
    assert created.status == 201, created.text
    booking = created.json()
    assert (local_time(booking["start"]), local_time(booking["end"])) == (spa.at("09:00"), spa.at("17:30"))
    assert booking["outside_shift"] is True  # his shift ends at 17:00

    [entry] = calendar_ok(api, spa, staff="ben")
    assert entry["booking_id"] == booking["id"]
    assert slots_of(api, spa, "ben", spa.day) == []
    assert slots_of(api, spa, "amelia", spa.day)  # nobody else's day is touched
    clash = job(api, spa, spa.iso("17:29"), spa.iso("18:00"))
    assert_problem(clash, 409, "slot-taken")
    assert job(api, spa, spa.iso("17:30"), spa.iso("18:00")).status == 201


def test_a_three_day_job_books_every_day_it_touches_and_moves_as_one(api: LambdaApi, spa: Spa) -> None:
    first, third = spa.day, spa.day + timedelta(days=2)
    created = job(api, spa, spa.iso("08:00", first), spa.iso("17:00", third))
    assert created.status == 201, created.text
    booking = created.json()

    for day in (first, first + timedelta(days=1), third):
        assert [e["booking_id"] for e in calendar_ok(api, spa, day, day, staff="ben")] == [booking["id"]]
        assert slots_of(api, spa, "ben", day) == []
    assert [e["booking_id"] for e in calendar_ok(api, spa, first, third)] == [booking["id"]]  # listed once

    # One day later: the first day is free again, the fourth is taken, in the same change.
    moved = api.post(
        f"/v1/admin/bookings/{booking['id']}/reschedule",
        token=spa.tenant.token(),
        json_body={"start": spa.iso("08:00", first + timedelta(days=1)), "allow_outside_shift": True},
    )
    assert moved.status == 200, moved.text
    assert local_time(moved.json()["end"]) == spa.at("17:00", third + timedelta(days=1))
    assert slots_of(api, spa, "ben", first)
    assert slots_of(api, spa, "ben", third + timedelta(days=1)) == []

    cancelled = api.post(
        f"/v1/admin/bookings/{booking['id']}/cancel", token=spa.tenant.token(), json_body={"reason": "off"}
    )
    assert cancelled.status == 200, cancelled.text
    assert all(slots_of(api, spa, "ben", first + timedelta(days=n)) for n in range(1, 4))


def test_a_night_job_across_the_spring_clock_change_takes_its_real_hours(
    container: Any, make_tenant: MakeTenant, api: LambdaApi
) -> None:
    spa = build_spa(container, make_tenant, booking_window_days=730)
    # London springs forward at 01:00 on 28 March 2027: 20:00 GMT to 10:00 BST is 13 real hours.
    eve, change = date(2027, 3, 27), date(2027, 3, 28)
    if eve <= days_ahead(0):
        pytest.fail("move this test's dates to the next spring change")  # pragma: no cover
    created = job(api, spa, spa.iso("20:00", eve), spa.iso("10:00", change))
    assert created.status == 201, created.text
    booking = created.json()
    span = datetime.fromisoformat(booking["end"]) - datetime.fromisoformat(booking["start"])
    assert span == timedelta(hours=13)
    assert booking["end"].endswith("+01:00")
    morning = slots_of(api, spa, "ben", change)
    assert morning and min(morning) == spa.at("10:00", change)  # free from the job's end, not an hour off


def test_staff_place_any_start_minute_the_widget_offers_only_the_interval(api: LambdaApi, spa: Spa) -> None:
    odd = spa.iso("10:07")
    refused = book(api, spa, booking_body(spa, odd, staff="amelia"))
    assert_problem(refused, 422, field_name="start")
    body = booking_body(spa, odd, staff="amelia")
    created = api.post("/v1/admin/bookings", token=spa.tenant.token(), json_body=body)
    assert created.status == 201, created.text
    assert created.json()["outside_shift"] is False
    assert local_time(created.json()["end"]) == spa.at("11:07")


@pytest.mark.parametrize(
    ("case", "end", "field"),
    [
        ("ends before it starts", "09:00", "end"),
        ("ends when it starts", "10:00", "end"),
        ("not a whole minute", "11:00:30", "end"),
        ("longer than 14 days", None, "end"),
    ],
)
def test_lengths_that_cannot_be_are_a_clear_422_and_write_nothing(
    api: LambdaApi, spa: Spa, case: str, end: str | None, field: str
) -> None:
    end_value = spa.iso(end) if end else (spa.at("10:00") + timedelta(days=14, minutes=1)).isoformat()
    refused = job(api, spa, spa.iso("10:00"), end_value)
    assert_problem(refused, 422, field_name=field)
    assert calendar_ok(api, spa, spa.day, spa.day + timedelta(days=15)) == [], case


def test_the_business_sets_its_longest_booking(
    api: LambdaApi, container: Any, make_tenant: MakeTenant
) -> None:
    spa = build_spa(container, make_tenant, booking_window_days=365, max_booking_minutes=8 * 60)
    assert job(api, spa, spa.iso("09:00"), spa.iso("17:00")).status == 201
    too_long = job(
        api, spa, spa.iso("09:00", spa.day + timedelta(days=1)), spa.iso("17:01", spa.day + timedelta(days=1))
    )
    problem = assert_problem(too_long, 422, field_name="end")
    assert "480" in problem["detail"]
