"""Calendar invites as calendars read them: every invite is parsed by icalendar and by ical.js, the parser
inside Thunderbird and many web calendars, running under node in a zone far from the business's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.domain.booking import Booking, BookingStatus, CustomerDetails
from booking.domain.catalogue import Business
from booking.domain.invite import Method, StaffCopy, build_invite, build_series_invite
from booking.domain.meetings import Meeting
from booking.domain.series import Frequency, Occurrence, Series, occurrence_starts
from tests.support.notification_fixtures import (
    BOOKING_ID,
    make_booking,
    make_business,
    parse_with_icalendar,
    parse_with_icaljs,
    utc_instant,
)
from tests.support.series_invites import expand_with_icalendar, expand_with_icaljs

MANAGE_URL = f"https://book.serenity.example/bookings/{BOOKING_ID}?token=T1.mac-with_chars"
STAMP = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def invite(
    booking: Booking,
    business: Business | None = None,
    *,
    staff_name: str | None = "Amelia Hart",
    method: Method | None = None,
    series: Series | None = None,
) -> bytes:
    ics: bytes = build_invite(
        booking,
        business or make_business(),
        staff_name=staff_name,
        manage_url=MANAGE_URL,
        organizer_email="hello@serenity.example",
        now=STAMP,
        method=method,
        series=series,
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


# --- a job at the customer's address, and the staff member's own copy ------------------------------------

JOB_ADDRESS = "4 Mill Lane\nBath BA2 3AB"
AMELIA = StaffCopy(staff_id="staff-amelia", email="amelia@staff.example", name="Amelia Hart")


def test_a_job_on_two_lines_is_located_at_its_address_on_one_line() -> None:
    job = make_booking(datetime(2026, 2, 10, 8, 0, tzinfo=LONDON), minutes=9 * 60, job_address=JOB_ADDRESS)
    seen = parse_with_icaljs(invite(job))
    assert seen["location"] == "4 Mill Lane, Bath BA2 3AB"  # what a calendar's map search takes
    _, event = parse_with_icalendar(invite(job))
    assert str(event["LOCATION"]) == "4 Mill Lane, Bath BA2 3AB"


def test_the_staff_copy_names_the_client_and_the_address_and_never_the_manage_link() -> None:
    job = make_booking(
        datetime(2026, 2, 10, 8, 0, tzinfo=LONDON),
        minutes=9 * 60,
        job_address=JOB_ADDRESS,
        customer_notes="Gate code 4821",
    )
    ics = invite_for_staff(job)
    seen = parse_with_icaljs(ics)
    assert seen["location"] == "4 Mill Lane, Bath BA2 3AB"
    assert seen["attendee"]["value"] == "mailto:amelia@staff.example"
    assert seen["summary"] == "Swedish massage: Ada Lovelace"
    assert "Phone: +447911123456" in seen["description"]
    assert "Gate code 4821" in seen["description"]
    assert "4 Mill Lane\nBath BA2 3AB" in seen["description"]
    assert "token=" not in ics.decode()  # the customer's manage link is theirs alone
    assert seen["url"] is None
    # its own event: a calendar that sees both never merges the client's copy into the staff member's
    assert seen["uid"] != parse_with_icaljs(invite(job))["uid"]
    assert utc_instant(seen["dtend"]["utc"]) == job.end
    cancelled_copy = parse_with_icaljs(invite_for_staff(cancelled(job)))
    assert (cancelled_copy["uid"], cancelled_copy["method"]) == (seen["uid"], "CANCEL")


def test_the_staff_copy_of_an_online_booking_starts_the_call_by_the_host_link() -> None:
    booking = make_booking(
        datetime(2026, 2, 10, 14, 30, tzinfo=LONDON), delivery="online", meeting=zoom_meeting(7)
    )
    seen = parse_with_icaljs(invite_for_staff(booking))
    assert seen["location"] == seen["url"] == "https://zoom.us/s/7?zak=host"
    assert [c["value"] for c in seen["conference"]] == ["https://zoom.us/s/7?zak=host"]
    assert "Start the call: https://zoom.us/s/7?zak=host" in seen["description"]
    assert "https://zoom.us/j/7" not in seen["description"]  # never the client's link for the host's
    customer = parse_with_icaljs(invite(booking))
    assert customer["url"] == "https://zoom.us/j/7"
    assert "zak=host" not in invite(booking).decode()  # and never the host link in the client's


# --- a recurring series: one event, every session its own instance ----------------------------------------


def zoom_meeting(n: int) -> Meeting:
    return Meeting(
        status="ready",
        provider="zoom",
        join_url=f"https://zoom.us/j/{n}",
        host_url=f"https://zoom.us/s/{n}?zak=host",
        passcode=f"pass{n}",
    )


def invite_for_staff(booking: Booking, series: Series | None = None) -> bytes:
    ics: bytes = build_invite(
        booking,
        make_business(),
        staff_name="Amelia Hart",
        manage_url="",
        organizer_email="hello@serenity.example",
        now=STAMP,
        series=series,
        copy=AMELIA,
    )
    return ics


def a_series(
    first: datetime,
    frequency: Frequency,
    count: int,
    *,
    interval: int = 1,
    skipped: tuple[int, ...] = (),
    online: bool = True,
) -> tuple[Series, list[Booking]]:
    """A series as the series service books it (occurrence `skipped` clashed) and its sessions' bookings,
    each online with a Zoom meeting of its own."""
    starts = occurrence_starts(first, LONDON, frequency, interval, count, None)
    occurrences = [
        Occurrence(index=i, start=s, booking_id=None if i in skipped else f"01KBZ6Q3R0AJ8M7T1SESSION{i:02d}")
        for i, s in enumerate(starts)
    ]
    series = Series(
        id="01KBZ6Q3R0AJ8M7T1SERIES000",
        tenant_id=make_business().id,
        staff_id="staff-amelia",
        customer_email="ada@customers.example",
        frequency=frequency,
        interval=interval,
        occurrences=occurrences,
        created_at=STAMP,
    )
    sessions = [
        make_booking(
            o.start,
            id=o.booking_id,
            series_id=series.id,
            series_index=i,
            delivery="online" if online else "in_person",
            meeting=zoom_meeting(i) if online else None,
        )
        for i, o in enumerate(series.booked)
    ]
    return series, sessions


def series_invite(series: Series, sessions: list[Booking], copy: StaffCopy | None = None) -> bytes:
    ics: bytes = build_series_invite(
        series,
        sessions,
        make_business(),
        staff_name="Amelia Hart",
        manage_urls={s.id: f"https://book.serenity.example/bookings/{s.id}?token=T" for s in sessions},
        organizer_email="hello@serenity.example",
        now=STAMP,
        copy=copy,
    )
    return ics


def test_a_series_invite_shows_every_session_at_its_time_with_its_own_link_in_both_parsers() -> None:
    # Thursdays at 10:00 in London across the change to summer time (28 March 2027); the third date
    # clashed and was skipped, the fourth session was moved to the Friday at 15:00, the last cancelled.
    series, sessions = a_series(datetime(2027, 3, 18, 10, 0, tzinfo=LONDON), "weekly", 6, skipped=(2,))
    sessions[2] = moved(sessions[2], datetime(2027, 4, 9, 15, 0, tzinfo=LONDON))
    sessions[4] = cancelled(sessions[4])
    active = [sessions[0], sessions[1], sessions[2], sessions[3]]
    ics = series_invite(series, sessions)

    seen = expand_with_icaljs(ics)
    assert (seen["method"], seen["masters"]) == ("REQUEST", 1)
    assert seen["rrule"].startswith("FREQ=WEEKLY;") and "BYDAY=TH" in seen["rrule"]
    instances = seen["instances"]
    assert [utc_instant(i["start"]["utc"]) for i in instances] == [s.start for s in active]
    assert [i["start"]["local"][11:16] for i in instances] == ["10:00", "10:00", "15:00", "10:00"]
    assert [utc_instant(i["end"]["utc"]) for i in instances] == [s.end for s in active]
    assert len({i["uid"] for i in instances}) == 1
    for instance, session in zip(instances, active, strict=True):
        link = session.meeting.join_url if session.meeting else None
        assert instance["recurrence_id"] is not None  # every session is its own override
        assert instance["url"] == instance["location"] == link
        assert instance["conference"] == [link]
        assert f"Join the meeting: {link}" in instance["description"]
        assert f"bookings/{session.id}?token=" in instance["description"]
        assert instance["status"] == "CONFIRMED"
        others = [s.meeting.join_url for s in active if s is not session and s.meeting]
        assert not [o for o in others if o and o in instance["description"]]  # no link but its own
    # the moved session keeps the date it was planned for as its RECURRENCE-ID
    assert instances[2]["recurrence_id"]["local"] == "2027-04-08T10:00:00"

    parsed = expand_with_icalendar(ics)
    assert [(i["start"], i["end"], i["url"]) for i in parsed] == [
        (s.start, s.end, s.meeting.join_url if s.meeting else None) for s in active
    ]
    assert [i["location"] for i in parsed] == [i["location"] for i in instances]
    assert {i["attendee"] for i in parsed} == {"mailto:ada@customers.example"}


def test_a_later_message_about_one_session_changes_that_instance_alone() -> None:
    series, sessions = a_series(datetime(2027, 1, 12, 9, 30, tzinfo=LONDON), "weekly", 4, interval=2)
    whole = expand_with_icaljs(series_invite(series, sessions))
    third = sessions[2]

    # moved: the instance planned for 9 February now on the 10th at 11:00, its sequence risen
    later = moved(third, datetime(2027, 2, 10, 11, 0, tzinfo=LONDON))
    update = expand_with_icaljs(invite(later, series=series))
    [instance] = update["instances"]
    assert update["masters"] == 0
    assert instance["uid"] == whole["instances"][2]["uid"]
    assert instance["recurrence_id"] == whole["instances"][2]["recurrence_id"]
    assert instance["sequence"] > whole["instances"][2]["sequence"]
    assert utc_instant(instance["start"]["utc"]) == later.start
    assert instance["url"] == "https://zoom.us/j/2"
    [parsed] = expand_with_icalendar(invite(later, series=series))
    assert parsed["recurrence_id"] == third.start and parsed["start"] == later.start

    # cancelled: METHOD:CANCEL for that instance only
    gone = expand_with_icaljs(invite(cancelled(later), series=series))
    [instance] = gone["instances"]
    assert (gone["method"], instance["status"]) == ("CANCEL", "CANCELLED")
    assert instance["recurrence_id"] == whole["instances"][2]["recurrence_id"]
    assert instance["uid"] == whole["instances"][2]["uid"]


@pytest.mark.parametrize(
    ("first", "frequency", "count", "dates"),
    [
        # the 31st: months without one have no session (RFC 5545 and dateutil alike)
        (datetime(2027, 1, 31, 9, 0), "monthly_by_date", 3, ["2027-01-31", "2027-03-31", "2027-05-31"]),
        # the last Friday (a fifth Friday in January)
        (datetime(2027, 1, 29, 9, 0), "monthly_by_weekday", 3, ["2027-01-29", "2027-02-26", "2027-03-26"]),
        # the 2nd Tuesday, every other month
        (datetime(2027, 1, 12, 9, 0), "monthly_by_weekday", 3, ["2027-01-12", "2027-03-09", "2027-05-11"]),
    ],
)
def test_monthly_series_expand_to_the_booked_dates(
    first: datetime, frequency: Frequency, count: int, dates: list[str]
) -> None:
    interval = 2 if first.day == 12 else 1
    series, sessions = a_series(first.replace(tzinfo=LONDON), frequency, count, interval=interval)
    ics = series_invite(series, sessions)
    seen = expand_with_icaljs(ics)
    assert [i["start"]["local"][:10] for i in seen["instances"]] == dates
    assert [i["url"] for i in seen["instances"]] == [f"https://zoom.us/j/{n}" for n in range(count)]
    assert [i["start"].date().isoformat() for i in expand_with_icalendar(ics)] == dates


def test_a_series_on_the_31st_tells_outlook_to_skip_the_short_months() -> None:
    # Outlook puts "day 31 of every month" on the last day of a shorter month, where RFC 5545 skips it:
    # an EXDATE on each of those days keeps Outlook to the booked dates and names nothing elsewhere.
    series, sessions = a_series(datetime(2027, 1, 31, 9, 0, tzinfo=LONDON), "monthly_by_date", 3)
    seen = expand_with_icaljs(series_invite(series, sessions))
    assert [e["local"] for e in seen["exdates"]] == ["2027-02-28T09:00:00", "2027-04-30T09:00:00"]


def test_the_staff_copy_of_a_series_lists_every_session_with_its_host_link() -> None:
    series, sessions = a_series(datetime(2027, 3, 18, 10, 0, tzinfo=LONDON), "weekly", 3)
    ics = series_invite(series, sessions, copy=AMELIA)
    seen = expand_with_icaljs(ics)
    assert [i["url"] for i in seen["instances"]] == [f"https://zoom.us/s/{n}?zak=host" for n in range(3)]
    assert {i["attendee"] for i in seen["instances"]} == {"mailto:amelia@staff.example"}
    assert "token=" not in ics.decode()
    customer = expand_with_icaljs(series_invite(series, sessions))
    assert seen["instances"][0]["uid"] != customer["instances"][0]["uid"]
    assert "zak=host" not in series_invite(series, sessions).decode()
    # a session reassigned to a colleague is a single event in the colleague's calendar
    ben = StaffCopy(staff_id="staff-ben", email="ben@staff.example", name="Ben Okafor")
    theirs = build_invite(
        sessions[1].model_copy(update={"staff_id": "staff-ben"}),
        make_business(),
        staff_name="Ben Okafor",
        manage_url="",
        organizer_email="hello@serenity.example",
        now=STAMP,
        series=series,
        copy=ben,
    )
    [single] = expand_with_icaljs(theirs)["instances"]
    assert single["recurrence_id"] is None
    assert single["uid"] == f"{sessions[1].id}.staff@{make_business().id}.booking"


def test_an_in_person_series_at_the_business_is_located_there() -> None:
    series, sessions = a_series(datetime(2027, 3, 18, 10, 0, tzinfo=LONDON), "weekly", 2, online=False)
    seen = expand_with_icaljs(series_invite(series, sessions))
    assert [i["location"] for i in seen["instances"]] == ["1 High Street, Bath"] * 2
    assert [utc_instant(i["start"]["utc"]) for i in seen["instances"]] == [s.start for s in sessions]
