"""Daily: one room per booking on the business's Daily domain, open only around its session (Daily's nbf
and exp; anyone still inside is ejected at exp). The room's name is its id and the last part of its link,
so it carries a random part nobody can guess."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import quote

from booking.adapters.meetings.http import JsonHttp, Response, error_for, session_window
from booking.domain.meetings import (
    ApiKeyCredentials,
    CreatedMeeting,
    CredentialsRejected,
    MeetingProviderError,
    MeetingSpec,
    ProviderUnavailable,
)
from booking.ports import Clock

PROVIDER = "Daily"
BOOKING_PART = 12  # of the booking's id in the room name: enough for staff to recognise it in Daily's lists
RANDOM_BYTES = 10  # 80 random bits in every room name: its link cannot be guessed from the booking


class DailyRooms:
    """The MeetingLinks port for one business's Daily domain."""

    def __init__(
        self, credentials: ApiKeyCredentials, clock: Clock, *, api_base: str = "https://api.daily.co"
    ) -> None:
        self._http = JsonHttp(PROVIDER, api_base)
        self._auth = {"Authorization": f"Bearer {credentials.api_key}"}
        self._clock = clock

    def check_credentials(self) -> None:
        response = self._request("GET", "/v1/")  # the domain's configuration: harmless, and needs a valid key
        if response.status != 200:
            raise self._error(response)

    def create(self, spec: MeetingSpec) -> CreatedMeeting:
        room = {"name": _room_name(spec.booking_id), "privacy": "public", "properties": _open_hours(spec)}
        response = self._request("POST", "/v1/rooms", room)
        if not 200 <= response.status < 300:
            raise self._error(response)
        return _created(response.body)

    def update(self, meeting_id: str, spec: MeetingSpec) -> CreatedMeeting:
        # Daily changes a room's settings with a POST to the room itself.
        response = self._request("POST", _room_path(meeting_id), {"properties": _open_hours(spec)})
        if response.status == 404:  # deleted at Daily meanwhile: the booking still needs a room
            return self.create(spec)
        if not 200 <= response.status < 300:
            raise self._error(response)
        return _created(response.body)

    def delete(self, meeting_id: str) -> None:
        response = self._request("DELETE", _room_path(meeting_id))
        if not 200 <= response.status < 300 and response.status != 404:  # already gone is fine
            raise self._error(response)

    def _request(self, method: str, path: str, json_body: Any = None) -> Response:
        return self._http.request(method, path, headers=self._auth, json_body=json_body)

    def _error(self, response: Response) -> MeetingProviderError:
        error = error_for(PROVIDER, response, self._clock.now())
        # Daily answers a missing or malformed Authorization header with 400, not 401.
        body = response.body
        if isinstance(body, dict) and body.get("error") == "authorization-header-error":
            return CredentialsRejected(error.reason)
        return error


def _room_path(name: str) -> str:
    return f"/v1/rooms/{quote(name, safe='')}"


def _room_name(booking_id: str) -> str:
    """Letters, digits and dashes only, as Daily allows, and short enough for a link."""
    booking = re.sub(r"[^a-z0-9]", "", booking_id.lower())[:BOOKING_PART]
    random = secrets.token_hex(RANDOM_BYTES)
    return f"{booking}-{random}" if booking else random


def _open_hours(spec: MeetingSpec) -> dict[str, Any]:
    """Nobody joins before nbf; at exp the room closes and ejects whoever is still in it."""
    opens, closes = session_window(spec.start, spec.end)
    return {"nbf": int(opens.timestamp()), "exp": int(closes.timestamp()), "eject_at_room_exp": True}


def _created(body: Any) -> CreatedMeeting:
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("name"), str)
        or not isinstance(body.get("url"), str)
    ):
        raise ProviderUnavailable("Daily answered without the room's name or link")
    return CreatedMeeting(meeting_id=body["name"], join_url=body["url"])
