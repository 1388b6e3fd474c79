"""The meeting providers: one small adapter per provider (stdlib HTTP, no vendor SDK), and the directory
that makes each business's account from the credentials it stored.

Endpoints default to the providers' real ones; the MEETING_PROVIDER_ENDPOINTS setting (JSON, e.g.
{"zoom": {"api_base": "http://127.0.0.1:9101", "oauth_base": "http://127.0.0.1:9101"}}, read by
booking/settings.py) points them elsewhere: the local stack and the tests use it for the local fakes
(local/fakes/).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from typing import Any

from booking.domain.catalogue import Business
from booking.domain.meetings import CREDENTIALS, CredentialsMissing
from booking.domain.types import Model
from booking.ports import Clock, CredentialsStore, MeetingLinks


def make_links(
    provider: str, credentials: Model | None, business: Business, clock: Clock, endpoints: dict[str, str]
) -> MeetingLinks:
    """The adapter for `provider`; imported on first use, so a function pays only for the ones it uses."""
    # One import per provider, each only when a business uses it (cold starts pay for nothing else).
    if provider == "jitsi":
        from booking.adapters.meetings.jitsi import JitsiRooms  # noqa: PLC0415

        return JitsiRooms(business.jitsi_base_url)
    if provider == "zoom":
        from booking.adapters.meetings.zoom import ZoomMeetings  # noqa: PLC0415

        return ZoomMeetings(credentials, clock, **endpoints)  # type: ignore[arg-type]
    if provider == "google_meet":
        from booking.adapters.meetings.google_meet import GoogleMeetEvents  # noqa: PLC0415

        return GoogleMeetEvents(credentials, clock, **endpoints)  # type: ignore[arg-type]
    if provider == "microsoft_teams":
        from booking.adapters.meetings.teams import TeamsMeetings  # noqa: PLC0415

        return TeamsMeetings(credentials, clock, **endpoints)  # type: ignore[arg-type]
    if provider == "daily":
        from booking.adapters.meetings.daily import DailyRooms  # noqa: PLC0415

        return DailyRooms(credentials, clock, **endpoints)  # type: ignore[arg-type]
    if provider == "whereby":
        from booking.adapters.meetings.whereby import WherebyMeetings  # noqa: PLC0415

        return WherebyMeetings(credentials, clock, **endpoints)  # type: ignore[arg-type]
    raise CredentialsMissing(f"{provider} makes no meeting links")


class ProviderDirectory:
    """The MeetingProviders port. An account is kept per business, provider and credentials, so its
    access token is reused across invocations of a warm container; new credentials make a new one."""

    def __init__(
        self,
        credentials: CredentialsStore,
        clock: Clock,
        endpoints: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._endpoints = {name: dict(value) for name, value in (endpoints or {}).items()}
        self._accounts: dict[tuple[str, str, str], MeetingLinks] = {}
        self._lock = threading.Lock()

    def for_business(self, business: Business, provider: str) -> MeetingLinks:
        model = CREDENTIALS.get(provider)
        parsed: Model | None = None
        if model is not None:
            stored = self._credentials.get(business.id, provider)
            if stored is None:
                raise CredentialsMissing(f"{provider} is not connected: its credentials are not stored")
            parsed = model.model_validate(stored)
        return self._account(business, provider, parsed)

    def for_credentials(self, business: Business, provider: str, credentials: Any) -> MeetingLinks:
        return make_links(provider, credentials, business, self._clock, self._endpoints.get(provider, {}))

    def _account(self, business: Business, provider: str, credentials: Model | None) -> MeetingLinks:
        fingerprint = hashlib.sha256(
            (credentials.model_dump_json() if credentials else business.jitsi_base_url).encode()
        ).hexdigest()
        key = (business.id, provider, fingerprint)
        with self._lock:
            account = self._accounts.get(key)
            if account is None:
                account = make_links(
                    provider, credentials, business, self._clock, self._endpoints.get(provider, {})
                )
                self._accounts[key] = account
            return account
