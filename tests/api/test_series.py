"""Recurring video series: staff book a client's sessions in one call; each session is its own booking
with its own meeting (a different Zoom link each, from the local fake). One series confirmation, once the
links are made, carries every session with its own link, in the email and in the calendar invite (one
recurring event whose instances carry their own links); the staff member gets one notice with every host
link; a link made after the wait is over follows by itself; each session's link is in its reminders too."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking.domain.series import occurrence_starts
from local.fakes.providers import MeetingFakes
from tests.support.lambda_api import LambdaApi
from tests.support.late_links import gated_retries, wait_for_executions
from tests.support.meetings import online_practice, settle
from tests.support.notification_fixtures import (
    MakeTenant,
    Salon,
    emails,
    invite_of,
    new_customer,
    parse_with_icalendar,
    texts,
    utc_instant,
)
from tests.support.notification_wiring import Notifications, entry
from tests.support.series_invites import expand_with_icalendar, expand_with_icaljs

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def gate(meeting_fakes: MeetingFakes) -> Iterator[threading.Event]:
    yield from gated_retries(meeting_fakes)


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
    [confirmation] = emails(sent, customer.email)  # one message for the whole series, once every link is made
    assert confirmation["subject"].startswith("Sessions booked: Video consultation")
    assert "your 4 sessions with" in confirmation["text"]
    for session, link in zip(sessions, links, strict=True):
        local = datetime.fromisoformat(session["start"]).astimezone(LONDON)
        when = f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"
        # each date with its own link, beside it
        assert re.search(rf"{when} \(GMT, Europe/London\)\n +Join: {re.escape(link)} ", confirmation["text"])
        assert f'href="{link}"' in confirmation["html"]
    hosts = [s["meeting"]["host_url"] for s in sessions]
    assert not [h for h in hosts if h in confirmation["text"] + confirmation["html"]]
    # the customer's calendar: every session at its time with its own link, read by both parsers
    ics = invite_of(confirmation)["content"]
    seen = expand_with_icaljs(ics)
    assert [utc_instant(i["start"]["utc"]) for i in seen["instances"]] == [
        first + timedelta(weeks=i) for i in range(4)
    ]
    assert [i["url"] for i in seen["instances"]] == links
    assert [i["location"] for i in seen["instances"]] == links
    assert [i["conference"] for i in seen["instances"]] == [[link] for link in links]
    assert [(i["start"], i["url"]) for i in expand_with_icalendar(ics)] == [
        (first + timedelta(weeks=i), link) for i, link in enumerate(links)
    ]
    [text] = texts(sent, customer.phone)
    assert links[0] in text["text"]

    check_staff_series_notice(emails(sent, practice.staff_email), practice, sessions)

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


def check_staff_series_notice(
    notices: list[dict[str, Any]], practice: Salon, sessions: list[dict[str, Any]]
) -> None:
    """One notice to the staff member, once the links are made, with each session's host link (never the
    client's), and their own calendar copy of the series."""
    links = [s["meeting"]["join_url"] for s in sessions]
    hosts = [s["meeting"]["host_url"] for s in sessions]
    [notice] = notices
    assert notice["subject"].startswith("New series: ")
    assert "no meeting link yet" not in notice["text"].lower()
    for host in hosts:
        assert f"Start the call: {host}" in notice["text"]
    assert not [link for link in links if link in notice["text"] + notice["html"]]
    theirs = expand_with_icaljs(invite_of(notice)["content"])
    assert [i["url"] for i in theirs["instances"]] == hosts
    assert {i["attendee"] for i in theirs["instances"]} == {f"mailto:{practice.staff_email}"}


