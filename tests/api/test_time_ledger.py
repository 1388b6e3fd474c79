"""The time ledger on real DynamoDB semantics (the embedded AWS): holds, bookings of any length, racing
writers on one sheet, and a property test that drives random sequences of changes through the repository
and checks the sheets against the bookings after every step."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, initialize, invariant, rule
from ulid import ULID

from booking import deadline, retry
from booking.adapters.dynamodb import bookings as bookings_adapter
from booking.adapters.dynamodb import keys
from booking.adapters.dynamodb.bookings import DynamoBookingRepository, booking_claim
from booking.adapters.dynamodb.ledger import decode
from booking.domain.booking import (
    Booking,
    BookingStatus,
)
from booking.domain.errors import SlotTaken, Unavailable
from booking.domain.ledger import Claim, IntervalKind, SheetKey, overlapping
from local.aws import LocalResources
from tests.support.ledger_fixtures import a_booking, created
from tests.support.notification_fixtures import ManualClock

# Monday 2 November 2026, 09:00 UTC: well ahead, so nothing here is "in the past".
BASE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
STAFF = ("ann", "bob", "cy")


def changed(booking: Booking, **update: Any) -> Booking:
    return booking.model_copy(update={**update, "version": booking.version + 1})


def stored_sheets(resources: LocalResources, tenant_id: str, months: list[str]) -> dict[SheetKey, Any]:
    """Every sheet item of the tenant in those months, read straight from the table."""
    client = boto3.client("dynamodb")
    found = {}
    for month in months:
        pages = client.get_paginator("query").paginate(
            TableName=resources.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.sheet_pk(tenant_id, month)}},
            ConsistentRead=True,
        )
        for page in pages:
            for item in page["Items"]:
                day, staff_id = keys.sheet_day_and_staff(month, item["sk"]["S"])
                found[SheetKey(day, staff_id)] = item
    return found


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(BASE - timedelta(days=1))


@pytest.fixture
def repository(resources: LocalResources, clock: ManualClock) -> DynamoBookingRepository:
    return DynamoBookingRepository(boto3.client("dynamodb"), resources.table_name, clock)


@pytest.fixture
def tenant_id() -> str:
    return str(ULID())


# --- bookings of any length -------------------------------------------------------------------------


def test_a_ten_hour_booking_and_a_three_day_booking_hold_all_their_time(
    repository: DynamoBookingRepository, resources: LocalResources, tenant_id: str
) -> None:
    day = BASE.replace(hour=7)
    ten_hours = a_booking(tenant_id, "ann", day, day + timedelta(hours=10))
    three_days = a_booking(tenant_id, "bob", day, day + timedelta(days=2, hours=9), buffer_after=30)
    repository.save(ten_hours, None, created(ten_hours))
    repository.save(three_days, None, created(three_days))

    for staff, moment in (("ann", day + timedelta(hours=9, minutes=59)), ("bob", day + timedelta(days=1))):
        clash = a_booking(tenant_id, staff, moment, moment + timedelta(minutes=1))
        with pytest.raises(SlotTaken):
            repository.save(clash, None, created(clash))
    # The buffer after the three-day job is its time too; the minute after it is free.
    end = three_days.occupied_end
    with pytest.raises(SlotTaken):
        late = a_booking(tenant_id, "bob", end - timedelta(minutes=1), end + timedelta(minutes=5))
        repository.save(late, None, created(late))
    after = a_booking(tenant_id, "bob", end, end + timedelta(minutes=7))
    repository.save(after, None, created(after))

    sheets = stored_sheets(resources, tenant_id, ["2026-11"])
    assert sorted(k.day.day for k in sheets if k.staff_id == "bob") == [2, 3, 4]
    # The calendar of the middle day shows the three-day job once.
    middle = day + timedelta(days=1)
    assert [e.booking_id for e in repository.diary(tenant_id, middle, middle + timedelta(hours=1))] == [
        three_days.id
    ]
    busy = repository.busy(tenant_id, middle, middle + timedelta(days=1))
    assert {(b.staff_id, b.owner) for b in busy} == {("bob", three_days.id[-10:])}


def test_a_booking_across_a_clock_change_holds_its_real_minutes(
    repository: DynamoBookingRepository, tenant_id: str
) -> None:
    # London falls back at 01:00 UTC on 25 October 2026: 00:30-02:30 UTC is four hours on the wall clock
    # (01:30 BST .. 02:30 GMT) and two real hours.
    start = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    night = a_booking(tenant_id, "ann", start, start + timedelta(hours=2))
    repository.save(night, None, created(night))
    busy = repository.busy(tenant_id, start - timedelta(hours=1), start + timedelta(hours=3))
    assert [(b.end - b.start) for b in busy] == [120]
    with pytest.raises(SlotTaken):
        clash = a_booking(tenant_id, "ann", start + timedelta(minutes=119), start + timedelta(hours=3))
        repository.save(clash, None, created(clash))


def test_reschedule_reassign_and_cancel_move_the_time_in_the_same_write(
    repository: DynamoBookingRepository, resources: LocalResources, tenant_id: str
) -> None:
    job = a_booking(tenant_id, "ann", BASE, BASE + timedelta(days=1, hours=2))
    repository.save(job, None, created(job))
    moved = changed(job, start=BASE + timedelta(days=3), end=BASE + timedelta(days=4, hours=2))
    moved = moved.model_copy(update={"occupied_start": moved.start, "occupied_end": moved.end})
    repository.save(moved, job, created(moved))
    sheets = stored_sheets(resources, tenant_id, ["2026-11"])
    assert sorted(k.day.day for k in sheets) == [5, 6]  # the old days' sheets are gone with their time

    reassigned = changed(moved, staff_id="bob")
    repository.save(reassigned, moved, created(reassigned))
    assert {k.staff_id for k in stored_sheets(resources, tenant_id, ["2026-11"])} == {"bob"}

    cancelled = changed(reassigned, status=BookingStatus.CANCELLED)
    repository.save(cancelled, reassigned, created(cancelled))
    assert stored_sheets(resources, tenant_id, ["2026-11"]) == {}
    again = a_booking(tenant_id, "bob", moved.start, moved.end)
    repository.save(again, None, created(again))


# --- holds --------------------------------------------------------------------------------------------


def test_a_hold_blocks_until_it_expires_then_blocks_nobody_without_any_cleanup(
    repository: DynamoBookingRepository, resources: LocalResources, clock: ManualClock, tenant_id: str
) -> None:
    expires = clock.now() + timedelta(minutes=15)
    held = Claim.of("ann", BASE, BASE + timedelta(hours=1), str(ULID()), IntervalKind.HOLD, expires)
    repository.hold(tenant_id, held)
    rival = a_booking(tenant_id, "ann", BASE + timedelta(minutes=30), BASE + timedelta(minutes=90))
    with pytest.raises(SlotTaken):
        repository.save(rival, None, created(rival))
    assert repository.busy(tenant_id, BASE, BASE + timedelta(hours=1))

    clock.set(expires)
    # Nothing removed the hold: it is still on the stored sheet, with no TTL attribute to wait for.
    [sheet] = stored_sheets(resources, tenant_id, ["2026-11"]).values()
    assert [i.kind for i in decode(sheet["t"]["S"])] == [IntervalKind.HOLD]
    assert "expires_at" not in sheet
    assert repository.busy(tenant_id, BASE, BASE + timedelta(hours=1)) == []
    repository.save(rival, None, created(rival))
    [sheet] = stored_sheets(resources, tenant_id, ["2026-11"]).values()
    assert [i.kind for i in decode(sheet["t"]["S"])] == [IntervalKind.BOOKING]


def test_a_hold_becomes_a_booking_in_one_transaction(
    repository: DynamoBookingRepository, resources: LocalResources, clock: ManualClock, tenant_id: str
) -> None:
    booking = a_booking(tenant_id, "ann", BASE, BASE + timedelta(hours=1))
    held = Claim.of(
        "ann",
        BASE,
        BASE + timedelta(hours=1),
        booking.id,
        IntervalKind.HOLD,
        clock.now() + timedelta(minutes=15),
    )
    repository.hold(tenant_id, held)
    transactions: list[int] = []
    client = boto3.client("dynamodb")
    client.meta.events.register(
        "provide-client-params.dynamodb.TransactWriteItems",
        lambda params, **_: transactions.append(len(params["TransactItems"])),
    )
    DynamoBookingRepository(client, resources.table_name, clock).save(
        booking, None, created(booking), from_hold=held
    )
    assert len(transactions) == 1
    [sheet] = stored_sheets(resources, tenant_id, ["2026-11"]).values()
    [interval] = decode(sheet["t"]["S"])
    assert (interval.kind, interval.owner) == (IntervalKind.BOOKING, booking.id[-10:])
    assert repository.get(tenant_id, booking.id) is not None


def test_a_hold_is_released_and_its_time_is_free_again(
    repository: DynamoBookingRepository, clock: ManualClock, tenant_id: str
) -> None:
    held = Claim.of(
        "ann",
        BASE,
        BASE + timedelta(hours=1),
        str(ULID()),
        IntervalKind.HOLD,
        clock.now() + timedelta(hours=48),
    )
    repository.hold(tenant_id, held)
    with pytest.raises(SlotTaken):
        repository.hold(
            tenant_id,
            Claim.of(
                "ann",
                BASE,
                BASE + timedelta(hours=1),
                "other",
                IntervalKind.HOLD,
                clock.now() + timedelta(hours=1),
            ),
        )
    repository.release_hold(tenant_id, held)
    assert repository.busy(tenant_id, BASE, BASE + timedelta(hours=1)) == []


def test_turning_an_expired_hold_into_a_booking_fails_if_its_time_was_taken_meanwhile(
    repository: DynamoBookingRepository, clock: ManualClock, tenant_id: str
) -> None:
    """A payment that succeeds after its hold lapsed and someone else booked the time: refused, so the
    payment can be refunded; nothing of the late booking is written."""
    late = a_booking(tenant_id, "ann", BASE, BASE + timedelta(hours=1))
    held = Claim.of(
        "ann",
        BASE,
        BASE + timedelta(hours=1),
        late.id,
        IntervalKind.HOLD,
        clock.now() + timedelta(minutes=15),
    )
    repository.hold(tenant_id, held)
    clock.set(clock.now() + timedelta(minutes=20))
    other = a_booking(tenant_id, "ann", BASE, BASE + timedelta(minutes=30))
    repository.save(other, None, created(other))
    with pytest.raises(SlotTaken):
        repository.save(late, None, created(late), from_hold=held)
    assert repository.get(tenant_id, late.id) is None


# --- racing writers on one sheet ----------------------------------------------------------------------


def test_concurrent_bookings_of_different_times_on_one_sheet_all_succeed(
    repository: DynamoBookingRepository, resources: LocalResources, tenant_id: str
) -> None:
    """Twelve writers, one staff member, one day, twelve different hours: every version conflict is
    absorbed by a re-read and a retry, and every booking lands."""
    bookings = [
        a_booking(tenant_id, "ann", BASE + timedelta(hours=h), BASE + timedelta(hours=h, minutes=55))
        for h in range(-8, 4)
    ]
    barrier = threading.Barrier(len(bookings))
    failures: list[BaseException] = []

    def book(booking: Booking) -> None:
        barrier.wait()
        try:
            repository.save(booking, None, created(booking))
        except BaseException as error:  # reported below
            failures.append(error)

    transactions: list[str] = []
    client = boto3.client("dynamodb")
    client.meta.events.register(
        "provide-client-params.dynamodb.TransactWriteItems", lambda params, **_: transactions.append("tx")
    )
    repository = DynamoBookingRepository(client, resources.table_name, ManualClock(BASE - timedelta(days=1)))
    threads = [threading.Thread(target=book, args=(b,)) for b in bookings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    [sheet] = stored_sheets(resources, tenant_id, ["2026-11"]).values()
    assert sorted(i.owner for i in decode(sheet["t"]["S"])) == sorted(b.id[-10:] for b in bookings)
    # They did race: more transactions were tried than bookings made (each loser re-read and retried).
    assert len(transactions) > len(bookings)


# --- random sequences against the repository -----------------------------------------------------------


@dataclass
class Model:
    bookings: dict[str, Booking] = field(default_factory=dict)  # active (holding time)
    holds: dict[str, Claim] = field(default_factory=dict)


class LedgerMachine(RuleBasedStateMachine):
    """Book, reschedule, reassign, cancel, hold, release and let time pass, in any order. The repository
    must accept exactly what a brute-force model accepts, and after every step each staff member's active
    intervals never overlap and every active booking's time is on exactly the sheets it should be."""

    resources: LocalResources

    booked = Bundle("booked")
    held = Bundle("held")

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(BASE - timedelta(days=1))
        self.repo = DynamoBookingRepository(boto3.client("dynamodb"), self.resources.table_name, self.clock)
        self.tenant = str(ULID())
        self.model = Model()

    @initialize()
    def start(self) -> None:
        pass

    # --- the model -----------------------------------------------------------------------------------

    def _active_claims(self, ignore: str | None = None) -> list[Claim]:
        now = self.clock.now()
        claims = [booking_claim(b) for b in self.model.bookings.values() if b.id != ignore]
        claims += [
            h
            for h in self.model.holds.values()
            if h.expires_at and h.expires_at > now.timestamp() and h.owner_id != ignore
        ]
        return claims

    def _free(self, claim: Claim, ignore: str | None = None) -> bool:
        return not any(
            c.staff_id == claim.staff_id and c.start < claim.end and claim.start < c.end
            for c in self._active_claims(ignore)
        )

    # --- rules ----------------------------------------------------------------------------------------

    @rule(
        target=booked,
        staff=st.sampled_from(STAFF),
        offset=st.integers(0, 4 * 24 * 60),
        length=st.integers(1, 3 * 24 * 60),
    )
    def book(self, staff: str, offset: int, length: int) -> str:
        start = BASE + timedelta(minutes=offset)
        booking = a_booking(self.tenant, staff, start, start + timedelta(minutes=length))
        expected = self._free(booking_claim(booking))
        try:
            self.repo.save(booking, None, created(booking))
        except SlotTaken:
            assert not expected, "refused a free time"
            return ""
        assert expected, "booked a taken time"
        self.model.bookings[booking.id] = booking
        return booking.id

    @rule(booking_id=booked, shift=st.integers(-600, 600), staff=st.sampled_from((None, *STAFF)))
    def move(self, booking_id: str, shift: int, staff: str | None) -> None:
        booking = self.model.bookings.get(booking_id)
        if booking is None:
            return
        delta = timedelta(minutes=shift)
        moved = changed(
            booking,
            start=booking.start + delta,
            end=booking.end + delta,
            occupied_start=booking.occupied_start + delta,
            occupied_end=booking.occupied_end + delta,
            staff_id=staff or booking.staff_id,
        )
        expected = self._free(booking_claim(moved), ignore=booking.id)
        try:
            self.repo.save(moved, booking, created(moved))
        except SlotTaken:
            assert not expected, "refused a free time"
            return
        assert expected, "moved onto a taken time"
        self.model.bookings[booking_id] = moved

    @rule(booking_id=consumes(booked))
    def cancel(self, booking_id: str) -> None:
        booking = self.model.bookings.pop(booking_id, None)
        if booking is not None:
            cancelled = changed(booking, status=BookingStatus.CANCELLED)
            self.repo.save(cancelled, booking, created(cancelled))

    @rule(
        target=held,
        staff=st.sampled_from(STAFF),
        offset=st.integers(0, 4 * 24 * 60),
        length=st.integers(1, 600),
        minutes=st.integers(1, 120),
    )
    def hold(self, staff: str, offset: int, length: int, minutes: int) -> str:
        start = BASE + timedelta(minutes=offset)
        claim = Claim.of(
            staff,
            start,
            start + timedelta(minutes=length),
            str(ULID()),
            IntervalKind.HOLD,
            self.clock.now() + timedelta(minutes=minutes),
        )
        expected = self._free(claim)
        try:
            self.repo.hold(self.tenant, claim)
        except SlotTaken:
            assert not expected, "refused a free hold"
            return ""
        assert expected, "held a taken time"
        self.model.holds[claim.owner_id] = claim
        return claim.owner_id

    @rule(hold_id=consumes(held))
    def release(self, hold_id: str) -> None:
        claim = self.model.holds.pop(hold_id, None)
        if claim is not None:
            self.repo.release_hold(self.tenant, claim)

    @rule(hold_id=consumes(held))
    def confirm_hold(self, hold_id: str) -> None:
        claim = self.model.holds.pop(hold_id, None)
        if claim is None:
            return
        booking = a_booking(
            self.tenant, claim.staff_id, _at(claim.start), _at(claim.end), booking_id=claim.owner_id
        )
        expected = self._free(booking_claim(booking), ignore=claim.owner_id)
        try:
            self.repo.save(booking, None, created(booking), from_hold=claim)
        except SlotTaken:
            assert not expected, "refused a held time"
            return
        assert expected, "confirmed a hold onto a taken time"
        self.model.bookings[booking.id] = booking

    @rule(minutes=st.integers(1, 180))
    def time_passes(self, minutes: int) -> None:
        self.clock.set(self.clock.now() + timedelta(minutes=minutes))

    # --- what must always hold ------------------------------------------------------------------------

    @invariant()
    def sheets_match_the_bookings(self) -> None:
        now = self.clock.now()
        sheets = stored_sheets(self.resources, self.tenant, ["2026-11", "2026-12"])
        stored = {key: decode(item["t"]["S"]) for key, item in sheets.items()}
        for key, intervals in stored.items():
            assert overlapping(intervals, now) == [], f"overlap on {key}"
        booked_pieces = {
            (key, piece)
            for key, intervals in stored.items()
            for piece in intervals
            if piece.kind is IntervalKind.BOOKING
        }
        expected = {
            (key, piece)
            for b in self.model.bookings.values()
            for key, piece in booking_claim(b).pieces().items()
        }
        assert booked_pieces == expected


