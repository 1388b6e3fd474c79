"""Zoom: one scheduled meeting per booking, made with a Server-to-Server OAuth app of the business's own
Zoom account. The customer gets the join link, its passcode and the dial-in numbers; staff get the host's
start link. Nobody waits alone in the meeting before the host: it has a waiting room and no join before
host, so a forwarded link alone does not let anyone in."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from booking.adapters.meetings.http import MAX_ERROR_TEXT, JsonHttp, Response, TokenCache, error_for
from booking.domain.meetings import (
    CreatedMeeting,
    CredentialsRejected,
    MeetingProviderError,
    MeetingSpec,
    ProviderUnavailable,
    ZoomCredentials,
)
from booking.ports import Clock

PROVIDER = "Zoom"
SCHEDULED_MEETING = 2
TOPIC_LIMIT = 200  # Zoom refuses longer topics
DIAL_IN_NUMBERS_SHOWN = 3  # the first few of the account's dial-in countries; more would bury the link
TOKEN_LIFETIME = 3600  # what Zoom gives when an answer forgets expires_in

# Zoom's own error codes (in the JSON body) that mean the app or the hosting user is not usable, whatever
# the HTTP status: an invalid or revoked token, a token missing a scope, a user who does not exist.
CREDENTIAL_CODES = frozenset({124, 1001, 4700, 4711})


class ZoomMeetings:
    """The MeetingLinks port for one business's Zoom account."""

    def __init__(
        self,
        credentials: ZoomCredentials,
        clock: Clock,
        *,
        api_base: str = "https://api.zoom.us",
        oauth_base: str = "https://zoom.us",
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._api = JsonHttp(PROVIDER, api_base)
        self._oauth = JsonHttp(PROVIDER, oauth_base)
        self._tokens = TokenCache(clock)

    # --- the port ---------------------------------------------------------------------------------------

    def check_credentials(self) -> None:
        # A token proves the app's credentials; listing one of the host's meetings proves the user exists
        # and the app may read meetings (update reads each meeting back, so it needs that scope anyway).
        response = self._call(
            "GET", f"{self._user_path()}/meetings", query={"type": "scheduled", "page_size": "1"}
        )
        if response.status != 200:
            raise self._error(response)

    def create(self, spec: MeetingSpec) -> CreatedMeeting:
        response = self._call("POST", f"{self._user_path()}/meetings", json_body=_meeting_fields(spec))
        if response.status not in (200, 201):
            raise self._error(response)
        return _created(response.body)

    def update(self, meeting_id: str, spec: MeetingSpec) -> CreatedMeeting:
        path = _meeting_path(meeting_id)
        response = self._call("PATCH", path, json_body=_meeting_fields(spec))
        if response.status == 404:  # deleted at Zoom meanwhile (by staff, in Zoom's own app)
            return self.create(spec)
        if response.status not in (200, 204):
            raise self._error(response)
        # PATCH answers 204 with no body: the links, passcode and dial-in numbers come from reading it back.
        current = self._call("GET", path)
        if current.status == 404:
            return self.create(spec)
        if current.status != 200:
            raise self._error(current)
        return _created(current.body)

    def delete(self, meeting_id: str) -> None:
        response = self._call("DELETE", _meeting_path(meeting_id))
        if response.status not in (200, 204, 404):  # 404 (code 3001): already gone, which is the goal
            raise self._error(response)

    # --- calls, tokens and errors -------------------------------------------------------------------------

    def _user_path(self) -> str:
        return f"/v2/users/{quote(self._credentials.user_id, safe='@')}"

    def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        query: Mapping[str, str] | None = None,
    ) -> Response:
        """A call with the cached token. A token Zoom refuses before its time (revoked, the app's secret
        rotated, too many tokens issued) is forgotten and the call made once more with a fresh one."""
        response = self._send(method, path, json_body, query)
        if response.status == 401:
            self._tokens.forget()
            response = self._send(method, path, json_body, query)
        return response

    def _send(self, method: str, path: str, json_body: Any, query: Mapping[str, str] | None) -> Response:
        token = self._tokens.get(self._fetch_token)
        return self._api.request(
            method, path, headers={"Authorization": f"Bearer {token}"}, json_body=json_body, query=query
        )

    def _fetch_token(self) -> tuple[str, int]:
        credentials = self._credentials
        pair = f"{credentials.client_id}:{credentials.client_secret}".encode()
        response = self._oauth.request(
            "POST",
            "/oauth/token",
            headers={"Authorization": "Basic " + base64.b64encode(pair).decode()},
            # In the form body, as Zoom documents it now: it has begun refusing these in the query string.
            form={"grant_type": "account_credentials", "account_id": credentials.account_id},
        )
        body = response.body
        if response.status == 200 and isinstance(body, dict) and isinstance(body.get("access_token"), str):
            lifetime = body.get("expires_in")
            return body["access_token"], int(lifetime) if isinstance(lifetime, int) else TOKEN_LIFETIME
        if response.status == 200:
            raise ProviderUnavailable("Zoom answered the token request without a token")
        if response.status == 429 or response.status >= 500:
            raise error_for(PROVIDER, response, self._clock.now())
        # Any other refusal of the token request is about the account id, client id or secret.
        # Zoom's OAuth errors say it in "reason" ({"reason": "Invalid client_id or client_secret", ...}).
        words = (
            (body.get("reason") or body.get("message") or body.get("error"))
            if isinstance(body, dict)
            else body
        )
        text = " ".join(str(words or "").split())[:MAX_ERROR_TEXT]
        raise CredentialsRejected(f"Zoom answered {response.status}" + (f": {text}" if text else ""))

    def _error(self, response: Response) -> MeetingProviderError:
        error = error_for(PROVIDER, response, self._clock.now())
        code = response.body.get("code") if isinstance(response.body, dict) else None
        if code in CREDENTIAL_CODES and not isinstance(error, CredentialsRejected):
            return CredentialsRejected(error.reason)
        return error


