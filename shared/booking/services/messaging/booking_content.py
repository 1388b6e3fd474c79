"""What a booking's messages say and carry, composed from the booking as it is when each is sent: the
customer's (with their manage link, the calendar invite, a series' every session and link, a receipt's
invoice) and a staff member's (their own copy of the invite: the job's address as its location, the client's
details and the host link; never the customer's manage link). The pipeline decides whether and to whom
(pipeline.py); this only composes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from booking.domain.booking import Booking, BookingStatus
from booking.domain.catalogue import StaffMember
from booking.domain.communications import InviteMethod, MessageChannel, MessageRequest
from booking.domain.invite import StaffCopy, build_invite, build_series_invite
from booking.domain.invoices import InvoiceFile
from booking.domain.series import Series
from booking.domain.tokens import ManageTokens
from booking.ports import Attachment, BookingRepository, CatalogueReader, Clock, SeriesRepository
from booking.rendering.messages import customer_message, staff_message
from booking.services.messaging.kinds import MessageKind, Subject, booking_subject
from booking.services.messaging.pipeline import Addressee, Composed


def settled(session: Booking | None) -> bool:
    """Whether a session's meeting is settled (made, failed, or not needed): None is a session whose
    booking is not written yet."""
    if session is None:
        return False
    meeting = session.meeting
    return (
        session.status is BookingStatus.CANCELLED
        or session.delivery != "online"
        or meeting is None
        or meeting.status != "provisioning"
    )


class SeriesSessions:
    """A series' sessions as they are now, read one booking at a time."""

    def __init__(self, series: SeriesRepository | None, bookings: BookingRepository) -> None:
        self._series = series
        self._bookings = bookings

    def of(self, booking: Booking) -> Series | None:
        if self._series is None or booking.series_id is None:
            return None
        return self._series.get(booking.tenant_id, booking.series_id)

    def session(self, series: Series, booking_id: str | None, known: Booking) -> Booking | None:
        if booking_id == known.id:
            return known
        found = self._bookings.get(series.tenant_id, booking_id or "")
        return found[0] if found is not None else None

    def lead(self, series: Series, known: Booking) -> Booking | None:
        """The series' first booked session, which carries its confirmation."""
        return self.session(series, series.booked[0].booking_id, known) if series.booked else None

    def all_settled(self, series: Series, known: Booking) -> bool:
        """Whether every session's meeting is settled, read one by one until one is not."""
        return all(settled(self.session(series, o.booking_id, known)) for o in series.booked)

    def sessions(self, series: Series, known: Booking) -> list[Booking]:
        """The series' sessions as they are now, soonest first (`known`: one of them, as it is now)."""
        found = (self.session(series, o.booking_id, known) for o in series.booked)
        return sorted((b for b in found if b is not None), key=lambda b: b.start)


