"""Does locally what AWS does for us in the cloud: Lambda's event source mapping delivers the booking table's
stream to the reminders function, and EventBridge Scheduler fires one-time schedules when they are due by
the dev clock. Records and schedules are read through the same boto3 APIs the functions use, and the same
handler is invoked, so nothing in the application knows it is local.

Delivery never skips a record: the position in each shard is a checkpoint (the last delivered sequence
number) kept in the data directory and written only after the handler succeeded, so a failed batch, a
restart or a crash of the handler means the same records are delivered again (the handler is idempotent).
A failed batch is retried with backoff; with `ReportBatchItemFailures`, from the first failed record, as
Lambda does. After the template's MaximumRetryAttempts the batch goes to the on-failure queue, and a timer
that keeps failing to the function's failure queue, as on AWS (without Lambda's bisecting of a batch).
Iterators are re-created from the checkpoint whenever the stream or its shards change.

Schedules: the dispatcher learns of created and deleted schedules from the embedded AWS as they happen
(`local.moto.subscribe`), so a diary with thousands of pending reminders costs nothing per pass;
it lists the group once, at its first pass, for schedules made before it started.

Clock watchers: what outside AWS keeps time by the dev clock (localstripe, whose authorisations lapse
after 7 days: `local/stripe_clock.py`) is told the dev clock's now on each pass, after the schedules; a
watcher that fails is logged and never fails the pass.
"""

from __future__ import annotations

import heapq
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from local.aws import EmbeddedAws
from local.clock import DevClock
from local.moto import Commit, ScheduleChange, stream_end, subscribe, trim_stream
from local.persistence import CHECKPOINT_FILE
from local.template import stream_kinds

logger = logging.getLogger("local.dispatcher")
Handler = Callable[[dict[str, Any], Any], Any]
STREAM_BATCH_SIZE = 25  # the template's BatchSize (the dev server passes what the template says)
MAX_BACKOFF_SECONDS = 30.0


class _Context:
    function_name = "RemindersFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:RemindersFunction"
    aws_request_id = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def lambda_context() -> Any:
    """The context the reminders function is invoked with locally."""
    return _Context()


def _due_at(expression: str, zone: str) -> datetime | None:
    """The instant of an `at(yyyy-mm-ddThh:mm:ss)` expression (in the schedule's time zone)."""
    if not expression.startswith("at(") or not expression.endswith(")"):
        return None
    local = datetime.fromisoformat(expression[3:-1])
    if zone in ("", "UTC"):
        return local.replace(tzinfo=UTC)
    from zoneinfo import ZoneInfo

    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _backoff(failures: int) -> float:
    return float(min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** (failures - 1)))


class Checkpoints:
    """The last delivered sequence number per table, in the data directory (or only in memory); and,
    per table, the first record of a batch sent to the failure queue, which is kept in the stream (as
    DynamoDB keeps records 24 hours) so that `ops/redrive.py` can read it back."""

    def __init__(self, data_dir: Path | None) -> None:
        self._file = data_dir / CHECKPOINT_FILE if data_dir is not None else None
        self.tables: dict[str, int] = {}
        self.held: dict[str, int] = {}
        if self._file is not None and self._file.exists():
            saved = json.loads(self._file.read_text(encoding="utf-8"))
            self.tables = {table: int(seq) for table, seq in saved["tables"].items()}
            self.held = {table: int(seq) for table, seq in saved.get("held", {}).items()}

    def advance(self, table: str, sequence: int) -> None:
        self.tables[table] = sequence
        self._save()

    def hold(self, table: str, sequence: int) -> None:
        self.held.setdefault(table, sequence)
        self._save()

    def trimmable(self, table: str) -> int:
        """The last record that may be dropped from the stream."""
        delivered = self.tables.get(table, -1)
        return min(delivered, self.held[table] - 1) if table in self.held else delivered

    def _save(self) -> None:
        if self._file is None:
            return
        saved = {
            "tables": {t: str(s) for t, s in self.tables.items()},
            "held": {t: str(s) for t, s in self.held.items()},
        }
        tmp = self._file.with_suffix(".tmp")
        tmp.write_text(json.dumps(saved), encoding="utf-8")
        os.replace(tmp, self._file)


