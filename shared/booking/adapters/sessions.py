"""Customer session tokens: short-lived JWTs (HS256) signed with the application secret.

PyJWT is imported when a token is first issued or read: only the customer routes need it, and the rest of
the API starts without it (with `cryptography` installed, as locally, it costs more than the routes do).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

ISSUER = "booking"
AUDIENCE = "customer"
SESSION_TTL = timedelta(hours=12)
IMPERSONATION_TTL = timedelta(hours=1)


class JwtCustomerSessions:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def issue(
        self, tenant_id: str, email: str, acting_user: str | None, now: datetime
    ) -> tuple[str, datetime]:
        expires = now + (IMPERSONATION_TTL if acting_user else SESSION_TTL)
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": email,
            "tenant": tenant_id,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
        }
        if acting_user:
            claims["act"] = {"sub": acting_user}  # RFC 8693 actor claim: who is acting as the customer
        return _jwt().encode(claims, self._secret, algorithm="HS256"), expires

    def verify(self, token: str, now: datetime) -> tuple[str, str, str | None, datetime] | None:
        jwt = _jwt()
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                # Times are checked against the injected clock below, never the machine's: with the local
                # stack's dev clock moved forward, PyJWT's own check saw every new token as issued in the
                # future and refused it.
                options={
                    "require": ["exp", "iat", "sub", "aud", "iss"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            return None
        if not int(claims["iat"]) <= now.timestamp() < int(claims["exp"]):
            return None
        act = claims.get("act") or {}
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
        return str(claims["tenant"]), str(claims["sub"]), act.get("sub"), expires


def _jwt() -> ModuleType:
    import jwt  # noqa: PLC0415 - see the module docstring

    return jwt
