"""Time, ids, and the small shared services every capability leans on: idempotency, rate limits, per-business credentials, providers' webhook events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new sortable, unguessable id."""
        ...


class Idempotency(Protocol):
    def register_lambda_context(self, context: Any) -> None:
        """The current invocation, whose remaining time bounds how long a request counts as running."""
        ...

    def run(
        self, scope: str, key: str, payload: dict[str, Any], action: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """Runs `action` at most once per (scope, key) and returns its (stored) result. Raises
        IdempotencyKeyReused for the same key with a different payload, RequestInProgress while the first
        run is still going."""
        ...


class RateLimiter(Protocol):
    def take(
        self, tenant_id: str, counter: str, window_start: datetime, window: timedelta, limit: int
    ) -> bool:
        """Counts one request against `counter` (e.g. "ip:203.0.113.7") in the window starting at
        `window_start`, atomically; False, and nothing counted, once `limit` were counted in it."""
        ...

    def once_in(self, tenant_id: str, name: str, holder: str, now: datetime, period: timedelta) -> bool:
        """Takes `name` for `holder` unless another holder took it within `period` before `now` (False)."""
        ...


class CredentialsStore(Protocol):
    """Per-business provider credentials (Secrets Manager): written and read by the back end only, never
    shown to anyone."""

    def put(self, tenant_id: str, provider: str, credentials: dict[str, Any]) -> None: ...

    def get(self, tenant_id: str, provider: str, fresh: bool = False) -> dict[str, Any] | None:
        """The credentials (cached briefly); `fresh` when the cached ones proved wrong (rotated, or just
        connected): read again, at most once every few seconds."""
        ...

    def delete(self, tenant_id: str, provider: str) -> None: ...


class WebhookEvents(Protocol):
    """Providers' events already handled (by a key derived from the event), to recognise replays."""

    def seen(self, tenant_id: str, provider: str, event_key: str) -> bool: ...

    def record(
        self, tenant_id: str, provider: str, event_key: str, outcome: str, at: datetime, expires_at: datetime
    ) -> bool:
        """Records the event as handled, with a conditional write; False when it was recorded already."""
        ...
