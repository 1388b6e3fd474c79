"""Patch 6, authorisations lapse on the dev clock: `POST /_local/lapse_authorisations` (a route `install`
adds) sets `DEV_CLOCK` to the dev clock's time and cancels every authorisation made 7 days or more before
it. The clock and the cancelling live in `events.py`, which stamps each authorisation with the one and
cancels on request with the other. The local stack's dispatcher calls the route (`local/stripe_clock.py`)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from localstripe import resources
from localstripe.errors import UserError

from local.stripe_patches._support import logger, server
from local.stripe_patches.events import DEV_CLOCK, _cancel_intent

AUTHORISATION_SECONDS = 7 * 24 * 3600  # Stripe cancels a card authorisation not captured within 7 days


def _authorised_at(intent: Any) -> float:
    stamped = getattr(intent, "_authorised_at", None)
    return float(stamped) if stamped is not None else float(intent.latest_charge.created)


async def lapse_authorisations(request: web.Request) -> web.Response:
    """POST /_local/lapse_authorisations {"now": <unix seconds on the dev clock>}."""
    data = await server.get_post_data(request) or {}
    try:
        now = float(data["now"])
    except (KeyError, TypeError, ValueError):
        raise UserError(400, 'Expected {"now": <unix seconds>}') from None
    DEV_CLOCK.offset = now - time.time()
    lapsed = []
    for key, obj in list(resources.store.items()):
        if not key.startswith("payment_intent:") or obj.status != "requires_capture":
            continue
        if _authorised_at(obj) + AUTHORISATION_SECONDS <= now:
            _cancel_intent(obj, "automatic")
            lapsed.append(obj.id)
    if lapsed:
        logger.info("authorisations lapsed at %d: %s", now, ", ".join(lapsed))
    return web.json_response({"lapsed": lapsed, "now": now})
