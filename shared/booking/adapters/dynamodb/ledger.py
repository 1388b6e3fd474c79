"""The time ledger's sheets on DynamoDB (see domain/ledger.py): reading them, and the conditioned writes
that commit a plan inside a caller's TransactWriteItems.

A sheet item is `pk`, `sk`, `v` (its version) and `t`, the intervals as one short string, e.g.
"540,610,b,7QK2M9XW3A 700,730,h,Z81PQRSTUV,1764500000" (start and end in minutes from the UTC midnight,
kind, owner tag, a hold's expiry in epoch seconds). One string attribute instead of a list of maps keeps a
busy month of a large business small to read and quick to parse: availability runs on every widget view.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from booking.adapters.dynamodb import keys
from booking.adapters.dynamodb.items import typed_key
from booking.domain.availability import Busy, to_minute
from booking.domain.errors import Unavailable
from booking.domain.ledger import (
    Interval,
    IntervalKind,
    Plan,
    Sheet,
    SheetKey,
    day_start_minute,
)
from booking.retry import pause_before_retry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

VERSION = "v"
INTERVALS = "t"
UNPROCESSED_ATTEMPTS = 8  # a batch read throttled this many times in a row gives up (503) instead of spinning


def encode(intervals: Iterable[Interval]) -> str:
    parts = []
    for i in intervals:
        text = f"{i.start},{i.end},{i.kind.value},{i.owner}"
        parts.append(text if i.expires_at is None else f"{text},{i.expires_at}")
    return " ".join(parts)


def decode(text: str) -> tuple[Interval, ...]:
    intervals = []
    for part in text.split():
        fields = part.split(",")
        expires = int(fields[4]) if len(fields) > 4 else None
        intervals.append(
            Interval(int(fields[0]), int(fields[1]), fields[3], IntervalKind(fields[2]), expires)
        )
    return tuple(intervals)


def months(first: date, last: date) -> Iterator[tuple[str, date, date]]:
    """(yyyy-mm, first day, last day) of each month the days first..last touch."""
    cursor = first
    while cursor <= last:
        month_end = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        yield f"{cursor:%Y-%m}", cursor, min(last, month_end)
        cursor = month_end + timedelta(days=1)


def utc_days(start: datetime, end: datetime) -> tuple[date, date]:
    """The first and last UTC day whose sheets hold time in [start, end)."""
    return start.astimezone(UTC).date(), (end.astimezone(UTC) - timedelta(microseconds=1)).date()


class SheetStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def read(self, tenant_id: str, sheet_keys: Iterable[SheetKey]) -> dict[SheetKey, Sheet]:
        """The stored sheets among `sheet_keys`, strongly consistent (missing ones are empty)."""
        wanted = {
            (keys.sheet_key(tenant_id, k.day, k.staff_id)[keys.SK], f"{k.day:%Y-%m}"): k for k in sheet_keys
        }
        found: dict[SheetKey, Sheet] = {}
        pending: list[dict[str, Any]] = [
            typed_key(keys.sheet_key(tenant_id, k.day, k.staff_id)) for k in wanted.values()
        ]
        while pending:
            batch, pending = pending[:100], pending[100:]
            request: dict[str, Any] = {self._table: {"Keys": batch, "ConsistentRead": True}}
            for attempt in range(UNPROCESSED_ATTEMPTS):
                answer = self._client.batch_get_item(RequestItems=request)
                for raw in answer.get("Responses", {}).get(self._table, []):
                    month = raw[keys.PK]["S"].rsplit("#", 1)[1]
                    key = wanted[(raw[keys.SK]["S"], month)]
                    found[key] = Sheet(key, int(raw[VERSION]["N"]), decode(raw[INTERVALS]["S"]))
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                pause_before_retry(attempt)  # throttled: back off with jitter before asking for the rest
            else:
                raise Unavailable("the diary could not be read in full just now; please try again", 2)
        return found

    def busy(
        self, tenant_id: str, start: datetime, end: datetime, now: datetime, ignore_owner: str | None = None
    ) -> list[Busy]:
        """The active intervals overlapping [start, end), as the slot engine takes them. Parsed straight
        from the sheets' text (no Interval objects): this runs on every availability request, and a busy
        month of a large business holds thousands of intervals."""
        lo, hi = to_minute(start), to_minute(end)
        now_seconds = now.timestamp()
        busy = []
        for staff_id, base, text in self._texts(tenant_id, start, end):
            for part in text.split():
                fields = part.split(",")
                first, last = base + int(fields[0]), base + int(fields[1])
                if first >= hi or last <= lo or fields[3] == ignore_owner:
                    continue
                if len(fields) > 4 and int(fields[4]) <= now_seconds:
                    continue  # an expired hold
                busy.append(Busy(staff_id, first, last, fields[3]))
        return busy

    def _texts(self, tenant_id: str, start: datetime, end: datetime) -> Iterator[tuple[str, int, str]]:
        """(staff id, the sheet's first epoch minute, its intervals' text) for every sheet of the UTC days
        [start, end) touches: one strongly consistent query per month, only the sort key and `t` read."""
        first, last = utc_days(start, end)
        paginator = self._client.get_paginator("query")
        for month, month_first, month_last in months(first, last):
            low, high = keys.sheet_sk_bounds(month_first, month_last)
            for page in paginator.paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :from AND :to",
                ExpressionAttributeValues={
                    ":pk": {"S": keys.sheet_pk(tenant_id, month)},
                    ":from": {"S": low},
                    ":to": {"S": high},
                },
                ProjectionExpression="sk, t",
                ConsistentRead=True,
            ):
                for raw in page.get("Items", []):
                    day, staff_id = keys.sheet_day_and_staff(month, raw[keys.SK]["S"])
                    yield staff_id, day_start_minute(day), raw[INTERVALS]["S"]

    def writes(self, tenant_id: str, plan: Plan) -> list[TransactWriteItemTypeDef]:
        """One conditioned write per sheet of the plan: the transaction fails if any sheet is no longer
        at the version the plan was made from. An emptied sheet is deleted."""
        ops: list[TransactWriteItemTypeDef] = []
        for sheet in plan.sheets:
            read = plan.read_versions[sheet.key]
            key = typed_key(keys.sheet_key(tenant_id, sheet.key.day, sheet.key.staff_id))
            condition: dict[str, Any] = (
                {"ConditionExpression": "attribute_not_exists(pk)"}
                if read == 0
                else {
                    "ConditionExpression": "v = :read",
                    "ExpressionAttributeValues": {":read": {"N": str(read)}},
                }
            )
            if not sheet.intervals and read:
                ops.append({"Delete": {"TableName": self._table, "Key": key, **condition}})  # type: ignore[typeddict-item]
            elif sheet.intervals:
                item = {
                    **key,
                    VERSION: {"N": str(sheet.version)},
                    INTERVALS: {"S": encode(sheet.intervals)},
                }
                ops.append({"Put": {"TableName": self._table, "Item": item, **condition}})  # type: ignore[typeddict-item]
        return ops
