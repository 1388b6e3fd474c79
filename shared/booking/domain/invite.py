"""Calendar invites (RFC 5545 / iTIP RFC 5546) for a booking, built with icalendar.

One UID per booking for its whole life; SEQUENCE rises with every change (it is the booking's version), so
a calendar replaces the old event on a reschedule and removes it on METHOD:CANCEL. Times carry the
business's zone with its VTIMEZONE, so the event shows at the right wall-clock time everywhere (a time in
the hour repeated when clocks go back is written in UTC: see _wall_clock).

A recurring series is one event in the calendar: a recurring VEVENT (RRULE in the business's zone, EXDATE
for the dates not booked) with one override per session (RECURRENCE-ID = the session's planned start)
carrying that session's own time, link and status. Not one VEVENT per session: an iTIP REQUEST is about
one UID, and Outlook imports only the first VEVENT of a message holding several (MS-STANOICAL 2.2.175);
a master with RECURRENCE-ID overrides is what Google Calendar and Outlook send themselves for a series
with exceptions, and Google, Apple, Outlook (MS-OXCICAL) and ical.js read each override as that instance.
A later message about one session (moved, cancelled, its link) carries that session's override alone,
under the series' UID, so the calendar changes that instance only.

Staff get their own copy of each invite: a UID of its own, the client's details and the host link in it,
never the customer's manage link.
"""

from __future__ import annotations

import calendar as months
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
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
from booking.domain.series import Series

PRODUCT_ID = "-//booking-backend//appointments//EN"
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

Method = Literal["REQUEST", "CANCEL"]


@dataclass(frozen=True)
class StaffCopy:
    """The staff member an invite is for: their copy names the client and carries the host link."""

    staff_id: str
    email: str
    name: str


def invite_uid(booking: Booking, copy: StaffCopy | None = None) -> str:
    return f"{booking.id}{'.staff' if copy else ''}@{booking.tenant_id}.booking"


def series_uid(series: Series, copy: StaffCopy | None = None) -> str:
    return f"{series.id}.series{'.staff' if copy else ''}@{series.tenant_id}.booking"


def one_line(address: str) -> str:
    """An address typed on several lines, as one line (what a map search in a calendar expects)."""
    return ", ".join(line.strip() for line in address.splitlines() if line.strip())


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


def _add_conference(event: Event, url: str, provider: str, label: str) -> None:
    """RFC 7986 CONFERENCE for calendars that read it, and the properties Google Calendar and Outlook
    read for their own meetings (a Zoom link is not labelled as Google Meet or Teams)."""
    conference = vUri(url)
    conference.params["value"] = "URI"
    conference.params["feature"] = ["AUDIO", "VIDEO"]
    conference.params["label"] = label
    event.add("conference", conference)
    if provider == "google_meet":
        event.add("x-google-conference", url)
    if provider == "microsoft_teams":
        event.add("x-microsoft-skypeteamsmeetingurl", url)
        event.add("x-microsoft-onlinemeetingconflink", url)


def _calendar(method: Method) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    return calendar


