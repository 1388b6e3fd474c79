"""Issue 8, section 5: time right everywhere and always. Over every IANA zone (hypothesis draws from all
of them, and always tries the awkward ones: half-hour DST, negative DST, 45-minute offsets, Ramadan
suspensions), and instants around each zone's clock changes: the invite puts the booking at exactly its
instant for icalendar and for ical.js (under node, in a zone far from the business's), the email shows
that instant's local time with the zone, and reminders go out exactly their lead time before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.domain.booking import Booking
from booking.domain.catalogue import Business
from booking.domain.invite import build_invite
from booking.domain.reminders import ReminderRule, plan_reminders
from booking.rendering.messages import customer_message
from tests.support.notification_fixtures import (
    make_booking,
    make_business,
    parse_many_with_icaljs,
    parse_with_icalendar,
    utc_instant,
)
from tests.support.zones import AWKWARD, all_zones, clock_changes

YEARS = (2026, 2027)
STAMP = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
PROPERTIES = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def bookings(draw: st.DrawFn) -> tuple[Business, Booking]:
    """A booking in a business somewhere: near one of its zone's clock changes when it has any."""
    zone = draw(st.one_of(st.sampled_from(AWKWARD), st.sampled_from(all_zones())))
    changes = [c for year in YEARS for c in clock_changes(zone, year)]
    if changes:
        around = draw(st.sampled_from(changes))
        start = around + timedelta(minutes=5 * draw(st.integers(-36, 36)))
    else:
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=5 * draw(st.integers(0, 2 * 365 * 288)))
    minutes = draw(st.sampled_from([15, 30, 45, 60, 90, 135, 240, 600]))
    business = make_business(time_zone=zone)
    return business, make_booking(start, minutes=minutes)


def invite_of(business: Business, booking: Booking) -> bytes:
    ics: bytes = build_invite(
        booking,
        business,
        staff_name="Amelia Hart",
        manage_url="https://book.example/bookings/1?token=t",
        organizer_email="hello@example.com",
        now=STAMP,
    )
    return ics


@PROPERTIES
@given(st.lists(bookings(), min_size=25, max_size=25))
def test_both_parsers_read_every_invite_at_exactly_the_bookings_instant(
    cases: list[tuple[Business, Booking]],
) -> None:
    invites = [invite_of(business, booking) for business, booking in cases]
    seen = parse_many_with_icaljs(invites)  # one node process for the lot
    for (business, booking), ics, icaljs in zip(cases, invites, seen, strict=True):
        _, event = parse_with_icalendar(ics)
        where = (business.time_zone, booking.start)
        assert event.decoded("DTSTART") == booking.start, where
        assert event.decoded("DTEND") == booking.end, where
        assert utc_instant(icaljs["dtstart"]["utc"]) == booking.start, (where, icaljs["dtstart"])
        assert utc_instant(icaljs["dtend"]["utc"]) == booking.end, (where, icaljs["dtend"])
        # placed in its zone (or, for a zone that is UTC all year, in UTC): never floating
        assert icaljs["dtstart"]["zone"] in (business.time_zone, "UTC"), (where, icaljs["dtstart"])


@settings(max_examples=150, deadline=None)
@given(bookings())
def test_the_email_shows_the_instants_local_time_and_names_its_zone(case: tuple[Business, Booking]) -> None:
    business, booking = case
    local = booking.start.astimezone(ZoneInfo(business.time_zone))
    text = customer_message(
        "confirmation", booking, business, staff_name="Amelia Hart", manage_url="https://book.example/m"
    ).text

    [when] = [line for line in text.splitlines() if line.startswith("When:")]
    # "... 1 January 2026 at 09:00 (GMT, Europe/London)", or for a long booking "... 1 January 2026 09:00 -
    # 13:00 (GMT, Europe/London)", each end naming its own offset when the clocks change during it.
    shown = (f"{local.day} {local:%B %Y} at {local:%H:%M} ", f"{local.day} {local:%B %Y} {local:%H:%M} ")
    assert any(start in when for start in shown), (business.time_zone, booking.start, when)
    assert business.time_zone in when and str(local.tzname()) in when, when


@settings(max_examples=150, deadline=None)
@given(bookings(), st.lists(st.integers(1, 30 * 24 * 12), min_size=1, max_size=4, unique=True))
def test_each_reminder_goes_out_exactly_its_lead_time_before_the_instant(
    case: tuple[Business, Booking], leads: list[int]
) -> None:
    _, booking = case
    rules = [ReminderRule(minutes_before=5 * lead, channels=["email"]) for lead in leads]
    planned = plan_reminders(booking, rules, now=booking.start - timedelta(days=31))

    assert sorted(r.send_at for r in planned) == sorted(
        booking.start - timedelta(minutes=5 * lead) for lead in leads
    )
    assert all(r.planned_start == booking.start for r in planned)
