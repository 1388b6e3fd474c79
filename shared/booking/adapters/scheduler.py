"""Timers as EventBridge Scheduler one-time schedules: at(time), deterministic names, deleted after they
fire, each target with a retry policy and (when configured) a dead-letter queue. Reminders, message
retries, the payment timers (services/payments/timers.py) and booking requests' escalations all invoke the
reminders function. Creating one that exists, or deleting one that is gone, is not an error.

A message's retry timer names the message in its subject's log: `booking_id` or `request_id`, its `key` and
`channel`. Timers set before requests' retries named their own field carried a request's id as
`booking_id`; they are read the same way (`retry_of`), since the pipeline finds what a message is about in
the log, by its kind."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from booking.domain.communications import About
from booking.domain.reminders import PlannedReminder

# What the reminders function is invoked with by a timer (`type`); ops/redrive.py replays these.
TIMER_TYPES = frozenset({"reminder", "message_retry", "payment_timer", "request_escalation"})


def reminder_payload(reminder: PlannedReminder) -> dict[str, Any]:
    """What the reminders function receives when a reminder's schedule fires."""
    return {
        "type": "reminder",
        "tenant_id": reminder.tenant_id,
        "booking_id": reminder.booking_id,
        "minutes_before": reminder.minutes_before,
        "planned_start": reminder.planned_start.isoformat(),
        "channels": list(reminder.channels),
    }


def retry_payload(tenant_id: str, about: About, subject_id: str, key: str, channel: str) -> dict[str, Any]:
    """What the reminders function receives when a message's retry timer fires."""
    return {
        "type": "message_retry",
        "tenant_id": tenant_id,
        f"{about}_id": subject_id,
        "key": key,
        "channel": channel,
    }


@dataclass(frozen=True)
class MessageRetry:
    """A message's retry timer, as fired: which message of which booking's or request's log."""

    tenant_id: str
    about: About
    subject_id: str
    key: str
    channel: str


def retry_of(payload: dict[str, Any]) -> MessageRetry:
    """The retry `retry_payload` made (or an older timer: a request's id as `booking_id`, see above)."""
    about: About = "request" if "request_id" in payload else "booking"
    return MessageRetry(
        tenant_id=str(payload["tenant_id"]),
        about=about,
        subject_id=str(payload[f"{about}_id"]),
        key=str(payload["key"]),
        channel=str(payload["channel"]),
    )


def whole_second(instant: datetime) -> datetime:
    """The instant rounded up to a whole second, in UTC (at() expressions have no fractions)."""
    utc = instant.astimezone(UTC)
    return utc if utc.microsecond == 0 else utc.replace(microsecond=0) + timedelta(seconds=1)


def retry_name(tenant_id: str, subject_id: str, key: str, channel: str, at: datetime) -> str:
    """Deterministic (<= 64 chars, [0-9A-Za-z_.-]): one timer per message and time."""
    digest = hashlib.sha256(f"{tenant_id}|{subject_id}|{key}|{channel}".encode()).hexdigest()[:32]
    return f"msg-{digest}-{int(whole_second(at).timestamp())}"


@dataclass(frozen=True)
class EventBridgeScheduler:
    client: Any  # boto3 scheduler client
    group_name: str
    target_arn: str  # the reminders function
    role_arn: str  # lets the scheduler invoke it (and write to the dead-letter queue)
    dead_letter_arn: str | None = None  # where an invocation that keeps failing ends up

    def _at(self, name: str, when: datetime, payload: dict[str, Any]) -> None:
        """`when` as an at() expression, whole seconds, never before `when` (a timer must not fire early)."""
        target: dict[str, Any] = {
            "Arn": self.target_arn,
            "RoleArn": self.role_arn,
            "Input": json.dumps(payload),
            "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
        }
        if self.dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": self.dead_letter_arn}
        try:
            self.client.create_schedule(
                Name=name,
                GroupName=self.group_name,
                ScheduleExpression=f"at({whole_second(when).strftime('%Y-%m-%dT%H:%M:%S')})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target=target,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConflictException":
                raise

    # --- ReminderScheduler ------------------------------------------------------------------------------

    def schedule(self, reminder: PlannedReminder) -> None:
        self._at(reminder.name, reminder.send_at, reminder_payload(reminder))

    def cancel(self, reminder: PlannedReminder) -> None:
        try:
            self.client.delete_schedule(Name=reminder.name, GroupName=self.group_name)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise

    # --- RetryScheduler ---------------------------------------------------------------------------------

    def schedule_retry(
        self, tenant_id: str, about: About, subject_id: str, key: str, channel: str, at: datetime
    ) -> None:
        self._at(
            retry_name(tenant_id, subject_id, key, channel, at),
            at,
            retry_payload(tenant_id, about, subject_id, key, channel),
        )

    # --- TimerScheduler (payment timers, escalations: their names and payloads are the services') ------

    def schedule_at(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        self._at(name, at, payload)
