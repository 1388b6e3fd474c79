"""Patch 4, the events Stripe sends that localstripe does not (`_emit`, which the other patches call too),
the fields Stripe's objects have that the adapter reads, and captures and cancellations as Stripe allows
them. `DEV_CLOCK` is the dev clock's time each authorisation is stamped with (patch 6, `lapses.py`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from localstripe import resources, webhooks
from localstripe.errors import UserError

from local.stripe_patches._support import _error, _unexpected
from local.stripe_patches.installing import _ORIGINALS, _replace

_CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
_CANCELLATION_REASONS = (None, "duplicate", "fraudulent", "requested_by_customer", "abandoned")


def _emit(kind: str, obj: Any) -> Any:
    """An Event of `kind` about `obj` as it is now, kept in the store and sent to the webhooks."""
    event = resources.Event(kind, obj)
    webhooks.schedule_webhook(event)
    return event


class _DevClock:
    offset = 0.0  # the dev clock less real time, as last told by POST /_local/lapse_authorisations

    def now(self) -> float:
        return time.time() + self.offset


DEV_CLOCK = _DevClock()


def _pi_create_charge(self: Any, on_failure_now: Callable[[], Any]) -> None:
    before = self.latest_charge
    try:
        _ORIGINALS["localstripe.resources:PaymentIntent._create_charge"](self, on_failure_now)
    finally:
        if self.latest_charge is not before:
            self._retry_ready = False
    if self.status == "requires_capture":
        self._authorised_at = DEV_CLOCK.now()
        _emit("payment_intent.amount_capturable_updated", self)


def _cancel_intent(intent: Any, reason: str | None) -> None:
    intent._canceled = True
    intent.next_action = None
    intent._cancellation_reason = reason
    intent._canceled_at = int(time.time())
    _emit("payment_intent.canceled", intent)


def _pi_api_cancel(
    cls: Any,
    id: str,
    cancellation_reason: Any = None,
    **kwargs: Any,
) -> Any:
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    if not (isinstance(id, str) and id.startswith("pi_")):
        raise UserError(400, "Bad request")
    if cancellation_reason not in _CANCELLATION_REASONS:
        raise _error(400, f"Invalid cancellation_reason: {cancellation_reason}", param="cancellation_reason")
    intent = cls._api_retrieve(id)
    if intent.status not in _CANCELABLE:
        raise _unexpected("PaymentIntent", intent, "cancel", _CANCELABLE)
    _cancel_intent(intent, cancellation_reason)
    return intent


def _pi_api_capture(
    cls: Any,
    id: str,
    amount_to_capture: Any = None,
    **kwargs: Any,
) -> Any:
    if isinstance(id, str) and id.startswith("pi_") and not kwargs:
        intent = cls._api_retrieve(id)
        if intent.status != "requires_capture":
            raise _unexpected("PaymentIntent", intent, "capture", ("requires_capture",))
    return _ORIGINALS["localstripe.resources:PaymentIntent._api_capture"](
        cls, id, amount_to_capture=amount_to_capture, **kwargs
    )


def _charge_capture(self: Any, amount: Any, on_success: Any = None) -> None:
    if not self.captured:  # what is captured, known before the events of the capture are made
        converted = resources.try_convert_to_int(amount)
        self._amount_captured = self.amount if converted is None else converted
    _ORIGINALS["localstripe.resources:Charge._capture"](self, amount, on_success)


def _charge_amount_captured(self: Any) -> int:
    if self.status != "succeeded" or not self.captured:
        return 0
    return int(getattr(self, "_amount_captured", self.amount))


def _pi_amount_received(self: Any) -> int:
    charge = self.latest_charge
    return _charge_amount_captured(charge) if charge is not None else 0


def _pi_amount_capturable(self: Any) -> int:
    return int(self.amount) if self.status == "requires_capture" else 0


def _pi_export(self: Any, expand: Any = None) -> dict[str, Any]:
    """As localstripe's, with latest_charge an id unless expanded (as at Stripe)."""
    exported: dict[str, Any] = resources.StripeObject._export(self, expand=expand)
    paths = expand if isinstance(expand, list) else []
    wanted = any(p == "latest_charge" or str(p).startswith("latest_charge.") for p in paths)
    charge = exported.get("latest_charge")
    if not wanted and isinstance(charge, dict):
        exported["latest_charge"] = charge.get("id")
    return exported


def _event_api_list_all(cls: Any, url: str, **kwargs: Any) -> Any:
    listed = _ORIGINALS["localstripe.resources:Event._api_list_all"](cls, url, **kwargs)
    listed._list = sorted(reversed(listed._list), key=lambda event: event.created, reverse=True)
    return listed


def apply() -> None:
    """Patch 4's replacements and fields in localstripe's objects (called by `install`)."""
    r = resources
    _replace(r.PaymentIntent, "_create_charge", _pi_create_charge)
    _replace(r.PaymentIntent, "_api_cancel", _pi_api_cancel)
    _replace(r.PaymentIntent, "_api_capture", _pi_api_capture)
    _replace(r.Charge, "_capture", _charge_capture)
    _replace(r.Event, "_api_list_all", _event_api_list_all)
    r.PaymentIntent._export = _pi_export
    r.PaymentIntent.amount_received = property(_pi_amount_received)
    r.PaymentIntent.amount_capturable = property(_pi_amount_capturable)
    r.PaymentIntent.cancellation_reason = property(lambda self: getattr(self, "_cancellation_reason", None))
    r.PaymentIntent.canceled_at = property(lambda self: getattr(self, "_canceled_at", None))
    r.Charge.amount_captured = property(_charge_amount_captured)
    r.SetupIntent.last_setup_error = None
    r.SetupIntent.cancellation_reason = None
