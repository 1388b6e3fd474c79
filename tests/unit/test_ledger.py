"""The time ledger's pure planning (domain/ledger.py): pieces per UTC day, overlap, holds, release."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from booking.adapters.dynamodb.ledger import decode, encode
from booking.domain.ledger import (
    Claim,
    Interval,
    IntervalKind,
    Sheet,
    SheetKey,
    TimeTaken,
    overlapping,
    plan,
    tag,
)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
DAY = date(2026, 12, 2)
ANN = "ann"


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def booking(owner: str, start: datetime, end: datetime, staff: str = ANN) -> Claim:
    return Claim.of(staff, start, end, owner)


def hold(owner: str, start: datetime, end: datetime, expires: datetime, staff: str = ANN) -> Claim:
    return Claim.of(staff, start, end, owner, IntervalKind.HOLD, expires)


def apply(sheets: dict[SheetKey, Sheet], **change: object) -> dict[SheetKey, Sheet]:
    """Plans a change and stores it, as the repository's transaction would."""
    result = plan(sheets, now=change.pop("now", NOW), **change)  # type: ignore[arg-type]
    stored = dict(sheets)
    for sheet in result.sheets:
        assert result.read_versions[sheet.key] == sheets.get(sheet.key, Sheet(sheet.key)).version
        stored[sheet.key] = sheet
    return stored


def test_a_booking_is_one_piece_on_its_day_at_any_minute() -> None:
    claim = booking("01JBOOKING0000000000000007", at(9, 7), at(9, 57))
    assert claim.pieces() == {SheetKey(DAY, ANN): Interval(9 * 60 + 7, 9 * 60 + 57, tag(claim.owner_id))}
    assert tag(claim.owner_id) == "0000000007"


def test_a_three_day_job_has_a_piece_on_every_day_it_touches() -> None:
    claim = booking("job", at(8, 0), at(17, 30, DAY + timedelta(days=2)))
    pieces = claim.pieces()
    assert sorted(k.day for k in pieces) == [DAY, DAY + timedelta(days=1), DAY + timedelta(days=2)]
    assert [(p.start, p.end) for _, p in sorted(pieces.items())] == [(480, 1440), (0, 1440), (0, 1050)]


def test_a_booking_ending_at_midnight_does_not_touch_the_next_day() -> None:
    claim = booking("late", at(22, 0), at(0, 0, DAY + timedelta(days=1)))
    assert list(claim.pieces()) == [SheetKey(DAY, ANN)]


def test_claims_are_whole_minutes_that_end_after_they_start() -> None:
    with pytest.raises(ValueError, match="ends after"):
        booking("x", at(10), at(10))
    with pytest.raises(ValueError, match="whole minutes"):
        booking("x", at(10) + timedelta(seconds=30), at(11))
    with pytest.raises(ValueError, match="expiry"):
        Claim.of(ANN, at(10), at(11), "x", IntervalKind.HOLD)


def test_overlapping_time_is_refused_and_touching_time_is_not() -> None:
    sheets = apply({}, claim=[booking("first", at(10), at(11))])
    with pytest.raises(TimeTaken):
        plan(sheets, claim=[booking("second", at(10, 59), at(12))], now=NOW)
    sheets = apply(sheets, claim=[booking("second", at(11), at(12))])
    assert [i.owner for i in sheets[SheetKey(DAY, ANN)].intervals] == ["first", "second"]
    assert sheets[SheetKey(DAY, ANN)].version == 2


def test_other_staff_members_time_is_theirs() -> None:
    sheets = apply({}, claim=[booking("first", at(10), at(11))])
    sheets = apply(sheets, claim=[booking("second", at(10), at(11), staff="bob")])
    assert {k.staff_id for k in sheets} == {ANN, "bob"}


def test_a_move_releases_before_it_claims_so_a_booking_can_shift_within_its_own_time() -> None:
    sheets = apply({}, claim=[booking("b1", at(10), at(11))])
    sheets = apply(
        sheets, release=[booking("b1", at(10), at(11))], claim=[booking("b1", at(10, 30), at(11, 30))]
    )
    assert sheets[SheetKey(DAY, ANN)].intervals == (Interval(630, 690, "b1"),)


