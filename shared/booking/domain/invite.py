"""Calendar invites (RFC 5545 / iTIP RFC 5546) for a booking, built with icalendar.

One UID per booking for its whole life; SEQUENCE rises with every change (it is the booking's version), so
a calendar replaces the old event on a reschedule and removes it on METHOD:CANCEL. Times carry the
business's zone with its VTIMEZONE, so the event shows at the right wall-clock time everywhere.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vText

from booking.domain.booking import Booking, BookingStatus
from booking.domain.catalogue import Business

PRODUCT_ID = "-//booking-backend//appointments//EN"

Method = Literal["REQUEST", "CANCEL"]


def invite_uid(booking: Booking) -> str:
    return f"{booking.id}@{booking.tenant_id}.booking"


def _vtimezone(zone: ZoneInfo, start: datetime, end: datetime) -> Timezone:
    """The zone's VTIMEZONE around the booking, with one RDATE property per transition: ical.js (the
    parser inside Thunderbird and many web calendars) reads only the first date of a multi-date RDATE,
    and would show every appointment after the zone's first listed change at the wrong offset."""
    timezone = Timezone.from_tzinfo(
        zone, tzid=zone.key, first_date=date(start.year - 1, 1, 1), last_date=date(end.year + 2, 1, 1)
    )
    for observance in timezone.subcomponents:
        listed = observance.pop("RDATE", None)
        for prop in listed if isinstance(listed, list) else [listed] if listed is not None else []:
            for when in prop.dts:
                observance.add("RDATE", when.dt)
    return timezone


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
    event.add("dtstart", booking.start.astimezone(zone))
    event.add("dtend", booking.end.astimezone(zone))
    services = ", ".join(s.name for s in booking.services)
    event.add("summary", f"{services} at {business.name}")
    with_whom = f" with {staff_name}" if staff_name else ""
    event.add(
        "description",
        f"{services}{with_whom}.\n\nView, reschedule or cancel: {manage_url}",
    )
    event.add("location", "Online" if booking.delivery == "online" else business.address or business.name)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("url", manage_url)

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
