"""Availability as the widget shows it: bookable starts by day, each with the staff free for the whole
appointment, in the zone the customer asked for."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from booking.services.availability import Availability


class SlotOut(BaseModel):
    start: datetime
    end: datetime
    staff_ids: list[str]


class DayOut(BaseModel):
    date: str
    slots: list[SlotOut]


class AvailabilityOut(BaseModel):
    time_zone: str
    days: list[DayOut]

    @classmethod
    def of(cls, availability: Availability) -> AvailabilityOut:
        zone = availability.time_zone
        return cls(
            time_zone=zone.key,
            days=[
                DayOut(
                    date=day.date.isoformat(),
                    slots=[
                        SlotOut(
                            start=s.start.astimezone(zone),
                            end=s.end.astimezone(zone),
                            staff_ids=list(s.staff_ids),
                        )
                        for s in day.slots
                    ],
                )
                for day in availability.days
            ],
        )
