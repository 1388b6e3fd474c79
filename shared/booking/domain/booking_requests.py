"""Booking requests: not real-time booking but a structured request a contractor (a plumber, an electrician,
a cleaning company) reviews and answers: accepts it with a time (it becomes a booking), proposes another
time, or declines it. A request is a `ServiceRequest` in code (what a customer books online is a
`BookingOrder`, domain/booking.py).

    submitted ──> under_review ──> confirmed | counter_proposed | declined
        │              │                          │
        └──────────────┴──> cancelled (customer)  ├──> confirmed     (the customer accepts)
                                                  ├──> under_review  (the customer declines, saying why)
                                                  └──> cancelled     (the customer)

The business may also answer straight from `submitted`. Every change is a history entry (actor, time,
from -> to); the request itself is never edited after submission: the business's responses and the
customer's replies are appended, never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from math import ceil
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, field_validator, model_validator

from booking.domain.booking import Actor
from booking.domain.errors import Conflict, TooManyRequests
from booking.domain.photos import MAX_PHOTOS, Photo, PhotoDeclaration
from booking.domain.types import Description, Email, Id, Instant, Model, Name, PhoneE164, ShortText


class RequestState(StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    CONFIRMED = "confirmed"
    COUNTER_PROPOSED = "counter_proposed"
    DECLINED = "declined"
    CANCELLED = "cancelled"


Party = Literal["customer", "business"]

# Who may move a request from one state to another: the one transition table.
TRANSITIONS: dict[tuple[RequestState, RequestState], Party] = {
    (RequestState.SUBMITTED, RequestState.UNDER_REVIEW): "business",
    (RequestState.SUBMITTED, RequestState.CONFIRMED): "business",
    (RequestState.SUBMITTED, RequestState.COUNTER_PROPOSED): "business",
    (RequestState.SUBMITTED, RequestState.DECLINED): "business",
    (RequestState.SUBMITTED, RequestState.CANCELLED): "customer",
    (RequestState.UNDER_REVIEW, RequestState.CONFIRMED): "business",
    (RequestState.UNDER_REVIEW, RequestState.COUNTER_PROPOSED): "business",
    (RequestState.UNDER_REVIEW, RequestState.DECLINED): "business",
    (RequestState.UNDER_REVIEW, RequestState.CANCELLED): "customer",
    (RequestState.COUNTER_PROPOSED, RequestState.CONFIRMED): "customer",
    (RequestState.COUNTER_PROPOSED, RequestState.UNDER_REVIEW): "customer",
    (RequestState.COUNTER_PROPOSED, RequestState.CANCELLED): "customer",
}
# Waiting for the business's answer: what the escalation reminds the dispatcher of.
UNANSWERED = frozenset({RequestState.SUBMITTED, RequestState.UNDER_REVIEW})
FINAL = frozenset({RequestState.CONFIRMED, RequestState.DECLINED, RequestState.CANCELLED})
# Still open (counted against max_open_per_customer): everything not final.
OPEN = frozenset(set(RequestState) - FINAL)

TimePreference = Literal["morning", "afternoon", "flexible"]
Address = Annotated[str, Field(min_length=5, max_length=300)]  # the job's address, lines by \n
MAX_PREFERRED_DATES = 3


def check_transition(current: RequestState, target: RequestState, party: Party) -> None:
    """Conflict naming what is allowed when `party` may not move the request from `current` to `target`."""
    allowed = TRANSITIONS.get((current, target))
    if allowed == party:
        return
    mine = sorted(t.value for (f, t), who in TRANSITIONS.items() if f is current and who == party)
    options = ", ".join(mine) or "nothing"
    raise Conflict(f"a {current.value} request cannot become {target.value}; the {party} may: {options}")


# --- settings --------------------------------------------------------------------------------------------


class RequestSettings(Model):
    """A business's booking requests (off by default)."""

    enabled: bool = False
    # The services offered on the request form: its own list, apart from the online menu.
    services: list[Id] = Field(default_factory=list, max_length=50)
    allow_free_text: bool = True  # customers may describe a job in their own words
    dispatcher_emails: list[Email] = Field(default_factory=list, max_length=5)  # told of new and late ones
    escalation_hours: int = Field(default=48, ge=1, le=24 * 14)  # unanswered this long: the dispatchers hear
    max_escalations: int = Field(default=3, ge=0, le=10)  # reminders at most, one per interval
    counter_hold_hours: int = Field(default=48, ge=1, le=24 * 14)  # a proposed time is held this long
    onboard_after_first_job: bool = False  # a customer whose first job is completed is onboarded
    # Flood limits: past one, a submission is refused (429) and nothing is written. Open: not yet final.
    max_open_per_customer: int = Field(default=3, ge=1, le=20)
    max_per_customer_hour: int = Field(default=5, ge=1, le=100)  # a clock hour
    max_per_customer_day: int = Field(default=10, ge=1, le=500)  # a UTC day
    max_per_business_hour: int = Field(default=100, ge=1, le=10_000)  # from everyone

    @field_validator("services", "dispatcher_emails")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len({v.lower() for v in value}) != len(value):
            raise ValueError("each may appear once")
        return value


# --- what the customer sends -------------------------------------------------------------------------------


