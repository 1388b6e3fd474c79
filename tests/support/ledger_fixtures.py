"""Bookings built directly, for tests that drive the booking repository and the ledger without the API."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from ulid import ULID

from booking.domain.booking import Actor, BookedService, Booking, BookingStatus, CustomerDetails, HistoryEntry


def a_booking(
    tenant_id: str,
    staff_id: str,
    start: datetime,
    end: datetime,
    *,
    buffer_before: int = 0,
    buffer_after: int = 0,
    booking_id: str | None = None,
) -> Booking:
    """A confirmed booking of [start, end) with `staff_id`, made a month before it starts."""
    made = start - timedelta(days=30)
    return Booking(
        id=booking_id or str(ULID()),
        tenant_id=tenant_id,
        status=BookingStatus.CONFIRMED,
        start=start,
        end=end,
        occupied_start=start - timedelta(minutes=buffer_before),
        occupied_end=end + timedelta(minutes=buffer_after),
        staff_id=staff_id,
        services=[BookedService(id="svc", name="Job", duration_minutes=60, price_minor=0)],
        total_minor=0,
        currency="GBP",
        customer=CustomerDetails(name="Ledger Client", email=f"ledger-{secrets.token_hex(3)}@example.com"),
        created_at=made,
        updated_at=made,
    )


def created(booking: Booking) -> HistoryEntry:
    return HistoryEntry(at=booking.created_at, actor=Actor(kind="system"), action="created")
