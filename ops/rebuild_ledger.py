"""Rebuilds the time ledger's sheets (and the diary) from the bookings: the upgrade from lock items.

    AWS_PROFILE=... python -m ops.rebuild_ledger --table <BookingTableName output> [--dry-run]

The previous layout claimed a booking's time with one lock item per staff member per 5-minute unit, and
kept one diary entry per booking keyed by its start. This scans the table once and, for every booking:

- puts each piece of time it holds (not cancelled) on the sheet of its staff member and UTC day, unless it
  is there already. Only missing pieces are added, so what is on the sheets stays (bookings and holds made
  meanwhile), and a second run writes no sheet. Each write is conditioned on the versions of the sheets it
  read (re-read and retried when one changed) and on the version of the booking it was planned from;
- puts its diary entries, one per UTC day it occupies (only those missing or different), and deletes its
  entries under any other key (the old one keyed by the start, when there is a buffer before it).

A piece that overlaps another booking's (or a hold's) is reported, naming both, and left off; the rest
goes on. Then every lock item is deleted (they would also expire by TTL, a week after their time).

Safe to re-run: each step only adds what is missing or removes what is stale. Run it with the API paused
(see the README, "Upgrading to the time ledger"). The local stack runs it once on a data directory that
still holds lock items (`migrate_if_old_layout`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from booking.adapters.dynamodb import keys
from booking.adapters.dynamodb.bookings import (
    ATTEMPTS,
    booking_claim,
    booking_in_image,
    diary_item,
    diary_keys,
)
from booking.adapters.dynamodb.items import plain, typed_key
from booking.adapters.dynamodb.ledger import SheetStore
from booking.domain.booking import Booking
from booking.domain.ledger import (
    Claim,
    IntervalKind,
    Plan,
    Sheet,
    SheetKey,
    TimeTaken,
    day_start_minute,
    plan,
    tag,
)
from booking.retry import pause_before_retry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

Now = Callable[[], datetime]
TRANSACTION_ITEMS = 100  # DynamoDB's limit on one TransactWriteItems
BATCH_DELETES = 25  # DynamoDB's limit on one BatchWriteItem


class RebuildFailed(RuntimeError):
    """A booking kept changing under the rebuild, or the table refused a write."""


@dataclass
class Summary:
    bookings: int = 0  # booking items seen
    holding_time: int = 0  # of them, those that hold time (not cancelled)
    sheets_written: int = 0
    diary_written: int = 0
    diary_deleted: int = 0
    locks_deleted: int = 0
    conflicts: list[str] = field(default_factory=list)
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would write" if self.dry_run else "wrote"
        gone = "would delete" if self.dry_run else "deleted"
        return [
            f"bookings seen {self.bookings} ({self.holding_time} holding time); "
            f"sheets: {verb} {self.sheets_written}; diary entries: {verb} {self.diary_written}, "
            f"{gone} {self.diary_deleted}; lock items: {gone} {self.locks_deleted}; "
            f"conflicts {len(self.conflicts)}",
            *(f"  conflict: {conflict}" for conflict in self.conflicts),
        ]


@dataclass
class _Table:
    """What one scan found: the bookings, and the diary entries and lock items by key."""

    bookings: list[Booking] = field(default_factory=list)
    diary: dict[tuple[str, str], dict[tuple[str, str], dict[str, Any]]] = field(
        default_factory=dict
    )  # (tenant, booking id) -> (pk, sk) -> stored item
    locks: list[dict[str, Any]] = field(default_factory=list)  # typed keys


def _scan(client: DynamoDBClient, table: str) -> _Table:
    found = _Table()
    pages = client.get_paginator("scan").paginate(
        TableName=table,
        ConsistentRead=True,
        FilterExpression="#kind IN (:booking, :diary) OR contains(pk, :lock)",
        ExpressionAttributeNames={"#kind": "kind"},
        ExpressionAttributeValues={
            ":booking": {"S": "booking"},
            ":diary": {"S": "diary"},
            ":lock": {"S": keys.LEGACY_LOCK_MARKER},
        },
    )
    for page in pages:
        for raw in page.get("Items", []):
            pk, sk = raw[keys.PK]["S"], raw[keys.SK]["S"]
            kind = raw.get("kind", {}).get("S")
            if keys.is_legacy_lock(pk):
                found.locks.append({keys.PK: raw[keys.PK], keys.SK: raw[keys.SK]})
            elif kind == "diary":
                found.diary.setdefault(keys.diary_owner(pk, sk), {})[(pk, sk)] = raw
            elif kind == "booking" and sk == keys.BOOKING_SK:
                booking = booking_in_image(plain(raw))
                if booking is not None:
                    found.bookings.append(booking)
    # The earlier booking keeps its time when two overlap (the later one is reported).
    found.bookings.sort(key=lambda b: (b.created_at, b.id))
    return found


def _key_pair(item: dict[str, Any]) -> tuple[str, str]:
    return item[keys.PK]["S"], item[keys.SK]["S"]


class _Rebuild:
    def __init__(self, client: DynamoDBClient, table: str, now: Now, dry_run: bool, found: _Table) -> None:
        self._client = client
        self._table = table
        self._sheets = SheetStore(client, table)
        self._now = now
        self._dry_run = dry_run
        self._found = found
        self.summary = Summary(dry_run=dry_run)
        # tenant -> ledger tag -> booking ids, to name the other side of an overlap
        self._owners: dict[str, dict[str, list[str]]] = {}
        for booking in found.bookings:
            self._owners.setdefault(booking.tenant_id, {}).setdefault(tag(booking.id), []).append(booking.id)

    # --- one booking ----------------------------------------------------------------------------------

    def settle(self, booking: Booking) -> None:
        stored_diary = self._found.diary.get((booking.tenant_id, booking.id), {})
        trust_stored_diary = True
        for attempt in range(ATTEMPTS):
            conflicts: list[str] = []
            sheets = self._missing_pieces(booking, conflicts) if booking.holds_time else Plan()
            puts, deletes = self._diary_changes(booking, stored_diary, trust_stored_diary)
            writes = [*self._sheets.writes(booking.tenant_id, sheets), *puts, *deletes]
            if not writes or self._dry_run:
                self._count(sheets, puts, deletes, conflicts)
                return
            outcome = self._write(booking, writes)
            if outcome == "written":
                self._count(sheets, puts, deletes, conflicts)
                return
            if outcome == "booking changed":
                fresh = self._reread(booking)
                if fresh is None:  # deleted meanwhile: nothing of it to settle
                    return
                booking, trust_stored_diary = fresh, False
            pause_before_retry(attempt)
        raise RebuildFailed(f"booking {booking.id} (tenant {booking.tenant_id}) kept changing; run again")

    def _count(self, sheets: Plan, puts: list[Any], deletes: list[Any], conflicts: list[str]) -> None:
        self.summary.sheets_written += len(sheets.sheets)
        self.summary.diary_written += len(puts)
        self.summary.diary_deleted += len(deletes)
        self.summary.conflicts.extend(conflicts)

    def _missing_pieces(self, booking: Booking, conflicts: list[str]) -> Plan:
        """The sheets with the pieces of the booking's time they lack (only those: additive)."""
        try:
            claim = booking_claim(booking)
        except ValueError as error:  # e.g. not on whole minutes: nothing the ledger can hold
            conflicts.append(
                f"booking {booking.id} (tenant {booking.tenant_id}): left off the ledger: {error}"
            )
            return Plan()
        pieces = claim.pieces()
        current = self._sheets.read(booking.tenant_id, pieces)
        now = self._now()
        wanted: list[Claim] = []
        for key, piece in pieces.items():
            if piece in current.get(key, Sheet(key)).intervals:
                continue
            base = day_start_minute(key.day)
            missing = Claim(claim.staff_id, base + piece.start, base + piece.end, booking.id)
            try:
                plan(current, claim=[missing], now=now)
            except TimeTaken:
                conflicts.append(self._overlap(booking, key, current[key], missing, now))
                continue
            except ValueError:  # the sheet holds another interval of this very booking
                conflicts.append(
                    f"booking {booking.id} (tenant {booking.tenant_id}): the sheet of {key.staff_id} on "
                    f"{key.day} holds a different interval of the same booking; left as it is"
                )
                continue
            wanted.append(missing)
        return plan(current, claim=wanted, now=now) if wanted else Plan()

    def _overlap(self, booking: Booking, key: SheetKey, sheet: Sheet, missing: Claim, now: datetime) -> str:
        piece = missing.pieces()[key]
        others = []
        for other in sheet.intervals:
            if other.active(now) and other.overlaps(piece):
                if other.kind is IntervalKind.HOLD:
                    others.append(f"a hold ({other.owner})")
                else:
                    ids = self._owners.get(booking.tenant_id, {}).get(other.owner, [])
                    others.append(
                        " or ".join(f"booking {i}" for i in ids) or f"an unknown booking ({other.owner})"
                    )
        return (
            f"booking {booking.id} overlaps {', '.join(others)} (tenant {booking.tenant_id}, "
            f"staff {key.staff_id}, {key.day}); that piece is not on the sheet"
        )

    def _diary_changes(
        self, booking: Booking, stored: dict[tuple[str, str], dict[str, Any]], trust_stored: bool
    ) -> tuple[list[TransactWriteItemTypeDef], list[TransactWriteItemTypeDef]]:
        wanted = {_key_pair(item): item for item in (diary_item(k, booking) for k in diary_keys(booking))}
        puts: list[TransactWriteItemTypeDef] = [
            {"Put": {"TableName": self._table, "Item": item}}
            for key, item in wanted.items()
            if not trust_stored or stored.get(key) != item
        ]
        deletes: list[TransactWriteItemTypeDef] = [
            {"Delete": {"TableName": self._table, "Key": {keys.PK: {"S": pk}, keys.SK: {"S": sk}}}}
            for pk, sk in stored
            if (pk, sk) not in wanted
        ]
        return puts, deletes

    def _write(self, booking: Booking, writes: list[TransactWriteItemTypeDef]) -> str:
        """Writes in transactions that each also check the booking is still the version planned from."""
        check: TransactWriteItemTypeDef = {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": typed_key(keys.booking_key(booking.tenant_id, booking.id)),
                "ConditionExpression": "version = :planned",
                "ExpressionAttributeValues": {":planned": {"N": str(booking.version)}},
            }
        }
        size = TRANSACTION_ITEMS - 1
        for first in range(0, len(writes), size):
            try:
                self._client.transact_write_items(TransactItems=[check, *writes[first : first + size]])
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons", [])
                failed = {i for i, r in enumerate(reasons) if r.get("Code") not in (None, "None")}
                if 0 in failed:
                    return "booking changed"
                return "sheet changed"  # or another writer was on one of the items: read again
        return "written"

    def _reread(self, booking: Booking) -> Booking | None:
        raw = self._client.get_item(
            TableName=self._table,
            Key=typed_key(keys.booking_key(booking.tenant_id, booking.id)),
            ConsistentRead=True,
        ).get("Item")
        return booking_in_image(plain(raw)) if raw else None

    # --- the lock items -------------------------------------------------------------------------------

    def delete_locks(self) -> None:
        locks = self._found.locks
        if not self._dry_run:
            for first in range(0, len(locks), BATCH_DELETES):
                request: dict[str, Any] = {
                    self._table: [
                        {"DeleteRequest": {"Key": key}} for key in locks[first : first + BATCH_DELETES]
                    ]
                }
                for attempt in range(ATTEMPTS):
                    unprocessed = self._client.batch_write_item(RequestItems=request).get("UnprocessedItems")
                    if not unprocessed:
                        break
                    request = dict(unprocessed)
                    pause_before_retry(attempt)
                else:
                    raise RebuildFailed("the table kept refusing to delete lock items; run again")
        self.summary.locks_deleted = len(locks)


