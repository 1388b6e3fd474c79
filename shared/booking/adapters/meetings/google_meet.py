"""Google Meet links through the Calendar API: an event on the business's calendar with a Meet
conference attached (Meet has no API of its own for scheduled meetings). A service account signs an
RS256 JWT for its access token (the JWT bearer grant), as Google's client libraries do, without them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import time
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from booking.adapters.meetings.http import JsonHttp, Response, TokenCache, error_for
from booking.domain.meetings import (
    CreatedMeeting,
    CredentialsRejected,
    GoogleMeetCredentials,
    MeetingProviderError,
    MeetingRefused,
    MeetingSpec,
    ProviderRateLimited,
    ProviderUnavailable,
)
from booking.ports import Clock

PROVIDER = "Google"
SCOPE = "https://www.googleapis.com/auth/calendar.events"  # events only: the least the work needs
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = timedelta(hours=1)  # Google's maximum
# Calendar answers 403 (not 429) when a quota or rate limit is hit; those are throttling, not a refusal.
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})
GONE = (404, 410)


class GoogleMeetEvents:
    """MeetingLinks for Google Meet: one Calendar event per booking, carrying its Meet conference."""

    # Pauses (seconds) between reads while Google is still making the conference ("pending"): a few
    # seconds in all, so a Lambda waits briefly and otherwise retries later (ProviderUnavailable).
    poll_pauses: tuple[float, ...] = (0.5, 1.0, 2.0)

    def __init__(
        self,
        credentials: GoogleMeetCredentials,
        clock: Clock,
        *,
        oauth_base: str = "https://oauth2.googleapis.com",
        calendar_base: str = "https://www.googleapis.com",
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._oauth = JsonHttp(PROVIDER, oauth_base)
        self._token_url = f"{self._oauth.base_url}/token"  # also the JWT's audience
        self._api = JsonHttp(PROVIDER, calendar_base)
        self._tokens = TokenCache(clock)
        calendar = quote(credentials.calendar_id, safe="")
        self._events = f"/calendar/v3/calendars/{calendar}/events"

    # --- MeetingLinks -----------------------------------------------------------------------------------

    def check_credentials(self) -> None:
        # calendars.get needs a wider scope than calendar.events; listing one event proves the token,
        # the calendar's existence and the account's access to it with the scope we actually use.
        response = self._call("GET", self._events, query={"maxResults": "1"})
        if response.status != 200:
            raise self._failure(response, f"calendar {self._credentials.calendar_id!r}")

    def create(self, spec: MeetingSpec) -> CreatedMeeting:
        event_id = _derived_id("event", spec)
        body = {**self._times(spec), "id": event_id, "conferenceData": _conference_request(spec)}
        body["extendedProperties"] = {"private": {"bookingId": spec.booking_id}}
        response = self._call("POST", self._events, json_body=body, query={"conferenceDataVersion": "1"})
        if response.status == 409:  # made by an earlier try whose answer was lost: adopt it
            response = self._call("GET", self._event(event_id))
            if response.status in GONE or _cancelled(response):
                # that event was deleted (the booking went in person and back): Google keeps deleted
                # ids, so let it pick a new one
                del body["id"]
                response = self._call(
                    "POST", self._events, json_body=body, query={"conferenceDataVersion": "1"}
                )
        if response.status != 200:
            raise self._failure(response)
        return self._meeting(self._with_conference(response.body))

    def update(self, meeting_id: str, spec: MeetingSpec) -> CreatedMeeting:
        # A PATCH without conferenceData keeps the event's conference, so the Meet link stays the same.
        response = self._call(
            "PATCH",
            self._event(meeting_id),
            json_body=self._times(spec),
            query={"conferenceDataVersion": "1"},
        )
        if response.status in GONE or _cancelled(response):
            return self.create(spec)
        if response.status != 200:
            raise self._failure(response)
        return self._meeting(self._with_conference(response.body))

    def delete(self, meeting_id: str) -> None:
        response = self._call("DELETE", self._event(meeting_id))
        if response.status not in (200, 204, *GONE):
            raise self._failure(response)

    # --- the calendar event -----------------------------------------------------------------------------

    def _event(self, event_id: str) -> str:
        return f"{self._events}/{quote(event_id, safe='')}"

    @staticmethod
    def _times(spec: MeetingSpec) -> dict[str, Any]:
        return {
            "summary": spec.topic,
            "start": {"dateTime": spec.start.isoformat(), "timeZone": spec.time_zone},
            "end": {"dateTime": spec.end.isoformat(), "timeZone": spec.time_zone},
        }

    def _with_conference(self, answer: Any) -> dict[str, Any]:
        """The event once its conference is made: Google may answer "pending" and finish shortly after."""
        event = _as_dict(answer)
        for pause in (*self.poll_pauses, None):
            status = _conference_status(event)
            if status == "failure":
                raise MeetingRefused(f"{PROVIDER} could not make a Meet conference for the event")
            if status != "pending":
                return event
            if pause is None:
                break
            time.sleep(pause)
            response = self._call("GET", self._event(str(event.get("id", ""))))
            if response.status != 200:
                raise self._failure(response)
            event = _as_dict(response.body)
        raise ProviderUnavailable(f"{PROVIDER} is still making the Meet conference; try again shortly")

    def _meeting(self, event: dict[str, Any]) -> CreatedMeeting:
        conference = event.get("conferenceData") or {}
        entry_points = [p for p in conference.get("entryPoints") or [] if isinstance(p, dict)]
        video = next((p.get("uri") for p in entry_points if p.get("entryPointType") == "video"), None)
        join_url = event.get("hangoutLink") or video
        event_id = event.get("id")
        if not join_url or not event_id:
            # conferences switched off for the account, or a calendar that cannot hold them
            if event_id:
                self._forget_event(str(event_id))
            raise MeetingRefused(f"{PROVIDER} made the event without a Meet link (is Meet allowed?)")
        return CreatedMeeting(
            meeting_id=str(event_id), join_url=str(join_url), notes=_phone_notes(entry_points)
        )

    def _forget_event(self, event_id: str) -> None:
        """Best effort: an event without a link is of no use, and a retry makes another."""
        with contextlib.suppress(MeetingProviderError):
            self.delete(event_id)

    # --- auth and errors --------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        query: dict[str, str] | None = None,
    ) -> Response:
        """One API call with the cached token; a token Google refuses before its time (revoked, or
        the key rotated) is forgotten and the call made once more with a fresh one."""
        response = self._send(method, path, json_body, query)
        if response.status == 401:
            self._tokens.forget()
            response = self._send(method, path, json_body, query)
        return response

    def _send(self, method: str, path: str, json_body: Any, query: dict[str, str] | None) -> Response:
        token = self._tokens.get(self._fetch_token)
        headers = {"Authorization": f"Bearer {token}"}
        return self._api.request(method, path, headers=headers, json_body=json_body, query=query)

    def _fetch_token(self) -> tuple[str, int]:
        form = {"grant_type": JWT_BEARER_GRANT, "assertion": self._assertion()}
        response = self._oauth.request("POST", "/token", form=form)
        if response.status != 200:
            error = error_for(PROVIDER, response, self._clock.now())
            # Google answers 400 invalid_grant for a wrong key, an unknown account or a refused subject
            raise CredentialsRejected(error.reason) if isinstance(error, MeetingRefused) else error
        body = _as_dict(response.body)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ProviderUnavailable(f"{PROVIDER} answered the token request without a token")
        return token, _seconds(body.get("expires_in"))

    def _assertion(self) -> str:
        credentials = self._credentials
        now = self._clock.now()
        claims: dict[str, Any] = {
            "iss": credentials.client_email,
            "scope": SCOPE,
            "aud": self._token_url,
            "iat": int(now.timestamp()),
            "exp": int((now + ASSERTION_LIFETIME).timestamp()),
        }
        if credentials.subject:
            claims["sub"] = credentials.subject
        headers = {"kid": credentials.private_key_id} if credentials.private_key_id else None
        # A key pasted out of its JSON may keep the JSON's escaped line breaks.
        key = credentials.private_key.replace("\\n", "\n")
        import jwt  # noqa: PLC0415 - PyJWT with cryptography costs cold-start time; only this needs it

        try:
            return jwt.encode(claims, key, algorithm="RS256", headers=headers)
        except Exception:  # any unreadable key (the message could quote it, so none is kept)
            raise CredentialsRejected(
                f"{PROVIDER}: the service account's private_key is not a PEM RSA key (paste the JSON key file)"
            ) from None

    def _failure(self, response: Response, what: str | None = None) -> MeetingProviderError:
        now = self._clock.now()
        error = _as_dict(_as_dict(response.body).get("error"))
        reasons = {e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)}
        failure = error_for(PROVIDER, response, now)
        if response.status == 403 and reasons & RATE_LIMIT_REASONS:
            return ProviderRateLimited(failure.reason, retry_after=failure.retry_after)
        if what and response.status in (403, 404):
            return type(failure)(f"{failure.reason} ({what})", retry_after=failure.retry_after)
        return failure


def _derived_id(kind: str, spec: MeetingSpec) -> str:
    """Stable for one booking at one start time, so a retried create finds the event its lost answer
    made; base32hex (a-v, 0-9), the only letters Calendar allows in an event id."""
    seed = f"{kind}|{spec.tenant_id}|{spec.booking_id}|{spec.start.isoformat()}".encode()
    return base64.b32hexencode(hashlib.sha256(seed).digest()).decode().rstrip("=").lower()


def _conference_request(spec: MeetingSpec) -> dict[str, Any]:
    return {
        "createRequest": {
            "requestId": _derived_id("conference", spec),
            "conferenceSolutionKey": {"type": "hangoutsMeet"},
        }
    }


def _conference_status(event: dict[str, Any]) -> str | None:
    request = (event.get("conferenceData") or {}).get("createRequest") or {}
    status = (request.get("status") or {}).get("statusCode")
    return str(status) if status else None


def _cancelled(response: Response) -> bool:
    return response.status == 200 and _as_dict(response.body).get("status") == "cancelled"


def _phone_notes(entry_points: list[dict[str, Any]]) -> str:
    lines = []
    for point in entry_points:
        kind = point.get("entryPointType")
        if kind == "phone":
            number = point.get("label") or str(point.get("uri", "")).removeprefix("tel:")
            pin = str(point.get("pin") or "").rstrip("#")
            region = f" ({point['regionCode']})" if point.get("regionCode") else ""
            lines.append(f"Join by phone{region}: {number}" + (f", PIN: {pin}#" if pin else ""))
        elif kind == "more" and point.get("uri"):
            lines.append(f"More phone numbers: {point['uri']}")
    return "\n".join(lines)


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _seconds(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 3600
