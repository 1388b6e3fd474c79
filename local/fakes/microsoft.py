"""A local Microsoft: Entra ID's token endpoint (client-credentials grant) and Microsoft Graph's online
meetings of one organizer, with Graph's ids, join links, meeting ids, passcodes and dial-in details.

Errors use Microsoft's bodies: {"error": "invalid_client", "error_description": "AADSTS7000215: ..."}
from the token endpoint, {"error": {"code": "InvalidAuthenticationToken", "message": ...}} from Graph."""

from __future__ import annotations

import base64
import secrets
import string
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from booking.adapters.system import SystemClock
from booking.ports import Clock
from local.fakes.server import FakeServer, Reply, Request

TOKEN_LIFETIME = 3599
GRAPH_SCOPE = "https://graph.microsoft.com/.default"

DEMO_CREDENTIALS: dict[str, str] = {
    "tenant_id": "5f1a9c3e-2b7d-4e80-9a6f-0c3d8b1e7a42",
    "client_id": "b7e2c4d1-8f3a-4c6e-9d05-1a2b3c4d5e6f",
    "client_secret": "demo~Q8x.Fake-Client-Secret-Value_0123456789",
    "organizer_user_id": "0e4d6a2c-7b91-4f3e-8c5d-2a1b9e8f7c60",
}


def graph_error(code: str, message: str) -> dict[str, Any]:
    """A Microsoft Graph error body."""
    inner = {"date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "request-id": str(uuid.uuid4())}
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {**inner, "client-request-id": inner["request-id"]},
        }
    }


def _login_error(status: int, error: str, code: int, description: str) -> Reply:
    trace = str(uuid.uuid4())
    return Reply(
        status,
        {
            "error": error,
            "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {uuid.uuid4()} "
            f"Timestamp: {datetime.now(UTC):%Y-%m-%d %H:%M:%SZ}",
            "error_codes": [code],
            "timestamp": f"{datetime.now(UTC):%Y-%m-%d %H:%M:%SZ}",
            "trace_id": trace,
            "correlation_id": str(uuid.uuid4()),
        },
    )


