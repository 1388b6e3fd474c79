"""Customers, per tenant, identified by email. Created on first booking; may be blocked from booking
online (e.g. after no-shows)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from booking.domain.booking import HistoryEntry


class CustomerProfile(BaseModel):
    email: str
    name: str
    phone: str | None = None
    blocked: bool = False
    blocked_reason: str | None = None
    sms_opt_out: bool = False
    created_at: datetime | None = None


class LoginCode(BaseModel):
    """A pending one-time login code, stored only as a hash, with the request it answers."""

    code_hash: str
    expires_at: datetime
    attempts: int = 0
    request_id: str = ""


class CustomerAudit(BaseModel):
    entry: HistoryEntry
