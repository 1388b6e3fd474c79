"""Providers' event notifications (webhooks): proving that the provider sent them, and reading the events
the product records. Today: Zoom's meeting events.

Zoom signs each request with the secret token of the business's app: `x-zm-signature` is `v0=` and the hex
HMAC-SHA256 of `v0:<x-zm-request-timestamp>:<raw body>`. A request signed more than five minutes away from
now is refused, so a captured request cannot be replayed later (one replayed sooner is caught by its
event key). Zoom checks the endpoint itself (when it is set up, then every 72 hours) with an
`endpoint.url_validation` event, answered with the HMAC of its `plainToken`. Zoom sends no event id, and
retries an unanswered event 5, 25 and 85 minutes later with a fresh timestamp and signature, so an event
is known by what its body says: its type, its `event_ts` and the meeting instance it is about.

Pure: the secret, the raw body and the clock's now are passed in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError

from booking.domain.booking import Actor, HistoryEntry
from booking.domain.errors import DomainError, Unauthorized

# How far a request's signing time may be from now, either way (Zoom's own guidance).
TOLERANCE = timedelta(seconds=300)
# How long an event's key is kept to recognise a replay: longer than Zoom's last retry (85 minutes).
EVENT_RETENTION = timedelta(days=7)

ZOOM_SIGNATURE = "x-zm-signature"
ZOOM_TIMESTAMP = "x-zm-request-timestamp"
URL_VALIDATION = "endpoint.url_validation"
MEETING_STARTED = "meeting.started"
MEETING_ENDED = "meeting.ended"
ZOOM = Actor(kind="system", id="zoom")

# A tenant id as it appears in a webhook URL (ULIDs, or the demo's ids): anything else names no business.
TENANT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class SignatureRejected(Unauthorized):
    """Not proven to come from the provider: unsigned, signed with another secret, or signed too long ago."""

    kind = "invalid-webhook-signature"
    title = "Webhook signature missing, invalid or stale"


class MalformedEvent(DomainError):
    """Signed, but not an event that can be read (not JSON, or missing what its type needs)."""

    kind = "malformed-event"
    title = "Malformed event"


def _text_id(value: Any) -> Any:
    # Zoom's older payloads carry the meeting id as a number, newer ones as text.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


MeetingId = Annotated[
    str,
    BeforeValidator(_text_id),
    StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$"),
]


class ZoomEvent(BaseModel):
    """The envelope of every Zoom event. Fields we do not read are ignored (Zoom adds fields freely)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    event_ts: int | None = Field(default=None, ge=0)  # when Zoom recorded it, ms since the epoch
    payload: dict[str, Any] = Field(default_factory=dict)


class ZoomMeeting(BaseModel):
    """`payload.object` of a meeting event: the meeting (`id`, the number people join with) and the one
    instance of it that started or ended (`uuid`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: MeetingId
    uuid: Annotated[str, StringConstraints(max_length=200)] | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


class _UrlValidation(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    plainToken: Annotated[str, StringConstraints(min_length=1, max_length=1000)]  # Zoom's name


# --- verification ----------------------------------------------------------------------------------------


def zoom_signature(secret: str, timestamp: str, body: bytes) -> str:
    """What Zoom sends in x-zm-signature for this timestamp and raw body."""
    message = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_zoom_request(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
    """Raises SignatureRejected unless the request is signed with `secret` within TOLERANCE of `now`."""
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp = lowered.get(ZOOM_TIMESTAMP, "").strip()
    signature = lowered.get(ZOOM_SIGNATURE, "").strip()
    if not timestamp or not signature:
        raise SignatureRejected(f"{ZOOM_SIGNATURE} and {ZOOM_TIMESTAMP} are required")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise SignatureRejected(f"{ZOOM_TIMESTAMP} is not a time in seconds")
    expected = zoom_signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise SignatureRejected("the signature does not match this endpoint's secret token")
    # After the signature: only the holder of the secret learns that a request was merely too old.
    if abs(now - datetime.fromtimestamp(int(timestamp), UTC)) > TOLERANCE:
        raise SignatureRejected("the request was signed more than 5 minutes away from now")


def url_validation_answer(secret: str, event: ZoomEvent) -> dict[str, str]:
    """Zoom's endpoint check: the plain token back, with its HMAC-SHA256 under the secret token (hex)."""
    try:
        plain = _UrlValidation.model_validate(event.payload).plainToken
    except ValidationError:
        raise MalformedEvent("an endpoint.url_validation event carries payload.plainToken") from None
    encrypted = hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain, "encryptedToken": encrypted}


# --- reading events ----------------------------------------------------------------------------------------


def parse_zoom_event(body: bytes) -> ZoomEvent:
    try:
        return ZoomEvent.model_validate_json(body)
    except ValidationError:
        raise MalformedEvent("the body is not a Zoom event (a JSON object with `event`)") from None


def meeting_of(event: ZoomEvent) -> ZoomMeeting:
    """The meeting a meeting.* event is about."""
    try:
        return ZoomMeeting.model_validate(event.payload.get("object"))
    except ValidationError:
        raise MalformedEvent(f"a {event.event} event carries payload.object.id") from None


def event_key(event: ZoomEvent) -> str:
    """The same for every delivery of one event (a retry has a new timestamp and signature, not a new
    body), different for each event: its type and time, and the meeting instance it is about."""
    thing = event.payload.get("object")
    about = thing if isinstance(thing, dict) else {}
    identity = [event.event, event.event_ts, _text_id(about.get("uuid")), _text_id(about.get("id"))]
    return hashlib.sha256(json.dumps(identity, default=str).encode()).hexdigest()


def event_time(event: ZoomEvent, meeting: ZoomMeeting, received_at: datetime) -> datetime:
    """When it happened: Zoom's event_ts, else the time in the meeting, else when it arrived."""
    if event.event_ts is not None:
        try:
            return datetime.fromtimestamp(event.event_ts / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            raise MalformedEvent("event_ts is not a time in milliseconds") from None
    happened = meeting.end_time if event.event == MEETING_ENDED else meeting.start_time
    if happened is not None and happened.tzinfo is not None:
        return happened.astimezone(UTC)
    return received_at


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meeting_history_entry(event: ZoomEvent, meeting: ZoomMeeting, received_at: datetime) -> HistoryEntry:
    """The booking's history entry for meeting.started or meeting.ended: that the call took place, when,
    and (once ended) how long it lasted. Nothing about who joined."""
    details = {"provider": "zoom"}
    started = meeting.start_time if meeting.start_time and meeting.start_time.tzinfo else None
    ended = meeting.end_time if meeting.end_time and meeting.end_time.tzinfo else None
    if started is not None:
        details["started_at"] = _utc(started)
    if event.event == MEETING_ENDED:
        if ended is not None:
            details["ended_at"] = _utc(ended)
        if started is not None and ended is not None and ended >= started:
            details["minutes"] = str(round((ended - started).total_seconds() / 60))
    action = "meeting_started" if event.event == MEETING_STARTED else "meeting_ended"
    return HistoryEntry(
        at=event_time(event, meeting, received_at), actor=ZOOM, action=action, details=details
    )
