"""Every message the product sends, declared: what it is about (a booking or a booking request, whose
communications log it is recorded in), who it goes to, by which channels, from which templates, what it
carries, and when it no longer applies (checks.py). A declaration is all a kind is: the one pipeline
(pipeline.py) records, claims, renders, sends, retries and gives up on every kind the same way, and the
modules beside it only decide which kinds a committed change or a timer causes (bookings.py, requests.py,
and services/payments/timers.py for the payment warning).

Who a message goes to (`to`, everyone of them, each address once, in that order; `otherwise` when that finds
nobody):
- "customer": the booking's or request's customer, by each channel (the email address; the phone for SMS,
  under the SMS policy: sms.py);
- "staff_member": the staff member concerned: the one named when sending, by default the booking's own or
  the request's assigned one (by id, so the address and name are read again when it is sent);
- "contact": the business's contact address (its owner and admins read it);
- "dispatchers": the business's dispatchers (booking requests' settings).

Adding a kind (the customer portal's, a waitlist offer): declare it here and add it to KINDS, add its
templates (`templates/<template>.html` and `.txt`, and `.sms` for a customer's text) and its subject line
(booking/rendering/messages.py), and send it from the module that decides when (`MessagePipeline.send`). Its retries,
its lease, its backoff, giving up, the SMS policy and the log entry come with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Generic, Literal, TypeVar

from booking.domain.booking import Booking
from booking.domain.booking_requests import ServiceRequest
from booking.domain.catalogue import Business, Catalogue
from booking.domain.communications import About, InviteMethod, MessageRecord
from booking.domain.reminders import Channel
from booking.services.messaging.checks import (
    LAPSE_KIND,
    answered_since,
    booking_stale,
    escalation_stale,
    lapse_due,
    meeting_link_due,
    proposal_settled,
    reminder_due,
)

Who = Literal["customer", "staff_member", "contact", "dispatchers"]
S = TypeVar("S", Booking, ServiceRequest)
# Why a message must not go out (None: it may), from the message as logged and its subject as it is now.
Check = Callable[[MessageRecord, S, datetime], str | None]


@dataclass(frozen=True)
class Contact:
    """How a customer is reached."""

    email: str
    phone: str | None
    sms_opt_out: bool = False  # no texts about this one booking (their profile may refuse them all)


@dataclass(frozen=True)
class Subject(Generic[S]):
    """What messages are about, as it is now: a booking or a booking request, with its business's catalogue.
    Its messages are recorded in its communications log, under its id."""

    about: About
    current: S
    catalogue: Catalogue
    staff_id: str | None  # the staff member concerned: the booking's, or the one the request is assigned to
    customer: Contact

    @property
    def tenant_id(self) -> str:
        return self.current.tenant_id

    @property
    def id(self) -> str:
        return self.current.id

    @property
    def business(self) -> Business:
        return self.catalogue.business


def booking_subject(booking: Booking, catalogue: Catalogue) -> Subject[Booking]:
    customer = booking.customer
    contact = Contact(str(customer.email), customer.phone, customer.sms_opt_out)
    return Subject("booking", booking, catalogue, booking.staff_id, contact)


def request_subject(request: ServiceRequest, catalogue: Catalogue) -> Subject[ServiceRequest]:
    contact = Contact(str(request.customer.email), request.customer.phone)
    return Subject("request", request, catalogue, request.assigned_staff_id, contact)


@dataclass(frozen=True)
class MessageKind(Generic[S]):
    name: str  # as the communications log records it
    about: About
    to: tuple[Who, ...]
    template: str  # templates/<template>.html, .txt (and .sms for a customer)
    channels: tuple[Channel, ...] = ("email",)  # a customer's; everyone else is emailed
    otherwise: tuple[Who, ...] = ()
    invite: InviteMethod | None = None  # the calendar invite it carries (a booking's messages)
    invoice: bool = False  # the booking's invoice (PDF) attached to the email
    due: Check[S] | None = None  # asked at every attempt (checks.py)
    stale: Check[S] | None = None  # asked before a later attempt of a message made earlier (checks.py)
    texts_once_in: timedelta | None = None  # at most one text of this kind to a customer in this long
    # How the recipient's address is written into the key of a message to the business's people: lower case,
    # except staff notices about a booking, whose keys (since their first version) keep it as written; a
    # key never changes, so that a change delivered again after an upgrade still finds its message.
    address_in_key: Literal["lowercase", "as_written"] = "lowercase"

    def __post_init__(self) -> None:
        if "customer" in self.to + self.otherwise and (len(self.to) > 1 or self.otherwise):
            raise ValueError(f"{self.name}: a customer's message goes to the customer alone")
        if "sms" in self.channels and self.to != ("customer",):
            raise ValueError(f"{self.name}: only customers are texted")


EMAIL: tuple[Channel, ...] = ("email",)
EMAIL_AND_SMS: tuple[Channel, ...] = ("email", "sms")


# The shapes most kinds share; each declaration below names its kind and templates, and what differs.
_booking_customer = partial(  # stale once the booking was cancelled or moved, where a later message covers it
    MessageKind[Booking], about="booking", to=("customer",), channels=EMAIL_AND_SMS, stale=booking_stale
)
# A staff member's notice about a booking in their diary: their own copy of the invite when it carries one
# (the client's details and the host link).
_staff_notice = partial(
    MessageKind[Booking],
    about="booking",
    to=("staff_member",),
    stale=booking_stale,
    address_in_key="as_written",
)
_request_customer = partial(
    MessageKind[ServiceRequest], about="request", to=("customer",), channels=EMAIL_AND_SMS
)
_request_business = partial(MessageKind[ServiceRequest], about="request")  # by email

# --- bookings -----------------------------------------------------------------------------------------------

CONFIRMATION = _booking_customer(name="confirmation", template="confirmation", invite="REQUEST")
SERIES_CONFIRMATION = _booking_customer(  # one, from the first session, listing every session and its link
    name="series_confirmation", template="series_confirmation", invite="REQUEST"
)
RESCHEDULED = _booking_customer(name="rescheduled", template="rescheduled", invite="REQUEST")
CANCELLATION = _booking_customer(name="cancellation", template="cancellation", invite="CANCEL")
REMINDER = _booking_customer(name="reminder", template="reminder", due=reminder_due)  # its rule's channels
MEETING_LINK = _booking_customer(
    name="meeting_link", template="meeting_link", invite="REQUEST", due=meeting_link_due
)
# A payment taken or a refund given (online or at the desk); a no-show fee the card on file did not pay.
RECEIPT = _booking_customer(name="receipt", template="receipt", channels=EMAIL, invoice=True)
FEE_DUE = _booking_customer(name="fee_due", template="fee_due", channels=EMAIL)

STAFF_NEW = _staff_notice(name="staff_new", template="staff_notice", invite="REQUEST")
STAFF_MOVED = _staff_notice(name="staff_moved", template="staff_notice", invite="REQUEST")
STAFF_CANCELLED = _staff_notice(name="staff_cancelled", template="staff_notice", invite="CANCEL")
STAFF_REMOVED = _staff_notice(name="staff_removed", template="staff_notice", invite="CANCEL")  # to another
STAFF_MEETING_LINK = _staff_notice(
    name="staff_meeting_link", template="staff_notice", invite="REQUEST", due=meeting_link_due
)
MEETING_FAILED = _staff_notice(name="meeting_failed", template="meeting_failed")

# --- payments -----------------------------------------------------------------------------------------------

# A card only authorised lapses a day later unless someone captures it: the booking's staff member and the
# business's contact address are told, once per authorisation (services/payments/timers.py).
AUTHORISATION_LAPSING = MessageKind[Booking](
    name=LAPSE_KIND,
    about="booking",
    to=("staff_member", "contact"),
    template="authorisation_lapsing",
    due=lapse_due,
    stale=lapse_due,
)

# --- booking requests (requests.py) -------------------------------------------------------------------------

# One "received" text per customer in this long: a burst of requests is acknowledged by email, and cannot
# spend the business's daily SMS cap.
RECEIVED_TEXT_PERIOD = timedelta(minutes=10)

REQUEST_RECEIVED = _request_customer(
    name="request_received", template="request_received", texts_once_in=RECEIVED_TEXT_PERIOD
)
REQUEST_UNDER_REVIEW = _request_customer(
    name="request_under_review", template="request_under_review", stale=answered_since
)
REQUEST_COUNTER_PROPOSAL = _request_customer(  # about_start: the time proposed
    name="request_counter_proposal", template="request_counter_proposal", stale=proposal_settled
)
REQUEST_DECLINED = _request_customer(name="request_declined", template="request_declined")

REQUEST_NEW = _request_business(name="request_new", template="request_new", to=("contact", "dispatchers"))
# The customer declined the time proposed (the business owes an answer again), or cancelled.
REQUEST_COUNTER_DECLINED = _request_business(
    name="request_counter_declined",
    template="request_counter_declined",
    to=("staff_member", "contact", "dispatchers"),
)
REQUEST_CANCELLED = _request_business(
    name="request_cancelled", template="request_cancelled", to=("staff_member", "contact", "dispatchers")
)
# A request left unanswered: the dispatchers are reminded (the contact address when there are none).
REQUEST_ESCALATION = _request_business(
    name="request_escalation",
    template="request_escalation",
    to=("dispatchers",),
    otherwise=("contact",),
    stale=escalation_stale,
)


def registry(kinds: Iterable[MessageKind[Any]]) -> Mapping[str, MessageKind[Any]]:
    """The kinds by name (what a retry finds in the log); each name once."""
    found: dict[str, MessageKind[Any]] = {}
    for kind in kinds:
        if kind.name in found:
            raise ValueError(f"message kind {kind.name} declared twice")
        found[kind.name] = kind
    return found


KINDS: Mapping[str, MessageKind[Any]] = registry(
    [
        CONFIRMATION,
        SERIES_CONFIRMATION,
        RESCHEDULED,
        CANCELLATION,
        REMINDER,
        MEETING_LINK,
        RECEIPT,
        FEE_DUE,
        STAFF_NEW,
        STAFF_MOVED,
        STAFF_CANCELLED,
        STAFF_REMOVED,
        STAFF_MEETING_LINK,
        MEETING_FAILED,
        AUTHORISATION_LAPSING,
        REQUEST_RECEIVED,
        REQUEST_UNDER_REVIEW,
        REQUEST_COUNTER_PROPOSAL,
        REQUEST_DECLINED,
        REQUEST_NEW,
        REQUEST_COUNTER_DECLINED,
        REQUEST_CANCELLED,
        REQUEST_ESCALATION,
    ]
)
