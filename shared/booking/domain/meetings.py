"""Online appointments: whether a business offers them, which provider makes its meeting links, and which
ways of delivery a customer may choose for a service.

A business switches online appointments on (off by default); until then a service delivered `online`
cannot be booked and one offered `both` ways is booked in person. The meeting-link provider is `manual`
(staff paste a link per booking), `jitsi` (a generated room on a Jitsi server; no account needed) or one
of the hosted providers whose credentials the business stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from booking.domain.types import Delivery, Model

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


def _https_link(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("a meeting link is an https:// address, e.g. https://zoom.us/j/123?pwd=abc")
    if parts.username or parts.password:
        raise ValueError("a meeting link carries no user name or password before its host")
    if any(c.isspace() for c in value):
        raise ValueError("a meeting link has no spaces")
    return value


HttpsLink = Annotated[str, StringConstraints(min_length=9, max_length=2000), AfterValidator(_https_link)]


def delivery_options(delivery_mode: str, online_appointments: bool) -> tuple[Delivery, ...]:
    """How a customer may have a service delivered now: a service offered `both` ways lets them choose,
    and nothing is online while the business has online appointments switched off."""
    online: tuple[Delivery, ...] = ("online",) if online_appointments else ()
    if delivery_mode == "online":
        return online
    if delivery_mode == "both":
        return (*online, "in_person")
    return ("in_person",)


# --- the meeting a booking carries ---------------------------------------------------------------------

# not_set: nobody has made a link yet (manual mode, or provisioning gave up); provisioning: the state
# machine is making one; ready: the customer has a link; failed: the provider refused, with its reason.
MeetingStatus = Literal["not_set", "provisioning", "ready", "failed"]


class Meeting(BaseModel):
    """The meeting of an online booking. The customer sees the join link, passcode and notes; the host's
    start link and the provider's own id are for staff only."""

    status: MeetingStatus
    provider: MeetingProvider
    join_url: str | None = None
    passcode: str | None = None
    notes: str = ""  # dial-in numbers and the like
    host_url: str | None = None
    meeting_id: str | None = None  # the provider's id, to move or delete the meeting there
    made_for: tuple[datetime, datetime] | None = None  # the times the provider's meeting is set for
    reason: str | None = None  # why provisioning failed, in the provider's words
    notify_customer: bool = False  # the last change asked for the customer to be sent the link again
    updated_at: datetime | None = None

    @property
    def has_link(self) -> bool:
        return self.status == "ready" and self.join_url is not None


class MeetingLinkUpdate(Model):
    """Staff setting or replacing an online booking's link by hand (any provider, or none)."""

    join_url: HttpsLink
    passcode: Annotated[str, StringConstraints(max_length=50)] | None = None
    notes: Annotated[str, StringConstraints(max_length=1000)] = ""
    notify_customer: bool = False  # send the customer the link now (email and SMS, with an updated invite)


def initial_meeting(provider: MeetingProvider) -> Meeting:
    """A new online booking's meeting: staff paste a manual link; every provider makes one by itself."""
    return Meeting(status="not_set" if provider == "manual" else "provisioning", provider=provider)


@dataclass(frozen=True)
class MeetingSpec:
    """What a provider is asked to make: one meeting for one booking (never shared across a series)."""

    tenant_id: str
    booking_id: str
    topic: str
    start: datetime
    end: datetime
    time_zone: str  # the business's IANA zone (Zoom and Graph show times in it)
    host_email: str | None = None  # the staff member, where the provider schedules on a user's behalf


@dataclass(frozen=True)
class CreatedMeeting:
    """What a provider made: its own id (to update or delete it later), the link the customer joins by,
    and what only staff may see (the host's start link)."""

    meeting_id: str
    join_url: str
    passcode: str | None = None
    host_url: str | None = None
    notes: str = ""  # dial-in numbers and the like, shown to the customer beside the link


class MeetingProviderError(Exception):
    """A provider call that did not make, change or delete the meeting. `retryable` says whether trying
    again later may work (an outage, throttling: after `retry_after` seconds when the provider said)."""

    retryable: bool = False

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class CredentialsRejected(MeetingProviderError):
    """The provider refused the business's credentials (wrong, revoked, missing a permission)."""


class CredentialsMissing(MeetingProviderError):
    """The business chose a provider but stored no credentials for it."""


class MeetingRefused(MeetingProviderError):
    """The provider understood and refused the request (a 4xx other than auth and throttling)."""


class ProviderRateLimited(MeetingProviderError):
    retryable = True


class ProviderUnavailable(MeetingProviderError):
    """5xx, a timeout or a connection that failed: the provider may work again later."""

    retryable = True


# --- provider credentials (write-only in the API; kept in Secrets Manager) --------------------------------

# Printable ASCII: credentials travel in HTTP headers and forms (a key with other characters is a typo).
Secret = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=r"^[\x20-\x7e\r\n]+$")]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]
# A key sent as a bearer token: no spaces or line breaks (they would break, or inject, the header).
ApiKey = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=r"^[\x21-\x7e]+$")]


class ZoomCredentials(Model):
    """A Server-to-Server OAuth app of the business's Zoom account."""

    account_id: Identifier
    client_id: Identifier
    client_secret: Secret
    user_id: Identifier = "me"  # the Zoom user who hosts: 'me', a user id or an email
    # The app's event-subscription Secret Token: Zoom's meeting.started and meeting.ended events are
    # checked with it (services/zoom_webhooks.py) and recorded in the booking's history.
    webhook_secret_token: Secret | None = None


class GoogleMeetCredentials(Model):
    """A Google Cloud service account allowed to write to `calendar_id`: its JSON key may be pasted
    whole (fields we do not use, such as its token_uri, are ignored: tokens come only from Google's
    own endpoint). `subject` names the Workspace user it acts as, with domain-wide delegation."""

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    client_email: Annotated[str, StringConstraints(min_length=3, max_length=320, pattern=r"^[\x21-\x7e]+$")]
    private_key: Secret
    private_key_id: Identifier | None = None
    calendar_id: Identifier = "primary"
    subject: Annotated[str, StringConstraints(max_length=320, pattern=r"^[\x21-\x7e]*$")] | None = None


class TeamsCredentials(Model):
    """An Entra ID app registration with OnlineMeetings.ReadWrite.All (application permission) and an
    application access policy covering `organizer_user_id`."""

    tenant_id: Identifier
    client_id: Identifier
    client_secret: Secret
    organizer_user_id: Identifier


class ApiKeyCredentials(Model):
    """Daily and Whereby: one API key of the business's account."""

    api_key: ApiKey


CREDENTIALS: dict[str, type[Model]] = {
    "zoom": ZoomCredentials,
    "google_meet": GoogleMeetCredentials,
    "microsoft_teams": TeamsCredentials,
    "daily": ApiKeyCredentials,
    "whereby": ApiKeyCredentials,
}
