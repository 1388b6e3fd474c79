"""Reminders as EventBridge Scheduler one-time schedules: at(send time), deterministic names, deleted
after they fire. Creating one that exists, or deleting one that is gone, is not an error."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from booking.domain.reminders import PlannedReminder


def reminder_payload(reminder: PlannedReminder) -> dict[str, Any]:
    """What the reminders function receives when the schedule fires."""
    return {
        "type": "reminder",
        "tenant_id": reminder.tenant_id,
        "booking_id": reminder.booking_id,
        "minutes_before": reminder.minutes_before,
        "planned_start": reminder.planned_start.isoformat(),
        "channels": list(reminder.channels),
    }


@dataclass(frozen=True)
class EventBridgeReminderScheduler:
    client: Any  # boto3 scheduler client
    group_name: str
    target_arn: str  # the reminders function
    role_arn: str  # lets the scheduler invoke it

    def schedule(self, reminder: PlannedReminder) -> None:
        try:
            self.client.create_schedule(
                Name=reminder.name,
                GroupName=self.group_name,
                ScheduleExpression=f"at({reminder.send_at.strftime('%Y-%m-%dT%H:%M:%S')})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target={
                    "Arn": self.target_arn,
                    "RoleArn": self.role_arn,
                    "Input": json.dumps(reminder_payload(reminder)),
                    "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConflictException":
                raise

    def cancel(self, reminder: PlannedReminder) -> None:
        try:
            self.client.delete_schedule(Name=reminder.name, GroupName=self.group_name)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
