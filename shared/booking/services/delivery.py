"""Delivering one message: claim it, send it, record what happened, and come back to it when it is not
settled. The rules (lease, attempts, backoff, staleness) live in `booking.domain.communications`; this
orchestrates the log, the providers and the retry timers.

Why the order of writes matters: a timer is set before the log says "retrying", so a crash between the two
leaves a timer that finds the message still "sending" and waits out its lease, never a message nobody
will come back to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from math import inf

from aws_lambda_powertools import Logger

from booking.domain.catalogue import Business
from booking.domain.communications import MessageRecord
from booking.messages import MessageContent
from booking.ports import (
    Attachment,
    Clock,
    DeliveryFailed,
    EmailSender,
    MessageLog,
    RetryScheduler,
    SmsSender,
)

logger = Logger(child=True)

# The longest one send can take: the provider clients' timeouts and retries (adapters/clients.py). A send
# is started only when the invocation has at least this long left, so it never runs into the timeout.
SEND_BUDGET_SECONDS = 25.0


class OutOfTime(Exception):
    """Too little of the invocation is left to start a send; the caller hands the work back to be run
    again (a stream record reported as failed, an invocation that fails and is retried)."""


@dataclass(frozen=True)
class Rendered:
    """A message ready for one channel: to whom, what, or why nothing is to be sent."""

    recipient: str | None
    content: MessageContent | None = None
    attachments: tuple[Attachment, ...] = ()
    skip_reason: str | None = None


class MessageDelivery:
    def __init__(
        self,
        log: MessageLog,
        email: EmailSender,
        sms: SmsSender,
        retries: RetryScheduler,
        clock: Clock,
    ) -> None:
        self._log = log
        self._email = email
        self._sms = sms
        self._retries = retries
        self._clock = clock
        self.time_left: Callable[[], float] = lambda: inf  # seconds; set per invocation by the handler

    def send(
        self,
        tenant_id: str,
        booking_id: str,
        business: Business,
        record: MessageRecord,
        render: Callable[[], Rendered],
    ) -> None:
        """Delivers a message a change (or a firing reminder) made. Delivering the same message again
        sends nothing twice: it resumes the recorded one instead (see `resume`)."""
        self._ensure_time()
        claimed = record.claim(self._clock.now())
        if self._log.claim(tenant_id, booking_id, claimed):
            self._attempt(tenant_id, booking_id, business, claimed, render)
            return
        existing = self._log.get(tenant_id, booking_id, record.key, record.channel)
        if existing is not None:
            self.resume(tenant_id, booking_id, business, existing, render, stale=lambda: None)

    def hold(self, tenant_id: str, booking_id: str, record: MessageRecord, until: datetime, why: str) -> None:
        """Records the message as waiting until `until`, when its timer hands it to `resume`; the timer
        is set first, so a crash between the two leaves a timer and no message nobody comes back to."""
        now = self._clock.now()
        self._retries.schedule_retry(tenant_id, booking_id, record.key, record.channel, until)
        self._log.claim(tenant_id, booking_id, record.waiting(until, why, now))

    def release(
        self,
        tenant_id: str,
        booking_id: str,
        business: Business,
        waiting: MessageRecord,
        render: Callable[[], Rendered],
        stale: Callable[[], str | None],
    ) -> None:
        """Sends a waiting message now rather than when its timer fires (the timer then finds it settled)."""
        due_now = waiting.model_copy(update={"next_attempt_at": self._clock.now()})
        self.resume(tenant_id, booking_id, business, due_now, render, stale)

    def resume(
        self,
        tenant_id: str,
        booking_id: str,
        business: Business,
        existing: MessageRecord,
        render: Callable[[], Rendered],
        stale: Callable[[], str | None],
    ) -> None:
        """A message already in the log: nothing to do when settled; a timer for later when its lease
        or backoff has not run out; otherwise another attempt, unless it no longer applies."""
        now = self._clock.now()
        due = existing.due(now)
        if due is None:
            return
        if due > now:
            self._retries.schedule_retry(tenant_id, booking_id, existing.key, existing.channel, due)
            return
        reason = stale()
        if reason is not None:
            self._log.replace(tenant_id, booking_id, existing.skipped(reason, now), expected=existing)
            return
        self._ensure_time()
        taken = existing.claim(now)
        if not self._log.replace(tenant_id, booking_id, taken, expected=existing):
            return  # another run took it over first
        self._attempt(tenant_id, booking_id, business, taken, render)

    def _ensure_time(self) -> None:
        if self.time_left() < SEND_BUDGET_SECONDS:
            raise OutOfTime(f"less than {SEND_BUDGET_SECONDS:.0f} s left in this invocation")

    def _attempt(
        self,
        tenant_id: str,
        booking_id: str,
        business: Business,
        record: MessageRecord,
        render: Callable[[], Rendered],
    ) -> None:
        rendered = render()
        now = self._clock.now()
        if rendered.skip_reason is not None or rendered.recipient is None or rendered.content is None:
            self._log.replace(
                tenant_id, booking_id, record.skipped(rendered.skip_reason, now), expected=record
            )
            return
        try:
            message_id = self._provider_send(
                business, record, rendered.recipient, rendered.content, rendered.attachments
            )
        except DeliveryFailed as error:
            logger.warning(
                "message failed",
                extra={
                    "booking_id": booking_id,
                    "kind": record.kind,
                    "channel": record.channel,
                    "attempt": record.attempts,
                },
            )
            after = record.failed_attempt(str(error), error.retryable, self._clock.now())
            if after.next_attempt_at is not None:
                self._retries.schedule_retry(
                    tenant_id, booking_id, record.key, record.channel, after.next_attempt_at
                )
            self._log.replace(tenant_id, booking_id, after, expected=record)
            return
        if not self._log.replace(
            tenant_id, booking_id, record.sent(message_id, self._clock.now()), expected=record
        ):
            logger.warning("sent after another run took the message over", extra={"booking_id": booking_id})

    def _provider_send(
        self,
        business: Business,
        record: MessageRecord,
        recipient: str,
        content: MessageContent,
        attachments: tuple[Attachment, ...],
    ) -> str:
        if record.channel == "sms":
            return self._sms.send(to=recipient, text=content.sms or content.text)
        return self._email.send(
            to=recipient,
            subject=content.subject,
            text=content.text,
            html=content.html,
            from_name=business.email_sender_name or business.name,
            reply_to=business.reply_to_email or business.contact_email,
            attachments=attachments,
        )
