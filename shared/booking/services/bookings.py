"""Booking use cases: a customer booking online, and the business's diary: booking for a client, the
calendar, the booking detail, rescheduling, reassigning, cancelling, the lifecycle and notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.domain.access import DIARY_ROLES, OUTSIDE_SHIFT_BOOKERS, Principal, Role
from booking.domain.booking import (
    Actor,
    Booking,
    BookingOrder,
    BookingOrderForClient,
    BookingStatus,
    HistoryEntry,
    Note,
    NoteKind,
    check_status_change,
)
from booking.domain.catalogue import Business
from booking.domain.communications import MessageRecord
from booking.domain.diary import DiaryEntry
from booking.domain.errors import Forbidden, NotFound
from booking.ports import BookingRepository, Clock, CustomerRepository, IdGenerator, MessageLog
from booking.services.booking_engine import STAFF_ANY, BookingEngine, BookingView, check_day_range, invalid
from booking.services.payments.no_shows import NoShows
from booking.services.payments.refunds import RefundChoice, Refunds

MANAGERS = frozenset({Role.OWNER, Role.ADMIN, Role.DISPATCHER})
LINK_REVOKERS = frozenset({Role.OWNER, Role.ADMIN})


@dataclass(frozen=True)
class BookingDetail:
    view: BookingView
    notes: list[Note]
    communications: list[MessageRecord]


def actor_for(principal: Principal) -> Actor:
    return Actor(kind=principal.role.value, id=principal.user_id)


def _check_outside_shift(principal: Principal, allow_outside_shift: bool) -> None:
    """One rule for booking and moving outside shifts (domain.access.OUTSIDE_SHIFT_BOOKERS)."""
    if allow_outside_shift and principal.role not in OUTSIDE_SHIFT_BOOKERS:
        raise Forbidden("only owners, admins and staff may book outside shifts")


class BookingService:
    def __init__(
        self,
        engine: BookingEngine,
        bookings: BookingRepository,
        customers: CustomerRepository,
        messages: MessageLog,
        clock: Clock,
        ids: IdGenerator,
        refunds: Refunds | None = None,
        no_shows: NoShows | None = None,
    ) -> None:
        self._engine = engine
        self._refunds = refunds
        self._no_shows = no_shows
        self._bookings = bookings
        self._customers = customers
        self._messages = messages
        self._clock = clock
        self._ids = ids

    def public_business(self, slug: str) -> Business:
        return self._engine.public_business(slug)

    def booking_for_business(self, slug: str, booking_id: str) -> BookingView:
        """A booking of the business at `slug` with its manage link (e.g. to answer an idempotent retry)."""
        booking, history = self._engine.load(self._engine.public_catalogue(slug).business.id, booking_id)
        return self._engine.view(booking, history)

    # --- booking --------------------------------------------------------------------------------------

    def book(self, slug: str, order: BookingOrder) -> BookingView:
        """A customer's booking without payment (services/payments/checkout.py books those that are paid for)."""
        catalogue = self._engine.public_catalogue(slug)
        actor = Actor(kind="customer", id=order.customer.email.lower())
        return self._engine.create(catalogue, order.command(actor, "public"))

    def book_for_client(self, principal: Principal, order: BookingOrderForClient) -> BookingView:
        principal.require(DIARY_ROLES)
        _check_outside_shift(principal, order.allow_outside_shift)
        if principal.role is Role.STAFF and (
            principal.staff_id is None or order.staff not in (principal.staff_id, STAFF_ANY)
        ):
            raise Forbidden("staff book clients into their own diary only")
        staff = principal.staff_id if principal.role is Role.STAFF and principal.staff_id else order.staff
        order = order.model_copy(update={"staff": staff})
        catalogue = self._engine.tenant_catalogue(principal.tenant_id)
        return self._engine.create(catalogue, order.command(actor_for(principal), "admin"))

    # --- the diary ------------------------------------------------------------------------------------

    def _load_for(self, principal: Principal, booking_id: str) -> tuple[Booking, list[HistoryEntry]]:
        principal.require(DIARY_ROLES)
        booking, history = self._engine.load(principal.tenant_id, booking_id)
        if principal.role is Role.STAFF and booking.staff_id != principal.staff_id:
            raise NotFound(f"booking {booking_id} not found")  # staff see their own diary only
        return booking, history

    def detail(self, principal: Principal, booking_id: str) -> BookingDetail:
        """The booking with its history, staff notes, and communications log (sent and scheduled)."""
        booking, history = self._load_for(principal, booking_id)
        return BookingDetail(
            view=self._engine.view(booking, history),
            notes=self._customers.notes(booking.tenant_id, booking.customer.email, booking.id),
            communications=self._messages.records(booking.tenant_id, booking.id),
        )

    def calendar(
        self, principal: Principal, first: date, last: date, staff_id: str | None
    ) -> list[DiaryEntry]:
        principal.require(DIARY_ROLES)
        if principal.role is Role.STAFF:
            if staff_id not in (None, principal.staff_id):
                raise Forbidden("staff see their own schedule only")
            staff_id = principal.staff_id
            if staff_id is None:
                raise Forbidden("your user is not linked to a staff member")
        check_day_range(first, last)
        if (last - first).days + 1 > 62:
            raise invalid("to", "at most 62 days per request")
        catalogue = self._engine.tenant_catalogue(principal.tenant_id)
        zone = ZoneInfo(catalogue.business.time_zone)
        start = datetime.combine(first, time(0), tzinfo=zone)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
        return [
            e
            for e in self._bookings.diary(principal.tenant_id, start, end)
            # A job of several days is on the calendar of every day it runs.
            if e.start < end and start < e.end and (staff_id is None or e.staff_id == staff_id)
        ]

    # --- changing -------------------------------------------------------------------------------------

    def reschedule(
        self,
        principal: Principal,
        booking_id: str,
        start: datetime,
        staff: str | None,
        allow_outside_shift: bool,
    ) -> BookingView:
        booking, _ = self._load_for(principal, booking_id)
        if principal.role is Role.STAFF and staff not in (None, principal.staff_id):
            raise Forbidden("staff cannot move bookings to someone else")
        _check_outside_shift(principal, allow_outside_shift)
        return self._engine.move(
            booking,
            start,
            staff or booking.staff_id,
            actor_for(principal),
            public=False,
            allow_outside_shift=allow_outside_shift,
            action="rescheduled",
        )

    def reassign(self, principal: Principal, booking_id: str, staff_id: str) -> BookingView:
        principal.require(MANAGERS)
        booking, _ = self._load_for(principal, booking_id)
        if staff_id == booking.staff_id:
            raise invalid("staff_id", "the booking is already with this staff member")
        return self._engine.move(
            booking,
            booking.start,
            staff_id,
            actor_for(principal),
            public=False,
            allow_outside_shift=booking.outside_shift,
            action="reassigned",
            staff_field="staff_id",  # name the field the client sent
        )

    def cancel(
        self,
        principal: Principal,
        booking_id: str,
        reason: str,
        refund: RefundChoice = "policy",
        refund_amount_minor: int | None = None,
    ) -> BookingView:
        booking, _ = self._load_for(principal, booking_id)
        amount = 0
        if self._refunds is not None and booking.payment is not None:
            quote = self._refunds.quote(booking)
            amount = self._refunds.amount_for(booking, refund, refund_amount_minor, quote)
        view = self._engine.set_status(
            booking, BookingStatus.CANCELLED, actor_for(principal), reason or "cancelled by the business"
        )
        if self._refunds is not None and amount > 0:
            refunded = self._refunds.after_cancellation(
                view.booking, amount, actor_for(principal), reason or "cancelled"
            )
            view = self._engine.view(refunded, view.history)
        return view

    def change_status(self, principal: Principal, booking_id: str, status: BookingStatus) -> BookingView:
        booking, _ = self._load_for(principal, booking_id)
        check_status_change(booking.status, status, booking.start, self._clock.now())
        view = self._engine.set_status(booking, status, actor_for(principal), None)
        if status is BookingStatus.NO_SHOW and self._no_shows is not None:
            applied = self._no_shows.after_no_show(view.booking, actor_for(principal))
            if applied is not view.booking:
                _, history = self._engine.load(applied.tenant_id, applied.id)
                view = self._engine.view(applied, history)
        return view

    def revoke_links(self, principal: Principal, booking_id: str) -> BookingView:
        """Every manage link of the booking sent so far stops working (a forwarded email, a shared
        device); the view returned, and every message from now on, carry the new link."""
        principal.require(LINK_REVOKERS)
        booking, _ = self._load_for(principal, booking_id)
        now = self._clock.now()
        changed = booking.model_copy(
            update={
                "link_version": booking.link_version + 1,
                "updated_at": now,
                "version": booking.version + 1,
            }
        )
        entry = HistoryEntry(at=now, actor=actor_for(principal), action="manage_links_revoked")
        self._bookings.save(changed, booking, entry)
        _, history = self._engine.load(booking.tenant_id, booking.id)
        return self._engine.view(changed, history)

    def add_note(self, principal: Principal, booking_id: str, kind: NoteKind, text: str) -> Note:
        booking, _ = self._load_for(principal, booking_id)
        note = Note(
            id=self._ids.new_id(),
            booking_id=booking.id,
            kind=kind,
            text=text,
            at=self._clock.now(),
            author=actor_for(principal),
        )
        self._customers.add_note(booking.tenant_id, booking.customer.email, note)
        return note
