"""The one message pipeline: every message, whatever its kind (kinds.py), goes the same way.

    send ──> recorded in its subject's communications log and claimed there with a lease (a claim found
             there already is resumed instead: a change delivered again sends nothing twice)
         ──> rendered from the subject as it is now: who it is for, its kind's `due` check, its templates and
             what it carries, and, for a text, the SMS policy (sms.py); nothing to send is "skipped", with why
         ──> sent through SES or SNS, and recorded "sent" with the provider's message id
         ──> or, after a failure that may pass, "retrying" with a timer after the backoff; "failed" after
             the last attempt, or at once when the provider refused it for good
    retry ──> the message as the log has it (its retry timer fired): nothing when settled, a timer again while
             its lease or backoff runs, "skipped" when it no longer applies (its kind's `stale` check),
             otherwise claimed again and attempted as above
    hold ──> "waiting" until a time, with a timer for then; `release` sends it sooner

The rules (lease, attempts, backoff) are the log's own (domain/communications.py). Why the order of writes
matters: a timer is set before the log says "retrying" or "waiting", so a crash between the two leaves a timer
that finds the message still "sending" and waits out its lease, never a message nobody will come back to. A
send starts only while the invocation has SEND_BUDGET_SECONDS left; otherwise OutOfTime hands the work back
(a stream record reported as failed, a timer invocation failing) to be run again in a fresh invocation.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from booking import deadline
from booking.domain.catalogue import Business, StaffMember
from booking.domain.communications import (
    About,
    Audience,
    MessageChannel,
    MessageRecord,
    MessageRequest,
    MessageStatus,
)
from booking.domain.reminders import Channel
from booking.ports import (
    Attachment,
    Clock,
    DeliveryFailed,
    EmailSender,
    MessageLog,
    RetryScheduler,
    SmsSender,
)
from booking.rendering.messages import MessageContent
from booking.services.messaging.kinds import KINDS, MessageKind, S, Subject, Who
from booking.services.messaging.sms import SmsPolicy

logger = Logger(child=True)

# The longest one send can take: the provider clients' timeouts and retries (adapters/clients.py). A send
# is started only when the invocation has at least this long left, so it never runs into the timeout.
SEND_BUDGET_SECONDS = 25.0


class OutOfTime(Exception):
    """Too little of the invocation is left to start a send; the caller hands the work back to be run
    again (a stream record reported as failed, an invocation that fails and is retried)."""


@dataclass(frozen=True)
class Recipient:
    """Someone at the business a message goes to; a staff member by id, so their address is read again."""

    address: str
    staff_id: str | None = None


@dataclass(frozen=True)
class Addressee:
    """Who a message is for as it is rendered: the address now, the name it greets (staff and the business),
    and the staff member's record when it is one."""

    address: str | None
    name: str | None = None
    member: StaffMember | None = None


@dataclass(frozen=True)
class Rendered:
    """A message ready for one channel: to whom, what, or why nothing is to be sent."""

    recipient: str | None
    content: MessageContent | None = None
    attachments: tuple[Attachment, ...] = ()
    skip_reason: str | None = None


Composed = tuple[MessageContent, tuple[Attachment, ...]]


def timer_entry(
    key: str,
    kind: str,
    status: MessageStatus,
    at: datetime,
    *,
    send_at: datetime | None = None,
    detail: str | None = None,
    audience: Audience = "customer",
) -> MessageRecord:
    """A timer's entry in a communications log (a reminder's schedule, a request's escalation): when it
    will fire, or that it fired or was deleted, and why. Not a message: nothing is sent for it."""
    return MessageRecord(
        key=key,
        kind=kind,
        channel="schedule",
        audience=audience,
        status=status,
        at=at,
        send_at=send_at,
        detail=detail,
    )


def email_from(
    sender: EmailSender,
    business: Business,
    to: str,
    content: MessageContent,
    attachments: tuple[Attachment, ...] = (),
) -> str:
    """Emails `content` in the business's name, replies going to its address; the provider's message id."""
    return sender.send(
        to=to,
        subject=content.subject,
        text=content.text,
        html=content.html,
        from_name=business.email_sender_name or business.name,
        reply_to=business.reply_to_email or business.contact_email,
        attachments=attachments,
    )