@dataclass(frozen=True)
class DeadLetters:
    """Where Lambda records what keeps failing, as the template configures it (local queues)."""

    sqs: Any
    stream_queue_url: str  # a stream batch still failing after `stream_retries` retries
    async_queue_url: str  # a timer invocation still failing after `async_retries` retries
    stream_retries: int
    async_retries: int

    def stream_batch(self, arn: str, shard_id: str, records: list[dict[str, Any]], attempts: int) -> None:
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        self._send(
            self.stream_queue_url,
            {
                "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts},
                "DDBStreamBatchInfo": {
                    "shardId": shard_id,
                    "startSequenceNumber": first["SequenceNumber"],
                    "endSequenceNumber": last["SequenceNumber"],
                    "batchSize": len(records),
                    "streamArn": arn,
                },
            },
        )

    def invocation(self, payload: dict[str, Any], error: Exception, attempts: int) -> None:
        self._send(
            self.async_queue_url,
            {
                "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": attempts},
                "requestPayload": payload,
                "responseContext": {"functionError": "Unhandled"},
                "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
            },
        )

    def _send(self, queue_url: str, record: dict[str, Any]) -> None:
        record = {"version": "1.0", "timestamp": datetime.now(UTC).isoformat(), **record}
        self.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record))


# Lambda's pauses before retrying a failed asynchronous invocation.
ASYNC_RETRY_PAUSES = (timedelta(minutes=1), timedelta(minutes=2))


@dataclass
class _Shard:
    iterator: str | None = None
    failures: int = 0
    retry_at: float = 0.0