def rebuild(
    client: DynamoDBClient,
    table: str,
    *,
    now: Now = lambda: datetime.now(UTC),
    dry_run: bool = False,
) -> Summary:
    """Puts every booking's time on the sheets and its diary entries in place, then deletes the lock items.

    Lock items go last: a run that stops half-way leaves them, so the local stack runs it again."""
    found = _scan(client, table)
    run = _Rebuild(client, table, now, dry_run, found)
    for booking in found.bookings:
        run.summary.bookings += 1
        run.summary.holding_time += booking.holds_time
        run.settle(booking)
    run.delete_locks()
    return run.summary


def _legacy_locks(client: DynamoDBClient, table: str) -> Iterator[str]:
    pages = client.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="contains(pk, :lock)",
        ExpressionAttributeValues={":lock": {"S": keys.LEGACY_LOCK_MARKER}},
        ProjectionExpression="pk",
    )
    for page in pages:
        for raw in page.get("Items", []):
            if keys.is_legacy_lock(raw[keys.PK]["S"]):
                yield raw[keys.PK]["S"]


def has_old_layout(client: DynamoDBClient, table: str) -> bool:
    """Whether the table still holds the previous layout: any lock item (a rebuild deletes them all)."""
    return next(_legacy_locks(client, table), None) is not None


def migrate_if_old_layout(
    client: DynamoDBClient, table: str, *, now: Now = lambda: datetime.now(UTC)
) -> Summary | None:
    """The local stack's one-off migration of a data directory written before the time ledger: the
    rebuild's summary, or None when the table is in the current layout already."""
    if not has_old_layout(client, table):
        return None
    return rebuild(client, table, now=now)


def main(argv: list[str] | None = None, client: Any = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.rebuild_ledger", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--table", default=os.environ.get("TABLE_NAME"), help="the booking table (default: $TABLE_NAME)"
    )
    parser.add_argument("--region", help="default: the AWS profile's or $AWS_REGION")
    parser.add_argument("--endpoint-url", help="another DynamoDB endpoint (e.g. a local one)")
    parser.add_argument("--dry-run", action="store_true", help="count what would change; change nothing")
    args = parser.parse_args(argv)
    if not args.table:
        parser.error("--table is required (or set TABLE_NAME)")
    client = client or boto3.client("dynamodb", region_name=args.region, endpoint_url=args.endpoint_url)
    summary = rebuild(client, args.table, dry_run=args.dry_run)
    for line in summary.lines():
        print(line)
    return 1 if summary.conflicts else 0


if __name__ == "__main__":
    raise SystemExit(main())
