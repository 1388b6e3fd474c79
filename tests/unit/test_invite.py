"""Calendar invites as calendars read them: every invite is parsed by icalendar and by ical.js, the parser
inside Thunderbird and many web calendars, running under node in a zone far from the business's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.domain.booking import Booking, BookingStatus, CustomerDetails
from booking.domain.catalogue import Business
from booking.domain.invite import Method, build_invite
from tests.support.notification_fixtures import (
    BOOKING_ID,
    make_booking,
    make_business,
    parse_with_icalendar,
    parse_with_icaljs,
    utc_instant,
)

MANAGE_URL = f"https://book.serenity.example/bookings/{BOOKING_ID}?token=T1.mac-with_chars"
STAMP = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def invite(
    booking: Booking,
    business: Business | None = None,
    *,
    staff_name: str | None = "Amelia Hart",
    method: Method | None = None,
) -> bytes:
    ics: bytes = build_invite(
        booking,
        business or make_business(),
        staff_name=staff_name,
        manage_url=MANAGE_URL,
        organizer_email="hello@serenity.example",
        now=STAMP,
        method=method,
    )
    return ics


def moved(booking: Booking, start: datetime) -> Booking:
    start = start.astimezone(UTC)
    return booking.model_copy(
        update={
            "start": start,
            "end": start + (booking.end - booking.start),
            "version": booking.version + 1,
        }
    )


def cancelled(booking: Booking) -> Booking:
    return booking.model_copy(update={"status": BookingStatus.CANCELLED, "version": booking.version + 1})


def test_a_confirmation_invite_reads_the_same_in_both_parsers() -> None:
    start = datetime(2026, 2, 10, 14, 30, tzinfo=LONDON)
    ics = invite(make_booking(start))

    seen = parse_with_icaljs(ics)
    assert seen["method"] == "REQUEST"
    assert seen["version"] == "2.0"
    assert seen["status"] == "CONFIRMED"
    assert seen["sequence"] == 0
    assert seen["uid"] == f"{BOOKING_ID}@{make_business().id}.booking"
    assert seen["summary"] == "Swedish massage at Serenity Day Spa"
    assert seen["location"] == "1 High Street, Bath"
    assert (
        seen["description"]
        == f"Swedish massage with Amelia Hart.\n\nView, reschedule or cancel: {MANAGE_URL}"
    )
    assert seen["url"] == MANAGE_URL
    assert seen["dtstart"] == {
        "local": "2026-02-10T14:30:00",
        "zone": "Europe/London",
        "utc": "2026-02-10T14:30:00.000Z",
    }
    assert utc_instant(seen["dtend"]["utc"]) == start + timedelta(hours=1)
    assert seen["organizer"]["value"] == "mailto:hello@serenity.example"
    assert seen["organizer"]["cn"] == "Serenity Day Spa"
    assert seen["attendees"] == 1
    assert seen["attendee"] == {
        "value": "mailto:ada@customers.example",
        "cn": "Ada Lovelace",
        "role": "REQ-PARTICIPANT",
        "partstat": "ACCEPTED",
    }

    calendar, event = parse_with_icalendar(ics)
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == seen["uid"]
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTEND") == start + timedelta(hours=1)
    assert str(event["ORGANIZER"]) == "mailto:hello@serenity.example"
    assert str(event["ATTENDEE"]) == "mailto:ada@customers.example"
    assert MANAGE_URL in str(event["DESCRIPTION"])
    assert event.decoded("DTSTAMP") == STAMP


def test_one_uid_for_the_booking_s_life_with_a_rising_sequence() -> None:
    booked = make_booking(datetime(2026, 2, 10, 14, 30, tzinfo=LONDON))
    rescheduled = moved(booked, datetime(2026, 2, 12, 9, 0, tzinfo=LONDON))
    moved_again = moved(rescheduled, datetime(2026, 2, 13, 16, 0, tzinfo=LONDON))
    gone = cancelled(moved_again)

    seen = [parse_with_icaljs(invite(b)) for b in (booked, rescheduled, moved_again, gone)]

    assert len({s["uid"] for s in seen}) == 1
    assert [s["sequence"] for s in seen] == [0, 1, 2, 3]
    assert [s["method"] for s in seen] == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    assert [s["status"] for s in seen] == ["CONFIRMED", "CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert [utc_instant(s["dtstart"]["utc"]) for s in seen] == [
        booked.start,
        rescheduled.start,
        moved_again.start,
        moved_again.start,  # the cancellation names the event it removes
    ]
    calendar, event = parse_with_icalendar(invite(gone))
    assert (calendar["METHOD"], event["STATUS"], event.decoded("SEQUENCE")) == ("CANCEL", "CANCELLED", 3)
    # another booking is another event
    other = make_booking(booked.start, id="01KBZ6Q3R0AJ8M7T1OTHER0000")
    assert parse_with_icaljs(invite(other))["uid"] != seen[0]["uid"]


def test_an_explicit_method_overrides_the_status() -> None:
    booking = make_booking(datetime(2026, 2, 10, 14, 30, tzinfo=LONDON))
    seen = parse_with_icaljs(invite(booking, method="CANCEL"))
    assert (seen["method"], seen["status"]) == ("CANCEL", "CANCELLED")


# Each case: the business zone, and local wall-clock starts on both sides of its clock changes.
DST_CASES = [
    # London: BST from 29 March 01:00 UTC to 25 October 01:00 UTC (2026)
    ("Europe/London", datetime(2026, 3, 28, 10, 0), "2026-03-28T10:00:00.000Z"),
    ("Europe/London", datetime(2026, 3, 29, 10, 0), "2026-03-29T09:00:00.000Z"),
    ("Europe/London", datetime(2026, 10, 24, 10, 0), "2026-10-24T09:00:00.000Z"),
    ("Europe/London", datetime(2026, 10, 25, 10, 0), "2026-10-25T10:00:00.000Z"),
    ("Europe/London", datetime(2026, 12, 21, 16, 0), "2026-12-21T16:00:00.000Z"),
    ("Europe/London", datetime(2027, 7, 1, 9, 15), "2027-07-01T08:15:00.000Z"),
    # New York: EDT from 8 March to 1 November (2026)
    ("America/New_York", datetime(2026, 3, 7, 9, 0), "2026-03-07T14:00:00.000Z"),
    ("America/New_York", datetime(2026, 3, 9, 9, 0), "2026-03-09T13:00:00.000Z"),
    ("America/New_York", datetime(2026, 11, 2, 9, 0), "2026-11-02T14:00:00.000Z"),
    # Sydney: the southern summer runs over the new year (AEDT until 5 April, again from 4 October)
    ("Australia/Sydney", datetime(2026, 1, 15, 9, 0), "2026-01-14T22:00:00.000Z"),
    ("Australia/Sydney", datetime(2026, 4, 6, 9, 0), "2026-04-05T23:00:00.000Z"),
    ("Australia/Sydney", datetime(2026, 10, 5, 9, 0), "2026-10-04T22:00:00.000Z"),
    # Tokyo: no clock changes at all
    ("Asia/Tokyo", datetime(2026, 7, 1, 9, 0), "2026-07-01T00:00:00.000Z"),
    # far enough ahead that a VTIMEZONE built for 1970-2037 would no longer cover it
    ("Europe/London", datetime(2039, 1, 10, 10, 0), "2039-01-10T10:00:00.000Z"),
]


@pytest.mark.parametrize(
    ("zone", "wall", "utc"), DST_CASES, ids=[f"{z}-{w:%Y-%m-%d}" for z, w, _ in DST_CASES]
)
def test_times_carry_the_business_zone_and_land_on_the_right_instant(
    zone: str, wall: datetime, utc: str
) -> None:
    tz = ZoneInfo(zone)
    start = wall.replace(tzinfo=tz)
    ics = invite(make_booking(start), make_business(time_zone=zone))

    seen = parse_with_icaljs(ics)
    assert seen["tzid"] == zone
    assert seen["timezones"] == [zone]
    assert seen["dtstart"] == {"local": wall.isoformat(), "zone": zone, "utc": utc}
    assert utc_instant(seen["dtend"]["utc"]) == utc_instant(utc) + timedelta(hours=1)

    calendar, event = parse_with_icalendar(ics)
    assert [str(t["TZID"]) for t in calendar.walk("VTIMEZONE")] == [zone]
    assert str(event["DTSTART"].params["TZID"]) == zone
    assert event.decoded("DTSTART") == utc_instant(utc)
    assert event.decoded("DTSTART").astimezone(tz).replace(tzinfo=None) == wall


def test_an_appointment_across_the_night_the_clocks_go_forward_keeps_its_length() -> None:
    # 150 minutes from 00:30 GMT on 29 March 2026 end at 04:00 BST: the clocks jump an hour in between
    start = datetime(2026, 3, 29, 0, 30, tzinfo=LONDON)
    booking = make_booking(start, minutes=150)
    seen = parse_with_icaljs(invite(booking))
    assert seen["dtstart"]["utc"] == "2026-03-29T00:30:00.000Z"
    assert seen["dtend"] == {
        "local": "2026-03-29T04:00:00",
        "zone": "Europe/London",
        "utc": "2026-03-29T03:00:00.000Z",
    }
    _, event = parse_with_icalendar(invite(booking))
    # (in UTC: Python subtracts two times of one zone by their wall clocks)
    assert event.decoded("DTEND").astimezone(UTC) - event.decoded("DTSTART") == timedelta(minutes=150)


def test_an_online_booking_is_located_online_and_a_business_without_address_at_its_name() -> None:
    start = datetime(2026, 2, 10, 14, 30, tzinfo=LONDON)
    online = parse_with_icaljs(invite(make_booking(start, delivery="online")))
    assert online["location"] == "Online"
    no_address = parse_with_icaljs(invite(make_booking(start), make_business(address="")))
    assert no_address["location"] == "Serenity Day Spa"


def test_text_that_needs_escaping_survives_both_parsers() -> None:
    business = make_business(name='Nails; Toes, & "More"', address="Unit 4, Mill Lane; Bath")
    customer = CustomerDetails(name='O\'Brien, Siobhán "Shiv"', email="shiv@customers.example")
    booking = make_booking(datetime(2026, 2, 10, 14, 30, tzinfo=LONDON), customer=customer)
    ics = invite(booking, business, staff_name=None)

    seen = parse_with_icaljs(ics)
    assert seen["summary"] == 'Swedish massage at Nails; Toes, & "More"'
    assert seen["location"] == "Unit 4, Mill Lane; Bath"
    assert seen["description"] == f"Swedish massage.\n\nView, reschedule or cancel: {MANAGE_URL}"
    assert seen["attendee"]["cn"] == 'O\'Brien, Siobhán "Shiv"'
    assert seen["organizer"]["cn"] == 'Nails; Toes, & "More"'
    _, event = parse_with_icalendar(ics)
    assert str(event["LOCATION"]) == "Unit 4, Mill Lane; Bath"
    assert str(event["ATTENDEE"].params["CN"]) == 'O\'Brien, Siobhán "Shiv"'


def test_several_services_are_all_named() -> None:
    booking = make_booking(datetime(2026, 2, 10, 14, 30, tzinfo=LONDON))
    services = [
        *booking.services,
        booking.services[0].model_copy(update={"id": "svc-2", "name": "Express facial"}),
    ]
    seen = parse_with_icaljs(invite(booking.model_copy(update={"services": services})))
    assert seen["summary"] == "Swedish massage, Express facial at Serenity Day Spa"