def test_a_booking_cannot_overlap_itself() -> None:
    with pytest.raises(ValueError, match="overlap itself"):
        plan({}, claim=[booking("b1", at(10), at(11)), booking("b1", at(10, 30), at(12))], now=NOW)


def test_an_unchanged_claim_writes_nothing() -> None:
    claim = booking("b1", at(10), at(11))
    sheets = apply({}, claim=[claim])
    assert plan(sheets, release=[claim], claim=[claim], now=NOW).sheets == []


def test_releasing_the_last_interval_empties_the_sheet() -> None:
    claim = booking("b1", at(10), at(11))
    sheets = apply({}, claim=[claim])
    result = plan(sheets, release=[claim], now=NOW)
    assert [(s.intervals, s.version) for s in result.sheets] == [((), 2)]


def test_a_hold_blocks_until_it_expires_and_then_blocks_nobody() -> None:
    expires = NOW + timedelta(minutes=15)
    sheets = apply({}, claim=[hold("pay", at(10), at(11), expires)])
    with pytest.raises(TimeTaken):
        plan(sheets, claim=[booking("other", at(10), at(11))], now=expires - timedelta(seconds=1))
    # No cleanup ran: the expired hold is still on the stored sheet, and still blocks nobody.
    assert sheets[SheetKey(DAY, ANN)].intervals[0].kind is IntervalKind.HOLD
    after = apply(sheets, claim=[booking("other", at(10), at(11))], now=expires)
    assert [i.owner for i in after[SheetKey(DAY, ANN)].intervals] == ["other"]  # dropped when rewritten


def test_a_hold_becomes_its_booking_in_one_plan() -> None:
    held = hold("01JPAYMENT0000000000000001", at(10), at(11), NOW + timedelta(minutes=15))
    sheets = apply({}, claim=[held])
    sheets = apply(sheets, release=[held], claim=[booking("01JBOOKING0000000000000001", at(10), at(11))])
    [interval] = sheets[SheetKey(DAY, ANN)].intervals
    assert (interval.kind, interval.owner, interval.expires_at) == (IntervalKind.BOOKING, "0000000001", None)


def test_releasing_an_expired_hold_that_was_already_dropped_is_nothing_to_do() -> None:
    held = hold("pay", at(10), at(11), NOW + timedelta(minutes=15))
    later = NOW + timedelta(hours=1)
    sheets = apply({}, claim=[held])
    sheets = apply(sheets, claim=[booking("other", at(12), at(13))], now=later)  # drops the hold
    assert plan(sheets, release=[held], now=later).sheets == []


def test_sheets_encode_compactly_and_round_trip() -> None:
    intervals = (
        Interval(540, 610, "7QK2M9XW3A"),
        Interval(700, 730, "Z81PQRSTUV", IntervalKind.HOLD, 1_764_500_000),
    )
    text = encode(intervals)
    assert text == "540,610,b,7QK2M9XW3A 700,730,h,Z81PQRSTUV,1764500000"
    assert decode(text) == intervals
    assert decode("") == ()


def test_overlapping_finds_what_a_correct_sheet_never_has() -> None:
    assert overlapping([Interval(0, 10, "a"), Interval(10, 20, "b")], NOW) == []
    assert overlapping([Interval(0, 100, "a"), Interval(10, 20, "b"), Interval(50, 60, "c")], NOW)


def test_a_stale_piece_of_the_same_booking_is_taken_time_not_a_crash() -> None:
    """A sheet that still holds an old piece of a booking (say, written before an upgrade) blocks like any
    other: the change is refused as taken time rather than failing."""
    sheets = apply({}, claim=[booking("b1", at(10), at(11))])
    with pytest.raises(TimeTaken):
        plan(sheets, claim=[booking("b1", at(10, 30), at(11, 30))], now=NOW)
