"""Bookings: what was booked, by whom, with whom, and the lifecycle every booking follows.

    pending ──> confirmed ──> started ──> completed
       │            │
       └────────────┴──> cancelled        confirmed ──> no_show

Every change is recorded as a history entry (actor, time, from -> to, details).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from booking.domain.errors import Conflict
from booking.domain.meetings import Meeting
from booking.domain.payments import tax_of
from booking.domain.types import (
    Delivery,
    Description,
    Email,
    Id,
    Instant,
    Model,
    Name,
    PhoneE164,
    ShortText,
    TimeZoneName,
)


class BookingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    STARTED = "started"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.PENDING: frozenset({BookingStatus.CONFIRMED, BookingStatus.CANCELLED}),
    BookingStatus.CONFIRMED: frozenset(
        {BookingStatus.STARTED, BookingStatus.CANCELLED, BookingStatus.NO_SHOW}
    ),
    BookingStatus.STARTED: frozenset({BookingStatus.COMPLETED}),
    BookingStatus.COMPLETED: frozenset(),
    BookingStatus.CANCELLED: frozenset(),
    BookingStatus.NO_SHOW: frozenset(),
}
# States in which a booking still holds its time and may be moved.
MOVABLE: frozenset[BookingStatus] = frozenset({BookingStatus.PENDING, BookingStatus.CONFIRMED})
# States whose time stays claimed (a cancelled booking frees its time; a no-show or completed one was used).
HOLDS_TIME: frozenset[BookingStatus] = frozenset(set(BookingStatus) - {BookingStatus.CANCELLED})

ActorKind = Literal["customer", "owner", "admin", "staff", "dispatcher", "system"]
# Where a booking was made: online by the customer (the widget, the portal), or by the business's staff.
BookingSource = Literal["public", "admin"]


# Staff may mark an appointment started a little early (the client arrived early), never sooner.
EARLIEST_START_MARK = timedelta(hours=1)


def check_transition(current: BookingStatus, target: BookingStatus) -> None:
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none (final state)"
        raise Conflict(f"a {current.value} booking cannot become {target.value}; allowed: {allowed}")


def check_status_change(
    current: BookingStatus, target: BookingStatus, start: datetime, now: datetime
) -> None:
    """The lifecycle's moves (check_transition), and when each may happen: started at most an hour before
    the start; completed, or marked a no-show, only once the appointment has begun."""
    check_transition(current, target)  # a cancelled booking is never "too early" to start
    if target is BookingStatus.STARTED and now < start - EARLIEST_START_MARK:
        raise Conflict("too early to start: the appointment is more than an hour away")
    if target is BookingStatus.COMPLETED and now < start:
        raise Conflict("a booking can only be completed once the appointment has begun")
    if target is BookingStatus.NO_SHOW and now < start:
        raise Conflict("a customer can only be a no-show once the appointment has begun")


class Actor(BaseModel):
    """Who did something: a customer (by email), a Cognito user (by id and role), or the system.
    `on_behalf_of` names the admin when an owner or admin acts through a 'login as client' session."""

    kind: ActorKind
    id: str | None = None
    on_behalf_of: str | None = None


class CustomerDetails(Model):
    name: Name
    email: Email
    phone: PhoneE164 | None = None
    sms_opt_out: bool = False  # no text messages for this booking
    # Where the customer is (the widget knows): only how their messages and views show times.
    time_zone: TimeZoneName | None = None


class BookedService(BaseModel):
    id: str
    name: str
    duration_minutes: int
    price_minor: int


class HistoryEntry(BaseModel):
    at: datetime
    actor: Actor
    action: str
    from_status: BookingStatus | None = None
    to_status: BookingStatus | None = None
    # Amounts (`*_minor`) are whole numbers; everything else is text.
    details: dict[str, str | int] = Field(default_factory=dict)


NoteKind = Literal["internal", "session", "follow_up"]


class Note(BaseModel):
    id: str
    booking_id: str
    kind: NoteKind
    text: str
    at: datetime
    author: Actor


PaymentStatus = Literal[
    "not_required", "unpaid", "pending", "paid", "partially_refunded", "refunded", "failed"
]


class RefundRecord(BaseModel):
    """One refund of the booking's payment, as Stripe numbered it: what a person or a policy decided, or
    what was refunded in Stripe's dashboard (learnt from its events)."""

    id: str  # Stripe's refund id (re_...)
    amount_minor: int
    at: datetime
    reason: str = ""


