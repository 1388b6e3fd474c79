"""Messages: the providers that send them, the communications log, the timers that retry and remind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from booking.domain.communications import About, MessageRecord
from booking.domain.reminders import PlannedReminder


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes
    params: tuple[tuple[str, str], ...] = ()


class DeliveryFailed(Exception):
    """The provider refused the message or kept failing after its own retries. `retryable` says whether
    trying again later may succeed (throttling, an outage) or not (a rejected address)."""

    def __init__(self, reason: str, retryable: bool = True) -> None:
        super().__init__(reason)
        self.retryable = retryable


class EmailSender(Protocol):
    def send(
        self,
        *,
        to: str,
        subject: str,
        text: str,
        html: str,
        from_name: str,
        reply_to: str | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> str:
        """Sends and returns the provider's message id; raises DeliveryFailed."""
        ...


class SmsSender(Protocol):
    def send(self, *, to: str, text: str, sender_id: str | None = None) -> str:
        """Sends and returns the provider's message id; raises DeliveryFailed."""
        ...


class SmsBudget(Protocol):
    def take(self, tenant_id: str, day: date, cap: int) -> bool:
        """Counts one text against the business's cap for `day` (its local date), atomically; False, and
        nothing counted, once `cap` texts were counted that day."""
        ...


class RetryScheduler(Protocol):
    def schedule_retry(
        self, tenant_id: str, about: About, subject_id: str, key: str, channel: str, at: datetime
    ) -> None:
        """A one-time timer that hands the message (in the log of the booking or booking request
        `subject_id`, as `about` says) back to the message pipeline at `at` (idempotent)."""
        ...


class TimerScheduler(Protocol):
    def schedule_at(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        """A one-time timer invoking the reminders function with `payload` at `at` (idempotent by name)."""
        ...


class ReminderScheduler(Protocol):
    def schedule(self, reminder: PlannedReminder) -> None:
        """Creates the one-time schedule (idempotent: an existing one is left as it is)."""
        ...

    def cancel(self, reminder: PlannedReminder) -> None:
        """Deletes the schedule (idempotent: a missing one is fine)."""
        ...


class MessageLog(Protocol):
    """The communications log of one booking or booking request (`subject_id`)."""

    def claim(self, tenant_id: str, subject_id: str, record: MessageRecord) -> bool:
        """Records the message (with its request) if it is not recorded yet; False means another run
        already has it, so this one must not send it."""
        ...

    def get(self, tenant_id: str, subject_id: str, key: str, channel: str) -> MessageRecord | None:
        """The message as recorded now (strongly consistent), with its request."""
        ...

    def replace(
        self, tenant_id: str, subject_id: str, record: MessageRecord, expected: MessageRecord
    ) -> bool:
        """Records the message's new state if it is still at `expected` (same status and attempt);
        False when another run has moved it on meanwhile."""
        ...

    def put(self, tenant_id: str, subject_id: str, record: MessageRecord) -> None:
        """Records an entry unconditionally (the reminder schedule entries)."""
        ...

    def records(self, tenant_id: str, subject_id: str) -> list[MessageRecord]: ...
