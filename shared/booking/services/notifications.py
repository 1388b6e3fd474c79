"""Notification use cases: what a committed booking change means for the customer, the staff member and
the reminder schedules, and sending a reminder when its schedule fires.

Driven from the committed change (the table's stream), never from the request that made it, so a
request that dies after its transaction still gets its messages. Each message goes out through
`MessageDelivery` (services/delivery.py): claimed in the communications log with a lease before it is
sent, so a redelivered change or a second firing of a schedule sends nothing twice, and a sender that died
mid-way is taken over; provider failures are retried by a timer and never undo a booking.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger

from booking.domain.booking import Booking, BookingStatus, ends_unannounced
from booking.domain.catalogue import Business, Catalogue, StaffMember
from booking.domain.communications import (
    InviteMethod,
    MessageChannel,
    MessageRecord,
    MessageRequest,
    stale_reason,
)
from booking.domain.invite import StaffCopy, build_invite, build_series_invite
from booking.domain.invoices import InvoiceFile
from booking.domain.reminders import (
    DEFAULT_REMINDERS,
    ONLINE_DEFAULT_REMINDERS,
    REMINDABLE,
    Channel,
    PlannedReminder,
    ReminderRule,
    plan_reminders,
    still_due,
)
from booking.domain.series import Series
from booking.domain.sms import allowed_countries, country_refusal
from booking.domain.tokens import ManageTokens
from booking.messages import (
    CustomerKind,
    StaffKind,
    customer_message,
    login_code_message,
    staff_message,
    start_url,
)
from booking.ports import (
    Attachment,
    BookingRepository,
    CatalogueReader,
    Clock,
    CustomerRepository,
    DeliveryFailed,
    EmailSender,
    MessageLog,
    ReminderScheduler,
    SeriesRepository,
    SmsBudget,
)
from booking.services.delivery import MessageDelivery, Rendered

logger = Logger(child=True)

# A series' confirmation (and its staff notice) waits for every session's meeting link, at most this long
# (or the business's own wait, if longer): the meeting-links state machine has retried and given up on
# each session by then (pauses of 5, 10, 20, 40, 80 and 120 s), so one message carries every link.
SERIES_LINKS_WAIT = timedelta(minutes=6)
# What staff hear about a booking, and what it does to their copy of the calendar invite.
STAFF_INVITES: dict[str, InviteMethod] = {
    "staff_new": "REQUEST",
    "staff_moved": "REQUEST",
    "staff_meeting_link": "REQUEST",
    "staff_cancelled": "CANCEL",
    "staff_removed": "CANCEL",
}
# The messages held back for meeting links, released when the links arrive.
HELD_KINDS = frozenset(
    {"confirmation", "series_confirmation", "staff_new", "meeting_link", "staff_meeting_link"}
)


def _paid_and_refunded(booking: Booking | None) -> tuple[int, int]:
    """What the customer has paid (online, captured, and at the desk) and what was given back (through
    Stripe, or at the desk)."""
    if booking is None:
        return 0, 0
    online = booking.payment.captured_minor if booking.payment is not None else 0
    refunded = booking.payment.refunded_minor if booking.payment is not None else 0
    fees = sum(fee.collected_minor for fee in booking.fees)  # a fee charged to the card on file
    desk = sum(p.amount_minor for p in booking.offline_payments if p.kind == "payment")
    desk_refunds = sum(p.amount_minor for p in booking.offline_payments if p.kind == "refund")
    return online + fees + desk, refunded + desk_refunds


def reminder_rules(catalogue: Catalogue, booking: Booking) -> Sequence[ReminderRule]:
    """The first booked service that sets its own cadence wins; otherwise the business's (its online
    cadence for an online booking)."""
    for booked in booking.services:
        service = catalogue.service(booked.id)
        if service is not None and service.reminders is not None:
            return service.reminders
    business = catalogue.business
    if booking.delivery == "online":
        return (
            business.online_reminders if business.online_reminders is not None else ONLINE_DEFAULT_REMINDERS
        )
    return business.reminders if business.reminders is not None else DEFAULT_REMINDERS


def _request(
    kind: str, booking: Booking, previous: Booking | None, about_start: datetime | None = None, **fields: Any
) -> MessageRequest:
    """What a message about `booking` (moved from `previous`, if given) needs to be rendered again."""
    return MessageRequest(
        kind=kind,
        about_start=about_start or booking.start,
        about_staff_id=booking.staff_id,
        previous_start=previous.start if previous is not None else None,
        previous_staff_id=previous.staff_id if previous is not None else None,
        **fields,
    )


class NotificationService:
    def __init__(
        self,
        catalogue: CatalogueReader,
        bookings: BookingRepository,
        customers: CustomerRepository,
        log: MessageLog,
        delivery: MessageDelivery,
        scheduler: ReminderScheduler,
        sms_budget: SmsBudget,
        tokens: ManageTokens,
        manage_base_url: str,
        sender_email: str,
        clock: Clock,
        series: SeriesRepository | None = None,
        invoice_pdf: Callable[[Booking], InvoiceFile | None] | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._bookings = bookings
        self._customers = customers
        self._log = log
        self.delivery = delivery
        self._scheduler = scheduler
        self._sms_budget = sms_budget
        self._tokens = tokens
        self._manage_base_url = manage_base_url.rstrip("/")
        self._sender_email = sender_email
        self._clock = clock
        self._series = series
        self._invoice_pdf = invoice_pdf  # the booking's invoice, attached to its receipts

    # --- reacting to committed changes ----------------------------------------------------------------

    def booking_changed(self, old: Booking | None, new: Booking) -> None:
        catalogue = self._catalogue.load_catalogue(new.tenant_id)
        if catalogue is None:
            logger.warning("booking of an unknown business; nothing sent", extra={"booking_id": new.id})
            return
        now = self._clock.now()
        self._receipts(catalogue, old, new)
        self._fee_due(catalogue, old, new)
        became_active = new.status is BookingStatus.CONFIRMED and (
            old is None or old.status is BookingStatus.PENDING
        )
        if became_active:
            # A series: one confirmation, from its first session, listing every session with its own
            # link (and one notice to staff with every host link); the other sessions are confirmed by
            # it and reminded (with their own links) as usual.
            kind: CustomerKind = "series_confirmation" if new.series_id is not None else "confirmation"
            if new.series_index in (None, 0):
                # Held back a little for the meeting link(s); they go out when the links arrive or, at the
                # latest, when the wait is over, saying a link will follow.
                hold_until = self._hold_for_links(catalogue, new, now)
                self._customer(
                    catalogue, new, kind, f"{kind}@v{new.version}", invite="REQUEST", hold_until=hold_until
                )
                self._staff(
                    catalogue,
                    new,
                    "staff_new",
                    new.staff_id,
                    f"staff_new@v{new.version}",
                    hold_until=hold_until,
                )
            self._schedule(catalogue, new, now)
            return
        if old is None:
            return
        self._meeting_changed(catalogue, old, new)
        if new.status is BookingStatus.CANCELLED and old.status is not BookingStatus.CANCELLED:
            self._unschedule(catalogue, old, now, "booking cancelled")
            if ends_unannounced(old, new):
                return  # never confirmed, so never announced: it ends in silence
            self._customer(catalogue, new, "cancellation", f"cancellation@v{new.version}", invite="CANCEL")
            self._staff(catalogue, new, "staff_cancelled", new.staff_id, f"staff_cancelled@v{new.version}")
            return
        moved = (old.start, old.staff_id) != (new.start, new.staff_id)
        if moved and new.status in REMINDABLE:
            self._unschedule(catalogue, old, now, "booking moved")
            if old.start != new.start:
                self._customer(
                    catalogue,
                    new,
                    "rescheduled",
                    f"rescheduled@v{new.version}",
                    invite="REQUEST",
                    previous=old,
                )
            if old.staff_id != new.staff_id:
                self._staff(
                    catalogue, new, "staff_removed", old.staff_id, f"staff_removed@v{new.version}", old
                )
                self._staff(catalogue, new, "staff_new", new.staff_id, f"staff_new@v{new.version}", old)
            else:
                self._staff(catalogue, new, "staff_moved", new.staff_id, f"staff_moved@v{new.version}", old)
            self._schedule(catalogue, new, now)

    def _receipts(self, catalogue: Catalogue, old: Booking | None, new: Booking) -> None:
        """A receipt by email for every payment taken (online or at the desk) and every refund."""
        paid_before, refunded_before = _paid_and_refunded(old)
        paid_after, refunded_after = _paid_and_refunded(new)
        if paid_after > paid_before:
            self._customer(
                catalogue,
                new,
                "receipt",
                f"receipt-payment@v{new.version}",
                channels=("email",),
                receipt=("payment", paid_after - paid_before),
            )
        if refunded_after > refunded_before:
            self._customer(
                catalogue,
                new,
                "receipt",
                f"receipt-refund@v{new.version}",
                channels=("email",),
                receipt=("refund", refunded_after - refunded_before),
            )

    def _fee_due(self, catalogue: Catalogue, old: Booking | None, new: Booking) -> None:
        """A no-show fee the card on file did not pay: the customer is emailed a link to pay it."""
        failed_before = sum(1 for fee in old.fees if fee.status == "failed") if old is not None else 0
        if sum(1 for fee in new.fees if fee.status == "failed") > failed_before:
            self._customer(catalogue, new, "fee_due", f"fee_due@v{new.version}", channels=("email",))

    def _meeting_changed(self, catalogue: Catalogue, old: Booking, new: Booking) -> None:
        """The link arrived, changed or could not be made: messages held back for it go now; a customer
        (and staff member) already told of the booking get the link by itself; staff hear of a failure."""
        before, after = old.meeting, new.meeting
        if after is None or before == after or new.status not in REMINDABLE:
            return
        if after.status == "failed" and (before is None or before.status != "failed"):
            self._staff(catalogue, new, "meeting_failed", new.staff_id, f"meeting_failed@v{new.version}")
        settled = before is not None and before.status == "provisioning" and after.status != "provisioning"
        covered = settled and self._release_held(catalogue, new)
        had_link = before is not None and before.has_link
        new_link = after.has_link and (not had_link or before is None or before.join_url != after.join_url)
        if after.provider == "manual":
            # Set by hand: the customer hears only when staff asked for it (staff set it themselves).
            if after.notify_customer:
                self._meeting_link(catalogue, new, had_link, customer=True, staff=False)
            return
        host_changed = start_url(new) is not None and start_url(new) != start_url(old)
        if not covered and (new_link or host_changed):
            self._meeting_link(catalogue, new, had_link, customer=new_link, staff=host_changed)

    def _meeting_link(
        self, catalogue: Catalogue, booking: Booking, had_link: bool, *, customer: bool, staff: bool
    ) -> None:
        if customer:
            self._customer(
                catalogue,
                booking,
                "meeting_link",
                f"meeting_link@v{booking.version}",
                invite="REQUEST",
                link_changed=had_link,
            )
        if staff:
            self._staff(
                catalogue,
                booking,
                "staff_meeting_link",
                booking.staff_id,
                f"staff_meeting_link@v{booking.version}",
                link_changed=had_link,
            )

    # --- waiting for meeting links ------------------------------------------------------------------

    def _hold_for_links(self, catalogue: Catalogue, booking: Booking, now: datetime) -> datetime | None:
        """Until when a new booking's confirmation and staff notice wait for meeting links (None: not at
        all): a booking's own link for the business's wait; every link of a series, longer."""
        wait = timedelta(seconds=catalogue.business.meeting_link_wait_seconds)
        meeting = booking.meeting
        if wait <= timedelta(0) or meeting is None or meeting.provider == "manual":
            return None  # the business never waits (each link follows by itself), or nobody makes one
        series = self._series_record(booking)
        if series is None:
            return now + wait if meeting.status == "provisioning" else None
        # Read as they are now: a later session's link may have been made before this change is seen.
        return None if self._all_settled(series, booking) else now + max(wait, SERIES_LINKS_WAIT)

    def _release_held(self, catalogue: Catalogue, booking: Booking) -> bool:
        """A booking's meeting settled (ready or failed): sends what waited for it. True when its link is
        covered: a message about it went now, or the series' confirmation still waits for its other links
        and will carry it, or carried it already."""
        series = self._series_record(booking)
        if series is None:
            return self._release_waiting(catalogue, booking, HELD_KINDS)
        if self._release_waiting(catalogue, booking, ("meeting_link", "staff_meeting_link")):
            return True  # its link missed the series' confirmation (see _late_links): it goes by itself now
        lead = self._lead(series, booking)
        if lead is None:
            return True  # the first session's confirmation is still to be made, from the links as they are
        announcing = ("series_confirmation", "staff_new")
        if self._waiting(lead, announcing) and self._all_settled(series, booking):
            self._release_waiting(catalogue, lead, announcing)
        # Waiting, released now, or gone earlier with this link (a session still without one when the
        # wait ran out was given messages of its own, released above). A business that never waits sends
        # the series' confirmation at once, and each link by itself.
        return catalogue.business.meeting_link_wait_seconds > 0

    def _waiting(self, booking: Booking, kinds: Collection[str]) -> list[MessageRecord]:
        """The messages of `kinds` held back for `booking`, as the log has them (with what they are)."""
        found = []
        for listed in self._log.records(booking.tenant_id, booking.id):
            if listed.kind not in kinds or listed.status != "waiting":
                continue
            record = self._log.get(booking.tenant_id, booking.id, listed.key, listed.channel)
            if record is not None and record.request is not None and record.status == "waiting":
                found.append(record)
        return found

    def _release_waiting(self, catalogue: Catalogue, booking: Booking, kinds: Collection[str]) -> bool:
        """Sends the messages of `kinds` held back for `booking`'s meeting link now; False when none was
        waiting."""
        held = self._waiting(booking, kinds)
        for record in held:
            assert record.request is not None
            self.delivery.release(
                booking.tenant_id,
                booking.id,
                catalogue.business,
                record,
                partial(self._render, catalogue, booking, record.request, record.channel),
                stale=partial(stale_reason, record.request, booking, self._clock.now()),
            )
        return bool(held)

    # --- a series' sessions -----------------------------------------------------------------------------

    def _series_record(self, booking: Booking) -> Series | None:
        if self._series is None or booking.series_id is None:
            return None
        return self._series.get(booking.tenant_id, booking.series_id)

    def _session(self, series: Series, booking_id: str | None, known: Booking) -> Booking | None:
        if booking_id == known.id:
            return known
        found = self._bookings.get(series.tenant_id, booking_id or "")
        return found[0] if found is not None else None

    def _lead(self, series: Series, known: Booking) -> Booking | None:
        """The series' first booked session, which carries its confirmation."""
        return self._session(series, series.booked[0].booking_id, known) if series.booked else None

    def _all_settled(self, series: Series, known: Booking) -> bool:
        """Whether every session's meeting is settled, read one by one until one is not."""
        return all(_settled(self._session(series, o.booking_id, known)) for o in series.booked)

    def _sessions(self, series: Series, known: Booking) -> list[Booking]:
        """The series' sessions as they are now, soonest first (`known`: one of them, as it is now)."""
        found = (self._session(series, o.booking_id, known) for o in series.booked)
        return sorted((b for b in found if b is not None), key=lambda b: b.start)

    def _late_links(self, catalogue: Catalogue, lead: Booking) -> None:
        """The series' confirmation goes out before every link was made: each session still without one
        gets its link by itself (email, text and its instance of the invite; staff the host link) once
        it is made, held until then (at the latest until the session, when its reminders carry it)."""
        series = self._series_record(lead)
        if series is None:
            return
        for session in self._sessions(series, lead):
            if _settled(session):
                continue
            self._customer(
                catalogue,
                session,
                "meeting_link",
                f"meeting_link@v{session.version}",
                invite="REQUEST",
                hold_until=session.start,
            )
            self._staff(
                catalogue,
                session,
                "staff_meeting_link",
                session.staff_id,
                f"staff_meeting_link@v{session.version}",
                hold_until=session.start,
            )

    def _schedule(self, catalogue: Catalogue, booking: Booking, now: datetime) -> None:
        for reminder in plan_reminders(booking, list(reminder_rules(catalogue, booking)), now):
            self._scheduler.schedule(reminder)
            self._log.put(
                booking.tenant_id,
                booking.id,
                MessageRecord(
                    key=reminder.key,
                    kind="reminder",
                    channel="schedule",
                    status="scheduled",
                    at=now,
                    send_at=reminder.send_at,
                    detail=f"{reminder.minutes_before} minutes before, by {' and '.join(reminder.channels)}",
                ),
            )

    def _unschedule(self, catalogue: Catalogue, old: Booking, now: datetime, why: str) -> None:
        """Deletes the old booking's future schedules: those its log lists as scheduled for its start
        (the cadence may have changed since they were made), and any the current cadence would plan."""
        logged: dict[str, PlannedReminder] = {}
        for record in self._log.records(old.tenant_id, old.id):
            if record.channel != "schedule" or record.status != "scheduled" or record.send_at is None:
                continue
            reminder = PlannedReminder(
                tenant_id=old.tenant_id,
                booking_id=old.id,
                minutes_before=round((old.start - record.send_at).total_seconds() / 60),
                planned_start=old.start,
                send_at=record.send_at,
                channels=(),
            )
            if reminder.key == record.key and reminder.send_at > now:
                logged[reminder.key] = reminder
        for reminder in plan_reminders(old, list(reminder_rules(catalogue, old)), now):
            if reminder.key not in logged:
                self._scheduler.cancel(reminder)  # not in the log: nothing to record
        for reminder in logged.values():
            self._scheduler.cancel(reminder)
            self._log.put(
                old.tenant_id,
                old.id,
                MessageRecord(
                    key=reminder.key,
                    kind="reminder",
                    channel="schedule",
                    status="unscheduled",
                    at=now,
                    send_at=reminder.send_at,
                    detail=why,
                ),
            )

    # --- reminders ------------------------------------------------------------------------------------

    def send_reminder(
        self,
        tenant_id: str,
        booking_id: str,
        minutes_before: int,
        planned_start: datetime,
        channels: Sequence[Channel],
    ) -> None:
        """Called when a reminder's schedule fires: re-reads the booking and sends only if still due."""
        found = self._load(tenant_id, booking_id, "reminder")
        if found is None:
            return
        booking, catalogue = found
        reminder = PlannedReminder(
            tenant_id=tenant_id,
            booking_id=booking_id,
            minutes_before=minutes_before,
            planned_start=planned_start,
            send_at=planned_start,
            channels=tuple(channels),
        )
        self._customer(
            catalogue,
            booking,
            "reminder",
            reminder.key,
            channels=channels,
            minutes_before=minutes_before,
            about_start=planned_start,
        )
        if still_due(booking, minutes_before, planned_start, now=self._clock.now()) is None:
            # the log's schedule entry now says it went out, no longer "scheduled"
            self._log.put(
                tenant_id,
                booking_id,
                MessageRecord(
                    key=reminder.key,
                    kind="reminder",
                    channel="schedule",
                    status="fired",
                    at=self._clock.now(),
                    send_at=planned_start - timedelta(minutes=minutes_before),
                    detail=f"{minutes_before} minutes before, by {' and '.join(channels)}",
                ),
            )

    # --- retries --------------------------------------------------------------------------------------

    def retry_message(self, tenant_id: str, booking_id: str, key: str, channel: str) -> None:
        """Called when a message's retry timer fires: another attempt if it is still unsettled and due,
        and still true of the booking as it is now."""
        record = self._log.get(tenant_id, booking_id, key, channel)
        if record is None or record.request is None:
            logger.warning("retry of a message that is not in the log", extra={"booking_id": booking_id})
            return
        found = self._load(tenant_id, booking_id, "retry")
        if found is None:
            return
        booking, catalogue = found
        request = record.request
        if record.status == "waiting" and request.kind in ("series_confirmation", "staff_new"):
            # The series' wait is over before every link was made: the sessions still without one get
            # theirs by themselves once it is made.
            self._late_links(catalogue, booking)
        self.delivery.resume(
            tenant_id,
            booking_id,
            catalogue.business,
            record,
            lambda: self._render(catalogue, booking, request, record.channel),
            stale=lambda: stale_reason(request, booking, self._clock.now()),
        )

    def _load(self, tenant_id: str, booking_id: str, what: str) -> tuple[Booking, Catalogue] | None:
        """The booking as it is now, with its business's catalogue (None, logged, when either is gone)."""
        found = self._bookings.get(tenant_id, booking_id)
        catalogue = self._catalogue.load_catalogue(tenant_id)
        if found is None or catalogue is None:
            logger.warning(f"{what} for a booking that does not exist", extra={"booking_id": booking_id})
            return None
        return found[0], catalogue

    # --- sending --------------------------------------------------------------------------------------

    def _manage_url(self, booking: Booking) -> str:
        token = self._tokens.issue(booking.tenant_id, booking.id, booking.link_version)
        return f"{self._manage_base_url}/bookings/{booking.id}?token={token}"

    def _sms_refusal(self, booking: Booking, business: Business) -> str | None:
        """Why this text must not go out; taking one from the day's cap is the last check, so a text
        refused for another reason costs nothing."""
        if not business.sms_enabled:
            return "the business does not send SMS"
        if not booking.customer.phone:
            return "no phone number"
        profile = self._customers.profile(booking.tenant_id, booking.customer.email)
        if booking.customer.sms_opt_out or (profile is not None and profile.sms_opt_out):
            return "customer opted out of SMS"
        countries = allowed_countries(business.sms_countries, business.time_zone)
        refused = country_refusal(booking.customer.phone, countries)
        if refused is not None:
            return refused
        today = self._clock.now().astimezone(ZoneInfo(business.time_zone)).date()
        if not self._sms_budget.take(business.id, today, business.sms_daily_cap):
            return f"the business's daily SMS cap ({business.sms_daily_cap}) is reached"
        return None

    def _customer(
        self,
        catalogue: Catalogue,
        booking: Booking,
        kind: CustomerKind,
        key: str,
        *,
        invite: InviteMethod | None = None,
        previous: Booking | None = None,
        channels: Sequence[Channel] = ("email", "sms"),
        minutes_before: int | None = None,
        about_start: datetime | None = None,
        link_changed: bool = False,
        hold_until: datetime | None = None,
        receipt: tuple[Literal["payment", "refund"], int] | None = None,
    ) -> None:
        request = _request(
            kind,
            booking,
            previous,
            invite=invite,
            minutes_before=minutes_before,
            about_start=about_start,
            link_changed=link_changed,
            receipt=receipt,
        )
        for channel in channels:
            recipient = booking.customer.email if channel == "email" else booking.customer.phone
            if hold_until is not None:
                record = MessageRecord(
                    key=key,
                    kind=kind,
                    channel=channel,
                    recipient=recipient,
                    status="waiting",
                    at=self._clock.now(),
                    request=request,
                )
                self.delivery.hold(
                    booking.tenant_id, booking.id, record, hold_until, "waiting for the meeting link"
                )
                continue
            self._send(catalogue, booking, key, channel, recipient, request)

    def _staff(
        self,
        catalogue: Catalogue,
        booking: Booking,
        kind: StaffKind,
        staff_id: str,
        key: str,
        previous: Booking | None = None,
        *,
        hold_until: datetime | None = None,
        link_changed: bool = False,
    ) -> None:
        member = catalogue.staff_member(staff_id)
        if member is None:
            return
        request = _request(
            kind,
            booking,
            previous,
            audience="staff",
            staff_id=staff_id,
            invite=STAFF_INVITES.get(kind),
            link_changed=link_changed,
        )
        if hold_until is not None:
            record = MessageRecord(
                key=f"{key}:{member.email}",
                kind=kind,
                channel="email",
                audience="staff",
                recipient=member.email,
                status="waiting",
                at=self._clock.now(),
                request=request,
            )
            self.delivery.hold(
                booking.tenant_id, booking.id, record, hold_until, "waiting for the meeting link"
            )
            return
        self._send(catalogue, booking, f"{key}:{member.email}", "email", member.email, request)

    def _send(
        self,
        catalogue: Catalogue,
        booking: Booking,
        key: str,
        channel: MessageChannel,
        recipient: str | None,
        request: MessageRequest,
    ) -> None:
        record = MessageRecord(
            key=key,
            kind=request.kind,
            channel=channel,
            audience=request.audience,
            recipient=recipient,
            status="sending",
            at=self._clock.now(),
            request=request,
        )
        self.delivery.send(
            booking.tenant_id,
            booking.id,
            catalogue.business,
            record,
            lambda: self._render(catalogue, booking, request, channel),
        )

    def _render(
        self, catalogue: Catalogue, booking: Booking, request: MessageRequest, channel: str
    ) -> Rendered:
        """The message `request` describes, for `channel`, from the booking as it is now."""
        business = catalogue.business
        previous = None
        if request.previous_start is not None:
            previous = booking.model_copy(
                update={
                    "start": request.previous_start,
                    "staff_id": request.previous_staff_id or booking.staff_id,
                }
            )
        if request.kind in ("meeting_link", "staff_meeting_link"):
            if booking.status not in REMINDABLE:
                return Rendered(None, skip_reason="the booking is no longer active")
            if start_url(booking) is None:
                # Held for a link that never came (the provider gave up): staff were told of that instead.
                return Rendered(None, skip_reason="no meeting link was made")
        needs_series = request.invite is not None or request.kind == "series_confirmation"
        series = self._series_record(booking) if needs_series else None
        # A new series' first session announces them all: each session as it is now, soonest first (a
        # session reassigned later is announced to its new staff member alone).
        first_notice = request.kind == "staff_new" and request.previous_staff_id is None
        announces = series is not None and (request.kind == "series_confirmation" or first_notice)
        sessions = self._sessions(series, booking) if series is not None and announces else []
        if request.audience == "staff":
            return self._render_staff(catalogue, booking, request, previous, series, sessions)
        member = catalogue.staff_member(booking.staff_id)
        manage_url = self._manage_url(booking)
        content = customer_message(
            request.kind,  # type: ignore[arg-type]
            booking,
            business,
            staff_name=member.name if member else None,
            manage_url=manage_url,
            previous=previous,
            minutes_before=request.minutes_before,
            link_changed=request.link_changed,
            sessions=sessions,
            receipt=request.receipt,
        )
        attachments: tuple[Attachment, ...] = ()
        if request.invite is not None:
            staff_name = member.name if member else None
            organizer = business.contact_email or self._sender_email
            if series is not None and sessions and request.invite == "REQUEST":
                ics = build_series_invite(
                    series,
                    sessions,
                    business,
                    staff_name=staff_name,
                    manage_urls={s.id: self._manage_url(s) for s in sessions},
                    organizer_email=organizer,
                    now=self._clock.now(),
                )
            else:
                ics = build_invite(
                    booking,
                    business,
                    staff_name=staff_name,
                    manage_url=manage_url,
                    organizer_email=organizer,
                    now=self._clock.now(),
                    method=request.invite,
                    series=series,
                )
            attachments = (_ics(ics, request.invite),)
        if request.kind == "receipt" and channel == "email" and self._invoice_pdf is not None:
            invoice = self._invoice_pdf(booking)
            if invoice is not None:
                attachments += (Attachment(invoice.filename, invoice.media_type, invoice.content),)
        skip = None
        if request.kind == "reminder" and request.minutes_before is not None:
            skip = still_due(booking, request.minutes_before, request.about_start, now=self._clock.now())
        if skip is None and channel == "sms":
            skip = self._sms_refusal(booking, business)
        recipient = booking.customer.email if channel == "email" else booking.customer.phone
        return Rendered(recipient, content, attachments, skip)

    def _render_staff(
        self,
        catalogue: Catalogue,
        booking: Booking,
        request: MessageRequest,
        previous: Booking | None,
        series: Series | None,
        sessions: list[Booking],
    ) -> Rendered:
        """A notice to a staff member, with their own copy of the calendar invite: the job's address as
        its location, the client's details and the host link; never the customer's manage link."""
        business = catalogue.business
        member = catalogue.staff_member(request.staff_id or "")
        if member is None:
            return Rendered(None, skip_reason="the staff member no longer exists")
        ours = series is not None and series.staff_id == member.id  # a series in this member's diary
        content = staff_message(
            request.kind,  # type: ignore[arg-type]
            booking,
            business,
            staff_name=member.name,
            previous=previous,
            sessions=sessions if ours else (),
            link_changed=request.link_changed,
        )
        attachments: tuple[Attachment, ...] = ()
        if request.invite is not None:
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
                    now=self._clock.now(),
                    copy=copy,
                )
            else:
                ics = build_invite(
                    booking,
                    business,
                    staff_name=member.name,
                    manage_url="",
                    organizer_email=organizer,
                    now=self._clock.now(),
                    method=request.invite,
                    series=series,
                    copy=copy,
                )
            attachments = (_ics(ics, request.invite),)
        return Rendered(member.email, content, attachments)


def _settled(session: Booking | None) -> bool:
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


def _copy(member: StaffMember) -> StaffCopy:
    return StaffCopy(staff_id=member.id, email=member.email, name=member.name)


def _ics(content: bytes, method: InviteMethod) -> Attachment:
    return Attachment("invite.ics", "text/calendar", content, (("method", method), ("charset", "UTF-8")))


class LoginCodeMailer:
    """The Notifier port for customer sign-in codes: sent once, as the code is issued (it is useless
    later), and never recorded anywhere but the provider."""

    def __init__(self, email: EmailSender) -> None:
        self._email = email

    def send_login_code(self, business: Business, email: str, code: str, expires_minutes: int) -> None:
        content = login_code_message(business, code, expires_minutes)
        try:
            self._email.send(
                to=email,
                subject=content.subject,
                text=content.text,
                html=content.html,
                from_name=business.email_sender_name or business.name,
                reply_to=business.reply_to_email or business.contact_email,
            )
        except DeliveryFailed:
            logger.warning("login code could not be sent", extra={"business": business.id})