# --- what is sent and what comes back -----------------------------------------------------------------------


def _meeting_path(meeting_id: str) -> str:
    return f"/v2/meetings/{quote(meeting_id, safe='')}"


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meeting_fields(spec: MeetingSpec) -> dict[str, Any]:
    """A scheduled meeting at the session's time. The start is sent in UTC ("...Z", which Zoom takes as
    is); the business's zone only decides how Zoom shows the time to the host."""
    return {
        "topic": spec.topic[:TOPIC_LIMIT],
        "type": SCHEDULED_MEETING,
        "start_time": _utc(spec.start),
        "duration": math.ceil((spec.end - spec.start).total_seconds() / 60),
        "timezone": spec.time_zone,
        "settings": {
            "join_before_host": False,
            "waiting_room": True,  # the host admits the customer: a forwarded link alone lets nobody in
            "approval_type": 2,  # no registration: the booking is the invitation
            "host_video": True,
            "participant_video": True,
            "audio": "both",
            "auto_recording": "none",
        },
    }


def _created(body: Any) -> CreatedMeeting:
    if not isinstance(body, dict) or body.get("id") is None or not isinstance(body.get("join_url"), str):
        raise ProviderUnavailable("Zoom answered without the meeting's id or join link")
    meeting_id = str(body["id"])
    password = body.get("password")
    start_url = body.get("start_url")
    return CreatedMeeting(
        meeting_id=meeting_id,
        join_url=body["join_url"],
        passcode=password if isinstance(password, str) and password else None,
        host_url=start_url if isinstance(start_url, str) and start_url else None,
        notes=_dial_in_notes(meeting_id, body),
    )


def _dial_in_notes(meeting_id: str, meeting: dict[str, Any]) -> str:
    """Dial-in numbers as a person reads them, e.g. "Dial in: +44 20 3481 5237 (London, GB), meeting ID
    123 4567 8901, passcode 123456". Phones send digits only, so the passcode is Zoom's numeric one for
    phones (pstn_password) when the meeting's own passcode has letters."""
    settings = meeting.get("settings")
    numbers = settings.get("global_dial_in_numbers") if isinstance(settings, dict) else None
    shown = [
        _dial_in_number(entry)
        for entry in (numbers if isinstance(numbers, list) else [])
        if isinstance(entry, dict) and entry.get("number")
    ][:DIAL_IN_NUMBERS_SHOWN]
    if not shown:
        return ""
    parts = [f"Dial in: {' or '.join(shown)}", f"meeting ID {_spaced_meeting_id(meeting_id)}"]
    password = meeting.get("password")
    phone_passcode = meeting.get("pstn_password") or (
        password if isinstance(password, str) and password.isdigit() else None
    )
    if phone_passcode:
        parts.append(f"passcode {phone_passcode}")
    return ", ".join(parts)


def _dial_in_number(entry: dict[str, Any]) -> str:
    where = [str(entry[key]) for key in ("city", "country") if entry.get(key)]
    if entry.get("type") == "tollfree":
        where.append("toll-free")
    return f"{entry['number']} ({', '.join(where)})" if where else str(entry["number"])


def _spaced_meeting_id(meeting_id: str) -> str:
    """Grouped as Zoom shows it: 123 456 789, 123 456 7890, 123 4567 8901."""
    if not meeting_id.isdigit() or len(meeting_id) < 9:
        return meeting_id
    head, rest = meeting_id[:3], meeting_id[3:]
    middle = len(rest) // 2
    return f"{head} {rest[:middle]} {rest[middle:]}"
