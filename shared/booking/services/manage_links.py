"""The customer's manage link: view, cancel or reschedule one booking until the business's cutoff,
download its invite, and stop text messages, with the token from the link.

A delegated link (an owner or admin in a 'login as client' session: domain/tokens.py) does the same, records
each change on behalf of that user, shows only delegated links again, and stops with the session."""

from __future__ import annotations

from datetime import datetime, timedelta

from booking.domain.booking import Actor, Booking, BookingStatus
from booking.domain.catalogue import Business
from booking.domain.errors import Conflict, TooLate, Unauthorized
from booking.domain.refunds import RefundQuote
from booking.domain.tokens import Delegation, ManageTokens, TokenClaim, link_problem
from booking.ports import Clock, CustomerRepository, SeriesRepository
from booking.services.booking_engine import BookingEngine, BookingView
from booking.services.payments.refunds import Refunds


class Arranged(Conflict):
    """The customer may not move this booking alone: the business arranged it with them."""

    kind = "arranged-with-the-business"
    title = "Ask the business to move this appointment"


class ManageLinkService:
    def __init__(
        self,
        engine: BookingEngine,
        customers: CustomerRepository,
        clock: Clock,
        tokens: ManageTokens,
        sender_email: str,
        refunds: Refunds | None = None,
        series: SeriesRepository | None = None,
    ) -> None:
        self._engine = engine
        self._refunds = refunds
        self._series = series
        self._customers = customers
        self._clock = clock
        self._tokens = tokens
        self._sender_email = sender_email

    def business(self, booking_id: str, token: str | None) -> Business:
        """The business a manage link belongs to (for CORS), if the link is genuine."""
        tenant_id = self._tokens.tenant_of(token or "", booking_id)
        if tenant_id is None:
            raise Unauthorized("this link is not valid for this booking")
        return self._engine.tenant_catalogue(tenant_id).business

    def _opened(self, booking_id: str, token: str | None) -> tuple[Booking, TokenClaim]:
        """The booking a manage link opens, if it still opens it (not expired, not replaced), with what
        the link claims."""
        claim = self._tokens.claim(token or "", booking_id)
        if claim is None:
            raise Unauthorized("this link is not valid for this booking")
        booking, _ = self._engine.load(claim.tenant_id, booking_id)
        refused = link_problem(booking.end, booking.link_version, claim, self._clock.now())
        if refused is not None:
            raise Unauthorized(refused)
        return booking, claim

    def _managed(self, booking_id: str, token: str | None) -> Booking:
        return self._opened(booking_id, token)[0]

    def booking(self, booking_id: str, token: str | None) -> Booking:
        """The booking a genuine, current manage link opens (Unauthorized otherwise)."""
        return self._managed(booking_id, token)

    def actor(self, booking_id: str, token: str | None) -> Actor:
        """Who acts through the link: the customer, on behalf of the user of a delegated link."""
        booking, claim = self._opened(booking_id, token)
        acting = claim.delegation.acting_user if claim.delegation is not None else None
        return Actor(kind="customer", id=booking.customer.email.lower(), on_behalf_of=acting)

    def invite(self, booking_id: str, token: str | None) -> bytes:
        """The booking's calendar invite (METHOD:CANCEL once cancelled), for the manage link's download."""
        booking = self._managed(booking_id, token)
        catalogue = self._engine.tenant_catalogue(booking.tenant_id)
        member = catalogue.staff_member(booking.staff_id)
        # icalendar is imported by this route alone, and only when asked: no other request waits for it.
        from booking.domain.invite import build_invite  # noqa: PLC0415

        # A session of a series is its instance of the series' event (the series invite's UID), so the
        # download updates the calendar entry the confirmation made instead of adding another.
        series = (
            self._series.get(booking.tenant_id, booking.series_id)
            if self._series is not None and booking.series_id is not None
            else None
        )
        return build_invite(
            booking,
            catalogue.business,
            staff_name=member.name if member else None,
            manage_url=self._engine.view(booking, []).manage_url,
            organizer_email=catalogue.business.contact_email or self._sender_email,
            now=self._clock.now(),
            series=series,
        )

    def sms_opt_out(self, booking_id: str, token: str | None, opted_out: bool) -> None:
        """The customer stops (or resumes) text messages, for this and every later booking."""
        booking = self._managed(booking_id, token)
        self._customers.set_sms_opt_out(booking.tenant_id, booking.customer.email, opted_out)

    def view(self, booking_id: str, token: str | None) -> BookingView:
        booking, claim = self._opened(booking_id, token)
        _, history = self._engine.load(booking.tenant_id, booking_id)
        return self._engine.view(booking, history, claim.delegation)

    def _check_cutoff(self, booking: Booking, what: str) -> None:
        catalogue = self._engine.tenant_catalogue(booking.tenant_id)
        cutoff = booking.start - timedelta(hours=catalogue.business.cancellation_cutoff_hours)
        if self._clock.now() >= cutoff:
            raise TooLate(
                f"online {what} closes {catalogue.business.cancellation_cutoff_hours} hours before the "
                "appointment; please contact the business"
            )

    def cancel(
        self, booking_id: str, token: str | None, reason: str, actor: Actor | None = None
    ) -> BookingView:
        """`actor`: who the caller's own session says is acting; by default, who the link says."""
        booking, claim = self._opened(booking_id, token)
        self._check_cutoff(booking, "cancellation")
        actor = actor or self.actor(booking_id, token)
        quote = self._refunds.quote(booking) if self._refunds is not None else None
        view = self._engine.set_status(
            booking, BookingStatus.CANCELLED, actor, reason or "cancelled by the customer"
        )
        if self._refunds is not None and quote is not None and quote.amount_minor > 0:
            # Exactly what the quote said, decided before the cancellation changed anything.
            refunded = self._refunds.after_cancellation(
                view.booking, quote.amount_minor, actor, "cancelled by the customer"
            )
            view = self._engine.view(refunded, view.history, claim.delegation)
        return self._engine.view(view.booking, view.history, claim.delegation)

    def refund_quote(self, booking_id: str, token: str | None) -> RefundQuote:
        """What cancelling now would refund under the business's policy (shown before confirming)."""
        booking = self._managed(booking_id, token)
        if self._refunds is None:
            return RefundQuote(refundable_minor=0, amount_minor=0, percent=0, notice_hours=0.0)
        return self._refunds.quote(booking)

    def reschedule(
        self,
        booking_id: str,
        token: str | None,
        start: datetime,
        staff: str | None,
        actor: Actor | None = None,
    ) -> BookingView:
        booking, claim = self._opened(booking_id, token)
        self._check_cutoff(booking, "rescheduling")
        self._check_movable_by_customer(booking)
        moved = self._engine.move(
            booking,
            start,
            staff or booking.staff_id,
            actor or self.actor(booking_id, token),
            public=True,
            allow_outside_shift=False,
            action="rescheduled",
        )
        return self._engine.view(moved.booking, moved.history, claim.delegation)

    def _check_movable_by_customer(self, booking: Booking) -> None:
        """A job the business arranged with the customer (from a booking request, or made by staff where the
        business says so) is moved only by asking the business, never by the customer alone."""
        business = self._engine.tenant_catalogue(booking.tenant_id).business
        arranged = booking.request_id is not None or (
            booking.source == "admin" and not business.customers_move_staff_bookings
        )
        if arranged:
            raise Arranged(
                f"this appointment was arranged with {business.name}: to move it, ask them (send a booking "
                "request with the times that suit you, or reply to your confirmation)"
            )

    def view_for_customer(self, booking: Booking, delegation: Delegation | None = None) -> BookingView:
        """A booking as its customer sees it in their portal (with its manage link: a delegated one in a
        'login as client' session)."""
        return self._engine.view(booking, [], delegation)