class FakeMicrosoft(FakeServer):
    """`meetings` holds the organizer's online meetings by id; `dial_in` says whether the tenant has
    audio conferencing (meetings then carry toll numbers and a conference id)."""

    name = "microsoft"

    def __init__(
        self,
        credentials: Mapping[str, Any] = DEMO_CREDENTIALS,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(host, port)
        self.tenant_id = str(credentials["tenant_id"])
        self.client_id = str(credentials["client_id"])
        self._client_secret = str(credentials["client_secret"])
        self.organizer_user_id = str(credentials["organizer_user_id"])
        self.meetings: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, datetime] = {}  # access token -> expiry
        self.dial_in = True
        self.token_lifetime = TOKEN_LIFETIME  # seconds; 0 makes every token refused on arrival
        self.clock: Clock = clock or SystemClock()  # tokens expire by it
        self._data_lock = threading.Lock()

        meetings = r"/v1\.0/users/(?P<user>[^/]+)/onlineMeetings"
        self.route("POST", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token", self._token)
        self.route("GET", meetings, self._list)
        self.route("POST", meetings, self._create)
        self.route("GET", meetings + r"/(?P<meeting>[^/]+)", self._get)
        self.route("PATCH", meetings + r"/(?P<meeting>[^/]+)", self._patch)
        self.route("DELETE", meetings + r"/(?P<meeting>[^/]+)", self._delete)

    def revoke_tokens(self) -> None:
        """Every access token issued so far stops working (as when the secret is rotated)."""
        with self._data_lock:
            self.tokens.clear()

    @property
    def token_requests(self) -> int:
        return sum(1 for r in self.requests if r.path.endswith("/oauth2/v2.0/token"))

    def not_found(self, request: Request) -> Reply:
        return Reply(
            400,
            graph_error(
                "BadRequest", f"Resource not found for the segment '{request.path.rsplit('/', 1)[-1]}'."
            ),
        )

    # --- Entra ID ---------------------------------------------------------------------------------------

    def _token(self, request: Request) -> Reply:
        form = request.form()
        tenant = unquote(request.params["tenant"])
        if tenant != self.tenant_id:
            return _login_error(
                400, "invalid_request", 90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing "
                "into the correct cloud.",
            )  # fmt: skip
        if form.get("grant_type") != "client_credentials":
            return _login_error(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        if form.get("client_id") != self.client_id:
            return _login_error(
                400, "unauthorized_client", 700016,
                f"Application with identifier '{form.get('client_id', '')}' was not found in the directory "
                f"'{self.tenant_id}'.",
            )  # fmt: skip
        if not secrets.compare_digest(form.get("client_secret", "").encode(), self._client_secret.encode()):
            return _login_error(
                401, "invalid_client", 7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                f"secret value, not the client secret ID, for a secret added to app '{self.client_id}'.",
            )  # fmt: skip
        if form.get("scope") != GRAPH_SCOPE:
            return _login_error(
                400, "invalid_scope", 1002012,
                f"The provided value for scope {form.get('scope', '')} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier.",
            )  # fmt: skip
        token = "eyJ0eXAiOiJKV1QiLCJub25jZSI6ImZha2UifQ." + secrets.token_urlsafe(48)
        with self._data_lock:
            self.tokens[token] = self.clock.now() + timedelta(seconds=self.token_lifetime)
        return Reply(
            200,
            {
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime,
                "access_token": token,
            },
        )

    # --- Graph ------------------------------------------------------------------------------------------

    def _denied(self, request: Request) -> Reply | None:
        """401 for a missing, unknown or expired token; 403 for a user no access policy covers."""
        token = request.bearer()
        if not token:
            return Reply(401, graph_error("InvalidAuthenticationToken", "Access token is empty."))
        with self._data_lock:
            expiry = self.tokens.get(token)
        if expiry is None:
            return Reply(
                401,
                graph_error(
                    "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."
                ),
            )
        if self.clock.now() >= expiry:
            return Reply(
                401,
                graph_error(
                    "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."
                ),
            )
        if unquote(request.params["user"]) != self.organizer_user_id:
            return Reply(403, graph_error("General", "No application access policy found for this app."))
        return None

    def _list(self, request: Request) -> Reply:
        if denied := self._denied(request):
            return denied
        wanted = request.query.get("$filter", [""])[0]
        with self._data_lock:
            found = [m for m in self.meetings.values() if _matches(m, wanted)]
        if not found:
            return Reply(404, graph_error("NotFound", "The specified online meeting could not be found."))
        return Reply(
            200,
            {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#onlineMeetings", "value": found},
        )

    def _create(self, request: Request) -> Reply:
        if denied := self._denied(request):
            return denied
        body = request.json() or {}
        times = _times(body)
        if isinstance(times, Reply):
            return times
        thread = f"19:meeting_{base64.b64encode(str(uuid.uuid4()).encode()).decode()}@thread.v2"
        meeting_id = base64.b64encode(f"1*{self.organizer_user_id}*0**{thread}".encode()).decode().rstrip("=")
        conference_id = "".join(secrets.choice(string.digits) for _ in range(9))
        context = quote(f'{{"Tid":"{self.tenant_id}","Oid":"{self.organizer_user_id}"}}', safe="")
        meeting: dict[str, Any] = {
            "id": meeting_id,
            "creationDateTime": _iso(self.clock.now()),
            "startDateTime": _iso(times[0]),
            "endDateTime": _iso(times[1]),
            "subject": body.get("subject"),
            "joinWebUrl": f"https://teams.microsoft.com/l/meetup-join/{quote(thread, safe='').replace('%3A', '%3a')}"
            f"/0?context={context}",
            "videoTeleconferenceId": None,
            "externalId": None,
            "isEntryExitAnnounced": True,
            "allowedPresenters": "everyone",
            "lobbyBypassSettings": {
                "scope": "organization",
                "isDialInBypassEnabled": False,
                **(body.get("lobbyBypassSettings") or {}),
            },
            "joinMeetingIdSettings": {
                "isPasscodeRequired": True,
                "joinMeetingId": "".join(secrets.choice(string.digits) for _ in range(12)),
                "passcode": "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(6)),
            },
            "chatInfo": {"threadId": thread, "messageId": "0", "replyChainMessageId": None},
            "participants": {
                "organizer": {
                    "upn": None,
                    "role": "presenter",
                    "identity": {"user": {"id": self.organizer_user_id, "tenantId": self.tenant_id}},
                },
                "attendees": [],
            },
            "audioConferencing": {
                "conferenceId": conference_id,
                "tollNumber": "+1 323-555-0166",
                "tollFreeNumber": "+1 800-555-0199",
                "tollNumbers": ["+1 323-555-0166"],
                "tollFreeNumbers": ["+1 800-555-0199"],
                "dialinUrl": f"https://dialin.teams.microsoft.com/{uuid.uuid4()}?id={conference_id}",
            }
            if self.dial_in
            else None,
        }
        with self._data_lock:
            self.meetings[meeting_id] = meeting
        return Reply(201, meeting)

    def _get(self, request: Request) -> Reply:
        if denied := self._denied(request):
            return denied
        with self._data_lock:
            meeting = self.meetings.get(unquote(request.params["meeting"]))
        if meeting is None:
            return Reply(404, graph_error("NotFound", "The specified online meeting could not be found."))
        return Reply(200, meeting)

    def _patch(self, request: Request) -> Reply:
        if denied := self._denied(request):
            return denied
        meeting_id = unquote(request.params["meeting"])
        body = request.json() or {}
        with self._data_lock:
            meeting = self.meetings.get(meeting_id)
            if meeting is None:
                return Reply(404, graph_error("NotFound", "The specified online meeting could not be found."))
            times = _times({**meeting, **body})
            if isinstance(times, Reply):
                return times
            updated = {
                **meeting,
                **{k: v for k, v in body.items() if k in ("subject", "lobbyBypassSettings")},
            }
            updated.update(startDateTime=_iso(times[0]), endDateTime=_iso(times[1]))
            self.meetings[meeting_id] = updated
            return Reply(200, updated)

    def _delete(self, request: Request) -> Reply:
        if denied := self._denied(request):
            return denied
        with self._data_lock:
            meeting = self.meetings.pop(unquote(request.params["meeting"]), None)
        if meeting is None:
            return Reply(404, graph_error("NotFound", "The specified online meeting could not be found."))
        return Reply(204)


def _times(body: Mapping[str, Any]) -> tuple[datetime, datetime] | Reply:
    """Graph's 400s for missing, unreadable or backwards times."""
    times = []
    for key in ("startDateTime", "endDateTime"):
        value = body.get(key)
        if not value:
            return Reply(400, graph_error("BadRequest", f"The property '{key}' is required."))
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return Reply(
                400,
                graph_error(
                    "BadRequest",
                    f"Cannot convert the literal '{value}' to the expected type 'Edm.DateTimeOffset'.",
                ),
            )
        times.append(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    if times[1] <= times[0]:
        return Reply(
            400, graph_error("BadRequest", "The end time of the meeting must be after its start time.")
        )
    return times[0], times[1]


def _matches(meeting: Mapping[str, Any], odata_filter: str) -> bool:
    """The two filters Graph allows on a user's meetings: by joinWebUrl or by joinMeetingId."""
    field, _, value = odata_filter.partition(" eq ")
    value = value.strip("'")
    if field.lower() == "joinweburl":
        return bool(meeting.get("joinWebUrl") == value)
    if field == "joinMeetingIdSettings/joinMeetingId":
        return bool((meeting.get("joinMeetingIdSettings") or {}).get("joinMeetingId") == value)
    return False


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