class Dispatcher:
    def __init__(
        self,
        aws: EmbeddedAws,
        table_name: str,
        schedule_group: str,
        clock: DevClock,
        handler: Handler,
        data_dir: Path | None = None,
        trim_delivered: bool = False,
        dead_letters: DeadLetters | None = None,
        batch_size: int = STREAM_BATCH_SIZE,
        kinds: frozenset[str] | None = None,
        clock_watchers: Sequence[Callable[[datetime], object]] = (),
    ) -> None:
        self._dynamodb = aws.client("dynamodb")
        self._streams = aws.client("dynamodbstreams")
        self._scheduler = aws.client("scheduler")
        self._table = table_name
        self._group = schedule_group
        self._clock = clock
        self._handler = handler
        self._trim = trim_delivered  # the dev server trims; tests may read the stream themselves
        self._dead_letters = dead_letters  # without: retry for ever (tests that drive failures themselves)
        self._batch_size = batch_size
        self._kinds = (
            kinds if kinds is not None else stream_kinds()
        )  # the mapping's filter, from the template
        self._clock_watchers = tuple(clock_watchers)
        self.checkpoints = Checkpoints(data_dir)
        self._stream_arn: str | None = None
        self._shards: dict[str, _Shard] = {}
        self._due: list[tuple[datetime, str]] = []  # heap of (due, schedule name)
        self._schedules: dict[str, datetime] = {}  # name -> due, for schedules that exist
        self._schedule_failures: dict[str, int] = {}
        self._listed = False
        self._index_lock = threading.Lock()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.failing_batches = 0  # fault injection: this many coming batches fail as a crashed function would
        self._unsubscribe = [
            subscribe(ScheduleChange, self._on_schedule),
            subscribe(Commit, self._on_commit),
        ]

    # --- what the embedded AWS tells us -----------------------------------------------------------------

    def _on_schedule(self, change: ScheduleChange) -> None:
        if change.group != self._group:
            return
        with self._index_lock:
            if change.definition is None:
                self._schedules.pop(change.name, None)
                return
            due = _due_at(
                change.definition["ScheduleExpression"],
                change.definition.get("ScheduleExpressionTimezone", "UTC"),
            )
            if due is not None:
                self._schedules[change.name] = due
                heapq.heappush(self._due, (due, change.name))

    def _on_commit(self, commit: Commit) -> None:
        if any(s.table == self._table for s in commit.stream):
            self._wake.set()

    # --- the stream -------------------------------------------------------------------------------------

    def skip_to_latest(self) -> None:
        """Marks everything already in the stream as delivered (tests that share one embedded AWS)."""
        with self._lock:
            self.checkpoints.advance(self._table, stream_end(self._table))
            self._shards.clear()

    def _arn(self) -> str:
        if self._stream_arn is None:
            self._stream_arn = self._dynamodb.describe_table(TableName=self._table)["Table"][
                "LatestStreamArn"
            ]
        return self._stream_arn

    def _iterator(self, shard: dict[str, Any]) -> str:
        start = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
        delivered = self.checkpoints.tables.get(self._table)
        arguments: dict[str, Any] = {"ShardIteratorType": "TRIM_HORIZON"}
        if delivered is not None and delivered + 1 >= start:
            arguments = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": str(delivered)}
        response = self._streams.get_shard_iterator(
            StreamArn=self._arn(), ShardId=shard["ShardId"], **arguments
        )
        return str(response["ShardIterator"])

    def _deliver_stream(self, patient: bool) -> int:
        """One batch per shard; returns how many records were read (0 when the stream is drained). A
        patient pass leaves a shard alone while it backs off after a failure."""
        try:
            shards = self._streams.describe_stream(StreamArn=self._arn())["StreamDescription"]["Shards"]
        except ClientError:
            self._stream_arn = None  # the table or its stream was re-created: find it again next pass
            self._shards.clear()
            return 0
        known = {s["ShardId"] for s in shards}
        for gone in set(self._shards) - known:
            del self._shards[gone]
        read = 0
        for shard in shards:
            state = self._shards.setdefault(shard["ShardId"], _Shard())
            if patient and time.monotonic() < state.retry_at:
                continue
            try:
                if state.iterator is None:
                    state.iterator = self._iterator(shard)
                response = self._streams.get_records(ShardIterator=state.iterator, Limit=self._batch_size)
            except ClientError as error:
                logger.info("stream iterator refused (%s); starting again from the checkpoint", error)
                state.iterator = None
                continue
            records = response.get("Records", [])
            read += len(records)
            if not records:
                state.iterator = response["NextShardIterator"]
                continue
            delivered = self._deliver(records)
            if delivered == len(records):
                state.failures, state.iterator = 0, response["NextShardIterator"]
            elif self._dead_letters and state.failures >= self._dead_letters.stream_retries:
                # as Lambda does after the last retry: record the batch where failures go, move on
                failing = records[delivered:]
                self._dead_letters.stream_batch(self._arn(), shard["ShardId"], failing, state.failures + 1)
                logger.error(
                    "stream batch failed %d times; recorded in the failure queue", state.failures + 1
                )
                self.checkpoints.hold(self._table, int(failing[0]["dynamodb"]["SequenceNumber"]))
                delivered, state.failures, state.iterator = len(records), 0, None
            else:  # read again from the first record not delivered, after a pause
                state.failures += 1
                state.retry_at = time.monotonic() + _backoff(state.failures)
                state.iterator = None
            if delivered:
                sequence = int(records[delivered - 1]["dynamodb"]["SequenceNumber"])
                self.checkpoints.advance(self._table, sequence)
                if self._trim:
                    trim_stream(self._table, self.checkpoints.trimmable(self._table))
        return read

    def _deliver(self, records: list[dict[str, Any]]) -> int:
        """Hands the booking records among `records` to the handler; returns how many of `records`, from
        the first, are done (all of them, or those before the first failure)."""
        arn = self._arn()
        # The same filter the template puts on the event source mapping.
        batch = [
            {**r, "eventSourceARN": arn}
            for r in records
            if (r["dynamodb"].get("NewImage") or {}).get("kind", {}).get("S") in self._kinds
        ]
        if not batch:
            return len(records)
        try:
            if self.failing_batches > 0:
                self.failing_batches -= 1
                raise RuntimeError("fault injected: the function crashed on this batch")
            result = self._handler({"Records": batch}, _Context())
        except Exception:
            logger.exception("stream batch failed; it will be delivered again")
            return 0
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        if not failed:
            return len(records)
        logger.error("stream records failed, to be delivered again: %s", sorted(failed))
        first = min(int(sequence) for sequence in failed)
        return sum(1 for r in records if int(r["dynamodb"]["SequenceNumber"]) < first)

    # --- schedules --------------------------------------------------------------------------------------

    def _list_schedules(self) -> None:
        """Learns of schedules made before this dispatcher subscribed (once)."""
        paginator = self._scheduler.get_paginator("list_schedules")
        for page in paginator.paginate(GroupName=self._group):
            for summary in page["Schedules"]:
                if summary["Name"] in self._schedules:
                    continue
                try:
                    found = self._scheduler.get_schedule(Name=summary["Name"], GroupName=self._group)
                except self._scheduler.exceptions.ResourceNotFoundException:
                    continue
                self._on_schedule(ScheduleChange(self._group, found["Name"], found))
        self._listed = True

    def _fire_due_schedules(self) -> None:
        if not self._listed:
            self._list_schedules()
        now = self._clock.now()
        while True:
            with self._index_lock:
                if not self._due or self._due[0][0] > now:
                    return
                due, name = heapq.heappop(self._due)
                if self._schedules.get(name) != due:
                    continue  # deleted, or an older entry of a schedule since re-made
            self._fire(name, now)

    def _fire(self, name: str, now: datetime) -> None:
        try:
            schedule = self._scheduler.get_schedule(Name=name, GroupName=self._group)
        except self._scheduler.exceptions.ResourceNotFoundException:
            return
        payload = json.loads(schedule["Target"]["Input"])
        try:
            self._handler(payload, _Context())
        except Exception as error:
            # Scheduler invokes the function asynchronously: Lambda retries a failing invocation (after
            # 1, then 2 minutes), then records it in the function's failure queue.
            failures = self._schedule_failures[name] = self._schedule_failures.get(name, 0) + 1
            allowed = self._dead_letters.async_retries if self._dead_letters else len(ASYNC_RETRY_PAUSES)
            if failures <= allowed:
                logger.exception("timer %s failed (attempt %d); Lambda will retry it", name, failures)
                retry = now + ASYNC_RETRY_PAUSES[min(failures, len(ASYNC_RETRY_PAUSES)) - 1]
                with self._index_lock:
                    self._schedules[name] = retry
                    heapq.heappush(self._due, (retry, name))
                return
            logger.exception("timer %s failed %d times; recorded in the failure queue", name, failures)
            if self._dead_letters:
                self._dead_letters.invocation(payload, error, failures)
        self._schedule_failures.pop(name, None)
        if schedule.get("ActionAfterCompletion") == "DELETE":
            self._scheduler.delete_schedule(Name=name, GroupName=self._group)

    # --- running ----------------------------------------------------------------------------------------

    def run_once(self, patient: bool = False) -> None:
        """One full pass: the stream until it is drained (or failing), then every schedule now due, then
        the clock watchers, then the stream again (what the reminders wrote). The background loop is
        patient (it waits out the backoff after a failure); a pass asked for explicitly (tests, /dev
        routes) retries at once."""
        with self._lock:
            self._drain_stream(patient)
            self._fire_due_schedules()
            self._tell_clock_watchers()
            self._drain_stream(patient)

    def _tell_clock_watchers(self) -> None:
        if not self._clock_watchers:
            return
        now = self._clock.now()
        for watcher in self._clock_watchers:
            try:
                watcher(now)
            except Exception:  # the watcher's own failure: the pass goes on
                logger.exception("a clock watcher failed")

    def _drain_stream(self, patient: bool) -> None:
        while self._deliver_stream(patient) and not self.pending():
            pass

    def pending(self) -> bool:
        """Whether undelivered records are waiting (or being retried)."""
        return any(s.failures for s in self._shards.values())

    def start(self, interval: float = 0.5) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.run_once(patient=True)
                except Exception:  # keep dispatching; the error is visible in the dev server's log
                    logger.exception("dispatch failed")
                self._wake.wait(interval)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="dispatcher", daemon=True)
        self._thread.start()

    def stop(self, drain_seconds: float = 10.0) -> None:
        """Stops the background loop, then delivers what the stream still holds (bounded in time)."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join()
        deadline = time.monotonic() + drain_seconds
        try:
            self.run_once()
            while self.pending() and time.monotonic() < deadline:
                time.sleep(0.2)
                self.run_once()
        except Exception:
            logger.exception("could not drain the stream before stopping; the checkpoint keeps the rest")
        self.close()

    def close(self) -> None:
        """Stops listening to the embedded AWS."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
