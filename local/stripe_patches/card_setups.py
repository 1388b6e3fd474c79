"""Patch 1 on SetupIntents: a declined card leaves the SetupIntent `requires_payment_method` with its
`last_setup_error` (never `canceled`), a 3-D Secure card makes it `requires_action`, answered by
`POST /v1/setup_intents/{id}/_authenticate?success=true|false` (added here) or by localstripe's Stripe.js,
and one that succeeds saves its card for off-session payments and attaches it to its Customer. The cards
are in `cards.py`."""

from __future__ import annotations

from typing import Any

from localstripe import resources
from localstripe.errors import UserError

from local.stripe_patches._support import _error, _unexpected
from local.stripe_patches.cards import (
    _DECLINED,
    _NEXT_ACTION,
    _PAYMENT_METHOD_STATUSES,
    AUTHENTICATION_FAILED_SETUP,
    DECLINED,
    Decline,
    _card_number,
    _export_of,
)
from local.stripe_patches.events import _emit
from local.stripe_patches.installing import _replace


def _setup_succeeded(setup: Any, method: Any) -> None:
    setup.status = "succeeded"
    setup.next_action = None
    setup.last_setup_error = None
    method._set_up_for_off_session = True
    if setup.customer and isinstance(method, resources.PaymentMethod) and method.customer is None:
        method.customer = setup.customer  # Stripe attaches the card to the SetupIntent's Customer
    _emit("setup_intent.succeeded", setup)


def _setup_authentication_failed(setup: Any) -> None:
    setup.last_setup_error = {
        **AUTHENTICATION_FAILED_SETUP,
        "payment_method": _export_of(setup.payment_method),
    }
    setup.payment_method = None
    setup.status = "requires_payment_method"
    setup.next_action = None
    _emit("setup_intent.setup_failed", setup)


def _si_attach_pm(self: Any, pm: Any) -> None:
    self.payment_method = pm.id
    if pm._attaching_is_declined():
        decline = DECLINED.get(_card_number(pm) or "") or Decline(
            "card_declined", "generic_decline", _DECLINED
        )
        exported = pm._export()
        self.payment_method = None
        self.status = "requires_payment_method"  # Stripe never cancels it: another card may be tried
        self.next_action = None
        self.last_setup_error = {**decline.fields(), "payment_method": exported}
        _emit("setup_intent.setup_failed", self)
        fields = decline.fields()
        raise _error(
            402,
            fields.pop("message"),
            fields.pop("type"),
            **fields,
            setup_intent=self._export(),
            payment_method=exported,
        )
    if pm._requires_authentication():
        self.status = "requires_action"
        self.next_action = dict(_NEXT_ACTION)
        self.last_setup_error = None
        _emit("setup_intent.requires_action", self)
        return
    _setup_succeeded(self, pm)


def _si_api_confirm(
    cls: Any,
    id: str,
    use_stripe_sdk: Any = None,
    client_secret: Any = None,
    payment_method: Any = None,
    payment_method_data: Any = None,
    return_url: Any = None,
    **kwargs: Any,
) -> Any:
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    if not (isinstance(id, str) and id.startswith("seti_")):
        raise UserError(400, "Bad request")
    if client_secret is not None and not isinstance(client_secret, str):
        raise UserError(400, "Bad request")
    if payment_method is not None and not isinstance(payment_method, str):
        raise UserError(400, "Bad request")
    if payment_method_data is not None and not isinstance(payment_method_data, dict):
        raise UserError(400, "Bad request")
    setup = cls._api_retrieve(id)
    if client_secret and client_secret != setup.client_secret:
        raise UserError(401, "Unauthorized")
    if setup.status not in _PAYMENT_METHOD_STATUSES:
        raise _unexpected("SetupIntent", setup, "confirm", _PAYMENT_METHOD_STATUSES)
    if payment_method is not None:
        setup._attach_pm(resources.PaymentMethod._api_retrieve(payment_method))
    elif payment_method_data is not None:
        setup._attach_pm(resources.PaymentMethod(**payment_method_data))
    elif setup.payment_method is None:
        raise _error(
            400,
            "You cannot confirm this SetupIntent because it's missing a payment method. Update it with a "
            "payment method, or confirm it again with the payment_method parameter.",
            code="setup_intent_unexpected_state",
        )
    elif setup.status == "requires_action":
        if resources.try_convert_to_bool(use_stripe_sdk) is True:
            # localstripe's Stripe.js confirms again once the customer completed 3-D Secure in its dialog
            _setup_succeeded(setup, resources.PaymentMethod._api_retrieve(setup.payment_method))
    else:
        setup._attach_pm(resources.PaymentMethod._api_retrieve(setup.payment_method))
    return setup


def _si_api_cancel(
    cls: Any,
    id: str,
    use_stripe_sdk: Any = None,
    client_secret: Any = None,
    cancellation_reason: Any = None,
    **kwargs: Any,
) -> Any:
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    if not (isinstance(id, str) and id.startswith("seti_")):
        raise UserError(400, "Bad request")
    if client_secret is not None and not isinstance(client_secret, str):
        raise UserError(400, "Bad request")
    if cancellation_reason not in (None, "abandoned", "duplicate", "requested_by_customer"):
        raise UserError(400, "Bad request")
    setup = cls._api_retrieve(id)
    if client_secret and client_secret != setup.client_secret:
        raise UserError(401, "Unauthorized")
    if resources.try_convert_to_bool(use_stripe_sdk) is True and setup.status == "requires_action":
        # localstripe's Stripe.js cancels when the customer fails 3-D Secure in its dialog (Stripe.js
        # cannot cancel: that takes the secret key); at Stripe that is a failed setup, not a cancellation.
        _setup_authentication_failed(setup)
        return setup
    if setup.status not in _PAYMENT_METHOD_STATUSES:
        raise _unexpected("SetupIntent", setup, "cancel", _PAYMENT_METHOD_STATUSES)
    setup.status = "canceled"
    setup.next_action = None
    setup.cancellation_reason = cancellation_reason
    _emit("setup_intent.canceled", setup)
    return setup


def _si_api_authenticate(
    cls: Any,
    /,
    id: str,
    client_secret: Any = None,
    success: Any = False,
    **kwargs: Any,
) -> Any:
    """The SetupIntent's 3-D Secure answer, as localstripe's for a PaymentIntent
    (`POST /v1/setup_intents/{id}/_authenticate?success=true`, with the client secret)."""
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    success = resources.try_convert_to_bool(success)
    if not (isinstance(id, str) and id.startswith("seti_")) or not isinstance(client_secret, str):
        raise UserError(400, "Bad request")
    if type(success) is not bool:
        raise UserError(400, "Bad request")
    setup = cls._api_retrieve(id)
    if client_secret != setup.client_secret:
        raise UserError(401, "Unauthorized")
    if setup.status != "requires_action":
        raise _unexpected("SetupIntent", setup, "authenticate", ("requires_action",))
    if success:
        _setup_succeeded(setup, resources.PaymentMethod._api_retrieve(setup.payment_method))
    else:
        _setup_authentication_failed(setup)
    return setup


def apply() -> None:
    """Patch 1's replacements in localstripe's SetupIntent (called by `install`)."""
    r = resources
    _replace(r.SetupIntent, "_api_confirm", _si_api_confirm)
    _replace(r.SetupIntent, "_attach_pm", _si_attach_pm)
    _replace(r.SetupIntent, "_api_cancel", _si_api_cancel)
    r.SetupIntent._api_authenticate = classmethod(_si_api_authenticate)
