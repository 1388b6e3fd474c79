"""Customer use cases: passwordless login with a one-time code, the customer's own view, "login as
client" for owners and admins, blocking, and the client history staff read before an appointment."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from booking.domain.access import Principal, Role
from booking.domain.booking import Actor, Booking, BookingStatus, HistoryEntry, Note
from booking.domain.customers import CustomerProfile, LoginCode
from booking.domain.errors import NotFound, Unauthorized
from booking.ports import (
    BookingRepository,
    CatalogueReader,
    Clock,
    CustomerRepository,
    CustomerSessions,
    Notifier,
)

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
# At most this many codes per email per hour: stops mail-bombing a customer through our form.
MAX_CODES_PER_HOUR = 5
IMPERSONATORS = frozenset({Role.OWNER, Role.ADMIN})
HISTORY_READERS = frozenset({Role.OWNER, Role.ADMIN, Role.DISPATCHER, Role.STAFF})


@dataclass(frozen=True)
class CustomerSession:
    tenant_id: str
    email: str
    acting_user: str | None

    @property
    def actor(self) -> Actor:
        return Actor(kind="customer", id=self.email, on_behalf_of=self.acting_user)


@dataclass(frozen=True)
class CustomerOverview:
    profile: CustomerProfile
    upcoming: list[Booking]
    past: list[Booking]


@dataclass(frozen=True)
class ClientHistory:
    profile: CustomerProfile
    bookings: list[Booking]
    notes: list[Note]
    audit: list[HistoryEntry]


class CustomerService:
    def __init__(
        self,
        catalogue: CatalogueReader,
        bookings: BookingRepository,
        customers: CustomerRepository,
        sessions: CustomerSessions,
        notifier: Notifier,
        clock: Clock,
        code_secret: bytes,
    ) -> None:
        self._catalogue = catalogue
        self._bookings = bookings
        self._customers = customers
        self._sessions = sessions
        self._notifier = notifier
        self._clock = clock
        self._code_secret = code_secret

    def _tenant(self, slug: str) -> str:
        tenant_id = self._catalogue.tenant_for_slug(slug)
        if tenant_id is None:
            raise NotFound(f"no business is published at {slug!r}")
        return tenant_id

    def _hash(self, tenant_id: str, email: str, code: str) -> str:
        message = f"login|{tenant_id}|{email.lower()}|{code}".encode()
        return hmac.new(self._code_secret, message, hashlib.sha256).hexdigest()

    # --- one-time code login --------------------------------------------------------------------------

    def request_code(self, slug: str, email: str) -> None:
        """Sends a code if the customer exists. Answers the same either way: no account enumeration."""
        tenant_id = self._tenant(slug)
        email = email.lower()
        profile = self._customers.profile(tenant_id, email)
        if profile is None:
            return
        now = self._clock.now()
        previous = self._customers.login_code(tenant_id, email)
        window_start, issued = now, 1
        if previous is not None and now - previous.window_started_at < timedelta(hours=1):
            if previous.issued_in_window >= MAX_CODES_PER_HOUR:
                return  # silently: the customer already has several valid-looking emails
            window_start, issued = previous.window_started_at, previous.issued_in_window + 1
        code = f"{secrets.randbelow(1_000_000):06d}"
        self._customers.put_login_code(
            tenant_id,
            email,
            LoginCode(
                code_hash=self._hash(tenant_id, email, code),
                expires_at=now + CODE_TTL,
                window_started_at=window_start,
                issued_in_window=issued,
            ),
        )
        catalogue = self._catalogue.load_catalogue(tenant_id)
        assert catalogue is not None
        self._notifier.send_login_code(catalogue.business, email, code, int(CODE_TTL.total_seconds() // 60))

    def exchange_code(self, slug: str, email: str, code: str) -> tuple[str, CustomerOverview]:
        tenant_id = self._tenant(slug)
        email = email.lower()
        failure = Unauthorized("that code is wrong or has expired; request a new one")
        stored = self._customers.login_code(tenant_id, email)
        if stored is None or stored.expires_at <= self._clock.now():
            raise failure
        if not self._customers.reserve_attempt(tenant_id, email, stored, MAX_ATTEMPTS):
            raise failure
        if not hmac.compare_digest(stored.code_hash, self._hash(tenant_id, email, code)):
            raise failure
        if not self._customers.delete_login_code(tenant_id, email, stored):
            raise failure  # used by a parallel request a moment ago
        token, _ = self._sessions.issue(tenant_id, email, None, self._clock.now())
        return token, self.overview(CustomerSession(tenant_id, email, None))

    def session(self, token: str | None) -> CustomerSession:
        verified = self._sessions.verify(token or "", self._clock.now())
        if verified is None:
            raise Unauthorized("sign in again: the session is missing or has expired")
        tenant_id, email, acting = verified
        return CustomerSession(tenant_id, email, acting)

    def overview(self, session: CustomerSession) -> CustomerOverview:
        profile = self._customers.profile(session.tenant_id, session.email)
        if profile is None:
            raise NotFound("no such customer")
        now = self._clock.now()
        bookings = sorted(
            self._bookings.customer_bookings(session.tenant_id, session.email), key=lambda b: b.start
        )
        upcoming = [
            b
            for b in bookings
            if b.end > now and b.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED)
        ]
        past = [b for b in reversed(bookings) if b not in upcoming]
        return CustomerOverview(profile=profile, upcoming=upcoming, past=past)

    # --- staff side -----------------------------------------------------------------------------------

    def impersonate(self, principal: Principal, email: str) -> str:
        """'Login as client': a customer session for an owner or admin, recorded on the customer."""
        principal.require(IMPERSONATORS)
        email = email.lower()
        if self._customers.profile(principal.tenant_id, email) is None:
            raise NotFound(f"no customer {email}")
        now = self._clock.now()
        self._customers.record_audit(
            principal.tenant_id,
            email,
            HistoryEntry(
                at=now,
                actor=Actor(kind=principal.role.value, id=principal.user_id),
                action="login_as_client",
                details={"by": principal.email or principal.user_id},
            ),
        )
        token, _ = self._sessions.issue(principal.tenant_id, email, principal.user_id, now)
        return token

    def set_blocked(
        self, principal: Principal, email: str, blocked: bool, reason: str | None
    ) -> CustomerProfile:
        principal.require(frozenset({Role.OWNER, Role.ADMIN}))
        profile = self._customers.set_blocked(principal.tenant_id, email.lower(), blocked, reason)
        self._customers.record_audit(
            principal.tenant_id,
            email.lower(),
            HistoryEntry(
                at=self._clock.now(),
                actor=Actor(kind=principal.role.value, id=principal.user_id),
                action="blocked" if blocked else "unblocked",
                details={"reason": reason} if reason else {},
            ),
        )
        return profile

    def history(self, principal: Principal, email: str) -> ClientHistory:
        """The client's bookings, notes and audit. A staff member sees only the bookings they gave and the
        notes on those, never the audit; a client they never saw is answered as no client at all, so
        staff cannot learn who else is a client."""
        principal.require(HISTORY_READERS)
        email = email.lower()
        nobody = NotFound(f"no customer {email}")
        profile = self._customers.profile(principal.tenant_id, email)
        if profile is None:
            raise nobody
        bookings = sorted(self._bookings.customer_bookings(principal.tenant_id, email), key=lambda b: b.start)
        notes = sorted(self._customers.notes(principal.tenant_id, email), key=lambda n: n.at)
        audit = self._customers.audit(principal.tenant_id, email)
        if principal.role is Role.STAFF:
            bookings = [b for b in bookings if b.staff_id == principal.staff_id]
            if not bookings:
                raise nobody
            theirs = {b.id for b in bookings}
            notes = [n for n in notes if n.booking_id in theirs]
            audit = []
        return ClientHistory(profile=profile, bookings=bookings, notes=notes, audit=audit)
