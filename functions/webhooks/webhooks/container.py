"""The webhooks function's use cases, wired from one composition (booking/composition.py) of its settings
(booking/settings.py WebhooksSettings), each built on first use."""

from __future__ import annotations

from functools import cached_property

from booking.adapters import clients
from booking.composition import Composition
from booking.ports import Clock
from booking.services.payments.events import PaymentEvents
from booking.services.zoom_webhooks import ZoomWebhooks
from booking.settings import WebhooksSettings


def compose(clock: Clock | None = None) -> Composition[WebhooksSettings]:
    """The function's adapters, from its settings read from the environment now, on `clock` (the
    system's unless given); its clients answer within an API request's time (10 s)."""
    return Composition(WebhooksSettings.from_environment(), clock=clock, aws=clients.API_RETRIES)


class Webhooks:
    """The webhooks function's use cases over `composition` (or one composed from the environment, on
    `clock`), each built on first use."""

    def __init__(
        self, composition: Composition[WebhooksSettings] | None = None, *, clock: Clock | None = None
    ):
        self.composition = composition or compose(clock)

    @cached_property
    def zoom(self) -> ZoomWebhooks:
        """Zoom's events for one business, signed with the secret token stored with its Zoom credentials."""
        c = self.composition
        return ZoomWebhooks(
            credentials=c.meeting_credentials,
            meetings=c.meeting_index,
            bookings=c.bookings,
            events=c.webhook_events,
            clock=c.clock,
        )

    @cached_property
    def stripe(self) -> PaymentEvents:
        """Stripe's events for one business, verified with the webhook secret of its Stripe account."""
        c = self.composition
        return PaymentEvents(
            bookings=c.bookings,
            accounts=c.payment_accounts,
            gateway=c.stripe,
            events=c.webhook_events,
            clock=c.clock,
        )


def build_zoom_webhooks(clock: Clock | None = None) -> ZoomWebhooks:
    return Webhooks(clock=clock).zoom


def build_payment_events(clock: Clock | None = None) -> PaymentEvents:
    return Webhooks(clock=clock).stripe
