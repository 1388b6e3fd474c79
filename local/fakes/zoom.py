"""A local Zoom: the Server-to-Server OAuth token endpoint and the meeting endpoints the adapter uses,
with Zoom's paths, JSON fields, error bodies ({"code": 124, "message": "Invalid access token."}) and
statuses. Tokens expire by the fake's clock and can be revoked, to watch the adapter fetch new ones."""

from __future__ import annotations

import base64
import binascii
import secrets
import string
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booking.adapters.system import SystemClock
from booking.ports import Clock
from local.fakes.server import FakeServer, Reply, Request

DEMO_CREDENTIALS: dict[str, str] = {
    "account_id": "demo-zoom-account",
    "client_id": "demo-zoom-client",
    "client_secret": "demo-zoom-client-secret",
    "user_id": "me",
}
HOST_EMAIL = "host@example.com"
TOKEN_LIFETIME = 3599  # seconds, as Zoom gives them
DIAL_IN_NUMBERS: list[dict[str, str]] = [
    {
        "country": "GB",
        "country_name": "United Kingdom",
        "city": "London",
        "number": "+44 20 3481 5237",
        "type": "toll",
    },
    {"country": "GB", "country_name": "United Kingdom", "number": "+44 20 3901 7895", "type": "toll"},
    {"country": "US", "country_name": "US", "city": "New York", "number": "+1 646 558 8656", "type": "toll"},
    {"country": "US", "country_name": "US", "number": "+1 888 475 4499", "type": "tollfree"},
]
SETTINGS_DEFAULTS: dict[str, Any] = {
    "host_video": False,
    "participant_video": False,
    "join_before_host": False,
    "mute_upon_entry": False,
    "waiting_room": False,
    "approval_type": 2,
    "audio": "voip",
    "auto_recording": "none",
}


def _zoom_time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, code: int, message: str, **extra: Any) -> Reply:
    return Reply(status, {"code": code, "message": message, **extra})


def _invalid(field: str, message: str) -> Reply:
    return _error(400, 300, "Validation Failed.", errors=[{"field": field, "message": message}])