def test_a_link_made_after_the_series_wait_follows_by_itself_to_the_client_and_the_staff_member(
    notifications: Notifications,
    practice: Salon,
    api: LambdaApi,
    meeting_fakes: MeetingFakes,
    gate: threading.Event,
) -> None:
    meeting_fakes.zoom.fail_next(1, status=503)  # one session's first call to Zoom fails: its retry waits
    customer = new_customer()
    first = practice.at(practice.day(250), "10:00")  # a part of the diary no other test uses
    response = book_series(api, practice, start=first.isoformat(), count=3, customer=customer.body())
    assert response.status == 201, response.text
    ids = [s["booking_id"] for s in response.json()["sessions"]]
    notifications.deliver()  # the sessions' changes: the links are asked for, the confirmation waits
    [late] = wait_for_executions(notifications, ids, running=1)
    sent = notifications.deliver()  # the links made so far: the confirmation still waits for the last
    assert emails(sent, customer.email) == [] and emails(sent, practice.staff_email) == []

    # the wait is over (its timers fire): the series' confirmation goes with the links there are
    for timer in notifications.retry_timers(ids[0]):
        notifications.fire(timer, handled="message_retry")
    sent = notifications.sent()
    [confirmation] = emails(sent, customer.email)
    assert confirmation["subject"].startswith("Sessions booked: ")
    assert confirmation["text"].count("Join: https://") == 2
    assert confirmation["text"].count("Meeting link to follow.") == 1
    [notice] = emails(sent, practice.staff_email)
    assert notice["subject"].startswith("New series: ")
    assert notice["text"].count("Start the call: ") == 2
    assert "No meeting link yet: it will be sent when it is made." in notice["text"]
    waiting = notifications.log(practice, late)
    assert entry(waiting, "meeting_link", "email")["status"] == "waiting"
    assert entry(waiting, "staff_meeting_link", "email")["status"] == "waiting"

    # the last link is made: it follows by itself, to the client and to the staff member
    gate.set()
    sent = settle(notifications, late)
    meeting = notifications.detail(practice, late)["meeting"]
    assert meeting["status"] == "ready"
    [link_email] = [e for e in emails(sent, customer.email) if e["subject"].startswith("Your meeting link")]
    assert meeting["join_url"] in link_email["text"]
    assert meeting["host_url"] not in link_email["text"] + link_email["html"]
    assert [t for t in texts(sent, customer.phone) if meeting["join_url"] in t["text"]]
    # its invite changes that session's instance of the series in the client's calendar
    [instance] = expand_with_icaljs(invite_of(link_email)["content"])["instances"]
    whole = expand_with_icaljs(invite_of(confirmation)["content"])["instances"]
    [planned] = [i for i in whole if i["recurrence_id"] == instance["recurrence_id"]]
    assert (instance["uid"], instance["url"]) == (planned["uid"], meeting["join_url"])
    assert planned["url"] != meeting["join_url"] and instance["sequence"] > planned["sequence"]
    [ready] = [e for e in emails(sent, practice.staff_email) if e["subject"].startswith("Meeting link ready")]
    assert f"start the call at {meeting['host_url']}" in ready["text"]
    assert meeting["join_url"] not in ready["text"] + ready["html"]
    [staff_instance] = expand_with_icaljs(invite_of(ready)["content"])["instances"]
    assert staff_instance["url"] == meeting["host_url"] and staff_instance["recurrence_id"] is not None
    # and nothing twice: one confirmation, one notice
    assert len([e for e in emails(sent, customer.email) if e["subject"].startswith("Sessions booked")]) == 1
    assert len([e for e in emails(sent, practice.staff_email) if e["subject"].startswith("New series")]) == 1


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


def test_a_sessions_invite_downloaded_from_its_manage_link_is_its_instance_of_the_series(
    notifications: Notifications, practice: Salon, api: LambdaApi, container: Any
) -> None:
    first = practice.at(practice.day(200), "11:00")  # clear of the other tests' dates (to day 150)
    response = book_series(api, practice, start=first.isoformat(), count=3, delivery="online")
    assert response.status == 201, response.text
    series = response.json()
    second = series["sessions"][1]["booking_id"]
    token = container.manage_links._tokens.issue(practice.tenant.id, second, 0)
    ics = api.get(f"/v1/public/bookings/{second}/invite.ics?token={token}").content

    _, event = parse_with_icalendar(ics)
    # The series' event (the UID its confirmation's invite used), this session's instance of it: the
    # download updates the entry already in the client's calendar instead of adding another.
    assert series["id"] in str(event["UID"])
    assert event.decoded("RECURRENCE-ID") == first + timedelta(weeks=1)
    assert event.decoded("DTSTART") == first + timedelta(weeks=1)
    for booking_id in [s["booking_id"] for s in series["sessions"]]:
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
