"""Customer use cases: the customer's session and own view (signing in with a code is
services/sign_in.py), "login as client" for owners and admins, blocking, and the client history staff
read before an appointment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking.domain.access import Principal, Role
from booking.domain.booking import Actor, Booking, BookingStatus, HistoryEntry, Note
from booking.domain.customers import CustomerProfile, OnboardingUpdate
from booking.domain.errors import NotFound, Unauthorized
from booking.domain.tokens import Delegation
from booking.ports import (
    BookingRepository,
    CatalogueReader,
    Clock,
    CustomerRepository,
    CustomerSessions,
)

IMPERSONATORS = frozenset({Role.OWNER, Role.ADMIN})
HISTORY_READERS = frozenset({Role.OWNER, Role.ADMIN, Role.DISPATCHER, Role.STAFF})


@dataclass(frozen=True)
class CustomerSession:
    tenant_id: str
    email: str
    acting_user: str | None  # an owner or admin acting as the customer ("login as client")
    expires_at: datetime

    @property
    def actor(self) -> Actor:
        return Actor(kind="customer", id=self.email, on_behalf_of=self.acting_user)

    @property
    def delegation(self) -> Delegation | None:
        """What a manage link shown in this session carries: none for the customer's own session; for
        'login as client', the acting user and the session's end, so the link records them and dies with
        the session."""
        if self.acting_user is None:
            return None
        return Delegation(self.acting_user, self.expires_at)


@dataclass(frozen=True)
class CustomerOverview:
    profile: CustomerProfile
    upcoming: list[Booking]  # pending or confirmed, not over yet: soonest first
    past: list[Booking]  # over (done, started, missed, or never confirmed): latest first
    cancelled: list[Booking]  # cancelled, whatever their date: latest first


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
        clock: Clock,
    ) -> None:
        self._catalogue = catalogue
        self._bookings = bookings
        self._customers = customers
        self._sessions = sessions
        self._clock = clock

    def session(self, token: str | None) -> CustomerSession:
        verified = self._sessions.verify(token or "", self._clock.now())
        if verified is None:
            raise Unauthorized("sign in again: the session is missing or has expired")
        tenant_id, email, acting, expires = verified
        return CustomerSession(tenant_id, email, acting, expires)

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
        cancelled = [b for b in reversed(bookings) if b.status is BookingStatus.CANCELLED]
        past = [b for b in reversed(bookings) if b not in upcoming and b not in cancelled]
        return CustomerOverview(profile=profile, upcoming=upcoming, past=past, cancelled=cancelled)

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

    def set_onboarding(self, principal: Principal, email: str, update: OnboardingUpdate) -> CustomerProfile:
        """Owners, admins and dispatchers onboard a customer for booking requests (address on file)."""
        principal.require(frozenset({Role.OWNER, Role.ADMIN, Role.DISPATCHER}))
        now = self._clock.now()
        profile = self._customers.set_onboarding(principal.tenant_id, email.lower(), update, now)
        self._customers.record_audit(
            principal.tenant_id,
            email.lower(),
            HistoryEntry(
                at=now,
                actor=Actor(kind=principal.role.value, id=principal.user_id),
                action="onboarded" if update.onboarded else "onboarding_withdrawn",
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
