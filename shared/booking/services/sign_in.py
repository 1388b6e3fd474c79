"""Passwordless sign-in for returning customers: a one-time code by email, exchanged for a session.

The request does the same work whatever the email is: it counts the request against three limits (per
client IP, per business, per email; each an hourly counter of its own, so neither a code's expiry nor a
sign-in resets it), records that a code was asked for, and answers. Whether the email belongs to a
customer is decided later, in the reminders function (driven by the table's stream, as every message is),
where `LoginCodeIssuer` issues and mails the code only then. So neither the answer nor its timing tells a
stranger who is a customer, a request never waits for the email provider, and the API needs no permission
to send email.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from booking.domain.customers import LoginCode
from booking.domain.errors import NotFound, TooManyRequests, Unauthorized
from booking.ports import (
    CatalogueReader,
    Clock,
    CustomerRepository,
    CustomerSessions,
    IdGenerator,
    Notifier,
    RateLimiter,
)

logger = Logger(child=True)

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
LIMIT_WINDOW = timedelta(hours=1)
# Requests for codes an hour: per email stops mail-bombing one person through our form; per client IP and
# per business stop one client, or many, from probing or flooding.
LIMITS: tuple[tuple[str, int], ...] = (("ip", 20), ("business", 300), ("email", 5))


def _window_start(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def _code_hash(secret: bytes, tenant_id: str, email: str, code: str) -> str:
    """What is stored instead of the code: a keyed hash, so a read of the table yields no usable code."""
    message = f"login|{tenant_id}|{email.lower()}|{code}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


class SignIn:
    """The API's half: asking for a code and exchanging it for a session."""

    def __init__(
        self,
        catalogue: CatalogueReader,
        customers: CustomerRepository,
        sessions: CustomerSessions,
        limiter: RateLimiter,
        clock: Clock,
        ids: IdGenerator,
        code_secret: bytes,
    ) -> None:
        self._catalogue = catalogue
        self._customers = customers
        self._sessions = sessions
        self._limiter = limiter
        self._clock = clock
        self._ids = ids
        self._code_secret = code_secret

    def _tenant(self, slug: str) -> str:
        tenant_id = self._catalogue.tenant_for_slug(slug)
        if tenant_id is None:
            raise NotFound(f"no business is published at {slug!r}")
        return tenant_id

    def request_code(self, slug: str, email: str, client_ip: str) -> None:
        """Counts and records the request; TooManyRequests past a limit (for any email alike)."""
        tenant_id = self._tenant(slug)
        email = email.lower()
        now = self._clock.now()
        window = _window_start(now)
        subjects = {"ip": client_ip, "business": tenant_id, "email": email}
        for scope, limit in LIMITS:
            if not self._limiter.take(
                tenant_id, f"code-{scope}:{subjects[scope]}", window, LIMIT_WINDOW, limit
            ):
                retry_after = int((window + LIMIT_WINDOW - now).total_seconds()) + 1
                raise TooManyRequests("too many sign-in codes were asked for; try again later", retry_after)
        self._customers.request_login_code(tenant_id, email, self._ids.new_id(), now)

    def exchange_code(self, slug: str, email: str, code: str) -> str:
        """A customer session token for a valid code (each code works once, and 5 wrong tries burn it)."""
        tenant_id = self._tenant(slug)
        email = email.lower()
        failure = Unauthorized("that code is wrong or has expired; request a new one")
        stored = self._customers.login_code(tenant_id, email)
        if stored is None or stored.expires_at <= self._clock.now():
            raise failure
        if not self._customers.reserve_attempt(tenant_id, email, stored, MAX_ATTEMPTS):
            raise failure
        if not hmac.compare_digest(stored.code_hash, _code_hash(self._code_secret, tenant_id, email, code)):
            raise failure
        if not self._customers.delete_login_code(tenant_id, email, stored):
            raise failure  # used by a parallel request a moment ago
        token, _ = self._sessions.issue(tenant_id, email, None, self._clock.now())
        return token


class LoginCodeIssuer:
    """The reminders function's half: issuing and mailing the code a request recorded."""

    def __init__(
        self,
        catalogue: CatalogueReader,
        customers: CustomerRepository,
        notifier: Notifier,
        clock: Clock,
        code_secret: bytes,
    ) -> None:
        self._catalogue = catalogue
        self._customers = customers
        self._notifier = notifier
        self._clock = clock
        self._code_secret = code_secret

    def issue_code(self, tenant_id: str, email: str, request_id: str) -> None:
        """Mails a code to a customer of the business; for anyone else, does nothing. A redelivered
        request issues nothing twice."""
        if self._customers.profile(tenant_id, email) is None:
            return
        catalogue = self._catalogue.load_catalogue(tenant_id)
        if catalogue is None:
            return
        code = f"{secrets.randbelow(1_000_000):06d}"
        stored = LoginCode(
            code_hash=_code_hash(self._code_secret, tenant_id, email, code),
            expires_at=self._clock.now() + CODE_TTL,
            request_id=request_id,
        )
        if not self._customers.put_login_code(tenant_id, email, stored):
            return
        self._notifier.send_login_code(catalogue.business, email, code, int(CODE_TTL.total_seconds() // 60))
