"""The time ledger: whose time is taken, kept as one *sheet* per staff member and UTC day.

A sheet lists the day's occupied intervals (minutes from the sheet's UTC midnight, so any whole minute
and any length) and carries a version. A change reads the sheets it touches, plans the new ones here, and
writes them conditioned on the versions it read: the database refuses the write if anyone changed a
sheet meanwhile, and the change is re-planned against what is there now. Two active intervals of one
staff member can therefore never overlap, whatever their length or alignment.

An interval is a booking's occupancy (buffers included) or a *hold* with an explicit expiry: a slot kept
while a customer pays, or a time proposed to a customer. An expired hold blocks nobody, whether or not it
has been cleaned up (plans drop expired holds from the sheets they rewrite; nothing relies on TTL).

A booking longer than its day has one piece on every sheet it touches. Pieces name their owner by a tag,
the last characters of the owner's id (the random part of a ULID): with the piece's own times, that is all
a release needs, and it keeps a busy month small enough to read in one go.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

DAY_MINUTES = 24 * 60
TAG_LENGTH = 10
_EPOCH_DAY = date(1970, 1, 1)


class IntervalKind(StrEnum):
    BOOKING = "b"
    HOLD = "h"


class TimeTaken(Exception):
    """The time is held by someone else (another booking, or a hold that has not expired)."""


def tag(owner_id: str) -> str:
    """How a sheet names the booking or hold an interval belongs to."""
    return owner_id[-TAG_LENGTH:]


def day_start_minute(day: date) -> int:
    return (day - _EPOCH_DAY).days * DAY_MINUTES


def minute_day(minute: int) -> date:
    return _EPOCH_DAY + timedelta(days=minute // DAY_MINUTES)


@dataclass(frozen=True, order=True)
class Interval:
    start: int  # minutes from the sheet's UTC midnight, 0 <= start < end <= 1440
    end: int
    owner: str  # tag() of the booking or hold id
    kind: IntervalKind = IntervalKind.BOOKING
    expires_at: int | None = None  # epoch seconds; holds only

    def active(self, now: datetime) -> bool:
        return self.expires_at is None or now.timestamp() < self.expires_at

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, order=True)
class SheetKey:
    day: date  # UTC
    staff_id: str


@dataclass(frozen=True)
class Sheet:
    key: SheetKey
    version: int = 0  # 0: not stored yet
    intervals: tuple[Interval, ...] = ()


@dataclass(frozen=True)
class Claim:
    """Time a booking or hold occupies: [start, end) in epoch minutes for one staff member."""

    staff_id: str
    start: int
    end: int
    owner_id: str
    kind: IntervalKind = IntervalKind.BOOKING
    expires_at: int | None = None  # epoch seconds; holds only

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a claim ends after it starts")
        if (self.kind is IntervalKind.HOLD) != (self.expires_at is not None):
            raise ValueError("holds, and only holds, have an expiry")

    @classmethod
    def of(
        cls,
        staff_id: str,
        start: datetime,
        end: datetime,
        owner_id: str,
        kind: IntervalKind = IntervalKind.BOOKING,
        expires_at: datetime | None = None,
    ) -> Claim:
        return cls(
            staff_id,
            _minute(start),
            _minute(end),
            owner_id,
            kind,
            int(expires_at.timestamp()) if expires_at is not None else None,
        )

    def pieces(self) -> dict[SheetKey, Interval]:
        """The interval this claim puts on each sheet (UTC day) it touches."""
        pieces = {}
        day = minute_day(self.start)
        while day_start_minute(day) < self.end:
            base = day_start_minute(day)
            pieces[SheetKey(day, self.staff_id)] = Interval(
                max(self.start, base) - base,
                min(self.end, base + DAY_MINUTES) - base,
                tag(self.owner_id),
                self.kind,
                self.expires_at,
            )
            day += timedelta(days=1)
        return pieces


def _minute(instant: datetime) -> int:
    if instant.tzinfo is None:
        raise ValueError("an instant needs its offset")
    delta = instant.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    if delta % timedelta(minutes=1):
        raise ValueError("the ledger holds whole minutes")
    return delta // timedelta(minutes=1)


def sheets_touched(claims: Iterable[Claim]) -> list[SheetKey]:
    return sorted({key for claim in claims for key in claim.pieces()})


@dataclass
class Plan:
    """The sheets a change rewrites, each with the version it was read at (0: create it)."""

    sheets: list[Sheet] = field(default_factory=list)
    read_versions: dict[SheetKey, int] = field(default_factory=dict)


def plan(
    current: Mapping[SheetKey, Sheet],
    *,
    release: Sequence[Claim] = (),
    claim: Sequence[Claim] = (),
    now: datetime,
) -> Plan:
    """The sheets after releasing `release` and claiming `claim` (in that order, so a booking can move
    within its own time). `current` holds every sheet the claims touch (missing = empty).

    Raises TimeTaken when a claimed piece overlaps an active interval, and ValueError when the claims
    overlap one another (a booking cannot overlap itself).
    """
    keys = sheets_touched([*release, *claim])
    working: dict[SheetKey, list[Interval]] = {
        key: list(current.get(key, Sheet(key)).intervals) for key in keys
    }
    for released in release:
        for key, piece in released.pieces().items():
            # Releasing what is not there is nothing to do: an expired hold may already have been dropped.
            if piece in working[key]:
                working[key].remove(piece)
    added: set[tuple[SheetKey, Interval]] = set()
    for wanted in claim:
        for key, piece in wanted.pieces().items():
            intervals = working[key]
            for existing in intervals:
                if not existing.overlaps(piece) or not existing.active(now):
                    continue
                if (key, existing) in added:
                    raise ValueError(f"{wanted.owner_id} would overlap itself on {key.day}")
                raise TimeTaken(f"{key.staff_id} is busy on {key.day}")
            intervals.append(piece)
            added.add((key, piece))

    result = Plan()
    for key in keys:
        before = current.get(key, Sheet(key))
        after = tuple(sorted(i for i in working[key] if i.active(now)))
        if after == tuple(sorted(i for i in before.intervals if i.active(now))):
            continue  # expired holds alone are not worth a write: they block nobody
        result.sheets.append(Sheet(key, before.version + 1, after))
        result.read_versions[key] = before.version
    return result


def overlapping(intervals: Iterable[Interval], now: datetime) -> list[tuple[Interval, Interval]]:
    """Neighbouring active intervals that overlap (a correct sheet has none; sorted by start, some pair
    overlaps exactly when some neighbouring pair does)."""
    active = sorted(i for i in intervals if i.active(now))
    return [(a, b) for a, b in itertools.pairwise(active) if a.overlaps(b)]
