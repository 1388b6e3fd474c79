"""How times and money read in messages and documents: a booking's time in the business's zone (and the
customer's, when they gave one and the clocks differ), a long booking's span, money for its currency (Babel,
with ISO 4217's minor units)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import format_currency

from booking.domain.booking import Booking
from booking.domain.payments import minor_unit_exponent


def format_when(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M} ({local:%Z}, {zone.key})"


# A booking longer than this (a half-day or full-day job) shows when it ends as well as when it starts.
LONG_BOOKING = timedelta(hours=3)
TO = "\u2013"  # an en dash between the start and end of a range of times, as in print


def is_long(start: datetime, end: datetime, zone: ZoneInfo) -> bool:
    """Worth naming the end too: longer than a few hours, or ending on another day than it starts."""
    return end - start > LONG_BOOKING or start.astimezone(zone).date() != end.astimezone(zone).date()


def format_span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """Start and end, the end's day named when it is another: "Monday 14 December 2026 08:00 to Tuesday
    15 December 2026 17:00 (GMT, Europe/London)" (with an en dash); each time with its abbreviation when
    the clocks change in between."""
    s, e = start.astimezone(zone), end.astimezone(zone)
    first = f"{s:%A} {s.day} {s:%B %Y} {s:%H:%M}"
    until = f"{e:%H:%M}" if s.date() == e.date() else f"{e:%A} {e.day} {e:%B %Y} {e:%H:%M}"
    if s.tzname() == e.tzname():
        return f"{first} {TO} {until} ({s:%Z}, {zone.key})"
    return f"{first} {s:%Z} {TO} {until} {e:%Z} ({zone.key})"


def format_when_short(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def customer_zone(booking: Booking, business_zone: ZoneInfo) -> ZoneInfo | None:
    """The zone the customer gave, when it is not the business's own (then today's wording stands)."""
    name = booking.customer.time_zone
    return ZoneInfo(name) if name and name != business_zone.key else None


def clocks_differ(instant: datetime, business_zone: ZoneInfo, customer: ZoneInfo | None) -> bool:
    """Whether the customer's clock shows another time than the business's at `instant`."""
    return (
        customer is not None
        and instant.astimezone(customer).utcoffset() != instant.astimezone(business_zone).utcoffset()
    )


def format_when_for(instant: datetime, business_zone: ZoneInfo, customer: ZoneInfo | None) -> str:
    """The customer's wall clock with their zone named, then the business's when its clock differs
    (its day too when that differs): the customer is elsewhere, but the appointment happens there."""
    if customer is None:
        return format_when(instant, business_zone)
    shown = format_when(instant, customer)
    if not clocks_differ(instant, business_zone, customer):
        return shown
    here, there = instant.astimezone(customer), instant.astimezone(business_zone)
    day = "" if here.date() == there.date() else f" on {there:%A} {there.day} {there:%B}"
    return f"{shown} — {there:%H:%M} {there:%Z}{day} in {business_zone.key}, the business's time"


def format_span_for(
    start: datetime, end: datetime, business_zone: ZoneInfo, customer: ZoneInfo | None
) -> str:
    """A long booking's start and end on the customer's clock, then the business's when it differs."""
    if customer is None:
        return format_span(start, end, business_zone)
    shown = format_span(start, end, customer)
    if not clocks_differ(start, business_zone, customer):
        return shown
    here, s, e = start.astimezone(customer), start.astimezone(business_zone), end.astimezone(business_zone)
    day = "" if here.date() == s.date() else f"{s:%A} {s.day} {s:%B} "
    until = f"{e:%H:%M}" if s.date() == e.date() else f"{e:%A} {e.day} {e:%B} {e:%H:%M}"
    return f"{shown} — {day}{s:%H:%M} {TO} {until} {e:%Z} in {business_zone.key}, the business's time"


def when_row(booking: Booking, business_zone: ZoneInfo, customer: ZoneInfo | None = None) -> str:
    """What a message's "When" shows: the start, and the end too for a long booking."""
    if is_long(booking.start, booking.end, customer or business_zone):
        return format_span_for(booking.start, booking.end, business_zone, customer)
    return format_when_for(booking.start, business_zone, customer)


def address_lines(text: str) -> str:
    """An address as its lines, each trimmed, no blank ones (a text email indents them under the first)."""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def format_when_short_for(instant: datetime, business_zone: ZoneInfo, customer: ZoneInfo | None) -> str:
    """For a text or a subject: the customer's wall clock with its abbreviation (no room for both)."""
    if customer is None:
        return format_when_short(instant, business_zone)
    return f"{format_when_short(instant, customer)} {instant.astimezone(customer):%Z}"


def format_money(amount_minor: int, currency: str) -> str:
    exponent = minor_unit_exponent(currency)  # ISO 4217's, where CLDR's display precision differs
    pattern = "¤#,##0" + ("." + "0" * exponent if exponent else "")
    return format_currency(
        Decimal(amount_minor).scaleb(-exponent), currency, format=pattern, locale="en", currency_digits=False
    )


def lead_time(minutes_before: int) -> str:
    if minutes_before % (24 * 60) == 0:
        days = minutes_before // (24 * 60)
        return "tomorrow" if days == 1 else f"in {days} days"
    if minutes_before % 60 == 0:
        hours = minutes_before // 60
        return "in an hour" if hours == 1 else f"in {hours} hours"
    return f"in {minutes_before} minutes"
