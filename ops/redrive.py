"""Replays what landed in a dead-letter queue, then deletes it from the queue.

    AWS_PROFILE=... python -m ops.redrive --queue-url <StreamFailureQueueUrl output> \\
        --function <stack>-reminders [--dry-run] [--max 100]

Three kinds of message, each recognised by its shape:

- a DynamoDB stream batch that failed after its retries (the stream mapping's on-failure destination):
  only its shard and sequence range are in the queue, so the records are read back from the stream
  (within its 24-hour retention) and handed to the function as the mapping would;
- an asynchronous invocation that failed three times (the function's on-failure destination): its
  original event (`requestPayload`) is invoked again;
- a timer the scheduler could not deliver (its dead-letter queue): the message is the timer's input, replayed
  as it is (`booking.adapters.scheduler.TIMER_TYPES`; a message's retry timer names its booking or booking
  request, and one set by an earlier version, which carried a request's id as `booking_id`, is read the same
  way: the function finds what the message is about in the communications log).

Replaying is safe by design: every message the function sends is claimed in the communications log
first, so what did go out before is not sent again, and a reminder or retry checks it is still due.
A message whose replay fails stays in the queue (and keeps the alarm on).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from booking.adapters.scheduler import TIMER_TYPES

Invoke = Callable[[dict[str, Any]], dict[str, Any] | None]
STREAM_KINDS = frozenset(
    {"booking", "booking_request", "login_code_request"}
)  # the stream mapping's filter (infra/template.yaml)


@dataclass
class Outcome:
    replayed: list[str] = field(default_factory=list)  # message ids
    failed: list[tuple[str, str]] = field(default_factory=list)  # (message id, why)
    unknown: list[str] = field(default_factory=list)


def stream_records(streams: Any, batch: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of a failed batch the function takes (the mapping's filter), read back from the stream."""
    start, end = int(batch["startSequenceNumber"]), int(batch["endSequenceNumber"])
    iterator = streams.get_shard_iterator(
        StreamArn=batch["streamArn"],
        ShardId=batch["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=batch["startSequenceNumber"],
    )["ShardIterator"]
    found: list[dict[str, Any]] = []
    while iterator:
        response = streams.get_records(ShardIterator=iterator, Limit=1000)
        records = response.get("Records", [])
        for record in records:
            if int(record["dynamodb"]["SequenceNumber"]) > end:
                return found
            if int(record["dynamodb"]["SequenceNumber"]) >= start and (
                (record["dynamodb"].get("NewImage") or {}).get("kind", {}).get("S") in STREAM_KINDS
            ):
                found.append({**record, "eventSourceARN": batch["streamArn"]})
        if not records:
            return found
        iterator = response.get("NextShardIterator")
    return found


def event_of(body: dict[str, Any], streams: Any) -> dict[str, Any] | None:
    """The event to invoke the function with, or None for a message this tool does not know."""
    if "DDBStreamBatchInfo" in body:
        return {"Records": stream_records(streams, body["DDBStreamBatchInfo"])}
    if "requestPayload" in body:
        payload: dict[str, Any] = body["requestPayload"]
        return payload
    if body.get("type") in TIMER_TYPES:
        return body
    return None


def _replay(message: dict[str, Any], streams: Any, invoke: Invoke, outcome: Outcome, dry_run: bool) -> bool:
    """Replays one message; True when it is done with (to be deleted from the queue)."""
    message_id = message["MessageId"]
    try:
        event = event_of(json.loads(message["Body"]), streams)
    except (ValueError, KeyError) as error:
        outcome.failed.append((message_id, f"unreadable: {error}"))
        return False
    if event is None:
        outcome.unknown.append(message_id)
        return False
    if dry_run:
        outcome.replayed.append(message_id)
        return False
    try:
        result = invoke(event) or {}
        if result.get("batchItemFailures"):
            raise RuntimeError(f"records failed again: {result['batchItemFailures']}")
    except Exception as error:  # the function failed again: the message stays
        outcome.failed.append((message_id, str(error)))
        return False
    outcome.replayed.append(message_id)
    return True


def redrive(
    sqs: Any, queue_url: str, streams: Any, invoke: Invoke, *, dry_run: bool = False, limit: int = 100
) -> Outcome:
    outcome = Outcome()
    seen: set[str] = set()
    held: list[dict[str, Any]] = []  # not replayed: hidden while this run lasts, visible once it ends
    while len(seen) < limit:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=300
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            if _replay(message, streams, invoke, outcome, dry_run):
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            else:
                held.append(message)
    for message in held:  # not replayed: back in the queue at once (and the alarm stays on)
        sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return outcome


def lambda_invoker(function_name: str) -> Invoke:
    client = boto3.client("lambda")

    def invoke(event: dict[str, Any]) -> dict[str, Any] | None:
        response = client.invoke(
            FunctionName=function_name, InvocationType="RequestResponse", Payload=json.dumps(event)
        )
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise RuntimeError(f"{response['FunctionError']}: {payload}")
        return payload if isinstance(payload, dict) else None

    return invoke


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.redrive", description=__doc__.split("\n\n")[0])
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--function", required=True, help="the reminders function's name or ARN")
    parser.add_argument("--dry-run", action="store_true", help="list what would be replayed; change nothing")
    parser.add_argument("--max", type=int, default=100, help="messages to look at, at most")
    args = parser.parse_args(argv)
    outcome = redrive(
        boto3.client("sqs"),
        args.queue_url,
        boto3.client("dynamodbstreams"),
        lambda_invoker(args.function),
        dry_run=args.dry_run,
        limit=args.max,
    )
    verb = "would replay" if args.dry_run else "replayed"
    print(
        f"{verb} {len(outcome.replayed)}, failed again {len(outcome.failed)}, not understood {len(outcome.unknown)}"
    )
    for message_id, why in outcome.failed:
        print(f"  failed {message_id}: {why}")
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
