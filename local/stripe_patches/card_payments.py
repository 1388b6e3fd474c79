"""Patch 1 on PaymentIntents: a decline leaves the intent `requires_payment_method` with its
`last_payment_error`, to be confirmed again with another card; 3-D Secure asks on-session
(`requires_action`, answered by `POST /v1/payment_intents/{id}/_authenticate`) and is Stripe's 402
`authentication_required` off-session, unless the card was set up for it. The cards are in `cards.py`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from localstripe import resources
from localstripe.errors import UserError

from local.stripe_patches._support import _error, _unexpected
from local.stripe_patches.cards import (
    _NEXT_ACTION,
    _PAYMENT_METHOD_STATUSES,
    AUTHENTICATION_FAILED_PAYMENT,
    AUTHENTICATION_ON_SETUP_ONLY,
    AUTHENTICATION_REQUIRED,
    _card_number,
    _charge_decline,
    _export_of,
)
from local.stripe_patches.events import _emit
from local.stripe_patches.installing import _ORIGINALS, _replace


def _last_payment_error(self: Any) -> Any:
    if "_last_error" in vars(self):  # set by the patches (None once cleared)
        return dict(self._last_error) if self._last_error else None
    return _ORIGINALS["localstripe.resources:PaymentIntent.last_payment_error"](self)


def _status(self: Any) -> str | None:
    """localstripe's, except that an intent whose charge failed can be confirmed again once given a
    payment method (a failed charge alone leaves it `requires_payment_method`)."""
    if self._canceled:
        return "canceled"
    if not self.payment_method:
        return "requires_payment_method"
    if self.next_action:
        return "requires_action"
    charge = self.latest_charge
    if charge is None or (charge.status == "failed" and getattr(self, "_retry_ready", False)):
        return "requires_confirmation"
    if charge.status == "succeeded":
        return "succeeded" if charge.captured else "requires_capture"
    if charge.status == "failed":
        return "requires_payment_method"
    if charge.status == "pending":
        return "processing"
    return None


def _use_payment_method(intent: Any, payment_method: str) -> None:
    """Gives an intent the payment method to confirm with (a test id made into its PaymentMethod once)."""
    method = resources.PaymentMethod._api_retrieve(payment_method)  # 404 if unknown
    intent.payment_method = method.id
    intent.next_action = None
    intent._last_error = None
    charge = intent.latest_charge
    intent._retry_ready = charge is not None and charge.status == "failed"


def _pi_update(self: Any, **data: Any) -> None:
    for key in data:
        if isinstance(inspect.getattr_static(type(self), key, None), property):
            raise _error(400, f"Received unknown parameter: {key}", param=key)
    method = data.pop("payment_method", None)
    if method is not None and self.status not in _PAYMENT_METHOD_STATUSES:
        raise _unexpected("PaymentIntent", self, "update", _PAYMENT_METHOD_STATUSES)
    if data:
        resources.StripeObject._update(self, **data)
    if method is not None:
        if not isinstance(method, str):
            raise UserError(400, "Bad request")
        _use_payment_method(self, method)


def _pi_api_create(cls: Any, confirm: Any = None, off_session: Any = None, **data: Any) -> Any:
    confirm = resources.try_convert_to_bool(confirm)
    off_session = resources.try_convert_to_bool(off_session)
    if confirm is not None and type(confirm) is not bool:
        raise UserError(400, "Bad request")
    if off_session is not None and (type(off_session) is not bool or confirm is not True):
        raise UserError(400, "Bad request")
    intent = cls(**data)
    if intent.payment_method:
        _use_payment_method(intent, intent.payment_method)
    if confirm:
        intent._confirm(on_failure_now=intent._report_failure, off_session=bool(off_session))
    return intent


def _pi_api_confirm(
    cls: Any,
    id: str,
    payment_method: Any = None,
    off_session: Any = None,
    client_secret: Any = None,
    return_url: Any = None,
    use_stripe_sdk: Any = None,
    **kwargs: Any,
) -> Any:
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    off_session = resources.try_convert_to_bool(off_session)
    if not (isinstance(id, str) and id.startswith("pi_")):
        raise UserError(400, "Bad request")
    if payment_method is not None and not isinstance(payment_method, str):
        raise UserError(400, "Bad request")
    if off_session is not None and type(off_session) is not bool:
        raise UserError(400, "Bad request")
    intent = cls._api_retrieve(id)
    if client_secret is not None and client_secret != intent.client_secret:
        raise UserError(401, "Unauthorized")
    if payment_method is not None:
        if intent.status not in _PAYMENT_METHOD_STATUSES:
            raise _unexpected("PaymentIntent", intent, "confirm", _PAYMENT_METHOD_STATUSES)
        _use_payment_method(intent, payment_method)
    if intent.status != "requires_confirmation":
        if intent.status == "requires_payment_method":
            raise _error(
                400,
                "You cannot confirm this PaymentIntent because it's missing a payment method. Update it "
                "with a payment method, or confirm it again with the payment_method parameter.",
                code="payment_intent_unexpected_state",
            )
        raise _unexpected("PaymentIntent", intent, "confirm", ("requires_confirmation",))
    intent._confirm(on_failure_now=intent._report_failure, off_session=bool(off_session))
    return intent


def _pi_confirm(self: Any, on_failure_now: Callable[[], Any], off_session: bool = False) -> None:
    self._authentication_failed = False
    self._last_error = None
    method = resources.PaymentMethod._api_retrieve(self.payment_method)
    self.payment_method = method.id
    if method._requires_authentication():
        saved = getattr(method, "_set_up_for_off_session", False)
        if off_session and saved and _card_number(method) in AUTHENTICATION_ON_SETUP_ONLY:
            pass  # set up for future use: the bank does not ask again off-session
        elif off_session:
            _authentication_required(self, method)
        else:
            self.next_action = dict(_NEXT_ACTION)
            _emit("payment_intent.requires_action", self)
            return
    self._create_charge(on_failure_now=on_failure_now)


def _authentication_required(intent: Any, method: Any) -> None:
    """Stripe's answer to an off-session payment the bank wants the customer to authenticate."""
    exported = method._export()
    intent.payment_method = None
    intent._last_error = {**AUTHENTICATION_REQUIRED.fields(), "payment_method": exported}
    _emit("payment_intent.payment_failed", intent)
    fields = AUTHENTICATION_REQUIRED.fields()
    raise _error(
        402,
        fields.pop("message"),
        fields.pop("type"),
        **fields,
        payment_intent=intent._export(),
        payment_method=exported,
    )


