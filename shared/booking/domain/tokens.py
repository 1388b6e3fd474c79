"""Manage tokens: the unguessable link that lets a customer view, cancel or reschedule one booking.

A token is `<tenant id>.<HMAC-SHA256 of tenant and booking id>`, so it can be checked without storing it
and is useless for any other booking. The tenant id travels in the clear because the public manage routes
are addressed by booking id alone; it is not a secret and grants nothing by itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


class ManageTokens:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the manage-token secret must be at least 32 bytes")
        self._secret = secret

    def _mac(self, tenant_id: str, booking_id: str) -> str:
        digest = hmac.new(self._secret, f"manage|{tenant_id}|{booking_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, tenant_id: str, booking_id: str) -> str:
        return f"{tenant_id}.{self._mac(tenant_id, booking_id)}"

    def tenant_of(self, token: str, booking_id: str) -> str | None:
        """The tenant the token was issued for, if it is a genuine token for this booking."""
        tenant_id, _, mac = token.partition(".")
        if not tenant_id or not mac:
            return None
        # bytes: compare_digest refuses str with non-ASCII characters (a token is whatever a client sends)
        genuine = self._mac(tenant_id, booking_id).encode()
        return tenant_id if hmac.compare_digest(mac.encode("utf-8", "surrogatepass"), genuine) else None
