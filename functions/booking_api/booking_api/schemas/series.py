"""Recurring series: the body that books a client's sessions in one call, the one that cancels every
future one, and a series with each session's booking, meeting and messages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from booking.domain import series as domain
from booking.domain.catalogue import Catalogue
from booking.domain.communications import MessageRecord
from booking.services.series import SeriesDetail
from booking_api.schemas.bookings import CustomerDetails, StaffRef
from booking_api.schemas.documentation import Documentation, as_domain
from booking_api.schemas.meetings import AdminMeetingOut


class SeriesRequest(domain.SeriesRequest):
    """A series for a client, as staff book it."""

    model_config = ConfigDict(
        json_schema_extra=Documentation(
            {
                "staff": "the staff member who runs every session (a series is with one person)",
                "start": "the first session",
                "delivery": "required when a service is offered both ways",
                "interval": "every N weeks (weekly) or N months (monthly)",
                "count": "how many sessions; or give `until`",
                "until": "the last day a session may fall on (business-local)",
                "skip_clashes": "book the dates that are free and report the others, instead of refusing",
            },
            examples=[
                {
                    "services": ["01KBZ6Q3R0AJ8M7T1SWEDISH00"],
                    "staff": "01KBZ6Q3R0AJ8M7T1STAFF0001",
                    "start": "2026-12-07T10:00:00+00:00",
                    "customer": {"name": "Ann Client", "email": "ann@example.com", "phone": "+447911123456"},
                    "delivery": "online",
                    "frequency": "weekly",
                    "interval": 1,
                    "count": 4,
                }
            ],
        )
    )

    customer: CustomerDetails

    def to_domain(self) -> domain.SeriesRequest:
        return as_domain(self, domain.SeriesRequest)


class SeriesCancel(domain.SeriesCancel):
    model_config = ConfigDict(
        json_schema_extra=Documentation(
            {"from": "cancel the sessions on or after this business-local day; default: every future one"}
        )
    )

    def to_domain(self) -> domain.SeriesCancel:
        return as_domain(self, domain.SeriesCancel)


class SessionOut(BaseModel):
    """One session of a series: its booking (status, time, meeting) or why it was skipped."""

    position: int | None  # 0 for the first booked session; None when skipped
    start: datetime
    booking_id: str | None
    status: str  # the booking's status, or "skipped"
    skipped: str | None
    meeting: AdminMeetingOut | None
    communications: list[MessageRecord]


class SeriesOut(BaseModel):
    id: str
    staff: StaffRef
    customer_email: str
    frequency: str
    interval: int
    booked: int
    skipped: int
    sessions: list[SessionOut]

    @classmethod
    def of(cls, detail: SeriesDetail, catalogue: Catalogue) -> SeriesOut:
        zone = ZoneInfo(catalogue.business.time_zone)
        series = detail.series
        member = catalogue.staff_member(series.staff_id)
        sessions = [
            SessionOut(
                position=s.occurrence.index if s.occurrence.booking_id else None,
                start=s.occurrence.start.astimezone(zone),
                booking_id=s.occurrence.booking_id,
                status=s.booking.status.value if s.booking else "skipped",
                skipped=s.occurrence.skipped,
                meeting=AdminMeetingOut.of(s.booking.meeting) if s.booking and s.booking.meeting else None,
                communications=s.communications,
            )
            for s in detail.sessions
        ]
        return cls(
            id=series.id,
            staff=StaffRef(id=series.staff_id, name=member.name if member else None),
            customer_email=series.customer_email,
            frequency=series.frequency,
            interval=series.interval,
            booked=sum(1 for s in sessions if s.booking_id),
            skipped=sum(1 for s in sessions if not s.booking_id),
            sessions=sessions,
        )