def _at(minute: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)


@pytest.fixture
def machine(resources: LocalResources) -> Iterator[type[LedgerMachine]]:
    LedgerMachine.resources = resources
    yield LedgerMachine


def test_random_sequences_keep_the_ledger_true(machine: type[LedgerMachine]) -> None:
    runner = machine.TestCase()
    runner.settings = settings(
        max_examples=25,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    runner.runTest()


class _AlwaysConflicting:
    """DynamoDB as it answers when other transactions keep writing the same sheet: every
    TransactWriteItems is cancelled with TransactionConflict (AWS's answer, which moto, serialising
    transactions, never gives). Everything else goes to the embedded DynamoDB."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.attempts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **request: Any) -> Any:
        self.attempts += 1
        reasons = [{"Code": "None"}] * (len(request["TransactItems"]) - 1) + [{"Code": "TransactionConflict"}]
        answer: Any = {
            "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
            "CancellationReasons": reasons,
        }
        raise ClientError(answer, "TransactWriteItems")


def test_a_change_that_keeps_losing_races_gives_up_as_slot_taken_after_a_bounded_number_of_tries(
    resources: LocalResources, clock: ManualClock, tenant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retry, "BASE_SECONDS", 0.0)
    client = _AlwaysConflicting(boto3.client("dynamodb"))
    repository = DynamoBookingRepository(client, resources.table_name, clock)  # type: ignore[arg-type]
    booking = a_booking(tenant_id, "ann", BASE, BASE + timedelta(hours=1))
    with pytest.raises(SlotTaken):
        repository.save(booking, None, created(booking))
    assert client.attempts == bookings_adapter.ATTEMPTS
    assert repository.get(tenant_id, booking.id) is None
    assert stored_sheets(resources, tenant_id, ["2026-11"]) == {}


def test_a_change_that_keeps_losing_races_gives_up_with_a_503_before_the_deadline_and_writes_nothing(
    resources: LocalResources, clock: ManualClock, tenant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 1.5 s left (a function near its timeout) the write does not wait out twelve rounds of pauses
    and be killed mid-way: it stops as soon as another round would not fit."""
    monkeypatch.setattr(
        retry, "BASE_SECONDS", retry.CAP_SECONDS
    )  # every pause up to 0.4 s: 12 rounds > 1.5 s
    client = _AlwaysConflicting(boto3.client("dynamodb"))
    repository = DynamoBookingRepository(client, resources.table_name, clock)  # type: ignore[arg-type]
    booking = a_booking(tenant_id, "ann", BASE + timedelta(hours=2), BASE + timedelta(hours=3))
    started = time.monotonic()
    with deadline.within(1.5 + deadline.RESERVE_SECONDS), pytest.raises(Unavailable) as refused:
        repository.save(booking, None, created(booking))
    assert time.monotonic() - started < 1.5 + 0.5  # stopped inside its deadline
    assert refused.value.retry_after > 0
    assert 1 <= client.attempts < bookings_adapter.ATTEMPTS
    assert repository.get(tenant_id, booking.id) is None
