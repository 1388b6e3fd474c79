"""When a message no longer applies: the checks the message kinds declare (kinds.py). Each is asked with the
message as the communications log has it (its key, and what it was made from) and its subject as it is now,
and answers why the message must not go out, or None. The state is checked when sending, never trusted from
when the message was made.

- a kind's `due` check is asked at every attempt, the first included: a reminder whose time has passed, a
  meeting link that was never made, a warning about an authorisation that was captured meanwhile;
- its `stale` check is asked before a later attempt of a message made earlier (a retry, a claim taken over,
  a message released after waiting): the booking or request changed since, and the message about that
  change covers it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from booking.domain.booking import Booking, BookingStatus
from booking.domain.booking_requests import UNANSWERED, ServiceRequest
from booking.domain.communications import MessageRecord, stale_reason
from booking.domain.reminders import REMINDABLE, still_due
from booking.rendering.messages import start_url

# --- bookings -------------------------------------------------------------------------------------------


def booking_stale(message: MessageRecord, booking: Booking, now: datetime) -> str | None:
    """The booking was cancelled or moved since (domain/communications.py: stale_reason)."""
    return stale_reason(message.request, booking, now) if message.request is not None else None


def reminder_due(message: MessageRecord, booking: Booking, now: datetime) -> str | None:
    """The booking is still active, still at the time the reminder was planned for, and that is ahead."""
    request = message.request
    if request is None or request.minutes_before is None:
        return None
    return still_due(booking, request.minutes_before, request.about_start, now=now)


def meeting_link_due(message: MessageRecord, booking: Booking, now: datetime) -> str | None:
    """A meeting link goes out while the booking is active and has one: a message held for a link that never
    came (the provider gave up) is skipped; staff were told of that instead."""
    if booking.status not in REMINDABLE:
        return "the booking is no longer active"
    if start_url(booking) is None:
        return "no meeting link was made"
    return None


# --- payments: the warning that an authorisation is about to lapse ----------------------------------------

LAPSE_KIND: Final = "authorisation_lapsing"


def lapse_key(authorised_at: datetime) -> str:
    """The warning's key in the booking's log: one per authorisation (the pipeline adds each recipient)."""
    return f"{LAPSE_KIND}@{int(authorised_at.timestamp())}"


def authorised_in(key: str) -> datetime | None:
    """When the authorisation a warning's key (`lapse_key`) is about was made."""
    try:
        seconds = int(key.removeprefix(f"{LAPSE_KIND}@").split(":", 1)[0])
    except ValueError:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def lapse_not_due(booking: Booking, authorised_at: datetime, now: datetime) -> str | None:
    """Why the warning about the authorisation made at `authorised_at` must not go out (None: it must)."""
    payment = booking.payment
    if booking.status is BookingStatus.CANCELLED:
        return "the booking was cancelled"
    if (
        payment is None
        or payment.authorised_at is None
        or int(payment.authorised_at.timestamp()) != int(authorised_at.timestamp())
    ):
        return "the payment changed since"
    if booking.payment_status != "pending" or payment.captured_minor > 0:
        return "the payment was captured or released since"
    expires = payment.authorisation_expires_at
    if expires is not None and now >= expires:
        return "the authorisation has lapsed already"
    return None


def lapse_due(message: MessageRecord, booking: Booking, now: datetime) -> str | None:
    """The authorisation the warning is about (named by its key) is still pending and has not lapsed."""
    authorised_at = authorised_in(message.key)
    if authorised_at is None:
        return "the authorisation it is about is unknown"
    return lapse_not_due(booking, authorised_at, now)


# --- booking requests -------------------------------------------------------------------------------------


def waiting_round(request: ServiceRequest) -> int:
    """Which wait for the business's answer this is: 0 from submission, k after the customer declined a
    proposed time for the k-th time."""
    return sum(1 for reply in request.replies if not reply.accepted)


def waiting_since(request: ServiceRequest) -> datetime:
    """When the current wait for the business's answer began."""
    declined = [reply.at for reply in request.replies if not reply.accepted]
    return max(declined) if declined else request.created_at


def answered_since(message: MessageRecord, request: ServiceRequest, now: datetime) -> str | None:
    """A "we are reviewing your request" message no longer holds once the business answered."""
    if request.state not in UNANSWERED:
        return "the request was answered since; that answer's message covers it"
    return None


def proposal_settled(message: MessageRecord, request: ServiceRequest, now: datetime) -> str | None:
    """A time proposed (`about_start`, `about_staff_id`) that is no longer the open proposal."""
    counter = request.open_counter
    about = message.request
    if about is None:
        return None
    if counter is None or (counter[1].start, counter[1].staff_id or "") != (
        about.about_start,
        about.about_staff_id,
    ):
        return "the proposed time was answered or withdrawn since"
    return None


def escalation_stale(message: MessageRecord, request: ServiceRequest, now: datetime) -> str | None:
    """A reminder that the request waits (`previous_start`: since when) no longer holds once it was answered
    or cancelled, or the customer sent it back (a new wait)."""
    if request.state not in UNANSWERED:
        return f"the request was answered or cancelled since ({request.state.value})"
    about = message.request
    if (
        about is not None
        and about.previous_start is not None
        and waiting_since(request) != about.previous_start
    ):
        return "the customer sent the request back since"
    return None
