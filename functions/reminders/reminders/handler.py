"""Reminders function: everything the business says to customers and staff after a booking changes.

Four triggers:
- the booking table's stream (committed changes): confirmations, reschedule and cancellation messages,
  staff notifications, and creating, moving or deleting the reminder schedules; the payment side of a
  change (payment timers set, an authorisation released or an unpaid intent cancelled when a booking is
  cancelled); and the sign-in codes customers asked for (issued and mailed only to a customer of the
  business);
- EventBridge Scheduler, when a reminder's one-time schedule fires: send it if still due;
- EventBridge Scheduler, when a message's retry timer fires: try it again if still unsettled;
- EventBridge Scheduler, when a payment timer fires (an authorisation about to lapse, an abandoned
  checkout): act if still due (services/payment_timers.py);
- booking requests (the stream's "booking_request" items, and their escalation timers): the business and
  the customer told of each change, and the dispatchers of a request left unanswered
  (services/request_notifications.py); a completed booking may onboard its customer for requests.

A send is started only while the invocation has time for it; otherwise the work is handed back (the
stream record reported as failed, the timer invocation failing) and runs again in a fresh invocation.

Importing this module costs little, because a cold start pays for it before anything else: the services
(`reminders.container`) are built by the first invocation or, with SnapStart, before the snapshot (`prime`),
and built again on the renewed AWS session after each restore (`restored`).
"""

from __future__ import annotations

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

    from booking.services.bookkeeping import Bookkeeping
    from booking.services.meetings import ProvisioningTrigger
    from booking.services.notifications import NotificationService
    from booking.services.payment_timers import PaymentTimers
    from booking.services.request_notifications import RequestNotifications
    from booking.services.sign_in import LoginCodeIssuer

logger = Logger()
_service: NotificationService | None = None
_login_codes: LoginCodeIssuer | None = None
_meetings: ProvisioningTrigger | None = None
_payments: PaymentTimers | None = None
_books: Bookkeeping | None = None
_requests: RequestNotifications | None = None
_processor: BatchProcessor | None = None


def install(
    service: NotificationService,
    login_codes: LoginCodeIssuer | None = None,
    meetings: ProvisioningTrigger | None = None,
    payments: PaymentTimers | None = None,
    books: Bookkeeping | None = None,
    requests: RequestNotifications | None = None,
) -> None:
    """The local stack installs services built with its dev clock; on Lambda they are built on first use."""
    global _service, _login_codes, _meetings, _payments, _books, _requests  # noqa: PLW0603 - one of each per environment
    _service = service
    _login_codes = login_codes
    _meetings = meetings
    _payments = payments
    _books = books
    _requests = requests


def service() -> NotificationService:
    global _service  # noqa: PLW0603
    if _service is None:
        from reminders.container import build_service  # noqa: PLC0415 - see the module docstring

        _service = build_service(books=books())  # one set of books: receipts attach what it issued
    return _service


def books() -> Bookkeeping:
    global _books  # noqa: PLW0603
    if _books is None:
        from reminders.container import build_bookkeeping  # noqa: PLC0415

        _books = build_bookkeeping()
    return _books


def login_codes() -> LoginCodeIssuer:
    global _login_codes  # noqa: PLW0603
    if _login_codes is None:
        from reminders.container import build_login_codes  # noqa: PLC0415

        _login_codes = build_login_codes()
    return _login_codes


def meetings() -> ProvisioningTrigger:
    global _meetings  # noqa: PLW0603
    if _meetings is None:
        from reminders.container import build_provisioning_trigger  # noqa: PLC0415

        _meetings = build_provisioning_trigger()
    return _meetings


def payments() -> PaymentTimers:
    global _payments  # noqa: PLW0603
    if _payments is None:
        from reminders.container import build_payment_timers  # noqa: PLC0415

        _payments = build_payment_timers()
    return _payments


def requests() -> RequestNotifications:
    global _requests  # noqa: PLW0603
    if _requests is None:
        from reminders.container import build_request_notifications  # noqa: PLC0415

        _requests = build_request_notifications()
    return _requests


def processor() -> BatchProcessor:
    global _processor  # noqa: PLW0603
    if _processor is None:
        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType  # noqa: PLC0415

        _processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    return _processor


def prime() -> None:
    """Before the snapshot: the services built (clients, no business's data cached), the stream's batch
    processor made and every message template compiled."""
    from booking import messages  # noqa: PLC0415

    service()
    books()
    login_codes()
    meetings()
    payments()
    requests()
    processor()
    messages.compile_templates()


