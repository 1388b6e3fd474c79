"""Times in the customer's own zone (issue 10, item 8): a customer booking from New York with a London
business reads their messages and their own views in New York time, with London's time beside it; staff,
the admin views and the calendar invite stay in the business's zone. A customer who gave no zone, or the
business's own, reads exactly what everyone read before.

Bookings go through the real booking-API handler; messages are read back from the embedded SES and SNS
through the local outbox (see tests/support/notification_wiring.py)."""

from __future__ import annotations

import html
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking.domain.booking import CustomerDetails
from booking.domain.meetings import Meeting
from booking.rendering.messages import CustomerKind, StaffKind, customer_message, staff_message
from booking.rendering.times import format_when
from booking_api.schemas.bookings import NewBooking, NewBookingForClient
from tests.support.booking_fixtures import assert_problem
from tests.support.lambda_api import LambdaApi
from tests.support.notification_fixtures import (
    Customer,
    MakeTenant,
    Salon,
    build_salon,
    emails,
    invite_of,
    make_booking,
    make_business,
    messages_to,
    new_customer,
    parse_with_icalendar,
    texts,
    utc_instant,
)
from tests.support.notification_wiring import Notifications

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
MANAGE_URL = "https://book.serenity.example/m/abc"
CUSTOMER_KINDS: tuple[CustomerKind, ...] = (
    "confirmation",
    "rescheduled",
    "cancellation",
    "reminder",
    "meeting_link",
)
STAFF_KINDS: tuple[StaffKind, ...] = (
    "staff_new",
    "staff_moved",
    "staff_cancelled",
    "staff_removed",
    "meeting_failed",
)


def book_from(
    api: LambdaApi, salon: Salon, start: datetime, customer: Customer, time_zone: str | None
) -> Any:
    """Books through the public API as the widget does, telling the customer's zone when there is one."""
    body = customer.body() | ({"time_zone": time_zone} if time_zone is not None else {})
    return api.post(
        f"/v1/public/businesses/{salon.slug}/bookings",
        json_body={"services": [salon.service_id], "start": start.isoformat(), "customer": body},
        headers={"Idempotency-Key": secrets.token_hex(8)},
    )


