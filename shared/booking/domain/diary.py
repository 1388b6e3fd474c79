"""The diary: a compact entry per booking, what calendars and the slot engine read."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from booking.domain.availability import Busy, to_minute
from booking.domain.booking import HOLDS_TIME, Booking, BookingStatus


class DiaryEntry(BaseModel):
    booking_id: str
    staff_id: str
    start: datetime
    end: datetime
    occupied_start: datetime
    occupied_end: datetime
    status: BookingStatus
    customer_name: str
    customer_email: str
    service_names: list[str]

    @classmethod
    def of(cls, booking: Booking) -> DiaryEntry:
        return cls(
            booking_id=booking.id,
            staff_id=booking.staff_id,
            start=booking.start,
            end=booking.end,
            occupied_start=booking.occupied_start,
            occupied_end=booking.occupied_end,
            status=booking.status,
            customer_name=booking.customer.name,
            customer_email=booking.customer.email,
            service_names=[s.name for s in booking.services],
        )

    @property
    def holds_time(self) -> bool:
        return self.status in HOLDS_TIME

    def as_busy(self) -> Busy:
        return Busy(self.staff_id, to_minute(self.occupied_start), to_minute(self.occupied_end))
