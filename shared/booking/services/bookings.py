"""Booking use cases: availability, booking (public and on behalf of a client), the lifecycle, moving
and cancelling, notes, and the customer's manage link."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.domain.access import Principal, Role
from booking.domain.availability import (
    MAX_OCCUPANCY_MINUTES,
    MAX_RANGE_DAYS,
    Appointment,
    Busy,
    Slot,
    SlotQuery,
    find_slots,
    occupancy,
    qualified_staff,
    to_minute,
)
from booking.domain.booking import (
    MOVABLE,
    Actor,
    AdminBookingRequest,
    BookedService,
    Booking,
    BookingRequest,
    BookingStatus,
    Delivery,
    HistoryEntry,
    Note,
    NoteKind,
    check_transition,
)
from booking.domain.catalogue import Business, Catalogue, Service, StaffMember
from booking.domain.communications import MessageRecord
from booking.domain.diary import DiaryEntry
from booking.domain.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
    SlotTaken,
    TooLate,
    Unauthorized,
)
from booking.domain.invite import build_invite
from booking.domain.tokens import ManageTokens
from booking.domain.types import UNIT_MINUTES
from booking.ports import (
    BookingRepository,
    CatalogueReader,
    Clock,
    CustomerRepository,
    IdGenerator,
    MessageLog,
)

STAFF_ANY = "any"
# How many other free staff an 'any' booking tries when its first choice was taken a moment earlier.
ANY_STAFF_RETRIES = 3
DIARY_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.DISPATCHER, Role.STAFF})
MANAGERS = frozenset({Role.OWNER, Role.ADMIN, Role.DISPATCHER})
EARLIEST_START_MARK = timedelta(hours=1)


@dataclass(frozen=True)
class BookingView:
    booking: Booking
    history: list[HistoryEntry]
    manage_token: str
    manage_url: str


@dataclass(frozen=True)
class BookingDetail:
    view: BookingView
    notes: list[Note]
    communications: list[MessageRecord]


@dataclass(frozen=True)
class AvailableDay:
    date: date
    slots: list[Slot]


@dataclass(frozen=True)
class Availability:
    time_zone: ZoneInfo
    days: list[AvailableDay]


def actor_for(principal: Principal) -> Actor:
    return Actor(kind=principal.role.value, id=principal.user_id)


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, [FieldProblem(tuple(field.split(".")), message)])


def _without_online_limits(catalogue: Catalogue) -> Catalogue:
    """Staff booking for a client (a walk-in in ten minutes, a course of sessions next year) are not held
    to the minimum notice and booking window that protect the diary from online bookings."""
    business = catalogue.business.model_copy(update={"min_notice_minutes": 0, "booking_window_days": 730})
    return replace(catalogue, business=business)


class BookingService:
    def __init__(
        self,
        catalogue: CatalogueReader,
        bookings: BookingRepository,
        customers: CustomerRepository,
        messages: MessageLog,
        clock: Clock,
        ids: IdGenerator,
        tokens: ManageTokens,
        manage_base_url: str,
        sender_email: str,
    ) -> None:
        self._catalogue = catalogue
        self._bookings = bookings
        self._customers = customers
        self._messages = messages
        self._clock = clock
        self._ids = ids
        self._tokens = tokens
        self._manage_base_url = manage_base_url.rstrip("/")
        self._sender_email = sender_email

    # --- catalogue lookups ----------------------------------------------------------------------------

    def _public_catalogue(self, slug: str) -> Catalogue:
        tenant_id = self._catalogue.tenant_for_slug(slug)
        catalogue = self._catalogue.load_catalogue(tenant_id) if tenant_id else None
        if catalogue is None:
            raise NotFound(f"no business is published at {slug!r}")
        return catalogue

    def public_business(self, slug: str) -> Business:
        return self._public_catalogue(slug).business

    def business_for_manage_token(self, booking_id: str, token: str | None) -> Business:
        tenant_id = self._tokens.tenant_of(token or "", booking_id)
        if tenant_id is None:
            raise Unauthorized("this link is not valid for this booking")
        return self._tenant_catalogue(tenant_id).business

    def booking_for_business(self, slug: str, booking_id: str) -> BookingView:
        """A booking of the business at `slug` with its manage link (e.g. to answer an idempotent retry)."""
        booking, history = self._load(self._public_catalogue(slug).business.id, booking_id)
        return self._view(booking, history)

    def _tenant_catalogue(self, tenant_id: str) -> Catalogue:
        catalogue = self._catalogue.load_catalogue(tenant_id)
        if catalogue is None:
            raise NotFound("business not found")
        return catalogue

    @staticmethod
    def _services(catalogue: Catalogue, service_ids: Sequence[str], field: str = "services") -> list[Service]:
        services = []
        for service_id in service_ids:
            service = catalogue.service(service_id)
            if service is None or not service.active:
                raise _invalid(field, f"no bookable service {service_id}")
            services.append(service)
        if len(set(service_ids)) != len(service_ids):
            raise _invalid(field, "a service is listed twice")
        return services

    @staticmethod
    def _appointment(catalogue: Catalogue, services: Sequence[Service]) -> Appointment:
        appointment = Appointment.for_services(catalogue.business, services)
        if appointment.total_minutes > MAX_OCCUPANCY_MINUTES:
            raise _invalid(
                "services",
                f"together these take {appointment.total_minutes} minutes with buffers; "
                f"one booking can take at most {MAX_OCCUPANCY_MINUTES}",
            )
        return appointment

    # --- availability ---------------------------------------------------------------------------------

    def availability(
        self, slug: str, service_ids: Sequence[str], staff: str, first: date, last: date, time_zone: str
    ) -> Availability:
        catalogue = self._public_catalogue(slug)
        try:
            zone = ZoneInfo(time_zone)
        except (KeyError, ValueError) as error:
            raise _invalid("tz", f"unknown IANA time zone {time_zone!r}") from error
        if last < first:
            raise _invalid("to", "'to' must be on or after 'from'")
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise _invalid("to", f"at most {MAX_RANGE_DAYS} days per request")
        services = self._services(catalogue, service_ids)
        appointment = self._appointment(catalogue, services)
        candidates = self._candidates(catalogue, services, staff, public=True, field="staff")

        range_start = datetime.combine(first, time(0), tzinfo=zone)
        range_end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
        busy = self._bookings.busy(catalogue.business.id, range_start, range_end)
        slots = find_slots(
            SlotQuery(
                business=catalogue.business,
                appointment=appointment,
                staff=candidates,
                busy=busy,
                now=self._clock.now(),
                range_start=range_start,
                range_end=range_end,
            )
        )
        by_day: dict[date, list[Slot]] = {}
        for slot in slots:
            by_day.setdefault(slot.start.astimezone(zone).date(), []).append(slot)
        return Availability(zone, [AvailableDay(day, by_day[day]) for day in sorted(by_day)])

    @staticmethod
    def _candidates(
        catalogue: Catalogue, services: Sequence[Service], staff: str, *, public: bool, field: str
    ) -> list[StaffMember]:
        qualified = qualified_staff(catalogue.staff, services, public=public)
        if staff == STAFF_ANY:
            if not qualified:
                raise _invalid(field, "nobody offers these services together")
            return qualified
        chosen = [m for m in qualified if m.id == staff]
        if not chosen:
            known = catalogue.staff_member(staff)
            reason = "is not assigned every requested service" if known else "does not exist"
            raise _invalid(field, f"staff member {staff} {reason}")
        return chosen

    # --- booking --------------------------------------------------------------------------------------

    def book(self, slug: str, request: BookingRequest) -> BookingView:
        catalogue = self._public_catalogue(slug)
        actor = Actor(kind="customer", id=request.customer.email.lower())
        return self._book(catalogue, request, actor, public=True, allow_outside_shift=False)

    def book_for_client(self, principal: Principal, request: AdminBookingRequest) -> BookingView:
        principal.require(DIARY_ROLES)
        if principal.role is Role.STAFF and (
            principal.staff_id is None or request.staff not in (principal.staff_id, STAFF_ANY)
        ):
            raise Forbidden("staff book clients into their own diary only")
        staff = principal.staff_id if principal.role is Role.STAFF and principal.staff_id else request.staff
        request = request.model_copy(update={"staff": staff})
        catalogue = self._tenant_catalogue(principal.tenant_id)
        return self._book(
            catalogue,
            request,
            actor_for(principal),
            public=False,
            allow_outside_shift=request.allow_outside_shift,
        )

    def _delivery(self, services: Sequence[Service], wanted: Delivery | None) -> Delivery:
        modes = {s.delivery_mode for s in services}
        if "online" in modes and "in_person" in modes:
            raise _invalid("services", "online-only and in-person-only services cannot share one booking")
        fixed: Delivery | None = (
            "online" if "online" in modes else "in_person" if "in_person" in modes else None
        )
        if fixed is not None:
            if wanted is not None and wanted != fixed:
                raise _invalid("delivery", f"these services are delivered {fixed.replace('_', ' ')} only")
            return fixed
        if wanted is None:
            raise _invalid("delivery", "choose 'online' or 'in_person': the service is offered both ways")
        return wanted

    def _book(
        self,
        catalogue: Catalogue,
        request: BookingRequest,
        actor: Actor,
        *,
        public: bool,
        allow_outside_shift: bool,
    ) -> BookingView:
        catalogue = catalogue if public else _without_online_limits(catalogue)
        business = catalogue.business
        services = self._services(catalogue, request.services)
        delivery = self._delivery(services, request.delivery)
        appointment = self._appointment(catalogue, services)
        candidates = self._candidates(catalogue, services, request.staff, public=public, field="staff")
        start = request.start.astimezone(UTC)
        free = self._free_staff(
            catalogue, appointment, candidates, start, allow_outside_shift=allow_outside_shift
        )
        now = self._clock.now()
        busy_start, busy_end = occupancy(start, appointment)
        ordered = self._fair_order(catalogue, free, start)
        last_error: SlotTaken | None = None
        for member in ordered[: 1 + ANY_STAFF_RETRIES]:
            outside = allow_outside_shift and not self._within_shifts(catalogue, appointment, member, start)
            booking = Booking(
                id=self._ids.new_id(),
                tenant_id=business.id,
                status=BookingStatus.CONFIRMED,
                start=start,
                end=start + timedelta(minutes=appointment.duration),
                occupied_start=busy_start,
                occupied_end=busy_end,
                staff_id=member.id,
                services=[
                    BookedService(
                        id=s.id, name=s.name, duration_minutes=s.duration_minutes, price_minor=s.price_minor
                    )
                    for s in services
                ],
                total_minor=sum(s.price_minor for s in services),
                currency=business.currency,
                customer=request.customer,
                customer_notes=request.notes,
                delivery=delivery,
                source="public" if public else "admin",
                outside_shift=outside,
                created_at=now,
                updated_at=now,
            )
            entry = HistoryEntry(
                at=now,
                actor=actor,
                action="created",
                to_status=booking.status,
                details={"staff_id": member.id, "start": start.isoformat()}
                | ({"outside_shift": "true"} if outside else {}),
            )
            try:
                self._bookings.save(booking, None, entry, enforce_unblocked=public)
            except SlotTaken as taken:
                last_error = taken
                continue
            return self._view(booking, [entry])
        assert last_error is not None
        raise last_error

    def _free_staff(
        self,
        catalogue: Catalogue,
        appointment: Appointment,
        candidates: Sequence[StaffMember],
        start: datetime,
        *,
        allow_outside_shift: bool,
        ignore_booking: str | None = None,
    ) -> list[StaffMember]:
        """Candidates free at `start`. InvalidInput when `start` is not a bookable time at all (off the
        grid, outside shifts, too soon, too far ahead); SlotTaken when it is but everyone is busy."""
        now = self._clock.now()
        if start <= now:
            raise _invalid("start", "that time has passed")
        if to_minute(start) % UNIT_MINUTES or start.second or start.microsecond:
            raise _invalid("start", f"start on a {UNIT_MINUTES}-minute boundary")
        busy_start, busy_end = occupancy(start, appointment)
        busy = self._bookings.busy(catalogue.business.id, busy_start, busy_end, ignore_booking)
        if allow_outside_shift:
            lo, hi = to_minute(busy_start), to_minute(busy_end)
            free = [
                m
                for m in candidates
                if not any(b.staff_id == m.id and b.start < hi and lo < b.end for b in busy)
            ]
        else:
            possible = self._slot_staff(catalogue, appointment, candidates, start, busy=[])
            if not possible:
                raise _invalid("start", "that is not a bookable time for these services and staff")
            free_ids = set(self._slot_staff(catalogue, appointment, candidates, start, busy=busy))
            free = [m for m in candidates if m.id in free_ids]
        if not free:
            raise SlotTaken("that time was just taken by another booking; please pick another")
        return free

    def _slot_staff(
        self,
        catalogue: Catalogue,
        appointment: Appointment,
        candidates: Sequence[StaffMember],
        start: datetime,
        busy: Sequence[Busy],
    ) -> list[str]:
        slots = find_slots(
            SlotQuery(
                business=catalogue.business,
                appointment=appointment,
                staff=candidates,
                busy=busy,
                now=self._clock.now(),
                range_start=start,
                range_end=start + timedelta(minutes=1),
            )
        )
        return list(slots[0].staff_ids) if slots and slots[0].start == start else []

    def _within_shifts(
        self, catalogue: Catalogue, appointment: Appointment, member: StaffMember, start: datetime
    ) -> bool:
        return bool(self._slot_staff(catalogue, appointment, [member], start, busy=[]))

    def _fair_order(
        self, catalogue: Catalogue, free: Sequence[StaffMember], start: datetime
    ) -> list[StaffMember]:
        """Fewest bookings that (business-local) day first, then fewest booked minutes, then by id."""
        if len(free) == 1:
            return list(free)
        zone = ZoneInfo(catalogue.business.time_zone)
        day = start.astimezone(zone).date()
        day_start = datetime.combine(day, time(0), tzinfo=zone)
        day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        entries = [
            e
            for e in self._bookings.diary(catalogue.business.id, day_start, day_end)
            if e.holds_time and day_start <= e.start < day_end
        ]
        count = Counter(e.staff_id for e in entries)
        minutes = Counter({e.staff_id: 0 for e in entries})
        for e in entries:
            minutes[e.staff_id] += int((e.end - e.start).total_seconds() // 60)
        return sorted(free, key=lambda m: (count[m.id], minutes[m.id], m.id))

    # --- reading --------------------------------------------------------------------------------------

    def _load(self, tenant_id: str, booking_id: str) -> tuple[Booking, list[HistoryEntry]]:
        found = self._bookings.get(tenant_id, booking_id)
        if found is None:
            raise NotFound(f"booking {booking_id} not found")
        return found

    def _load_for(self, principal: Principal, booking_id: str) -> tuple[Booking, list[HistoryEntry]]:
        principal.require(DIARY_ROLES)
        booking, history = self._load(principal.tenant_id, booking_id)
        if principal.role is Role.STAFF and booking.staff_id != principal.staff_id:
            raise NotFound(f"booking {booking_id} not found")  # staff see their own diary only
        return booking, history

    def _view(self, booking: Booking, history: list[HistoryEntry]) -> BookingView:
        token = self._tokens.issue(booking.tenant_id, booking.id)
        return BookingView(
            booking=booking,
            history=history,
            manage_token=token,
            manage_url=f"{self._manage_base_url}/bookings/{booking.id}?token={token}",
        )

    def detail(self, principal: Principal, booking_id: str) -> BookingDetail:
        """The booking with its history, staff notes, and communications log (sent and scheduled)."""
        booking, history = self._load_for(principal, booking_id)
        return BookingDetail(
            view=self._view(booking, history),
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
        if last < first:
            raise _invalid("to", "'to' must be on or after 'from'")
        if (last - first).days + 1 > 62:
            raise _invalid("to", "at most 62 days per request")
        catalogue = self._tenant_catalogue(principal.tenant_id)
        zone = ZoneInfo(catalogue.business.time_zone)
        start = datetime.combine(first, time(0), tzinfo=zone)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
        return [
            e
            for e in self._bookings.diary(principal.tenant_id, start, end)
            if start <= e.start < end and (staff_id is None or e.staff_id == staff_id)
        ]

    # --- changing -------------------------------------------------------------------------------------

    def _move(
        self,
        booking: Booking,
        start: datetime,
        staff: str,
        actor: Actor,
        *,
        public: bool,
        allow_outside_shift: bool,
        action: str,
        staff_field: str = "staff",
    ) -> BookingView:
        if booking.status not in MOVABLE:
            raise Conflict(f"a {booking.status.value} booking cannot be moved")
        start = start.astimezone(UTC)
        catalogue = self._tenant_catalogue(booking.tenant_id)
        services = []
        for booked in booking.services:
            service = catalogue.service(booked.id)
            if service is None:
                raise Conflict(f"the service {booked.name} no longer exists; book anew instead")
            services.append(service)
        appointment = Appointment(
            duration=int((booking.end - booking.start).total_seconds() // 60),
            buffer_before=int((booking.start - booking.occupied_start).total_seconds() // 60),
            buffer_after=int((booking.occupied_end - booking.end).total_seconds() // 60),
        )
        if not public:
            catalogue = _without_online_limits(catalogue)
        candidates = self._candidates(catalogue, services, staff, public=public, field=staff_field)
        free = self._free_staff(
            catalogue,
            appointment,
            candidates,
            start,
            allow_outside_shift=allow_outside_shift,
            ignore_booking=booking.id,
        )
        member = self._fair_order(catalogue, free, start)[0]
        now = self._clock.now()
        busy_start, busy_end = occupancy(start, appointment)
        moved = booking.model_copy(
            update={
                "start": start,
                "end": start + timedelta(minutes=appointment.duration),
                "occupied_start": busy_start,
                "occupied_end": busy_end,
                "staff_id": member.id,
                "outside_shift": allow_outside_shift
                and not self._within_shifts(catalogue, appointment, member, start),
                "updated_at": now,
                "version": booking.version + 1,
            }
        )
        entry = HistoryEntry(
            at=now,
            actor=actor,
            action=action,
            details={
                "from_start": booking.start.isoformat(),
                "to_start": start.isoformat(),
                "from_staff_id": booking.staff_id,
                "to_staff_id": member.id,
            },
        )
        self._bookings.save(moved, booking, entry)
        _, history = self._load(booking.tenant_id, booking.id)
        return self._view(moved, history)

    def _set_status(
        self, booking: Booking, target: BookingStatus, actor: Actor, reason: str | None
    ) -> BookingView:
        check_transition(booking.status, target)
        now = self._clock.now()
        changed = booking.model_copy(
            update={
                "status": target,
                "updated_at": now,
                "version": booking.version + 1,
                "cancellation_reason": reason
                if target is BookingStatus.CANCELLED
                else booking.cancellation_reason,
            }
        )
        entry = HistoryEntry(
            at=now,
            actor=actor,
            action="status_changed",
            from_status=booking.status,
            to_status=target,
            details={"reason": reason} if reason else {},
        )
        self._bookings.save(changed, booking, entry)
        _, history = self._load(booking.tenant_id, booking.id)
        return self._view(changed, history)

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
        if allow_outside_shift and principal.role not in (Role.OWNER, Role.ADMIN, Role.STAFF):
            raise Forbidden("only owners, admins and staff may book outside shifts")
        return self._move(
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
            raise _invalid("staff_id", "the booking is already with this staff member")
        return self._move(
            booking,
            booking.start,
            staff_id,
            actor_for(principal),
            public=False,
            allow_outside_shift=booking.outside_shift,
            action="reassigned",
            staff_field="staff_id",  # name the field the client sent
        )

    def cancel(self, principal: Principal, booking_id: str, reason: str) -> BookingView:
        booking, _ = self._load_for(principal, booking_id)
        return self._set_status(
            booking, BookingStatus.CANCELLED, actor_for(principal), reason or "cancelled by the business"
        )

    def change_status(self, principal: Principal, booking_id: str, status: BookingStatus) -> BookingView:
        booking, _ = self._load_for(principal, booking_id)
        check_transition(booking.status, status)  # a cancelled booking is never "too early" to start
        now = self._clock.now()
        if status is BookingStatus.STARTED and now < booking.start - EARLIEST_START_MARK:
            raise Conflict("too early to start: the appointment is more than an hour away")
        if status is BookingStatus.NO_SHOW and now < booking.start:
            raise Conflict("a customer can only be a no-show once the appointment has begun")
        return self._set_status(booking, status, actor_for(principal), None)

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

    # --- the customer's manage link -------------------------------------------------------------------

    def _managed(self, booking_id: str, token: str | None) -> Booking:
        tenant_id = self._tokens.tenant_of(token or "", booking_id)
        if tenant_id is None:
            raise Unauthorized("this link is not valid for this booking")
        booking, _ = self._load(tenant_id, booking_id)
        return booking

    def invite(self, booking_id: str, token: str | None) -> bytes:
        """The booking's calendar invite (METHOD:CANCEL once cancelled), for the manage link's download."""
        booking = self._managed(booking_id, token)
        catalogue = self._tenant_catalogue(booking.tenant_id)
        member = catalogue.staff_member(booking.staff_id)
        return build_invite(
            booking,
            catalogue.business,
            staff_name=member.name if member else None,
            manage_url=self._view(booking, []).manage_url,
            organizer_email=catalogue.business.contact_email or self._sender_email,
            now=self._clock.now(),
        )

    def manage_sms_opt_out(self, booking_id: str, token: str | None, opted_out: bool) -> None:
        """The customer stops (or resumes) text messages, for this and every later booking."""
        booking = self._managed(booking_id, token)
        self._customers.set_sms_opt_out(booking.tenant_id, booking.customer.email, opted_out)

    def manage_view(self, booking_id: str, token: str | None) -> BookingView:
        booking = self._managed(booking_id, token)
        _, history = self._load(booking.tenant_id, booking_id)
        return self._view(booking, history)

    def _check_cutoff(self, booking: Booking, what: str) -> None:
        catalogue = self._tenant_catalogue(booking.tenant_id)
        cutoff = booking.start - timedelta(hours=catalogue.business.cancellation_cutoff_hours)
        if self._clock.now() >= cutoff:
            raise TooLate(
                f"online {what} closes {catalogue.business.cancellation_cutoff_hours} hours before the "
                "appointment; please contact the business"
            )

    def manage_cancel(
        self, booking_id: str, token: str | None, reason: str, actor: Actor | None = None
    ) -> BookingView:
        booking = self._managed(booking_id, token)
        self._check_cutoff(booking, "cancellation")
        actor = actor or Actor(kind="customer", id=booking.customer.email.lower())
        return self._set_status(
            booking, BookingStatus.CANCELLED, actor, reason or "cancelled by the customer"
        )

    def manage_reschedule(
        self,
        booking_id: str,
        token: str | None,
        start: datetime,
        staff: str | None,
        actor: Actor | None = None,
    ) -> BookingView:
        booking = self._managed(booking_id, token)
        self._check_cutoff(booking, "rescheduling")
        actor = actor or Actor(kind="customer", id=booking.customer.email.lower())
        return self._move(
            booking,
            start,
            staff or booking.staff_id,
            actor,
            public=True,
            allow_outside_shift=False,
            action="rescheduled",
        )

    def view_for_customer(self, booking: Booking) -> BookingView:
        """A booking as its customer sees it in their portal (with its manage link)."""
        return self._view(booking, [])
