"""Online appointments' meetings as customers and staff see them, a link set by hand, and the meeting
providers' accounts (connected with credentials that no answer ever returns)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from booking.domain import meetings
from booking.domain.meetings import (
    ApiKeyCredentials,
    GoogleMeetCredentials,
    Meeting,
    MeetingStatus,
    TeamsCredentials,
)
from booking_api.schemas.documentation import Documentation, as_domain

__all__ = [
    "AdminMeetingOut",
    "ApiKeyCredentials",
    "GoogleMeetCredentials",
    "MeetingLinkUpdate",
    "MeetingOut",
    "ProviderConnection",
    "TeamsCredentials",
    "ZoomCredentials",
]


class MeetingOut(BaseModel):
    """An online booking's meeting as the customer sees it: the link, or word that it will follow."""

    status: Literal["ready", "pending"]
    join_url: str | None = None
    passcode: str | None = None
    notes: str = ""
    message: str | None = None

    @classmethod
    def of(cls, meeting: Meeting | None) -> MeetingOut:
        if meeting is not None and meeting.has_link:
            return cls(
                status="ready", join_url=meeting.join_url, passcode=meeting.passcode, notes=meeting.notes
            )
        return cls(status="pending", message="The meeting link will be added soon.")


class AdminMeetingOut(BaseModel):
    """The meeting as staff see it: its state (not_set shows as a "Not set" badge), the provider's
    reason when it failed, and the host's start link."""

    status: MeetingStatus
    provider: str
    join_url: str | None
    passcode: str | None
    notes: str
    host_url: str | None
    reason: str | None
    updated_at: datetime | None

    @classmethod
    def of(cls, meeting: Meeting) -> AdminMeetingOut:
        return cls(
            status=meeting.status,
            provider=meeting.provider,
            join_url=meeting.join_url,
            passcode=meeting.passcode,
            notes=meeting.notes,
            host_url=meeting.host_url,
            reason=meeting.reason,
            updated_at=meeting.updated_at,
        )


class MeetingLinkUpdate(meetings.MeetingLinkUpdate):
    """Staff setting or replacing an online booking's link by hand (any provider, or none)."""

    model_config = ConfigDict(
        json_schema_extra=Documentation(
            {"notify_customer": "send the customer the link now (email and SMS, with an updated invite)"},
            examples=[
                {
                    "join_url": "https://zoom.us/j/81234567890?pwd=abc123",
                    "passcode": "428193",
                    "notes": "Dial in: +44 20 3481 5237, meeting ID 812 3456 7890",
                    "notify_customer": True,
                }
            ],
        )
    )

    def to_domain(self) -> meetings.MeetingLinkUpdate:
        return as_domain(self, meetings.MeetingLinkUpdate)


# --- the business's provider accounts --------------------------------------------------------------------


class ZoomCredentials(meetings.ZoomCredentials):
    """A Server-to-Server OAuth app of the business's Zoom account."""

    model_config = ConfigDict(
        json_schema_extra=Documentation(
            {
                "user_id": "the Zoom user who hosts: 'me', a user id or an email",
                "webhook_secret_token": "the app's event-subscription Secret Token: Zoom's meeting.started "
                "and meeting.ended events sent to POST /v1/webhooks/zoom/{tenant_id} are checked with it "
                "and recorded in the booking's history",
            }
        )
    )


class ProviderConnection(BaseModel):
    provider: str
    connected: bool
    checked_at: datetime | None = None
