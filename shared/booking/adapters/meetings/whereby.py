"""Whereby: one transient meeting room per booking, with a separate host link for staff. Whereby cannot
move a meeting, so a booking that moves gets a new room and the old one is deleted."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools import Logger

from booking.adapters.meetings.http import JsonHttp, error_for, session_window
from booking.domain.meetings import (
    ApiKeyCredentials,
    CreatedMeeting,
    MeetingProviderError,
    MeetingSpec,
    ProviderUnavailable,
)
from booking.ports import Clock

logger = Logger(child=True)

PROVIDER = "Whereby"
PREFIX_LENGTH = 12  # of the booking's id, as the room name's prefix; Whereby adds a random UUID after it
# Whereby keeps a room open until an hour after the endDate it was given (and ignores startDate: a room
# opens when it is made), so the endDate sent is that hour before the session's window closes.
ROOM_OUTLIVES_END_DATE = timedelta(hours=1)
END_DATE_MARGIN = timedelta(minutes=1)  # Whereby refuses an endDate in the past


class WherebyMeetings:
    """The MeetingLinks port for one business's Whereby Embedded account."""

    def __init__(
        self, credentials: ApiKeyCredentials, clock: Clock, *, api_base: str = "https://api.whereby.dev"
    ) -> None:
        self._http = JsonHttp(PROVIDER, api_base)
        self._auth = {"Authorization": f"Bearer {credentials.api_key}"}
        self._clock = clock

    def check_credentials(self) -> None:
        response = self._http.request("GET", "/v1/meetings", headers=self._auth, query={"limit": "1"})
        if response.status != 200:
            raise error_for(PROVIDER, response, self._clock.now())

    def create(self, spec: MeetingSpec) -> CreatedMeeting:
        response = self._http.request(
            "POST", "/v1/meetings", headers=self._auth, json_body=self._meeting(spec)
        )
        if not 200 <= response.status < 300:
            raise error_for(PROVIDER, response, self._clock.now())
        return _created(response.body)

    def update(self, meeting_id: str, spec: MeetingSpec) -> CreatedMeeting:
        # The new room first: if Whereby fails now, the booking keeps its old, working link.
        made = self.create(spec)
        try:
            self.delete(meeting_id)
        except MeetingProviderError as error:
            # The booking must point at the new room whatever happens here (failing would make a caller's
            # retry create yet another); the old one closes by itself an hour after its endDate.
            logger.warning(
                "old Whereby meeting left to expire", extra={"meeting_id": meeting_id, "reason": error.reason}
            )
        return made

    def delete(self, meeting_id: str) -> None:
        response = self._http.request(
            "DELETE", f"/v1/meetings/{quote(meeting_id, safe='')}", headers=self._auth
        )
        if not 200 <= response.status < 300 and response.status != 404:  # already gone is fine
            raise error_for(PROVIDER, response, self._clock.now())

    def _meeting(self, spec: MeetingSpec) -> dict[str, Any]:
        opens, closes = session_window(spec.start, spec.end)
        end_date = closes - ROOM_OUTLIVES_END_DATE
        now = self._clock.now()
        if end_date < now < closes:
            # A session about to end (a link made at the last minute): the room lives an hour from now.
            # A session already over is sent as it is, for Whereby to refuse.
            end_date = now + END_DATE_MARGIN
        return {
            "startDate": _iso(opens),  # ignored by Whereby today; kept so the request says what we mean
            "endDate": _iso(end_date),
            "fields": ["hostRoomUrl"],
            "roomNamePrefix": re.sub(r"[^a-z0-9]", "", spec.booking_id.lower())[:PREFIX_LENGTH],
            "roomMode": "normal",  # up to four people: a customer, staff and a companion or interpreter
        }


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _created(body: Any) -> CreatedMeeting:
    if (
        not isinstance(body, dict)
        or body.get("meetingId") is None
        or not isinstance(body.get("roomUrl"), str)
    ):
        raise ProviderUnavailable("Whereby answered without the meeting's id or room link")
    host_url = body.get("hostRoomUrl")
    return CreatedMeeting(
        meeting_id=str(body["meetingId"]),
        join_url=body["roomUrl"],
        host_url=host_url if isinstance(host_url, str) and host_url else None,
    )