class BookingContent:
    """The pipeline's `Family` for bookings."""

    def __init__(
        self,
        catalogue: CatalogueReader,
        bookings: BookingRepository,
        sessions: SeriesSessions,
        tokens: ManageTokens,
        manage_base_url: str,
        sender_email: str,
        clock: Clock,
        invoice_pdf: Callable[[Booking], InvoiceFile | None] | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._bookings = bookings
        self._sessions = sessions
        self._tokens = tokens
        self._manage_base_url = manage_base_url.rstrip("/")
        self._sender_email = sender_email
        self._clock = clock
        self._invoice_pdf = invoice_pdf  # the booking's invoice, attached to its receipts

    def load(self, tenant_id: str, subject_id: str) -> Subject[Booking] | None:
        found = self._bookings.get(tenant_id, subject_id)
        catalogue = self._catalogue.load_catalogue(tenant_id) if found is not None else None
        return booking_subject(found[0], catalogue) if found is not None and catalogue is not None else None

    def manage_url(self, booking: Booking) -> str:
        token = self._tokens.issue(booking.tenant_id, booking.id, booking.link_version)
        return f"{self._manage_base_url}/bookings/{booking.id}?token={token}"

    def compose(
        self,
        kind: MessageKind[Booking],
        subject: Subject[Booking],
        request: MessageRequest,
        channel: MessageChannel,
        to: Addressee,
    ) -> Composed:
        booking = subject.current
        previous = None
        if request.previous_start is not None:
            previous = booking.model_copy(
                update={
                    "start": request.previous_start,
                    "staff_id": request.previous_staff_id or booking.staff_id,
                }
            )
        needs_series = request.invite is not None or request.kind == "series_confirmation"
        series = self._sessions.of(booking) if needs_series else None
        # A new series' first session announces them all: each session as it is now, soonest first (a
        # session reassigned later is announced to its new staff member alone).
        first_notice = request.kind == "staff_new" and request.previous_staff_id is None
        announces = series is not None and (request.kind == "series_confirmation" or first_notice)
        sessions = self._sessions.sessions(series, booking) if series is not None and announces else []
        if request.audience == "staff":
            return self._staff(kind, subject, request, to, previous, series, sessions)
        return self._customer(kind, subject, request, channel, previous, series, sessions)

    def _customer(
        self,
        kind: MessageKind[Booking],
        subject: Subject[Booking],
        request: MessageRequest,
        channel: MessageChannel,
        previous: Booking | None,
        series: Series | None,
        sessions: list[Booking],
    ) -> Composed:
        booking, business = subject.current, subject.business
        member = subject.catalogue.staff_member(booking.staff_id)
        staff_name = member.name if member else None
        manage_url = self.manage_url(booking)
        content = customer_message(
            kind.name,  # type: ignore[arg-type]
            booking,
            business,
            staff_name=staff_name,
            manage_url=manage_url,
            previous=previous,
            minutes_before=request.minutes_before,
            link_changed=request.link_changed,
            sessions=sessions,
            receipt=request.receipt,
            template=kind.template,
        )
        attachments: tuple[Attachment, ...] = ()
        if request.invite is not None:
            organizer = business.contact_email or self._sender_email
            if series is not None and sessions and request.invite == "REQUEST":
                ics = build_series_invite(
                    series,
                    sessions,
                    business,
                    staff_name=staff_name,
                    manage_urls={s.id: self.manage_url(s) for s in sessions},
                    organizer_email=organizer,
                    now=self._now(),
                )
            else:
                ics = build_invite(
                    booking,
                    business,
                    staff_name=staff_name,
                    manage_url=manage_url,
                    organizer_email=organizer,
                    now=self._now(),
                    method=request.invite,
                    series=series,
                )
            attachments = (_ics(ics, request.invite),)
        if kind.invoice and channel == "email" and self._invoice_pdf is not None:
            invoice = self._invoice_pdf(booking)
            if invoice is not None:
                attachments += (Attachment(invoice.filename, invoice.media_type, invoice.content),)
        return content, attachments

    def _staff(
        self,
        kind: MessageKind[Booking],
        subject: Subject[Booking],
        request: MessageRequest,
        to: Addressee,
        previous: Booking | None,
        series: Series | None,
        sessions: list[Booking],
    ) -> Composed:
        """To a staff member (or, for a payment warning, the business's contact address, greeted by the
        business's name), with the staff member's own copy of the invite when the kind carries one."""
        booking, business = subject.current, subject.business
        member = to.member
        ours = series is not None and member is not None and series.staff_id == member.id  # in their diary
        content = staff_message(
            kind.name,  # type: ignore[arg-type]
            booking,
            business,
            staff_name=to.name or business.name,
            previous=previous,
            sessions=sessions if ours else (),
            link_changed=request.link_changed,
            template=kind.template,
        )
        if request.invite is None or member is None:
            return content, ()
        copy = _copy(member)
        organizer = business.contact_email or self._sender_email
        if series is not None and sessions and ours and request.invite == "REQUEST":
            ics = build_series_invite(
                series,
                sessions,
                business,
                staff_name=member.name,
                manage_urls={},
                organizer_email=organizer,
                now=self._now(),
                copy=copy,
            )
        else:
            ics = build_invite(
                booking,
                business,
                staff_name=member.name,
                manage_url="",
                organizer_email=organizer,
                now=self._now(),
                method=request.invite,
                series=series,
                copy=copy,
            )
        return content, (_ics(ics, request.invite),)

    def _now(self) -> datetime:
        return self._clock.now()


def _copy(member: StaffMember) -> StaffCopy:
    return StaffCopy(staff_id=member.id, email=member.email, name=member.name)


def _ics(content: bytes, method: InviteMethod) -> Attachment:
    return Attachment("invite.ics", "text/calendar", content, (("method", method), ("charset", "UTF-8")))
