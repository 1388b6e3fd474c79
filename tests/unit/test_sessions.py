"""Customer session tokens (adapters/sessions.py) against the clock they are given, not the machine's."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from booking.adapters.sessions import IMPERSONATION_TTL, SESSION_TTL, JwtCustomerSessions
from booking.domain.tokens import Delegation, ManageTokens, TokenClaim, link_problem

SECRET = secrets.token_bytes(48)


def test_a_session_issued_on_a_clock_days_ahead_is_good_on_that_clock() -> None:
    # the local stack's dev clock, moved forward to see a reminder: signing in must still work
    ahead = datetime.now(UTC) + timedelta(days=3)
    sessions = JwtCustomerSessions(SECRET)
    token, _ = sessions.issue("tenant-1", "ann@example.com", None, ahead)

    expires = (ahead + SESSION_TTL).replace(microsecond=0)  # a JWT's exp is whole seconds
    assert sessions.verify(token, ahead) == ("tenant-1", "ann@example.com", None, expires)
    assert sessions.verify(token, ahead + SESSION_TTL - timedelta(seconds=1)) is not None


def test_a_session_is_refused_before_it_was_issued_and_from_its_expiry() -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    sessions = JwtCustomerSessions(SECRET)
    token, expires = sessions.issue("tenant-1", "ann@example.com", "owner-1", now)

    assert expires == now + IMPERSONATION_TTL
    assert sessions.verify(token, now - timedelta(seconds=1)) is None
    assert sessions.verify(token, expires) is None
    assert sessions.verify(token, now) == ("tenant-1", "ann@example.com", "owner-1", expires)
    assert JwtCustomerSessions(secrets.token_bytes(48)).verify(token, now) is None  # another secret


def test_a_delegated_manage_link_names_who_acts_and_ends_with_the_session() -> None:
    tokens = ManageTokens(SECRET)
    until = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    token = tokens.issue("tenant-1", "booking-1", 2, Delegation("owner-1", until))

    claim = tokens.claim(token, "booking-1")
    assert claim == TokenClaim("tenant-1", 2, Delegation("owner-1", until))
    assert link_problem(until + timedelta(days=1), 2, claim, until - timedelta(seconds=1)) is None
    assert "session that has ended" in (link_problem(until + timedelta(days=1), 2, claim, until) or "")
    assert tokens.claim(token, "booking-2") is None  # useless for any other booking
    parts = token.split(".")
    for forged in (
        [*parts[:2], "b3duZXIt", *parts[3:]],  # another user
        [*parts[:3], str(int(parts[3]) + 3600), parts[4]],  # longer
        [*parts[:1], "3", *parts[2:]],  # another link version
    ):
        assert tokens.claim(".".join(forged), "booking-1") is None
    assert tokens.claim(tokens.issue("tenant-1", "booking-1", 2), "booking-1") == TokenClaim("tenant-1", 2)
