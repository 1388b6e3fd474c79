"""Does locally what AWS does for us in the cloud: delivers the booking table's stream to the reminders
function, and fires EventBridge Scheduler one-time schedules when they are due by the dev clock. Both are
read through the same boto3 APIs the functions use, and the same handler is invoked, so nothing in the
application knows it is local.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from local.aws import EmbeddedAws
from local.clock import DevClock
from local.outbox import Outbox

logger = logging.getLogger("local.dispatcher")
Handler = Callable[[dict[str, Any], Any], Any]


class _Context:
    function_name = "RemindersFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:RemindersFunction"
    aws_request_id = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _due_at(expression: str, zone: str) -> datetime | None:
    """The instant of an `at(yyyy-mm-ddThh:mm:ss)` expression (in the schedule's time zone)."""
    if not expression.startswith("at(") or not expression.endswith(")"):
        return None
    local = datetime.fromisoformat(expression[3:-1])
    if zone in ("", "UTC"):
        return local.replace(tzinfo=UTC)
    from zoneinfo import ZoneInfo

    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


class Dispatcher:
    def __init__(
        self,
        aws: EmbeddedAws,
        table_name: str,
        schedule_group: str,
        clock: DevClock,
        handler: Handler,
        outbox: Outbox,
    ) -> None:
        self._dynamodb = aws.client("dynamodb")
        self._streams = aws.client("dynamodbstreams")
        self._scheduler = aws.client("scheduler")
        self._table = table_name
        self._group = schedule_group
        self._clock = clock
        self._handler = handler
        self._outbox = outbox
        self._iterators: dict[str, str] = {}
        self._schedules: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def follow_stream_from_now(self) -> None:
        """Starts at the end of the stream: what is already in the table (e.g. restored) is old news."""
        arn = self._dynamodb.describe_table(TableName=self._table)["Table"]["LatestStreamArn"]
        self._stream_arn = arn
        for shard in self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            self._iterators[shard["ShardId"]] = self._streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]

    def run_once(self) -> None:
        with self._lock:
            self._deliver_stream()
            self._fire_due_schedules()
            self._outbox.collect()

    def _deliver_stream(self) -> None:
        for shard_id, iterator in list(self._iterators.items()):
            response = self._streams.get_records(ShardIterator=iterator)
            records = [
                {**record, "eventSourceARN": self._stream_arn}
                for record in response.get("Records", [])
                # The same filter the template puts on the event source mapping: booking items only.
                if (record["dynamodb"].get("NewImage") or {}).get("kind") == {"S": "booking"}
            ]
            if records:
                # As Lambda's event source mapping does, a batch that fails is delivered again (the
                # consumer is idempotent): the shard's position moves on only once it succeeded.
                try:
                    result = self._handler({"Records": records}, _Context())
                except Exception:
                    logger.exception("stream batch failed; it will be delivered again")
                    continue
                if result and result.get("batchItemFailures"):
                    logger.error(
                        "stream records failed, to be delivered again: %s", result["batchItemFailures"]
                    )
                    continue
            self._iterators[shard_id] = response["NextShardIterator"]

    def _fire_due_schedules(self) -> None:
        now = self._clock.now()
        listed: set[str] = set()
        paginator = self._scheduler.get_paginator("list_schedules")
        for page in paginator.paginate(GroupName=self._group):
            for summary in page["Schedules"]:
                name = summary["Name"]
                listed.add(name)
                # A one-time schedule never changes once made (a moved reminder gets a new name), so its
                # details are read once, not on every pass: a diary full of reminders stays cheap.
                if name not in self._schedules:
                    self._schedules[name] = self._scheduler.get_schedule(Name=name, GroupName=self._group)
                schedule = self._schedules[name]
                due = _due_at(
                    schedule["ScheduleExpression"], schedule.get("ScheduleExpressionTimezone", "UTC")
                )
                if due is None or due > now:
                    continue
                self._handler(json.loads(schedule["Target"]["Input"]), _Context())
                if schedule.get("ActionAfterCompletion") == "DELETE":
                    self._scheduler.delete_schedule(Name=name, GroupName=self._group)
                    listed.discard(name)
        for gone in set(self._schedules) - listed:
            del self._schedules[gone]

    def start(self, interval: float = 0.5) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.run_once()
                except Exception:  # keep dispatching; the error is visible in the dev server's log
                    logger.exception("dispatch failed")

        self._thread = threading.Thread(target=loop, name="dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