def restored() -> None:
    """After each restore, on the renewed AWS session: services of this environment's own."""
    from reminders.container import (  # noqa: PLC0415 - loaded already
        build_bookkeeping,
        build_login_codes,
        build_payment_timers,
        build_provisioning_trigger,
        build_request_notifications,
        build_service,
    )

    books = build_bookkeeping()
    install(
        build_service(books=books),
        build_login_codes(),
        build_provisioning_trigger(),
        build_payment_timers(),
        books,
        build_request_notifications(),
    )


snapstart.on_snapshot(prime, restored)


def record_handler(record: DynamoDBRecord) -> None:
    from booking.adapters.dynamodb.booking_requests import request_in_image  # noqa: PLC0415 - loaded by requests()
    from booking.adapters.dynamodb.bookings import booking_in_image  # noqa: PLC0415 - loaded by service()

    change = record.dynamodb
    if change is None:
        return
    image = change.new_image or {}
    if image.get("kind") == "login_code_request":
        login_codes().issue_code(image["tenant_id"], image["email"], image["request_id"])
        return
    request = request_in_image(change.new_image)
    if request is not None:
        with request_logged(request.id):
            requests().request_changed(request_in_image(change.old_image), request)
        return
    new = booking_in_image(change.new_image)
    if new is None:
        return  # not a booking item (diary, locks, history...): the stream filter normally keeps these out
    old = booking_in_image(change.old_image)
    with booking_logged(new.id):
        # The books first: a receipt sent below attaches the invoice issued here.
        books().booking_changed(old, new)
        # The meeting next: its state machine starts at once, and the confirmation may wait for it.
        meetings().booking_changed(old, new)
        service().booking_changed(old, new)
        # A completed job may onboard its customer for booking requests (idempotent).
        requests().booking_changed(old, new)
        # Last: Stripe may be down, and the record is then delivered again (the messages above are
        # claimed already, so they go out once).
        payments().booking_changed(old, new)


@contextmanager
def booking_logged(booking_id: str) -> Iterator[None]:
    """The booking id on every log line of one record or event (the correlation id), and on no other:
    thread-local (the local stack runs the API beside this function) and removed when it is done."""
    logger.thread_safe_append_keys(booking_id=booking_id)
    try:
        yield
    finally:
        logger.thread_safe_remove_keys(["booking_id"])


@contextmanager
def request_logged(request_id: str) -> Iterator[None]:
    """A booking request's id on every log line of one record or event (its correlation id), as
    `booking_logged` does for a booking."""
    logger.thread_safe_append_keys(request_id=request_id)
    try:
        yield
    finally:
        logger.thread_safe_remove_keys(["request_id"])


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        # Every outside call and retry fits in what is left of the timeout (or fails, to be retried).
        with deadline.within(context.get_remaining_time_in_millis() / 1000):
            return _handle(event, context)
    finally:
        logger.clear_state()  # nothing of this invocation rides on the next log line, here or beside us


def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    notifications = service()
    notifications.delivery.time_left = lambda: context.get_remaining_time_in_millis() / 1000
    payments().delivery.time_left = notifications.delivery.time_left
    requests().delivery.time_left = notifications.delivery.time_left
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
        from booking.services.payment_timers import is_payment_message  # noqa: PLC0415 - loaded already
        from booking.services.request_notifications import is_request_message  # noqa: PLC0415

        if is_request_message(event["key"]):
            # a request's message: its log is under the request's id, carried as `booking_id`
            with request_logged(event["booking_id"]):
                requests().retry_message(
                    event["tenant_id"], event["booking_id"], event["key"], event["channel"]
                )
            return {"handled": "message_retry"}
        retried = payments() if is_payment_message(event["key"]) else notifications
        with booking_logged(event["booking_id"]):
            retried.retry_message(event["tenant_id"], event["booking_id"], event["key"], event["channel"])
        return {"handled": "message_retry"}
    if event.get("type") == "payment_timer":
        with booking_logged(event["booking_id"]):
            outcome = payments().fire(event)
        logger.info("payment timer", extra={"timer": event.get("timer"), "outcome": outcome})
        return {"handled": "payment_timer", "outcome": outcome}
    if event.get("type") == "request_escalation":
        with request_logged(event["request_id"]):
            outcome = requests().fire(event)
        logger.info("request escalation", extra={"n": event.get("n"), "outcome": outcome})
        return {"handled": "request_escalation", "outcome": outcome}
    from aws_lambda_powertools.utilities.batch import process_partial_response  # noqa: PLC0415

    failures = process_partial_response(
        event=event, record_handler=record_handler, processor=processor(), context=context
    )
    return dict(failures)
