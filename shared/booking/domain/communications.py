"""The communications log: every message a booking caused, scheduled, sent, skipped (and why) or failed;
and the rules that get each message delivered at least once, and twice only in the narrowest window.

A message is first *claimed* (status "sending", with a lease): whoever holds the claim sends it and then
records "sent" with the provider's message id. If the sender dies between claim and send, the claim is
left "sending"; once its lease has run out, the next delivery of the same change (or the retry timer)
takes it over and sends. A provider failure that may pass (throttling, an outage) is retried with backoff
by a timer, a bounded number of times, and ends "failed" with the reason. A duplicate remains possible
only when a sender dies after the provider accepted the message and before "sent" was recorded.

    sending ──> sent                        (the provider took it)
       │  └───> retrying ──> sending ...    (it may pass: again at next_attempt_at)
       │  └───> failed                      (permanent, or out of attempts)
       └──────> skipped                     (nothing to send: opted out, no phone, no longer due)

    waiting ──> sending ...                 (held back until next_attempt_at, or released sooner: an
                                             online confirmation waiting a little for its meeting link)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from booking.domain.booking import Booking, BookingStatus
from booking.domain.reminders import still_due

MessageChannel = Literal["email", "sms", "schedule"]
MessageStatus = Literal[
    "scheduled", "unscheduled", "fired", "waiting", "sending", "retrying", "sent", "skipped", "failed"
]
Audience = Literal["customer", "staff"]
# What a message is about: a booking's messages are in its communications log, a booking request's in its own
# (under its id), and a retry timer names which (services/messaging/).
About = Literal["booking", "request"]
InviteMethod = Literal["REQUEST", "CANCEL"]

# A send (with the provider client's own retries) takes well under this; a claim older than this whose
# sender never reported back is presumed dead.
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 5
# Pause after the 1st, 2nd, 3rd and 4th failed attempt; the 5th failure is final.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))


class MessageRequest(BaseModel):
    """What a message is about, so a retry renders the same message again."""

    kind: str
    audience: Audience = "customer"
    staff_id: str | None = None  # the staff member a staff notice goes to
    invite: InviteMethod | None = None
    about_start: datetime  # the booking's start and staff member when the message was made
    about_staff_id: str
    previous_start: datetime | None = None
    previous_staff_id: str | None = None
    minutes_before: int | None = None  # a reminder's lead time
    link_changed: bool = False  # a meeting-link message replacing a link the customer already has
    receipt: tuple[Literal["payment", "refund"], int] | None = None  # what a receipt is for, and how much


class MessageRecord(BaseModel):
    key: str  # what the message is about, e.g. "confirmation@v1" or "reminder-60m@<start>"
    kind: str  # confirmation, rescheduled, cancellation, reminder, staff_new, ...
    channel: MessageChannel
    audience: Audience = "customer"
    recipient: str | None = None
    status: MessageStatus
    at: datetime
    send_at: datetime | None = None  # for a scheduled reminder: when it will go out
    provider_message_id: str | None = None
    detail: str | None = None  # why it was skipped, failed or is being retried
    attempts: int = 0  # sending attempts so far
    lease_until: datetime | None = None  # while sending: when the attempt is presumed dead
    next_attempt_at: datetime | None = None  # while retrying
    request: MessageRequest | None = Field(default=None, exclude=True)  # kept by the log, not shown

    def claim(self, now: datetime) -> MessageRecord:
        """The next attempt, leased to whoever makes this change."""
        return self.model_copy(
            update={
                "status": "sending",
                "attempts": self.attempts + 1,
                "lease_until": now + LEASE,
                "next_attempt_at": None,
                "at": now,
            }
        )

    def due(self, now: datetime) -> datetime | None:
        """When this message may be taken over for another attempt (None: never, it is settled)."""
        if self.status == "sending":
            return self.lease_until
        if self.status in ("retrying", "waiting"):
            return self.next_attempt_at
        return None

    def waiting(self, until: datetime, why: str, now: datetime) -> MessageRecord:
        """Held back until `until` (nothing attempted yet): whoever releases it sooner, or the timer
        then, sends it as the booking is at that moment."""
        return self.model_copy(
            update={"status": "waiting", "next_attempt_at": until, "detail": why, "at": now}
        )

    def sent(self, provider_message_id: str, now: datetime) -> MessageRecord:
        return self.model_copy(
            update={
                "status": "sent",
                "provider_message_id": provider_message_id,
                "lease_until": None,
                "detail": None,
                "at": now,
            }
        )

    def failed_attempt(self, reason: str, retryable: bool, now: datetime) -> MessageRecord:
        """After a failed attempt: again later while attempts remain and the failure may pass."""
        if retryable and self.attempts < MAX_ATTEMPTS:
            pause = BACKOFF[min(self.attempts, len(BACKOFF)) - 1]
            return self.model_copy(
                update={
                    "status": "retrying",
                    "next_attempt_at": now + pause,
                    "lease_until": None,
                    "detail": f"attempt {self.attempts} of {MAX_ATTEMPTS} failed: {reason}",
                    "at": now,
                }
            )
        why = reason if not retryable else f"{reason} (gave up after {self.attempts} attempts)"
        return self.model_copy(
            update={
                "status": "failed",
                "lease_until": None,
                "next_attempt_at": None,
                "detail": why,
                "at": now,
            }
        )

    def skipped(self, reason: str | None, now: datetime) -> MessageRecord:
        return self.model_copy(
            update={
                "status": "skipped",
                "detail": reason,
                "lease_until": None,
                "next_attempt_at": None,
                "at": now,
            }
        )


_COVERED_BY_LATER_CHANGES = frozenset(
    {
        "confirmation",
        "series_confirmation",
        "rescheduled",
        "staff_new",
        "staff_moved",
        "meeting_link",
        "meeting_failed",
    }
)


def stale_reason(request: MessageRequest, booking: Booking, now: datetime) -> str | None:
    """Why a message about to be sent again (a retry, a taken-over claim) must not go out any more: the
    state is checked when sending, never trusted from when the message was made."""
    if request.kind == "reminder" and request.minutes_before is not None:
        return still_due(booking, request.minutes_before, request.about_start, now=now)
    if request.kind in _COVERED_BY_LATER_CHANGES:
        if booking.status is BookingStatus.CANCELLED:
            return "the booking was cancelled since; the cancellation says so"
        if (booking.start, booking.staff_id) != (request.about_start, request.about_staff_id):
            return "the booking changed since; the message about that change covers it"
    return None  # cancellations and "moved away from you" notices stay true
