"""Nothing lost on upgrade: a table (or a local data directory) in the previous layout — one lock item per
staff member per 5-minute unit, one diary entry per booking keyed by its start — is rebuilt into the time
ledger by `ops/rebuild_ledger.py`, which the local stack runs once at start.

Each test gets a table of its own, made like the stack's, because the rebuild (like the local stack's
migration) works on a whole table."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from ulid import ULID

from booking.adapters.dynamodb import keys
from booking.adapters.dynamodb.bookings import DynamoBookingRepository, booking_claim, diary_item, diary_keys
from booking.adapters.dynamodb.items import typed
from booking.adapters.dynamodb.ledger import decode
from booking.domain.availability import to_minute
from booking.domain.booking import (
    Booking,
    BookingStatus,
)
from booking.domain.errors import SlotTaken
from booking.domain.ledger import Interval, SheetKey
from local.aws import LocalResources
from local.persistence import Store, load_state
from local.template import table_definitions
from ops import rebuild_ledger
from tests.support.ledger_fixtures import a_booking, created
from tests.support.notification_fixtures import ManualClock

UNIT = timedelta(minutes=5)  # the previous layout's lock unit
BASE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday well ahead: nothing here is in the past
DAY = BASE.replace(hour=0)


@pytest.fixture
def table(resources: LocalResources) -> Iterator[str]:
    """A table of its own, with the stack's key schema, index and stream."""
    client = boto3.client("dynamodb")
    [definition] = [t for t in table_definitions() if t.create_args["TableName"] == resources.table_name]
    name = f"LedgerMigration{secrets.token_hex(4)}"
    client.create_table(**{**definition.create_args, "TableName": name})
    yield name
    client.delete_table(TableName=name)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(BASE - timedelta(days=1))


@pytest.fixture
def repository(table: str, clock: ManualClock) -> DynamoBookingRepository:
    return DynamoBookingRepository(boto3.client("dynamodb"), table, clock)


def write_old_layout(table: str, booking: Booking) -> None:
    """The items the previous version wrote for a booking: the booking, one diary entry keyed by its
    start, and (while it held time) a lock per staff member per 5-minute unit it occupied."""
    client = boto3.client("dynamodb")
    tenant = booking.tenant_id
    client.put_item(
        TableName=table,
        Item=typed(
            {
                **keys.booking_key(tenant, booking.id),
                **keys.customer_bookings_index(tenant, booking.customer.email, booking.start, booking.id),
                "kind": "booking",
                "version": booking.version,
                "doc": booking.model_dump_json(exclude={"version"}),
            }
        ),
    )
    client.put_item(
        TableName=table, Item=diary_item(keys.diary_key(tenant, booking.start, booking.id), booking)
    )
    if not booking.holds_time:
        return  # a cancellation released its locks
    unit = booking.occupied_start - timedelta(minutes=booking.occupied_start.minute % 5)
    while unit < booking.occupied_end:
        client.put_item(
            TableName=table,
            Item=typed(
                {
                    **keys.legacy_lock_key(tenant, booking.staff_id, unit),
                    "kind": "lock",
                    "booking_id": booking.id,
                    "expires_at": int((unit + timedelta(days=7)).timestamp()),
                }
            ),
        )
        unit += UNIT


def scan(table: str) -> list[dict[str, Any]]:
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return [item for page in pages for item in page["Items"]]


def sheets(table: str) -> dict[SheetKey, tuple[int, frozenset[Interval]]]:
    """Every sheet in the table: its version and intervals."""
    found = {}
    for item in scan(table):
        pk, sk = item["pk"]["S"], item["sk"]["S"]
        if "#SHEET#" in pk:
            day, staff_id = keys.sheet_day_and_staff(pk.rsplit("#", 1)[1], sk)
            found[SheetKey(day, staff_id)] = (int(item["v"]["N"]), frozenset(decode(item["t"]["S"])))
    return found


def expected_sheets(bookings: list[Booking]) -> dict[SheetKey, frozenset[Interval]]:
    wanted: dict[SheetKey, set[Interval]] = {}
    for booking in bookings:
        if booking.holds_time:
            for key, piece in booking_claim(booking).pieces().items():
                wanted.setdefault(key, set()).add(piece)
    return {key: frozenset(pieces) for key, pieces in wanted.items()}


def diary_item_keys(table: str) -> set[tuple[str, str]]:
    return {
        (item["pk"]["S"], item["sk"]["S"]) for item in scan(table) if item.get("kind", {}).get("S") == "diary"
    }


def lock_items(table: str) -> list[dict[str, Any]]:
    return [item for item in scan(table) if keys.is_legacy_lock(item["pk"]["S"])]


