"""The notification side of a deployment, wired in the test process as the local stack wires it: the real
reminders handler fed by the local dispatcher from the table's stream, reminder and retry timers read back
from EventBridge Scheduler, and what SES and SNS received read back through the local outbox."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from email import message_from_string, policy
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from local.aws import EmbeddedAws, LocalResources
from local.clock import DevClock
from local.dispatcher import Dispatcher
from local.outbox import Outbox
from tests.support.lambda_api import LambdaApi, LambdaContext
from tests.support.notification_fixtures import (
    Customer,
    ManualClock,
    Salon,
    book,
    reminder_schedules,
)

if TYPE_CHECKING:
    from reminders.container import Reminders

Aws = tuple[EmbeddedAws, LocalResources]


def context() -> Any:
    """The Lambda context the reminders function is invoked with."""
    return cast(Any, LambdaContext(function_name="RemindersFunction", remaining_millis=60_000))


# --- the notification side of the deployment, wired as the local stack wires it --------------------------


class Notifications:
    """The reminders function with its stream and schedules, an outbox of what SES and SNS received, and
    the booking API's admin and manage routes to look at the result. Built once per module (a Lambda
    container lives that long too); each test starts it afresh with `reset`."""

    def __init__(self, api: LambdaApi, aws: Aws, data_dir: Path) -> None:
        from reminders import handler

        self.api = api
        self.aws, self.resources = aws
        self.clock = ManualClock()
        self.handler = handler
        self.scheduler = self.aws.client("scheduler")
        self.container = self.default = self.install()
        self.outbox = Outbox(data_dir, DevClock(data_dir))
        self.outbox.attach()
        self.dispatcher = Dispatcher(
            self.aws,
            self.resources.table_name,
            self.resources.schedule_group,
            DevClock(data_dir),
            handler.lambda_handler,
        )

    def reset(self) -> None:
        """The real time on the test clock, the usual container, and the stream followed from now on."""
        self.clock.set(datetime.now(UTC))
        if self.container is not self.default:
            self.handler.install(self.default)
            self.container = self.default
        self.dispatcher.skip_to_latest()
        self.existing = self.schedule_names()
        self.earlier = {m["id"] for m in self.outbox.entries()}

    def clean_up(self) -> None:
        """Deletes the schedules the test left (the dispatcher reads every schedule in the group)."""
        for name in self.schedule_names() - self.existing:
            self.scheduler.delete_schedule(Name=name, GroupName=self.resources.schedule_group)

    def schedule_names(self) -> set[str]:
        pages = self.scheduler.get_paginator("list_schedules").paginate(
            GroupName=self.resources.schedule_group
        )
        return {s["Name"] for page in pages for s in page["Schedules"]}

    def install(self) -> Reminders:
        """A fresh reminders-function container (its own catalogue cache, today's environment): its booking
        messages read time from the test clock, the rest is built as on Lambda and shares their pipeline."""
        from reminders.container import Reminders

        self.container = Reminders(messages=Reminders(clock=self.clock).messages)
        self.handler.install(self.container)
        return self.container

    def deliver(self) -> list[dict[str, Any]]:
        """Delivers the stream's new records to the reminders function; returns what this test sent."""
        self.dispatcher.run_once()
        return self.sent()

    def sent(self) -> list[dict[str, Any]]:
        """Every message sent since the test began, newest first."""
        return [m for m in self.outbox.entries() if m["id"] not in self.earlier]

    def redeliver(self, records: list[dict[str, Any]]) -> None:
        result = self.handler.lambda_handler({"Records": records}, context())
        assert result == {"batchItemFailures": []}

    def schedules(self, booking_id: str) -> dict[str, dict[str, Any]]:
        return reminder_schedules(self.scheduler, self.resources.schedule_group, booking_id)

    def retry_timers(self, booking_id: str) -> list[dict[str, Any]]:
        """The booking's message retry timers in EventBridge Scheduler, soonest first."""
        timers = [
            self.scheduler.get_schedule(Name=name, GroupName=self.resources.schedule_group)
            for name in self.schedule_names()
            if name.startswith("msg-")
        ]
        mine = [t for t in timers if json.loads(t["Target"]["Input"])["booking_id"] == booking_id]
        return sorted(mine, key=lambda t: str(t["ScheduleExpression"]))

    def fire(self, schedule: dict[str, Any], handled: str = "reminder") -> None:
        """What EventBridge Scheduler does when the schedule is due: invoke its target with its input,
        at its time (the test clock moves there first)."""
        expression = schedule["ScheduleExpression"]
        self.clock.set(datetime.fromisoformat(expression[3:-1]).replace(tzinfo=UTC))
        payload = json.loads(schedule["Target"]["Input"])
        assert self.handler.lambda_handler(payload, context()) == {"handled": handled}

    def detail(self, salon: Salon, booking_id: str) -> dict[str, Any]:
        response = self.api.get(f"/v1/admin/bookings/{booking_id}", token=salon.tenant.token())
        assert response.status == 200, response.text
        detail: dict[str, Any] = response.json()
        return detail

    def log(self, salon: Salon, booking_id: str) -> list[dict[str, Any]]:
        communications: list[dict[str, Any]] = self.detail(salon, booking_id)["communications"]
        return communications

    def manage(self, booking: dict[str, Any], action: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.api.post(
            f"/v1/public/bookings/{booking['id']}/{action}?token={booking['manage_token']}", json_body=body
        )
        assert response.status == 200, response.text
        changed: dict[str, Any] = response.json()
        return changed


def entry(log: list[dict[str, Any]], kind: str, channel: str, **match: Any) -> dict[str, Any]:
    found = [
        e
        for e in log
        if e["kind"] == kind and e["channel"] == channel and all(e[k] == v for k, v in match.items())
    ]
    assert len(found) == 1, (kind, channel, match, log)
    return found[0]


def raw_email(message_id: str, region: str) -> Any:
    """The MIME message SES received, with every header."""
    backend = ses_backends[DEFAULT_ACCOUNT_ID][region]
    raw = next(m.raw_data for m in backend.sent_messages if m.id == message_id)
    return message_from_string(raw, policy=policy.default)


def booked(
    notifications: Notifications, salon: Salon, start: datetime, customer: Customer, staff: str = "any"
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Books through the public API and delivers the resulting change; returns the booking and the outbox."""
    booking = book(notifications.api, salon, start, customer, staff=staff)
    return booking, notifications.deliver()


# Tests that only book share one salon per module, each in its own four days of the diary (so their
# bookings never compete for a slot); tests that change settings or staff build their own.
DIARY = itertools.count(0, 4)
