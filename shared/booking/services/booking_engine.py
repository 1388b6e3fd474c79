"""What every booking use case shares: the business and its services, checking a start against shifts,
the rules and the diary, choosing a staff member fairly, and writing a new booking, a move or a change of
status in one transaction. The use cases orchestrate it: services/bookings.py (booking and the diary),
services/availability.py, services/manage_links.py (the customer's manage link).

A little past our 500-line mark on purpose: creating, moving and cancelling share the catalogue checks,
the choice of a fair staff member and the one transaction through the time ledger; they are kept together
so that no booking change can take a path around those checks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.domain.availability import (
    Appointment,
    Busy,
    SlotQuery,
    find_slots,
    occupancy,
    qualified_staff,
    to_minute,
)
from booking.domain.booking import (
    MOVABLE,
    Actor,
    BookedService,
    Booking,
    BookingCommand,
    BookingStatus,
    HistoryEntry,
    check_transition,
)
from booking.domain.catalogue import Business, Catalogue, Service, StaffMember
from booking.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound, SlotTaken
from booking.domain.meetings import delivery_options, initial_meeting
from booking.domain.tokens import Delegation, ManageTokens
from booking.domain.types import Delivery
from booking.ports import BookingRepository, CatalogueReader, Clock, IdGenerator

STAFF_ANY = "any"
# How many other free staff an 'any' booking tries when its first choice was taken a moment earlier.
ANY_STAFF_RETRIES = 3


@dataclass(frozen=True)
class BookingView:
    booking: Booking
    history: list[HistoryEntry]
    manage_token: str
    manage_url: str


def invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, [FieldProblem(tuple(field.split(".")), message)])


# Days a calendar or availability range may name: far enough either way for any diary, and clear of the
# edges of Python's dates, where turning a local day into UTC instants would overflow.
FIRST_DAY = date(1971, 1, 1)
LAST_DAY = date(9998, 12, 31)


def check_day_range(first: date, last: date) -> None:
    if first < FIRST_DAY:
        raise invalid("from", f"'from' must be on or after {FIRST_DAY}")
    if last > LAST_DAY:
        raise invalid("to", f"'to' must be on or before {LAST_DAY}")
    if last < first:
        raise invalid("to", "'to' must be on or after 'from'")


def without_online_limits(catalogue: Catalogue) -> Catalogue:
    """Staff booking for a client (a walk-in in ten minutes, a course of sessions next year) are not held
    to the minimum notice and booking window that protect the diary from online bookings, nor to the slot
    interval that decides which starts the widget offers: they may place any start minute."""
    business = catalogue.business.model_copy(
        update={"min_notice_minutes": 0, "booking_window_days": 730, "slot_interval_minutes": 1}
    )
    return replace(catalogue, business=business)


class BookingEngine:
    def __init__(
        self,
        catalogue: CatalogueReader,
        bookings: BookingRepository,
        clock: Clock,
        ids: IdGenerator,
        tokens: ManageTokens,
        manage_base_url: str,
    ) -> None:
        self._catalogue = catalogue
        self._bookings = bookings
        self._clock = clock
        self._ids = ids
        self._tokens = tokens
        self._manage_base_url = manage_base_url.rstrip("/")

    # --- the business ---------------------------------------------------------------------------------

    def public_catalogue(self, slug: str) -> Catalogue:
        tenant_id = self._catalogue.tenant_for_slug(slug)
        catalogue = self._catalogue.load_catalogue(tenant_id) if tenant_id else None
        if catalogue is None:
            raise NotFound(f"no business is published at {slug!r}")
        return catalogue

    def public_business(self, slug: str) -> Business:
        return self.public_catalogue(slug).business

    def tenant_catalogue(self, tenant_id: str) -> Catalogue:
        catalogue = self._catalogue.load_catalogue(tenant_id)
        if catalogue is None:
            raise NotFound("business not found")
        return catalogue

    @staticmethod
    def services(catalogue: Catalogue, service_ids: Sequence[str], field: str = "services") -> list[Service]:
        services = []
        for service_id in service_ids:
            service = catalogue.service(service_id)
            if service is None or not service.active:
                raise invalid(field, f"no bookable service {service_id}")
            services.append(service)
        if len(set(service_ids)) != len(service_ids):
            raise invalid(field, "a service is listed twice")
        return services

    @staticmethod
    def appointment(
        catalogue: Catalogue,
        services: Sequence[Service],
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Appointment:
        """The services back to back, or (staff placing a job) from `start` to `end` with the services'
        buffers around it."""
        appointment = Appointment.for_services(catalogue.business, services)
        field = "services"
        if end is not None and start is not None:
            field = "end"
            minutes, rest = divmod(end - start, timedelta(minutes=1))
            if minutes <= 0:
                raise invalid("end", "the booking must end after it starts")
            if rest:
                raise invalid("end", "end on a whole minute")
            appointment = replace(appointment, duration=minutes)
        longest = catalogue.business.max_booking_minutes
        if appointment.total_minutes > longest:
            raise invalid(
                field,
                f"that takes {appointment.total_minutes} minutes with buffers; "
                f"one booking can take at most {longest} (the business's max_booking_minutes)",
            )
        return appointment

    @staticmethod
    def candidates(
        catalogue: Catalogue, services: Sequence[Service], staff: str, *, public: bool, field: str
    ) -> list[StaffMember]:
        qualified = qualified_staff(catalogue.staff, services, public=public)
        if staff == STAFF_ANY:
            if not qualified:
                raise invalid(field, "nobody offers these services together")
            return qualified
        chosen = [m for m in qualified if m.id == staff]
        if not chosen:
            known = catalogue.staff_member(staff)
            reason = "is not assigned every requested service" if known else "does not exist"
            raise invalid(field, f"staff member {staff} {reason}")
        return chosen

    # --- new bookings -----------------------------------------------------------------------------------

    @staticmethod
    def delivery_choices(business: Business, services: Sequence[Service]) -> tuple[Delivery, ...]:
        """The ways these services can be delivered together now; InvalidInput when there is none."""
        shared: set[Delivery] = {"online", "in_person"}
        for service in services:
            shared &= set(delivery_options(service.delivery_mode, business.online_appointments))
        if not shared:
            modes = {s.delivery_mode for s in services}
            if "online" in modes and "in_person" in modes:
                raise invalid("services", "online-only and in-person-only services cannot share one booking")
            raise invalid("services", f"{business.name} does not offer online appointments yet")
        return tuple(sorted(shared))

    def delivery(self, business: Business, services: Sequence[Service], wanted: Delivery | None) -> Delivery:
        choices = self.delivery_choices(business, services)
        if wanted is None:
            if len(choices) > 1:
                raise invalid("delivery", "choose 'online' or 'in_person': the service is offered both ways")
            return choices[0]
        if wanted not in choices:
            if wanted == "online" and not business.online_appointments:
                raise invalid("delivery", f"{business.name} does not offer online appointments yet")
            raise invalid("delivery", f"these services are delivered {choices[0].replace('_', ' ')} only")
        return wanted

    def create(self, catalogue: Catalogue, command: BookingCommand) -> BookingView:
        """A new booking, as `command` describes it (domain/booking.py): checked against the catalogue,
        the rules of its source and the diary, given to the fairest free staff member, and written in one
        transaction (another free one is tried when the first choice was taken a moment earlier)."""
        public = command.source == "public"
        allow_outside_shift = command.allow_outside_shift
        catalogue = catalogue if public else without_online_limits(catalogue)
        business = catalogue.business
        services = self.services(catalogue, command.services)
        delivery = self.delivery(business, services, command.delivery)
        start = command.start.astimezone(UTC)
        appointment = self.appointment(catalogue, services, start=start, end=command.end)
        candidates = self.candidates(catalogue, services, command.staff, public=public, field="staff")
        free, busy = self._free_staff(
            catalogue, appointment, candidates, start, allow_outside_shift=allow_outside_shift
        )
        now = self._clock.now()
        busy_start, busy_end = occupancy(start, appointment)
        ordered = self._fair_order(catalogue, free, start, busy)
        hold, series, request = command.hold, command.series, command.request
        awaiting = hold.payment if hold is not None else None
        last_error: SlotTaken | None = None
        for member in ordered[: 1 + ANY_STAFF_RETRIES]:
            outside = allow_outside_shift and not self._within_shifts(catalogue, appointment, member, start)
            booking = Booking(
                id=command.booking_id or self._ids.new_id(),
                tenant_id=business.id,
                # Held (awaiting its payment, or a customer's reply to a proposed time): pending until then.
                status=BookingStatus.PENDING if hold is not None else BookingStatus.CONFIRMED,
                payment=awaiting,
                payment_status="unpaid" if awaiting is not None else command.payment_status,
                hold_expires_at=hold.until if hold is not None else None,
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
                tax_rate_basis_points=business.tax_rate_basis_points,
                prices_include_tax=business.prices_include_tax,
                customer=command.customer,
                customer_notes=command.notes,
                delivery=delivery,
                meeting=initial_meeting(business.meeting_provider) if delivery == "online" else None,
                source=command.source,
                outside_shift=outside,
                series_id=series.series_id if series else None,
                series_index=series.index if series else None,
                request_id=request.request_id if request else None,
                job_address=request.job_address if request else None,
                created_at=now,
                updated_at=now,
            )
            entry = HistoryEntry(
                at=now,
                actor=command.actor,
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
            return self.view(booking, [entry])
        assert last_error is not None
        raise last_error

    def clash(
        self,
        catalogue: Catalogue,
        services: Sequence[Service],
        staff_id: str,
        start: datetime,
        *,
        allow_outside_shift: bool,
    ) -> str | None:
        """Why `staff_id` cannot take these services at `start` as staff book it, or None when free."""
        catalogue = without_online_limits(catalogue)
        appointment = self.appointment(catalogue, services)
        candidates = self.candidates(catalogue, services, staff_id, public=False, field="staff")
        try:
            self._free_staff(
                catalogue,
                appointment,
                candidates,
                start.astimezone(UTC),
                allow_outside_shift=allow_outside_shift,
            )
        except SlotTaken:
            return "another booking holds that time"
        except InvalidInput as refused:
            return refused.detail
        return None

    def _free_staff(
        self,
        catalogue: Catalogue,
        appointment: Appointment,
        candidates: Sequence[StaffMember],
        start: datetime,
        *,
        allow_outside_shift: bool,
        ignore_booking: str | None = None,
    ) -> tuple[list[StaffMember], list[Busy]]:
        """Candidates free at `start`, and the busy time of the local days the booking touches (for the
        fair choice). InvalidInput when `start` is not a bookable time at all (not a whole minute, not an
        offered start, outside shifts, too soon, too far ahead); SlotTaken when it is but everyone is busy."""
        now = self._clock.now()
        if start <= now:
            raise invalid("start", "that time has passed")
        if start.second or start.microsecond:
            raise invalid("start", "start on a whole minute")
        window = catalogue.business.booking_window_days
        if start > now + timedelta(days=window):
            # Checked before any arithmetic on the time: a start near year 9999 must be a 422, not an overflow.
            raise invalid("start", f"that is more than {window} days ahead")
        busy_start, busy_end = occupancy(start, appointment)
        zone = ZoneInfo(catalogue.business.time_zone)
        days_start = datetime.combine(busy_start.astimezone(zone).date(), time(0), tzinfo=zone)
        days_end = datetime.combine(
            busy_end.astimezone(zone).date() + timedelta(days=1), time(0), tzinfo=zone
        )
        busy = self._bookings.busy(catalogue.business.id, days_start, days_end, ignore_booking)
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
                raise invalid("start", "that is not a bookable time for these services and staff")
            free_ids = set(self._slot_staff(catalogue, appointment, candidates, start, busy=busy))
            free = [m for m in candidates if m.id in free_ids]
        if not free:
            raise SlotTaken("that time was just taken by another booking; please pick another")
        return free, busy

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
        self, catalogue: Catalogue, free: Sequence[StaffMember], start: datetime, busy: Sequence[Busy]
    ) -> list[StaffMember]:
        """Fewest bookings that (business-local) day first, then fewest booked minutes, then by id."""
        if len(free) == 1:
            return list(free)
        zone = ZoneInfo(catalogue.business.time_zone)
        day = start.astimezone(zone).date()
        lo = to_minute(datetime.combine(day, time(0), tzinfo=zone))
        hi = to_minute(datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone))
        bookings: dict[str, set[str]] = {}
        minutes: Counter[str] = Counter()
        for b in busy:
            if b.owner and b.start < hi and lo < b.end:
                bookings.setdefault(b.staff_id, set()).add(b.owner)
                minutes[b.staff_id] += min(b.end, hi) - max(b.start, lo)
        return sorted(free, key=lambda m: (len(bookings.get(m.id, ())), minutes[m.id], m.id))

    # --- reading ------------------------------------------------------------------------------------------

    def load(self, tenant_id: str, booking_id: str) -> tuple[Booking, list[HistoryEntry]]:
        found = self._bookings.get(tenant_id, booking_id)
        if found is None:
            raise NotFound(f"booking {booking_id} not found")
        return found

    def view(
        self, booking: Booking, history: list[HistoryEntry], delegation: Delegation | None = None
    ) -> BookingView:
        """The booking with its manage link (a delegated one, for 'login as client': domain/tokens.py)."""
        token = self._tokens.issue(booking.tenant_id, booking.id, booking.link_version, delegation)
        return BookingView(
            booking=booking,
            history=history,
            manage_token=token,
            manage_url=f"{self._manage_base_url}/bookings/{booking.id}?token={token}",
        )

    # --- changing -----------------------------------------------------------------------------------------

    def move(
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
        catalogue = self.tenant_catalogue(booking.tenant_id)
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
            catalogue = without_online_limits(catalogue)
        candidates = self.candidates(catalogue, services, staff, public=public, field=staff_field)
        free, busy = self._free_staff(
            catalogue,
            appointment,
            candidates,
            start,
            allow_outside_shift=allow_outside_shift,
            ignore_booking=booking.id,
        )
        member = self._fair_order(catalogue, free, start, busy)[0]
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
        _, history = self.load(booking.tenant_id, booking.id)
        return self.view(moved, history)

    def set_status(
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
        _, history = self.load(booking.tenant_id, booking.id)
        return self.view(changed, history)
