"""Bookings on the wire: the public booking's body and the business's (booking for a client, moving,
cancelling, the lifecycle, notes), and a booking as its customer and as staff see it.

Times go out as ISO 8601 with the offset of the zone that matters to the reader: the business's for
bookings (the customer's own, when they gave one, in what the customer sees).

The public booking's body is `NewBooking` here and `BookingRequest` in the OpenAPI document (the name API
clients know it by; `openapi.SCHEMA_NAMES`): in code, a booking request is the contractor capability
(domain/booking_requests.py), never this.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from booking.domain import booking as domain
from booking.domain.booking import (
    Actor,
    Booking,
    Fee,
    HistoryEntry,
    Note,
    NoteKind,
    OfflinePayment,
    Payment,
)
from booking.domain.catalogue import Catalogue
from booking.domain.communications import MessageRecord
from booking.domain.diary import DiaryEntry
from booking.domain.invoices import account_of
from booking.domain.menu import Price
from booking.domain.types import Description, Id, Instant, Model, ShortText
from booking.services.booking_engine import BookingView
from booking.services.bookings import BookingDetail
from booking_api.schemas.documentation import Documentation, as_domain
from booking_api.schemas.meetings import AdminMeetingOut, MeetingOut
from booking_api.schemas.payments import CheckoutOut

# --- what is booked ------------------------------------------------------------------------------------


class CustomerDetails(domain.CustomerDetails):
    model_config = ConfigDict(
        json_schema_extra=Documentation(
            {
                "sms_opt_out": "no text messages for this booking",
                "time_zone": "the customer's IANA time zone; their messages and views show times in it too",
            }
        )
    )


NEW_BOOKING = Documentation(
    {
        "staff": "a staff id, or 'any' for the first fair choice",
        "delivery": "required when a service is offered both ways",
        "skip_payment": "book now and pay later through the manage link, where the business allows it",
    },
    examples=[
        {
            "services": ["01KBZ6Q3R0AJ8M7T1SWEDISH00"],
            "staff": "any",
            "start": "2026-12-07T10:00:00+00:00",
            "customer": {
                "name": "Ann Client",
                "email": "ann@example.com",
                "phone": "+447911123456",
                "time_zone": "America/New_York",
            },
            "notes": "first visit",
        }
    ],
)


class NewBooking(domain.BookingOrder):
    """A public booking: services (booked back to back), who with, when, and the customer."""

    model_config = ConfigDict(title="BookingRequest", json_schema_extra=NEW_BOOKING)

    customer: CustomerDetails

    def to_domain(self) -> domain.BookingOrder:
        return as_domain(self, domain.BookingOrder)


class NewBookingForClient(NewBooking, domain.BookingOrderForClient):
    """Booking on behalf of a client: any start minute, any length (a half day, a three-day job) up to the
    business's maximum. Only here may a booking lie outside shifts, and only when asked."""

    model_config = ConfigDict(
        title="AdminBookingRequest",
        json_schema_extra=NEW_BOOKING.extended(
            {"end": "when the job ends, for a length other than the services' (buffers are added around it)"}
        ),
    )

    def to_domain(self) -> domain.BookingOrderForClient:
        return as_domain(self, domain.BookingOrderForClient)


# --- changing a booking ------------------------------------------------------------------------------


class RescheduleRequest(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"start": "2026-12-08T14:30:00+00:00"}]})

    start: Instant
    staff: Id | None = Field(default=None, description="keep the current staff member when omitted")
    allow_outside_shift: bool = Field(default=False, description="admin only")


class ReassignRequest(Model):
    staff_id: Id


class CancelRequest(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "cannot make it"}]})

    reason: ShortText = ""


