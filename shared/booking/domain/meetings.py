"""Online appointments: whether a business offers them, which provider makes its meeting links, and which
ways of delivery a customer may choose for a service.

A business switches online appointments on (off by default); until then a service delivered `online`
cannot be booked and one offered `both` ways is booked in person. The meeting-link provider is `manual`
(staff paste a link per booking), `jitsi` (a generated room on a Jitsi server; no account needed) or one
of the hosted providers whose credentials the business stores.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, StringConstraints

from booking.domain.booking import Delivery

MeetingProvider = Literal["manual", "jitsi", "zoom", "google_meet", "microsoft_teams", "daily", "whereby"]
DEFAULT_JITSI_BASE_URL = "https://meet.jit.si"


def _https_base(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("a meeting server is an https:// address, e.g. https://meet.jit.si")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("a meeting server address has no query, fragment or credentials")
    return value.rstrip("/")


HttpsBaseUrl = Annotated[str, StringConstraints(max_length=200), AfterValidator(_https_base)]


def delivery_options(delivery_mode: str, online_appointments: bool) -> tuple[Delivery, ...]:
    """How a customer may have a service delivered now: a service offered `both` ways lets them choose,
    and nothing is online while the business has online appointments switched off."""
    online: tuple[Delivery, ...] = ("online",) if online_appointments else ()
    if delivery_mode == "online":
        return online
    if delivery_mode == "both":
        return (*online, "in_person")
    return ("in_person",)
