"""Webhooks function: providers' event notifications, `POST /v1/webhooks/<provider>/...` behind API Gateway
with no authorizer: each provider signs its requests, and nothing is read or written for a request until
its signature is checked. The routes (webhooks/app.py, on Powertools' resolver):

- `/v1/webhooks/zoom/{tenant_id}`: Zoom's events for one business (booking.services.zoom_webhooks), signed
  with the secret token the business stored with its Zoom credentials;
- `/v1/webhooks/stripe/{tenant_id}`: Stripe's events for one business (booking.services.payments.events),
  verified with the webhook secret the business stored with its Stripe account; a bad signature is a 400
  and nothing changes;
- any other path: 404; any other method: 405.

Importing this module costs little: the services and the resolver are built by the first invocation or,
with SnapStart, before the snapshot (`prime`); the services again, on the renewed AWS session, after each
restore (`restored`).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from booking import deadline
from booking.adapters import snapstart

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from booking.services.payments.events import PaymentEvents
    from booking.services.zoom_webhooks import ZoomWebhooks

logger = Logger()

# What prime() sends through the resolver: a POST to no provider's address, answered 404 without reading
# anything (no business's secret, no table).
_NO_PROVIDER = {
    "resource": "/v1/webhooks/{proxy+}",
    "path": "/v1/webhooks/",
    "httpMethod": "POST",
    "headers": {},
    "requestContext": {"resourcePath": "/v1/webhooks/{proxy+}", "httpMethod": "POST", "stage": "snapshot"},
    "body": None,
    "isBase64Encoded": False,
}


def _build_zoom() -> ZoomWebhooks:
    from webhooks.container import build_zoom_webhooks  # noqa: PLC0415 - first use only

    return build_zoom_webhooks()


def _build_stripe() -> PaymentEvents:
    from webhooks.container import build_payment_events  # noqa: PLC0415 - first use only

    return build_payment_events()


# The services, one per environment: built on first use, renewed after each restore, or installed by the
# local stack (on its dev clock) and the tests.
zoom_webhooks: snapstart.PerEnvironment[ZoomWebhooks] = snapstart.PerEnvironment(_build_zoom)
payment_events: snapstart.PerEnvironment[PaymentEvents] = snapstart.PerEnvironment(_build_stripe)


def install(zoom: ZoomWebhooks, stripe: PaymentEvents | None = None) -> None:
    """The local stack installs services built on its dev clock; on Lambda they are built on first use
    (Stripe's too, when none is given)."""
    zoom_webhooks.install(zoom)
    if stripe is None:
        payment_events.clear()
    else:
        payment_events.install(stripe)


def service() -> ZoomWebhooks:
    return zoom_webhooks()


def stripe_events() -> PaymentEvents:
    return payment_events()


@functools.cache
def api() -> APIGatewayRestResolver:
    """The resolver with the routes: once per environment (the services it calls are looked up per
    request, so an installed or renewed service is the one used)."""
    from webhooks.app import resolver  # noqa: PLC0415 - the event handler and the models: see the docstring

    return resolver(zoom=service, stripe=stripe_events)


def prime() -> None:
    """Before the snapshot: the services built (clients, the event models) and the resolver answering a
    request; no business's secret read."""
    from aws_lambda_powertools.utilities.typing import LambdaContext  # noqa: PLC0415

    service()
    stripe_events()
    api().resolve(_NO_PROVIDER, LambdaContext())


def restored() -> None:
    """After each restore, on the renewed AWS session: services of this environment's own (clients, an
    empty secrets cache)."""
    zoom_webhooks.renew()
    payment_events.renew()


snapstart.on_snapshot(prime, restored)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    resolver = api()
    # Every outside call fits in what is left of the timeout, or the delivery is answered 503 (retried).
    with deadline.within(context.get_remaining_time_in_millis() / 1000):
        return resolver.resolve(event, context)