class AdminCancelRequest(CancelRequest):
    """Staff cancelling a paid booking choose the refund: the policy's (default), all of it, a custom
    amount, or none."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "staff ill", "refund": "full"}]})

    refund: Literal["policy", "full", "custom", "none"] = "policy"
    refund_amount_minor: int | None = Field(default=None, ge=1, description="the amount of a custom refund")


class StatusChange(Model):
    status: Literal["confirmed", "started", "completed", "no_show"]


class NoteRequest(Model):
    kind: NoteKind = "internal"
    text: Description = Field(min_length=1)


class SmsPreference(Model):
    enabled: bool


# --- a booking as its customer and staff see it -----------------------------------------------------------


class StaffRef(BaseModel):
    id: str
    name: str | None


class ServiceLine(BaseModel):
    id: str
    name: str
    duration_minutes: int
    price: Price


class CustomerOut(BaseModel):
    name: str
    email: str
    phone: str | None


class HistoryOut(BaseModel):
    at: datetime
    actor: Actor
    action: str
    from_status: str | None
    to_status: str | None
    details: dict[str, str | int]  # amounts (`*_minor`) in minor units as numbers

    @classmethod
    def of(cls, entry: HistoryEntry, zone: ZoneInfo) -> HistoryOut:
        return cls(
            at=entry.at.astimezone(zone),
            actor=entry.actor,
            action=entry.action,
            from_status=entry.from_status.value if entry.from_status else None,
            to_status=entry.to_status.value if entry.to_status else None,
            details=entry.details,
        )


class BookingOut(BaseModel):
    """A booking as its customer sees it (and, with the business's offsets, as staff see it)."""

    id: str
    status: str
    start: datetime
    end: datetime
    time_zone: str
    customer_time_zone: str | None = None
    staff: StaffRef
    services: list[ServiceLine]
    total: Price
    customer: CustomerOut
    notes: str
    delivery: str
    online: bool = False
    meeting: MeetingOut | None = None
    payment_status: str = "not_required"
    checkout: CheckoutOut | None = None
    cancellation_reason: str | None
    manage_token: str | None = None
    manage_url: str | None = None
    history: list[HistoryOut] = []

    @classmethod
    def of(
        cls, booking: Booking, catalogue: Catalogue, view: BookingView | None = None, *, for_customer: bool
    ) -> BookingOut:
        """`for_customer`: times carry the customer's own offset when they gave a zone; staff views keep
        the business's, the zone their shifts and diary are in."""
        zone = ZoneInfo(catalogue.business.time_zone)
        customer_zone = booking.customer.time_zone
        shown = ZoneInfo(customer_zone) if for_customer and customer_zone else zone
        member = catalogue.staff_member(booking.staff_id)
        history = view.history if view else []
        return cls(
            id=booking.id,
            status=booking.status.value,
            start=booking.start.astimezone(shown),
            end=booking.end.astimezone(shown),
            time_zone=zone.key,
            customer_time_zone=customer_zone,
            staff=StaffRef(id=booking.staff_id, name=member.name if member else None),
            services=[
                ServiceLine(
                    id=s.id,
                    name=s.name,
                    duration_minutes=s.duration_minutes,
                    price=Price(amount_minor=s.price_minor, currency=booking.currency),
                )
                for s in booking.services
            ],
            total=Price(amount_minor=booking.total_minor, currency=booking.currency),
            customer=CustomerOut(
                name=booking.customer.name, email=booking.customer.email, phone=booking.customer.phone
            ),
            notes=booking.customer_notes,
            delivery=booking.delivery,
            online=booking.delivery == "online",
            payment_status=booking.payment_status,
            meeting=MeetingOut.of(booking.meeting) if booking.delivery == "online" else None,
            cancellation_reason=booking.cancellation_reason,
            manage_token=view.manage_token if view else None,
            manage_url=view.manage_url if view else None,
            history=[HistoryOut.of(h, shown) for h in sorted(history, key=lambda h: h.at)],
        )


class NoteOut(BaseModel):
    id: str
    booking_id: str
    kind: str
    text: str
    at: datetime
    author: Actor

    @classmethod
    def of(cls, note: Note) -> NoteOut:
        return cls(**note.model_dump())


class AdminBookingOut(BookingOut):
    """The admin booking detail: everything the customer sees, plus what only the business sees."""

    source: str
    outside_shift: bool
    # Where the job is (a booking made from a request), on its lines: what field staff drive to. Not on
    # the calendar's diary entries, which are kept small (adapters/dynamodb/bookings.py diary_item).
    job_address: str | None = None
    payment: Payment | None = None  # the intent, amounts captured and refunded, the last failure
    authorisation_expires_at: datetime | None = None  # an uncaptured authorisation lapses then
    offline_payments: list[OfflinePayment] = []
    fees: list[Fee] = []  # what the no-show policy kept or charged (status failed: owed, not taken)
    hold_expires_at: datetime | None = None  # while it awaits payment
    # What the customer owes now (what it bills, less what was paid, plus what was refunded); negative: a
    # credit (they paid more), which POST .../payment/refund-credit gives back.
    balance_minor: int = 0
    credit_minor: int = 0
    created_at: datetime
    updated_at: datetime
    # Staff see the meeting's state, the provider's reason and the host link, which customers never do.
    meeting: AdminMeetingOut | None = None  # type: ignore[assignment]
    staff_notes: list[NoteOut] = []
    communications: list[MessageRecord] = []

    @classmethod
    def detail(cls, detail: BookingDetail, catalogue: Catalogue) -> AdminBookingOut:
        view, notes = detail.view, detail.notes
        base = BookingOut.of(view.booking, catalogue, view, for_customer=False)
        booking = view.booking
        balance = account_of(booking).balance_minor
        return cls(
            **base.model_dump(exclude={"meeting"}),
            source=booking.source,
            outside_shift=booking.outside_shift,
            job_address=booking.job_address,
            payment=booking.payment,
            authorisation_expires_at=booking.payment.authorisation_expires_at
            if booking.payment and booking.payment_status == "pending"
            else None,
            offline_payments=booking.offline_payments,
            fees=booking.fees,
            hold_expires_at=booking.hold_expires_at,
            balance_minor=balance,
            credit_minor=max(0, -balance),
            meeting=AdminMeetingOut.of(booking.meeting) if booking.meeting is not None else None,
            created_at=booking.created_at,
            updated_at=booking.updated_at,
            staff_notes=[NoteOut.of(n) for n in sorted(notes, key=lambda n: n.at)],
            communications=detail.communications,
        )


class DiaryEntryOut(BaseModel):
    booking_id: str
    staff: StaffRef
    start: datetime
    end: datetime
    status: str
    customer_name: str
    customer_email: str
    services: list[str]

    @classmethod
    def of(cls, entry: DiaryEntry, catalogue: Catalogue) -> DiaryEntryOut:
        zone = ZoneInfo(catalogue.business.time_zone)
        member = catalogue.staff_member(entry.staff_id)
        return cls(
            booking_id=entry.booking_id,
            staff=StaffRef(id=entry.staff_id, name=member.name if member else None),
            start=entry.start.astimezone(zone),
            end=entry.end.astimezone(zone),
            status=entry.status.value,
            customer_name=entry.customer_name,
            customer_email=entry.customer_email,
            services=entry.service_names,
        )
