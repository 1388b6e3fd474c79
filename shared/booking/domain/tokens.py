"""Manage tokens: the unguessable link that lets a customer view, cancel or reschedule one booking.

A token is `<tenant id>.<link version>.<HMAC-SHA256 of tenant, booking id and version>`, so it can be
checked without storing it and is useless for any other booking. The tenant id travels in the clear
because the public manage routes are addressed by booking id alone; it is not a secret and grants nothing
by itself.

A link stops working in two ways, both decided against the booking as it is now, so a link in an email
sent long ago stays good exactly as long as a fresh one would:
- it expires LIFETIME_AFTER_END after the appointment ends (cancelled or not);
- the business revokes the booking's links: the booking's `link_version` rises, and only tokens of the
  new version are accepted (messages sent afterwards carry new links).
Tokens issued before versions existed (`<tenant>.<mac>`) count as version 0.

A link shown to an owner or admin acting as the customer ("login as client") is delegated:
`<tenant>.<version>.<acting user, base64url>.<until, epoch seconds>.<HMAC of all of it>`. It records every
change made with it on behalf of that user, and stops working when their session ends (it never outlives
the session that was given it, unlike the customer's own link).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

LIFETIME_AFTER_END = timedelta(days=30)


@dataclass(frozen=True)
class Delegation:
    """Who acts through a delegated link (a 'login as client' session's user) and until when."""

    acting_user: str
    until: datetime


@dataclass(frozen=True)
class TokenClaim:
    tenant_id: str
    version: int
    delegation: Delegation | None = None


def link_problem(booking_end: datetime, link_version: int, claim: TokenClaim, now: datetime) -> str | None:
    """Why a genuine token no longer opens its booking (None: it does)."""
    if claim.version != link_version:
        return "this link was replaced; use the one in the business's latest message"
    if claim.delegation is not None and now >= claim.delegation.until:
        return "this link belonged to a 'login as client' session that has ended"
    if now >= booking_end + LIFETIME_AFTER_END:
        return f"this link expired {LIFETIME_AFTER_END.days} days after the appointment"
    return None


class ManageTokens:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the manage-token secret must be at least 32 bytes")
        self._secret = secret

    def _mac(self, message: str) -> bytes:
        digest = hmac.new(self._secret, message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=")

    def _versioned_mac(self, tenant_id: str, booking_id: str, version: int) -> bytes:
        return self._mac(f"manage|{tenant_id}|{booking_id}|v{version}")

    def issue(
        self, tenant_id: str, booking_id: str, version: int = 0, delegation: Delegation | None = None
    ) -> str:
        if delegation is None:
            return f"{tenant_id}.{version}.{self._versioned_mac(tenant_id, booking_id, version).decode()}"
        acting = base64.urlsafe_b64encode(delegation.acting_user.encode()).rstrip(b"=").decode()
        until = int(delegation.until.timestamp())
        mac = self._delegated_mac(tenant_id, booking_id, version, acting, until).decode()
        return f"{tenant_id}.{version}.{acting}.{until}.{mac}"

    def _delegated_mac(self, tenant_id: str, booking_id: str, version: int, acting: str, until: int) -> bytes:
        return self._mac(f"manage|{tenant_id}|{booking_id}|v{version}|as|{acting}|until|{until}")

    def claim(self, token: str, booking_id: str) -> TokenClaim | None:
        """What a genuine token for this booking claims; None for anything else."""
        parts = token.split(".")
        # bytes: compare_digest refuses str with non-ASCII characters (a token is whatever a client sends)
        given = parts[-1].encode("utf-8", "surrogatepass")
        delegated = len(parts) == 5 and parts[3].isdigit() and len(parts[3]) <= 12
        if delegated and parts[0] and parts[1].isdigit() and len(parts[1]) <= 6:
            tenant_id, version, acting, until = parts[0], int(parts[1]), parts[2], int(parts[3])
            genuine = self._delegated_mac(tenant_id, booking_id, version, acting, until)
            if not hmac.compare_digest(given, genuine):
                return None
            try:
                user = base64.urlsafe_b64decode(acting + "=" * (-len(acting) % 4)).decode()
            except ValueError:
                return None
            return TokenClaim(tenant_id, version, Delegation(user, datetime.fromtimestamp(until, UTC)))
        if len(parts) == 3 and parts[0] and parts[1].isdigit() and len(parts[1]) <= 6:
            tenant_id, version = parts[0], int(parts[1])
            genuine = self._versioned_mac(tenant_id, booking_id, version)
        elif len(parts) == 2 and parts[0]:
            tenant_id, version = parts[0], 0
            genuine = self._mac(f"manage|{tenant_id}|{booking_id}")  # issued before versions existed
        else:
            return None
        return TokenClaim(tenant_id, version) if hmac.compare_digest(given, genuine) else None

    def tenant_of(self, token: str, booking_id: str) -> str | None:
        """The tenant the token was issued for, if it is a genuine token for this booking."""
        claim = self.claim(token, booking_id)
        return claim.tenant_id if claim else None
