"""What keeps failing ends in a queue, never in silence, and `ops/redrive.py` replays it safely: the local
dispatcher records a stream batch that failed through all its retries, and a timer that failed through
Lambda's, as AWS does; the redrive reads the batch back from the stream and invokes the real reminders
function, once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local.aws import EmbeddedAws, LocalResources
from local.clock import DevClock
from local.dispatcher import ASYNC_RETRY_PAUSES, DeadLetters, Dispatcher, lambda_context
from local.outbox import Outbox
from ops.redrive import redrive
from tests.support.lambda_api import LambdaApi
from tests.support.notification_fixtures import (
    MakeTenant,
    ManualClock,
    book,
    build_salon,
    emails,
    new_customer,
)

Aws = tuple[EmbeddedAws, LocalResources]


@pytest.fixture
def wired(
    api: LambdaApi, embedded_aws: Aws, tmp_path: Path
) -> Iterator[tuple[Dispatcher, Outbox, ManualClock, Any]]:
    from reminders import handler

    aws, resources = embedded_aws
    handler.services.clear()  # built as on Lambda, from the environment
    sqs = aws.client("sqs")
    for url in resources.queues.values():  # what earlier tests left (PurgeQueue allows one a minute)
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    clock = ManualClock(datetime.now(UTC))
    dispatcher = Dispatcher(
        aws,
        resources.table_name,
        resources.schedule_group,
        clock,  # type: ignore[arg-type]
        handler.lambda_handler,
        dead_letters=DeadLetters(
            sqs=sqs,
            stream_queue_url=resources.queues["StreamFailureQueue"],
            async_queue_url=resources.queues["InvocationFailureQueue"],
            stream_retries=2,
            async_retries=len(ASYNC_RETRY_PAUSES),
        ),
    )
    dispatcher.skip_to_latest()
    outbox = Outbox(tmp_path, DevClock(tmp_path))
    outbox.attach()
    yield dispatcher, outbox, clock, handler.lambda_handler
    outbox.detach()
    dispatcher.close()


def queued(aws: Aws, queue: str) -> list[dict[str, Any]]:
    sqs = aws[0].client("sqs")
    messages = sqs.receive_message(QueueUrl=aws[1].queues[queue], MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_a_stream_batch_failing_through_its_retries_is_queued_and_redriven_once(
    api: LambdaApi,
    make_tenant: MakeTenant,
    embedded_aws: Aws,
    wired: tuple[Dispatcher, Outbox, ManualClock, Any],
) -> None:
    dispatcher, outbox, _, handler = wired
    salon = build_salon(api, make_tenant)
    customer = new_customer()
    booking = book(api, salon, salon.at(salon.day(3), "10:00"), customer)
    dispatcher.failing_batches = 3  # the first try and both retries

    for _ in range(3):
        dispatcher.run_once()

    [failure] = queued(embedded_aws, "StreamFailureQueue")
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    batch = failure["DDBStreamBatchInfo"]
    assert int(batch["startSequenceNumber"]) <= int(batch["endSequenceNumber"])
    assert emails(outbox.entries(), customer.email) == []
    assert not dispatcher.pending()  # it moved on, as Lambda does

    def invoke(event: dict[str, Any]) -> dict[str, Any] | None:
        result: dict[str, Any] | None = handler(event, lambda_context())
        return result

    aws, resources = embedded_aws
    outcome = redrive(
        aws.client("sqs"), resources.queues["StreamFailureQueue"], aws.client("dynamodbstreams"), invoke
    )
    again = redrive(
        aws.client("sqs"), resources.queues["StreamFailureQueue"], aws.client("dynamodbstreams"), invoke
    )

    assert (len(outcome.replayed), outcome.failed, again.replayed) == (1, [], [])
    [confirmation] = [
        m for m in emails(outbox.entries(), customer.email) if m["subject"].startswith("Booking confirmed")
    ]
    assert booking["manage_url"] in confirmation["text"]


def test_a_timer_that_keeps_failing_is_retried_twice_then_queued_and_stays_while_it_fails(
    embedded_aws: Aws, wired: tuple[Dispatcher, Outbox, ManualClock, Any]
) -> None:
    dispatcher, _, clock, handler = wired
    aws, resources = embedded_aws
    scheduler = aws.client("scheduler")
    broken = {"type": "reminder", "tenant_id": "nobody"}  # a payload the function cannot read
    name = f"rem-broken-{int(clock.now().timestamp())}"
    scheduler.create_schedule(
        Name=name,
        GroupName=resources.schedule_group,
        ScheduleExpression=f"at({clock.now():%Y-%m-%dT%H:%M:%S})",
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": "arn:aws:lambda:eu-west-1:123456789012:function:x",
            "RoleArn": "arn:aws:iam::123456789012:role/x",
            "Input": json.dumps(broken),
        },
    )

    dispatcher.run_once()
    for pause in ASYNC_RETRY_PAUSES:
        assert queued(embedded_aws, "InvocationFailureQueue") == []
        clock.set(clock.now() + pause)
        dispatcher.run_once()

    [failure] = queued(embedded_aws, "InvocationFailureQueue")
    assert failure["requestPayload"] == broken
    assert failure["responsePayload"]["errorType"] == "KeyError"
    assert name not in {
        s["Name"] for s in scheduler.list_schedules(GroupName=resources.schedule_group)["Schedules"]
    }

    def invoke(event: dict[str, Any]) -> dict[str, Any] | None:
        result: dict[str, Any] | None = handler(event, lambda_context())
        return result

    outcome = redrive(
        aws.client("sqs"), resources.queues["InvocationFailureQueue"], aws.client("dynamodbstreams"), invoke
    )
    assert outcome.replayed == [] and len(outcome.failed) == 1, outcome
    assert len(queued(embedded_aws, "InvocationFailureQueue")) == 1  # still there, still alarming
