"""What several of the patches share: localstripe's log, and Stripe's shape of an error.

localstripe's `server` module is imported here, once, with the DeprecationWarning its plain handlers raise
silenced; the other modules take it from here."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

from localstripe.errors import UserError

with warnings.catch_warnings():  # localstripe's plain (not async) handlers: aiohttp deprecates them
    warnings.simplefilter("ignore", DeprecationWarning)
    from localstripe import server as server  # noqa: PLC0414 - re-exported: the other modules import it here

# localstripe's own log (its access log and webhook deliveries), which the local stack writes to a file.
logger = logging.getLogger("aiohttp.access")


def _error(status: int, message: str, kind: str = "invalid_request_error", **fields: Any) -> UserError:
    """An error answered as Stripe answers it: {"error": {"type", "message", ...fields}}."""
    error = UserError(status, message, {k: v for k, v in fields.items() if v is not None})
    error.body["error"]["type"] = kind
    return error


_PAST = {
    "authenticate": "authenticated",
    "cancel": "canceled",
    "capture": "captured",
    "confirm": "confirmed",
    "update": "updated",
}


def _unexpected(what: str, obj: Any, action: str, allowed: Sequence[str]) -> UserError:
    """Stripe's 400 for an action the object's status does not allow."""
    return _error(
        400,
        f"You cannot {action} this {what} because it has a status of {obj.status}. Only a {what} with one "
        f"of the following statuses may be {_PAST[action]}: {', '.join(allowed)}.",
        code=f"{obj.object}_unexpected_state",
    )