class RequestDraft(Model):
    """A customer's request, as submitted."""

    service_id: Id | None = None  # one of the request form's services, or else
    free_text: Description | None = None  # the job in the customer's words
    preferred_dates: list[date] = Field(min_length=1, max_length=MAX_PREFERRED_DATES)  # not binding
    time_preference: TimePreference = "flexible"
    address: Address | None = None  # None: the address on file
    notes: Description = ""
    photos: list[PhotoDeclaration] = Field(default_factory=list, max_length=MAX_PHOTOS)  # uploaded after

    @field_validator("preferred_dates")
    @classmethod
    def _distinct(cls, value: list[date]) -> list[date]:
        if len(set(value)) != len(value):
            raise ValueError("each date may appear once")
        return sorted(value)

    @model_validator(mode="after")
    def _one_subject(self) -> Self:
        if (self.service_id is None) == (self.free_text is None or not self.free_text.strip()):
            raise ValueError("name a service_id or describe the job in free_text (one of them)")
        return self


# --- what the business sends -------------------------------------------------------------------------------


class AcceptRequest(Model):
    """Accepting: who does the job, when, and for how long (half a day, a full day, several days)."""

    staff_id: Id
    start: Instant
    end: Instant
    service_id: Id | None = None  # the service booked; None: the request's
    message: ShortText = ""

    @model_validator(mode="after")
    def _ends_after(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class CounterProposal(AcceptRequest):
    """Another time, held for the customer for the business's counter_hold_hours."""

    message: ShortText = Field(min_length=1)  # why this time, in a sentence


class DeclineRequest(Model):
    """Declining a request, saying why, and what the customer can do instead."""

    message: ShortText = Field(min_length=1)
    alternatives: ShortText = ""


# --- the request -------------------------------------------------------------------------------------------


class RequestCustomer(BaseModel):
    name: Name
    email: Email
    phone: PhoneE164 | None = None


class BusinessResponse(BaseModel):
    """An answer of the business, appended and never changed."""

    kind: Literal["accepted", "counter_proposal", "declined"]
    at: datetime
    by: Actor
    message: str = ""
    alternatives: str = ""
    staff_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    booking_id: str | None = None  # the booking it made (accepted), or holds the time (counter_proposal)
    hold_expires_at: datetime | None = None


class CustomerReply(BaseModel):
    """The customer's answer to a counter-proposal (by its position in `responses`)."""

    response: int
    accepted: bool
    at: datetime
    message: str = ""


class RequestHistoryEntry(BaseModel):
    at: datetime
    actor: Actor
    action: str
    from_state: RequestState | None = None
    to_state: RequestState | None = None
    details: dict[str, str] = Field(default_factory=dict)


class ServiceRequest(BaseModel):
    id: str
    tenant_id: str
    state: RequestState
    customer: RequestCustomer
    service_id: str | None = None
    service_name: str | None = None  # as it was when submitted
    free_text: str | None = None
    preferred_dates: list[date]
    time_preference: TimePreference
    address: str
    notes: str = ""
    photos: list[Photo] = Field(default_factory=list)
    assigned_staff_id: str | None = None
    responses: list[BusinessResponse] = Field(default_factory=list)
    replies: list[CustomerReply] = Field(default_factory=list)
    escalations: int = 0  # reminders sent to the dispatchers so far
    booking_id: str | None = None  # the confirmed booking
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def open_counter(self) -> tuple[int, BusinessResponse] | None:
        """The counter-proposal awaiting the customer's reply, with its position."""
        if self.state is not RequestState.COUNTER_PROPOSED or not self.responses:
            return None
        last = self.responses[-1]
        return (len(self.responses) - 1, last) if last.kind == "counter_proposal" else None


# --- flood limits ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionWindow:
    """One fixed window submissions are counted in: `counter` (per customer or for the business) may count
    `limit` submissions from `start` for `length`."""

    counter: str
    start: datetime
    length: timedelta
    limit: int
    refusal: str  # what the customer is told when it is full

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the window ends (at least 1): the Retry-After of a refusal."""
        return max(1, ceil((self.start + self.length - now).total_seconds()))


def submission_windows(settings: RequestSettings, email: str, now: datetime) -> list[SubmissionWindow]:
    """The windows a customer's submission at `now` counts in: theirs per hour and per day, and the
    business's per hour (UTC clock hours and days)."""
    now = now.astimezone(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    day = hour.replace(hour=0)
    customer = email.lower()
    return [
        SubmissionWindow(
            f"requests-customer-hour:{customer}",
            hour,
            timedelta(hours=1),
            settings.max_per_customer_hour,
            f"you have sent {settings.max_per_customer_hour} requests this hour, the most we take in an "
            "hour; please try again later",
        ),
        SubmissionWindow(
            f"requests-customer-day:{customer}",
            day,
            timedelta(days=1),
            settings.max_per_customer_day,
            f"you have sent {settings.max_per_customer_day} requests today, the most we take in a day; "
            "please try again tomorrow",
        ),
        SubmissionWindow(
            "requests-business-hour",
            hour,
            timedelta(hours=1),
            settings.max_per_business_hour,
            "we are taking no more requests this hour; please try again later",
        ),
    ]


class TooManyOpen(TooManyRequests):
    """The customer already has as many open requests as the business allows: no window to wait for, it
    lifts when one of them is answered or cancelled."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"you already have {limit} requests waiting for an answer; cancel one or wait for an answer "
            "before asking again",
            None,
        )


def answering_state(request: ServiceRequest, now: datetime) -> RequestState:
    """The state the business answers from: a counter-proposal whose hold lapsed unanswered is back with
    the business (as if under review), so it can propose again, accept or decline."""
    counter = request.open_counter
    expires = counter[1].hold_expires_at if counter is not None else None
    if expires is not None and now >= expires:
        return RequestState.UNDER_REVIEW
    return request.state
