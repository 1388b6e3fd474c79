"""Response shapes of the booking API. Times go out as ISO 8601 with the offset of the zone that matters
to the reader: the business's for bookings (the customer's own, when they gave one, in what the customer
sees), the requested one for availability."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from booking.domain.booking import Actor, Booking, Fee, HistoryEntry, Note, OfflinePayment, Payment
from booking.domain.catalogue import Catalogue
from booking.domain.communications import MessageRecord
from booking.domain.customers import CustomerProfile
from booking.domain.diary import DiaryEntry
from booking.domain.invoices import account_of
from booking.domain.meetings import Meeting, MeetingStatus
from booking.domain.menu import Price
from booking.services.availability import Availability
from booking.services.booking_engine import BookingView
from booking.services.bookings import BookingDetail
from booking.services.checkout import PaymentStart
from booking.services.customers import ClientHistory, CustomerOverview
from booking.services.series import SeriesDetail


class SlotOut(BaseModel):
    start: datetime
    end: datetime
    staff_ids: list[str]


class DayOut(BaseModel):
    date: str
    slots: list[SlotOut]


class AvailabilityOut(BaseModel):
    time_zone: str
    days: list[DayOut]

    @classmethod
    def of(cls, availability: Availability) -> AvailabilityOut:
        zone = availability.time_zone
        return cls(
            time_zone=zone.key,
            days=[
                DayOut(
                    date=day.date.isoformat(),
                    slots=[
                        SlotOut(
                            start=s.start.astimezone(zone),
                            end=s.end.astimezone(zone),
                            staff_ids=list(s.staff_ids),
                        )
                        for s in day.slots
                    ],
                )
                for day in availability.days
            ],
        )


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


class MeetingOut(BaseModel):
    """An online booking's meeting as the customer sees it: the link, or word that it will follow."""

    status: Literal["ready", "pending"]
    join_url: str | None = None
    passcode: str | None = None
    notes: str = ""
    message: str | None = None

    @classmethod
    def of(cls, meeting: Meeting | None) -> MeetingOut:
        if meeting is not None and meeting.has_link:
            return cls(
                status="ready", join_url=meeting.join_url, passcode=meeting.passcode, notes=meeting.notes
            )
        return cls(status="pending", message="The meeting link will be added soon.")


class AdminMeetingOut(BaseModel):
    """The meeting as staff see it: its state (not_set shows as a "Not set" badge), the provider's
    reason when it failed, and the host's start link."""

    status: MeetingStatus
    provider: str
    join_url: str | None
    passcode: str | None
    notes: str
    host_url: str | None
    reason: str | None
    updated_at: datetime | None

    @classmethod
    def of(cls, meeting: Meeting) -> AdminMeetingOut:
        return cls(
            status=meeting.status,
            provider=meeting.provider,
            join_url=meeting.join_url,
            passcode=meeting.passcode,
            notes=meeting.notes,
            host_url=meeting.host_url,
            reason=meeting.reason,
            updated_at=meeting.updated_at,
        )


class CheckoutOut(BaseModel):
    """What the booking widget needs to collect the payment with Stripe's Payment Element."""

    kind: Literal["charge", "card_on_file"]
    client_secret: str
    publishable_key: str
    amount: Price
    expires_at: datetime  # the booking's time is held until then

    @classmethod
    def of(cls, start: PaymentStart) -> CheckoutOut:
        return cls(
            kind=start.kind,
            client_secret=start.client_secret,
            publishable_key=start.publishable_key,
            amount=Price(amount_minor=start.amount_minor, currency=start.currency),
            expires_at=start.expires_at,
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
            history=[_history(h, shown) for h in sorted(history, key=lambda h: h.at)],
        )


def _history(entry: HistoryEntry, zone: ZoneInfo) -> HistoryOut:
    return HistoryOut(
        at=entry.at.astimezone(zone),
        actor=entry.actor,
        action=entry.action,
        from_status=entry.from_status.value if entry.from_status else None,
        to_status=entry.to_status.value if entry.to_status else None,
        details=entry.details,
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


class CustomerSessionOut(BaseModel):
    token: str
    profile: CustomerProfile
    upcoming: list[BookingOut]  # soonest first
    past: list[BookingOut]  # what took place (or was missed), latest first
    cancelled: list[BookingOut] = []  # cancelled, whenever they were for, latest first

    @classmethod
    def of(
        cls, token: str, overview: CustomerOverview, catalogue: Catalogue, views: dict[str, BookingView]
    ) -> CustomerSessionOut:
        return cls(
            token=token,
            profile=overview.profile,
            upcoming=[
                BookingOut.of(b, catalogue, views.get(b.id), for_customer=True) for b in overview.upcoming
            ],
            past=[BookingOut.of(b, catalogue, views.get(b.id), for_customer=True) for b in overview.past],
            cancelled=[
                BookingOut.of(b, catalogue, views.get(b.id), for_customer=True) for b in overview.cancelled
            ],
        )


class ClientHistoryOut(BaseModel):
    profile: CustomerProfile
    bookings: list[BookingOut]
    notes: list[NoteOut]
    audit: list[HistoryOut]

    @classmethod
    def of(cls, history: ClientHistory, catalogue: Catalogue) -> ClientHistoryOut:
        zone = ZoneInfo(catalogue.business.time_zone)
        return cls(
            profile=history.profile,
            bookings=[BookingOut.of(b, catalogue, for_customer=False) for b in history.bookings],
            notes=[NoteOut.of(n) for n in history.notes],
            audit=[_history(a, zone) for a in history.audit],
        )


class SessionOut(BaseModel):
    """One session of a series: its booking (status, time, meeting) or why it was skipped."""

    position: int | None  # 0 for the first booked session; None when skipped
    start: datetime
    booking_id: str | None
    status: str  # the booking's status, or "skipped"
    skipped: str | None
    meeting: AdminMeetingOut | None
    communications: list[MessageRecord]


class SeriesOut(BaseModel):
    id: str
    staff: StaffRef
    customer_email: str
    frequency: str
    interval: int
    booked: int
    skipped: int
    sessions: list[SessionOut]

    @classmethod
    def of(cls, detail: SeriesDetail, catalogue: Catalogue) -> SeriesOut:
        zone = ZoneInfo(catalogue.business.time_zone)
        series = detail.series
        member = catalogue.staff_member(series.staff_id)
        sessions = [
            SessionOut(
                position=s.occurrence.index if s.occurrence.booking_id else None,
                start=s.occurrence.start.astimezone(zone),
                booking_id=s.occurrence.booking_id,
                status=s.booking.status.value if s.booking else "skipped",
                skipped=s.occurrence.skipped,
                meeting=AdminMeetingOut.of(s.booking.meeting) if s.booking and s.booking.meeting else None,
                communications=s.communications,
            )
            for s in detail.sessions
        ]
        return cls(
            id=series.id,
            staff=StaffRef(id=series.staff_id, name=member.name if member else None),
            customer_email=series.customer_email,
            frequency=series.frequency,
            interval=series.interval,
            booked=sum(1 for s in sessions if s.booking_id),
            skipped=sum(1 for s in sessions if not s.booking_id),
            sessions=sessions,
        )
