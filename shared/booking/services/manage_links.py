"""The customer's manage link: view, cancel or reschedule one booking until the business's cutoff,
download its invite, and stop text messages, with the token from the link."""

from __future__ import annotations

from datetime import datetime, timedelta

from booking.domain.booking import Actor, Booking, BookingStatus
from booking.domain.catalogue import Business
from booking.domain.errors import TooLate, Unauthorized
from booking.domain.refunds import RefundQuote
from booking.domain.tokens import ManageTokens, link_problem
from booking.ports import Clock, CustomerRepository
from booking.services.booking_engine import BookingEngine, BookingView
from booking.services.refunds import Refunds


class ManageLinkService:
    def __init__(
        self,
        engine: BookingEngine,
        customers: CustomerRepository,
        clock: Clock,
        tokens: ManageTokens,
        sender_email: str,
        refunds: Refunds | None = None,
    ) -> None:
        self._engine = engine
        self._refunds = refunds
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

    def _managed(self, booking_id: str, token: str | None) -> Booking:
        """The booking a manage link opens, if it still opens it (not expired, not replaced)."""
        claim = self._tokens.claim(token or "", booking_id)
        if claim is None:
            raise Unauthorized("this link is not valid for this booking")
        booking, _ = self._engine.load(claim.tenant_id, booking_id)
        refused = link_problem(booking.end, booking.link_version, claim, self._clock.now())
        if refused is not None:
            raise Unauthorized(refused)
        return booking

    def booking(self, booking_id: str, token: str | None) -> Booking:
        """The booking a genuine, current manage link opens (Unauthorized otherwise)."""
        return self._managed(booking_id, token)

    def invite(self, booking_id: str, token: str | None) -> bytes:
        """The booking's calendar invite (METHOD:CANCEL once cancelled), for the manage link's download."""
        booking = self._managed(booking_id, token)
        catalogue = self._engine.tenant_catalogue(booking.tenant_id)
        member = catalogue.staff_member(booking.staff_id)
        # icalendar is imported by this route alone, and only when asked: no other request waits for it.
        from booking.domain.invite import build_invite  # noqa: PLC0415

        return build_invite(
            booking,
            catalogue.business,
            staff_name=member.name if member else None,
            manage_url=self._engine.view(booking, []).manage_url,
            organizer_email=catalogue.business.contact_email or self._sender_email,
            now=self._clock.now(),
        )

    def sms_opt_out(self, booking_id: str, token: str | None, opted_out: bool) -> None:
        """The customer stops (or resumes) text messages, for this and every later booking."""
        booking = self._managed(booking_id, token)
        self._customers.set_sms_opt_out(booking.tenant_id, booking.customer.email, opted_out)

    def view(self, booking_id: str, token: str | None) -> BookingView:
        booking = self._managed(booking_id, token)
        _, history = self._engine.load(booking.tenant_id, booking_id)
        return self._engine.view(booking, history)

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
        booking = self._managed(booking_id, token)
        self._check_cutoff(booking, "cancellation")
        actor = actor or Actor(kind="customer", id=booking.customer.email.lower())
        quote = self._refunds.quote(booking) if self._refunds is not None else None
        view = self._engine.set_status(
            booking, BookingStatus.CANCELLED, actor, reason or "cancelled by the customer"
        )
        if self._refunds is not None and quote is not None and quote.amount_minor > 0:
            # Exactly what the quote said, decided before the cancellation changed anything.
            refunded = self._refunds.after_cancellation(
                view.booking, quote.amount_minor, actor, "cancelled by the customer"
            )
            view = self._engine.view(refunded, view.history)
        return view

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
        booking = self._managed(booking_id, token)
        self._check_cutoff(booking, "rescheduling")
        actor = actor or Actor(kind="customer", id=booking.customer.email.lower())
        return self._engine.move(
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
        return self._engine.view(booking, [])
