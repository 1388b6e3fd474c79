"""Providers' event notifications. Today: Zoom's, sent to each business's own URL
(`POST /v1/webhooks/zoom/{tenant_id}`) and signed with the secret token of the business's Zoom app, which
it stores with its Zoom credentials.

A verified meeting.started or meeting.ended event about a meeting provisioning made for a booking is
recorded in that booking's history, so staff see that the call took place. Every delivery of one event is
handled once: the event is looked up by its key first (a replay answers 200 and does nothing), the
history entry is keyed by the event so writing it again changes nothing, and the event's key is recorded
with a conditional write once it is handled. Nothing here trusts the URL beyond naming whose secret
checks the signature: a meeting is looked up within that business only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aws_lambda_powertools import Logger

from booking.domain.errors import NotFound
from booking.domain.meetings import ZoomCredentials
from booking.domain.webhooks import (
    EVENT_RETENTION,
    MEETING_ENDED,
    MEETING_STARTED,
    TENANT_ID_PATTERN,
    URL_VALIDATION,
    SignatureRejected,
    ZoomEvent,
    event_key,
    meeting_history_entry,
    meeting_of,
    parse_zoom_event,
    url_validation_answer,
    verify_zoom_request,
)
from booking.ports import BookingRepository, Clock, CredentialsStore, MeetingIndex, WebhookEvents

logger = Logger(child=True)

ZOOM = "zoom"
Outcome = Literal["url_validation", "recorded", "duplicate", "unknown_meeting", "ignored"]
_TENANT_ID = re.compile(TENANT_ID_PATTERN)


@dataclass(frozen=True)
class WebhookAnswer:
    """What the provider is answered (always 200 once the request is verified), and what happened."""

    outcome: Outcome
    body: dict[str, Any] = field(default_factory=dict)
    booking_id: str | None = None


class ZoomWebhooks:
    def __init__(
        self,
        credentials: CredentialsStore,
        meetings: MeetingIndex,
        bookings: BookingRepository,
        events: WebhookEvents,
        clock: Clock,
    ) -> None:
        self._credentials = credentials
        self._meetings = meetings
        self._bookings = bookings
        self._events = events
        self._clock = clock

    def receive(self, tenant_id: str, headers: Mapping[str, str], body: bytes) -> WebhookAnswer:
        """Raises NotFound (no such business, or it stored no webhook secret), SignatureRejected (401)
        and MalformedEvent (400); nothing is written unless the request is verified."""
        secret = self._secret(tenant_id)
        try:
            verify_zoom_request(secret, headers, body, self._clock.now())
        except SignatureRejected:
            # Perhaps the secret token was just rotated: read it afresh once before refusing.
            fresh = self._secret(tenant_id, fresh=True)
            if fresh == secret:
                raise
            verify_zoom_request(fresh, headers, body, self._clock.now())
            secret = fresh
        event = parse_zoom_event(body)
        if event.event == URL_VALIDATION:
            return WebhookAnswer("url_validation", url_validation_answer(secret, event))
        if event.event not in (MEETING_STARTED, MEETING_ENDED):
            return WebhookAnswer("ignored", {"status": "ignored"})
        return self._meeting_event(tenant_id, event)

    def _secret(self, tenant_id: str, fresh: bool = False) -> str:
        if not _TENANT_ID.match(tenant_id):
            raise NotFound("no Zoom webhook is set up at this address")
        stored = self._credentials.get(tenant_id, ZOOM, fresh)
        if stored is None and not fresh:
            stored = self._credentials.get(tenant_id, ZOOM, fresh=True)  # connected since it was cached
        secret = ZoomCredentials.model_validate(stored).webhook_secret_token if stored else None
        if not secret:
            # The same answer for an unknown business and one without a secret: neither can verify anything.
            raise NotFound("no Zoom webhook is set up at this address")
        return secret

    def _meeting_event(self, tenant_id: str, event: ZoomEvent) -> WebhookAnswer:
        meeting = meeting_of(event)
        key = event_key(event)
        if self._events.seen(tenant_id, ZOOM, key):
            return WebhookAnswer("duplicate", {"status": "duplicate"})
        now = self._clock.now()
        outcome: Outcome = "unknown_meeting"
        booking_id = self._meetings.booking_for(tenant_id, ZOOM, meeting.id)
        if booking_id is not None and self._has_meeting(tenant_id, booking_id, meeting.id):
            entry = meeting_history_entry(event, meeting, now)
            # Keyed by the event: a delivery racing this one, or a retry after a crash, writes nothing new.
            added = self._bookings.add_history(tenant_id, booking_id, entry, key[:32])
            outcome = "recorded" if added else "duplicate"
        else:
            booking_id = None
            logger.info("zoom event for a meeting of no booking", extra={"event": event.event})
        self._events.record(tenant_id, ZOOM, key, outcome, now, now + EVENT_RETENTION)
        return WebhookAnswer(outcome, {"status": outcome}, booking_id)

    def _has_meeting(self, tenant_id: str, booking_id: str, meeting_id: str) -> bool:
        """Whether the booking still has this Zoom meeting (not replaced by hand, nor deleted with a
        cancellation): only then is the event about its call."""
        found = self._bookings.get(tenant_id, booking_id)
        meeting = found[0].meeting if found else None
        return meeting is not None and meeting.provider == ZOOM and meeting.meeting_id == meeting_id
