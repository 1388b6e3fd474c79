"""Reminder cadence: when a booking's reminders go out and on which channels.

A business sets a list of reminders (each an offset before the start and its channels); a service may
override it. Each planned reminder has a deterministic name, so scheduling it twice is harmless and
finding it again to move or delete it needs no lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field, field_validator

from booking.domain.booking import Booking, BookingStatus
from booking.domain.types import Model

Channel = Literal["email", "sms"]
# Reminders go out for bookings in these states; a cancelled or finished booking is never reminded.
REMINDABLE: frozenset[BookingStatus] = frozenset({BookingStatus.CONFIRMED, BookingStatus.PENDING})


class ReminderRule(Model):
    minutes_before: Annotated[int, Field(ge=1, le=60 * 24 * 30)]
    channels: list[Channel] = Field(min_length=1, max_length=2)

    @field_validator("channels")
    @classmethod
    def _unique(cls, value: list[Channel]) -> list[Channel]:
        if len(set(value)) != len(value):
            raise ValueError("a channel is listed twice")
        return value


DEFAULT_REMINDERS: tuple[ReminderRule, ...] = (
    ReminderRule(minutes_before=24 * 60, channels=["email", "sms"]),
    ReminderRule(minutes_before=60, channels=["email", "sms"]),
)

# Online bookings: the link matters more than a door does, so three by default (the same day included).
ONLINE_DEFAULT_REMINDERS: tuple[ReminderRule, ...] = (
    ReminderRule(minutes_before=3 * 24 * 60, channels=["email", "sms"]),
    ReminderRule(minutes_before=24 * 60, channels=["email", "sms"]),
    ReminderRule(minutes_before=60, channels=["email", "sms"]),
)


@dataclass(frozen=True)
class PlannedReminder:
    tenant_id: str
    booking_id: str
    minutes_before: int
    planned_start: datetime  # the start this reminder is about; if the booking moves, it is stale
    send_at: datetime
    channels: tuple[Channel, ...]

    @property
    def name(self) -> str:
        """Deterministic EventBridge Scheduler name (<= 64 chars, [0-9A-Za-z_.-])."""
        return f"rem-{self.booking_id}-{self.minutes_before}m-{int(self.planned_start.timestamp())}"

    @property
    def key(self) -> str:
        """Identifies this reminder for this start in the communications log."""
        return f"reminder-{self.minutes_before}m@{self.planned_start.isoformat()}"


def plan_reminders(
    booking: Booking, rules: tuple[ReminderRule, ...] | list[ReminderRule], now: datetime
) -> list[PlannedReminder]:
    """The reminders still to send for `booking`: none for an inactive booking, none in the past."""
    if booking.status not in REMINDABLE:
        return []
    planned = []
    for rule in sorted(rules, key=lambda r: -r.minutes_before):
        send_at = booking.start - timedelta(minutes=rule.minutes_before)
        if send_at <= now:
            continue
        planned.append(
            PlannedReminder(
                tenant_id=booking.tenant_id,
                booking_id=booking.id,
                minutes_before=rule.minutes_before,
                planned_start=booking.start,
                send_at=send_at,
                channels=tuple(rule.channels),
            )
        )
    return planned


def still_due(
    booking: Booking, minutes_before: int, planned_start: datetime, now: datetime | None = None
) -> str | None:
    """Why a reminder firing `now` must not be sent (None when it should be): state is checked at send
    time, never trusted from the schedule. A reminder arriving once the appointment has begun (a retried
    or late invocation) would only confuse."""
    if booking.status not in REMINDABLE:
        return f"booking is {booking.status.value}"
    if booking.start != planned_start:
        return "booking was moved; the reminder for its new time is scheduled separately"
    if now is not None and now >= booking.start:
        return "the appointment has already begun"
    return None