def _people(
    event: Event, booking: Booking, business: Business, organizer_email: str, copy: StaffCopy | None
) -> None:
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = vText(business.name)
    event.add("organizer", organizer)
    email, name = (copy.email, copy.name) if copy else (booking.customer.email, booking.customer.name)
    attendee = vCalAddress(f"mailto:{email}")
    attendee.params["cn"] = vText(name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("ACCEPTED")
    attendee.params["rsvp"] = vText("FALSE")
    event.add("attendee", attendee)


def _services(booking: Booking) -> str:
    return ", ".join(s.name for s in booking.services)


def _place(booking: Booking, business: Business) -> str:
    # A job booked from a request happens at the customer's address, not the business's.
    return one_line(booking.job_address or "") or business.address or business.name


def _booking_event(
    booking: Booking,
    business: Business,
    zone: ZoneInfo,
    *,
    staff_name: str | None,
    manage_url: str,
    organizer_email: str,
    now: datetime,
    method: Method,
    copy: StaffCopy | None,
) -> Event:
    """One booking's VEVENT, without its UID (a booking's own, or its series' with a RECURRENCE-ID)."""
    event = Event()
    event.add("sequence", booking.version - 1)
    event.add("dtstamp", now)
    event.add("dtstart", _wall_clock(booking.start, zone))
    event.add("dtend", _wall_clock(booking.end, zone))
    services = _services(booking)
    online = booking.delivery == "online"
    meeting = booking.meeting if online else None
    ready = meeting is not None and meeting.has_link
    if copy is None:
        event.add("summary", f"{services} at {business.name}")
        link = meeting.join_url if ready and meeting else None
        with_whom = f" with {staff_name}" if staff_name else ""
        lines = [f"{services}{with_whom}."]
        if link and meeting is not None:
            lines.append(f"\nJoin the meeting: {link}")
            lines += [f"Passcode: {meeting.passcode}"] if meeting.passcode else []
            lines += [meeting.notes] if meeting.notes else []
        elif online:
            lines.append("\nThe meeting link will follow.")
        lines.append(f"\nView, reschedule or cancel: {manage_url}")
        # A calendar that shows nothing else still shows URL as a link: the meeting's, once there is one.
        event.add("url", link or manage_url)
    else:
        event.add("summary", f"{services}: {booking.customer.name}")
        # Staff start the call by the host link where the provider has one.
        link = (meeting.host_url or meeting.join_url) if ready and meeting else None
        lines = [f"{services} for {booking.customer.name}."]
        lines += [f"Phone: {booking.customer.phone}"] if booking.customer.phone else []
        lines += [f"Notes: {booking.customer_notes}"] if booking.customer_notes else []
        lines += [f"Address:\n{booking.job_address.strip()}"] if booking.job_address and not online else []
        if link and meeting is not None:
            lines.append(f"\nStart the call: {link}")
            lines += [f"Passcode: {meeting.passcode}"] if meeting.passcode else []
            event.add("url", link)
        elif online:
            lines.append("\nNo meeting link yet.")
    event.add("description", "\n".join(lines))
    event.add("location", (link or "Online") if online else _place(booking, business))
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    if link and meeting is not None:
        _add_conference(event, link, meeting.provider, "Start the call" if copy else "Join the meeting")
    _people(event, booking, business, organizer_email, copy)
    return event


def _in_series(booking: Booking, series: Series | None, copy: StaffCopy | None) -> bool:
    """Whether `booking` is an instance of `series` in this recipient's calendar: always for the customer;
    for staff, only in the calendar of the series' own staff member (a session reassigned to a colleague
    is a single event in theirs)."""
    if series is None or booking.id not in {o.booking_id for o in series.booked}:
        return False
    return copy is None or copy.staff_id == series.staff_id


def build_invite(
    booking: Booking,
    business: Business,
    *,
    staff_name: str | None,
    manage_url: str,
    organizer_email: str,
    now: datetime,
    method: Method | None = None,
    series: Series | None = None,
    copy: StaffCopy | None = None,
) -> bytes:
    """The .ics for `booking`: METHOD:CANCEL once it is cancelled, METHOD:REQUEST otherwise. A session of
    `series` is written as its instance of the series (its override alone); `copy`: the staff member's."""
    method = method or ("CANCEL" if booking.status is BookingStatus.CANCELLED else "REQUEST")
    zone = ZoneInfo(business.time_zone)
    calendar = _calendar(method)
    event = _booking_event(
        booking,
        business,
        zone,
        staff_name=staff_name,
        manage_url=manage_url,
        organizer_email=organizer_email,
        now=now,
        method=method,
        copy=copy,
    )
    first, last = booking.start, booking.end
    if series is not None and _in_series(booking, series, copy):
        event.add("uid", series_uid(series, copy))
        planned = _planned(series, zone)
        event.add("recurrence-id", planned[booking.id])
        first = min(first, series.occurrences[0].start)
    else:
        event.add("uid", invite_uid(booking, copy))
    calendar.add_component(_vtimezone(zone, first, last))
    calendar.add_component(event)
    return bytes(calendar.to_ical())


# --- a recurring series ----------------------------------------------------------------------------------


def _planned(series: Series, zone: ZoneInfo) -> dict[str, datetime]:
    """Each booked session's planned start as the series' rule names it: its day at the first session's
    wall-clock time (a session the clocks skipped is booked an hour later, but its rule instance, and so
    its RECURRENCE-ID, keeps the nominal time)."""
    at = series.occurrences[0].start.astimezone(zone).time()
    return {o.booking_id: _nominal(o.start, at, zone) for o in series.occurrences if o.booking_id is not None}


def _nominal(start: datetime, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(start.astimezone(zone).date(), at, tzinfo=zone)


def _rule(series: Series, zone: ZoneInfo, last_day: date) -> dict[str, object]:
    """The series' RRULE (dateutil's rule in domain/series.py, written as RFC 5545 has it), ending on the
    last booked session's day."""
    first = series.occurrences[0].start.astimezone(zone)
    until = datetime.combine(last_day, time(23, 59, 59), tzinfo=zone).astimezone(UTC)
    rule: dict[str, object] = {"freq": "weekly", "interval": series.interval, "until": until}
    if series.frequency == "weekly":
        rule["byday"] = _WEEKDAYS[first.weekday()]
    else:
        rule["freq"] = "monthly"
        if series.frequency == "monthly_by_date":
            rule["bymonthday"] = first.day
        else:
            nth = (first.day - 1) // 7 + 1
            rule["byday"] = f"{-1 if nth == 5 else nth}{_WEEKDAYS[first.weekday()]}"
    return rule


def _outlook_month_ends(series: Series, zone: ZoneInfo, first: date, last: date) -> list[date]:
    """Days Outlook adds to a rule on the 29th-31st: it puts "day 31 of every month" on the last day of a
    shorter month, where RFC 5545 (and so Google, Apple and ical.js) skips the month. An EXDATE on each
    keeps Outlook to the booked dates and is ignored elsewhere (it names no instance there)."""
    day = series.occurrences[0].start.astimezone(zone).day
    if series.frequency != "monthly_by_date" or day <= 28:
        return []
    found = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        length = months.monthrange(year, month)[1]
        if length < day:
            found.append(date(year, month, length))
        month += series.interval
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return found


def build_series_invite(
    series: Series,
    sessions: Sequence[Booking],
    business: Business,
    *,
    staff_name: str | None,
    manage_urls: Mapping[str, str],
    organizer_email: str,
    now: datetime,
    copy: StaffCopy | None = None,
) -> bytes:
    """The whole series as one recurring event (METHOD:REQUEST): the rule from the first to the last
    booked session, an EXDATE for each date in between that is not an active session (skipped, cancelled),
    and each active session as an override carrying its own time, meeting link and status. `sessions`:
    the series' bookings as they are now; `manage_urls`: each one's manage link, by booking id."""
    zone = ZoneInfo(business.time_zone)
    by_id = {b.id: b for b in sessions}
    planned = _planned(series, zone)
    booked = [o for o in series.occurrences if o.booking_id is not None]
    active = [
        by_id[o.booking_id]
        for o in booked
        if o.booking_id in by_id and by_id[o.booking_id].status is not BookingStatus.CANCELLED
    ]
    if not active:
        raise ValueError("a series invite needs at least one active session")
    opening, closing = planned[booked[0].booking_id or ""], planned[booked[-1].booking_id or ""]
    lead = active[0]
    calendar = _calendar("REQUEST")
    master = Event()
    master.add("uid", series_uid(series, copy))
    master.add("sequence", 0)
    master.add("dtstamp", now)
    master.add("dtstart", opening)
    master.add("dtend", opening + (lead.end - lead.start))
    master.add("rrule", _rule(series, zone, closing.date()))
    kept = {planned[b.id] for b in active}
    at = opening.timetz().replace(tzinfo=None)
    gaps = [
        _nominal(o.start, at, zone)
        for o in series.occurrences
        if opening <= _nominal(o.start, at, zone) <= closing and _nominal(o.start, at, zone) not in kept
    ]
    gaps += [
        datetime.combine(d, at, tzinfo=zone)
        for d in _outlook_month_ends(series, zone, opening.date(), closing.date())
    ]
    for gap in sorted(set(gaps)):
        master.add("exdate", gap)  # one per line: some readers take only a line's first date
    services = _services(lead)
    online = lead.delivery == "online"
    if copy is None:
        master.add("summary", f"{services} at {business.name}")
        with_whom = f" with {staff_name}" if staff_name else ""
        each = " Each session has its own meeting link." if online else ""
        master.add("description", f"{services}{with_whom}: {len(active)} sessions.{each}")
    else:
        master.add("summary", f"{services}: {lead.customer.name}")
        master.add("description", f"{services} for {lead.customer.name}: {len(active)} sessions.")
    master.add("location", "Online" if online else _place(lead, business))
    master.add("status", "CONFIRMED")
    _people(master, lead, business, organizer_email, copy)
    calendar.add_component(_vtimezone(zone, min(opening, lead.start), max(closing, active[-1].end)))
    calendar.add_component(master)
    for session in active:
        event = _booking_event(
            session,
            business,
            zone,
            staff_name=staff_name,
            manage_url=manage_urls.get(session.id, ""),
            organizer_email=organizer_email,
            now=now,
            method="REQUEST",
            copy=copy,
        )
        event.add("uid", series_uid(series, copy))
        event.add("recurrence-id", planned[session.id])
        calendar.add_component(event)
    return bytes(calendar.to_ical())
