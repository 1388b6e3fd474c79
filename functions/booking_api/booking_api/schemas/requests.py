"""Booking requests (a job a customer asks a contractor for; domain/booking_requests.py): the business's
settings for them, what the customer submits and replies, how the business answers, and a request as both
see it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from booking.domain import booking_requests as domain
from booking.domain import photos
from booking.domain.booking import Booking
from booking.domain.booking_requests import (
    BusinessResponse,
    CustomerReply,
    RequestCustomer,
    RequestHistoryEntry,
    RequestState,
    ServiceRequest,
)
from booking.domain.communications import MessageRecord
from booking.domain.photos import MAX_PHOTOS, Photo
from booking.domain.types import Id, Model, ShortText
from booking.services.booking_requests import RequestDetail
from booking_api.schemas.documentation import Documentation, as_domain

__all__ = [
    "AcceptRequest",
    "AssignRequest",
    "CounterProposal",
    "CounterReply",
    "DeclineRequest",
    "Photo",
    "PhotoDeclaration",
    "RequestDetailOut",
    "RequestDraft",
    "RequestOut",
    "RequestSettings",
    "SubmittedOut",
]


class RequestSettings(domain.RequestSettings):
    """A business's booking requests (off by default)."""

    model_config = ConfigDict(
        json_schema_extra=Documentation(
            {
                "services": "the services offered on the request form (its own list, apart from the online "
                "menu)",
                "allow_free_text": "customers may describe a job in their words",
                "dispatcher_emails": "who hears of new and unanswered requests",
                "escalation_hours": "a request unanswered this long reminds the dispatchers",
                "max_escalations": "reminders at most, one per interval",
                "counter_hold_hours": "how long a proposed time is held for the customer",
                "onboard_after_first_job": "a customer whose first job is completed is onboarded "
                "automatically",
                "max_open_per_customer": "requests one customer may have open (not yet final) at once",
                "max_per_customer_hour": "requests one customer may submit in a clock hour",
                "max_per_customer_day": "requests one customer may submit in a day (UTC)",
                "max_per_business_hour": "requests the business takes in a clock hour, from everyone",
            }
        )
    )


# --- what the customer sends -------------------------------------------------------------------------------


class PhotoDeclaration(photos.PhotoDeclaration):
    """A photo the customer is about to upload, as the browser knows it (the file's type and size)."""

    model_config = ConfigDict(
        json_schema_extra=Documentation(
            {"content_type": "JPEG, PNG, HEIC or WebP", "size_bytes": "at most 10 MB"}
        )
    )


Address = Annotated[domain.Address, Field(description="the job's address, lines by \\n")]


class RequestDraft(domain.RequestDraft):
    """A customer's request, as submitted."""

    model_config = ConfigDict(
        json_schema_extra=Documentation(
            {
                "service_id": "one of the request form's services",
                "free_text": "the job in the customer's words",
                "preferred_dates": "1-3 days that would suit (not binding)",
                "address": "null: the address on file",
                "photos": "photos to upload after submitting",
            }
        )
    )

    address: Address | None = None
    photos: list[PhotoDeclaration] = Field(default_factory=list, max_length=MAX_PHOTOS)  # type: ignore[assignment]

    def to_domain(self) -> domain.RequestDraft:
        return as_domain(self, domain.RequestDraft)


class CounterReply(Model):
    """The customer declining a proposed time may say why (or suggest another)."""

    message: ShortText = ""


# --- what the business sends -------------------------------------------------------------------------------

ACCEPT = Documentation({"service_id": "the service booked; default: the request's"})


class AcceptRequest(domain.AcceptRequest):
    """Accepting: who does the job, when, and for how long (half a day, a full day, several days)."""

    model_config = ConfigDict(json_schema_extra=ACCEPT)

    def to_domain(self) -> domain.AcceptRequest:
        return as_domain(self, domain.AcceptRequest)


class CounterProposal(domain.CounterProposal):
    """Another time, held for the customer for the business's counter_hold_hours."""

    model_config = ConfigDict(json_schema_extra=ACCEPT.extended({"message": "why this time, in a sentence"}))

    def to_domain(self) -> domain.CounterProposal:
        return as_domain(self, domain.CounterProposal)


class DeclineRequest(domain.DeclineRequest):
    model_config = ConfigDict(
        json_schema_extra=Documentation({"alternatives": "what the customer can do instead"})
    )

    def to_domain(self) -> domain.DeclineRequest:
        return as_domain(self, domain.DeclineRequest)


class AssignRequest(Model):
    staff_id: Id | None = Field(description="the staff member who answers it; null: anyone")


# --- a request as the customer and the business see it --------------------------------------------------


class RequestOut(BaseModel):
    id: str
    state: RequestState
    customer: RequestCustomer
    service_id: str | None
    service_name: str | None
    free_text: str | None
    preferred_dates: list[date]
    time_preference: str
    address: str
    notes: str
    photos: list[Photo]
    assigned_staff_id: str | None
    responses: list[BusinessResponse]
    replies: list[CustomerReply]
    booking_id: str | None
    escalations: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, request: ServiceRequest) -> RequestOut:
        return cls(**request.model_dump(exclude={"tenant_id", "version"}))


class SubmittedOut(RequestOut):
    uploads: list[dict[str, Any]]  # for each declared photo: a presigned POST (url and form fields)


class RequestDetailOut(RequestOut):
    history: list[RequestHistoryEntry]
    photo_urls: dict[int, str] = {}  # staff only: verified copies, links valid five minutes
    customer_bookings: list[dict[str, Any]] = []  # staff only: the customer's bookings, newest first
    communications: list[MessageRecord] = []  # staff only: what was sent about it

    @classmethod
    def detail(cls, found: RequestDetail, bookings: list[Booking] | None = None) -> RequestDetailOut:
        return cls(
            **RequestOut.of(found.request).model_dump(),
            history=found.history,
            photo_urls=found.photo_urls,
            communications=found.communications,
            customer_bookings=[
                {
                    "id": b.id,
                    "start": b.start,
                    "status": b.status.value,
                    "services": [s.name for s in b.services],
                }
                for b in sorted(bookings or [], key=lambda b: b.start, reverse=True)
            ],
        )
