"""DynamoDB Streams: patch 4 (stream retention and expiring shard iterators), patch 3's side of reading
(GetRecords under the write lock) and restoring a saved stream (`load_stream`).

DynamoDB keeps stream records 24 hours and shard iterators 15 minutes; moto keeps both for ever.
`trim_stream` drops records the (single, local) consumer has delivered, and iterators expire after
`ITERATOR_LIFETIME_SECONDS`."""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

from moto.dynamodbstreams.models import DynamoDBStreamsBackend

from local.moto._support import WRITE_LOCK, AwsError
from local.moto.backends import backend
from local.moto.installing import ORIGINALS

ITERATOR_LIFETIME_SECONDS = 15 * 60  # as DynamoDB Streams


class _ExpiringIterators(OrderedDict[str, Any]):
    """moto's registry of shard iterators, forgetting each 15 minutes after it was handed out."""

    def __init__(self) -> None:
        super().__init__()
        self._issued: OrderedDict[str, float] = OrderedDict()

    def __setitem__(self, key: str, value: Any) -> None:
        now = time.monotonic()
        while self._issued:
            oldest, at = next(iter(self._issued.items()))
            if now - at < ITERATOR_LIFETIME_SECONDS:
                break
            self._issued.pop(oldest)
            self.pop(oldest, None)
        self._issued[key] = now
        super().__setitem__(key, value)


def _streams_init(self: DynamoDBStreamsBackend, *args: Any, **kwargs: Any) -> None:
    ORIGINALS["streams_init"](self, *args, **kwargs)
    self.shard_iterators = _ExpiringIterators()


def _get_records(self: DynamoDBStreamsBackend, iterator_arn: str, limit: int) -> Any:
    if iterator_arn not in self.shard_iterators:
        raise AwsError(
            "ExpiredIteratorException", "Iterator expired. The iterator was created over 15 minutes ago."
        )
    with WRITE_LOCK:  # never read a record of a write that may still be undone
        return ORIGINALS["get_records"](self, iterator_arn, limit)


def trim_stream(table_name: str, through_sequence_number: int) -> int:
    """Drops the table's stream records up to and including `through_sequence_number` (the local stand-in
    for DynamoDB's 24-hour retention: the one local consumer has delivered them). Returns how many."""
    with WRITE_LOCK:
        shard = backend("dynamodb").get_table(table_name).stream_shard
        if shard is None:
            return 0
        count = min(len(shard.items), max(0, through_sequence_number + 1 - shard.starting_sequence_number))
        del shard.items[:count]
        shard.starting_sequence_number += count  # the records kept keep their sequence numbers
        return int(count)


def stream_end(table_name: str) -> int:
    """The sequence number of the table's newest stream record (one before the first, when empty)."""
    with WRITE_LOCK:
        shard = backend("dynamodb").get_table(table_name).stream_shard
        return 0 if shard is None else int(shard.starting_sequence_number + len(shard.items) - 1)


# --- restoring saved state ------------------------------------------------------------------------------


class _SavedRecord:
    def __init__(self, record: dict[str, Any]) -> None:
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, str):
            change["ApproximateCreationDateTime"] = datetime.fromisoformat(created)
        self._record = {**record, "dynamodb": change}

    def to_json(self) -> dict[str, Any]:
        return self._record


def load_stream(table_name: str, next_sequence: int, records: list[dict[str, Any]]) -> None:
    """Gives a table's stream its undelivered records back, with their sequence numbers; new records
    continue the numbering, so a consumer's checkpoint stays meaningful across restarts."""
    shard = backend("dynamodb").get_table(table_name).stream_shard
    if shard is None:
        return
    records = sorted(records, key=lambda r: int(r["dynamodb"]["SequenceNumber"]))
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    first = numbers[0] if numbers else next_sequence
    if numbers != list(range(first, first + len(numbers))):
        raise RuntimeError(f"the saved stream of {table_name} has gaps; run `make dev-reset`")
    shard.starting_sequence_number = first
    shard.items = [_SavedRecord(r) for r in records]


def apply() -> None:
    ORIGINALS.update(
        streams_init=DynamoDBStreamsBackend.__init__, get_records=DynamoDBStreamsBackend.get_records
    )
    DynamoDBStreamsBackend.__init__ = _streams_init  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_records = _get_records  # type: ignore[method-assign]