def _pi_report_failure(self: Any) -> None:
    charge = self.latest_charge
    error = {**_charge_decline(charge), "payment_method": _export_of(charge.payment_method)}
    self._last_error = error
    self.payment_method = None
    _emit("payment_intent.payment_failed", self)
    if self.invoice:
        resources.Invoice._api_retrieve(self.invoice)._on_payment_failure_now()
    fields = dict(error)
    raise _error(402, fields.pop("message"), fields.pop("type"), **fields, payment_intent=self._export())


def _pi_api_authenticate(
    cls: Any,
    id: str,
    client_secret: Any = None,
    success: Any = False,
    **kwargs: Any,
) -> Any:
    """localstripe's 3-D Secure answer for a PaymentIntent; a failure is recorded as at Stripe."""
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    success = resources.try_convert_to_bool(success)
    if not (isinstance(id, str) and id.startswith("pi_")) or not isinstance(client_secret, str):
        raise UserError(400, "Bad request")
    if type(success) is not bool:
        raise UserError(400, "Bad request")
    intent = cls._api_retrieve(id)
    if client_secret != intent.client_secret:
        raise UserError(401, "Unauthorized")
    if intent.status != "requires_action":
        raise _unexpected("PaymentIntent", intent, "authenticate", ("requires_action",))
    intent.next_action = None
    if success:
        intent._create_charge(on_failure_now=intent._report_failure)
        return intent
    intent._authentication_failed = True
    intent._last_error = {
        **AUTHENTICATION_FAILED_PAYMENT,
        "payment_method": _export_of(intent.payment_method),
    }
    intent.payment_method = None
    _emit("payment_intent.payment_failed", intent)
    if intent.invoice:
        resources.Invoice._api_retrieve(intent.invoice)._on_payment_failure_later()
    return intent


def apply() -> None:
    """Patch 1's replacements in localstripe's PaymentIntent (called by `install`)."""
    r = resources
    _replace(r.PaymentIntent, "_api_create", _pi_api_create)
    _replace(r.PaymentIntent, "_api_confirm", _pi_api_confirm)
    _replace(r.PaymentIntent, "_confirm", _pi_confirm)
    _replace(r.PaymentIntent, "_report_failure", _pi_report_failure)
    _replace(r.PaymentIntent, "_api_authenticate", _pi_api_authenticate)
    _replace(r.PaymentIntent, "status", _status)
    _replace(r.PaymentIntent, "last_payment_error", _last_payment_error)
    r.PaymentIntent._update = _pi_update