class Payment(BaseModel):
    """The booking's payment at Stripe: a PaymentIntent (charged at booking: in full or a deposit) or a
    SetupIntent (a card kept on file for later fees). Amounts in the currency's minor units."""

    kind: Literal["charge", "card_on_file"]
    intent_id: str
    amount_minor: int  # due at booking (0 for a card on file)
    currency: str
    capture: Literal["immediate", "on_staff_confirmation"] = "immediate"
    captured_minor: int = 0
    refunded_minor: int = 0  # the sum of `refunds` (kept as a figure for bookings refunded before those)
    refunds: list[RefundRecord] = Field(default_factory=list)
    failure: str | None = None  # the last decline or error, as Stripe worded it
    authorised_at: datetime | None = None  # authorised, to be captured when staff confirm
    captured_at: datetime | None = None  # when the money was taken (the invoice dates the payment by it)
    # A card on file: the Stripe Customer it was saved to and the saved card (from the SetupIntent), for
    # charging a cancellation or no-show fee off-session later.
    customer_ref: str | None = None
    saved_card: str | None = None

    def knows_refund(self, refund_id: str) -> bool:
        return any(refund.id == refund_id for refund in self.refunds)

    def with_refund(self, refund: RefundRecord) -> Payment:
        """This payment with one more refund recorded (a refund it knows already changes nothing)."""
        if self.knows_refund(refund.id):
            return self
        return self.model_copy(
            update={
                "refunds": [*self.refunds, refund],
                "refunded_minor": self.refunded_minor + refund.amount_minor,
            }
        )

    @property
    def authorisation_expires_at(self) -> datetime | None:
        """Stripe releases an uncaptured card authorisation after 7 days."""
        return self.authorised_at + AUTHORISATION_LIFE if self.authorised_at is not None else None


AUTHORISATION_LIFE = timedelta(days=7)
OfflineMethod = Literal["cash", "card_terminal", "bank_transfer", "other"]


class OfflinePayment(BaseModel):
    """Money taken outside Stripe, or given back outside it (`kind` "refund": an overpayment returned at
    the desk), recorded by staff. The amount is always positive."""

    amount_minor: int
    method: OfflineMethod
    kind: Literal["payment", "refund"] = "payment"
    at: datetime
    by: str | None = None
    note: str = ""


FeeKind = Literal["no_show"]
FeeStatus = Literal["charged", "kept", "failed"]
# Why a fee could not be taken from the card on file, for the customer's email to say what happened.
FeeFailure = Literal["no_card", "declined", "authentication_required", "below_minimum", "no_account"]


class Fee(BaseModel):
    """A fee the business's policy charged: e.g. for a no-show, charged to the card on file off-session
    ('charged'), taken from the deposit already paid ('kept'), or not taken ('failed': it is owed, billed
    on an invoice, and the customer is sent a link to pay it). Amounts in the currency's minor units."""

    kind: FeeKind
    amount_minor: int
    status: FeeStatus
    at: datetime
    intent_id: str | None = None  # the off-session PaymentIntent of a charged or failed fee
    failure: str | None = None  # Stripe's words, or ours
    failure_kind: FeeFailure | None = None
    paid_at: datetime | None = None  # a failed fee paid later through the link

    @property
    def collected_minor(self) -> int:
        """What this fee brought in as a payment of its own (a kept deposit was paid already)."""
        return self.amount_minor if self.status == "charged" else 0


class Booking(BaseModel):
    id: str
    tenant_id: str
    status: BookingStatus
    start: datetime
    end: datetime
    occupied_start: datetime  # start minus the buffer before
    occupied_end: datetime  # end plus the buffer after
    staff_id: str
    services: list[BookedService]
    total_minor: int
    currency: str
    customer: CustomerDetails
    customer_notes: str = ""
    delivery: Delivery = "in_person"
    meeting: Meeting | None = None  # an online booking's meeting link (domain/meetings.py)
    series_id: str | None = None  # one of a recurring series (domain/series.py)
    series_index: int | None = None  # its place in the series, 0 for the first session
    source: BookingSource = "public"
    outside_shift: bool = False
    payment_status: PaymentStatus = "not_required"
    payment: Payment | None = None  # what the customer pays, or the card kept on file, at Stripe
    # A booking awaiting its payment holds its time only until then (a hold in the time ledger): an
    # abandoned checkout frees the time by itself, with no clean-up job.
    hold_expires_at: datetime | None = None
    offline_payments: list[OfflinePayment] = Field(default_factory=list)
    fees: list[Fee] = Field(default_factory=list)
    # The tax terms at booking (the business's), so a later change of rate does not rewrite its invoice.
    tax_rate_basis_points: int = 0
    prices_include_tax: bool = True
    cancellation_reason: str | None = None
    request_id: str | None = None  # the booking request it answers (domain/booking_requests.py)
    job_address: str | None = None  # where the job is, for a booking made from a request
    created_at: datetime
    updated_at: datetime
    version: int = 1
    link_version: int = 0  # raised to revoke every manage link issued so far (see domain/tokens.py)

    @property
    def holds_time(self) -> bool:
        return self.status in HOLDS_TIME

    @property
    def gross_minor(self) -> int:
        """What the booked services cost the customer: their prices, with the tax on top when the business
        quotes prices without it."""
        return tax_of(self.total_minor, self.tax_rate_basis_points, self.prices_include_tax).gross_minor

    @property
    def on_hold(self) -> bool:
        """Not confirmed, holding its time only until `hold_expires_at`: awaiting its payment, or a time
        proposed to a customer awaiting their reply (a booking request's counter-proposal)."""
        return self.status is BookingStatus.PENDING and self.hold_expires_at is not None

    @property
    def awaiting_payment(self) -> bool:
        """Booked online and not paid yet: on hold until its payment arrives."""
        return self.on_hold and self.payment is not None


