"""Customer session tokens (adapters/sessions.py) against the clock they are given, not the machine's."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from booking.adapters.sessions import IMPERSONATION_TTL, SESSION_TTL, JwtCustomerSessions

SECRET = secrets.token_bytes(48)


def test_a_session_issued_on_a_clock_days_ahead_is_good_on_that_clock() -> None:
    # the local stack's dev clock, moved forward to see a reminder: signing in must still work
    ahead = datetime.now(UTC) + timedelta(days=3)
    sessions = JwtCustomerSessions(SECRET)
    token, _ = sessions.issue("tenant-1", "ann@example.com", None, ahead)

    assert sessions.verify(token, ahead) == ("tenant-1", "ann@example.com", None)
    assert sessions.verify(token, ahead + SESSION_TTL - timedelta(seconds=1)) is not None


def test_a_session_is_refused_before_it_was_issued_and_from_its_expiry() -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    sessions = JwtCustomerSessions(SECRET)
    token, expires = sessions.issue("tenant-1", "ann@example.com", "owner-1", now)

    assert expires == now + IMPERSONATION_TTL
    assert sessions.verify(token, now - timedelta(seconds=1)) is None
    assert sessions.verify(token, expires) is None
    assert sessions.verify(token, now) == ("tenant-1", "ann@example.com", "owner-1")
    assert JwtCustomerSessions(secrets.token_bytes(48)).verify(token, now) is None  # another secret
