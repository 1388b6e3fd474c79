"""Reusable validated value types. Libraries do the validating: zoneinfo, email-validator, phonenumbers,
pycountry (through pydantic-extra-types)."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    StringConstraints,
)
from pydantic import BaseModel as _PydanticModel
from pydantic_extra_types.currency_code import ISO4217
from pydantic_extra_types.phone_numbers import PhoneNumberValidator


def _whole_minute(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a local wall-clock time has no offset")
    if value.second or value.microsecond:
        raise ValueError("times are whole minutes, e.g. 09:07")
    return value


def _representable_in_utc(value: datetime) -> datetime:
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("that instant is out of range") from None
    return value


# An instant with its offset that the domain can turn into UTC (9999-12-31T23:59-12:00 cannot be).
Instant = Annotated[AwareDatetime, AfterValidator(_representable_in_utc)]


# How a booking is delivered: at the business (or the customer's address), or as an online meeting.
Delivery = Literal["online", "in_person"]


class Model(_PydanticModel):
    """Base for domain models: unknown fields are rejected, strings are trimmed, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_time_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError(f"unknown IANA time zone {value!r} (e.g. 'Europe/London')")
    return value


def _check_origin(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("an origin is scheme://host[:port], e.g. https://www.example.com")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError("an origin has no path, query, fragment or credentials")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


# Unicode's bidirectional controls: they reorder what follows them, so a name can show one thing and be
# another in an email subject, an SMS or a calendar ("invoice\u202eexe.pdf").
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _printable(allowed: str) -> Callable[[str], str]:
    """Refuses control characters (NUL, BEL, ESC, ...; all but those in `allowed`) and bidirectional
    controls in text people type: they would reach email subjects, SMS and invites as they are."""

    def check(value: str) -> str:
        for character in value:
            if character in allowed:
                continue
            if unicodedata.category(character) == "Cc" or character in _BIDI_CONTROLS:
                raise ValueError(f"contains the control character U+{ord(character):04X}")
        return value

    return check


Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=120), AfterValidator(_printable(""))]
Description = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_printable("\n\t"))]
ShortText = Annotated[str, StringConstraints(max_length=200), AfterValidator(_printable("\n\t"))]
Slug = Annotated[str, StringConstraints(min_length=3, max_length=50, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(_check_time_zone)]
Currency = ISO4217
Email = Annotated[EmailStr, StringConstraints(max_length=254)]
PhoneE164 = Annotated[str, StringConstraints(max_length=20), PhoneNumberValidator(number_format="E164")]
Origin = Annotated[str, StringConstraints(max_length=200), AfterValidator(_check_origin)]
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
MinorUnits = Annotated[int, Field(ge=0, le=100_000_000)]
# A wall-clock time of day, written "HH:MM" on the wire.
LocalTime = Annotated[
    time, AfterValidator(_whole_minute), PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str)
]