def old_tenant(table: str) -> tuple[str, dict[str, Booking]]:
    """A tenant as the previous version left it: a booking with a buffer before (its old diary entry is
    keyed by its start, not its occupied start), one across UTC midnight, a cancelled one, a plain one."""
    tenant = str(ULID())
    bookings = {
        "buffered": a_booking(
            tenant, "ann", DAY.replace(hour=10), DAY.replace(hour=11), buffer_before=15, buffer_after=5
        ),
        "overnight": a_booking(
            tenant, "bob", DAY.replace(hour=22), DAY.replace(hour=2) + timedelta(days=1), buffer_after=10
        ),
        "cancelled": a_booking(tenant, "ann", DAY.replace(hour=12), DAY.replace(hour=13)).model_copy(
            update={"status": BookingStatus.CANCELLED, "version": 2}
        ),
        "plain": a_booking(tenant, "ann", DAY.replace(hour=14), DAY.replace(hour=15, minute=30)),
    }
    for booking in bookings.values():
        write_old_layout(table, booking)
    return tenant, bookings


def test_an_old_layout_is_rebuilt_into_the_ledger_and_a_second_run_writes_nothing(
    table: str, repository: DynamoBookingRepository
) -> None:
    tenant, bookings = old_tenant(table)
    client = boto3.client("dynamodb")
    assert lock_items(table)
    assert rebuild_ledger.has_old_layout(client, table)

    summary = rebuild_ledger.rebuild(client, table)

    assert summary.conflicts == []
    assert (summary.bookings, summary.holding_time) == (4, 3)
    # Sheets: exactly the active bookings' pieces (the overnight one has one on each day).
    stored = sheets(table)
    assert {key: intervals for key, (_, intervals) in stored.items()} == expected_sheets(
        list(bookings.values())
    )
    assert len(stored) == 3
    assert summary.sheets_written == 4  # ann's day is written once per booking on it
    assert stored[SheetKey(DAY.date(), "ann")][0] == 2
    # The diary: each booking's entries under its current keys, the stale ones gone.
    assert diary_item_keys(table) == {
        (key["pk"], key["sk"]) for booking in bookings.values() for key in diary_keys(booking)
    }
    buffered = bookings["buffered"]
    old_key = keys.diary_key(tenant, buffered.start, buffered.id)
    assert old_key not in diary_keys(buffered)
    assert (old_key["pk"], old_key["sk"]) not in diary_item_keys(table)
    # buffered: one new key, its old one deleted; overnight: the second day's entry
    assert (summary.diary_written, summary.diary_deleted) == (2, 1)
    assert lock_items(table) == []
    assert summary.locks_deleted == 16 + 50 + 18  # one per 5-minute unit: 1h20, 4h10 and 1h30 occupied
    assert not rebuild_ledger.has_old_layout(client, table)

    # Run again: no sheet, diary entry or lock is written or deleted.
    again = rebuild_ledger.rebuild(client, table)
    assert again.sheets_written == again.diary_written == again.diary_deleted == again.locks_deleted == 0
    assert again.conflicts == []
    assert sheets(table) == stored

    # The application sees it all: what is busy, what the diary shows, and what can no longer be booked.
    busy = repository.busy(tenant, DAY, DAY + timedelta(days=2))
    assert {(b.staff_id, b.start, b.end) for b in busy} == {  # one piece per UTC day
        ("ann", to_minute(bookings["buffered"].occupied_start), to_minute(bookings["buffered"].occupied_end)),
        ("ann", to_minute(bookings["plain"].occupied_start), to_minute(bookings["plain"].occupied_end)),
        ("bob", to_minute(bookings["overnight"].occupied_start), to_minute(DAY + timedelta(days=1))),
        ("bob", to_minute(DAY + timedelta(days=1)), to_minute(bookings["overnight"].occupied_end)),
    }
    diary = repository.diary(tenant, DAY, DAY + timedelta(days=2))
    assert {e.booking_id for e in diary} == {b.id for b in bookings.values()}
    assert repository.diary(tenant, DAY + timedelta(days=1), DAY + timedelta(days=2))[0].booking_id == (
        bookings["overnight"].id
    )
    for staff, start, end in [
        ("ann", DAY.replace(hour=9, minute=50), DAY.replace(hour=10, minute=20)),  # the buffer before
        ("bob", DAY.replace(hour=1) + timedelta(days=1), DAY.replace(hour=3) + timedelta(days=1)),
        ("ann", DAY.replace(hour=15), DAY.replace(hour=16)),
    ]:
        clash = a_booking(tenant, staff, start, end)
        with pytest.raises(SlotTaken):
            repository.save(clash, None, created(clash))
    # The cancelled booking's time is free.
    free = a_booking(tenant, "ann", DAY.replace(hour=12), DAY.replace(hour=13))
    repository.save(free, None, created(free))