def booked_from(
    notifications: Notifications, salon: Salon, start: datetime, customer: Customer, time_zone: str | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    response = book_from(notifications.api, salon, start, customer, time_zone)
    assert response.status == 201, response.text
    booking: dict[str, Any] = response.json()
    return booking, notifications.deliver()


def both_clocks(instant: datetime) -> str:
    """The wording for a New York customer of a London business (same day in both: business hours)."""
    here, there = instant.astimezone(NEW_YORK), instant.astimezone(LONDON)
    assert here.date() == there.date()
    return (
        f"{here:%A} {here.day} {here:%B %Y} at {here:%H:%M} ({here:%Z}, America/New_York)"
        f" — {there:%H:%M} {there:%Z} in Europe/London, the business's time"
    )


def short_in_new_york(instant: datetime) -> str:
    here = instant.astimezone(NEW_YORK)
    return f"{here:%a} {here.day} {here:%b %H:%M} {here:%Z}"


def offset_of(value: str) -> timedelta | None:
    return datetime.fromisoformat(value).utcoffset()


def shown_as(value: str, instant: datetime, zone: ZoneInfo) -> bool:
    """Whether an API timestamp is `instant` with the offset `zone` has then ('Z' where that is zero)."""
    parsed = datetime.fromisoformat(value)
    return parsed == instant and parsed.utcoffset() == instant.astimezone(zone).utcoffset()


def public_view(api: LambdaApi, booking: dict[str, Any]) -> dict[str, Any]:
    response = api.get(f"/v1/public/bookings/{booking['id']}?token={booking['manage_token']}")
    assert response.status == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def session_of(api: LambdaApi, salon: Salon, email: str) -> dict[str, Any]:
    """The customer's own session (through 'login as client'), as the portal reads it."""
    response = api.post(f"/v1/admin/customers/{email}/impersonate", token=salon.tenant.token())
    assert response.status == 200, response.text
    token = response.json()["token"]
    me = api.get(
        f"/v1/public/businesses/{salon.slug}/customers/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.status == 200, me.text
    session: dict[str, Any] = me.json()
    return session


# --- a New York customer of a London business ----------------------------------------------------------


def test_a_new_york_customer_reads_new_york_time_with_london_beside_it_and_staff_read_london(
    notifications: Notifications, salon: Salon
) -> None:
    customer = new_customer()
    start = salon.at(salon.day(5), "10:00")
    booking, sent = booked_from(notifications, salon, start, customer, "America/New_York")
    when, short = both_clocks(start), short_in_new_york(start)

    # the confirmation: email text and HTML with both clocks, the subject and SMS in New York time
    [email] = emails(sent, customer.email)
    assert f"When:  {when}\n" in email["text"]
    assert f"<strong>{when}</strong>" in html.unescape(email["html"])
    assert email["subject"] == f"Booking confirmed: Swedish massage, {short}"
    [sms] = texts(sent, customer.phone)
    assert sms["text"].startswith(f"Serenity Day Spa: booked Swedish massage {short}. ")
    # the invite keeps the business's zone: calendars convert it themselves
    _, event = parse_with_icalendar(invite_of(email)["content"])
    assert str(event["DTSTART"].params["TZID"]) == "Europe/London"
    assert event.decoded("DTSTART") == start

    # the staff notice: London only
    [notice] = emails(sent, salon.staff_email)
    assert f"When:   {format_when(start, LONDON)}\n" in notice["text"]
    assert "America/New_York" not in notice["text"] + notice["html"] + notice["subject"]

    # the reminder the day before, fired as EventBridge Scheduler would
    schedules = notifications.schedules(booking["id"])
    notifications.fire(schedules[next(n for n in schedules if "-1440m-" in n)])
    ours = messages_to(notifications.sent(), customer.email, customer.phone)
    [reminder] = [m for m in emails(ours, customer.email) if m["subject"].startswith("Reminder:")]
    assert f"When:  {when}\n" in reminder["text"]
    assert when in html.unescape(reminder["html"])
    assert reminder["subject"] == f"Reminder: Swedish massage, {short}"
    [reminder_sms] = [m for m in texts(ours, customer.phone) if "reminder" in m["text"]]
    assert reminder_sms["text"].startswith(f"Serenity Day Spa: reminder, Swedish massage {short}. ")

    # what the customer sees: New York offsets, both zones named
    here = start.astimezone(NEW_YORK)
    for seen in (booking, public_view(notifications.api, booking)):
        assert (seen["time_zone"], seen["customer_time_zone"]) == ("Europe/London", "America/New_York")
        assert shown_as(seen["start"], start, NEW_YORK)
        assert shown_as(seen["end"], start + timedelta(hours=1), NEW_YORK)
        assert {offset_of(h["at"]) for h in seen["history"]} == {here.utcoffset()}
    [listed] = session_of(notifications.api, salon, customer.email)["upcoming"]
    assert listed["id"] == booking["id"]
    assert shown_as(listed["start"], start, NEW_YORK)
    assert listed["customer_time_zone"] == "America/New_York"

    # what staff see: London
    detail = notifications.detail(salon, booking["id"])
    assert shown_as(detail["start"], start, LONDON)
    assert shown_as(detail["end"], start + timedelta(hours=1), LONDON)
    assert (detail["time_zone"], detail["customer_time_zone"]) == ("Europe/London", "America/New_York")


def test_the_reschedule_and_the_cancellation_show_both_clocks_for_the_old_and_the_new_time(
    notifications: Notifications, salon: Salon
) -> None:
    customer = new_customer()
    old_start, new_start = salon.at(salon.day(4), "11:00"), salon.at(salon.day(6), "15:30")
    booking, _ = booked_from(notifications, salon, old_start, customer, "America/New_York")

    moved = notifications.manage(booking, "reschedule", {"start": new_start.isoformat()})
    assert shown_as(moved["start"], new_start, NEW_YORK)
    sent = notifications.deliver()
    [email, _] = emails(sent, customer.email)
    assert f"has moved from {both_clocks(old_start)}.\n" in email["text"]
    assert f"New time: {both_clocks(new_start)}\n" in email["text"]
    # in the HTML sentence the aside is closed before it goes on
    assert f"has moved from {both_clocks(old_start)} — to a new time." in html.unescape(email["html"])
    assert email["subject"] == f"Booking moved: Swedish massage, now {short_in_new_york(new_start)}"
    [sms, _] = texts(sent, customer.phone)
    assert sms["text"].startswith(f"Serenity Day Spa: your booking moved to {short_in_new_york(new_start)}.")
    [notice, _] = emails(sent, salon.staff_email)
    assert f"Was:    {format_when(old_start, LONDON)}\n" in notice["text"]

    notifications.manage(booking, "cancel", {"reason": "Flight moved"})
    sent = notifications.deliver()
    [cancelled, *_] = emails(sent, customer.email)
    assert f"on {both_clocks(new_start)} — has been cancelled (Flight moved)." in cancelled["text"]
    assert f"on {both_clocks(new_start)} — has been cancelled (Flight moved)." in html.unescape(
        cancelled["html"]
    )
    [text, *_] = texts(sent, customer.phone)
    assert text["text"] == f"Serenity Day Spa: your {short_in_new_york(new_start)} booking is cancelled."


def test_a_booking_made_by_staff_for_a_customer_abroad_keeps_their_zone(
    notifications: Notifications, salon: Salon
) -> None:
    customer = new_customer()
    start = salon.at(salon.day(3), "13:00")
    response = notifications.api.post(
        "/v1/admin/bookings",
        token=salon.tenant.token(),
        json_body={
            "services": [salon.service_id],
            "start": start.isoformat(),
            "customer": customer.body() | {"time_zone": "America/New_York"},
        },
    )
    assert response.status == 201, response.text
    detail = response.json()
    assert shown_as(detail["start"], start, LONDON)  # staff read London
    assert detail["customer_time_zone"] == "America/New_York"

    [email] = emails(notifications.deliver(), customer.email)
    assert f"When:  {both_clocks(start)}\n" in email["text"]
    view = public_view(notifications.api, {"id": detail["id"], "manage_token": detail["manage_token"]})
    assert shown_as(view["start"], start, NEW_YORK)


# --- no zone, or the business's own: today's wording ----------------------------------------------------


@pytest.mark.parametrize("time_zone", [None, "Europe/London"])
def test_a_customer_in_the_business_zone_or_who_gave_none_reads_what_everyone_read_before(
    notifications: Notifications, salon: Salon, time_zone: str | None
) -> None:
    customer = new_customer()
    start = salon.at(salon.day(5), "14:00")
    booking, sent = booked_from(notifications, salon, start, customer, time_zone)
    there = start.astimezone(LONDON)

    [email] = emails(sent, customer.email)
    assert (
        f"When:  {there:%A} {there.day} {there:%B %Y} at 14:00 ({there:%Z}, Europe/London)\n" in email["text"]
    )
    assert email["subject"] == f"Booking confirmed: Swedish massage, {there:%a} {there.day} {there:%b} 14:00"
    for shown in (email["text"], email["html"]):
        assert "the business" not in shown
    [sms] = texts(sent, customer.phone)
    assert sms["text"].startswith(
        f"Serenity Day Spa: booked Swedish massage {there:%a} {there.day} {there:%b} 14:00. "
    )

    view = public_view(notifications.api, booking)
    assert shown_as(view["start"], start, LONDON)
    assert (view["time_zone"], view["customer_time_zone"]) == ("Europe/London", time_zone)


# --- an unknown zone ------------------------------------------------------------------------------------


def test_an_unknown_zone_is_refused_naming_the_field_and_nothing_is_booked(
    notifications: Notifications, salon: Salon
) -> None:
    customer = new_customer()
    day = salon.day(4)
    start = salon.at(day, "16:00")

    for wrong in ("Mars/Olympus_Mons", "america/new_york", "", "x" * 65):
        response = book_from(notifications.api, salon, start, customer, wrong)
        assert_problem(response, 422, field_name="customer.time_zone")

    calendar = notifications.api.get(f"/v1/admin/calendar?from={day}&to={day}", token=salon.tenant.token())
    assert calendar.status == 200, calendar.text
    assert [e for e in calendar.json() if e["customer_email"] == customer.email] == []
    offered = notifications.api.get(
        f"/v1/public/businesses/{salon.slug}/availability"
        f"?services={salon.service_id}&from={day}&to={day}&tz=Europe/London"
    )
    assert offered.status == 200, offered.text
    starts = [utc_instant(s["start"]) for d in offered.json()["days"] for s in d["slots"]]
    assert start.astimezone(UTC) in starts
    assert messages_to(notifications.deliver(), customer.email, customer.phone) == []


def test_the_public_and_the_admin_booking_request_accept_the_zone_and_the_example_has_one() -> None:
    [example] = NewBooking.model_json_schema()["examples"]
    assert NewBooking.model_validate(example).customer.time_zone == "America/New_York"
    assert NewBookingForClient.model_validate(example).customer.time_zone == "America/New_York"
    assert CustomerDetails(name="Ann", email="ann@example.com").time_zone is None


# --- across a daylight-saving change ---------------------------------------------------------------------


def gap_between(first: date, last: date) -> tuple[date, date]:
    """The first day from `first` on when New York and London are 4 hours apart (one has changed its
    clocks, the other not yet), and the first day after it when they are 5 apart again."""
    day = first
    while (day := day + timedelta(days=1)) <= last:
        if _hours_apart(day) == 4:
            later = day
            while _hours_apart(later) == 4:
                later += timedelta(days=1)
            return day, later
    raise AssertionError("no daylight-saving gap in the booking window")


def _hours_apart(day: date) -> float:
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    there, here = noon.astimezone(LONDON).utcoffset(), noon.astimezone(NEW_YORK).utcoffset()
    assert there is not None and here is not None
    return (there - here).total_seconds() / 3600


def test_across_a_daylight_saving_change_the_customer_reads_the_right_wall_clock(
    notifications: Notifications, api: LambdaApi, make_tenant: MakeTenant
) -> None:
    salon = build_salon(api, make_tenant, booking_window_days=365)
    gap, after = gap_between(salon.day(2), salon.day(360))
    customer = new_customer()

    # London is on GMT and New York already (or still) on EDT: 10:00 in London is 06:00 in New York
    during = salon.at(gap, "10:00")
    booking, sent = booked_from(notifications, salon, during, customer, "America/New_York")
    [email] = emails(sent, customer.email)
    here = during.astimezone(NEW_YORK)
    assert (
        f"When:  {here:%A} {here.day} {here:%B %Y} at 06:00 (EDT, America/New_York)"
        " — 10:00 GMT in Europe/London, the business's time\n"
    ) in email["text"]
    [sms] = texts(sent, customer.phone)
    assert f" {here:%a} {here.day} {here:%b} 06:00 EDT." in sms["text"]
    assert public_view(api, booking)["start"].endswith("T06:00:00-04:00")
    staff_view = datetime.fromisoformat(notifications.detail(salon, booking["id"])["start"])
    assert (staff_view.strftime("%H:%M"), staff_view.utcoffset()) == ("10:00", timedelta(0))

    # once both have changed, 10:00 in London is 05:00 in New York again
    later = salon.at(after, "10:00")
    moved = notifications.manage(booking, "reschedule", {"start": later.isoformat()})
    assert datetime.fromisoformat(moved["start"]).strftime("%H:%M") == "05:00"
    [email, _] = emails(notifications.deliver(), customer.email)
    there, now_here = later.astimezone(LONDON), later.astimezone(NEW_YORK)
    assert (
        f"has moved from {here:%A} {here.day} {here:%B %Y} at 06:00 (EDT, America/New_York)" in email["text"]
    )
    assert (
        f"New time: {now_here:%A} {now_here.day} {now_here:%B %Y} at 05:00 ({now_here:%Z}, America/New_York)"
        f" — 10:00 {there:%Z} in Europe/London, the business's time\n"
    ) in email["text"]


# --- every kind of customer message, and the staff ones -------------------------------------------------


def test_every_customer_message_shows_the_customers_zone_and_no_staff_message_does() -> None:
    start = datetime(2026, 12, 3, 10, 0, tzinfo=LONDON)
    customer = CustomerDetails(
        name="Ada Lovelace",
        email="ada@customers.example",
        phone="+447911123456",
        time_zone="America/New_York",
    )
    meeting = Meeting(status="ready", provider="jitsi", join_url="https://meet.jit.si/serenity-abc")
    booking = make_booking(start, customer=customer, delivery="online", meeting=meeting)
    previous = make_booking(start - timedelta(days=1), customer=customer)
    when = (
        "Thursday 3 December 2026 at 05:00 (EST, America/New_York) — 10:00 GMT in Europe/London,"
        " the business's time"
    )
    for kind in CUSTOMER_KINDS:
        content = customer_message(
            kind,
            booking,
            make_business(),
            staff_name="Amelia Hart",
            manage_url=MANAGE_URL,
            previous=previous,
            minutes_before=60,
        )
        assert when in content.text, kind
        assert when in html.unescape(content.html), kind
        assert "Thu 3 Dec 05:00 EST" in (content.sms or ""), kind
        assert content.subject.endswith("Thu 3 Dec 05:00 EST"), kind
    moved = customer_message(
        "rescheduled", booking, make_business(), staff_name=None, manage_url=MANAGE_URL, previous=previous
    )
    assert "from Wednesday 2 December 2026 at 05:00 (EST, America/New_York) — 10:00 GMT" in moved.text

    for staff_kind in STAFF_KINDS:
        notice = staff_message(
            staff_kind, booking, make_business(), staff_name="Amelia Hart", previous=previous
        )
        assert "Thursday 3 December 2026 at 10:00 (GMT, Europe/London)" in notice.text, staff_kind
        assert "New_York" not in notice.text + notice.html + notice.subject, staff_kind


@pytest.mark.parametrize(
    ("start", "zone", "shown"),
    [
        # late October: London is back on GMT, New York on EDT until November; late March: New York is
        # on EDT already, London on GMT until its last Sunday; then both are on summer time
        (
            datetime(2026, 10, 29, 10, 0, tzinfo=LONDON),
            "America/New_York",
            "Thursday 29 October 2026 at 06:00 (EDT, America/New_York) — 10:00 GMT in Europe/London",
        ),
        (
            datetime(2027, 3, 20, 10, 0, tzinfo=LONDON),
            "America/New_York",
            "Saturday 20 March 2027 at 06:00 (EDT, America/New_York) — 10:00 GMT in Europe/London",
        ),
        (
            datetime(2027, 3, 29, 10, 0, tzinfo=LONDON),
            "America/New_York",
            "Monday 29 March 2027 at 05:00 (EDT, America/New_York) — 10:00 BST in Europe/London",
        ),
        # another day there: the business's day is named too
        (
            datetime(2026, 12, 3, 16, 0, tzinfo=LONDON),
            "Pacific/Auckland",
            "Friday 4 December 2026 at 05:00 (NZDT, Pacific/Auckland)"
            " — 16:00 GMT on Thursday 3 December in Europe/London, the business's time",
        ),
        # the same clock under another name: one time, the customer's zone named
        (
            datetime(2026, 12, 3, 16, 0, tzinfo=LONDON),
            "Europe/Lisbon",
            "Thursday 3 December 2026 at 16:00 (WET, Europe/Lisbon).",
        ),
    ],
)
def test_the_wall_clock_follows_each_zones_own_rules(start: datetime, zone: str, shown: str) -> None:
    customer = CustomerDetails(name="Ada Lovelace", email="ada@customers.example", time_zone=zone)
    booking = make_booking(start, customer=customer).model_copy(update={"cancellation_reason": None})
    content = customer_message(
        "cancellation", booking, make_business(), staff_name=None, manage_url=MANAGE_URL
    )
    text = content.text.replace(" — has been cancelled", ".").replace(" has been cancelled", ".")
    assert shown in text
