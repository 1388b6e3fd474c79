"""Reminders function: everything the business says to customers and staff after a booking changes.

Three triggers:
- the booking table's stream (committed changes): confirmations, reschedule and cancellation messages,
  staff notifications, and creating, moving or deleting the reminder schedules; and the sign-in codes
  customers asked for (issued and mailed only to a customer of the business);
- EventBridge Scheduler, when a reminder's one-time schedule fires: send it if still due;
- EventBridge Scheduler, when a message's retry timer fires: try it again if still unsettled.

A send is started only while the invocation has time for it; otherwise the work is handed back (the
stream record reported as failed, the timer invocation failing) and runs again in a fresh invocation.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from booking.adapters import clients
from booking.adapters.cache import CachedCatalogue
from booking.adapters.dynamodb.bookings import DynamoBookingRepository
from booking.adapters.dynamodb.catalogue import DynamoCatalogueRepository
from booking.adapters.dynamodb.customers import DynamoCustomerRepository
from booking.adapters.dynamodb.messages import DynamoMessageLog
from booking.adapters.dynamodb.rate_limits import DynamoRateLimiter
from booking.adapters.dynamodb.sms_budget import DynamoSmsBudget
from booking.adapters.scheduler import EventBridgeScheduler
from booking.adapters.secrets import app_secret
from booking.adapters.ses import SesEmailSender
from booking.adapters.sessions import JwtCustomerSessions
from booking.adapters.sns import SnsSmsSender
from booking.adapters.system import SystemClock, UlidGenerator
from booking.domain.booking import Booking
from booking.domain.tokens import ManageTokens
from booking.ports import Clock
from booking.services.delivery import MessageDelivery
from booking.services.notifications import LoginCodeMailer, NotificationService
from booking.services.sign_in import SignIn

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
_service: NotificationService | None = None
_sign_in: SignIn | None = None


def build_service(clock: Clock | None = None) -> NotificationService:
    """From the environment: TABLE_NAME, PUBLIC_BASE_URL, SENDER_EMAIL, APP_SECRET(_PARAMETER),
    SCHEDULE_GROUP_NAME, REMINDERS_FUNCTION_ARN, SCHEDULER_ROLE_ARN, SCHEDULER_DLQ_ARN (optional)."""
    dynamodb = clients.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    clock = clock or SystemClock()
    timers = EventBridgeScheduler(
        clients.client("scheduler"),
        group_name=os.environ["SCHEDULE_GROUP_NAME"],
        target_arn=os.environ["REMINDERS_FUNCTION_ARN"],
        role_arn=os.environ["SCHEDULER_ROLE_ARN"],
        dead_letter_arn=os.environ.get("SCHEDULER_DLQ_ARN") or None,
    )
    log = DynamoMessageLog(dynamodb, table)
    return NotificationService(
        catalogue=CachedCatalogue(DynamoCatalogueRepository(dynamodb, table)),
        bookings=DynamoBookingRepository(dynamodb, table),
        customers=DynamoCustomerRepository(dynamodb, table),
        log=log,
        delivery=MessageDelivery(
            log=log,
            email=SesEmailSender(clients.client("sesv2"), os.environ["SENDER_EMAIL"]),
            sms=SnsSmsSender(clients.client("sns")),
            retries=timers,
            clock=clock,
        ),
        scheduler=timers,
        sms_budget=DynamoSmsBudget(dynamodb, table),
        tokens=ManageTokens(app_secret()),
        manage_base_url=os.environ["PUBLIC_BASE_URL"],
        sender_email=os.environ["SENDER_EMAIL"],
        clock=clock,
    )


def build_sign_in(clock: Clock | None = None) -> SignIn:
    """Issuing sign-in codes (asked for through the API, issued here from the stream)."""
    dynamodb = clients.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    secret = app_secret()
    return SignIn(
        catalogue=CachedCatalogue(DynamoCatalogueRepository(dynamodb, table)),
        customers=DynamoCustomerRepository(dynamodb, table),
        sessions=JwtCustomerSessions(secret),
        limiter=DynamoRateLimiter(dynamodb, table),
        notifier=LoginCodeMailer(SesEmailSender(clients.client("sesv2"), os.environ["SENDER_EMAIL"])),
        clock=clock or SystemClock(),
        ids=UlidGenerator(),
        code_secret=secret,
    )


def install(service: NotificationService, sign_in: SignIn | None = None) -> None:
    """The local stack installs services built with its dev clock; on Lambda they are built on first use."""
    global _service, _sign_in  # noqa: PLW0603 - one of each per container
    _service = service
    _sign_in = sign_in


def service() -> NotificationService:
    global _service  # noqa: PLW0603
    if _service is None:
        _service = build_service()
    return _service


def sign_in() -> SignIn:
    global _sign_in  # noqa: PLW0603
    if _sign_in is None:
        _sign_in = build_sign_in()
    return _sign_in


def _booking(image: dict[str, Any] | None) -> Booking | None:
    if not image or image.get("kind") != "booking":
        return None
    return Booking.model_validate_json(image["doc"]).model_copy(update={"version": int(image["version"])})


def record_handler(record: DynamoDBRecord) -> None:
    change = record.dynamodb
    if change is None:
        return
    image = change.new_image or {}
    if image.get("kind") == "login_code_request":
        sign_in().issue_code(image["tenant_id"], image["email"], image["request_id"])
        return
    new = _booking(change.new_image)
    if new is None:
        return  # not a booking item (diary, locks, history...): the stream filter normally keeps these out
    with booking_logged(new.id):
        service().booking_changed(_booking(change.old_image), new)


@contextmanager
def booking_logged(booking_id: str) -> Iterator[None]:
    """The booking id on every log line of one record or event (the correlation id), and on no other:
    thread-local (the local stack runs the API beside this function) and removed when it is done."""
    logger.thread_safe_append_keys(booking_id=booking_id)
    try:
        yield
    finally:
        logger.thread_safe_remove_keys(["booking_id"])


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return _handle(event, context)
    finally:
        logger.clear_state()  # nothing of this invocation rides on the next log line, here or beside us


def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    notifications = service()
    notifications.delivery.time_left = lambda: context.get_remaining_time_in_millis() / 1000
    if event.get("type") == "reminder":
        with booking_logged(event["booking_id"]):
            notifications.send_reminder(
                event["tenant_id"],
                event["booking_id"],
                int(event["minutes_before"]),
                datetime.fromisoformat(event["planned_start"]),
                event.get("channels", ["email", "sms"]),
            )
        return {"handled": "reminder"}
    if event.get("type") == "message_retry":
        with booking_logged(event["booking_id"]):
            notifications.retry_message(
                event["tenant_id"], event["booking_id"], event["key"], event["channel"]
            )
        return {"handled": "message_retry"}
    failures = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(failures)
