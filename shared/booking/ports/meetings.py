"""Online meetings: the providers' links and their provisioning."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from booking.domain.catalogue import Business
from booking.domain.meetings import CreatedMeeting, MeetingSpec


class MeetingLinks(Protocol):
    """One business's account at a meeting provider. Each call raises a MeetingProviderError subclass
    (domain/meetings.py) on failure: CredentialsRejected, MeetingRefused, ProviderRateLimited (with the
    provider's Retry-After) or ProviderUnavailable."""

    def check_credentials(self) -> None:
        """Proves the credentials work (e.g. fetches a token); CredentialsRejected when they do not."""
        ...

    def create(self, spec: MeetingSpec) -> CreatedMeeting: ...

    def update(self, meeting_id: str, spec: MeetingSpec) -> CreatedMeeting:
        """The meeting moved to the spec's times: changed in place where the provider allows, otherwise
        made anew (the old one deleted), so the answer's id and link may differ."""
        ...

    def delete(self, meeting_id: str) -> None:
        """Deletes the meeting; one that is already gone is fine."""
        ...


class MeetingProviders(Protocol):
    """Each business's provider accounts, made from the credentials it stored."""

    def for_business(self, business: Business, provider: str) -> MeetingLinks:
        """The business's account at `provider`; CredentialsMissing when it stored none."""
        ...

    def for_credentials(self, business: Business, provider: str, credentials: Any) -> MeetingLinks:
        """An account from credentials not stored yet (to check them before they are)."""
        ...


class MeetingProvisioner(Protocol):
    def start(self, tenant_id: str, booking_id: str, version: int) -> None:
        """Starts provisioning the meeting of this version of the booking (idempotent: one run per
        booking version)."""
        ...


class MeetingIndex(Protocol):
    """Which booking a provider's meeting (by the provider's own id) belongs to."""

    def remember(
        self,
        tenant_id: str,
        provider: str,
        meeting_id: str,
        booking_id: str,
        *,
        expires_at: datetime | None = None,
    ) -> None:
        """Points the meeting at its booking (idempotent); the pointer may be dropped after `expires_at`."""
        ...

    def booking_for(self, tenant_id: str, provider: str, meeting_id: str) -> str | None: ...
