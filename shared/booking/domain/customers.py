"""Customers, per tenant, identified by email. Created on first booking; may be blocked from booking
online (e.g. after no-shows)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from booking.domain.booking import HistoryEntry
from booking.domain.types import Model, Name, PhoneE164


class CustomerProfile(BaseModel):
    email: str
    name: str
    phone: str | None = None
    blocked: bool = False
    blocked_reason: str | None = None
    sms_opt_out: bool = False
    created_at: datetime | None = None
    # Booking requests (domain/booking_requests.py) are for onboarded customers, with an address on file.
    address: str | None = None
    onboarded: bool = False


class LoginCode(BaseModel):
    """A pending one-time login code, stored only as a hash, with the request it answers."""

    code_hash: str
    expires_at: datetime
    attempts: int = 0
    request_id: str = ""


class CustomerAudit(BaseModel):
    entry: HistoryEntry


class OnboardingUpdate(Model):
    """A business onboarding a customer for booking requests: who they are and the address on file."""

    name: Name
    phone: PhoneE164 | None = None
    address: Annotated[str, Field(min_length=5, max_length=300)]
    onboarded: bool = True
