"""Microsoft Teams links through Microsoft Graph: a standalone online meeting organised by one user of
the business's tenant, made by an Entra ID app with the client-credentials grant (an application
permission, OnlineMeetings.ReadWrite.All, plus an application access policy covering that user)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from booking.adapters.meetings.http import JsonHttp, Response, TokenCache, error_for
from booking.domain.meetings import (
    CreatedMeeting,
    CredentialsRejected,
    MeetingProviderError,
    MeetingRefused,
    MeetingSpec,
    ProviderUnavailable,
    TeamsCredentials,
)
from booking.ports import Clock

PROVIDER = "Microsoft"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"  # the app's consented application permissions
# A joinMeetingId Teams never issues: the filter answers "none" (or 404) once the app may read the
# organizer's meetings, and 401/403 while it may not (no permission, no access policy).
PROBE_FILTER = "joinMeetingIdSettings/joinMeetingId eq '0'"


class TeamsMeetings:
    """MeetingLinks for Microsoft Teams: one online meeting per booking, organised by `organizer_user_id`."""

    def __init__(
        self,
        credentials: TeamsCredentials,
        clock: Clock,
        *,
        login_base: str = "https://login.microsoftonline.com",
        graph_base: str = "https://graph.microsoft.com",
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._login = JsonHttp(PROVIDER, login_base)
        self._graph = JsonHttp(PROVIDER, graph_base)
        self._tokens = TokenCache(clock)
        self._meetings = f"/v1.0/users/{quote(credentials.organizer_user_id, safe='')}/onlineMeetings"

    # --- MeetingLinks -----------------------------------------------------------------------------------

    def check_credentials(self) -> None:
        # GET /users/{id} would need User.Read.All, which the app has no reason to hold; reading the
        # organizer's meetings needs exactly what making them needs (permission and access policy).
        response = self._call("GET", f"{self._meetings}?$filter={quote(PROBE_FILTER, safe='/')}")
        if response.status not in (200, 404):
            raise self._failure(response)

    def create(self, spec: MeetingSpec) -> CreatedMeeting:
        body = {
            **self._times(spec),
            # The business's own people (the staff member, who is not the organizer) join straight in
            # and admit the customer from the lobby: a forwarded link alone lets nobody in.
            "lobbyBypassSettings": {"scope": "organization", "isDialInBypassEnabled": False},
            "allowedPresenters": "organization",  # the staff member, so they may admit from the lobby
        }
        response = self._call("POST", self._meetings, json_body=body)
        if response.status not in (200, 201):
            raise self._failure(response)
        return _meeting(response.body)

    def update(self, meeting_id: str, spec: MeetingSpec) -> CreatedMeeting:
        response = self._call("PATCH", self._meeting_path(meeting_id), json_body=self._times(spec))
        if response.status == 404:
            return self.create(spec)
        if response.status != 200:
            raise self._failure(response)
        return _meeting(response.body)

    def delete(self, meeting_id: str) -> None:
        response = self._call("DELETE", self._meeting_path(meeting_id))
        if response.status not in (200, 204, 404):
            raise self._failure(response)

    # --- requests ---------------------------------------------------------------------------------------

    def _meeting_path(self, meeting_id: str) -> str:
        return f"{self._meetings}/{quote(meeting_id, safe='')}"

    @staticmethod
    def _times(spec: MeetingSpec) -> dict[str, Any]:
        return {"subject": spec.topic, "startDateTime": _utc(spec.start), "endDateTime": _utc(spec.end)}

    def _call(self, method: str, path: str, *, json_body: Any = None) -> Response:
        """One Graph call with the cached token; a token Graph refuses before its time (a rotated
        secret, a revoked consent) is forgotten and the call made once more with a fresh one."""
        response = self._send(method, path, json_body)
        if response.status == 401:
            self._tokens.forget()
            response = self._send(method, path, json_body)
        return response

    def _send(self, method: str, path: str, json_body: Any) -> Response:
        token = self._tokens.get(self._fetch_token)
        return self._graph.request(
            method, path, headers={"Authorization": f"Bearer {token}"}, json_body=json_body
        )

    def _fetch_token(self) -> tuple[str, int]:
        credentials = self._credentials
        form = {
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "scope": GRAPH_SCOPE,
            "grant_type": "client_credentials",
        }
        path = f"/{quote(credentials.tenant_id, safe='')}/oauth2/v2.0/token"
        response = self._login.request("POST", path, form=form)
        if response.status != 200:
            error = error_for(PROVIDER, response, self._clock.now())
            # Entra ID answers 400 for an unknown tenant or app (AADSTS90002, AADSTS700016) and 401 for a
            # wrong secret (AADSTS7000215): all of them the business's credentials.
            raise CredentialsRejected(error.reason) if isinstance(error, MeetingRefused) else error
        body = response.body if isinstance(response.body, dict) else {}
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ProviderUnavailable(f"{PROVIDER} answered the token request without a token")
        return token, _seconds(body.get("expires_in"))

    def _failure(self, response: Response) -> MeetingProviderError:
        return error_for(PROVIDER, response, self._clock.now())


def _meeting(body: Any) -> CreatedMeeting:
    meeting = body if isinstance(body, dict) else {}
    meeting_id, join_url = meeting.get("id"), meeting.get("joinWebUrl") or meeting.get("joinUrl")
    if not meeting_id or not join_url:
        raise ProviderUnavailable(f"{PROVIDER} answered without the meeting's id or link")
    settings = meeting.get("joinMeetingIdSettings") or {}
    notes = []
    if settings.get("joinMeetingId"):
        notes.append(f"Meeting ID: {_grouped(str(settings['joinMeetingId']))}")
    audio = meeting.get("audioConferencing") or {}
    numbers = [n for n in (audio.get("tollNumber"), audio.get("tollFreeNumber")) if n]
    if numbers:
        conference = f", phone conference ID: {audio['conferenceId']}#" if audio.get("conferenceId") else ""
        notes.append(f"Dial in: {' or '.join(numbers)}{conference}")
    if audio.get("dialinUrl"):
        notes.append(f"Local numbers: {audio['dialinUrl']}")
    return CreatedMeeting(
        meeting_id=str(meeting_id),
        join_url=str(join_url),
        passcode=str(settings["passcode"]) if settings.get("passcode") else None,
        notes="\n".join(notes),
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _grouped(digits: str) -> str:
    """Teams shows meeting ids in groups of three ("123 456 789 012")."""
    if not digits.isdigit():
        return digits
    return " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))


def _seconds(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 3600
