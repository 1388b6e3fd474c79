"""Recurring series: staff book a client's sessions at a fixed rhythm in one call, see them together, and
cancel every future one. Each session is its own booking (cancel or move one through the booking routes).

Booking a series checks every date first and refuses the whole series, naming each clashing date, unless
the caller asks to skip clashes. The series record (every date, and the booking each became) is written
before the bookings, so the first session's confirmation, driven from the stream, can list them all. A
date taken by someone else between the check and the booking is a clash like any other: skipped when
asked, otherwise the sessions already booked are cancelled again and the whole series is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.domain.access import DIARY_ROLES, Principal, Role
from booking.domain.booking import MOVABLE, Actor, Booking, BookingCommand, BookingStatus, SeriesPlace
from booking.domain.communications import MessageRecord
from booking.domain.errors import Conflict, FieldProblem, Forbidden, NotFound, SlotTaken
from booking.domain.series import Occurrence, Series, SeriesCancel, SeriesRequest, occurrence_starts
from booking.ports import BookingRepository, Clock, IdGenerator, MessageLog, SeriesRepository
from booking.services.booking_engine import BookingEngine, invalid
from booking.services.bookings import actor_for


class SeriesClashes(Conflict):
    """Dates of a series someone else holds (or staff do not work); each named in `problems`."""

    kind = "series-clashes"
    title = "Some dates of the series are taken"


@dataclass(frozen=True)
class SeriesSession:
    occurrence: Occurrence
    booking: Booking | None
    communications: list[MessageRecord]


@dataclass(frozen=True)
class SeriesDetail:
    series: Series
    sessions: list[SeriesSession]


class SeriesService:
    def __init__(
        self,
        engine: BookingEngine,
        bookings: BookingRepository,
        series: SeriesRepository,
        messages: MessageLog,
        clock: Clock,
        ids: IdGenerator,
    ) -> None:
        self._engine = engine
        self._bookings = bookings
        self._series = series
        self._messages = messages
        self._clock = clock
        self._ids = ids

    def book(self, principal: Principal, request: SeriesRequest) -> SeriesDetail:
        principal.require(DIARY_ROLES)
        if principal.role is Role.STAFF and request.staff != principal.staff_id:
            raise Forbidden("staff book series into their own diary only")
        if request.allow_outside_shift and principal.role not in (Role.OWNER, Role.ADMIN, Role.STAFF):
            raise Forbidden("only owners, admins and staff may book outside shifts")
        catalogue = self._engine.tenant_catalogue(principal.tenant_id)
        business = catalogue.business
        services = self._engine.services(catalogue, request.services)
        zone = ZoneInfo(business.time_zone)
        end_field = "count" if request.count is not None else "until"
        starts = occurrence_starts(
            request.start, zone, request.frequency, request.interval, request.count, request.until
        )
        if not starts:
            raise invalid("until", "no session falls between the start and `until`")
        if len(starts) > business.max_series_occurrences:
            raise invalid(
                end_field,
                f"that is {len(starts)} sessions; a series has at most {business.max_series_occurrences} "
                "(the business's max_series_occurrences)",
            )
        horizon = self._clock.now() + timedelta(days=business.booking_window_days)
        if starts[-1] > horizon:
            last = starts[-1].astimezone(zone).date()
            raise invalid(
                end_field,
                f"the last session ({last}) is more than {business.booking_window_days} days ahead, "
                "past the business's booking window",
            )
        clashes = {
            start: why
            for start in starts
            if (
                why := self._engine.clash(
                    catalogue, services, request.staff, start, allow_outside_shift=request.allow_outside_shift
                )
            )
        }
        if clashes and not request.skip_clashes:
            raise self._refusal(clashes, starts, zone)
        now = self._clock.now()
        series = Series(
            id=self._ids.new_id(),
            tenant_id=business.id,
            staff_id=request.staff,
            customer_email=request.customer.email.lower(),
            frequency=request.frequency,
            interval=request.interval,
            occurrences=[
                Occurrence(
                    index=i,
                    start=start,
                    booking_id=None if start in clashes else self._ids.new_id(),
                    skipped=clashes.get(start),
                )
                for i, start in enumerate(starts)
            ],
            created_at=now,
        )
        if not series.booked:
            raise self._refusal(clashes, starts, zone)
        series = self._renumbered(series)
        self._series.put(series)
        return self._book_sessions(principal, request, series, zone)

    @staticmethod
    def _renumbered(series: Series) -> Series:
        """Booked sessions numbered 0, 1, 2...: the first booked one carries the series confirmation."""
        booked = iter(range(len(series.occurrences)))
        return series.model_copy(
            update={
                "occurrences": [
                    o.model_copy(update={"index": next(booked)})
                    if o.booking_id
                    else o.model_copy(update={"index": -1})
                    for o in series.occurrences
                ]
            }
        )

    def _book_sessions(
        self, principal: Principal, request: SeriesRequest, series: Series, zone: ZoneInfo
    ) -> SeriesDetail:
        catalogue = self._engine.tenant_catalogue(principal.tenant_id)
        actor = actor_for(principal)
        made: list[Booking] = []
        lost: dict[datetime, str] = {}
        for occurrence in series.booked:
            session = BookingCommand(
                services=tuple(request.services),
                staff=request.staff,
                start=occurrence.start,
                customer=request.customer,
                actor=actor,
                source="admin",
                notes=request.notes,
                delivery=request.delivery,
                allow_outside_shift=request.allow_outside_shift,
                booking_id=occurrence.booking_id,
                series=SeriesPlace(series.id, occurrence.index),
            )
            try:
                view = self._engine.create(catalogue, session)
            except SlotTaken:
                lost[occurrence.start] = "another booking took that time a moment ago"
                if not request.skip_clashes:
                    break
                continue
            made.append(view.booking)
        if lost and not request.skip_clashes:
            self._undo(made, actor)
            self._series.delete(series.tenant_id, series.id)
            raise self._refusal(lost, [o.start for o in series.occurrences], zone)
        if lost:
            series = series.model_copy(
                update={
                    "occurrences": [
                        o.model_copy(update={"booking_id": None, "skipped": lost[o.start]})
                        if o.start in lost
                        else o
                        for o in series.occurrences
                    ]
                }
            )
            self._series.put(series)
        return self._detail(series)

    def _undo(self, made: list[Booking], actor: Actor) -> None:
        for booking in made:
            self._engine.set_status(booking, BookingStatus.CANCELLED, actor, "the series could not be booked")

    @staticmethod
    def _refusal(clashes: dict[datetime, str], starts: list[datetime], zone: ZoneInfo) -> SeriesClashes:
        problems = [
            FieldProblem(
                ("body", "occurrences", starts.index(start)),
                f"{start.astimezone(zone):%a %d %b %Y %H:%M}: {why}",
            )
            for start, why in sorted(clashes.items())
        ]
        dates = ", ".join(f"{s.astimezone(zone):%Y-%m-%d %H:%M}" for s in sorted(clashes))
        return SeriesClashes(
            f"{len(clashes)} of {len(starts)} sessions clash ({dates}); nothing was booked. "
            "Choose other times, or book with skip_clashes to book the free dates only.",
            problems,
        )

    # --- reading and cancelling -------------------------------------------------------------------------

    def _load(self, principal: Principal, series_id: str) -> Series:
        principal.require(DIARY_ROLES)
        series = self._series.get(principal.tenant_id, series_id)
        if series is None or (principal.role is Role.STAFF and series.staff_id != principal.staff_id):
            raise NotFound(f"series {series_id} not found")
        return series

    def detail(self, principal: Principal, series_id: str) -> SeriesDetail:
        return self._detail(self._load(principal, series_id))

    def _detail(self, series: Series) -> SeriesDetail:
        sessions = []
        for occurrence in series.occurrences:
            booking = None
            communications: list[MessageRecord] = []
            if occurrence.booking_id is not None:
                found = self._bookings.get(series.tenant_id, occurrence.booking_id)
                booking = found[0] if found else None
                communications = self._messages.records(series.tenant_id, occurrence.booking_id)
            sessions.append(SeriesSession(occurrence, booking, communications))
        return SeriesDetail(series, sessions)

    def cancel(self, principal: Principal, series_id: str, request: SeriesCancel) -> SeriesDetail:
        """Cancels every session still to come (or from a given day on); past and finished ones stay."""
        series = self._load(principal, series_id)
        zone = ZoneInfo(self._engine.tenant_catalogue(principal.tenant_id).business.time_zone)
        now = self._clock.now()
        since = (
            now if request.from_ is None else max(now, datetime.combine(request.from_, time(0), tzinfo=zone))
        )
        actor = actor_for(principal)
        reason = request.reason or "series cancelled by the business"
        for occurrence in series.booked:
            found = self._bookings.get(series.tenant_id, occurrence.booking_id or "")
            if found is None:
                continue
            booking = found[0]
            if booking.status in MOVABLE and booking.start >= since.astimezone(UTC):
                self._engine.set_status(booking, BookingStatus.CANCELLED, actor, reason)
        return self._detail(series)
