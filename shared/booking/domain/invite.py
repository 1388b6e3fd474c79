"""Calendar invites (RFC 5545 / iTIP RFC 5546) for a booking, built with icalendar.

One UID per booking for its whole life; SEQUENCE rises with every change (it is the booking's version), so
a calendar replaces the old event on a reschedule and removes it on METHOD:CANCEL. Times carry the
business's zone with its VTIMEZONE, so the event shows at the right wall-clock time everywhere (a time in
the hour repeated when clocks go back is written in UTC: see _wall_clock).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vText,
    vUri,
)

from booking.domain.booking import Booking, BookingStatus
from booking.domain.catalogue import Business

PRODUCT_ID = "-//booking-backend//appointments//EN"

Method = Literal["REQUEST", "CANCEL"]


def invite_uid(booking: Booking) -> str:
    return f"{booking.id}@{booking.tenant_id}.booking"


def _offset_changes(zone: ZoneInfo, first: datetime, last: datetime) -> list[tuple[datetime, timedelta]]:
    """(UTC instant, new offset) for each change of the zone's UTC offset in [first, last): found from the
    tz database itself, day by day, then to the minute."""
    changes = []
    day = first
    while day < last:
        following = day + timedelta(days=1)
        if day.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            low, high = day, following
            while high - low > timedelta(minutes=1):
                middle = (low + (high - low) / 2).replace(second=0, microsecond=0)
                middle = max(middle, low + timedelta(minutes=1))
                if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
                    low = middle
                else:
                    high = middle
            offset = high.astimezone(zone).utcoffset()
            assert offset is not None
            changes.append((high, offset))
        day = following
    return changes


def _vtimezone(zone: ZoneInfo, start: datetime, end: datetime) -> Timezone:
    """The zone's VTIMEZONE around the booking: one observance per change of offset, each starting at its
    own DTSTART (no RDATE lists, no rules to expand). Built from the tz database rather than with
    icalendar's Timezone.from_tzinfo, which dropped Casablanca's 2027 Ramadan changes; ical.js (in
    Thunderbird and many web calendars) reads only the first date of a multi-date RDATE besides."""
    first = datetime(start.year - 1, 1, 1, tzinfo=UTC)
    last = datetime(end.year + 2, 1, 1, tzinfo=UTC)
    timezone = Timezone()
    timezone.add("tzid", zone.key)
    before = first.astimezone(zone).utcoffset() or timedelta()
    observances = [(first, before, before)]
    for instant, after in _offset_changes(zone, first, last):
        observances.append((instant, before, after))
        before = after
    for instant, before, after in observances:
        local = instant.astimezone(zone)
        observance = TimezoneDaylight() if local.dst() else TimezoneStandard()
        observance.add("dtstart", (instant + before).replace(tzinfo=None))  # the wall clock it changes at
        observance.add("tzoffsetfrom", before)
        observance.add("tzoffsetto", after)
        observance.add("tzname", local.tzname() or zone.key)
        timezone.add_component(observance)
    return timezone


def _wall_clock(instant: datetime, zone: ZoneInfo) -> datetime:
    """The instant in the business's zone, or in UTC where that local time occurs twice (the hour repeated
    when clocks go back): RFC 5545 reads a repeated local time as its first occurrence, and ical.js (in
    Thunderbird and many web calendars) as its second, so in that hour only UTC means one instant."""
    local = instant.astimezone(zone)
    repeated = local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()
    return instant.astimezone(UTC) if repeated else local


def _add_conference(event: Event, join_url: str, provider: str) -> None:
    """RFC 7986 CONFERENCE for calendars that read it, and the properties Google Calendar and Outlook
    read for their own meetings (a Zoom link is not labelled as Google Meet or Teams)."""
    conference = vUri(join_url)
    conference.params["value"] = "URI"
    conference.params["feature"] = ["AUDIO", "VIDEO"]
    conference.params["label"] = "Join the meeting"
    event.add("conference", conference)
    if provider == "google_meet":
        event.add("x-google-conference", join_url)
    if provider == "microsoft_teams":
        event.add("x-microsoft-skypeteamsmeetingurl", join_url)
        event.add("x-microsoft-onlinemeetingconflink", join_url)


def build_invite(
    booking: Booking,
    business: Business,
    *,
    staff_name: str | None,
    manage_url: str,
    organizer_email: str,
    now: datetime,
    method: Method | None = None,
) -> bytes:
    """The .ics for `booking`: METHOD:CANCEL once it is cancelled, METHOD:REQUEST otherwise."""
    method = method or ("CANCEL" if booking.status is BookingStatus.CANCELLED else "REQUEST")
    zone = ZoneInfo(business.time_zone)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)

    event = Event()
    event.add("uid", invite_uid(booking))
    event.add("sequence", booking.version - 1)
    event.add("dtstamp", now)
    event.add("dtstart", _wall_clock(booking.start, zone))
    event.add("dtend", _wall_clock(booking.end, zone))
    services = ", ".join(s.name for s in booking.services)
    event.add("summary", f"{services} at {business.name}")
    with_whom = f" with {staff_name}" if staff_name else ""
    meeting = booking.meeting if booking.delivery == "online" else None
    join_url = meeting.join_url if meeting is not None and meeting.has_link else None
    joining = ""
    if join_url and meeting is not None:
        joining = f"\n\nJoin the meeting: {join_url}"
        joining += f"\nPasscode: {meeting.passcode}" if meeting.passcode else ""
        joining += f"\n{meeting.notes}" if meeting.notes else ""
    elif booking.delivery == "online":
        joining = "\n\nThe meeting link will follow."
    event.add(
        "description",
        f"{services}{with_whom}.{joining}\n\nView, reschedule or cancel: {manage_url}",
    )
    if booking.delivery == "online":
        event.add("location", join_url or "Online")
    else:
        # A job booked from a request happens at the customer's address, not the business's.
        event.add("location", booking.job_address or business.address or business.name)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    # A calendar that shows nothing else still shows URL as a link: the meeting's, once there is one.
    event.add("url", join_url or manage_url)
    if join_url and meeting is not None:
        _add_conference(event, join_url, meeting.provider)

    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = vText(business.name)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{booking.customer.email}")
    attendee.params["cn"] = vText(booking.customer.name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("ACCEPTED")
    attendee.params["rsvp"] = vText("FALSE")
    event.add("attendee", attendee)

    calendar.add_component(_vtimezone(zone, booking.start, booking.end))
    calendar.add_component(event)
    return bytes(calendar.to_ical())
