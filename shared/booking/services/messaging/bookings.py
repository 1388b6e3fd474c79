"""Which messages a committed booking change causes, and the reminders' schedules: decided here, sent by the
one pipeline (pipeline.py) as the kinds declare (kinds.py).

    confirmed (new, or paid)   ──> the customer's confirmation (a series': one, from its first session) and
                                   the staff member's notice, held a little for the meeting link(s) of an
                                   online booking; the reminders scheduled
    moved (time or staff)      ──> "rescheduled" to the customer, a notice to the staff member (the one it
                                   left too); the reminders moved
    cancelled                  ──> the cancellation to both (nothing when it was never announced); the
                                   reminders deleted
    paid or refunded           ──> a receipt (with the invoice); a no-show fee the card did not pay: "fee due"
    meeting link made/changed  ──> what waited for it now; otherwise the link by itself (a failure: to staff)
    a reminder's timer fires   ──> the reminder, if the booking is still active and still at that time

Driven from the committed change (the table's stream), never from the request that made it, so a request
that dies after its transaction still gets its messages; a provider's failure never undoes a booking.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from aws_lambda_powertools import Logger

from booking.domain.booking import Booking, BookingStatus, ends_unannounced
from booking.domain.catalogue import Catalogue
from booking.domain.communications import MessageRecord, MessageRequest
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
from booking.ports import CatalogueReader, Clock, MessageLog, ReminderScheduler
from booking.rendering.messages import start_url
from booking.services.messaging.booking_content import SeriesSessions, settled
from booking.services.messaging.kinds import (
    CANCELLATION,
    CONFIRMATION,
    FEE_DUE,
    MEETING_FAILED,
    MEETING_LINK,
    RECEIPT,
    REMINDER,
    RESCHEDULED,
    SERIES_CONFIRMATION,
    STAFF_CANCELLED,
    STAFF_MEETING_LINK,
    STAFF_MOVED,
    STAFF_NEW,
    STAFF_REMOVED,
    MessageKind,
    Subject,
    booking_subject,
)
from booking.services.messaging.pipeline import MessagePipeline, timer_entry

logger = Logger(child=True)

# A series' confirmation (and its staff notice) waits for every session's meeting link, at most this long
# (or the business's own wait, if longer): the meeting-links state machine has retried and given up on
# each session by then (pauses of 5, 10, 20, 40, 80 and 120 s), so one message carries every link.
SERIES_LINKS_WAIT = timedelta(minutes=6)
WAITING_FOR_LINK = "waiting for the meeting link"
# The messages held back for meeting links, released when the links arrive.
HELD_KINDS = frozenset(
    k.name for k in (CONFIRMATION, SERIES_CONFIRMATION, STAFF_NEW, MEETING_LINK, STAFF_MEETING_LINK)
)
ANNOUNCING = (SERIES_CONFIRMATION.name, STAFF_NEW.name)  # what a series' first session sends


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


def _about(
    kind: MessageKind[Booking], booking: Booking, previous: Booking | None = None, **fields: Any
) -> MessageRequest:
    """What a message about `booking` (moved from `previous`, if given) needs to be rendered again."""
    return MessageRequest(
        kind=kind.name,
        about_start=fields.pop("about_start", None) or booking.start,
        about_staff_id=booking.staff_id,
        previous_start=previous.start if previous is not None else None,
        previous_staff_id=previous.staff_id if previous is not None else None,
        **fields,
    )


class BookingMessages:
    def __init__(
        self,
        catalogue: CatalogueReader,
        log: MessageLog,
        messages: MessagePipeline,
        scheduler: ReminderScheduler,
        sessions: SeriesSessions,
        clock: Clock,
    ) -> None:
        self._catalogue = catalogue
        self._log = log  # the reminders' schedule entries
        self.pipeline = messages
        self._scheduler = scheduler
        self._sessions = sessions
        self._clock = clock
        # The series' wait is over before every link was made: the sessions still without one get theirs
        # by themselves once it is made.
        messages.when_wait_over(ANNOUNCING, self._late_links)

    # --- reacting to committed changes ----------------------------------------------------------------

    def booking_changed(self, old: Booking | None, new: Booking) -> None:
        catalogue = self._catalogue.load_catalogue(new.tenant_id)
        if catalogue is None:
            logger.warning("booking of an unknown business; nothing sent", extra={"booking_id": new.id})
            return
        now = self._clock.now()
        subject = booking_subject(new, catalogue)
        self._receipts(subject, old)
        self._fee_due(subject, old)
        became_active = new.status is BookingStatus.CONFIRMED and (
            old is None or old.status is BookingStatus.PENDING
        )
        if became_active:
            # A series: one confirmation, from its first session, listing every session with its own
            # link (and one notice to staff with every host link); the other sessions are confirmed by
            # it and reminded (with their own links) as usual.
            kind = SERIES_CONFIRMATION if new.series_id is not None else CONFIRMATION
            if new.series_index in (None, 0):
                # Held back a little for the meeting link(s); they go out when the links arrive or, at the
                # latest, when the wait is over, saying a link will follow.
                hold_until = self._hold_for_links(catalogue, new, now)
                self._send(kind, subject, f"{kind.name}@v{new.version}", hold_until=hold_until)
                self._send(STAFF_NEW, subject, f"staff_new@v{new.version}", hold_until=hold_until)
            self._schedule(catalogue, new, now)
            return
        if old is None:
            return
        self._meeting_changed(subject, old)
        if new.status is BookingStatus.CANCELLED and old.status is not BookingStatus.CANCELLED:
            self._unschedule(catalogue, old, now, "booking cancelled")
            if ends_unannounced(old, new):
                return  # never confirmed, so never announced: it ends in silence
            self._send(CANCELLATION, subject, f"cancellation@v{new.version}")
            self._send(STAFF_CANCELLED, subject, f"staff_cancelled@v{new.version}")
            return
        moved = (old.start, old.staff_id) != (new.start, new.staff_id)
        if moved and new.status in REMINDABLE:
            self._unschedule(catalogue, old, now, "booking moved")
            if old.start != new.start:
                self._send(RESCHEDULED, subject, f"rescheduled@v{new.version}", previous=old)
            if old.staff_id != new.staff_id:
                key = f"staff_removed@v{new.version}"
                self._send(STAFF_REMOVED, subject, key, previous=old, staff_id=old.staff_id)
                self._send(STAFF_NEW, subject, f"staff_new@v{new.version}", previous=old)
            else:
                self._send(STAFF_MOVED, subject, f"staff_moved@v{new.version}", previous=old)
            self._schedule(catalogue, new, now)

    def _receipts(self, subject: Subject[Booking], old: Booking | None) -> None:
        """A receipt by email for every payment taken (online or at the desk) and every refund."""
        new = subject.current
        paid_before, refunded_before = _paid_and_refunded(old)
        paid_after, refunded_after = _paid_and_refunded(new)
        if paid_after > paid_before:
            paid = paid_after - paid_before
            self._send(RECEIPT, subject, f"receipt-payment@v{new.version}", receipt=("payment", paid))
        if refunded_after > refunded_before:
            refunded = refunded_after - refunded_before
            self._send(RECEIPT, subject, f"receipt-refund@v{new.version}", receipt=("refund", refunded))

    def _fee_due(self, subject: Subject[Booking], old: Booking | None) -> None:
        """A no-show fee the card on file did not pay: the customer is emailed a link to pay it."""
        new = subject.current
        failed_before = sum(1 for fee in old.fees if fee.status == "failed") if old is not None else 0
        if sum(1 for fee in new.fees if fee.status == "failed") > failed_before:
            self._send(FEE_DUE, subject, f"fee_due@v{new.version}")

    def _meeting_changed(self, subject: Subject[Booking], old: Booking) -> None:
        """The link arrived, changed or could not be made: messages held back for it go now; a customer
        (and staff member) already told of the booking get the link by itself; staff hear of a failure."""
        new = subject.current
        before, after = old.meeting, new.meeting
        if after is None or before == after or new.status not in REMINDABLE:
            return
        if after.status == "failed" and (before is None or before.status != "failed"):
            self._send(MEETING_FAILED, subject, f"meeting_failed@v{new.version}")
        settled_now = (
            before is not None and before.status == "provisioning" and after.status != "provisioning"
        )
        covered = settled_now and self._release_held(subject)
        had_link = before is not None and before.has_link
        new_link = after.has_link and (not had_link or before is None or before.join_url != after.join_url)
        if after.provider == "manual":
            # Set by hand: the customer hears only when staff asked for it (staff set it themselves).
            if after.notify_customer:
                self._meeting_link(subject, had_link, customer=True, staff=False)
            return
        host_changed = start_url(new) is not None and start_url(new) != start_url(old)
        if not covered and (new_link or host_changed):
            self._meeting_link(subject, had_link, customer=new_link, staff=host_changed)

    def _meeting_link(
        self, subject: Subject[Booking], had_link: bool, *, customer: bool, staff: bool
    ) -> None:
        version = subject.current.version
        if customer:
            self._send(MEETING_LINK, subject, f"meeting_link@v{version}", link_changed=had_link)
        if staff:
            self._send(STAFF_MEETING_LINK, subject, f"staff_meeting_link@v{version}", link_changed=had_link)

    # --- waiting for meeting links ------------------------------------------------------------------

    def _hold_for_links(self, catalogue: Catalogue, booking: Booking, now: datetime) -> datetime | None:
        """Until when a new booking's confirmation and staff notice wait for meeting links (None: not at
        all): a booking's own link for the business's wait; every link of a series, longer."""
        wait = timedelta(seconds=catalogue.business.meeting_link_wait_seconds)
        meeting = booking.meeting
        if wait <= timedelta(0) or meeting is None or meeting.provider == "manual":
            return None  # the business never waits (each link follows by itself), or nobody makes one
        series = self._sessions.of(booking)
        if series is None:
            return now + wait if meeting.status == "provisioning" else None
        # Read as they are now: a later session's link may have been made before this change is seen.
        return None if self._sessions.all_settled(series, booking) else now + max(wait, SERIES_LINKS_WAIT)

    def _release_held(self, subject: Subject[Booking]) -> bool:
        """A booking's meeting settled (ready or failed): sends what waited for it. True when its link is
        covered: a message about it went now, or the series' confirmation still waits for its other links
        and will carry it, or carried it already."""
        booking = subject.current
        series = self._sessions.of(booking)
        if series is None:
            return self._release_waiting(subject, HELD_KINDS)
        if self._release_waiting(subject, (MEETING_LINK.name, STAFF_MEETING_LINK.name)):
            return True  # its link missed the series' confirmation (see _late_links): it goes by itself now
        lead = self._sessions.lead(series, booking)
        if lead is None:
            return True  # the first session's confirmation is still to be made, from the links as they are
        lead_subject = booking_subject(lead, subject.catalogue)
        if self.pipeline.waiting(lead_subject, ANNOUNCING) and self._sessions.all_settled(series, booking):
            self._release_waiting(lead_subject, ANNOUNCING)
        # Waiting, released now, or gone earlier with this link (a session still without one when the
        # wait ran out was given messages of its own, released above). A business that never waits sends
        # the series' confirmation at once, and each link by itself.
        return subject.business.meeting_link_wait_seconds > 0

    def _release_waiting(self, subject: Subject[Booking], kinds: Collection[str]) -> bool:
        """Sends the messages of `kinds` held back for the booking's meeting link now; False when none was
        waiting."""
        held = self.pipeline.waiting(subject, kinds)
        for record in held:
            self.pipeline.release(subject, record)
        return bool(held)

    def _late_links(self, lead: Subject[Booking]) -> None:
        """The series' confirmation goes out before every link was made: each session still without one
        gets its link by itself (email, text and its instance of the invite; staff the host link) once
        it is made, held until then (at the latest until the session, when its reminders carry it)."""
        series = self._sessions.of(lead.current)
        if series is None:
            return
        for session in self._sessions.sessions(series, lead.current):
            if settled(session):
                continue
            subject = booking_subject(session, lead.catalogue)
            self._send(MEETING_LINK, subject, f"meeting_link@v{session.version}", hold_until=session.start)
            key = f"staff_meeting_link@v{session.version}"
            self._send(STAFF_MEETING_LINK, subject, key, hold_until=session.start)

    # --- reminders ------------------------------------------------------------------------------------

    def _schedule(self, catalogue: Catalogue, booking: Booking, now: datetime) -> None:
        for reminder in plan_reminders(booking, list(reminder_rules(catalogue, booking)), now):
            self._scheduler.schedule(reminder)
            self._log.put(booking.tenant_id, booking.id, _schedule_entry(reminder, "scheduled", now))

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
            self._log.put(old.tenant_id, old.id, _schedule_entry(reminder, "unscheduled", now, why))

    def send_reminder(
        self,
        tenant_id: str,
        booking_id: str,
        minutes_before: int,
        planned_start: datetime,
        channels: Sequence[Channel],
    ) -> None:
        """Called when a reminder's schedule fires: re-reads the booking and sends only if still due."""
        subject = self.pipeline.load("booking", tenant_id, booking_id)
        if subject is None:
            logger.warning("reminder for a booking that does not exist", extra={"booking_id": booking_id})
            return
        reminder = PlannedReminder(
            tenant_id=tenant_id,
            booking_id=booking_id,
            minutes_before=minutes_before,
            planned_start=planned_start,
            send_at=planned_start - timedelta(minutes=minutes_before),
            channels=tuple(channels),
        )
        about = _about(REMINDER, subject.current, minutes_before=minutes_before, about_start=planned_start)
        self.pipeline.send(REMINDER, subject, reminder.key, about, channels=channels)
        if still_due(subject.current, minutes_before, planned_start, now=self._clock.now()) is None:
            # the log's schedule entry now says it went out, no longer "scheduled"
            self._log.put(tenant_id, booking_id, _schedule_entry(reminder, "fired", self._clock.now()))

    # --- sending --------------------------------------------------------------------------------------

    def _send(
        self,
        kind: MessageKind[Booking],
        subject: Subject[Booking],
        key: str,
        *,
        previous: Booking | None = None,
        staff_id: str | None = None,
        hold_until: datetime | None = None,
        link_changed: bool = False,
        receipt: tuple[Literal["payment", "refund"], int] | None = None,
    ) -> None:
        about = _about(kind, subject.current, previous, link_changed=link_changed, receipt=receipt)
        self.pipeline.send(
            kind, subject, key, about, staff_id=staff_id, hold_until=hold_until, why_held=WAITING_FOR_LINK
        )


def _schedule_entry(
    reminder: PlannedReminder,
    status: Literal["scheduled", "unscheduled", "fired"],
    now: datetime,
    why: str | None = None,
) -> MessageRecord:
    """A reminder schedule's entry in the log: made, deleted (`why`), or fired."""
    channels = " and ".join(reminder.channels)
    detail = why if why is not None else f"{reminder.minutes_before} minutes before, by {channels}"
    return timer_entry(reminder.key, REMINDER.name, status, now, send_at=reminder.send_at, detail=detail)
