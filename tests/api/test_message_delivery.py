"""Delivery of one message through failures, on the embedded AWS with the real adapters: a throttled
provider retried by a timer with backoff until it gives up, a retry that no longer applies, a sender that
died between claim and send, an invocation without the time to send. The provider faults are the embedded
SES's own (`local.moto.faults`), so the SES client, its retries and the error codes are real."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from booking.adapters.dynamodb.messages import DynamoMessageLog
from booking.adapters.scheduler import whole_second
from booking.domain.communications import BACKOFF, MAX_ATTEMPTS, MessageRecord, MessageRequest
from local.moto import faults
from tests.support.lambda_api import LambdaContext
from tests.support.notification_fixtures import (
    Salon,
    StreamTap,
    book,
    emails,
    new_customer,
    texts,
    utc_instant,
)
from tests.support.notification_wiring import Notifications, booked, entry


@pytest.fixture
def throttled() -> Iterator[set[str]]:
    """Recipients the embedded SES/SNS throttle (every request, the SDK's own retries included)."""
    refused: set[str] = set()
    faults.refuse_to = refused
    yield refused
    faults.refuse_to = set()


def at_of(timer: dict[str, Any]) -> datetime:
    return utc_instant(timer["ScheduleExpression"][3:-1] + "Z")


def confirmation_emails(sent: list[dict[str, Any]], email: str) -> list[dict[str, Any]]:
    return [m for m in emails(sent, email) if m["subject"].startswith("Booking confirmed: ")]


def test_a_throttled_email_is_sent_by_its_retry_timer_once(
    notifications: Notifications, salon: Salon, throttled: set[str]
) -> None:
    customer = new_customer()
    throttled.add(customer.email)
    booking, sent = booked(notifications, salon, salon.at(salon.day(4), "10:00"), customer)

    assert emails(sent, customer.email) == [] and len(texts(sent, customer.phone)) == 1
    retrying = entry(notifications.log(salon, booking["id"]), "confirmation", "email")
    assert (retrying["status"], retrying["attempts"]) == ("retrying", 1)
    assert "TooManyRequestsException" in retrying["detail"]
    failed_at = notifications.clock.now()
    [timer] = notifications.retry_timers(booking["id"])
    assert utc_instant(retrying["next_attempt_at"]) == failed_at + BACKOFF[0]
    assert at_of(timer) == whole_second(failed_at + BACKOFF[0])  # never early
    payload = json.loads(timer["Target"]["Input"])
    assert payload == {
        "type": "message_retry",
        "tenant_id": salon.tenant.id,
        "booking_id": booking["id"],
        "key": retrying["key"],
        "channel": "email",
    }
    assert timer["ActionAfterCompletion"] == "DELETE"

    throttled.clear()  # SES recovers
    notifications.fire(timer, handled="message_retry")
    notifications.fire(timer, handled="message_retry")  # a second firing of the same timer

    assert len(confirmation_emails(notifications.sent(), customer.email)) == 1
    done = entry(notifications.log(salon, booking["id"]), "confirmation", "email")
    assert (done["status"], done["attempts"], done["detail"]) == ("sent", 2, None)
    assert done["provider_message_id"] == confirmation_emails(notifications.sent(), customer.email)[0]["id"]


def test_a_provider_that_keeps_failing_is_tried_five_times_with_backoff_then_failed(
    notifications: Notifications, salon: Salon, throttled: set[str]
) -> None:
    customer = new_customer()
    throttled.add(customer.email)
    booking, _ = booked(notifications, salon, salon.at(salon.day(4), "11:00"), customer)

    pauses = []
    for _ in range(MAX_ATTEMPTS - 1):
        [timer] = [
            t for t in notifications.retry_timers(booking["id"]) if at_of(t) > notifications.clock.now()
        ]
        pauses.append(at_of(timer) - whole_second(notifications.clock.now()))
        notifications.fire(timer, handled="message_retry")

    assert pauses == list(BACKOFF)
    failed = entry(notifications.log(salon, booking["id"]), "confirmation", "email")
    assert (failed["status"], failed["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert failed["detail"] == "SES refused the email: TooManyRequestsException (gave up after 5 attempts)"
    assert [
        t for t in notifications.retry_timers(booking["id"]) if at_of(t) > notifications.clock.now()
    ] == []
    assert emails(notifications.sent(), customer.email) == []
    assert notifications.detail(salon, booking["id"])["status"] == "confirmed"  # the booking stands


def test_a_retry_of_a_confirmation_for_a_booking_cancelled_since_is_skipped(
    notifications: Notifications, salon: Salon, throttled: set[str]
) -> None:
    customer = new_customer()
    throttled.add(customer.email)
    booking, _ = booked(notifications, salon, salon.at(salon.day(4), "12:00"), customer)
    [timer] = notifications.retry_timers(booking["id"])
    throttled.clear()
    notifications.manage(booking, "cancel", {"reason": "plans changed"})
    notifications.deliver()

    notifications.fire(timer, handled="message_retry")

    mine = emails(notifications.sent(), customer.email)
    assert [m["subject"].split(":")[0] for m in mine] == ["Booking cancelled"]
    skipped = entry(notifications.log(salon, booking["id"]), "confirmation", "email")
    assert skipped["status"] == "skipped"
    assert skipped["detail"] == "the booking was cancelled since; the cancellation says so"


def test_a_claim_left_by_a_sender_that_died_is_taken_over_after_its_lease(
    notifications: Notifications, salon: Salon
) -> None:
    customer = new_customer()
    tap = StreamTap(notifications.aws, notifications.resources.table_name)
    booking = book(notifications.api, salon, salon.at(salon.day(4), "13:00"), customer)
    [change] = tap.records()
    # A reminders function claimed the confirmation email and died before sending it: what it left.
    start = utc_instant(booking["start"])
    died = MessageRecord(
        key="confirmation@v1",
        kind="confirmation",
        channel="email",
        recipient=customer.email,
        status="sending",
        at=notifications.clock.now(),
        request=MessageRequest(
            kind="confirmation", invite="REQUEST", about_start=start, about_staff_id=booking["staff"]["id"]
        ),
    ).claim(notifications.clock.now())
    log = DynamoMessageLog(notifications.aws.client("dynamodb"), notifications.resources.table_name)
    assert log.claim(salon.tenant.id, booking["id"], died)

    notifications.redeliver([change])  # Lambda retries the failed invocation's batch

    assert emails(notifications.sent(), customer.email) == []  # its lease has not run out: left alone
    assert len(texts(notifications.sent(), customer.phone)) == 1  # the rest of the change went out
    [timer] = notifications.retry_timers(booking["id"])
    assert at_of(timer) == whole_second(died.lease_until or start)

    notifications.fire(timer, handled="message_retry")

    [email] = confirmation_emails(notifications.sent(), customer.email)
    taken = entry(notifications.log(salon, booking["id"]), "confirmation", "email")
    assert (taken["status"], taken["attempts"], taken["provider_message_id"]) == ("sent", 2, email["id"])
    assert email["attachments"][0]["method"] == "REQUEST"  # rendered again from what the claim recorded


def test_no_send_starts_without_the_time_to_finish_it(notifications: Notifications, salon: Salon) -> None:
    customer = new_customer()
    tap = StreamTap(notifications.aws, notifications.resources.table_name)
    booking = book(notifications.api, salon, salon.at(salon.day(4), "14:00"), customer)
    [change] = tap.records()
    hurried = cast(Any, LambdaContext(function_name="RemindersFunction", remaining_millis=10_000))

    # the whole batch failed, so the invocation fails and Lambda delivers the batch again
    with pytest.raises(BatchProcessingError, match="less than 25 s left"):
        notifications.handler.lambda_handler({"Records": [change]}, hurried)

    assert notifications.log(salon, booking["id"]) == []  # nothing claimed, nothing half-done
    notifications.redeliver([change])  # a fresh invocation
    assert len(confirmation_emails(notifications.sent(), customer.email)) == 1
