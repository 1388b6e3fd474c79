"""The HTTP server every provider fake is built on: a threaded stdlib server on a local port, routes by
method and path pattern, every request recorded, and faults on demand (the next N calls answer 5xx or
429 with Retry-After) so tests and `make dev` can watch retries and failures happen."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route's pattern

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:] if value.lower().startswith("bearer ") else None


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None  # JSON-serialisable, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[Request], Reply]


@dataclass
class _Fault:
    count: int
    status: int
    body: Any
    retry_after: str | None


class FakeServer:
    """Subclasses register routes in `__init__` with `route(method, pattern, handler)`; patterns are
    regular expressions over the path with named groups."""

    name = "fake"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Route]] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, method: str, pattern: str, handler: Route) -> None:
        self._routes.append((method, re.compile(f"^{pattern}$"), handler))

    def start(self) -> FakeServer:
        self._thread = threading.Thread(
            # a short poll, so stop() returns at once (tests start and stop many fakes)
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-{self.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- faults -----------------------------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 503, body: Any = None) -> None:
        """The next `count` requests answer `status` (an outage) without doing anything."""
        with self._lock:
            self._faults.append(_Fault(count, status, body or {"message": "service unavailable"}, None))

    def throttle_next(self, count: int = 1, retry_after: int = 1) -> None:
        """The next `count` requests answer 429 Too Many Requests with Retry-After."""
        with self._lock:
            self._faults.append(_Fault(count, 429, {"message": "rate limit exceeded"}, str(retry_after)))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _fault(self) -> Reply | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.count -= 1
            if fault.count <= 0:
                self._faults.pop(0)
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        return Reply(fault.status, fault.body, headers)

    # --- serving ----------------------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
        fault = self._fault()
        if fault is not None:
            return fault
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                return handler(
                    Request(
                        request.method,
                        request.path,
                        request.query,
                        request.headers,
                        request.body,
                        match.groupdict(),
                    )
                )
        return self.not_found(request)

    def not_found(self, request: Request) -> Reply:
        """The provider's answer to an unknown path (subclasses use the provider's error body)."""
        return Reply(404, {"message": f"no route for {request.method} {request.path}"})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                try:
                    reply = fake._dispatch(request)
                except Exception as error:  # a bug in a fake answers 500, like a broken provider
                    reply = Reply(500, {"message": f"fake {fake.name} failed: {error}"})
                payload = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                if payload:
                    self.send_header("Content-Type", "application/json")
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # requests are recorded in `fake.requests`; nothing on stderr

        return Handler