class FakeZoom(FakeServer):
    name = "zoom"

    def __init__(
        self,
        credentials: Mapping[str, str] = DEMO_CREDENTIALS,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(host, port)
        self.credentials = dict(credentials)
        self.clock: Clock = clock or SystemClock()
        self.meetings: dict[str, dict[str, Any]] = {}  # by meeting id (as text)
        self.tokens: dict[str, datetime] = {}  # every token issued and still valid, with its expiry
        self.token_lifetime = TOKEN_LIFETIME  # seconds; 0 issues tokens that are refused at once
        self.dial_in_numbers = [dict(number) for number in DIAL_IN_NUMBERS]
        self._data_lock = threading.Lock()
        self.route("POST", "/oauth/token", self._token)
        self.route("GET", r"/v2/users/(?P<user>[^/]+)/meetings", self._list)
        self.route("POST", r"/v2/users/(?P<user>[^/]+)/meetings", self._create)
        self.route("GET", r"/v2/meetings/(?P<id>[^/]+)", self._get)
        self.route("PATCH", r"/v2/meetings/(?P<id>[^/]+)", self._update)
        self.route("DELETE", r"/v2/meetings/(?P<id>[^/]+)", self._delete)

    # --- what tests look at and do --------------------------------------------------------------------------

    @property
    def token_requests(self) -> int:
        return sum(1 for request in self.requests if request.path == "/oauth/token")

    def revoke_tokens(self) -> None:
        """Every token issued so far stops working, as when the app's secret is rotated."""
        with self._data_lock:
            self.tokens.clear()

    def not_found(self, request: Request) -> Reply:
        return _error(404, 404, f"No route for {request.method} {request.path}.")

    # --- OAuth ---------------------------------------------------------------------------------------------

    def _token(self, request: Request) -> Reply:
        # Zoom takes grant_type and account_id in the form body (and, in older clients, the query string).
        params = {key: values[0] for key, values in request.query.items()}
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update(request.form())
        client = self._basic(request)
        if client is None:
            return Reply(
                400, {"reason": "Client ID or client secret is missing.", "error": "invalid_request"}
            )
        if client != (self.credentials["client_id"], self.credentials["client_secret"]):
            return Reply(401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
        if params.get("grant_type") != "account_credentials":
            return Reply(400, {"reason": "Unsupported grant type", "error": "unsupported_grant_type"})
        if params.get("account_id") != self.credentials["account_id"]:
            return Reply(400, {"reason": "Invalid account_id", "error": "invalid_request"})
        token = "fake-zoom-" + secrets.token_urlsafe(32)
        with self._data_lock:
            self.tokens[token] = self.clock.now() + timedelta(seconds=self.token_lifetime)
        return Reply(
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_lifetime,
                "scope": "meeting:read:admin meeting:write:admin",
                "api_url": self.base_url,
            },
        )

    @staticmethod
    def _basic(request: Request) -> tuple[str, str] | None:
        value = request.headers.get("authorization", "")
        if not value.lower().startswith("basic "):
            return None
        try:
            client_id, _, secret = base64.b64decode(value[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return client_id, secret

    def _refused(self, request: Request) -> Reply | None:
        """Zoom's answer to a call without a token it issued and that is still valid, or None."""
        token = request.bearer()
        with self._data_lock:
            expires = self.tokens.get(token) if token else None
            if expires is not None and self.clock.now() >= expires:
                del self.tokens[token or ""]
                return _error(401, 124, "Access token is expired.")
        if expires is None:
            return _error(401, 124, "Invalid access token.")
        return None

    def _known_user(self, user: str) -> bool:
        return user in {"me", HOST_EMAIL, self.credentials.get("user_id", "me")}

    # --- meetings ------------------------------------------------------------------------------------------

    def _list(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        if not self._known_user(request.params["user"]):
            return _error(404, 1001, f"User does not exist: {request.params['user']}.")
        page_size = int(request.query.get("page_size", ["30"])[0])
        with self._data_lock:
            meetings = list(self.meetings.values())
        return Reply(
            200,
            {
                "page_size": page_size,
                "total_records": len(meetings),
                "next_page_token": "",
                "meetings": [self._summary(meeting) for meeting in meetings[:page_size]],
            },
        )

    def _create(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        if not self._known_user(request.params["user"]):
            return _error(404, 1001, f"User does not exist: {request.params['user']}.")
        fields = self._fields(request, creating=True)
        if isinstance(fields, Reply):
            return fields
        meeting_id = str(secrets.randbelow(9 * 10**10) + 10**10)  # 11 digits, like Zoom's
        passcode = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(6))
        encrypted = secrets.token_urlsafe(24)
        meeting: dict[str, Any] = {
            "uuid": base64.b64encode(secrets.token_bytes(16)).decode(),
            "id": int(meeting_id),
            "host_id": "fake-host-" + secrets.token_hex(6),
            "host_email": HOST_EMAIL,
            "topic": fields.get("topic", "Zoom meeting"),
            "type": fields.get("type", 2),
            "status": "waiting",
            "start_time": fields["start_time"],
            "duration": fields["duration"],
            "timezone": fields.get("timezone", "UTC"),
            "created_at": _zoom_time(self.clock.now()),
            "start_url": f"https://zoom.us/s/{meeting_id}?zak={secrets.token_urlsafe(32)}",
            "join_url": f"https://zoom.us/j/{meeting_id}?pwd={encrypted}",
            "password": passcode,
            "h323_password": f"{secrets.randbelow(10**6):06d}",
            "encrypted_password": encrypted,
            "pre_schedule": False,
            "settings": {
                **SETTINGS_DEFAULTS,
                **fields.get("settings", {}),
                "global_dial_in_numbers": [dict(number) for number in self.dial_in_numbers],
            },
        }
        meeting["pstn_password"] = meeting["h323_password"]
        with self._data_lock:
            self.meetings[meeting_id] = meeting
        return Reply(201, meeting)

    def _get(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        with self._data_lock:
            meeting = self.meetings.get(request.params["id"])
        if meeting is None:
            return self._missing(request.params["id"])
        return Reply(200, meeting)

    def _update(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        fields = self._fields(request, creating=False)
        if isinstance(fields, Reply):
            return fields
        with self._data_lock:
            meeting = self.meetings.get(request.params["id"])
            if meeting is not None:
                settings = {**meeting["settings"], **fields.pop("settings", {})}
                meeting.update(fields, settings=settings)
        if meeting is None:
            return self._missing(request.params["id"])
        return Reply(204)

    def _delete(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        with self._data_lock:
            meeting = self.meetings.pop(request.params["id"], None)
        if meeting is None:
            return self._missing(request.params["id"])
        return Reply(204)

    @staticmethod
    def _missing(meeting_id: str) -> Reply:
        return _error(404, 3001, f"Meeting does not exist: {meeting_id}.")

    @staticmethod
    def _summary(meeting: dict[str, Any]) -> dict[str, Any]:
        keys = ("uuid", "id", "host_id", "topic", "type", "start_time", "duration", "timezone", "join_url")
        return {key: meeting[key] for key in keys}

    def _fields(self, request: Request, *, creating: bool) -> dict[str, Any] | Reply:
        """The meeting fields of a create or update, checked as Zoom checks them (code 300)."""
        try:
            body = request.json()
        except ValueError:
            return _error(400, 300, "Request Body should be a valid JSON object.")
        if not isinstance(body, dict):
            return _error(400, 300, "Request Body should be a valid JSON object.")
        fields: dict[str, Any] = {}
        if "topic" in body:
            if not isinstance(body["topic"], str) or len(body["topic"]) > 200:
                return _invalid("topic", "Topic is longer than 200 characters.")
            fields["topic"] = body["topic"]
        if "type" in body:
            if body["type"] not in (1, 2, 3, 8):
                return _invalid("type", "Invalid meeting type.")
            fields["type"] = body["type"]
        if "start_time" in body or creating:
            try:
                start = datetime.strptime(str(body.get("start_time")), "%Y-%m-%dT%H:%M:%SZ").replace(
                    tzinfo=UTC
                )
            except ValueError:
                return _invalid("start_time", "Invalid start_time: expected yyyy-MM-ddTHH:mm:ssZ.")
            fields["start_time"] = _zoom_time(start)
        if "duration" in body or creating:
            duration = body.get("duration")
            if not isinstance(duration, int) or isinstance(duration, bool) or duration <= 0:
                return _invalid("duration", "Duration must be a positive number of minutes.")
            fields["duration"] = duration
        if "timezone" in body:
            try:
                ZoneInfo(str(body["timezone"]))
            except (ZoneInfoNotFoundError, ValueError):
                return _invalid("timezone", "Invalid timezone.")
            fields["timezone"] = body["timezone"]
        if "settings" in body:
            if not isinstance(body["settings"], dict):
                return _invalid("settings", "Invalid field.")
            fields["settings"] = body["settings"]
        return fields
