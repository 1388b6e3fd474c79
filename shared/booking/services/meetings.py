"""Online meetings: making each online booking's meeting at its provider, staff setting a link by hand,
and the provider credentials a business connects.

Provisioning runs in the meeting-links state machine (infra/statemachines/meeting_links.asl.json), started
from the committed change (the table's stream) once per booking version that needs it. Its task re-reads
the booking and does what the booking needs now: make the meeting, move it, or delete it at the provider
once the booking is cancelled. Provider errors are raised by their class name, so the state machine's
`Retry` backs off on outages and throttling and its `Catch` gives up (`give_up`): the booking stands and
shows its meeting as failed, with the provider's reason, and the staff member is told.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from aws_lambda_powertools import Logger

from booking.domain.access import Principal, Role
from booking.domain.booking import MOVABLE, Actor, Booking, BookingStatus, HistoryEntry
from booking.domain.catalogue import Business, Catalogue
from booking.domain.errors import Conflict, NotFound, ProviderDown
from booking.domain.meetings import (
    CREDENTIALS,
    Meeting,
    MeetingLinkUpdate,
    MeetingProviderError,
    MeetingSpec,
)
from booking.ports import (
    BookingRepository,
    CatalogueReader,
    Clock,
    CredentialsStore,
    MeetingIndex,
    MeetingProviders,
    MeetingProvisioner,
)
from booking.services.booking_engine import BookingEngine, BookingView, invalid

logger = Logger(child=True)

SYSTEM = Actor(kind="system", id="meeting-links")
LINK_SETTERS = frozenset({Role.OWNER, Role.ADMIN, Role.STAFF})
CREDENTIAL_KEEPERS = frozenset({Role.OWNER, Role.ADMIN})
# A save that keeps meeting a newer version of the booking re-reads and tries again, this many times.
SAVE_ATTEMPTS = 5
# A meeting's pointer to its booking (for the provider's events about the call) is kept this long after
# the meeting's end: events come while the call happens, or a little later when the provider retries them.
POINTER_KEPT_AFTER_MEETING = timedelta(days=30)

Outcome = Literal["created", "updated", "deleted", "unchanged", "not_needed", "failed"]


def needs_provisioning(old: Booking | None, new: Booking) -> bool:
    """Whether this committed change asks the provider for something: a meeting for a new (or newly
    active) online booking, the meeting moved with its booking, or deleted with it. The provisioner's
    own writes (the meeting ready or failed) change no times, so they start nothing."""
    meeting = new.meeting
    if new.delivery != "online" or meeting is None or meeting.provider == "manual":
        return False
    if new.status is BookingStatus.CANCELLED:
        return (
            old is not None and old.status is not BookingStatus.CANCELLED and meeting.meeting_id is not None
        )
    if new.status not in MOVABLE or new.on_hold:
        return False  # an unpaid booking gets its meeting once it is paid for
    if old is None or old.status not in MOVABLE or old.on_hold:
        return True
    return (old.start, old.end) != (new.start, new.end) and meeting.made_for != (new.start, new.end)


def meeting_spec(booking: Booking, catalogue: Catalogue) -> MeetingSpec:
    member = catalogue.staff_member(booking.staff_id)
    services = ", ".join(s.name for s in booking.services)
    return MeetingSpec(
        tenant_id=booking.tenant_id,
        booking_id=booking.id,
        topic=f"{services} with {catalogue.business.name}",
        start=booking.start,
        end=booking.end,
        time_zone=catalogue.business.time_zone,
        host_email=member.email if member else None,
    )


class ProvisioningTrigger:
    """Starts the state machine for the committed changes that need it (run on the table's stream)."""

    def __init__(self, provisioner: MeetingProvisioner) -> None:
        self._provisioner = provisioner

    def booking_changed(self, old: Booking | None, new: Booking) -> None:
        if needs_provisioning(old, new):
            self._provisioner.start(new.tenant_id, new.id, new.version)


class MeetingProvisioning:
    """The state machine's tasks."""

    def __init__(
        self,
        catalogue: CatalogueReader,
        bookings: BookingRepository,
        providers: MeetingProviders,
        clock: Clock,
        index: MeetingIndex,
    ) -> None:
        self._catalogue = catalogue
        self._bookings = bookings
        self._providers = providers
        self._clock = clock
        self._index = index

    def provision(self, tenant_id: str, booking_id: str) -> Outcome:
        """Makes the provider's meeting match the booking as it is now. Raises MeetingProviderError."""
        found = self._load(tenant_id, booking_id)
        if found is None:
            return "not_needed"
        booking, catalogue = found
        meeting = booking.meeting
        if booking.delivery != "online" or meeting is None or meeting.provider == "manual":
            return "not_needed"
        links = self._providers.for_business(catalogue.business, meeting.provider)
        if booking.status is BookingStatus.CANCELLED:
            if meeting.meeting_id is None:
                return "not_needed"
            links.delete(meeting.meeting_id)
            self._save(
                tenant_id,
                booking_id,
                lambda m: m.model_copy(update={"meeting_id": None, "made_for": None}),
                "meeting_deleted",
                {"provider": meeting.provider},
            )
            return "deleted"
        if booking.status not in MOVABLE:
            return "not_needed"
        spec = meeting_spec(booking, catalogue)
        if meeting.meeting_id is not None and meeting.made_for == (spec.start, spec.end):
            if meeting.status != "ready":
                self._save(
                    tenant_id,
                    booking_id,
                    lambda m: m.model_copy(update={"status": "ready"}),
                    "meeting_ready",
                    {},
                )
            # Again, for a run that stopped between saving the meeting and pointing it at the booking.
            self._remember(tenant_id, booking_id, meeting.provider, meeting.meeting_id, spec)
            return "unchanged"
        if meeting.meeting_id is not None:
            made = links.update(meeting.meeting_id, spec)
            outcome: Outcome = "updated"
        else:
            made = links.create(spec)
            outcome = "created"
        now = self._clock.now()

        def ready(current: Meeting) -> Meeting:
            return current.model_copy(
                update={
                    "status": "ready",
                    "join_url": made.join_url,
                    "passcode": made.passcode,
                    "notes": made.notes,
                    "host_url": made.host_url,
                    "meeting_id": made.meeting_id,
                    "made_for": (spec.start, spec.end),
                    "reason": None,
                    "notify_customer": False,
                    "updated_at": now,
                }
            )

        saved = self._save(tenant_id, booking_id, ready, f"meeting_{outcome}", {"provider": meeting.provider})
        if saved:
            self._remember(tenant_id, booking_id, meeting.provider, made.meeting_id, spec)
        elif made.meeting_id != meeting.meeting_id:
            links.delete(made.meeting_id)  # the booking went away meanwhile: leave nothing behind
        return outcome

    def _remember(
        self, tenant_id: str, booking_id: str, provider: str, meeting_id: str, spec: MeetingSpec
    ) -> None:
        """Points the provider's meeting at its booking, so the provider's events about the call (Zoom's
        meeting.started and meeting.ended) find it."""
        self._index.remember(
            tenant_id, provider, meeting_id, booking_id, expires_at=spec.end + POINTER_KEPT_AFTER_MEETING
        )

    def give_up(self, tenant_id: str, booking_id: str, error: str, cause: str) -> Outcome:
        """After the last retry, or a failure retrying cannot mend: the booking stands, its meeting says
        why it has no link, and (through the stream) the staff member hears of it."""
        reason = _reason(error, cause)
        logger.warning("meeting link not made", extra={"booking_id": booking_id, "error": error})
        now = self._clock.now()
        self._save(
            tenant_id,
            booking_id,
            lambda m: m.model_copy(update={"status": "failed", "reason": reason, "updated_at": now}),
            "meeting_failed",
            {"reason": reason},
        )
        return "failed"

    def _load(self, tenant_id: str, booking_id: str) -> tuple[Booking, Catalogue] | None:
        found = self._bookings.get(tenant_id, booking_id)
        catalogue = self._catalogue.load_catalogue(tenant_id)
        if found is None or catalogue is None:
            logger.warning("meeting for a booking that does not exist", extra={"booking_id": booking_id})
            return None
        return found[0], catalogue

    def _save(
        self,
        tenant_id: str,
        booking_id: str,
        change: Callable[[Meeting], Meeting],
        action: str,
        details: dict[str, str],
    ) -> bool:
        """Applies `change` to the booking's meeting as it is now, re-reading when the booking moved on
        meanwhile. False when the booking is gone or no longer online."""
        for _ in range(SAVE_ATTEMPTS):
            found = self._bookings.get(tenant_id, booking_id)
            if found is None:
                return False
            booking = found[0]
            if booking.meeting is None or booking.delivery != "online":
                return False
            meeting = change(booking.meeting)
            if meeting == booking.meeting:
                return True
            now = self._clock.now()
            changed = booking.model_copy(
                update={"meeting": meeting, "updated_at": now, "version": booking.version + 1}
            )
            entry = HistoryEntry(at=now, actor=SYSTEM, action=action, details=details)
            try:
                self._bookings.save(changed, booking, entry)
            except Conflict:
                continue
            return True
        raise Conflict(f"booking {booking_id} kept changing while its meeting was saved")


def _reason(error: str, cause: str) -> str:
    """The provider's words from a failed task's cause (Lambda's {"errorMessage": ...}), shortened."""
    try:
        parsed = json.loads(cause)
        message = parsed.get("errorMessage") if isinstance(parsed, dict) else None
    except ValueError:
        message = None
    text = str(message or cause or error)
    return " ".join(text.split())[:300] or error


class MeetingAdmin:
    """What staff do with meetings: set or replace a booking's link, connect provider accounts."""

    def __init__(
        self,
        engine: BookingEngine,
        bookings: BookingRepository,
        providers: MeetingProviders,
        credentials: CredentialsStore,
        clock: Clock,
    ) -> None:
        self._engine = engine
        self._bookings = bookings
        self._providers = providers
        self._credentials = credentials
        self._clock = clock

    def set_link(self, principal: Principal, booking_id: str, update: MeetingLinkUpdate) -> BookingView:
        principal.require(LINK_SETTERS)
        booking, _ = self._engine.load(principal.tenant_id, booking_id)
        if principal.role is Role.STAFF and booking.staff_id != principal.staff_id:
            raise NotFound(f"booking {booking_id} not found")  # staff see their own diary only
        if booking.delivery != "online":
            raise Conflict("this booking is in person; only an online booking has a meeting link")
        if booking.status not in MOVABLE:
            raise Conflict(f"a {booking.status.value} booking's meeting cannot be changed")
        now = self._clock.now()
        previous = booking.meeting
        meeting = Meeting(
            status="ready",
            provider="manual",
            join_url=update.join_url,
            passcode=update.passcode or None,
            notes=update.notes,
            meeting_id=None,  # a provider's meeting replaced by hand is deleted there (below)
            notify_customer=update.notify_customer,
            updated_at=now,
        )
        changed = booking.model_copy(
            update={"meeting": meeting, "updated_at": now, "version": booking.version + 1}
        )
        entry = HistoryEntry(
            at=now,
            actor=Actor(kind=principal.role.value, id=principal.user_id),
            action="meeting_link_set",
            details={
                "replaced": "true" if previous is not None and previous.join_url else "false",
                "notify_customer": "true" if update.notify_customer else "false",
            },
        )
        self._bookings.save(changed, booking, entry)
        if previous is not None and previous.meeting_id is not None and previous.provider != "manual":
            self._delete_replaced(booking, previous)
        _, history = self._engine.load(booking.tenant_id, booking.id)
        return self._engine.view(changed, history)

    def _delete_replaced(self, booking: Booking, previous: Meeting) -> None:
        """The provider's meeting a hand-set link replaced is deleted, best effort: the new link stands
        either way."""
        catalogue = self._engine.tenant_catalogue(booking.tenant_id)
        try:
            links = self._providers.for_business(catalogue.business, previous.provider)
            if previous.meeting_id is not None:
                links.delete(previous.meeting_id)
        except MeetingProviderError as error:
            logger.warning(
                "replaced meeting not deleted at the provider",
                extra={"booking_id": booking.id, "reason": error.reason},
            )

    # --- provider accounts ----------------------------------------------------------------------------

    def connected(self, principal: Principal) -> dict[str, bool]:
        """Which providers the business has stored credentials for (never the credentials)."""
        principal.require(CREDENTIAL_KEEPERS)
        return {p: self._credentials.get(principal.tenant_id, p) is not None for p in CREDENTIALS}

    def connect(self, principal: Principal, provider: str, credentials: dict[str, Any]) -> datetime:
        """Checks the credentials with the provider, then stores them: a 4xx naming the field when the
        provider refuses them, and nothing stored."""
        principal.require(CREDENTIAL_KEEPERS)
        model = CREDENTIALS.get(provider)
        if model is None:
            raise NotFound(f"{provider} needs no credentials")
        parsed = model.model_validate(credentials)
        business = self._engine.tenant_catalogue(principal.tenant_id).business
        links = self._providers.for_credentials(business, provider, parsed)
        try:
            links.check_credentials()
        except MeetingProviderError as error:
            if error.retryable:
                raise ProviderDown(
                    f"{provider} could not check the credentials now: {error.reason}"
                ) from None
            raise invalid("credentials", f"{provider} refused these credentials: {error.reason}") from None
        self._credentials.put(principal.tenant_id, provider, parsed.model_dump(mode="json"))
        return self._clock.now()

    def disconnect(self, principal: Principal, provider: str, business: Business) -> None:
        principal.require(CREDENTIAL_KEEPERS)
        if provider not in CREDENTIALS:
            raise NotFound(f"{provider} needs no credentials")
        if business.meeting_provider == provider:
            raise Conflict(f"{provider} makes this business's meeting links; choose another provider first")
        self._credentials.delete(principal.tenant_id, provider)

    def check_provider_choice(self, tenant_id: str, provider: str) -> None:
        """A business may choose a hosted provider only once its credentials are stored."""
        if provider in CREDENTIALS and self._credentials.get(tenant_id, provider) is None:
            raise invalid(
                "meeting_provider",
                f"connect {provider} first: PUT /v1/admin/business/meeting-providers/{provider}",
            )
