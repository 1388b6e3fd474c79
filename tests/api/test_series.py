"""Recurring video series: staff book a client's sessions in one call; each session is its own booking
with its own meeting (a different Zoom link each, from the local fake), one series confirmation carries
the first link, and each later session's link travels in its own reminders."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking.domain.series import occurrence_starts
from tests.support.lambda_api import LambdaApi
from tests.support.meetings import online_practice, settle
from tests.support.notification_fixtures import MakeTenant, Salon, emails, new_customer, texts
from tests.support.notification_wiring import Notifications, entry

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(scope="module")
def practice(api: LambdaApi, make_tenant: MakeTenant) -> Salon:
    return online_practice(api, make_tenant, "zoom", booking_window_days=365)


def book_series(api: LambdaApi, practice: Salon, **fields: Any) -> Any:
    body = {
        "services": [practice.service_id],
        "staff": practice.staff_id,
        "customer": new_customer().body(),
        "frequency": "weekly",
        **fields,
    }
    return api.post("/v1/admin/booking-series", json_body=body, token=practice.tenant.token())


# --- the dates ---------------------------------------------------------------------------------------------


def test_weekly_sessions_keep_their_local_time_across_a_change_of_clocks() -> None:
    first = datetime(2027, 3, 18, 10, 0, tzinfo=LONDON)  # London moves to BST on 28 March 2027
    starts = occurrence_starts(first, LONDON, "weekly", 1, 3, None)
    assert [s.astimezone(LONDON).strftime("%Y-%m-%d %H:%M") for s in starts] == [
        "2027-03-18 10:00",
        "2027-03-25 10:00",
        "2027-04-01 10:00",
    ]
    assert starts[2] - starts[1] == timedelta(days=7, hours=-1)  # a week of wall-clock time, 167 real hours


def test_every_n_weeks_monthly_by_weekday_and_by_date() -> None:
    first = datetime(2027, 1, 12, 9, 30, tzinfo=LONDON)  # the 2nd Tuesday of January
    fortnightly = occurrence_starts(first, LONDON, "weekly", 2, None, date(2027, 2, 28))
    assert [s.date() for s in fortnightly] == [
        date(2027, 1, 12),
        date(2027, 1, 26),
        date(2027, 2, 9),
        date(2027, 2, 23),
    ]
    by_weekday = occurrence_starts(first, LONDON, "monthly_by_weekday", 1, 3, None)
    assert [s.date() for s in by_weekday] == [date(2027, 1, 12), date(2027, 2, 9), date(2027, 3, 9)]
    last_friday = occurrence_starts(
        datetime(2027, 1, 29, 9, 0, tzinfo=LONDON), LONDON, "monthly_by_weekday", 1, 3, None
    )
    assert [s.date() for s in last_friday] == [date(2027, 1, 29), date(2027, 2, 26), date(2027, 3, 26)]
    on_the_31st = occurrence_starts(
        datetime(2027, 1, 31, 9, 0, tzinfo=LONDON), LONDON, "monthly_by_date", 1, 3, None
    )
    assert [s.date() for s in on_the_31st] == [date(2027, 1, 31), date(2027, 3, 31), date(2027, 5, 31)]


# --- booking a series over the API ---------------------------------------------------------------------------


def test_a_weekly_series_of_four_online_sessions_gets_four_links_and_one_confirmation(
    notifications: Notifications, practice: Salon, api: LambdaApi
) -> None:
    customer = new_customer()
    first = practice.at(practice.day(2), "10:00")
    response = api.post(
        "/v1/admin/booking-series",
        json_body={
            "services": [practice.service_id],
            "staff": practice.staff_id,
            "start": first.isoformat(),
            "customer": customer.body(),
            "frequency": "weekly",
            "count": 4,
        },
        token=practice.tenant.token(),
    )
    assert response.status == 201, response.text
    series = response.json()
    assert response.headers["Location"] == f"/v1/admin/booking-series/{series['id']}"
    assert (series["booked"], series["skipped"]) == (4, 0)
    ids = [s["booking_id"] for s in series["sessions"]]
    for booking_id in ids:
        settle(notifications, booking_id)

    detail = api.get(f"/v1/admin/booking-series/{series['id']}", token=practice.tenant.token()).json()
    sessions = detail["sessions"]
    assert [datetime.fromisoformat(s["start"]).astimezone(UTC) for s in sessions] == [
        first + timedelta(weeks=i) for i in range(4)
    ]
    links = [s["meeting"]["join_url"] for s in sessions]
    assert all(s["meeting"]["status"] == "ready" for s in sessions)
    assert len(set(links)) == 4  # never one link reused across a series

    sent = notifications.sent()
    [confirmation] = emails(sent, customer.email)  # one message for the whole series
    assert confirmation["subject"].startswith("Sessions booked: Video consultation")
    assert "your 4 sessions with" in confirmation["text"]
    for session in sessions:
        local = datetime.fromisoformat(session["start"]).astimezone(LONDON)
        assert f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}" in confirmation["text"]
    assert links[0] in confirmation["text"]
    assert not [link for link in links[1:] if link in confirmation["text"] + confirmation["html"]]
    [text] = texts(sent, customer.phone)
    assert links[0] in text["text"]
    # the communications of each session: the first carries the series confirmation, each its reminders
    assert entry(sessions[0]["communications"], "series_confirmation", "email")["status"] == "sent"
    for session in sessions[1:]:
        kinds = {c["kind"] for c in session["communications"]}
        assert "confirmation" not in kinds
        assert "series_confirmation" not in kinds
        assert "reminder" in kinds  # scheduled

    # each later session's own link travels in its own reminder
    third = sessions[2]["booking_id"]
    reminders = notifications.schedules(third)
    day_before = next(
        s for s in reminders.values() if json.loads(s["Target"]["Input"])["minutes_before"] == 1440
    )
    notifications.fire(day_before)
    [reminder] = [
        e for e in emails(notifications.sent(), customer.email) if e["subject"].startswith("Reminder")
    ]
    assert links[2] in reminder["text"]
    assert links[0] not in reminder["text"]


def test_cancel_one_session_or_every_future_one_and_move_one_without_touching_the_rest(
    notifications: Notifications, practice: Salon, api: LambdaApi
) -> None:
    first = practice.at(practice.day(30), "11:00")
    response = book_series(api, practice, start=first.isoformat(), count=4, delivery="online")
    assert response.status == 201, response.text
    series = response.json()
    ids = [s["booking_id"] for s in series["sessions"]]
    token = practice.tenant.token()

    moved = practice.at(practice.day(37), "15:00")
    assert (
        api.post(
            f"/v1/admin/bookings/{ids[1]}/reschedule", json_body={"start": moved.isoformat()}, token=token
        ).status
        == 200
    )
    assert (
        api.post(f"/v1/admin/bookings/{ids[0]}/cancel", json_body={"reason": "ill"}, token=token).status
        == 200
    )
    detail = api.get(f"/v1/admin/booking-series/{series['id']}", token=token).json()
    assert [s["status"] for s in detail["sessions"]] == ["cancelled", "confirmed", "confirmed", "confirmed"]
    second = api.get(f"/v1/admin/bookings/{ids[1]}", token=token).json()
    assert datetime.fromisoformat(second["start"]).astimezone(UTC) == moved
    third = api.get(f"/v1/admin/bookings/{ids[2]}", token=token).json()
    assert datetime.fromisoformat(third["start"]).astimezone(UTC) == first + timedelta(weeks=2)

    cancelled = api.post(
        f"/v1/admin/booking-series/{series['id']}/cancel", json_body={"reason": "moving away"}, token=token
    )
    assert cancelled.status == 200, cancelled.text
    assert [s["status"] for s in cancelled.json()["sessions"]] == ["cancelled"] * 4
    for booking_id in ids:
        settle(notifications, booking_id)


def test_a_series_with_a_clash_is_refused_naming_the_date_and_nothing_is_booked(
    practice: Salon, api: LambdaApi
) -> None:
    first = practice.at(practice.day(60), "10:00")
    taken = first + timedelta(weeks=2)
    blocker = api.post(
        "/v1/admin/bookings",
        json_body={
            "services": [practice.service_id],
            "staff": practice.staff_id,
            "start": taken.isoformat(),
            "customer": new_customer().body(),
        },
        token=practice.tenant.token(),
    )
    assert blocker.status == 201, blocker.text

    refused = book_series(api, practice, start=first.isoformat(), count=4)
    assert refused.status == 409, refused.text
    problem = refused.json()
    assert problem["type"].endswith("series-clashes")
    assert f"{taken.astimezone(LONDON):%Y-%m-%d %H:%M}" in problem["detail"]
    assert [e["loc"] for e in problem["errors"]] == [["body", "occurrences", 2]]
    calendar = api.get(
        f"/v1/admin/calendar?from={first.date()}&to={(first + timedelta(weeks=4)).date()}",
        token=practice.tenant.token(),
    ).json()
    assert [e["booking_id"] for e in calendar] == [blocker.json()["id"]]

    skipped = book_series(api, practice, start=first.isoformat(), count=4, skip_clashes=True)
    assert skipped.status == 201, skipped.text
    body = skipped.json()
    assert (body["booked"], body["skipped"]) == (3, 1)
    assert [s["status"] for s in body["sessions"]] == ["confirmed", "confirmed", "skipped", "confirmed"]
    assert body["sessions"][2]["skipped"] == "another booking holds that time"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"count": 53}, "count"),  # the business's maximum is 52 by default
        ({}, "body"),  # no end
        ({"count": 3, "until": "2027-06-01"}, "body"),  # two ends
        ({"count": 0}, "count"),
        ({"interval": 13, "count": 2}, "interval"),
        ({"frequency": "daily", "count": 2}, "frequency"),
        ({"count": 60, "frequency": "weekly", "interval": 1}, "count"),
        ({"until": "2030-01-01"}, "until"),  # past the 365-day booking window
        ({"count": 2, "staff": "any"}, "staff"),
    ],
)
def test_bad_series_are_refused_naming_the_field_and_nothing_is_booked(
    practice: Salon, api: LambdaApi, fields: dict[str, Any], field: str
) -> None:
    first = practice.at(practice.day(90), "10:00")
    response = book_series(api, practice, start=first.isoformat(), **fields)
    assert response.status == 422, response.text
    assert field in json.dumps(response.json()["errors"])
    calendar = api.get(
        f"/v1/admin/calendar?from={first.date()}&to={(first + timedelta(days=60)).date()}",
        token=practice.tenant.token(),
    ).json()
    assert calendar == []


def test_staff_book_series_only_into_their_own_diary(practice: Salon, api: LambdaApi) -> None:
    response = api.post(
        "/v1/admin/booking-series",
        json_body={
            "services": [practice.service_id],
            "staff": practice.staff_id,
            "start": practice.at(practice.day(120), "10:00").isoformat(),
            "customer": new_customer().body(),
            "frequency": "weekly",
            "count": 2,
        },
        token=practice.tenant.token("staff"),  # a staff user who is not Amelia
    )
    assert response.status == 403, response.text