def test_the_rebuild_is_additive_and_reports_overlaps_naming_both_bookings(
    table: str, repository: DynamoBookingRepository
) -> None:
    tenant, bookings = old_tenant(table)
    # Made by the new version before the rebuild ran (the API was not paused): kept as it is.
    meanwhile = a_booking(tenant, "cy", DAY.replace(hour=9), DAY.replace(hour=10))
    repository.save(meanwhile, None, created(meanwhile))
    # Two old bookings that overlap (the locks would have refused it; say, a hand-edited table).
    first = a_booking(tenant, "cy", DAY.replace(hour=11), DAY.replace(hour=12))
    second = a_booking(tenant, "cy", DAY.replace(hour=11, minute=30), DAY.replace(hour=12, minute=30))
    second = second.model_copy(update={"created_at": first.created_at + timedelta(minutes=1)})
    write_old_layout(table, first)
    write_old_layout(table, second)

    dry = rebuild_ledger.rebuild(boto3.client("dynamodb"), table, dry_run=True)
    # Planned against unchanged sheets: ann's and cy's days twice (two bookings each), bob's two days.
    assert dry.sheets_written == 6 and dry.locks_deleted > 0 and dry.conflicts == []
    assert lock_items(table) and len(sheets(table)) == 1  # a dry run changes nothing

    summary = rebuild_ledger.rebuild(boto3.client("dynamodb"), table)

    [conflict] = summary.conflicts
    assert second.id in conflict and first.id in conflict
    on_sheets = {key: intervals for key, (_, intervals) in sheets(table).items()}
    assert on_sheets == expected_sheets([*bookings.values(), meanwhile, first])
    assert lock_items(table) == []
    # Re-running reports the overlap again and changes nothing.
    again = rebuild_ledger.rebuild(boto3.client("dynamodb"), table)
    assert again.sheets_written == 0 and len(again.conflicts) == 1
    assert rebuild_ledger.main(["--table", table], client=boto3.client("dynamodb")) == 1


def test_the_local_stack_migrates_an_old_data_directory_once(table: str) -> None:
    client = boto3.client("dynamodb")
    assert rebuild_ledger.migrate_if_old_layout(client, table) is None  # nothing in it: nothing to do

    _, bookings = old_tenant(table)
    summary = rebuild_ledger.migrate_if_old_layout(client, table)

    assert summary is not None and summary.bookings == 4 and summary.conflicts == []
    assert lock_items(table) == []
    assert {key: intervals for key, (_, intervals) in sheets(table).items()} == expected_sheets(
        list(bookings.values())
    )
    # The next start finds the current layout: it does not run again.
    assert rebuild_ledger.migrate_if_old_layout(client, table) is None


def test_a_customer_email_that_looks_like_a_lock_is_not_the_old_layout() -> None:
    tenant = str(ULID())
    assert keys.is_legacy_lock(keys.legacy_lock_key(tenant, "ann", BASE)[keys.PK])
    assert not keys.is_legacy_lock(keys.customer_pk(tenant, "a#LOCK#b@example.com"))
    assert not keys.is_legacy_lock(keys.sheet_pk(tenant, "2026-11"))


def test_the_dev_server_migrates_through_the_journal_and_says_so(
    table: str,
    embedded_aws: tuple[Any, LocalResources],
    clock: ManualClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from local.devserver import migrate_old_layout

    aws, resources = embedded_aws
    store = Store(tmp_path, aws, resources.user_pool_id)
    store.start()  # as the dev server does before migrating: every write below is journaled
    try:
        _, bookings = old_tenant(table)
        migrate_old_layout(tmp_path, table, clock.now, stop=lambda: pytest.fail("it did not fail"))
    finally:
        store.stop()

    out = capsys.readouterr().out
    assert "Migrated the data directory to the time ledger: 4 booking(s)" in out
    # What the next start restores is what the table holds now: the ledger, and no lock item.
    state = load_state(tmp_path, lambda _, item: {"pk": item["pk"], "sk": item["sk"]})
    assert state is not None
    assert sorted(state.tables[table].values(), key=str) == sorted(scan(table), key=str)
    assert not [item for item in state.tables[table].values() if keys.is_legacy_lock(item["pk"]["S"])]
    assert {key: intervals for key, (_, intervals) in sheets(table).items()} == expected_sheets(
        list(bookings.values())
    )
    # The next start: nothing to migrate, nothing said.
    migrate_old_layout(tmp_path, table, clock.now, stop=lambda: pytest.fail("it did not fail"))
    assert "Migrated" not in capsys.readouterr().out


def test_a_data_directory_that_cannot_be_migrated_is_refused_naming_make_dev_reset(
    table: str,
    clock: ManualClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from local.devserver import migrate_old_layout

    old_tenant(table)

    def broken(*args: Any, **kwargs: Any) -> rebuild_ledger.Summary:
        raise rebuild_ledger.RebuildFailed("booking 01ABC kept changing; run again")

    monkeypatch.setattr(rebuild_ledger, "rebuild", broken)
    stopped = []
    with pytest.raises(SystemExit) as exit_:
        migrate_old_layout(tmp_path, table, clock.now, stop=lambda: stopped.append(True))

    assert exit_.value.code == 1 and stopped == [True]
    err = capsys.readouterr().err
    assert "could not be migrated: booking 01ABC kept changing" in err and "make dev-reset" in err
    assert lock_items(table)  # nothing half-done is taken for done: the next start tries again
