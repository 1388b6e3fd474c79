"""A local Daily: the REST endpoints for rooms on one domain, with Daily's paths, Bearer API key, room
objects (name, url, config with nbf/exp) and error bodies ({"error": "authentication-error", "info": ...})."""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from collections.abc import Mapping
from typing import Any

from booking.adapters.system import SystemClock
from booking.ports import Clock
from local.fakes.server import FakeServer, Reply, Request

DEMO_CREDENTIALS: dict[str, str] = {"api_key": "demo-daily-api-key"}
DOMAIN = "fake-demo"
ROOM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
PROPERTY_TYPES: dict[str, type] = {"nbf": int, "exp": int, "eject_at_room_exp": bool}


def _error(status: int, error: str, info: str) -> Reply:
    return Reply(status, {"error": error, "info": info})


class FakeDaily(FakeServer):
    name = "daily"

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
        self.domain = DOMAIN
        self.meetings: dict[str, dict[str, Any]] = {}  # rooms, by name
        self._data_lock = threading.Lock()
        self.route("GET", "/v1/?", self._domain)
        self.route("GET", "/v1/rooms", self._list)
        self.route("POST", "/v1/rooms", self._create)
        self.route("GET", r"/v1/rooms/(?P<name>[^/]+)", self._get)
        self.route("POST", r"/v1/rooms/(?P<name>[^/]+)", self._update)
        self.route("DELETE", r"/v1/rooms/(?P<name>[^/]+)", self._delete)

    def not_found(self, request: Request) -> Reply:
        return _error(404, "not-found", f"no such endpoint: {request.method} {request.path}")

    def _refused(self, request: Request) -> Reply | None:
        """Daily answers a missing Authorization header with 400 and a wrong key with 401."""
        key = request.bearer()
        if not key:
            return _error(400, "authorization-header-error", "missing or malformed Authorization header")
        if key != self.credentials["api_key"]:
            return _error(401, "authentication-error", "the API key is not valid")
        return None

    def _domain(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        return Reply(
            200,
            {
                "domain_name": self.domain,
                "domain_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, self.domain)),
                "config": {},
            },
        )

    def _list(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        limit = int(request.query.get("limit", ["100"])[0])
        with self._data_lock:
            rooms = list(self.meetings.values())
        return Reply(200, {"total_count": len(rooms), "data": rooms[::-1][:limit]})

    def _create(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        body = self._body(request)
        if isinstance(body, Reply):
            return body
        name = body.get("name") or secrets.token_urlsafe(15).replace("_", "").replace("-", "")[:20]
        if not isinstance(name, str) or not ROOM_NAME.match(name):
            return _error(400, "invalid-request-error", "name may contain only A-Z, a-z, 0-9, '-' and '_'")
        privacy = body.get("privacy", "public")
        if privacy not in ("public", "private"):
            return _error(400, "invalid-request-error", "privacy must be one of public, private")
        config = self._properties(body.get("properties", {}), {})
        if isinstance(config, Reply):
            return config
        room = {
            "id": str(uuid.uuid4()),
            "name": name,
            "api_created": True,
            "privacy": privacy,
            "url": f"https://{self.domain}.daily.co/{name}",
            "created_at": self.clock.now().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "config": config,
        }
        with self._data_lock:
            if name in self.meetings:
                return _error(400, "invalid-request-error", f"a room named {name} already exists")
            self.meetings[name] = room
        return Reply(200, room)

    def _get(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        with self._data_lock:
            room = self.meetings.get(request.params["name"])
        return Reply(200, room) if room is not None else self._missing(request.params["name"])

    def _update(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        body = self._body(request)
        if isinstance(body, Reply):
            return body
        name = request.params["name"]
        with self._data_lock:
            room = self.meetings.get(name)
        if room is None:
            return self._missing(name)
        config = self._properties(body.get("properties", {}), room["config"])
        if isinstance(config, Reply):
            return config
        with self._data_lock:
            room["config"] = config
            if body.get("privacy") in ("public", "private"):
                room["privacy"] = body["privacy"]
        return Reply(200, room)

    def _delete(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        name = request.params["name"]
        with self._data_lock:
            room = self.meetings.pop(name, None)
        return Reply(200, {"deleted": True, "name": name}) if room is not None else self._missing(name)

    @staticmethod
    def _missing(name: str) -> Reply:
        return _error(404, "not-found", f"room {name} not found")

    @staticmethod
    def _body(request: Request) -> dict[str, Any] | Reply:
        try:
            body = request.json()
        except ValueError:
            return _error(400, "json-parsing-error", "the request body could not be parsed as JSON")
        if body is None:
            return {}
        if not isinstance(body, dict):
            return _error(400, "invalid-request-error", "the request body must be a JSON object")
        return body

    def _properties(self, given: Any, current: dict[str, Any]) -> dict[str, Any] | Reply:
        """The room's config after `given` properties, checked: a room that closes in the past or opens
        after it closes is refused."""
        if not isinstance(given, dict):
            return _error(400, "invalid-request-error", "properties must be an object")
        config = dict(current)
        for key, value in given.items():
            kind = PROPERTY_TYPES.get(key)
            if kind is None:
                continue  # Daily has many more properties; the fake keeps the ones the adapter uses
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                return _error(400, "invalid-request-error", f"{key} must be a {kind.__name__}")
            config[key] = value
        now = int(self.clock.now().timestamp())
        if "exp" in config and config["exp"] <= now:
            return _error(400, "invalid-request-error", "exp must be in the future")
        if "nbf" in config and "exp" in config and config["nbf"] >= config["exp"]:
            return _error(400, "invalid-request-error", "nbf must be before exp")
        return config
