"""Bookings on DynamoDB. Every change to a booking is one TransactWriteItems: the booking, its diary entry,
its history entry and the lock items for the time it occupies. Lock items are written with
attribute_not_exists, so the database itself refuses a second booking of the same staff member's time.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from booking.adapters.dynamodb import keys
from booking.adapters.dynamodb.items import plain, typed, typed_key
from booking.domain.availability import MAX_OCCUPANCY_MINUTES, Busy, from_minute, lock_units, to_minute
from booking.domain.booking import HOLDS_TIME, Booking, BookingStatus, HistoryEntry
from booking.domain.diary import DiaryEntry
from booking.domain.errors import Conflict, CustomerBlocked, SlotTaken

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

# Locks outlive their time by a week (TTL), then DynamoDB removes them: nobody can book the past.
LOCK_RETENTION = timedelta(days=7)


# Diary items are small and flat (short attribute names, epoch minutes): a busy month of a large business
# must fit in as few 1 MB query pages as possible, and parse fast.
_HOLDING = frozenset(status.value for status in HOLDS_TIME)


def _diary_item(key: dict[str, str], booking: Booking) -> dict[str, Any]:
    return {
        **typed_key(key),
        "kind": {"S": "diary"},
        "staff": {"S": booking.staff_id},
        "s0": {"N": str(to_minute(booking.start))},
        "s1": {"N": str(to_minute(booking.end))},
        "o0": {"N": str(to_minute(booking.occupied_start))},
        "o1": {"N": str(to_minute(booking.occupied_end))},
        "st": {"S": booking.status.value},
        "cn": {"S": booking.customer.name},
        "ce": {"S": booking.customer.email},
        "sv": {"L": [{"S": s.name} for s in booking.services]},
    }


def _diary_entry(raw: dict[str, Any]) -> DiaryEntry:
    return DiaryEntry(
        booking_id=raw["sk"]["S"].rsplit("#", 1)[1],
        staff_id=raw["staff"]["S"],
        start=from_minute(int(raw["s0"]["N"])),
        end=from_minute(int(raw["s1"]["N"])),
        occupied_start=from_minute(int(raw["o0"]["N"])),
        occupied_end=from_minute(int(raw["o1"]["N"])),
        status=BookingStatus(raw["st"]["S"]),
        customer_name=raw["cn"]["S"],
        customer_email=raw["ce"]["S"],
        service_names=[v["S"] for v in raw["sv"]["L"]],
    )


def _months(start: datetime, end: datetime) -> list[str]:
    months = []
    cursor = start.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while cursor < end:
        months.append(cursor.strftime("%Y-%m"))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return months


def _booking(item: Mapping[str, Any]) -> Booking:
    return Booking.model_validate_json(item["doc"]).model_copy(update={"version": int(item["version"])})


def booking_in_image(image: Mapping[str, Any] | None) -> Booking | None:
    """The booking a stream record's image holds (plain values, as Powertools deserialises them), or None
    for every other kind of item (diary entries, locks, history...)."""
    if not image or image.get("kind") != "booking":
        return None
    return _booking(image)


class DynamoBookingRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # --- reads ----------------------------------------------------------------------------------------

    def _diary_pages(
        self, tenant_id: str, start: datetime, end: datetime, projection: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Raw diary items that may overlap [start, end), strongly consistent, month partition by month."""
        # An entry starting up to MAX_OCCUPANCY before `start` can still occupy time inside the range.
        lookback = start - timedelta(minutes=MAX_OCCUPANCY_MINUTES)
        for month in _months(lookback, end):
            query: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
                "ExpressionAttributeValues": {
                    ":pk": {"S": keys.diary_pk(tenant_id, month)},
                    ":from": {"S": keys.diary_sk_bound(lookback)},
                    ":to": {"S": keys.diary_sk_bound(end)},
                },
                "ConsistentRead": True,
            }
            if projection:
                query["ProjectionExpression"] = projection
            for page in self._client.get_paginator("query").paginate(**query):
                yield from page.get("Items", [])

    def diary(self, tenant_id: str, start: datetime, end: datetime) -> list[DiaryEntry]:
        lo, hi = to_minute(start), to_minute(end)
        entries = [
            _diary_entry(raw)
            for raw in self._diary_pages(tenant_id, start, end)
            if int(raw["o0"]["N"]) < hi and lo < int(raw["o1"]["N"])
        ]
        entries.sort(key=lambda e: (e.start, e.booking_id))
        return entries

    def busy(
        self, tenant_id: str, start: datetime, end: datetime, ignore_booking: str | None = None
    ) -> list[Busy]:
        # Only what the slot engine needs, parsed by hand: this runs on every availability request.
        lo, hi = to_minute(start), to_minute(end)
        busy = []
        for raw in self._diary_pages(tenant_id, start, end, projection="sk, staff, o0, o1, st"):
            occupied_start, occupied_end = int(raw["o0"]["N"]), int(raw["o1"]["N"])
            ignored = ignore_booking is not None and raw["sk"]["S"].endswith(f"#{ignore_booking}")
            if raw["st"]["S"] in _HOLDING and occupied_start < hi and lo < occupied_end and not ignored:
                busy.append(Busy(raw["staff"]["S"], occupied_start, occupied_end))
        return busy

    def get(self, tenant_id: str, booking_id: str) -> tuple[Booking, list[HistoryEntry]] | None:
        booking: Booking | None = None
        history: list[HistoryEntry] = []
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.booking_pk(tenant_id, booking_id)}},
            ConsistentRead=True,
        ):
            for raw in page.get("Items", []):
                item = plain(raw)
                if item["sk"] == keys.BOOKING_SK:
                    booking = _booking(item)
                elif item["sk"].startswith(keys.HISTORY_PREFIX):
                    history.append(HistoryEntry.model_validate_json(item["doc"]))
        return (booking, history) if booking else None

    def customer_bookings(self, tenant_id: str, email: str) -> list[Booking]:
        bookings: list[Booking] = []
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            IndexName=keys.GSI1,
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.customer_pk(tenant_id, email)}},
        ):
            for raw in page.get("Items", []):
                bookings.append(_booking(plain(raw)))
        return bookings

    # --- the one write --------------------------------------------------------------------------------

    def save(
        self,
        booking: Booking,
        previous: Booking | None,
        entry: HistoryEntry,
        *,
        enforce_unblocked: bool = False,
    ) -> None:
        tenant = booking.tenant_id
        ops: list[TransactWriteItemTypeDef] = []
        # Index 0 is always the booking itself; lock puts are tagged so a cancellation can be explained.
        lock_put_indexes: set[int] = set()
        customer_index: int | None = None

        booking_item = typed(
            {
                **keys.booking_key(tenant, booking.id),
                **keys.customer_bookings_index(tenant, booking.customer.email, booking.start, booking.id),
                "kind": "booking",
                "version": booking.version,
                "doc": booking.model_dump_json(exclude={"version"}),
            }
        )
        put: dict[str, Any] = {"TableName": self._table, "Item": booking_item}
        if previous is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :expected"
            put["ExpressionAttributeValues"] = {":expected": {"N": str(previous.version)}}
        ops.append({"Put": put})  # type: ignore[typeddict-item]

        # Diary entry: replace when its key moved, otherwise overwrite in place.
        new_diary = keys.diary_key(tenant, booking.start, booking.id)
        if previous is not None:
            old_diary = keys.diary_key(tenant, previous.start, previous.id)
            if old_diary != new_diary:
                ops.append({"Delete": {"TableName": self._table, "Key": typed_key(old_diary)}})
        ops.append({"Put": {"TableName": self._table, "Item": _diary_item(new_diary, booking)}})

        # Time claims: release what is no longer held, claim what is newly held.
        wanted = self._locks(booking) if booking.holds_time else {}
        held = self._locks(previous) if previous is not None and previous.holds_time else {}
        for key_id, key in held.items():
            if key_id not in wanted:
                ops.append(
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": typed_key(key),
                            "ConditionExpression": "booking_id = :id",
                            "ExpressionAttributeValues": {":id": {"S": booking.id}},
                        }
                    }
                )
        for key_id, key in wanted.items():
            if key_id in held:
                continue
            unit = datetime.fromisoformat(key[keys.SK].replace("Z", "+00:00"))
            lock_put_indexes.add(len(ops))
            ops.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": typed(
                            {
                                **key,
                                "kind": "lock",
                                "booking_id": booking.id,
                                "expires_at": int((unit + LOCK_RETENTION).timestamp()),
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )

        ops.append(
            {
                "Put": {
                    "TableName": self._table,
                    "Item": typed(
                        {
                            **keys.history_key(tenant, booking.id, entry.at, secrets.token_hex(4)),
                            "kind": "history",
                            "doc": entry.model_dump_json(),
                        }
                    ),
                }
            }
        )

        if previous is None:
            customer_index = len(ops)
            update: dict[str, Any] = {
                "TableName": self._table,
                "Key": typed_key(keys.customer_key(tenant, booking.customer.email)),
                "UpdateExpression": (
                    "SET #name = :name, email = :email, kind = :kind, created_at = if_not_exists(created_at, :now)"
                    + (", phone = :phone" if booking.customer.phone else "")
                ),
                "ExpressionAttributeNames": {"#name": "name"},
                "ExpressionAttributeValues": typed(
                    {
                        ":name": booking.customer.name,
                        ":email": booking.customer.email.lower(),
                        ":kind": "customer",
                        ":now": keys.iso(booking.created_at),
                        ":phone": booking.customer.phone,
                    }
                ),
            }
            if enforce_unblocked:
                update["ConditionExpression"] = "attribute_not_exists(blocked) OR blocked = :false"
                update["ExpressionAttributeValues"][":false"] = {"BOOL": False}
            ops.append({"Update": update})  # type: ignore[typeddict-item]

        try:
            self._client.transact_write_items(TransactItems=ops)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons", [])
            failed = {i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"}
            if customer_index is not None and customer_index in failed:
                raise CustomerBlocked(
                    "this customer cannot book online; please contact the business"
                ) from error
            if failed & lock_put_indexes or (not failed and not reasons):
                raise SlotTaken("that time was just taken by another booking; please pick another") from error
            if 0 in failed:
                raise Conflict("the booking changed meanwhile; reload and retry") from error
            raise SlotTaken("that time was just taken by another booking; please pick another") from error

    def _locks(self, booking: Booking) -> dict[str, dict[str, str]]:
        return {
            f"{booking.staff_id}|{keys.iso(unit)}": keys.lock_key(booking.tenant_id, booking.staff_id, unit)
            for unit in lock_units(booking.occupied_start, booking.occupied_end)
        }
