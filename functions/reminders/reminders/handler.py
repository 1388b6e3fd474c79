"""Reminders function: everything the business says to customers and staff after a booking changes.

Four triggers:
- the booking table's stream (committed changes): confirmations, reschedule and cancellation messages,
  staff notifications, and creating, moving or deleting the reminder schedules; the payment side of a
  change (payment timers set, an authorisation released or an unpaid intent cancelled when a booking is
  cancelled); and the sign-in codes customers asked for (issued and mailed only to a customer of the
  business);
- EventBridge Scheduler, when a reminder's one-time schedule fires: send it if still due;
- EventBridge Scheduler, when a message's retry timer fires: the one message pipeline tries it again if
  still unsettled, whatever its kind (services/messaging/pipeline.py);
- EventBridge Scheduler, when a payment timer fires (an authorisation about to lapse, an abandoned
  checkout): act if still due (services/payments/timers.py);
- booking requests (the stream's "booking_request" items, and their escalation timers): the business and
  the customer told of each change, and the dispatchers of a request left unanswered
  (services/messaging/requests.py); a completed booking may onboard its customer for requests.

Every message goes through one pipeline (services/messaging/), built once with the booking messages and
shared by the payment timers and the booking requests' messages (reminders/container.py). The order in
which a committed change reaches its consumers is services/committed_changes.py's.

A send is started only while the invocation has time for it; otherwise the work is handed back (the
stream record reported as failed, the timer invocation failing) and runs again in a fresh invocation.

Importing this module costs little, because a cold start pays for it before anything else: the services
(`reminders.container.Reminders`) are built by the first invocation or, with SnapStart, before the snapshot
(`prime`), and built again on the renewed AWS session after each restore (`restored`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from booking import deadline
from booking.adapters import snapstart

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BatchProcessor
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from reminders.container import Reminders

logger = Logger()


def _from_environment() -> Reminders:
    from reminders.container import Reminders  # noqa: PLC0415 - see the module docstring

    return Reminders()


# The function's services, one set per environment.
services: snapstart.PerEnvironment[Reminders] = snapstart.PerEnvironment(_from_environment)


def install(reminders: Reminders) -> None:
    """The local stack installs services built on its dev clock, a test its own; on Lambda they are built
    on first use."""
    services.install(reminders)


@functools.cache
def processor() -> BatchProcessor:
    """The stream's batch processor, made once per environment."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType  # noqa: PLC0415

    return BatchProcessor(event_type=EventType.DynamoDBStreams)


def prime() -> None:
    """Before the snapshot: the services built (clients, no business's data cached), the stream's batch
    processor made and every message template compiled."""
    from booking.rendering import messages  # noqa: PLC0415

    services().build_all()
    processor()
    messages.compile_templates()


def restored() -> None:
    """After each restore, on the renewed AWS session: services of this environment's own (clients, the app
    secret read afresh, empty caches)."""
    services.renew().build_all()


snapstart.on_snapshot(prime, restored)


def record_handler(record: DynamoDBRecord) -> None:
    from booking.adapters.dynamodb.booking_requests import request_in_image  # noqa: PLC0415 - loaded with the services
    from booking.adapters.dynamodb.bookings import booking_in_image  # noqa: PLC0415

    change = record.dynamodb
    if change is None:
        return
    changes = services().committed_changes
    image = change.new_image or {}
    if image.get("kind") == "login_code_request":
        changes.login_code_requested(image["tenant_id"], image["email"], image["request_id"])
        return
    request = request_in_image(change.new_image)
    if request is not None:
        with logged("request", request.id):
            changes.request_changed(request_in_image(change.old_image), request)
        return
    new = booking_in_image(change.new_image)
    if new is None:
        return  # not a booking item (diary, locks, history...): the stream filter normally keeps these out
    with logged("booking", new.id):
        changes.booking_changed(booking_in_image(change.old_image), new)


@contextmanager
def logged(about: str, subject_id: str) -> Iterator[None]:
    """The booking's (`booking_id`) or booking request's (`request_id`) id on every log line of one record
    or event (the correlation id), and on no other: thread-local (the local stack runs the API beside this
    function) and removed when it is done."""
    name = f"{about}_id"
    logger.thread_safe_append_keys(**{name: subject_id})
    try:
        yield
    finally:
        logger.thread_safe_remove_keys([name])


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        # Every outside call and retry fits in what is left of the timeout (or fails, to be retried).
        with deadline.within(context.get_remaining_time_in_millis() / 1000):
            return _handle(event, context)
    finally:
        logger.clear_state()  # nothing of this invocation rides on the next log line, here or beside us


def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A send starts only while the deadline (`lambda_handler`) leaves it the time to finish.
    if event.get("type") == "reminder":
        with logged("booking", event["booking_id"]):
            services().messages.send_reminder(
                event["tenant_id"],
                event["booking_id"],
                int(event["minutes_before"]),
                datetime.fromisoformat(event["planned_start"]),
                event.get("channels", ["email", "sms"]),
            )
        return {"handled": "reminder"}
    if event.get("type") == "message_retry":
        from booking.adapters.scheduler import retry_of  # noqa: PLC0415 - loaded already

        retry = retry_of(event)  # whatever the message's kind: the pipeline reads it from the log
        with logged(retry.about, retry.subject_id):
            services().pipeline.retry(retry.tenant_id, retry.subject_id, retry.key, retry.channel)
        return {"handled": "message_retry"}
    if event.get("type") == "payment_timer":
        with logged("booking", event["booking_id"]):
            outcome = services().payments.fire(event)
        logger.info("payment timer", extra={"timer": event.get("timer"), "outcome": outcome})
        return {"handled": "payment_timer", "outcome": outcome}
    if event.get("type") == "request_escalation":
        with logged("request", event["request_id"]):
            outcome = services().requests.fire(event)
        logger.info("request escalation", extra={"n": event.get("n"), "outcome": outcome})
        return {"handled": "request_escalation", "outcome": outcome}
    from aws_lambda_powertools.utilities.batch import process_partial_response  # noqa: PLC0415

    failures = process_partial_response(
        event=event, record_handler=record_handler, processor=processor(), context=context
    )
    return dict(failures)