def checkout_abandoned(old: Booking, new: Booking) -> bool:
    """A checkout given up: a booking that only ever awaited its payment, cancelled after its hold lapsed
    with nothing paid or authorised. Nobody was told of it (the confirmation goes out when the payment
    confirms it), so nobody is told it ended. A late payment refunded because the time was taken is not
    this: that customer paid, and is told."""
    payment = new.payment
    return (
        old.awaiting_payment
        and old.hold_expires_at is not None
        and new.status is BookingStatus.CANCELLED
        and new.updated_at >= old.hold_expires_at
        and payment is not None
        and payment.captured_minor == 0
        and payment.authorised_at is None
        and new.payment_status in ("unpaid", "failed")
    )


def ends_unannounced(old: Booking, new: Booking) -> bool:
    """Cancelled without the customer ever having been told of the booking, so without a cancellation
    message: an abandoned checkout, or a time proposed for a booking request (whose own messages speak
    for it) withdrawn or lapsed."""
    return checkout_abandoned(old, new) or (old.on_hold and old.payment is None)


# --- what is booked -----------------------------------------------------------------------------------


class BookingOrder(Model):
    """What a customer books: services (booked back to back), who with ('any': the fair choice), when, and
    who they are. `delivery` is needed when a service is offered both ways; `skip_payment` books now and
    pays later, where the business allows it."""

    services: list[Id] = Field(min_length=1, max_length=5)
    staff: Id = "any"
    start: Instant
    customer: CustomerDetails
    notes: Description = ""
    delivery: Delivery | None = None
    skip_payment: bool = False

    def command(self, actor: Actor, source: BookingSource) -> BookingCommand:
        """The booking engine's command for this order, placed by `actor` from `source`."""
        return BookingCommand(
            services=tuple(self.services),
            staff=self.staff,
            start=self.start,
            customer=self.customer,
            actor=actor,
            source=source,
            notes=self.notes,
            delivery=self.delivery,
        )


class BookingOrderForClient(BookingOrder):
    """Staff booking on behalf of a client: any start minute, any length (a half day, a three-day job, up
    to the business's maximum: `end`, buffers added around it), and outside shifts when asked for."""

    end: Instant | None = None
    allow_outside_shift: bool = False

    def command(self, actor: Actor, source: BookingSource) -> BookingCommand:
        return replace(
            super().command(actor, source), end=self.end, allow_outside_shift=self.allow_outside_shift
        )


@dataclass(frozen=True)
class Hold:
    """A new booking held, pending, until `until`: awaiting its `payment`, or (without one) a customer's
    reply to a time proposed for their booking request. Unanswered by then, its time is free again."""

    until: datetime
    payment: Payment | None = None


@dataclass(frozen=True)
class SeriesPlace:
    """A session of a recurring series (domain/series.py): the series and the session's place in it."""

    series_id: str
    index: int


@dataclass(frozen=True)
class RequestOrigin:
    """The booking request a booking answers (domain/booking_requests.py), and where the job is."""

    request_id: str
    job_address: str


@dataclass(frozen=True)
class BookingCommand:
    """A new booking, as a use case asks the booking engine for it (services/booking_engine.py `create`):

    - what: `services` back to back with `staff` (an id, or 'any' for the fair choice) from `start`, to
      `end` when staff place a job of another length, delivered as `delivery` (needed when a service is
      offered both ways);
    - for whom: the `customer`, with their `notes`; by whom: the `actor`;
    - from where: `source` 'public' (online: the business's notice, window and offered starts, within
      shifts, never for a blocked customer) or 'admin' (staff: any minute, outside shifts with
      `allow_outside_shift`); a session of a `series`, or the answer to a booking `request`;
    - how it starts: confirmed, paid as `payment_status` says; or pending under a `hold`. `booking_id`
      when the caller chose the id (a payment was started for it, a series or a request names it).
    """

    services: tuple[str, ...]
    staff: str
    start: datetime
    customer: CustomerDetails
    actor: Actor
    source: BookingSource
    end: datetime | None = None
    delivery: Delivery | None = None
    notes: str = ""
    allow_outside_shift: bool = False
    booking_id: str | None = None
    series: SeriesPlace | None = None
    request: RequestOrigin | None = None
    hold: Hold | None = None
    payment_status: PaymentStatus = "not_required"


# --- what staff record about a booking ----------------------------------------------------------------


class OfflinePaymentRequest(Model):
    """A payment staff took outside Stripe, to record on the booking."""

    amount_minor: int = Field(ge=1, le=100_000_000)
    method: OfflineMethod
    note: ShortText = ""


class CreditRefundRequest(Model):
    """Giving back a customer's credit (what they paid beyond what the booking bills): through Stripe
    (default), or recorded as handed back at the desk by one of its methods."""

    method: Literal["stripe", "cash", "card_terminal", "bank_transfer", "other"] = "stripe"
    amount_minor: int | None = Field(default=None, ge=1, le=100_000_000)  # None: the whole credit
    note: ShortText = ""
