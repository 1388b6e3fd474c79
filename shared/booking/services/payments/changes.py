"""One change to a booking's payment side (paid, authorised, captured, refunded, declined, recorded at the
desk), saved the way every booking change is: a new version with its history entry, in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from booking.domain.booking import Actor, Booking, HistoryEntry, Payment
from booking.ports import BookingRepository


def save_change(
    bookings: BookingRepository,
    booking: Booking,
    *,
    at: datetime,
    actor: Actor,
    action: str,
    details: Mapping[str, str | int] | None = None,
    **updates: Any,
) -> Booking:
    """`booking` with `updates`, its version and time moved on, saved with a history entry naming the
    action (and the status change, when there is one). Raises what the repository's save raises."""
    payment = updates.get("payment")
    if isinstance(payment, Payment) and payment.captured_at is None and payment.captured_minor > 0:
        # The moment the money was taken, wherever it was taken from (webhook, staff capture, no-show).
        updates["payment"] = payment.model_copy(update={"captured_at": at})
    changed = booking.model_copy(update={**updates, "updated_at": at, "version": booking.version + 1})
    moved = changed.status != booking.status
    entry = HistoryEntry(
        at=at,
        actor=actor,
        action=action,
        from_status=booking.status if moved else None,
        to_status=changed.status if moved else None,
        details=dict(details or {}),
    )
    bookings.save(changed, booking, entry)
    return changed
