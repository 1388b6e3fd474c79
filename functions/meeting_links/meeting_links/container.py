"""The meeting-links function's use case, wired from one composition (booking/composition.py) of its
settings (booking/settings.py MeetingLinksSettings)."""

from __future__ import annotations

from booking.adapters import clients
from booking.composition import Composition
from booking.ports import Clock
from booking.services.meetings import MeetingProvisioning
from booking.settings import MeetingLinksSettings


def compose(clock: Clock | None = None) -> Composition[MeetingLinksSettings]:
    """The function's adapters, from its settings read from the environment now, on `clock` (the
    system's unless given)."""
    return Composition(MeetingLinksSettings.from_environment(), clock=clock, aws=clients.SENDING_RETRIES)


def build_provisioning(clock: Clock | None = None) -> MeetingProvisioning:
    """Making, moving and deleting online bookings' meetings at their providers."""
    c = compose(clock)
    return MeetingProvisioning(
        catalogue=c.catalogue,
        bookings=c.bookings,
        providers=c.meeting_providers,
        clock=c.clock,
        index=c.meeting_index,
    )
