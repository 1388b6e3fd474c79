"""The diary: a compact entry per booking, what calendars read (the slot engine reads only the busy time)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from booking.domain.booking import HOLDS_TIME, BookingStatus


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

    @property
    def holds_time(self) -> bool:
        return self.status in HOLDS_TIME
