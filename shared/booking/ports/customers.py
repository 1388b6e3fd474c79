"""Customers: profiles, sessions, sign-in codes."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from booking.domain.booking import HistoryEntry, Note
from booking.domain.catalogue import Business
from booking.domain.customers import CustomerProfile, LoginCode, OnboardingUpdate


class CustomerRepository(Protocol):
    def profile(self, tenant_id: str, email: str) -> CustomerProfile | None: ...

    def set_blocked(
        self, tenant_id: str, email: str, blocked: bool, reason: str | None
    ) -> CustomerProfile: ...

    def set_sms_opt_out(self, tenant_id: str, email: str, opted_out: bool) -> None: ...

    def set_onboarding(
        self, tenant_id: str, email: str, update: OnboardingUpdate, at: datetime
    ) -> CustomerProfile: ...

    def mark_onboarded(self, tenant_id: str, email: str) -> bool: ...

    def add_note(self, tenant_id: str, customer_email: str, note: Note) -> None: ...

    def notes(self, tenant_id: str, customer_email: str, booking_id: str | None = None) -> list[Note]: ...

    def record_audit(self, tenant_id: str, email: str, entry: HistoryEntry) -> None: ...

    def audit(self, tenant_id: str, email: str) -> list[HistoryEntry]: ...

    def login_code(self, tenant_id: str, email: str) -> LoginCode | None: ...

    def put_login_code(self, tenant_id: str, email: str, code: LoginCode) -> bool:
        """Stores the code unless one for the same request is stored already (a redelivered request);
        False then, and nothing changes."""
        ...

    def request_login_code(self, tenant_id: str, email: str, request_id: str, at: datetime) -> None:
        """Records that a code was asked for (the reminders function issues and sends it, or does nothing
        for an email that is not a customer's)."""
        ...

    def reserve_attempt(self, tenant_id: str, email: str, code: LoginCode, max_attempts: int) -> bool:
        """Uses up one attempt of exactly this code before it is compared, atomically, so parallel
        guesses cannot exceed the limit. False when no attempt is left (or the code is gone)."""
        ...

    def delete_login_code(self, tenant_id: str, email: str, code: LoginCode) -> bool:
        """Consumes this code; False if it was already consumed or replaced (so it works once)."""
        ...


class Notifier(Protocol):
    def send_login_code(self, business: Business, email: str, code: str, expires_minutes: int) -> None: ...


class CustomerSessions(Protocol):
    """Signed customer session tokens (after a one-time code, or 'login as client')."""

    def issue(
        self, tenant_id: str, email: str, acting_user: str | None, now: datetime
    ) -> tuple[str, datetime]: ...

    def verify(self, token: str, now: datetime) -> tuple[str, str, str | None, datetime] | None:
        """(tenant id, email, acting user, expiry) for a genuine unexpired token, else None."""
        ...
