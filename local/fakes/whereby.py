"""A local Whereby: the /v1/meetings endpoints with Whereby's paths, Bearer API key, fields (meetingId,
roomUrl, hostRoomUrl, endDate) and refusals. As at Whereby, startDate is ignored (a room opens when it is
made) and a room stays open until an hour after its endDate."""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from booking.adapters.system import SystemClock
from booking.ports import Clock
from local.fakes.server import FakeServer, Reply, Request

DEMO_CREDENTIALS: dict[str, str] = {"api_key": "demo-whereby-api-key"}
SUBDOMAIN = "fake-demo"
ROOM_LIFETIME_AFTER_END = timedelta(hours=1)
PREFIX = re.compile(r"^[a-z0-9-]{0,39}$")
FIELDS = frozenset({"hostRoomUrl", "viewerRoomUrl"})


def _error(status: int, message: str) -> Reply:
    return Reply(status, {"error": message})


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed  # UTC unless an offset is given


class FakeWhereby(FakeServer):
    name = "whereby"

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
        self.subdomain = SUBDOMAIN
        self.meetings: dict[str, dict[str, Any]] = {}  # by meetingId
        self._data_lock = threading.Lock()
        self.route("GET", "/v1/meetings", self._list)
        self.route("POST", "/v1/meetings", self._create)
        self.route("GET", r"/v1/meetings/(?P<id>[^/]+)", self._get)
        self.route("DELETE", r"/v1/meetings/(?P<id>[^/]+)", self._delete)

    def not_found(self, request: Request) -> Reply:
        return _error(404, "Not found")

    def open_until(self, meeting_id: str) -> datetime:
        """When Whereby deletes the room by itself: an hour after the endDate it was given."""
        ends = _parse(self.meetings[meeting_id]["endDate"])
        assert ends is not None
        return ends + ROOM_LIFETIME_AFTER_END

    def _refused(self, request: Request) -> Reply | None:
        if request.bearer() != self.credentials["api_key"]:
            return _error(401, "Access token is missing or invalid")
        return None

    def _list(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        limit = int(request.query.get("limit", ["50"])[0])
        with self._data_lock:
            meetings = [self._public(meeting) for meeting in self.meetings.values()]
        return Reply(200, {"results": meetings[:limit], "cursor": None})

    def _create(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        try:
            body = request.json()
        except ValueError:
            return _error(400, "Request body is not valid JSON")
        if not isinstance(body, dict):
            return _error(400, "Request body must be a JSON object")
        if "endDate" not in body:
            return _error(400, '"endDate" is required')
        end = _parse(body["endDate"])
        now = self.clock.now()
        if end is None:
            return _error(400, '"endDate" must be a valid ISO 8601 date')
        if end < now:
            return _error(400, '"endDate" must be the same or after the current date')
        mode = body.get("roomMode", "normal")
        if mode not in ("normal", "group"):
            return _error(400, '"roomMode" must be one of [normal, group]')
        prefix = str(body.get("roomNamePrefix", "")).replace(" ", "")
        if not PREFIX.match(prefix):
            return _error(400, '"roomNamePrefix" must be lowercase letters, digits and dashes, at most 39')
        fields = body.get("fields", [])
        if not isinstance(fields, list) or not set(fields) <= FIELDS:
            return _error(400, f'"fields" may contain only {sorted(FIELDS)}')
        room = f"{prefix}-{uuid.uuid4()}" if prefix else str(uuid.uuid4())
        meeting_id = str(secrets.randbelow(9 * 10**8) + 10**8)
        room_url = f"https://{self.subdomain}.whereby.com/{room}"
        meeting: dict[str, Any] = {
            "meetingId": meeting_id,
            "roomName": f"/{room}",
            "roomUrl": room_url,
            "startDate": _iso(now),  # startDate is ignored: the room is open from now
            "endDate": _iso(end),
            "roomMode": mode,
            "hostRoomUrl": f"{room_url}?roomKey={secrets.token_urlsafe(24)}",
            "viewerRoomUrl": f"{room_url}?roomKey={secrets.token_urlsafe(24)}",
            "requestedFields": fields,
        }
        with self._data_lock:
            self.meetings[meeting_id] = meeting
        return Reply(201, self._public(meeting, fields))

    def _get(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        fields = request.query.get("fields", [""])[0].split(",")
        with self._data_lock:
            meeting = self.meetings.get(request.params["id"])
        if meeting is None:
            return _error(404, "Meeting not found")
        return Reply(200, self._public(meeting, fields))

    def _delete(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        with self._data_lock:
            meeting = self.meetings.pop(request.params["id"], None)
        return Reply(204) if meeting is not None else _error(404, "Meeting not found")

    @staticmethod
    def _public(meeting: dict[str, Any], fields: list[str] | None = None) -> dict[str, Any]:
        """A meeting as Whereby answers: the host and viewer links only when asked for in `fields`."""
        keys = ["meetingId", "roomName", "roomUrl", "startDate", "endDate", *(set(fields or []) & FIELDS)]
        return {key: meeting[key] for key in keys}
