"""Bookings (with the time ledger behind them) and recurring series."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from booking.domain.availability import Busy
from booking.domain.booking import Booking, HistoryEntry
from booking.domain.diary import DiaryEntry
from booking.domain.ledger import Claim
from booking.domain.series import Series


class BookingRepository(Protocol):
    def diary(self, tenant_id: str, start: datetime, end: datetime) -> list[DiaryEntry]:
        """Entries whose occupied time overlaps [start, end), oldest first, strongly consistent."""
        ...

    def busy(
        self, tenant_id: str, start: datetime, end: datetime, ignore_booking: str | None = None
    ) -> list[Busy]:
        """The occupied time (buffers included) of bookings that hold time and overlap [start, end):
        just what the slot engine needs. Strongly consistent."""
        ...

    def get(self, tenant_id: str, booking_id: str) -> tuple[Booking, list[HistoryEntry]] | None:
        """The booking with its history (oldest first)."""
        ...

    def save(
        self,
        booking: Booking,
        previous: Booking | None,
        entry: HistoryEntry,
        *,
        enforce_unblocked: bool = False,
        from_hold: Claim | None = None,
    ) -> None:
        """Writes the booking, its diary entries, its history entry and the ledger sheets it changes in
        one transaction.

        Claims the time `booking` holds and releases what `previous` held (and `from_hold`, turning a
        hold into the booking). Raises SlotTaken when anyone else holds any of that time, Conflict when
        `previous` is no longer the stored version, and (with enforce_unblocked) CustomerBlocked for a
        blocked customer. Creating a booking also creates or refreshes the customer's profile.
        """
        ...

    def hold(self, tenant_id: str, hold: Claim) -> None:
        """Keeps the time of a HOLD claim until it expires; SlotTaken if anyone holds any of it."""
        ...

    def release_hold(self, tenant_id: str, hold: Claim) -> None: ...

    def customer_bookings(self, tenant_id: str, email: str) -> list[Booking]: ...

    def add_history(self, tenant_id: str, booking_id: str, entry: HistoryEntry, entry_id: str) -> bool:
        """Appends a history entry to the booking without changing the booking (something that happened
        to it elsewhere, e.g. its call took place). Idempotent: False, and nothing written, when the entry
        with this `entry_id` at `entry.at` is there already."""
        ...


class SeriesRepository(Protocol):
    def put(self, series: Series) -> None: ...

    def get(self, tenant_id: str, series_id: str) -> Series | None: ...

    def delete(self, tenant_id: str, series_id: str) -> None: ...
