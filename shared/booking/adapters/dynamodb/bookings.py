"""Bookings on DynamoDB. Every change to a booking is one TransactWriteItems: the booking, its diary
entries, its history entry and the time-ledger sheets it changes, each sheet conditioned on the version it
was read at (adapters/dynamodb/ledger.py), so the database itself refuses a second booking of the same
staff member's time. A change that loses a race re-reads the sheets, re-checks, and tries again.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from booking import deadline
from booking.adapters.dynamodb import keys
from booking.adapters.dynamodb.items import condition_failed, plain, typed, typed_key
from booking.adapters.dynamodb.ledger import SheetStore, months, utc_days
from booking.domain.availability import Busy, from_minute, to_minute
from booking.domain.booking import Booking, BookingStatus, HistoryEntry
from booking.domain.diary import DiaryEntry
from booking.domain.errors import Conflict, CustomerBlocked, SlotTaken
from booking.domain.ledger import Claim, IntervalKind, Plan, TimeTaken, plan, sheets_touched, tag
from booking.retry import pause_before_retry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from booking.ports import Clock

# A change that loses a race to another change of the same sheets re-reads and re-plans, this many times
# at most, pausing between tries (booking/retry.py) so racing writers spread out (each round has a
# winner, so a dozen writers on one staff member's day all get through).
ATTEMPTS = 12
ROUND_SECONDS = 0.5  # what one more round (read the sheets, write the transaction) needs, at the least
_TAKEN = "that time was just taken by another booking; please pick another"


# Diary items are small and flat (short attribute names, epoch minutes): a busy month of a large business
# must fit in as few 1 MB query pages as possible, and parse fast.
def diary_item(key: dict[str, str], booking: Booking) -> dict[str, Any]:
    """The diary entry of `booking` stored under `key` (one of diary_keys(booking))."""
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


def diary_keys(booking: Booking) -> list[dict[str, str]]:
    """One diary entry per UTC day the booking occupies, keyed from the later of its occupied start and
    that day's midnight: a calendar range finds every booking it overlaps without looking back."""
    found = []
    cursor = booking.occupied_start.astimezone(UTC)
    while cursor < booking.occupied_end:
        found.append(keys.diary_key(booking.tenant_id, cursor, booking.id))
        cursor = datetime.combine(cursor.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return found


def booking_claim(booking: Booking) -> Claim:
    """The booking's time on the ledger: a hold that lapses at `hold_expires_at` while it awaits payment."""
    if booking.hold_expires_at is not None:
        return Claim.of(
            booking.staff_id,
            booking.occupied_start,
            booking.occupied_end,
            booking.id,
            kind=IntervalKind.HOLD,
            expires_at=booking.hold_expires_at,
        )
    return Claim.of(booking.staff_id, booking.occupied_start, booking.occupied_end, booking.id)


def _booking(item: Mapping[str, Any]) -> Booking:
    return Booking.model_validate_json(item["doc"]).model_copy(update={"version": int(item["version"])})


def booking_in_image(image: Mapping[str, Any] | None) -> Booking | None:
    """The booking a stream record's image holds (plain values, as Powertools deserialises them), or None
    for every other kind of item (diary entries, sheets, history...)."""
    if not image or image.get("kind") != "booking":
        return None
    return _booking(image)


class DynamoBookingRepository:
    def __init__(self, client: DynamoDBClient, table_name: str, clock: Clock) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock
        self._sheets = SheetStore(client, table_name)

    # --- reads ----------------------------------------------------------------------------------------

    def _diary_pages(self, tenant_id: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """Raw diary entries that may overlap [start, end), strongly consistent, month partition by month."""
        # Every booking has an entry on each UTC day it occupies: none starts before the first midnight.
        since = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        for month, _, _ in months(*utc_days(since, end)):
            for page in self._client.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :from AND :to",
                ExpressionAttributeValues={
                    ":pk": {"S": keys.diary_pk(tenant_id, month)},
                    ":from": {"S": keys.diary_sk_bound(since)},
                    ":to": {"S": keys.diary_sk_bound(end)},
                },
                ConsistentRead=True,
            ):
                yield from page.get("Items", [])

    def diary(self, tenant_id: str, start: datetime, end: datetime) -> list[DiaryEntry]:
        lo, hi = to_minute(start), to_minute(end)
        entries: dict[str, DiaryEntry] = {}
        for raw in self._diary_pages(tenant_id, start, end):
            if int(raw["o0"]["N"]) < hi and lo < int(raw["o1"]["N"]):
                entry = _diary_entry(raw)
                entries[entry.booking_id] = entry
        return sorted(entries.values(), key=lambda e: (e.start, e.booking_id))

    def busy(
        self, tenant_id: str, start: datetime, end: datetime, ignore_booking: str | None = None
    ) -> list[Busy]:
        # Straight from the ledger: one query per month, only active intervals. Runs on every availability
        # request.
        ignored = tag(ignore_booking) if ignore_booking else None
        return self._sheets.busy(tenant_id, start, end, self._clock.now(), ignored)

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

    # --- history alone --------------------------------------------------------------------------------

    def add_history(self, tenant_id: str, booking_id: str, entry: HistoryEntry, entry_id: str) -> bool:
        # One item, keyed by the caller's id for the entry: the booking, its diary and the ledger are not
        # touched, and writing the same entry again is refused by the database.
        try:
            self._client.put_item(
                TableName=self._table,
                Item=typed(
                    {
                        **keys.history_key(tenant_id, booking_id, entry.at, entry_id),
                        "kind": "history",
                        "doc": entry.model_dump_json(),
                    }
                ),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    # --- holds ----------------------------------------------------------------------------------------

    def hold(self, tenant_id: str, hold: Claim) -> None:
        """Keeps `hold` (an IntervalKind.HOLD claim) free for its owner until it expires."""
        if hold.kind is not IntervalKind.HOLD:
            raise ValueError("a hold is a claim of kind HOLD")
        self._commit(tenant_id, [], [hold], lambda: [])

    def release_hold(self, tenant_id: str, hold: Claim) -> None:
        """Gives the time of a hold back (nothing to do if it already expired and was dropped)."""
        self._commit(tenant_id, [hold], [], lambda: [])

    # --- the one write --------------------------------------------------------------------------------

    def save(
        self,
        booking: Booking,
        previous: Booking | None,
        entry: HistoryEntry,
        *,
        enforce_unblocked: bool = False,
        from_hold: Claim | None = None,
    ) -> None:
        tenant = booking.tenant_id
        release = [booking_claim(previous)] if previous is not None and previous.holds_time else []
        if from_hold is not None:
            release.append(from_hold)
        claim = [booking_claim(booking)] if booking.holds_time else []
        self._commit(
            tenant, release, claim, lambda: self._booking_writes(booking, previous, entry, enforce_unblocked)
        )

    def _booking_writes(
        self, booking: Booking, previous: Booking | None, entry: HistoryEntry, enforce_unblocked: bool
    ) -> list[TransactWriteItemTypeDef]:
        """The booking (always first), its diary entries, its history entry, and for a new booking the
        customer's profile (always last)."""
        tenant = booking.tenant_id
        ops: list[TransactWriteItemTypeDef] = []
        booking_item = typed(
            {
                **keys.booking_key(tenant, booking.id),
                **keys.customer_bookings_index(tenant, booking.customer.email, booking.start, booking.id),
                "kind": "booking",
                "version": booking.version,
                # Fields that are null (no meeting, payment, series, hold...) are left out: read back as
                # their defaults, and the item stays under 1 KB (2 write units in a transaction, not 4).
                "doc": booking.model_dump_json(exclude={"version"}, exclude_none=True),
            }
        )
        put: dict[str, Any] = {"TableName": self._table, "Item": booking_item}
        if previous is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :expected"
            put["ExpressionAttributeValues"] = {":expected": {"N": str(previous.version)}}
        ops.append({"Put": put})  # type: ignore[typeddict-item]

        new_diary = diary_keys(booking)
        for old in diary_keys(previous) if previous is not None else []:
            if old not in new_diary:
                ops.append({"Delete": {"TableName": self._table, "Key": typed_key(old)}})
        for key in new_diary:
            ops.append({"Put": {"TableName": self._table, "Item": diary_item(key, booking)}})

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
        return ops

    def _commit(
        self,
        tenant_id: str,
        release: list[Claim],
        claim: list[Claim],
        other_writes: Callable[[], list[TransactWriteItemTypeDef]],
    ) -> None:
        """Reads the sheets `release` and `claim` touch, plans them, and writes the plan with
        `other_writes()` in one transaction; re-reads and re-plans when a sheet changed meanwhile.

        `other_writes()` puts the booking first and the customer profile last (when there is one)."""
        touched = sheets_touched([*release, *claim])
        for attempt in range(ATTEMPTS):
            current = self._sheets.read(tenant_id, touched) if touched else {}
            try:
                sheets = plan(current, release=release, claim=claim, now=self._clock.now())
            except TimeTaken as taken:
                raise SlotTaken(_TAKEN) from taken
            others = other_writes()
            ops = [*others[:1], *self._sheets.writes(tenant_id, sheets), *others[1:]]
            if not ops:
                return
            sheet_indexes = set(range(min(1, len(others)), min(1, len(others)) + len(sheets.sheets)))
            try:
                self._client.transact_write_items(TransactItems=ops)
                return
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                self._explain(error, ops, others, sheet_indexes, sheets)
            if attempt + 1 < ATTEMPTS:
                pause_before_retry(attempt)
                # Another round needs a read and a write: refused (503, nothing written) rather than killed.
                deadline.require(ROUND_SECONDS, "save this change")
        raise SlotTaken(_TAKEN)

    @staticmethod
    def _explain(
        error: ClientError,
        ops: list[TransactWriteItemTypeDef],
        others: list[TransactWriteItemTypeDef],
        sheet_indexes: set[int],
        sheets: Plan,
    ) -> None:
        """Raises for a cancelled transaction that must not be retried; returns when a retry may succeed
        (a sheet changed since it was read, or another transaction was writing the same items)."""
        reasons = error.response.get("CancellationReasons", [])
        failed = {i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"}
        customer_index = len(ops) - 1 if others and "Update" in others[-1] else None
        if customer_index is not None and customer_index in failed:
            raise CustomerBlocked("this customer cannot book online; please contact the business") from error
        if others and 0 in failed:
            raise Conflict("the booking changed meanwhile; reload and retry") from error
        if failed - sheet_indexes:
            raise Conflict("the booking changed meanwhile; reload and retry") from error