class Family(Protocol):
    """What messages are about, by `About`: bookings (booking_content.py) and booking requests
    (request_content.py). How one is read again (a retry), and how its messages are composed from it."""

    def load(self, tenant_id: str, subject_id: str) -> Subject[Any] | None: ...

    def compose(
        self,
        kind: MessageKind[Any],
        subject: Subject[Any],
        request: MessageRequest,
        channel: MessageChannel,
        to: Addressee,
    ) -> Composed: ...


class MessagePipeline:
    def __init__(
        self,
        log: MessageLog,
        email: EmailSender,
        sms: SmsSender,
        retries: RetryScheduler,
        policy: SmsPolicy,
        families: Mapping[About, Family],
        clock: Clock,
        kinds: Mapping[str, MessageKind[Any]] = KINDS,
    ) -> None:
        self._log = log
        self._email = email
        self._sms = sms
        self._retries = retries
        self._policy = policy
        self._families = families
        self._clock = clock
        self._kinds = kinds
        self._wait_over: dict[str, list[Callable[[Subject[Any]], None]]] = {}

    # --- a message a change or a timer makes ------------------------------------------------------------

    def send(
        self,
        kind: MessageKind[S],
        subject: Subject[S],
        key: str,
        about: MessageRequest,
        *,
        staff_id: str | None = None,
        channels: Sequence[Channel] | None = None,
        hold_until: datetime | None = None,
        why_held: str = "",
    ) -> None:
        """The message of `kind` about `subject`, to everyone it goes to: `key` names it in the log (each
        recipient's address is added for the business's people), `about` is what it says (kept, so that a
        retry renders it again), `staff_id` the staff member concerned when not the subject's own, `channels`
        a customer's (at most the kind's). Held until `hold_until` instead, when given."""
        now = self._clock.now()
        if kind.to == ("customer",):
            request = about.model_copy(
                update={"kind": kind.name, "audience": "customer", "staff_id": None, "invite": kind.invite}
            )
            for channel in channels or kind.channels:
                customer = subject.customer
                record = MessageRecord(
                    key=key,
                    kind=kind.name,
                    channel=channel,
                    recipient=customer.email if channel == "email" else customer.phone,
                    status="sending",
                    at=now,
                    request=request,
                )
                self._start(kind, subject, record, hold_until, why_held)
            return
        people = self.recipients(kind, subject, staff_id)
        if not people:
            logger.warning("nobody to send the message to", extra={"kind": kind.name})
        for person in people:
            address = person.address if kind.address_in_key == "as_written" else person.address.lower()
            record = MessageRecord(
                key=f"{key}:{address}",
                kind=kind.name,
                channel="email",
                audience="staff",
                recipient=person.address,
                status="sending",
                at=now,
                request=about.model_copy(
                    update={
                        "kind": kind.name,
                        "audience": "staff",
                        "staff_id": person.staff_id,
                        "invite": kind.invite,
                    }
                ),
            )
            self._start(kind, subject, record, hold_until, why_held)

    def recipients(
        self, kind: MessageKind[Any], subject: Subject[Any], staff_id: str | None = None
    ) -> list[Recipient]:
        """Everyone at the business a message of `kind` goes to now (its `to`, else its `otherwise`)."""
        return self._gather(kind.to, subject, staff_id) or self._gather(kind.otherwise, subject, staff_id)

    # --- messages already in the log ----------------------------------------------------------------------

    def retry(self, tenant_id: str, subject_id: str, key: str, channel: str) -> None:
        """A message's retry timer fired (whatever its kind): another attempt if it is still unsettled and
        due, and still true of its subject as it is now."""
        record = self._log.get(tenant_id, subject_id, key, channel)
        if record is None or record.request is None:
            logger.warning("retry of a message that is not in the log", extra={"subject_id": subject_id})
            return
        kind = self._kinds.get(record.kind)
        if kind is None:
            logger.warning("retry of a message of no known kind", extra={"kind": record.kind})
            return
        subject = self.load(kind.about, tenant_id, subject_id)
        if subject is None:
            logger.warning(
                f"retry for a {kind.about} that does not exist", extra={f"{kind.about}_id": subject_id}
            )
            return
        if record.status == "waiting":
            for follow in self._wait_over.get(kind.name, ()):
                follow(subject)
        self._resume(kind, subject, record)

    def load(self, about: About, tenant_id: str, subject_id: str) -> Subject[Any] | None:
        """The booking or booking request as it is now, with its business's catalogue (None: one is gone)."""
        return self._families[about].load(tenant_id, subject_id)

    def waiting(self, subject: Subject[Any], names: Collection[str]) -> list[MessageRecord]:
        """The messages of the kinds `names` held back for `subject`, as the log has them."""
        found = []
        for listed in self._log.records(subject.tenant_id, subject.id):
            if listed.kind not in names or listed.status != "waiting":
                continue
            record = self._log.get(subject.tenant_id, subject.id, listed.key, listed.channel)
            if record is not None and record.request is not None and record.status == "waiting":
                found.append(record)
        return found

    def release(self, subject: Subject[Any], waiting: MessageRecord) -> None:
        """Sends a waiting message now rather than when its timer fires (the timer then finds it settled)."""
        kind = self._kinds[waiting.kind]
        self._resume(kind, subject, waiting.model_copy(update={"next_attempt_at": self._clock.now()}))

    def when_wait_over(self, names: Collection[str], follow: Callable[[Subject[Any]], None]) -> None:
        """`follow` runs when the wait of a message of the kinds `names` runs out (its timer finds it still
        waiting), before it is sent: a series' confirmation that waited in vain for every meeting link."""
        for name in names:
            self._wait_over.setdefault(name, []).append(follow)

    # --- the way every message goes -------------------------------------------------------------------------

    def _start(
        self,
        kind: MessageKind[Any],
        subject: Subject[Any],
        record: MessageRecord,
        hold_until: datetime | None,
        why: str,
    ) -> None:
        if hold_until is not None:
            # The timer first: a crash between the two leaves a timer and no message nobody comes back to.
            self._schedule(subject, record.key, record.channel, hold_until)
            self._log.claim(subject.tenant_id, subject.id, record.waiting(hold_until, why, self._clock.now()))
            return
        self._ensure_time()
        claimed = record.claim(self._clock.now())
        if self._log.claim(subject.tenant_id, subject.id, claimed):
            self._attempt(kind, subject, claimed)
            return
        existing = self._log.get(subject.tenant_id, subject.id, record.key, record.channel)
        if existing is not None:  # made before (a change delivered again): resumed, never sent twice
            self._resume(kind, subject, existing, check_stale=False)

    def _resume(
        self, kind: MessageKind[Any], subject: Subject[Any], existing: MessageRecord, check_stale: bool = True
    ) -> None:
        """A message already in the log: nothing to do when settled; a timer for later when its lease
        or backoff has not run out; otherwise another attempt, unless it no longer applies."""
        now = self._clock.now()
        due = existing.due(now)
        if due is None:
            return
        if due > now:
            self._schedule(subject, existing.key, existing.channel, due)
            return
        reason = kind.stale(existing, subject.current, now) if check_stale and kind.stale else None
        if reason is not None:
            self._log.replace(subject.tenant_id, subject.id, existing.skipped(reason, now), expected=existing)
            return
        self._ensure_time()
        taken = existing.claim(now)
        if not self._log.replace(subject.tenant_id, subject.id, taken, expected=existing):
            return  # another run took it over first
        self._attempt(kind, subject, taken)

    def _attempt(self, kind: MessageKind[Any], subject: Subject[Any], record: MessageRecord) -> None:
        rendered = self._render(kind, subject, record)
        now = self._clock.now()
        if rendered.skip_reason is not None or rendered.recipient is None or rendered.content is None:
            skipped = record.skipped(rendered.skip_reason, now)
            self._log.replace(subject.tenant_id, subject.id, skipped, expected=record)
            return
        try:
            message_id = self._provider_send(subject.business, record, rendered)
        except DeliveryFailed as error:
            logger.warning(
                "message failed",
                extra={
                    f"{subject.about}_id": subject.id,
                    "kind": record.kind,
                    "channel": record.channel,
                    "attempt": record.attempts,
                },
            )
            after = record.failed_attempt(str(error), error.retryable, self._clock.now())
            if after.next_attempt_at is not None:
                self._schedule(subject, record.key, record.channel, after.next_attempt_at)
            self._log.replace(subject.tenant_id, subject.id, after, expected=record)
            return
        sent = record.sent(message_id, self._clock.now())
        if not self._log.replace(subject.tenant_id, subject.id, sent, expected=record):
            logger.warning(
                "sent after another run took the message over", extra={f"{subject.about}_id": subject.id}
            )

    def _render(self, kind: MessageKind[Any], subject: Subject[Any], record: MessageRecord) -> Rendered:
        """The message `record` describes, for its channel, from its subject as it is now."""
        request = record.request
        if request is None:  # every message is recorded with what it was made from
            return Rendered(None, skip_reason="nothing recorded to render it from")
        if kind.due is not None:
            reason = kind.due(record, subject.current, self._clock.now())
            if reason is not None:
                return Rendered(record.recipient, skip_reason=reason)
        to = self._addressee(subject, record, request)
        if to is None:
            return Rendered(None, skip_reason="the staff member no longer exists")
        content, attachments = self._families[kind.about].compose(kind, subject, request, record.channel, to)
        skip = self._policy.refusal(kind, subject) if record.channel == "sms" else None
        return Rendered(to.address, content, attachments, skip)

    @staticmethod
    def _addressee(subject: Subject[Any], record: MessageRecord, request: MessageRequest) -> Addressee | None:
        """A customer's address as it is now; a staff member's address and name as they are now (None: gone);
        anyone else as recorded, greeted by the business's name."""
        if request.audience == "customer":
            customer = subject.customer
            return Addressee(customer.email if record.channel == "email" else customer.phone)
        if request.staff_id is not None:
            member = subject.catalogue.staff_member(request.staff_id)
            if member is None:
                return None
            return Addressee(str(member.email), member.name, member)
        return Addressee(record.recipient, subject.business.name)

    def _provider_send(self, business: Business, record: MessageRecord, rendered: Rendered) -> str:
        assert rendered.recipient is not None and rendered.content is not None
        content = rendered.content
        if record.channel == "sms":
            return self._sms.send(to=rendered.recipient, text=content.sms or content.text)
        return email_from(self._email, business, rendered.recipient, content, rendered.attachments)

    def _schedule(self, subject: Subject[Any], key: str, channel: str, at: datetime) -> None:
        self._retries.schedule_retry(subject.tenant_id, subject.about, subject.id, key, channel, at)

    @staticmethod
    def _ensure_time() -> None:
        # What is left of the invocation: the deadline's time, and what it keeps back to answer.
        if deadline.remaining() + deadline.RESERVE_SECONDS < SEND_BUDGET_SECONDS:
            raise OutOfTime(f"less than {SEND_BUDGET_SECONDS:.0f} s left in this invocation")

    def _gather(self, whos: Sequence[Who], subject: Subject[Any], staff_id: str | None) -> list[Recipient]:
        found: list[Recipient] = []
        for who in whos:
            for person in self._who(who, subject, staff_id):
                if all(person.address.lower() != known.address.lower() for known in found):
                    found.append(person)
        return found

    @staticmethod
    def _who(who: Who, subject: Subject[Any], staff_id: str | None) -> list[Recipient]:
        business = subject.business
        if who == "staff_member":
            member_id = staff_id or subject.staff_id
            member = subject.catalogue.staff_member(member_id) if member_id else None
            return [Recipient(str(member.email), member.id)] if member is not None else []
        if who == "contact":
            return [Recipient(str(business.contact_email))] if business.contact_email else []
        if who == "dispatchers":
            return [Recipient(str(email)) for email in business.booking_requests.dispatcher_emails]
        raise ValueError(f"{who}: a customer is reached by each channel, not listed")
